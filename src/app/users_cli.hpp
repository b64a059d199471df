#pragma once
// `junction users add|del|list` and `junction users contacts add|del|list`: the user store from the command line, on the database the
// configuration names (users.database). Safe while the server runs: SQLite's WAL mode lets the
// server keep reading while this writes.
#include <string>

namespace junction {
struct config;
}

namespace junction::app {

struct users_command {
  // "add", "del", "list", or for a user's contact list "contacts add", "contacts del",
  // "contacts list"
  std::string action;
  std::string user;    // name@domain (all but list)
  std::string contact; // name@domain (contacts add, contacts del)
  std::string password;
  bool password_stdin = false;
};

// Prints what it did (or why not) and returns the process exit code: 0 done, 1 failed
// (no such user, database error), 2 bad arguments.
// After a change it names the database, and warns when a running junction reads another.
int run_users_command(const config& cfg, const users_command& command);

// What a server holds while it reads `database` (core/process_claim.hpp), so that the command
// can tell whether the database it changed is the running server's.
std::string store_claim_name(const std::string& database);

}  // namespace junction::app
