#include "core/config_section.hpp"

#include <filesystem>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/duration.hpp"
#include "core/ip_range.hpp"
#include "core/log.hpp"

namespace junction {
namespace {

std::string where(const std::string& file, const toml::source_region& region) {
  return fmt::format("{}:{}:{}", file, region.begin.line, region.begin.column);
}

}  // namespace

struct config_section::source {
  toml::table root;
  std::string file;
  std::vector<std::string>* defaulted = nullptr;
};

struct config_section::state {
  const toml::table* table = nullptr;
  std::set<std::string> read;

  // The node of `key`, marked as read; nothing (and the key listed as defaulted) when absent.
  const toml::node* find(const char* key, const std::string& section, std::vector<std::string>* defaulted) {
    read.insert(key);
    const toml::node* node = table ? table->get(key) : nullptr;
    if (!node && defaulted) defaulted->push_back(section + "." + key);
    return node;
  }
  [[noreturn]] void fail(const std::string& file, const toml::node& node, const std::string& message) const {
    throw config_error(where(file, node.source()) + ": " + message);
  }
};

config_section::config_section(std::shared_ptr<const source> from, std::string name)
    : from_(std::move(from)), name_(std::move(name)), state_(std::make_unique<state>()) {
  if (auto* node = from_->root.get(name_)) {
    state_->table = node->as_table();
    if (!state_->table) state_->fail(from_->file, *node, "must be a table ([" + name_ + "])");
  }
}

config_section::config_section(std::shared_ptr<const source> from, std::string name, const void* table)
    : from_(std::move(from)), name_(std::move(name)), state_(std::make_unique<state>()) {
  state_->table = static_cast<const toml::table*>(table);
}

config_section::~config_section() = default;
config_section::config_section(config_section&&) noexcept = default;

bool config_section::present() const noexcept { return state_->table != nullptr; }

void config_section::integer(const char* key, std::size_t& out, std::int64_t min, std::int64_t max) {
  if (auto* node = state_->find(key, name_, from_->defaulted)) {
    auto v = node->value<std::int64_t>();
    if (!node->is_integer() || !v || *v < min || *v > max)
      state_->fail(from_->file, *node, fmt::format("{}.{}: expected an integer from {} to {}", name_, key, min, max));
    out = static_cast<std::size_t>(*v);
  }
}

void config_section::integer(const char* key, unsigned& out, std::int64_t min, std::int64_t max) {
  std::size_t v = out;
  integer(key, v, min, max);
  out = static_cast<unsigned>(v);
}

void config_section::boolean(const char* key, bool& out) {
  if (auto* node = state_->find(key, name_, from_->defaulted)) {
    if (!node->is_boolean()) state_->fail(from_->file, *node, fmt::format("{}.{}: expected true or false", name_, key));
    out = *node->value<bool>();
  }
}

void config_section::string(const char* key, std::string& out, bool* given) {
  if (auto* node = state_->find(key, name_, from_->defaulted)) {
    if (!node->is_string()) state_->fail(from_->file, *node, fmt::format("{}.{}: expected a string", name_, key));
    out = *node->value<std::string>();
    if (given) *given = true;
  }
}

void config_section::strings(const char* key, std::vector<std::string>& out) {
  auto* node = state_->find(key, name_, from_->defaulted);
  if (!node) return;
  auto* array = node->as_array();
  if (!array) state_->fail(from_->file, *node, fmt::format("{}.{}: expected a list of strings", name_, key));
  out.clear();
  for (auto& item : *array) {
    if (!item.is_string()) state_->fail(from_->file, item, fmt::format("{}.{}: expected a list of strings", name_, key));
    out.push_back(*item.value<std::string>());
  }
}

void config_section::ranges(const char* key, std::vector<std::string>& out) {
  strings(key, out);
  const toml::node* node = state_->table ? state_->table->get(key) : nullptr;
  if (auto* array = node ? node->as_array() : nullptr)
    for (std::size_t i = 0; i < out.size(); ++i)
      if (!ip_range::parse(out[i]))
        state_->fail(from_->file, *array->get(i),
                      fmt::format("{}.{}: '{}' is not an address or CIDR range", name_, key, out[i]));
}

void config_section::duration(const char* key, std::chrono::milliseconds& out) {
  if (auto* node = state_->find(key, name_, from_->defaulted)) {
    auto text = node->value<std::string>();
    auto parsed = text ? parse_duration(*text) : std::nullopt;
    if (!node->is_string() || !parsed)
      state_->fail(from_->file, *node, fmt::format("{}.{}: expected a duration such as \"500ms\", \"10s\" or \"5m\"", name_, key));
    out = *parsed;
  }
}

void config_section::addresses(const char* key, std::vector<listen_address>& out, bool* given) {
  auto* node = state_->find(key, name_, from_->defaulted);
  if (!node) return;
  auto* array = node->as_array();
  if (!array) state_->fail(from_->file, *node, fmt::format("{}.{}: expected a list of \"host:port\" strings", name_, key));
  out.clear();
  for (auto& item : *array) {
    auto text = item.value<std::string>();
    std::string why = "expected a \"host:port\" string";
    auto resolved = text ? listen_address::resolve(*text, &why) : std::vector<listen_address>{};
    if (!item.is_string() || resolved.empty()) state_->fail(from_->file, item, fmt::format("{}.{}: {}", name_, key, why));
    out.insert(out.end(), resolved.begin(), resolved.end());
  }
  if (given) *given = true;
}

void config_section::level(const char* key, std::string& out) {
  string(key, out);
  log::level ignored;
  const toml::node* node = state_->table ? state_->table->get(key) : nullptr;
  if (node && !log::parse_level(out, ignored))
    state_->fail(from_->file, *node, fmt::format("{}.{}: expected one of trace, debug, info, warn, error, critical, off", name_,
                                     key));
}

std::vector<config_section> config_section::tables(const char* key) {
  state_->read.insert(key);
  std::vector<config_section> out;
  const toml::node* node = state_->table ? state_->table->get(key) : nullptr;
  if (!node) return out;
  auto* array = node->as_array();
  if (!array || !array->is_array_of_tables())
    state_->fail(from_->file, *node, fmt::format("{}.{}: expected tables ([[{}.{}]])", name_, key, name_, key));
  for (auto& item : *array) out.push_back(config_section(from_, name_ + "." + key, item.as_table()));
  return out;
}

void config_section::finish() {
  if (!state_->table) return;
  for (auto& [key, node] : *state_->table)
    if (!state_->read.contains(std::string{key.str()}))
      state_->fail(from_->file, node, fmt::format("unknown key '{}.{}'", name_, key.str()));
}

void config_section::fail(const std::string& message) const { throw config_error(from_->file + ": " + message); }

void config_section::fail_here(const std::string& message) const {
  if (!state_->table) fail(message);
  state_->fail(from_->file, *state_->table, message);
}

config_document::config_document(std::string_view text, std::string name, std::vector<std::string>* defaulted) {
  auto s = std::make_shared<config_section::source>();
  s->file = std::move(name);
  s->defaulted = defaulted;
  try {
    s->root = toml::parse(text, s->file);
  } catch (const toml::parse_error& e) {
    throw config_error(where(s->file, e.source()) + ": " + std::string{e.description()});
  }
  source_ = std::move(s);
}

config_document::~config_document() = default;

config_section config_document::section(const std::string& name) const { return config_section(source_, name); }

const std::string& config_document::name() const noexcept { return source_->file; }

void config_document::only(const std::vector<std::string>& known) const {
  for (auto& [key, node] : source_->root)
    if (std::find(known.begin(), known.end(), std::string{key.str()}) == known.end())
      throw config_error(where(source_->file, node.source()) + ": unknown section '" + std::string{key.str()} + "'");
}

std::map<std::string, std::string> flatten_config(std::string_view text) {
  std::map<std::string, std::string> out;
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error&) {
    return out;
  }
  for (auto& [section, node] : root) {
    const auto* table = node.as_table();
    if (!table) continue;
    for (auto& [key, value] : *table) {
      std::ostringstream printed;
      value.visit([&printed](const auto& v) { printed << v; });
      out[std::string{section.str()} + "." + std::string{key.str()}] = printed.str();
    }
  }
  return out;
}

void make_relative_to(const std::string& base, std::string& path) {
  if (path.empty() || path == "-" || std::filesystem::path{path}.is_absolute()) return;
  path = (std::filesystem::path{base} / path).lexically_normal().string();
}

}  // namespace junction
