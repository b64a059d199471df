#include "app/users_cli.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <ctime>
#include <iostream>
#include <stdexcept>

#include "app/config.hpp"
#include "core/process_claim.hpp"
#include "core/utc_time.hpp"
#include "users/user_directory.hpp"

namespace junction::app {
namespace {

int run_contacts_command(users::user_store& store, const std::string& action, const users::user_address& owner,
                         const std::optional<users::user_address>& contact) {
  const std::string who = owner.username + "@" + owner.realm;
  if (action == "contacts list") {
    for (const auto& c : store.contacts(owner.username, owner.realm)) std::printf("%s\n", c.c_str());
    return 0;
  }
  const std::string address = contact->username + "@" + contact->realm;
  if (action == "contacts add") {
    if (!store.find(owner.username, owner.realm)) {
      std::fprintf(stderr, "junction users contacts: no user %s\n", who.c_str());
      return 1;
    }
    store.add_contact(owner.username, owner.realm, address);
    std::printf("%s shares presence with %s\n", who.c_str(), address.c_str());
    return 0;
  }
  if (!store.remove_contact(owner.username, owner.realm, address)) {
    std::fprintf(stderr, "junction users contacts: %s is not a contact of %s\n", address.c_str(), who.c_str());
    return 1;
  }
  std::printf("%s no longer shares presence with %s\n", who.c_str(), address.c_str());
  return 0;
}

// After a change: which database it was, and a warning when a junction runs that reads another
// (each server holds "junction:users:<its database>", core/process_claim.hpp).
void say_which_database(const std::string& database) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string path = fs::weakly_canonical(fs::absolute(database, ec), ec).string();
  std::printf("user store: %s\n", path.c_str());
  const std::string prefix = "junction:users:";
  const auto held = held_claims(prefix);
  if (held.empty() || std::find(held.begin(), held.end(), claim_socket_name(store_claim_name(database))) != held.end())
    return;
  std::fflush(stdout);
  for (const auto& other : held)
    std::fprintf(stderr,
                 "junction users: warning: a running junction reads %s, not %s: the change does not reach it "
                 "(pass its --config)\n",
                 other.substr(prefix.size()).c_str(), path.c_str());
}

int run_users_command_on_store(const config& cfg, const users_command& command);

}  // namespace

std::string store_claim_name(const std::string& database) {
  namespace fs = std::filesystem;
  std::error_code ec;
  return "junction:users:" + fs::weakly_canonical(fs::absolute(database, ec), ec).string();
}

int run_users_command(const config& cfg, const users_command& command) {
  const int code = run_users_command_on_store(cfg, command);
  if (code == 0 && command.action != "list" && command.action != "contacts list") say_which_database(cfg.users.database);
  return code;
}

namespace {

int run_users_command_on_store(const config& cfg, const users_command& command) {
  std::optional<users::user_address> address;
  if (command.action != "list") {
    address = users::parse_user_address(command.user);
    if (!address) {
      std::fprintf(stderr, "junction users: '%s' is not name@domain (name: letters, digits and "
                           "-_.!~*'()&=+$,;?/; domain: a host name)\n", command.user.c_str());
      return 2;
    }
  }
  std::optional<users::user_address> contact;
  if (command.action == "contacts add" || command.action == "contacts del") {
    contact = users::parse_user_address(command.contact);
    if (!contact) {
      std::fprintf(stderr, "junction users contacts: '%s' is not name@domain\n", command.contact.c_str());
      return 2;
    }
  }
  try {
    users::user_store store(cfg.users.database);
    if (command.action.starts_with("contacts")) return run_contacts_command(store, command.action, *address, contact);
    if (command.action == "list") {
      for (const auto& u : store.list())
        std::printf("%s@%s\t%s\n", u.username.c_str(), u.realm.c_str(), format_utc(static_cast<std::time_t>(u.created), "%Y-%m-%d %H:%M:%S UTC").c_str());
      return 0;
    }
    if (command.action == "del") {
      if (!store.remove(address->username, address->realm)) {
        std::fprintf(stderr, "junction users: no user %s@%s in %s\n", address->username.c_str(),
                     address->realm.c_str(), cfg.users.database.c_str());
        return 1;
      }
      std::printf("removed %s@%s\n", address->username.c_str(), address->realm.c_str());
      return 0;
    }
    std::string password = command.password;
    if (command.password_stdin) {
      std::getline(std::cin, password);
      if (!password.empty() && password.back() == '\r') password.pop_back();
    }
    if (password.empty()) {
      std::fprintf(stderr, "junction users add: give the password with --password or --password-stdin\n");
      return 2;
    }
    store.add(address->username, address->realm, password);
    std::printf("added %s@%s\n", address->username.c_str(), address->realm.c_str());
    return 0;
  } catch (const users::user_store_error& e) {
    std::fprintf(stderr, "junction users: %s: %s\n", cfg.users.database.c_str(), e.what());
    return 1;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "junction users: %s\n", e.what());
    return 2;
  }
}

}  // namespace

}  // namespace junction::app
