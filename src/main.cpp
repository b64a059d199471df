// junction: RTMP, SIP/RTP, XMPP and HTTP/WebSocket in one server. Runs with no configuration on
// localhost; `--config FILE` reads conf/junction.toml's keys.
#include "app/server_app.hpp"
#include "app/users_cli.hpp"
#include "app/config.hpp"
#include "core/log.hpp"
#include "core/version.hpp"

#include <CLI/CLI.hpp>

#include <malloc.h>

#include <cstdio>

int main(int argc, char** argv) {
  using namespace junction;
  // Blocks above 256 KiB (partial RTMP messages, big frames) come from mmap and go back to the
  // system when freed. Left dynamic, glibc raises this threshold to the largest block freed so
  // far (up to 32 MiB), after which such blocks come from arenas that keep the memory after the
  // connection that made it is gone.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  // Fixing that threshold also fixes the trim threshold at glibc's 128 KiB: every arena gave its
  // top back to the kernel as soon as 128 KiB were free there, and took it again at the next
  // burst (sysmalloc and its page faults were ~9 % of a SIP call's CPU). Keep up to 8 MiB free
  // at an arena's top, and grow it 1 MiB at a time.
  mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
  mallopt(M_TOP_PAD, 1024 * 1024);
  CLI::App cli{"junction: RTMP, SIP, XMPP and HTTP in one server", "junction"};
  std::string config_path;
  bool check_only = false, listen_all = false;
  unsigned shards = 0;
  std::string log_level;
  cli.add_option("-c,--config", config_path, "TOML configuration file (default: built-in)")
      ->check(CLI::ExistingFile);
  cli.add_flag("--check-config", check_only, "Validate the configuration and exit");
  cli.add_flag("--listen-all", listen_all,
               "Bind the default listeners on every address instead of loopback");
  cli.add_option("--shards", shards, "Shards (event-loop threads); 0 = one per CPU");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off");
  cli.set_version_flag("-V,--version", "junction " JUNCTION_VERSION " (" JUNCTION_IO_BACKEND ")");

  app::users_command users_args;
  auto* users_cli = cli.add_subcommand("users", "Manage the user store (users.database) and exit");
  users_cli->require_subcommand(1);
  users_cli->fallthrough();  // `junction users add ... --config FILE` works too
  auto* add = users_cli->add_subcommand("add", "Add a user, or give an existing one a new password");
  add->add_option("user", users_args.user, "name@domain")->required();
  add->add_option("--password", users_args.password, "The password (visible to other local users: "
                                                  "prefer --password-stdin)");
  add->add_flag("--password-stdin", users_args.password_stdin, "Read the password from standard input");
  auto* del = users_cli->add_subcommand("del", "Remove a user");
  del->add_option("user", users_args.user, "name@domain")->required();
  auto* list = users_cli->add_subcommand("list", "List users and when they were added");
  auto* contacts = users_cli->add_subcommand(
      "contacts", "A user's contact list: who may watch the user's presence");
  contacts->require_subcommand(1);
  auto* contact_add = contacts->add_subcommand("add", "Let CONTACT watch USER's presence");
  auto* contact_del = contacts->add_subcommand("del", "Stop letting CONTACT watch USER's presence");
  auto* contact_list = contacts->add_subcommand("list", "List USER's contacts");
  for (auto* sub : {contact_add, contact_del, contact_list})
    sub->add_option("user", users_args.user, "name@domain")->required();
  for (auto* sub : {contact_add, contact_del})
    sub->add_option("contact", users_args.contact, "name@domain")->required();
  for (auto* sub : {add, del, list, contacts, contact_add, contact_del, contact_list}) sub->fallthrough();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and succeed; every refused argument (an unknown option, a bad
    // value, a configuration file that is not there) exits 2, as the README says, not CLI11's
    // own codes (109, 105, 104...).
    return cli.exit(e) == 0 ? 0 : 2;
  }

  config cfg;
  try {
    cfg = config_path.empty() ? config::builtin() : config::load_file(config_path);
  } catch (const config_error& e) {
    std::fprintf(stderr, "junction: %s\n", e.what());
    return 2;
  }
  if (!log_level.empty()) {
    log::level ignored;
    if (!log::parse_level(log_level, ignored)) {
      std::fprintf(stderr, "junction: --log-level: unknown level '%s'\n", log_level.c_str());
      return 2;
    }
  }
  // What the command line says stays over a reload of the file.
  const app::command_line_overrides overrides{listen_all, shards, log_level};
  overrides.apply(cfg);
  if (users_cli->parsed()) {
    users_args.action = add->parsed()            ? "add"
                        : del->parsed()          ? "del"
                        : contact_add->parsed()  ? "contacts add"
                        : contact_del->parsed()  ? "contacts del"
                        : contact_list->parsed() ? "contacts list"
                                                 : "list";
    (void)list;
    return app::run_users_command(cfg, users_args);
  }
  if (check_only) {
    std::printf("configuration OK: %s\n", cfg.source.c_str());
    return 0;
  }

  log::options logging;
  log::parse_level(cfg.server.log_level, logging.threshold);
  logging.file = cfg.server.log_file;
  logging.access_file = cfg.http.access_log;
  log::configure(logging);
  return app::run_server(cfg, config_path, overrides);
}
