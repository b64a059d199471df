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
int run_users_command(const config& cfg, const users_command& command);

}  // namespace junction::app
