#pragma once
// HTTP file upload (XEP-0363), the part without I/O: the names a file is kept under and the
// signed PUT address a slot grants. A slot is stateless: the PUT URL carries its size, content
// type and expiry, signed with the server's secret, so whichever shard's HTTP session takes the
// PUT can check it without asking anyone.
//   GET  <base>/upload/<owner key>/<slot id>/<file name>
//   PUT  the same ?size=<n>&expires=<unix seconds>&token=<hex HMAC-SHA-256>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace junction::xmpp {

inline constexpr std::string_view upload_ns = "urn:xmpp:http:upload:0";
inline constexpr std::string_view upload_mount = "/upload/";

// A file name safe in a path and a URL: letters, digits, '.', '-' and '_' kept, anything else
// '_', no leading dot, at most 100 characters; "file" when nothing is left.
std::string upload_file_name(std::string_view requested);
// The folder of one account's files: 16 hex digits of a MAC of its bare JID (not its name).
std::string upload_owner_key(std::string_view secret, std::string_view owner);

struct upload_grant {
  std::string path;          // /upload/<owner key>/<slot id>/<file name>
  std::uint64_t size = 0;
  std::string content_type;  // "" when the request gave none
  std::int64_t expires = 0;  // unix seconds
};
// The query string of the PUT address: size, expires, token.
std::string upload_query(std::string_view secret, const upload_grant& grant);
// The grant a PUT's path and query carry, if its token is the server's and it has not expired at
// `now`; the content type is the one the PUT must send when it names one.
std::optional<upload_grant> upload_check(std::string_view secret, std::string_view path, std::string_view query,
                                         std::string_view content_type, std::int64_t now);

}  // namespace junction::xmpp
