#include "app/users_api.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <ctime>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "core/utc_time.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "users/user_directory.hpp"

namespace junction::app {
namespace {

namespace json = boost::json;
using http::status;

// The store is opened by the shard serving the request, like every other use of it. Database
// failures are the operator's to see: 500 with SQLite's message.
template <class F>
http::reply with_store(http::request_context& ctx, users::user_directory& directory, F f) {
  try {
    return f(directory.on_shard(ctx.home().index()));
  } catch (const users::user_store_error& e) {
    log::error("users: {}: {}", directory.path(), e.what());
    return ctx.problem(status::internal_server_error, e.what());
  }
}

http::reply list_users(http::request_context& ctx, users::user_directory& directory) {
  return with_store(ctx, directory, [&](users::user_store& store) {
    json::array out;
    for (const auto& u : store.list())
      out.push_back(json::object{{"user", u.username + "@" + u.realm}, {"created", format_utc(static_cast<std::time_t>(u.created), iso8601_utc)}});
    return ctx.json(status::ok, json::serialize(json::object{{"users", std::move(out)}}));
  });
}

http::reply add_user(http::request_context& ctx, users::user_directory& directory) {
  boost::system::error_code ec;
  json::value body = json::parse(ctx.req.body(), ec);
  const json::object* o = ec ? nullptr : body.if_object();
  const json::value* user = o ? o->if_contains("user") : nullptr;
  const json::value* password = o ? o->if_contains("password") : nullptr;
  if (!user || !user->is_string() || !password || !password->is_string())
    return ctx.problem(status::bad_request, R"(expected {"user": "name@domain", "password": "..."})");
  auto address = users::parse_user_address(std::string_view(user->as_string()));
  if (!address) return ctx.problem(status::bad_request, "user must be name@domain with a valid name and domain");
  if (password->as_string().empty()) return ctx.problem(status::bad_request, "password must not be empty");
  return with_store(ctx, directory, [&](users::user_store& store) {
    store.add(address->username, address->realm, std::string_view(password->as_string()));
    log::info("users: {}@{} set over the API from {}", address->username, address->realm, ctx.peer.to_string());
    return ctx.json(status::created,
                    json::serialize(json::object{{"user", address->username + "@" + address->realm}}));
  });
}

// /api/v1/users/<user>/contacts[/<contact>]: a user's contact list (who may watch the user's
// presence). GET lists it, PUT adds one, DELETE removes one.
http::reply contacts_call(http::request_context& ctx, users::user_directory& directory, std::string_view rest) {
  auto slash = rest.find('/');
  auto owner = users::parse_user_address(rest.substr(0, slash));
  std::string_view tail = rest.substr(slash + 1);  // "contacts" or "contacts/<contact>"
  constexpr std::string_view shape = "expected /api/v1/users/<name@domain>/contacts[/<name@domain>]";
  if (!owner || !tail.starts_with("contacts")) return ctx.problem(status::bad_request, shape);
  tail.remove_prefix(std::string_view("contacts").size());
  const auto method = ctx.req.method();
  if (tail.empty()) {
    if (method != http::verb::get && method != http::verb::head) return ctx.problem(status::method_not_allowed, "GET only");
    return with_store(ctx, directory, [&](users::user_store& store) {
      if (!store.find(owner->username, owner->realm)) return ctx.problem(status::not_found, "no such user");
      json::array out;
      for (auto& c : store.contacts(owner->username, owner->realm)) out.emplace_back(c);
      return ctx.json(status::ok, json::serialize(json::object{{"contacts", std::move(out)}}));
    });
  }
  auto contact = tail.starts_with("/") ? users::parse_user_address(tail.substr(1)) : std::nullopt;
  if (!contact) return ctx.problem(status::bad_request, shape);
  const std::string who = owner->username + "@" + owner->realm;
  const std::string address = contact->username + "@" + contact->realm;
  return with_store(ctx, directory, [&](users::user_store& store) {
    if (!store.find(owner->username, owner->realm)) return ctx.problem(status::not_found, "no such user");
    if (method == http::verb::put) {
      bool added = store.add_contact(owner->username, owner->realm, address);
      log::info("users: {} shares presence with {} (API, {})", who, address, ctx.peer.to_string());
      return ctx.json(added ? status::created : status::ok, json::serialize(json::object{{"user", who}, {"contact", address}}));
    }
    if (method != http::verb::delete_) return ctx.problem(status::method_not_allowed, "PUT or DELETE");
    if (!store.remove_contact(owner->username, owner->realm, address)) return ctx.problem(status::not_found, "no such contact");
    log::info("users: {} no longer shares presence with {} (API, {})", who, address, ctx.peer.to_string());
    return ctx.json(status::ok, json::serialize(json::object{{"user", who}, {"removed", address}}));
  });
}

http::reply user_call(http::request_context& ctx, users::user_directory& directory) {
  constexpr std::string_view prefix = "/api/v1/users/";
  std::string_view rest = ctx.path.substr(prefix.size());
  if (rest.find('/') != std::string_view::npos) return contacts_call(ctx, directory, rest);
  if (ctx.req.method() != http::verb::delete_) return ctx.problem(status::method_not_allowed, "DELETE only");
  auto address = users::parse_user_address(rest);
  if (!address) return ctx.problem(status::bad_request, "expected /api/v1/users/<name@domain>");
  return with_store(ctx, directory, [&](users::user_store& store) {
    if (!store.remove(address->username, address->realm)) return ctx.problem(status::not_found, "no such user");
    log::info("users: {}@{} removed over the API from {}", address->username, address->realm, ctx.peer.to_string());
    return ctx.json(status::ok, json::serialize(json::object{{"removed", address->username + "@" + address->realm}}));
  });
}

}  // namespace

void add_users_api(http::server& web, users::user_directory& directory) {
  auto& r = web.routes();
  // One route per path: the router matches paths, then checks the method against the route's.
  r.add({"/api/v1/users", http::GET | http::HEAD | http::POST, true,
         http::sync_handler{[&directory](http::request_context& ctx) {
           if (ctx.req.method() == http::verb::post) return add_user(ctx, directory);
           return list_users(ctx, directory);
         }}});
  r.add({"/api/v1/users/", http::GET | http::HEAD | http::PUT | http::DELETE, true,
         http::sync_handler{[&directory](http::request_context& ctx) { return user_call(ctx, directory); }}});
}

}  // namespace junction::app
