#pragma once
// Builds SIP test messages from readable lines: "\n" becomes CRLF.
#include <string>
#include <string_view>

namespace junction::sip::test {

inline std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += "\r\n";
    else out += c;
  }
  return out;
}

inline std::string options_request(std::string_view extra_headers = "", std::string_view body = "") {
  std::string m = crlf(
      "OPTIONS sip:alice@example.com SIP/2.0\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\n"
      "Max-Forwards: 70\n"
      "From: <sip:bob@example.com>;tag=f1\n"
      "To: <sip:alice@example.com>\n"
      "Call-ID: c1@192.0.2.1\n"
      "CSeq: 1 OPTIONS\n");
  m += crlf(extra_headers);
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  m += body;
  return m;
}

}  // namespace junction::sip::test
