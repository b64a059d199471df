#pragma once
// Which request framings the server refuses (RFC 9112 §6.1, §6.3). A request whose
// Transfer-Encoding does not end in "chunked" has a body whose length cannot be known: it is
// answered 400 and the connection closed, never read as a request without a body (a proxy in
// front might read it otherwise: request smuggling). "chunked" after another coding (gzip,
// chunked) is framed right, but the server decodes no coding but chunked: 501.
#include "http/message.hpp"

#include <optional>
#include <string_view>

namespace junction::http {

struct transfer_coding_refusal {
  status code;
  std::string_view why;
};

std::optional<transfer_coding_refusal> unusable_transfer_coding(const beast_http::request_header<>& header);

}  // namespace junction::http
