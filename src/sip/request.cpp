#include "sip/request.hpp"

namespace junction::sip {

std::string make_request(const request_spec& r, std::string_view via) {
  std::string out;
  out.reserve(384 + r.body.size() + r.request_uri.size() + r.from.size() + r.to.size());
  auto header = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  out.append(r.method).append(" ").append(r.request_uri).append(" SIP/2.0\r\n");
  header("Via", via);
  header("Max-Forwards", std::to_string(r.max_forwards));
  for (const auto& route : r.routes) header("Route", route);
  header("From", r.from);
  header("To", r.to);
  header("Call-ID", r.call_id);
  out.append("CSeq: ").append(std::to_string(r.cseq)).append(" ").append(r.method).append("\r\n");
  if (!r.contact.empty()) header("Contact", r.contact);
  for (const auto& [name, value] : r.headers) header(name, value);
  if (!r.content_type.empty()) header("Content-Type", r.content_type);
  header("Content-Length", std::to_string(r.body.size()));
  out.append("\r\n").append(r.body);
  return out;
}

}  // namespace junction::sip
