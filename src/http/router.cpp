#include "http/router.hpp"

#include <algorithm>

namespace junction::http {

unsigned method_bit(verb v) {
  switch (v) {
    case verb::get: return GET;
    case verb::head: return HEAD;
    case verb::post: return POST;
    case verb::put: return PUT;
    case verb::delete_: return DELETE;
    case verb::patch: return PATCH;
    default: return 0;
  }
}

std::string allow_header(unsigned methods) {
  std::string out;
  for (auto [bit, name] : {std::pair{GET, "GET"}, {HEAD, "HEAD"}, {POST, "POST"}, {PUT, "PUT"},
                           {DELETE, "DELETE"}, {PATCH, "PATCH"}})
    if (methods & bit) {
      if (!out.empty()) out += ", ";
      out += name;
    }
  return out;
}

void router::add(route r) {
  largest_body_limit_ = std::max(largest_body_limit_, r.body_limit);
  routes_.push_back(std::move(r));
}

const route* router::match(std::string_view path) const {
  const route* best = nullptr;
  const route* suffix = nullptr;
  for (const auto& r : routes_) {
    if (r.path == path) return &r;
    if (r.path.starts_with('*') && path.ends_with(std::string_view{r.path}.substr(1)) &&
        path.size() > r.path.size())
      suffix = &r;
    if (r.path.ends_with('/') && path.starts_with(r.path) &&
        (!best || r.path.size() > best->path.size()))
      best = &r;
  }
  // A prefix names a place ("/recordings/"), a suffix a kind of thing anywhere ("*.flv"):
  // the place wins.
  return best ? best : suffix;
}

}  // namespace junction::http
