#pragma once
// Wires the configured services onto the runtime and runs them until SIGINT or SIGTERM.
#include "app/config.hpp"

namespace junction::app {

// Returns the process exit code. Prints one "listening:" line per bound socket on stdout.
int run_server(const config& cfg);

}  // namespace junction::app
