#pragma once
// Builds the requests a SIP element sends itself (RFC 3261 §8.1.1), beside make_response: the
// request line, Via, Max-Forwards, the Route set, From, To, Call-ID, CSeq, Contact, any other
// headers, and the body with its Content-Type and Content-Length, in that order. The user agent
// (REGISTER, INVITE, CANCEL, ACK, BYE), NOTIFY and stored MESSAGE delivery all write theirs here.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace junction::sip {

struct request_spec {
  std::string method{}, request_uri{};
  std::vector<std::string> routes{};  // Route values, in order
  std::string from{}, to{}, call_id{};  // From and To as written, tags included
  std::uint32_t cseq = 1;             // the CSeq method is the request's
  std::string contact{};              // the whole value ("<sip:...>"), or empty for none
  std::vector<std::pair<std::string, std::string>> headers{};  // added as given
  std::string content_type{}, body{};  // Content-Type is written when given
  int max_forwards = 70;
};

// The request with `via` as its only Via value.
std::string make_request(const request_spec& spec, std::string_view via);

}  // namespace junction::sip
