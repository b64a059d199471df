#include "gateway/service.hpp"

#include <algorithm>
#include <cctype>

#include "gateway/line.hpp"
#include "rtmp/server.hpp"
#include "transcode/worker_pool.hpp"

namespace junction::gateway {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

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
  m.rtp_ports = r.add("junction_gateway_rtp_ports", "UDP ports the gateway holds open for RTP.", k::gauge);
  return m;
}

service::service(metric_registry& registry, const config& cfg, media::stream_hub& hub,
                 transcode::worker_pool& workers, recording::service& recordings)
    : cfg_(cfg), hub_(hub), metrics_(gateway_metrics::declare(registry)), workers_(workers), recordings_(recordings) {
  media_address_ = cfg_.gateway.media_address;
  if (media_address_.empty())
    media_address_ = cfg_.sip.listen.empty() || wildcard(cfg_.sip.listen.front().host) ? "127.0.0.1"
                                                                                       : cfg_.sip.listen.front().host;
}

service::~service() = default;

void service::attach(rtmp::server& rtmp) {
  if (!cfg_.gateway.enabled) return;
  rtmp.add_app_handler(cfg_.gateway.app, [this](rtmp::client_link& link) { return make_line(*this, link); });
}

bool service::is_local_domain(std::string_view domain) const {
  return std::any_of(cfg_.sip.domains.begin(), cfg_.sip.domains.end(), [&](const std::string& d) { return iequal(d, domain); });
}

void service::set_sip_server(std::string host, std::uint16_t port) {
  // A wildcard listener is reached on loopback.
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  sip_server_ = {std::move(host), port};
}

}  // namespace junction::gateway
