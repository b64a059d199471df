#pragma once
// /api/v1/users (admin only): list, add and remove the users every protocol authenticates.
namespace junction::http {
class server;
}
namespace junction::users {
class user_directory;
}

namespace junction::app {

// GET /api/v1/users -> {"users": [{"user": "alice@example.com", "created": "..."}]}
// POST /api/v1/users {"user": "alice@example.com", "password": "..."} -> 201 (replaces)
// DELETE /api/v1/users/alice@example.com -> 200, or 404
void add_users_api(http::server& web, users::user_directory& directory);

}  // namespace junction::app
