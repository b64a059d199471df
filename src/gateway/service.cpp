#include "gateway/service.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/ascii.hpp"
#include "core/cross_shard.hpp"
#include "core/runtime.hpp"
#include "gateway/line.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "rtmp/server.hpp"
#include "core/worker_pool.hpp"

namespace junction::gateway {
namespace {

namespace json = boost::json;

bool wildcard(std::string_view host) { return host == "0.0.0.0" || host == "::"; }

}  // namespace

gateway_metrics gateway_metrics::declare(metric_registry& r) {
  using k = metric_kind;
  gateway_metrics m;
  m.lines = r.add("junction_gateway_lines", "RTMP clients logged in to the gateway (registered lines).", k::gauge);
  m.registrations_failed = r.add("junction_gateway_registrations_failed_total",
                                 "Gateway logins refused because registering the user failed.", k::counter);
  m.calls = r.add("junction_gateway_calls", "Gateway calls with media flowing.", k::gauge);
  m.calls_total = r.add("junction_gateway_calls_total", "Gateway calls that were answered.", k::counter);
  m.calls_failed = r.add("junction_gateway_calls_failed_total",
                         "Outgoing gateway calls that were rejected, timed out or had no codec in common.", k::counter);
  m.rtp_in = r.add("junction_gateway_rtp_packets_received_total", "RTP packets received from phones.", k::counter);
  m.rtp_out = r.add("junction_gateway_rtp_packets_sent_total", "RTP packets sent to phones.", k::counter);
  m.dtmf_in = r.add("junction_gateway_dtmf_received_total", "Key presses received from phones (RFC 4733).", k::counter);
  m.dtmf_out = r.add("junction_gateway_dtmf_sent_total", "sendDTMF calls sent to phones.", k::counter);
  m.srtp_calls = r.add("junction_gateway_srtp_calls_total", "Gateway calls whose media was SRTP (SDES).", k::counter);
  m.srtp_failures = r.add("junction_gateway_srtp_failures_total",
                          "SRTP/SRTCP packets from phones dropped (authentication or replay check failed).", k::counter);
  m.rtp_ports = r.add("junction_gateway_rtp_ports", "UDP ports the gateway holds open for RTP.", k::gauge);
  return m;
}

service::service(metric_registry& registry, const gateway_config& cfg, const sip_config& sip, media::stream_hub& hub,
                 worker_pool& workers, recording::service& recordings, users::user_directory* users,
                 runtime& rt)
    : cfg_(cfg),
      sip_(sip),
      hub_(hub),
      metrics_(gateway_metrics::declare(registry)),
      workers_(workers),
      recordings_(recordings),
      logins_(users, sip, static_cast<unsigned>(rt.size())),
      lines_(rt) {
  media_address_ = cfg_.media_address;
  if (media_address_.empty())
    media_address_ = sip_.listen.empty() || wildcard(sip_.listen.front().host) ? "127.0.0.1" : sip_.listen.front().host;
}

service::~service() = default;

void service::attach(rtmp::server& rtmp) {
  if (!cfg_.enabled) return;
  rtmp.add_app_handler(cfg_.app, [this](rtmp::client_link& link) { return make_line(*this, link); });
}

void service::attach(http::server& web, runtime& rt) {
  web.routes().add({"/api/v1/gateway/lines", http::GET | http::HEAD, true,
                    http::async_handler{[this, &rt](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                      json::array all;
                      for (unsigned i = 0; i < rt.size(); ++i) {
                        auto part = co_await lines_.ask(i, [](line_registry& lines) {
                          std::vector<line_summary> out;
                          for (auto& [user, weak] : lines)
                            if (auto line = weak.lock()) out.push_back(line->summary());
                          return out;
                        });
                        for (auto& l : part)
                          all.push_back(json::object{{"user", l.user}, {"connection", std::to_string(l.connection)},
                                                     {"shard", l.shard}, {"state", l.state}, {"peer", l.peer},
                                                     {"call_id", l.call_id}, {"recording", l.recording}});
                      }
                      co_return ctx.json(http::status::ok, json::serialize(json::object{{"lines", std::move(all)}}));
                    }}});
  // POST /api/v1/gateway/lines/<user@domain>/record: the calls now up on the user's lines are
  // recorded from now on (a line without one records its next call).
  web.routes().add({"/api/v1/gateway/lines/", http::POST, true,
                    http::async_handler{[this, &rt](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                      std::string_view rest = ctx.path.substr(std::string_view{"/api/v1/gateway/lines/"}.size());
                      if (!rest.ends_with("/record")) co_return ctx.problem(http::status::not_found);
                      const std::string user{rest.substr(0, rest.size() - std::string_view{"/record"}.size())};
                      bool any_line = false;
                      json::array recordings;
                      for (unsigned i = 0; i < rt.size(); ++i) {
                        // The name by pointer (it outlives the wait): GCC 12 destroys a coroutine's
                        // by-value parameter twice when it owns memory, and invoke_on takes the
                        // function by value. One entry per line: its recording, or "" for its next call.
                        auto record_there = [name = &user](line_registry& lines) -> std::vector<std::string> {
                          std::vector<std::string> ids;
                          auto [from, to] = lines.equal_range(*name);
                          for (auto it = from; it != to; ++it)
                            if (auto line = it->second.lock()) ids.push_back(line->record());
                          return ids;
                        };
                        auto found = co_await lines_.ask(i, record_there);
                        any_line = any_line || !found.empty();
                        for (auto& id : found)
                          if (!id.empty()) recordings.push_back(json::string(id));
                      }
                      if (!any_line) co_return ctx.problem(http::status::not_found, "no such line");
                      json::object out{{"user", user},
                                       {"recording", recordings.empty() ? json::string() : recordings.front()},
                                       {"recordings", recordings},
                                       {"when", recordings.empty() ? "next call" : "now"}};
                      co_return ctx.json(http::status::ok, json::serialize(out));
                    }}});
}

void service::add_line(unsigned shard, const std::string& user, std::weak_ptr<line_view> line) {
  if (shard < lines_.size()) lines_.at(shard).emplace(user, std::move(line));
}

void service::remove_line(unsigned shard, const std::string& user, const line_view* line) {
  if (shard >= lines_.size()) return;
  auto& lines = lines_.at(shard);
  auto [from, to] = lines.equal_range(user);
  for (auto it = from; it != to;) {
    auto current = it->second.lock();
    it = !current || current.get() == line ? lines.erase(it) : std::next(it);
  }
}

bool service::is_local_domain(std::string_view domain) const {
  return std::any_of(sip_.domains.begin(), sip_.domains.end(), [&](const std::string& d) { return iequals(d, domain); });
}

void service::set_sip_server(std::string host, std::uint16_t port) {
  // A wildcard listener is reached on loopback.
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  sip_server_ = {std::move(host), port};
}

}  // namespace junction::gateway
