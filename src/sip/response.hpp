#pragma once
// Builds the responses a server element sends itself (RFC 3261 §8.2.6): Via, From, Call-ID and
// CSeq copied from the request in order, To copied with a tag added for anything but 100.
// Works from the request's header text, so a malformed request still gets its 400.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sip/message.hpp"

namespace junction::sip {

// The standard reason phrase for a status code (RFC 3261 §21 and extensions), or "".
std::string_view reason_phrase(int status) noexcept;

struct response_options {
  std::string_view reason{};   // empty = the standard phrase
  std::string_view to_tag{};   // added to To when it has none (ignored for 100)
  std::vector<std::pair<std::string_view, std::string_view>> headers{};  // added as given
  std::string_view content_type{};
  std::string_view body{};
  // A UAS's responses that create or confirm a dialog copy the request's Record-Route headers
  // (RFC 3261 §12.1.1), so that the caller learns the route set.
  bool copy_record_route = false;
};

std::string make_response(const message& request, int status, const response_options& options = {});

}  // namespace junction::sip
