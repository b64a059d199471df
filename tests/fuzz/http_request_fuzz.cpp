// libFuzzer target for the HTTP request path: bytes -> Beast's request parser (with Junction's
// limits) -> routing, admin check, static files, range and conditional handling -> the whole
// serialized response. Everything but the socket, on a real server object.
#include "core/connection.hpp"
#include "core/runtime.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "http/transfer_coding.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>

namespace {
using namespace junction;
namespace fs = std::filesystem;

struct fixture {
  fixture() {
    root = fs::temp_directory_path() / "junction-fuzz-www";
    fs::create_directories(root / "dir");
    std::ofstream{root / "index.html"} << "<html>hello</html>";
    std::ofstream{root / "dir" / "index.html"} << "dir";
    std::ofstream{root / "big.bin", std::ios::binary} << std::string(300 * 1024, 'b');
    http_config cfg;
    cfg.listen.clear();
    cfg.web_root = root.string();
    cfg.admin_token = "token";
    cfg.websocket_echo = true;
    rt = std::make_unique<runtime>(runtime_options{1, false, 1000}, registry);
    srv = std::make_unique<http::server>(*rt, cfg);
  }
  fs::path root;
  metric_registry registry;
  std::unique_ptr<runtime> rt;
  std::unique_ptr<http::server> srv;
};

void drain(boost::beast::http::message_generator& message) {
  boost::beast::error_code ec;
  for (int steps = 0; steps < 1000 && !message.is_done(); ++steps) {
    auto buffers = message.prepare(ec);
    if (ec) return;
    message.consume(boost::asio::buffer_size(buffers));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static fixture f;
  boost::beast::http::request_parser<boost::beast::http::string_body> parser;
  parser.header_limit(8192);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  auto req = parser.release();
  // The session refuses these framings before routing (transfer_coding.hpp).
  if (auto refusal = http::unusable_transfer_coding(req)) {
    if (refusal->code != http::status::bad_request && refusal->code != http::status::not_implemented) __builtin_trap();
    return 0;
  }

  auto& home = f.rt->at(0);
  if (!f.rt->limit().try_acquire()) return 0;
  connection conn{home, connection_ticket{&f.rt->limit()}, f.srv->metrics().plain, "http",
                  "127.0.0.1:1", {}};
  static const auto loopback = boost::asio::ip::make_address("127.0.0.1");
  http::request_context ctx{req, loopback, conn, *f.srv};
  auto routed = f.srv->route(ctx);
  if (auto* ready = std::get_if<http::reply>(&routed)) drain(ready->message);
  return 0;
}
