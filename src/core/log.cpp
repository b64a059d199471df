#include "core/log.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <unordered_map>
#include <utility>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <mutex>
#include <atomic>
#include <memory>

namespace junction::log {
namespace {

thread_local char thread_tag[16] = "main";
std::atomic<int> threshold{static_cast<int>(level::info)};
std::shared_ptr<spdlog::logger> main_logger;
std::shared_ptr<spdlog::logger> access_logger;

// %* in the pattern: the tag of the thread that logged (the shard index or "main").
class thread_tag_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view tag{thread_tag};
    dest.append(tag.data(), tag.data() + tag.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<thread_tag_flag>();
  }
};

spdlog::level::level_enum to_spdlog(level l) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(l));
}

std::unique_ptr<spdlog::formatter> make_formatter(const char* pattern) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<thread_tag_flag>('*').set_pattern(pattern);
  return f;
}

// A log file that SIGUSR1 reopens (after logrotate moved it): appends, like nginx's.
class reopenable_file_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit reopenable_file_sink(std::string path) : path_(std::move(path)) { open(); }
  ~reopenable_file_sink() override {
    if (file_) std::fclose(file_);
  }
  // False (and the old file kept) when the file cannot be opened.
  bool reopen() {
    std::lock_guard<std::mutex> lock(mutex_);
    return open();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    if (file_) std::fwrite(formatted.data(), 1, formatted.size(), file_);
  }
  void flush_() override {
    if (file_) std::fflush(file_);
  }

 private:
  bool open() {
    std::FILE* next = std::fopen(path_.c_str(), "ae");
    if (!next) {
      if (!file_) throw spdlog::spdlog_ex("cannot open log file " + path_, errno);
      return false;
    }
    if (file_) std::fclose(file_);
    file_ = next;
    return true;
  }
  std::string path_;
  std::FILE* file_ = nullptr;
};

std::shared_ptr<spdlog::logger> make_logger(const char* name, const std::string& file,
                                            bool to_stdout) {
  spdlog::sink_ptr sink;
  if (!file.empty() && file != "-")
    sink = std::make_shared<reopenable_file_sink>(file);
  else if (to_stdout)
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  else
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return std::make_shared<spdlog::logger>(name, std::move(sink));
}

// The default set-up, for a process that logs before configuring (tests): made once, even when
// two shard threads write their first lines at the same moment.
spdlog::logger& logger() {
  static std::once_flag defaulted;
  std::call_once(defaulted, [] {
    if (!main_logger) configure({});
  });
  return *main_logger;
}

}  // namespace

bool parse_level(std::string_view text, level& out) {
  static constexpr std::array<std::string_view, 7> names{"trace", "debug", "info", "warn",
                                                         "error", "critical", "off"};
  for (std::size_t i = 0; i < names.size(); ++i)
    if (text == names[i]) {
      out = static_cast<level>(i);
      return true;
    }
  return false;
}

void configure(const options& opts) {
  threshold.store(static_cast<int>(opts.threshold), std::memory_order_relaxed);
  main_logger = make_logger("junction", opts.file, false);
  main_logger->set_formatter(make_formatter("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%*] %v"));
  main_logger->set_level(to_spdlog(opts.threshold));
  main_logger->flush_on(spdlog::level::info);
  if (opts.access_file.empty()) {
    access_logger.reset();
  } else {
    access_logger = make_logger("access", opts.access_file, true);
    access_logger->set_formatter(make_formatter("%Y-%m-%dT%H:%M:%S.%e [%*] %v"));
    access_logger->flush_on(spdlog::level::info);
  }
}

void set_level(level l) {
  threshold.store(static_cast<int>(l), std::memory_order_relaxed);
  logger().set_level(to_spdlog(l));
}

bool reopen_files() {
  bool ok = true;
  for (auto* l : {&main_logger, &access_logger}) {
    if (!*l) continue;
    for (auto& sink : (*l)->sinks())
      if (auto* file = dynamic_cast<reopenable_file_sink*>(sink.get())) ok = file->reopen() && ok;
  }
  return ok;
}

void set_thread_tag(std::string_view tag) {
  auto n = std::min(tag.size(), sizeof thread_tag - 1);
  tag.copy(thread_tag, n);
  thread_tag[n] = '\0';
}

bool enabled(level l) {
  return static_cast<int>(l) >= threshold.load(std::memory_order_relaxed) && l != level::off;
}

void write(level l, std::string_view message) { logger().log(to_spdlog(l), message); }

bool access_enabled() { return access_logger != nullptr; }

void access(std::string_view line) {
  if (access_logger) access_logger->info(line);
}

namespace {

struct throttle_state {
  std::chrono::steady_clock::time_point window_start;
  std::size_t written = 0, left_out = 0;
};

constexpr std::size_t throttle_burst = 50;
constexpr auto throttle_window = std::chrono::seconds(10);

}  // namespace

bool throttle_admit(std::string_view kind, std::size_t& left_out) {
  // Per thread, so no lock: each shard throttles its own lines.
  thread_local std::unordered_map<std::string, throttle_state> states;
  const auto now = std::chrono::steady_clock::now();
  auto it = states.find(std::string{kind});
  if (it == states.end()) {
    if (states.size() > 256) states.clear();  // kinds are fixed strings; this is a backstop
    it = states.emplace(std::string{kind}, throttle_state{now}).first;
  }
  auto& st = it->second;
  if (now - st.window_start >= throttle_window) {
    st.window_start = now;
    st.written = 0;
  }
  if (st.written < throttle_burst) {
    ++st.written;
    left_out = std::exchange(st.left_out, 0);
    return true;
  }
  ++st.left_out;
  return false;
}

}  // namespace junction::log
