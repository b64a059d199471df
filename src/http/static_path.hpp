#pragma once
// Turns a request target into a path below the web root, or says why it cannot be one. Pure:
// no file system access, so every traversal trick can be tested and fuzzed directly.
#include <string>
#include <string_view>

namespace junction::http {

struct static_path {
  enum class verdict { ok, bad_request, forbidden };
  verdict outcome = verdict::ok;
  std::string relative;        // "a/b/c.html" (no leading slash, no empty or dot segments)
  bool trailing_slash = false; // the target named a directory ("/docs/")
  std::string_view reason;     // why it was refused
};

// `target` is the request-target in origin form ("/a/b?x=1"). Percent-escapes are decoded per
// segment; a segment that decodes to "..", or contains '/', '\\' or NUL, is refused.
static_path resolve_static_path(std::string_view target);

}  // namespace junction::http
