// Per-request costs of the HTTP path, apart from the socket.
#include "core/metrics.hpp"
#include "http/mime.hpp"
#include "http/range.hpp"
#include "http/static_path.hpp"

#include <benchmark/benchmark.h>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace {
using namespace junction;

void parse_request(benchmark::State& state) {
  constexpr std::string_view wire =
      "GET /assets/site.css?v=12 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n"
      "Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n";
  for (auto _ : state) {
    boost::beast::http::request_parser<boost::beast::http::string_body> parser;
    boost::beast::error_code ec;
    parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    benchmark::DoNotOptimize(parser.is_done());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(wire.size()));
}
BENCHMARK(parse_request);

void resolve_path(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(http::resolve_static_path("/a/b/c%20d/site.css?v=1"));
}
BENCHMARK(resolve_path);

void mime_lookup(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(http::mime_type_for("/assets/app.woff2"));
}
BENCHMARK(mime_lookup);

void range_parse(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(http::parse_byte_range("bytes=1000-1999", 1 << 20));
}
BENCHMARK(range_parse);

void render_metrics(benchmark::State& state) {
  metric_registry registry;
  for (auto protocol : {"http", "https", "rtmp", "sip"}) connection_metrics::declare(registry, protocol);
  std::vector<shard_metrics> shards;
  for (int i = 0; i < 2; ++i) shards.emplace_back(metric_registry::capacity);
  std::vector<const shard_metrics*> view;
  for (auto& s : shards) view.push_back(&s);
  for (auto _ : state) benchmark::DoNotOptimize(registry.render_prometheus(view));
}
BENCHMARK(render_metrics);

}  // namespace
