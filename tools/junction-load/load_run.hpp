#pragma once
// A whole run, driven from the main thread: start the publishers, wait for the warm-up, ramp
// the players up, stop the publishers at the end, let the players drain, close them, collect
// every shard's counts and print the report.
#include "junction-load/options.hpp"

namespace junction::load {

// Exit codes: what the command line promises.
inline constexpr int exit_completed = 0;
inline constexpr int exit_could_not_run = 1;
inline constexpr int exit_usage = 2;
// The run went through but a player did not get every frame (short: from its first frame to the
// publisher's last), was disconnected, or could not start.
inline constexpr int exit_players_short = 3;

// Runs and prints the report (table or JSON) on standard output; messages go to standard error.
int run_load(const load_options& options);

}  // namespace junction::load
