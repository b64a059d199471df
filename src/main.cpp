// junction: RTMP, SIP/RTP, XMPP and HTTP/WebSocket in one server. Runs with no configuration on
// localhost; `--config FILE` reads conf/junction.toml's keys.
#include "app/server_app.hpp"
#include "core/config.hpp"
#include "core/log.hpp"
#include "core/version.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  using namespace junction;
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
  CLI11_PARSE(cli, argc, argv);

  config cfg;
  try {
    cfg = config_path.empty() ? config{} : config::load_file(config_path);
  } catch (const config_error& e) {
    std::fprintf(stderr, "junction: %s\n", e.what());
    return 2;
  }
  if (listen_all) cfg.apply_listen_all();
  if (shards) cfg.server.shards = shards;
  if (!log_level.empty()) {
    log::level ignored;
    if (!log::parse_level(log_level, ignored)) {
      std::fprintf(stderr, "junction: --log-level: unknown level '%s'\n", log_level.c_str());
      return 2;
    }
    cfg.server.log_level = log_level;
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
  return app::run_server(cfg);
}
