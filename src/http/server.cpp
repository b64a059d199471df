#include "http/server.hpp"

#include "core/byte_stream.hpp"
#include "core/listener.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "http/admin.hpp"
#include "http/api.hpp"
#include "http/file_cache.hpp"
#include "http/request_context.hpp"
#include "http/session.hpp"

#include <boost/asio/ssl/context.hpp>

#include <filesystem>

namespace junction::http {

http_metrics http_metrics::declare(metric_registry& r) {
  http_metrics m{connection_metrics::declare(r, "http"), connection_metrics::declare(r, "https"),
                 {}, {}, {}};
  for (unsigned c = 1; c <= 5; ++c)
    m.responses[c] = r.add("junction_http_responses_total", "HTTP responses sent, by status class.",
                           metric_kind::counter, fmt::format("code=\"{}xx\"", c));
  m.auth_failures = r.add("junction_http_auth_failures_total",
                          "Admin requests refused for a missing or wrong bearer token.",
                          metric_kind::counter);
  m.websocket_sessions = r.add("junction_websocket_sessions_total",
                               "WebSocket upgrades accepted.", metric_kind::counter);
  return m;
}

std::shared_ptr<const http_settings> http_settings::make(const http_config& cfg) {
  auto s = std::make_shared<http_settings>();
  s->admin_token = cfg.admin_token;
  if (!cfg.tls_listen.empty())
    s->tls = make_tls_server_context("http", cfg.tls_certificate, cfg.tls_private_key, cfg.tls);
  return s;
}

server::server(runtime& rt, const http_config& cfg)
    : rt_{rt},
      config_{cfg},
      metrics_{http_metrics::declare(rt.registry())},
      files_{cfg.web_root, cfg.index},
      settings_{rt, http_settings::make(cfg)} {
  for (unsigned i = 0; i < rt.size(); ++i)
    caches_.push_back(std::make_unique<file_cache>(cfg.file_cache_max_file,
                                                   cfg.file_cache_max_bytes));
  std::error_code ec;
  if (files_.enabled() && !std::filesystem::is_directory(files_.root(), ec))
    log::warn("http.web_root {} is not a directory: static files will answer 404",
              files_.root());
  add_builtin_routes(*this);
}

server::~server() = default;

void server::listen() {
  auto bind_all = [this](const std::vector<listen_address>& addresses, bool tls) {
    const char* name = tls ? "https" : "http";
    for (const auto& address : addresses) {
      auto start = tls ? start_tls_session : start_plain_session;
      boost::asio::ip::tcp::endpoint bound;
      try {
        bound = listen_tcp(rt_, address, tls ? metrics_.tls : metrics_.plain,
                           [this, start](shard& home, boost::asio::ip::tcp::socket socket,
                                         connection_ticket ticket) {
                             start(*this, home, std::move(socket), std::move(ticket));
                           });
      } catch (const boost::system::system_error& e) {
        throw std::runtime_error(fmt::format("{} listener {}: {}", name, address.to_string(),
                                             e.code().message()));
      }
      listen_address actual{bound.address().to_string(), bound.port()};
      rt_.add_listener({name, "tcp", actual.to_string()});
    }
  };
  bind_all(config_.listen, false);
  bind_all(config_.tls_listen, true);
}

std::variant<reply, const async_handler*> server::route(request_context& ctx) {
  const auto* r = routes_.match(ctx.path);
  if (!r) return files_.serve(ctx, *caches_[ctx.home().index()]);
  // Admin first: a refused client learns nothing about the route, not even its methods.
  if (r->admin)
    if (auto refusal = check_admin(ctx, settings_.get().admin_token)) return std::move(*refusal);
  if (r->cross_origin && !r->admin) {
    ctx.cross_origin = true;
    // A browser's preflight (Fetch standard, "CORS protocol"): which methods and headers a page
    // of another origin may use here, cached for a day.
    if (ctx.req.method() == verb::options) {
      beast_http::response<beast_http::empty_body> res{status::no_content, ctx.req.version()};
      res.set(field::allow, allow_header(r->methods) + ", OPTIONS");
      res.set(field::access_control_allow_methods, allow_header(r->methods));
      res.set(field::access_control_allow_headers, "Content-Type");
      res.set(field::access_control_max_age, "86400");
      return ctx.respond(std::move(res));
    }
  }
  if (!(r->methods & method_bit(ctx.req.method()))) {
    beast_http::response<beast_http::string_body> res{status::method_not_allowed,
                                                      ctx.req.version(),
                                                      "405 Method Not Allowed\n"};
    res.set(field::allow, allow_header(r->methods));
    res.set(field::content_type, "text/plain; charset=utf-8");
    return ctx.respond(std::move(res));
  }
  if (const auto* handler = std::get_if<sync_handler>(&r->handler)) return (*handler)(ctx);
  return &std::get<async_handler>(r->handler);
}

}  // namespace junction::http
