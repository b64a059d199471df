// The presence server's parsers on arbitrary bytes: a PIDF document (expat, with its depth,
// element and DTD limits), and a SIP request taken as a SUBSCRIBE and a PUBLISH. Checks, beyond
// "no crash": a document the server writes itself always passes its own check, and every NOTIFY
// a subscription produces parses as a SIP request of the same dialog.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sip/parser.hpp"
#include "sip/pidf.hpp"
#include "sip/publications.hpp"
#include "sip/subscriptions.hpp"

using namespace junction::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto doc = parse_pidf(bytes, pidf_limits{.max_depth = 16, .max_elements = 512});
  if (doc.ok() && !parse_pidf(make_pidf(doc.summary->entity, true, doc.summary->note)).ok()) std::abort();

  parse_limits limits;
  limits.max_message = 16384;
  parse_result r = parse_message(bytes, limits, true);
  if (!r.ok() || !r.msg->is_request()) return 0;
  const auto now = sip_clock::time_point(std::chrono::hours(1));
  subscription_table table({1, 3600, 3600, 4});
  auto out = table.subscribe(*r.msg, "sip:alice@example.com", "bob@example.com", "tag", 1, now);
  if (out.status == 200 && out.sub) {
    parse_limits roomy;
    roomy.max_message = 1 << 20;
    std::string notify = make_notify(*out.sub, "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-f", "sip:192.0.2.1",
                                     {subscription_state::active, 60, {}, "<presence/>"});
    parse_result n = parse_message(notify, roomy, true);
    if (!n.ok() || n.msg->call_id() != r.msg->call_id() || n.msg->method() != "NOTIFY") std::abort();
  }
  publication_store store({1, 3600, 3600, 4}, 7);
  publish_request p{.aor = "sip:alice@example.com", .if_match = std::nullopt, .expires = std::nullopt,
                    .body = r.msg->body()};
  if (const header_field* m = r.msg->find(header_id::sip_if_match)) p.if_match = m->value;
  store.apply(p, now);
  return 0;
}
