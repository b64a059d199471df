#include "xmpp/config.hpp"

#include <algorithm>

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
  s.finish();
  for (auto& d : x.domains) std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return std::tolower(c); });
  if (x.tls_certificate.empty() != x.tls_private_key.empty())
    s.fail("xmpp.tls_certificate and xmpp.tls_private_key go together");
  if (!x.tls_listen.empty() && x.tls_certificate.empty())
    s.fail("xmpp.tls_listen needs xmpp.tls_certificate and xmpp.tls_private_key");
  if (x.auth_lockout_max < std::chrono::seconds(1)) s.fail("xmpp.auth_lockout_max must be at least 1s");
  if (x.login_timeout.count() <= 0) s.fail("xmpp.login_timeout must be positive");
  if (x.idle_timeout.count() <= 0) s.fail("xmpp.idle_timeout must be positive");
}

}  // namespace junction
