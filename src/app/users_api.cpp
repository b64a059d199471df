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

http::reply remove_user(http::request_context& ctx, users::user_directory& directory) {
  constexpr std::string_view prefix = "/api/v1/users/";
  auto address = users::parse_user_address(ctx.path.substr(prefix.size()));
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
  r.add({"/api/v1/users/", http::DELETE, true,
         http::sync_handler{[&directory](http::request_context& ctx) { return remove_user(ctx, directory); }}});
}

}  // namespace junction::app
