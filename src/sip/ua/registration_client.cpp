#include "sip/ua/registration_client.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sip/message.hpp"
#include "sip/syntax.hpp"

namespace junction::sip::ua {

registration_client::registration_client(agent_core& core) : core_(core) {
  call_id_ = core_.token(16) + "@" + core_.config().local_host;
}

void registration_client::send(std::uint32_t expires, clock::time_point now) {
  const auto& s = core_.config();
  request_spec r{.method = "REGISTER", .request_uri = "sip:" + s.domain,
                 .from = fmt::format("<{}>;tag={}", core_.aor(), core_.token(10)),
                 .to = fmt::format("<{}>", core_.aor()), .call_id = call_id_, .cseq = ++cseq_,
                 .contact = fmt::format("{};expires={}", core_.contact(), expires)};
  r.headers.emplace_back("Expires", std::to_string(expires));
  core_.send(expires ? purpose::registration : purpose::unregistration, std::move(r), s.proxy_host, s.proxy_port,
             now);
}

void registration_client::start(clock::time_point now) {
  unregistering_ = false;
  refresh_at_.reset();
  send(core_.config().register_expires, now);
}

void registration_client::unregister(clock::time_point now) {
  refresh_at_.reset();
  unregistering_ = true;
  send(0, now);
}

void registration_client::on_response(client_entry& c, const message& response, clock::time_point now) {
  const int status = response.status();
  if (status < 200) return;
  if ((status == 401 || status == 407) && core_.retry_with_credentials(c, response, ++cseq_, now)) return;
  if (c.why == purpose::unregistration) {
    registered_ = false;
    core_.raise(event::unregistered{});
    return;
  }
  if (status >= 300) {
    registered_ = false;
    core_.raise(event::registration_failed{status, std::string{response.reason()}});
    return;
  }
  // The granted time: our Contact's expires, else Expires, else what we asked for.
  const auto& s = core_.config();
  std::uint32_t granted = s.register_expires;
  if (auto e = delta_seconds(response.value(header_id::expires))) granted = *e;
  const std::string ours = fmt::format("sip:{}@{}:{}", s.user, s.local_host, s.local_port);
  for (const auto& a : response.contacts())
    if (a.uri_text.starts_with(ours))
      if (auto e = delta_seconds(a.params.value("expires"))) granted = *e;
  registered_ = true;
  refresh_at_ = now + std::chrono::seconds(std::max<std::uint32_t>(granted / 2, 1));
  core_.raise(event::registered{granted});
}

void registration_client::on_timeout(const client_entry& c) {
  registered_ = false;
  if (c.why == purpose::unregistration) core_.raise(event::unregistered{});
  else core_.raise(event::registration_failed{408, "Request Timeout"});
}

void registration_client::on_timer(clock::time_point now) {
  if (refresh_at_ && *refresh_at_ <= now && !unregistering_) {
    refresh_at_.reset();
    send(core_.config().register_expires, now);
  }
}

std::optional<clock::time_point> registration_client::deadline() const noexcept { return refresh_at_; }

}  // namespace junction::sip::ua
