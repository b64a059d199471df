// HTTP file upload (XEP-0363): the service at <upload_subdomain>.<domain> grants slots to this
// server's users (size and quota checked), and Junction's HTTP server takes the PUT and serves
// the GET. Slots are signed (upload_slot.hpp), files live in upload_directory under a folder per
// account, and go after upload_expires_after (looked for at start, then now and then). Files are
// read and written on workers.
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "core/worker_pool.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "xmpp/iq_reply.hpp"
#include "xmpp/namespaces.hpp"
#include "xmpp/random_id.hpp"
#include "xmpp/server.hpp"
#include "xmpp/upload_slot.hpp"

namespace junction::xmpp {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view owner_secret = "junction upload";
constexpr std::string_view data_ns = "jabber:x:data";

std::uintmax_t bytes_under(const std::string& folder) {
  std::error_code ec;
  std::uintmax_t total = 0;
  for (fs::recursive_directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

// Removes files older than `age` and the folders they leave empty; how many files went.
std::size_t expire_uploads(const std::string& root, std::chrono::milliseconds age) {
  std::error_code ec;
  std::size_t removed = 0;
  const auto cutoff = fs::file_time_type::clock::now() - age;
  for (fs::directory_iterator owner(root, ec), end; !ec && owner != end; owner.increment(ec)) {
    std::error_code ec2;
    for (fs::directory_iterator slot(owner->path(), ec2), end2; !ec2 && slot != end2; slot.increment(ec2)) {
      std::error_code ec3;
      for (fs::directory_iterator file(slot->path(), ec3), end3; !ec3 && file != end3; file.increment(ec3))
        if (file->last_write_time(ec3) < cutoff && fs::remove(file->path(), ec3)) ++removed;
      fs::remove(slot->path(), ec3);  // only when empty
    }
    fs::remove(owner->path(), ec2);
  }
  return removed;
}

bool safe_segment(std::string_view s) { return !s.empty() && s != "." && s != ".." && upload_file_name(s) == s; }

}  // namespace

bool server::is_upload_service(std::string_view domain) const noexcept {
  return std::find(upload_services_.begin(), upload_services_.end(), domain) != upload_services_.end();
}

std::string server::upload_base() const {
  if (!config_.upload_url.empty()) return config_.upload_url;
  for (std::string_view scheme : {"https", "http"})
    for (const auto& l : rt_.listeners())
      if (l.protocol == scheme) return std::string(scheme) + "://" + l.address;
  return {};
}

// Files past upload_expires_after go at start, then whenever a shard serves the service and has
// not looked for a while (an hour, or a tenth of the age when that is shorter): no timer to keep.
void server::expire_uploads_if_due() {
  const auto age = config_.upload_expires_after;
  if (age.count() <= 0 || upload_expired_at_.empty()) return;
  const auto every = std::clamp<std::chrono::steady_clock::duration>(age / 10, std::chrono::seconds(1), std::chrono::hours(1));
  auto& last = upload_expired_at_[shard::current()->index()];
  const auto now = std::chrono::steady_clock::now();
  if (now - last < every) return;
  last = now;
  post_upload_expiry();
}

void server::post_upload_expiry() {
  const auto worker = workers_.assign();
  workers_.post(worker, [root = config_.upload_directory, age = config_.upload_expires_after] {
    if (const auto n = expire_uploads(root, age)) log::info("xmpp upload: {} expired files removed", n);
  });
  workers_.release(worker);
}

void server::upload_stanza(stanza_ptr stanza) {
  expire_uploads_if_due();
  const auto from = jid::parse(stanza->attr("from"));
  const std::string_view type = stanza->attr("type");
  if (!from || stanza->name() != "iq" || (type != "get" && type != "set")) return;
  if (type == "get" && stanza->child(ns::disco_info, "query")) {
    auto reply = shared(iq_result(*stanza));
    auto& q = reply->add(std::string(ns::disco_info), "query");
    q.add(std::string(ns::disco_info), "identity").set("category", "store").set("type", "file").set("name", "HTTP file upload");
    for (std::string_view f : {ns::disco_info, upload_ns}) q.add(std::string(ns::disco_info), "feature").set("var", f);
    auto& x = q.add(std::string(data_ns), "x");
    x.set("type", "result");
    auto field = [&](std::string_view var, std::string_view value, bool hidden) {
      auto& f = x.add(std::string(data_ns), "field");
      f.set("var", var);
      if (hidden) f.set("type", "hidden");
      f.add(std::string(data_ns), "value").add_text(value);
    };
    field("FORM_TYPE", upload_ns, true);
    field("max-file-size", std::to_string(config_.upload_max_size), false);
    return route(*from, std::move(reply));
  }
  if (type == "get" && stanza->child(ns::disco_items, "query")) {
    auto reply = shared(iq_result(*stanza));
    reply->add(std::string(ns::disco_items), "query");
    return route(*from, std::move(reply));
  }
  const xml::element* request = type == "get" ? stanza->child(upload_ns, "request") : nullptr;
  if (!request) return route(*from, shared(iq_error(*stanza, "cancel", "service-unavailable")));
  if (!web_ || upload_base().empty())
    return route(*from, shared(iq_error(*stanza, "cancel", "service-unavailable", "no HTTP server to upload to")));
  if (!serves(from->domain()))
    return route(*from, shared(iq_error(*stanza, "auth", "forbidden", "only this server's users may upload")));
  std::uint64_t size = 0;
  const std::string_view size_text = request->attr("size");
  auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
  if (ec != std::errc{} || p != size_text.data() + size_text.size() || size == 0 || request->attr("filename").empty())
    return route(*from, shared(iq_error(*stanza, "modify", "bad-request", "a slot needs a filename and a size")));
  if (size > config_.upload_max_size) {
    auto r = shared(iq_error(*stanza, "modify", "not-acceptable", "the file is larger than this server takes"));
    r->children().back().add(std::string(upload_ns), "file-too-large")
        .add(std::string(upload_ns), "max-file-size")
        .add_text(std::to_string(config_.upload_max_size));
    return route(*from, std::move(r));
  }
  std::string content_type(request->attr("content-type"));
  if (content_type.size() > 100 || content_type.find_first_of("\r\n\"<>") != std::string::npos) content_type.clear();
  upload_grant grant;
  const std::string owner = upload_owner_key(owner_secret, from->bare_str());
  grant.path = std::string(upload_mount) + owner + "/" + random_id(12) + "/" + upload_file_name(request->attr("filename"));
  grant.size = size;
  grant.content_type = content_type;
  grant.expires = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch() + std::chrono::minutes(5))
                      .count();
  // What the account keeps already is counted on a worker, then the slot is granted here.
  const unsigned here = shard::current()->index();
  const std::string folder = config_.upload_directory + "/" + owner;
  const std::uint64_t quota = config_.upload_quota;
  const auto worker = workers_.assign();
  workers_.post(worker, [this, here, folder, quota, size, grant, stanza, who = *from] {
    const bool fits = bytes_under(folder) + size <= quota;
    rt_.post(here, [this, fits, grant, stanza, who] {
      if (!fits) return route(who, shared(iq_error(*stanza, "wait", "resource-constraint", "the upload quota is used up")));
      const std::string base = upload_base();
      auto reply = shared(iq_result(*stanza));
      auto& slot = reply->add(std::string(upload_ns), "slot");
      slot.add(std::string(upload_ns), "put").set("url", base + grant.path + "?" + upload_query(dialback_secret_, grant));
      slot.add(std::string(upload_ns), "get").set("url", base + grant.path);
      route(who, std::move(reply));
    });
  });
  workers_.release(worker);
}

void server::attach_upload(http::server& web) {
  if (config_.upload_subdomain.empty()) return;
  web_ = &web;
  for (const auto& d : domains_) upload_services_.push_back(config_.upload_subdomain + "." + d);
  // Old files go at start, on a worker (and then now and then: expire_uploads_if_due).
  upload_expired_at_.assign(rt_.size(), std::chrono::steady_clock::now());
  if (config_.upload_expires_after.count() > 0) post_upload_expiry();
  auto files = std::make_shared<http::static_files>(config_.upload_directory, "", std::string(upload_mount));
  http::route r{std::string(upload_mount), http::GET | http::HEAD | http::PUT, false,
                http::async_handler{[this, files, &web](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                  expire_uploads_if_due();
                  if (ctx.req.method() != http::verb::put) co_return files->serve(ctx, web.cache(ctx.home().index()));
                  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
                  const std::string_view type = ctx.req[http::field::content_type];
                  const auto grant = upload_check(dialback_secret_, ctx.path, ctx.query, type, now);
                  if (!grant) co_return ctx.problem(http::status::forbidden, "no valid upload slot for this address");
                  // /upload/<owner>/<slot>/<name>, each part as the service made it.
                  std::string_view rest = ctx.path.substr(upload_mount.size());
                  const auto a = rest.find('/'), b = rest.rfind('/');
                  if (a == std::string_view::npos || a == b || !safe_segment(rest.substr(0, a)) ||
                      !safe_segment(rest.substr(a + 1, b - a - 1)) || !safe_segment(rest.substr(b + 1)))
                    co_return ctx.problem(http::status::bad_request, "not an upload address");
                  if (ctx.req.body().size() != grant->size)
                    co_return ctx.problem(http::status::bad_request, "the body is not the size the slot was for");
                  enum class outcome { stored, exists, over_quota, failed };
                  const std::string folder = config_.upload_directory + "/" + std::string(rest.substr(0, b));
                  const std::string owner_folder = config_.upload_directory + "/" + std::string(rest.substr(0, a));
                  const std::string target = config_.upload_directory + "/" + std::string(rest);
                  const std::string* body = &ctx.req.body();
                  const std::uint64_t quota = config_.upload_quota;
                  const auto worker = workers_.assign();
                  const outcome done = co_await on_worker(workers_, worker, [&folder, &owner_folder, &target, body, quota] {
                    std::error_code ec;
                    if (fs::exists(target, ec)) return outcome::exists;
                    if (bytes_under(owner_folder) + body->size() > quota) return outcome::over_quota;
                    fs::create_directories(folder, ec);
                    if (ec) return outcome::failed;
                    const std::string part = target + ".part";
                    {
                      std::ofstream out(part, std::ios::binary | std::ios::trunc);
                      out.write(body->data(), static_cast<std::streamsize>(body->size()));
                      if (!out) return outcome::failed;
                    }
                    fs::rename(part, target, ec);
                    return ec ? outcome::failed : outcome::stored;
                  });
                  workers_.release(worker);
                  switch (done) {
                    case outcome::stored: co_return ctx.text(http::status::created, "stored\n");
                    case outcome::exists: co_return ctx.problem(http::status::conflict, "the slot was used already");
                    case outcome::over_quota: co_return ctx.problem(http::status::insufficient_storage, "the upload quota is used up");
                    case outcome::failed: break;
                  }
                  co_return ctx.problem(http::status::internal_server_error, "the file could not be stored");
                }}};
  r.body_limit = config_.upload_max_size;
  r.cross_origin = true;  // web clients (converse.js, Movim) PUT from their own origin
  web.routes().add(std::move(r));
}

}  // namespace junction::xmpp
