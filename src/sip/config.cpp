#include "sip/config.hpp"

namespace junction {

void read_config(config_section& sip, sip_config& sp) {
  sip.addresses("listen", sp.listen, &sp.listen_given);
  sip.addresses("tls_listen", sp.tls_listen);
  sip.string("tls_certificate", sp.tls_certificate);
  sip.string("tls_private_key", sp.tls_private_key);
  read_tls_options(sip, "sip", sp.tls);
  sip.boolean("websocket", sp.websocket);
  sip.duration("tcp_idle_timeout", sp.tcp_idle_timeout);
  sip.duration("tcp_message_timeout", sp.tcp_message_timeout);
  sip.duration("tcp_first_message_timeout", sp.tcp_first_message_timeout);
  sip.strings("domains", sp.domains);
  sip.integer("max_message_size", sp.max_message_size, 1024, 65535);
  sip.integer("max_header_fields", sp.max_header_fields, 16, 1024);
  sip.integer("min_expires", sp.min_expires, 0, 86400);
  sip.integer("max_expires", sp.max_expires, 1, 86400 * 7);
  sip.integer("default_expires", sp.default_expires, 1, 86400 * 7);
  sip.integer("max_bindings_per_aor", sp.max_bindings_per_aor, 1, 10'000);
  sip.integer("udp_rate_limit", sp.udp_rate_limit, 0, 1'000'000);
  sip.boolean("authenticate", sp.authenticate);
  sip.duration("nonce_lifetime", sp.nonce_lifetime);
  sip.integer("auth_failures_allowed", sp.auth_failures_allowed, 1, 1'000'000);
  std::chrono::milliseconds lockout = sp.auth_lockout_max;
  sip.duration("auth_lockout_max", lockout);
  sp.auth_lockout_max = std::chrono::duration_cast<std::chrono::seconds>(lockout);
  sip.strings("digest_algorithms", sp.digest_algorithms);
  sip.strings("md5_only_user_agents", sp.md5_only_user_agents);
  sip.string("presence_authorization", sp.presence_authorization);
  sip.string("outbound", sp.outbound);
  sip.boolean("anchor_media", sp.anchor_media);
  sip.string("anchor_address", sp.anchor_address);
  sip.duration("media_timeout", sp.media_timeout);
  sip.duration("t1", sp.t1);
  sip.duration("t2", sp.t2);
  sip.duration("t4", sp.t4);
  sip.finish();
  if (sp.t1.count() < 10 || sp.t2 < sp.t1 || sp.t4 < sp.t1)
    sip.fail("sip.t1 must be at least 10ms, and t2 and t4 at least t1");
  if (sp.digest_algorithms.empty()) sip.fail("sip.digest_algorithms is empty");
  if (sp.domains.empty())
    sip.fail("sip.domains is empty: this server would be registrar and proxy for no domain and refuse every "
             "request (name at least one, e.g. the host name phones use)");
  if (sp.presence_authorization != "contacts" && sp.presence_authorization != "open")
    sip.fail("sip.presence_authorization must be \"contacts\" or \"open\"");
  if (sp.outbound != "refuse" && sp.outbound != "authenticated")
    sip.fail("sip.outbound must be \"refuse\" or \"authenticated\"");
  for (const auto& a : sp.digest_algorithms)
    if (a != "SHA-256" && a != "MD5") sip.fail("sip.digest_algorithms: '" + a + "' is neither \"SHA-256\" nor \"MD5\"");
  for (const auto& a : sp.md5_only_user_agents)
    if (a.empty()) sip.fail("sip.md5_only_user_agents: an empty string would match every client");
  if (sp.nonce_lifetime < std::chrono::seconds(10)) sip.fail("sip.nonce_lifetime must be at least 10s");
  if (!sp.tls_listen.empty() && (sp.tls_certificate.empty() || sp.tls_private_key.empty()))
    sip.fail("sip.tls_listen needs sip.tls_certificate and sip.tls_private_key");
  if (sp.min_expires > sp.max_expires) sip.fail("sip.min_expires is above sip.max_expires");
}

}  // namespace junction
