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

namespace asio = boost::asio;
namespace json = boost::json;
using http::status;

// The store is the user directory's worker's: each call goes there and back (no disk on a
// shard), and a change empties the shards' caches so that the next lookup sees it. Database
// failures are the operator's to see: 500 with SQLite's message. The lambdas capture references
// to this frame only (the rule of core/cross_shard.hpp).
asio::awaitable<http::reply> store_failed(http::request_context& ctx, users::user_directory& directory,
                                          const std::string& what) {
  log::error("users: {}: {}", directory.path(), what);
  co_return ctx.problem(status::internal_server_error, what);
}

asio::awaitable<http::reply> list_users(http::request_context& ctx, users::user_directory& directory) {
  std::vector<users::user_entry> list;
  std::string failure;
  try {
    list = co_await directory.run([](users::user_store& store) { return store.list(); });
  } catch (const users::user_store_error& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return co_await store_failed(ctx, directory, failure);
  json::array out;
  for (const auto& u : list)
    out.push_back(json::object{{"user", u.username + "@" + u.realm},
                               {"created", format_utc(static_cast<std::time_t>(u.created), iso8601_utc)}});
  co_return ctx.json(status::ok, json::serialize(json::object{{"users", std::move(out)}}));
}

asio::awaitable<http::reply> add_user(http::request_context& ctx, users::user_directory& directory) {
  boost::system::error_code ec;
  json::value body = json::parse(ctx.req.body(), ec);
  const json::object* o = ec ? nullptr : body.if_object();
  const json::value* user = o ? o->if_contains("user") : nullptr;
  const json::value* password = o ? o->if_contains("password") : nullptr;
  if (!user || !user->is_string() || !password || !password->is_string())
    co_return ctx.problem(status::bad_request, R"(expected {"user": "name@domain", "password": "..."})");
  auto address = users::parse_user_address(std::string_view(user->as_string()));
  if (!address) co_return ctx.problem(status::bad_request, "user must be name@domain with a valid name and domain");
  const std::string secret{std::string_view(password->as_string())};
  if (secret.empty()) co_return ctx.problem(status::bad_request, "password must not be empty");
  std::string failure;
  try {
    co_await directory.change([&address, &secret](users::user_store& store) {
      store.add(address->username, address->realm, secret);
    });
  } catch (const users::user_store_error& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return co_await store_failed(ctx, directory, failure);
  log::info("users: {}@{} set over the API from {}", address->username, address->realm, ctx.peer.to_string());
  co_return ctx.json(status::created, json::serialize(json::object{{"user", address->username + "@" + address->realm}}));
}

// What a contacts call found in the store.
enum class outcome { done, added, no_user, no_contact };

// /api/v1/users/<user>/contacts[/<contact>]: a user's contact list (who may watch the user's
// presence). GET lists it, PUT adds one, DELETE removes one.
asio::awaitable<http::reply> contacts_call(http::request_context& ctx, users::user_directory& directory,
                                           std::string_view rest) {
  auto slash = rest.find('/');
  auto owner = users::parse_user_address(rest.substr(0, slash));
  std::string_view tail = rest.substr(slash + 1);  // "contacts" or "contacts/<contact>"
  constexpr std::string_view shape = "expected /api/v1/users/<name@domain>/contacts[/<name@domain>]";
  if (!owner || !tail.starts_with("contacts")) co_return ctx.problem(status::bad_request, shape);
  tail.remove_prefix(std::string_view("contacts").size());
  const auto method = ctx.req.method();
  std::string failure;
  if (tail.empty()) {
    if (method != http::verb::get && method != http::verb::head)
      co_return ctx.problem(status::method_not_allowed, "GET only");
    std::optional<std::vector<std::string>> contacts;
    try {
      contacts = co_await directory.run([&owner](users::user_store& store) -> std::optional<std::vector<std::string>> {
        if (!store.find(owner->username, owner->realm)) return std::nullopt;
        return store.contacts(owner->username, owner->realm);
      });
    } catch (const users::user_store_error& e) {
      failure = e.what();
    }
    if (!failure.empty()) co_return co_await store_failed(ctx, directory, failure);
    if (!contacts) co_return ctx.problem(status::not_found, "no such user");
    json::array out;
    for (auto& c : *contacts) out.emplace_back(c);
    co_return ctx.json(status::ok, json::serialize(json::object{{"contacts", std::move(out)}}));
  }
  auto contact = tail.starts_with("/") ? users::parse_user_address(tail.substr(1)) : std::nullopt;
  if (!contact) co_return ctx.problem(status::bad_request, shape);
  if (method != http::verb::put && method != http::verb::delete_)
    co_return ctx.problem(status::method_not_allowed, "PUT or DELETE");
  const std::string who = owner->username + "@" + owner->realm;
  const std::string address = contact->username + "@" + contact->realm;
  const bool add = method == http::verb::put;
  outcome result = outcome::done;
  try {
    result = co_await directory.change([&owner, &address, add](users::user_store& store) {
      if (!store.find(owner->username, owner->realm)) return outcome::no_user;
      if (add) return store.add_contact(owner->username, owner->realm, address) ? outcome::added : outcome::done;
      return store.remove_contact(owner->username, owner->realm, address) ? outcome::done : outcome::no_contact;
    });
  } catch (const users::user_store_error& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return co_await store_failed(ctx, directory, failure);
  if (result == outcome::no_user) co_return ctx.problem(status::not_found, "no such user");
  if (result == outcome::no_contact) co_return ctx.problem(status::not_found, "no such contact");
  if (add) {
    log::info("users: {} shares presence with {} (API, {})", who, address, ctx.peer.to_string());
    co_return ctx.json(result == outcome::added ? status::created : status::ok,
                       json::serialize(json::object{{"user", who}, {"contact", address}}));
  }
  log::info("users: {} no longer shares presence with {} (API, {})", who, address, ctx.peer.to_string());
  co_return ctx.json(status::ok, json::serialize(json::object{{"user", who}, {"removed", address}}));
}

asio::awaitable<http::reply> user_call(http::request_context& ctx, users::user_directory& directory) {
  constexpr std::string_view prefix = "/api/v1/users/";
  std::string_view rest = ctx.path.substr(prefix.size());
  if (rest.find('/') != std::string_view::npos) co_return co_await contacts_call(ctx, directory, rest);
  if (ctx.req.method() != http::verb::delete_) co_return ctx.problem(status::method_not_allowed, "DELETE only");
  auto address = users::parse_user_address(rest);
  if (!address) co_return ctx.problem(status::bad_request, "expected /api/v1/users/<name@domain>");
  bool removed = false;
  std::string failure;
  try {
    removed = co_await directory.change(
        [&address](users::user_store& store) { return store.remove(address->username, address->realm); });
  } catch (const users::user_store_error& e) {
    failure = e.what();
  }
  if (!failure.empty()) co_return co_await store_failed(ctx, directory, failure);
  if (!removed) co_return ctx.problem(status::not_found, "no such user");
  log::info("users: {}@{} removed over the API from {}", address->username, address->realm, ctx.peer.to_string());
  co_return ctx.json(status::ok, json::serialize(json::object{{"removed", address->username + "@" + address->realm}}));
}

}  // namespace

void add_users_api(http::server& web, users::user_directory& directory) {
  auto& r = web.routes();
  // One route per path: the router matches paths, then checks the method against the route's.
  r.add({"/api/v1/users", http::GET | http::HEAD | http::POST, true,
         http::async_handler{[&directory](http::request_context& ctx) {
           if (ctx.req.method() == http::verb::post) return add_user(ctx, directory);
           return list_users(ctx, directory);
         }}});
  r.add({"/api/v1/users/", http::GET | http::HEAD | http::PUT | http::DELETE, true,
         http::async_handler{[&directory](http::request_context& ctx) { return user_call(ctx, directory); }}});
}

}  // namespace junction::app
