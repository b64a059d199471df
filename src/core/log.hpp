#pragma once
// Logging front end. Only <fmt/core.h> is seen by callers; spdlog stays inside log.cpp so that
// every file that logs does not pay for spdlog's headers.
#include <fmt/core.h>

#include <string>
#include <string_view>

namespace junction::log {

enum class level { trace, debug, info, warn, error, critical, off };

// Parses "trace", "debug", "info", "warn", "error", "critical" or "off".
bool parse_level(std::string_view text, level& out);

struct options {
  level threshold = level::info;
  std::string file;        // empty: standard error
  std::string access_file; // empty: access log off; "-": standard output
};
void configure(const options& opts);
// A reload's log level (server.log_level).
void set_level(level l);
// SIGUSR1: the log files (server.log_file, http.access_log) are opened again by name, for
// logrotate. False when one could not be (it keeps writing to the old one).
bool reopen_files();

// Names the calling thread in every line it logs ("main", "s0", "s1", ...).
void set_thread_tag(std::string_view tag);

bool enabled(level l);
void write(level l, std::string_view message);
void access(std::string_view line);
bool access_enabled();

template <class... Args>
void trace(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::trace)) write(level::trace, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::debug)) write(level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::info)) write(level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::warn)) write(level::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(level::error)) write(level::error, fmt::format(f, std::forward<Args>(args)...));
}

// For lines a peer can cause at will (timeouts, refusals, failed logins): at most 50 lines of
// one kind (`kind`, a fixed string) per ten seconds on a thread; the rest are counted, and the
// next line of that kind that is written says how many were left out.
bool throttle_admit(std::string_view kind, std::size_t& left_out);

template <class... Args>
void throttled(level l, std::string_view kind, fmt::format_string<Args...> f, Args&&... args) {
  if (!enabled(l)) return;
  std::size_t left_out = 0;
  if (!throttle_admit(kind, left_out)) return;
  auto line = fmt::format(f, std::forward<Args>(args)...);
  if (left_out > 0) line += fmt::format(" ({} more {} lines were left out)", left_out, kind);
  write(l, line);
}

}  // namespace junction::log
