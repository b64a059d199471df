#include "junction-load/load_run.hpp"

#include "junction-load/load_shard.hpp"
#include "junction-load/report.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/runtime.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <future>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

namespace junction::load {

namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// Ctrl-C ends the run early and still reports; a second one kills (SA_RESETHAND).
std::atomic<bool> interrupted{false};
void on_interrupt(int) { interrupted.store(true, std::memory_order_relaxed); }

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// Thousands of players are thousands of descriptors: lift the soft limit to the hard one, and
// say so when even that cannot hold the run (connect failures would follow).
void raise_open_file_limit(std::uint64_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && wanted + 64 > limit.rlim_cur)
    std::fprintf(stderr, "junction-load: %llu connections but the open-file limit is %llu\n",
                 static_cast<unsigned long long>(wanted), static_cast<unsigned long long>(limit.rlim_cur));
}

double seconds_between(clock::time_point a, clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// The controller's view of all shards at once.
class controller {
 public:
  controller(const run_plan& plan, unsigned shard_count)
      : plan_{plan}, runtime_{runtime_options{.shards = shard_count, .pin_cpus = false}, registry_} {
    for (unsigned i = 0; i < runtime_.size(); ++i)
      shards_.push_back(std::make_unique<load_shard>(runtime_.at(i), plan_));
  }
  ~controller() { shutdown(); }

  void start() { runtime_.start(); }
  // Sessions hold sockets of their shard's io_context: they go before the runtime does.
  void shutdown() {
    runtime_.stop();
    shards_.clear();
  }

  template <class F>
  void on(unsigned shard, F&& f) {
    runtime_.post(shard, std::forward<F>(f));
  }
  template <class F>
  void on_each(F f) {
    for (unsigned i = 0; i < shards_.size(); ++i) on(i, [s = shards_[i].get(), f] { f(*s); });
  }
  load_shard& at(unsigned i) { return *shards_[i]; }
  unsigned size() const { return static_cast<unsigned>(shards_.size()); }

  std::uint64_t sum(std::atomic<std::uint64_t> live_counters::*field) const {
    std::uint64_t total = 0;
    for (const auto& s : shards_) total += live_counters::get(s->counters().*field);
    return total;
  }
  // Players behind their publisher, over every shard (asked on each shard's thread).
  std::uint64_t players_behind() {
    std::vector<std::promise<std::uint64_t>> promises(shards_.size());
    std::vector<std::future<std::uint64_t>> futures;
    for (unsigned i = 0; i < shards_.size(); ++i) {
      futures.push_back(promises[i].get_future());
      on(i, [s = shards_[i].get(), &p = promises[i]] { p.set_value(s->players_behind()); });
    }
    std::uint64_t total = 0;
    for (auto& f : futures) total += f.get();
    return total;
  }
  std::vector<shard_result> collect() {
    std::vector<std::promise<shard_result>> promises(shards_.size());
    std::vector<std::future<shard_result>> futures;
    for (unsigned i = 0; i < shards_.size(); ++i) {
      futures.push_back(promises[i].get_future());
      on(i, [s = shards_[i].get(), &p = promises[i]] { p.set_value(s->collect()); });
    }
    std::vector<shard_result> out;
    for (auto& f : futures) out.push_back(f.get());
    return out;
  }

 private:
  const run_plan& plan_;
  metric_registry registry_;
  runtime runtime_;
  std::vector<std::unique_ptr<load_shard>> shards_;
};

class progress_line {
 public:
  progress_line(controller& c, bool enabled, std::uint64_t players_total)
      : c_{c}, enabled_{enabled}, tty_{isatty(STDERR_FILENO) == 1}, players_total_{players_total} {}

  // Sleeps until `until` (or an interrupt), printing the line every second.
  void sleep_until(clock::time_point until) {
    while (!interrupted.load(std::memory_order_relaxed)) {
      const auto now = clock::now();
      if (now >= until) return;
      if (enabled_ && now >= next_print_) print(now);
      std::this_thread::sleep_for(std::min<clock::duration>(until - now, std::chrono::milliseconds{50}));
    }
  }
  void finish() {
    if (enabled_ && tty_ && printed_) std::fputc('\n', stderr);
  }

 private:
  void print(clock::time_point now) {
    const auto frames = c_.sum(&live_counters::frames_received);
    const auto bytes = c_.sum(&live_counters::bytes_received);
    const double dt = printed_ ? seconds_between(last_, now) : 0;
    const double mbps = dt > 0 ? static_cast<double>(bytes - last_bytes_) * 8 / 1e6 / dt : 0;
    const auto failures = c_.sum(&live_counters::connect_failures) + c_.sum(&live_counters::handshake_failures) +
                          c_.sum(&live_counters::publish_failures) + c_.sum(&live_counters::play_failures);
    std::fprintf(stderr, "%s[%5.1fs] publishing %llu  playing %llu/%llu  frames in %llu  %.1f Mbit/s  failures %llu%s",
                 tty_ ? "\r\033[K" : "", seconds_between(first_, now),
                 static_cast<unsigned long long>(c_.sum(&live_counters::publishing)),
                 static_cast<unsigned long long>(c_.sum(&live_counters::playing)),
                 static_cast<unsigned long long>(players_total_), static_cast<unsigned long long>(frames), mbps,
                 static_cast<unsigned long long>(failures), tty_ ? "" : "\n");
    std::fflush(stderr);
    printed_ = true;
    last_ = now;
    last_bytes_ = bytes;
    next_print_ = now + std::chrono::seconds{1};
  }

  controller& c_;
  bool enabled_, tty_;
  std::uint64_t players_total_;
  bool printed_ = false;
  clock::time_point first_ = clock::now(), last_{}, next_print_{};
  std::uint64_t last_bytes_ = 0;
};

// Resolves the URL's host; refuses addresses outside loopback unless allowed.
std::optional<asio::ip::tcp::endpoint> resolve(const load_options& o, int& exit_code) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver{io};
  boost::system::error_code ec;
  auto results = resolver.resolve(o.url.host, std::to_string(o.url.port), ec);
  if (ec || results.empty()) {
    std::fprintf(stderr, "junction-load: cannot resolve %s: %s\n", o.url.host.c_str(), ec.message().c_str());
    exit_code = exit_could_not_run;
    return std::nullopt;
  }
  for (const auto& r : results) {
    if (!o.allow_remote && !is_loopback(r.endpoint().address())) {
      std::fprintf(stderr,
                   "junction-load: %s is %s, outside 127.0.0.0/8 and ::1; pass --allow-remote to load "
                   "another machine\n",
                   o.url.host.c_str(), r.endpoint().address().to_string().c_str());
      exit_code = exit_usage;
      return std::nullopt;
    }
  }
  return results.begin()->endpoint();
}

}  // namespace

int run_load(const load_options& options) {
  const auto wall_start = clock::now();
  const double cpu_start = cpu_seconds();
  run_plan plan;
  plan.options = options;
  int exit_code = exit_completed;
  auto server = resolve(options, exit_code);
  if (!server) return exit_code;
  plan.server = *server;
  plan.streams = stream_names(options.url.stream, options.publishers);
  if (options.publishers > 0) plan.published = std::make_unique<published_frames[]>(plan.streams.size());
  if (!options.synthetic()) {
    std::string why;
    auto file = load_flv_file(options.source, &why);
    if (!file) {
      std::fprintf(stderr, "junction-load: --source: %s\n", why.c_str());
      return exit_usage;
    }
    plan.file = std::make_shared<const flv_file>(std::move(*file));
    for (std::size_t i = 0; i < plan.streams.size(); ++i) plan.indexes.push_back(std::make_unique<frame_index>());
  }

  struct sigaction sa{};
  sa.sa_handler = on_interrupt;
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const unsigned shard_count =
      options.shards ? options.shards : static_cast<unsigned>(std::max<std::size_t>(1, runtime::allowed_cpus().size()));
  const auto streams = static_cast<unsigned>(plan.streams.size());
  const std::uint64_t players_total = std::uint64_t{streams} * options.players;
  raise_open_file_limit(players_total + options.publishers);
  controller c{plan, shard_count};
  c.start();
  progress_line progress{c, options.progress, players_total};

  // Publishers, spread over the shards; the run's clock starts once they are all set up.
  for (unsigned i = 0; i < options.publishers; ++i) c.on(i % c.size(), [&c, i] { c.at(i % c.size()).start_publisher(i); });
  const auto setup_deadline = clock::now() + 2 * options.step_timeout + std::chrono::seconds{1};
  while (c.sum(&live_counters::publishers_done) < options.publishers && clock::now() < setup_deadline &&
         !interrupted.load())
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  const auto published = clock::now();
  const bool nothing_published = options.publishers > 0 && c.sum(&live_counters::publishing) == 0;
  if (nothing_published) {
    std::fprintf(stderr, "junction-load: no publisher could publish to %s\n", options.url.to_string().c_str());
    exit_code = exit_could_not_run;
  }

  // Players at the ramp rate, round-robin over streams and shards, until the end of the run.
  const auto end = published + options.duration;
  std::optional<clock::time_point> players_from;
  if (!nothing_published && players_total > 0) {
    progress.sleep_until(published + options.warmup);
    players_from = clock::now();
    std::uint64_t started = 0;
    while (started < players_total && !interrupted.load() && clock::now() < end) {
      const double elapsed = seconds_between(*players_from, clock::now());
      const auto due = std::min<std::uint64_t>(players_total, static_cast<std::uint64_t>(elapsed * options.ramp) + 1);
      for (; started < due; ++started) {
        const auto shard = static_cast<unsigned>(started % c.size());
        const auto stream = static_cast<unsigned>(started % streams);
        c.on(shard, [&c, shard, stream] { c.at(shard).start_player(stream); });
      }
      progress.sleep_until(std::min(end, clock::now() + std::chrono::milliseconds{5}));
    }
  }
  if (!nothing_published) progress.sleep_until(end);

  // Publishers stop first; players drain what is in flight (until each has the last frame its
  // publisher sent, for at most options.drain); then everything closes.
  c.on_each([](load_shard& s) { s.stop_publishers(); });
  const auto stopped = clock::now();
  const auto drain_deadline = stopped + options.drain;
  while (c.sum(&live_counters::publishing) > 0 && clock::now() < drain_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  if (players_from) {
    if (plan.published) {
      while (c.players_behind() > 0 && clock::now() < drain_deadline && !interrupted.load())
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    } else {
      progress.sleep_until(drain_deadline);  // someone else's stream: nothing says when it is all in
    }
  }
  c.on_each([](load_shard& s) { s.stop_players(); });
  const auto closed = clock::now();
  const auto close_deadline = closed + std::chrono::seconds{5};
  while (c.sum(&live_counters::running) > 0 && clock::now() < close_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  progress.finish();

  load_report r;
  r.url = options.url.to_string();
  r.duration_s = seconds_between(published, stopped);
  r.publishers = options.publishers;
  r.players_per_stream = options.players;
  r.shards = c.size();
  r.connect_failures = c.sum(&live_counters::connect_failures);
  r.handshake_failures = c.sum(&live_counters::handshake_failures);
  r.publish_failures = c.sum(&live_counters::publish_failures);
  r.play_failures = c.sum(&live_counters::play_failures);
  r.frames_sent = c.sum(&live_counters::frames_sent);
  r.bytes_sent = c.sum(&live_counters::bytes_sent);
  r.frames_received_total = c.sum(&live_counters::frames_received);
  r.bytes_received_total = c.sum(&live_counters::bytes_received);
  const bool stuck = c.sum(&live_counters::running) > 0;

  latency_histogram latency;
  std::vector<double> first_keyframes;
  std::vector<std::uint64_t> per_player, joined_at;
  for (auto& s : c.collect()) {
    r.players_started += s.players_started;
    r.players_disconnected += s.players_disconnected;
    r.misrouted_frames += s.misrouted;
    r.unidentified_frames += s.unidentified;
    latency.merge(s.latency);
    first_keyframes.insert(first_keyframes.end(), s.first_keyframe_ms.begin(), s.first_keyframe_ms.end());
    for (const auto& t : s.completed) {
      ++r.players_completed;
      per_player.push_back(t.frames);
      r.missing_frames += t.missing();
      r.out_of_order_frames += t.out_of_order();
      if (t.missing() > 0) ++r.players_with_missing_frames;
      if (t.video.started) joined_at.push_back(t.video.first);
      if (plan.published && t.played) {
        const auto& published = plan.published[t.stream];
        const auto short_by = frames_short(t.audio, t.audio_published_at_play, published.audio.load()) +
                              frames_short(t.video, t.video_published_at_play, published.video.load());
        r.short_frames += short_by;
        if (short_by > 0) ++r.players_short;
      }
    }
  }
  c.shutdown();
  if (stuck) std::fprintf(stderr, "junction-load: some connections did not close within 5 s\n");

  r.frames_received_per_player = spread_of(per_player);
  r.joined_at_video_frame = spread_of(joined_at);
  r.frames_accounted = plan.published != nullptr;
  r.first_keyframe_ms = {percentile(first_keyframes, 0.5), percentile(first_keyframes, 0.99),
                         first_keyframes.empty() ? 0 : first_keyframes.back()};
  r.latency_ms = {latency.percentile_ms(0.5), latency.percentile_ms(0.99), latency.max_ms()};
  if (players_from) {
    const double window = seconds_between(*players_from, closed);
    if (window > 0) r.delivered_mbps = static_cast<double>(r.bytes_received_total) * 8 / 1e6 / window;
  }
  r.tool_cpu_seconds = cpu_seconds() - cpu_start;
  const double wall = seconds_between(wall_start, clock::now());
  if (wall > 0) r.tool_cpu_percent = 100 * r.tool_cpu_seconds / wall;

  if (options.json) std::fputs(to_json(r).c_str(), stdout);
  else std::fputs(to_table(r).c_str(), stdout);
  std::fflush(stdout);
  if (options.publishers == 0 && r.players_completed == 0 && r.players_disconnected == 0) {
    std::fprintf(stderr, "junction-load: no player could play %s\n", options.url.to_string().c_str());
    exit_code = exit_could_not_run;
  }
  if (exit_code == exit_completed && (r.players_short > 0 || r.players_disconnected > 0 ||
                                      r.play_failures > 0 || r.connect_failures > 0 || r.handshake_failures > 0)) {
    std::fprintf(stderr, "junction-load: %llu player(s) short of frames, %llu lost, %llu failed to start\n",
                 static_cast<unsigned long long>(r.players_short),
                 static_cast<unsigned long long>(r.players_disconnected),
                 static_cast<unsigned long long>(r.play_failures + r.connect_failures + r.handshake_failures));
    exit_code = exit_players_short;
  }
  return exit_code;
}

}  // namespace junction::load
