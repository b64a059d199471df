#pragma once
// One table of Junction's TOML configuration ([sip], [rtmp], one [[rtmp.app]] entry, ...), as the
// module that owns it reads it: every read names the key, its type and its allowed range; a key
// the file leaves out keeps the module's default (and is listed in `defaulted`); a key nobody
// read is an error (a misspelt key silently ignored is a setting that does not take effect).
// Errors are config_error with "file:line:column: message". Each module has its own reader
// (http/config.hpp, rtmp/config.hpp, sip/config.hpp, ...); the application puts the sections
// together (app/config.hpp), so a new protocol adds a section without touching this.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <map>
#include <string>
#include <vector>

#include "core/endpoint.hpp"

namespace junction {

// "file:line:column: message" for the first problem found.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class config_section {
 public:
  struct source;  // the parsed table and where it came from (config_section.cpp)
  config_section(std::shared_ptr<const source> from, std::string name);
  ~config_section();
  config_section(config_section&&) noexcept;

  const std::string& name() const noexcept { return name_; }
  bool present() const noexcept;  // the file has this table

  void integer(const char* key, std::size_t& out, std::int64_t min, std::int64_t max);
  void integer(const char* key, unsigned& out, std::int64_t min, std::int64_t max);
  void boolean(const char* key, bool& out);
  // `given` is set when the file names the key.
  void string(const char* key, std::string& out, bool* given = nullptr);
  void strings(const char* key, std::vector<std::string>& out);
  // A list of addresses or CIDR ranges ("10.0.0.0/8").
  void ranges(const char* key, std::vector<std::string>& out);
  // "500ms", "10s", "5m".
  void duration(const char* key, std::chrono::milliseconds& out);
  // "host:port" strings; `given` is set when the file names the key.
  void addresses(const char* key, std::vector<listen_address>& out, bool* given = nullptr);
  // One of trace, debug, info, warn, error, critical, off.
  void level(const char* key, std::string& out);
  // The tables of an array of tables ([[section.key]]), each a section named "section.key";
  // nothing when absent.
  std::vector<config_section> tables(const char* key);

  // Every key of the table was read, or config_error names the first unknown one.
  void finish();
  // A setting that is wrong with another (found after reading): "file: message".
  [[noreturn]] void fail(const std::string& message) const;
  // A problem of this table itself (one [[rtmp.app]] entry): "file:line:column: message".
  [[noreturn]] void fail_here(const std::string& message) const;

 private:
  struct state;
  config_section(std::shared_ptr<const source> from, std::string name, const void* table);
  std::shared_ptr<const source> from_;
  std::string name_;
  std::unique_ptr<state> state_;
};

// The sections of one file: a section for each name, and an error for a table no module reads.
class config_document {
 public:
  // Parses TOML text; config_error with the position of a syntax error.
  config_document(std::string_view text, std::string name, std::vector<std::string>* defaulted);
  ~config_document();
  config_section section(const std::string& name) const;
  // Every top-level table is one of `known`.
  void only(const std::vector<std::string>& known) const;
  const std::string& name() const noexcept;

 private:
  std::shared_ptr<const config_section::source> source_;
};

// Every "section.key" of TOML text with its value as text (an array of tables, such as
// [[rtmp.app]], is one key): what a reload compares to name the keys that changed. Text that does
// not parse gives nothing.
std::map<std::string, std::string> flatten_config(std::string_view text);

// `path` relative to `base` (a configuration file's folder), unless absolute, empty or "-".
void make_relative_to(const std::string& base, std::string& path);

}  // namespace junction
