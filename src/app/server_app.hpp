#pragma once
// Wires the configured services onto the runtime and runs them until SIGINT or SIGTERM.
#include <string>

#include "app/config.hpp"
#include "app/reload.hpp"

namespace junction::app {

// Returns the process exit code. Prints one "listening:" line per bound socket on stdout.
// SIGHUP (and POST /api/v1/reload) reloads `path` with `overrides` applied (app/reload.hpp);
// SIGUSR1 reopens the log files.
int run_server(const config& cfg, const std::string& path = {}, const command_line_overrides& overrides = {});

}  // namespace junction::app
