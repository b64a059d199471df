#include "http/static_files.hpp"

#include "http/bodies.hpp"
#include "http/file_cache.hpp"
#include "http/http_date.hpp"
#include "http/mime.hpp"
#include "http/range.hpp"
#include "http/request_context.hpp"
#include "http/static_path.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

#include <cerrno>

namespace junction::http {
namespace {

// Like nginx: the modification time and size in hex, so the tag changes whenever either does.
std::string entity_tag(const struct stat& st) {
  return fmt::format("\"{:x}-{:x}\"", st.st_mtim.tv_sec, st.st_size);
}

bool etag_matches(std::string_view header, std::string_view tag) {
  if (header == "*") return true;
  // A list of tags, weak or strong; weak comparison is what If-None-Match uses.
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == tag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

bool not_modified(const request& req, std::string_view tag, std::time_t mtime) {
  if (auto inm = req.find(field::if_none_match); inm != req.end())
    return etag_matches(inm->value(), tag);
  if (auto ims = req.find(field::if_modified_since); ims != req.end())
    if (auto since = parse_http_date(ims->value())) return mtime <= *since;
  return false;
}

// If-Range: the range applies only while the validator still names this version of the file.
bool range_still_valid(const request& req, std::string_view tag, std::time_t mtime) {
  auto it = req.find(field::if_range);
  if (it == req.end()) return true;
  std::string_view v = it->value();
  if (v.starts_with('"')) return v == tag;
  auto date = parse_http_date(v);
  return date && *date == mtime;
}

}  // namespace

static_files::static_files(std::string root, std::string index, std::string mount)
    : root_{std::move(root)}, index_{std::move(index)}, mount_{std::move(mount)} {
  while (root_.size() > 1 && root_.ends_with('/')) root_.pop_back();
}

reply static_files::serve(request_context& ctx, file_cache& cache) const {
  const auto& req = ctx.req;
  if (req.method() != verb::get && req.method() != verb::head) {
    beast_http::response<beast_http::string_body> r{status::method_not_allowed, req.version(),
                                                    "405 Method Not Allowed\n"};
    r.set(field::allow, "GET, HEAD");
    r.set(field::content_type, "text/plain; charset=utf-8");
    return ctx.respond(std::move(r));
  }
  if (!enabled()) return ctx.problem(status::not_found);
  std::string_view target{req.target().data(), req.target().size()};
  std::string mounted;
  if (mount_ != "/") {
    // Under a mount point: the same checks on the path below it.
    if (!target.starts_with(mount_)) return ctx.problem(status::not_found);
    mounted = "/" + std::string{target.substr(mount_.size())};
    target = mounted;
  }
  auto where = resolve_static_path(target);
  if (where.outcome == static_path::verdict::bad_request)
    return ctx.problem(status::bad_request, where.reason);
  if (where.outcome == static_path::verdict::forbidden)
    return ctx.problem(status::forbidden, where.reason);

  std::string path = root_;
  if (!where.relative.empty()) path += "/" + where.relative;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return ctx.problem(errno == EACCES ? status::forbidden : status::not_found);
  if (S_ISDIR(st.st_mode)) {
    if (!where.trailing_slash) {
      // "/docs" names a directory: send the client to "/docs/" so relative links resolve.
      beast_http::response<beast_http::string_body> r{status::moved_permanently, req.version()};
      // Built from the cleaned path, never the raw one: "//host" would leave the site.
      std::string location = mount_ + where.relative + "/";
      if (!ctx.query.empty()) location += "?" + std::string{ctx.query};
      r.set(field::location, location);
      return ctx.respond(std::move(r));
    }
    path += "/" + index_;
    if (::stat(path.c_str(), &st) != 0) return ctx.problem(status::not_found);
  }
  if (!S_ISREG(st.st_mode)) return ctx.problem(status::not_found);

  auto size = static_cast<std::uint64_t>(st.st_size);
  auto tag = entity_tag(st);
  auto last_modified = format_http_date(st.st_mtim.tv_sec);
  auto content_type = mime_type_for(path);
  auto base_headers = [&](auto& r) {
    r.set(field::etag, tag);
    r.set(field::last_modified, last_modified);
    r.set(field::accept_ranges, "bytes");
  };

  if (not_modified(req, tag, st.st_mtim.tv_sec)) {
    beast_http::response<beast_http::empty_body> r{status::not_modified, req.version()};
    base_headers(r);
    return ctx.respond(std::move(r));
  }

  byte_range range;
  if (auto it = req.find(field::range); it != req.end() && range_still_valid(req, tag, st.st_mtim.tv_sec))
    range = parse_byte_range(it->value(), size);
  if (range.outcome == byte_range::kind::unsatisfiable) {
    beast_http::response<beast_http::string_body> r{status::range_not_satisfiable, req.version()};
    base_headers(r);
    r.set(field::content_range, fmt::format("bytes */{}", size));
    return ctx.respond(std::move(r));
  }
  std::uint64_t first = 0, length = size;
  auto code = status::ok;
  if (range.outcome == byte_range::kind::partial) {
    first = range.first;
    length = range.length();
    code = status::partial_content;
  }
  auto finish = [&](auto&& r) {
    base_headers(r);
    r.set(field::content_type, content_type);
    if (code == status::partial_content)
      r.set(field::content_range, fmt::format("bytes {}-{}/{}", first, first + length - 1, size));
    return ctx.respond(std::move(r));
  };

  if (auto cached = cache.get(path, st)) {
    beast_http::response<shared_buffer_body> r{code, req.version()};
    r.body() = {std::move(*cached), static_cast<std::size_t>(first),
                static_cast<std::size_t>(length)};
    return finish(std::move(r));
  }
  beast_http::response<file_range_body> r{code, req.version()};
  boost::beast::error_code ec;
  r.body().file.open(path.c_str(), boost::beast::file_mode::scan, ec);
  if (ec) return ctx.problem(ec == boost::system::errc::permission_denied ? status::forbidden
                                                                           : status::not_found);
  r.body().offset = first;
  r.body().length = length;
  return finish(std::move(r));
}

}  // namespace junction::http
