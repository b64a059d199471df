#include "xmpp/config.hpp"

#include <algorithm>
#include <charconv>

namespace junction {

void read_config(config_section& s, xmpp_config& x) {
  s.boolean("enabled", x.enabled);
  s.addresses("listen", x.listen, &x.listen_given);
  s.addresses("tls_listen", x.tls_listen);
  s.string("tls_certificate", x.tls_certificate);
  s.string("tls_private_key", x.tls_private_key);
  s.boolean("require_tls", x.require_tls);
  read_tls_options(s, "xmpp", x.tls);
  s.strings("domains", x.domains);
  s.integer("max_stanza_size", x.max_stanza_size, 4096, 64 << 20);
  s.integer("max_auth_failures", x.max_auth_failures, 1, 100);
  s.integer("auth_failures_allowed", x.auth_failures_allowed, 1, 1000);
  s.duration("auth_lockout_max", x.auth_lockout_max);
  s.duration("login_timeout", x.login_timeout);
  s.duration("idle_timeout", x.idle_timeout);
  s.boolean("registration", x.registration);
  s.integer("registration_per_hour", x.registration_per_hour, 1, 100000);
  s.duration("sm_resume_timeout", x.sm_resume_timeout);
  s.integer("sm_max_unacked", x.sm_max_unacked, 10, 100000);
  s.string("muc_subdomain", x.muc_subdomain);
  s.integer("muc_history", x.muc_history, 0, 1000);
  s.boolean("muc_remote_creators", x.muc_remote_creators);
  s.boolean("archive", x.archive);
  s.duration("archive_expires_after", x.archive_expires_after);
  s.string("upload_subdomain", x.upload_subdomain);
  s.string("upload_directory", x.upload_directory);
  s.string("upload_url", x.upload_url);
  s.integer("upload_max_size", x.upload_max_size, 1, std::int64_t{1} << 32);
  s.integer("upload_quota", x.upload_quota, 0, std::int64_t{1} << 40);
  s.duration("upload_expires_after", x.upload_expires_after);
  s.boolean("federation", x.federation);
  s.addresses("s2s_listen", x.s2s_listen, &x.s2s_listen_given);
  s.boolean("s2s_require_encryption", x.s2s_require_encryption);
  s.string("dialback_secret", x.dialback_secret);
  s.duration("s2s_connect_timeout", x.s2s_connect_timeout);
  s.duration("s2s_idle_timeout", x.s2s_idle_timeout);
  for (auto& table : s.tables("s2s_route")) {
    xmpp_s2s_route route;
    std::string address;
    table.string("domain", route.domain);
    table.string("address", address);
    table.finish();
    std::transform(route.domain.begin(), route.domain.end(), route.domain.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const auto colon = address.rfind(':');
    unsigned port = 0;
    const char* end = address.data() + address.size();
    if (route.domain.empty() || colon == std::string::npos || colon == 0 ||
        std::from_chars(address.data() + colon + 1, end, port).ptr != end || port == 0 || port > 65535)
      table.fail_here("xmpp.s2s_route needs a domain and an address \"host:port\"");
    route.host = address.substr(0, colon);
    if (route.host.size() > 2 && route.host.front() == '[' && route.host.back() == ']')
      route.host = route.host.substr(1, route.host.size() - 2);
    route.port = static_cast<std::uint16_t>(port);
    x.s2s_routes.push_back(std::move(route));
  }
  s.finish();
  for (auto& d : x.domains) std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return std::tolower(c); });
  if (x.tls_certificate.empty() != x.tls_private_key.empty())
    s.fail("xmpp.tls_certificate and xmpp.tls_private_key go together");
  if (!x.tls_listen.empty() && x.tls_certificate.empty())
    s.fail("xmpp.tls_listen needs xmpp.tls_certificate and xmpp.tls_private_key");
  if (x.auth_lockout_max < std::chrono::seconds(1)) s.fail("xmpp.auth_lockout_max must be at least 1s");
  if (x.login_timeout.count() <= 0) s.fail("xmpp.login_timeout must be positive");
  if (x.idle_timeout.count() <= 0) s.fail("xmpp.idle_timeout must be positive");
  if (x.sm_resume_timeout.count() < 0) s.fail("xmpp.sm_resume_timeout must not be negative");
  if (x.s2s_connect_timeout.count() <= 0) s.fail("xmpp.s2s_connect_timeout must be positive");
  if (x.s2s_idle_timeout.count() <= 0) s.fail("xmpp.s2s_idle_timeout must be positive");
}

}  // namespace junction
