#include "http/static_path.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace junction::http {

static_path resolve_static_path(std::string_view target) {
  static_path out;
  auto refuse = [&out](static_path::verdict v, std::string_view why) {
    out.outcome = v;
    out.reason = why;
    out.relative.clear();
    return out;
  };
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return refuse(static_path::verdict::bad_request, "malformed request target");
  auto url = *parsed;
  auto encoded = url.encoded_path();
  out.trailing_slash = encoded.empty() || encoded.back() == '/';
  for (auto segment : url.encoded_segments()) {
    std::string decoded = segment.decode();
    if (decoded.empty() || decoded == ".") continue;
    if (decoded == "..") return refuse(static_path::verdict::forbidden, "'..' in path");
    if (decoded.find_first_of(std::string_view{"/\\\0", 3}) != std::string::npos)
      return refuse(static_path::verdict::bad_request, "encoded '/', '\\' or NUL in path");
    if (!out.relative.empty()) out.relative += '/';
    out.relative += decoded;
  }
  return out;
}

}  // namespace junction::http
