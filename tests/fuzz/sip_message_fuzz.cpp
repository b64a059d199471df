// SIP message parsing, stream framing and response building on arbitrary bytes. Checks, beyond
// "no crash": a message that parses serializes into one that parses again with the same
// transaction identity, and every answerable failure yields a response that parses.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sip/parser.hpp"
#include "sip/response.hpp"
#include "sip/stream_framer.hpp"

using namespace junction::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  parse_limits limits;
  limits.max_message = 16384;

  for (bool datagram : {true, false}) {
    parse_result r = parse_message(bytes, limits, datagram);
    if (r.ok()) {
      parse_limits roomy = limits;
      roomy.max_message = 1 << 20;
      parse_result again = parse_message(r.msg->serialize(), roomy, true);
      if (!again.ok() || again.msg->call_id() != r.msg->call_id() ||
          again.msg->cseq() != r.msg->cseq() || again.msg->body() != r.msg->body())
        std::abort();
      if (r.msg->is_request()) {
        parse_result answer = parse_message(make_response(*r.msg, 200, {.to_tag = "t"}), roomy, true);
        if (!answer.ok()) std::abort();
      }
    } else if (r.answerable()) {
      (void)make_response(*r.msg, r.status(), {.reason = r.reason(), .to_tag = "t"});
    }
  }

  std::string_view rest = bytes;
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    frame f = find_message(rest, limits);
    if (f.what == frame::kind::need_more || f.what == frame::kind::error) break;
    if (f.size == 0 || f.size > rest.size()) std::abort();
    if (f.what == frame::kind::message) (void)parse_message(rest.substr(0, f.size), limits, false);
    rest.remove_prefix(f.size);
  }
  return 0;
}
