// tcp_floor: "the floor" for fan-out benchmarks. The CPU a server cannot avoid on this kernel to
// push N paced TCP streams over loopback: no parsing, no muxing, no queues, only a ready-made
// byte buffer sent to N nonblocking sockets on a fixed schedule (epoll for the rare EAGAIN).
//
//   tcp_floor --connections 1000 --rate 2M --write-bytes 16384 --duration 10s [--json]
//   tcp_floor sink --listen 127.0.0.1:0 [--cpu C] [--max-seconds S]   (then --sink-port P)
//
// Default mode forks a sink process first (it accepts the N connections and reads everything,
// optionally pinned with --sink-cpu), then the writer (this process, --threads threads, each
// with its share of the connections) connects and writes `--write-bytes` bytes to each
// connection every write_bytes*8/rate seconds, the connections' phases spread evenly over the
// interval. After --warmup, writer CPU (getrusage of this process: the sink is another process)
// and the sink's CPU (/proc/<pid>/stat) are sampled over the measured window.
//
// Loopback note: with CONFIG_IRQ_TIME_ACCOUNTING off (this machine), the softirq work of the
// receiving side of loopback TCP mostly runs in, and is charged to, the sending task, as it is for
// any server measured on loopback. The figures are comparable with server CPU measured the same
// way on the same kernel, not with a NIC.
//
// Everything is bounded: connects have a deadline, the writer stops at warmup+duration, the sink
// exits when every peer has closed or at its own deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <csignal>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
using ns = std::chrono::nanoseconds;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tcp_floor: %s\n", what.c_str());
  std::exit(2);
}

[[noreturn]] void die_errno(const std::string& what) { die(what + ": " + std::strerror(errno)); }

// "2M", "2000k", "2000000" (bits per second; k/M/G are powers of ten).
double parse_rate(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string unit = end ? end : "";
  if (unit == "k" || unit == "K") v *= 1e3;
  else if (unit == "m" || unit == "M") v *= 1e6;
  else if (unit == "g" || unit == "G") v *= 1e9;
  else if (!unit.empty()) die("bad rate '" + s + "' (e.g. 2M, 500k, 2000000)");
  if (!(v > 0)) die("rate must be positive: '" + s + "'");
  return v;
}

// "10s", "500ms", "2m" or a plain number of seconds.
double parse_seconds(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string unit = end ? end : "";
  if (unit == "ms") v /= 1e3;
  else if (unit == "m") v *= 60;
  else if (!unit.empty() && unit != "s") die("bad duration '" + s + "' (e.g. 10s, 500ms)");
  if (!(v >= 0) || v > 3600) die("duration out of range: '" + s + "'");
  return v;
}

long parse_int(const std::string& s, long lo, long hi, const char* what) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || v < lo || v > hi)
    die(std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " +
        std::to_string(hi) + "], got '" + s + "'");
  return v;
}

void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

void pin_to(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) die_errno("sched_setaffinity");
}

double rusage_seconds(const rusage& r) {
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

// utime+stime of a process in seconds (all threads), or -1.
double proc_cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream in(all.substr(close + 2));
  std::string field;
  unsigned long long ut = 0, st = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) ut = std::stoull(field);
    if (i == 15) st = std::stoull(field);
  }
  return double(ut + st) / double(sysconf(_SC_CLK_TCK));
}

void write_all(int fd, const void* p, size_t n) {
  auto* b = static_cast<const char*>(p);
  while (n) {
    ssize_t k = ::write(fd, b, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return;
    b += k;
    n -= size_t(k);
  }
}

bool read_all(int fd, void* p, size_t n) {
  auto* b = static_cast<char*>(p);
  while (n) {
    ssize_t k = ::read(fd, b, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    b += k;
    n -= size_t(k);
  }
  return true;
}

// ---- sink ------------------------------------------------------------------------------------

struct sink_report {
  uint64_t bytes = 0;
  uint64_t accepted = 0;
  double cpu_seconds = 0;
};

// Accepts connections on `lfd` and reads everything until `expect` connections have been
// accepted and all of them closed, or the deadline passes.
sink_report run_sink(int lfd, long expect, double max_seconds) {
  sink_report rep;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die_errno("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::vector<char> buf(256 * 1024);
  std::vector<epoll_event> events(1024);
  long open = 0;
  auto deadline = clock_type::now() + std::chrono::duration_cast<ns>(std::chrono::duration<double>(max_seconds));
  while (clock_type::now() < deadline) {
    if (expect > 0 && long(rep.accepted) >= expect && open == 0) break;
    int n = epoll_wait(ep, events.data(), int(events.size()), 200);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die_errno("epoll_wait (sink)");
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        for (int k = 0; k < 1024; ++k) {  // bounded drain of the accept queue
          int c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          ++rep.accepted;
          ++open;
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLRDHUP;
          cev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      for (int k = 0; k < 64; ++k) {  // bounded per wakeup; level-triggered brings us back
        ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
        if (r > 0) {
          rep.bytes += uint64_t(r);
          if (size_t(r) < buf.size()) break;
          continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        --open;
        break;
      }
    }
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  rep.cpu_seconds = rusage_seconds(ru);
  ::close(ep);
  return rep;
}

int listen_socket(const std::string& host, int port) {
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die_errno("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) die("bad IPv4 address '" + host + "'");
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die_errno("bind");
  if (::listen(lfd, 4096) != 0) die_errno("listen");
  return lfd;
}

int bound_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// ---- writer ----------------------------------------------------------------------------------

struct options {
  long connections = 100;
  long threads = 1;
  double rate_bps = 2e6;     // per connection
  long write_bytes = 16384;  // bytes per send
  double duration_s = 10;    // measured window
  double warmup_s = 1;       // paced but not measured
  int sink_cpu = -1;
  int sink_port = 0;  // nonzero: write to a `tcp_floor sink` already listening on 127.0.0.1:port
  std::vector<int> writer_cpus;
  bool nodelay = true;
  bool spread = false;  // phases spread over the interval instead of one burst per interval
  bool json = false;
};

struct alignas(64) thread_stats {
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> eagain{0};    // sends cut short by a full socket buffer
  std::atomic<uint64_t> late{0};      // a due write found the previous one still unsent
  std::atomic<uint64_t> failures{0};  // connections lost
};

struct conn {
  int fd = -1;
  uint64_t owed = 0;  // bytes due but not yet accepted by the kernel
  size_t offset = 0;  // position in the ready-made buffer
  bool dead = false;
};

int connect_to(int port, bool nodelay, clock_type::time_point deadline) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (clock_type::now() < deadline) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die_errno("socket");
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      int one = 1;
      if (nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) die_errno("fcntl");
      return fd;
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  die("could not connect to the sink within the deadline");
}

// Sends what `c` owes, from the ready-made buffer, until done or the socket is full.
void flush(conn& c, const std::vector<char>& data, thread_stats& st) {
  for (int guard = 0; c.owed && !c.dead && guard < 1024; ++guard) {
    // `data` holds 4 write sizes and offset stays below one, so a write (up to 3 times what is
    // due at once when running late) is one contiguous send.
    size_t n = std::min<uint64_t>(c.owed, data.size() - c.offset);
    ssize_t k = ::send(c.fd, data.data() + c.offset, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (k > 0) {
      c.owed -= uint64_t(k);
      c.offset = (c.offset + size_t(k)) % (data.size() / 4);
      st.bytes.fetch_add(uint64_t(k), std::memory_order_relaxed);
      st.writes.fetch_add(1, std::memory_order_relaxed);
      if (size_t(k) < n) {  // the socket buffer filled up mid-write
        st.eagain.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      continue;
    }
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && errno == EAGAIN) {
      st.eagain.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    c.dead = true;
    st.failures.fetch_add(1, std::memory_order_relaxed);
  }
}

// Set by main once every thread has connected; read by the threads after `go`.
struct schedule {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  clock_type::time_point start{}, end{};
};

void writer_thread(const options& o, long first, long count, int port, int cpu, schedule& sched,
                   thread_stats& st) {
  if (cpu >= 0) pin_to(cpu);
  std::vector<char> data(size_t(o.write_bytes) * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = char('a' + (first + i) % 26);
  std::vector<conn> conns(static_cast<size_t>(count));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die_errno("epoll_create1");
  auto connect_deadline = clock_type::now() + std::chrono::seconds(30);
  for (size_t i = 0; i < conns.size(); ++i) {
    conns[i].fd = connect_to(port, o.nodelay, connect_deadline);
    conns[i].offset = (size_t(first) + i) * 1031 % size_t(o.write_bytes);
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLET;  // wakes us only when a full socket drains
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  sched.ready.fetch_add(1);
  for (int i = 0; i < 120000 && !sched.go.load(std::memory_order_acquire); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto start = sched.start, t_end = sched.end;
  // Step k belongs to connection k % count, in round k / count; every connection gets
  // write_bytes per `interval`. burst: a round's writes are all due at its start, as when one
  // published frame goes to every player at once (fewest wakeups: the cheapest schedule).
  // spread: the connections' phases are spread evenly over the interval.
  const double interval_ns = double(o.write_bytes) * 8.0 / o.rate_bps * 1e9;
  const uint64_t n_conns = uint64_t(std::max(1L, count));
  auto due_ns = [&](uint64_t step) {
    double round = double(step / n_conns) * interval_ns;
    return o.spread ? round + double(step % n_conns) * interval_ns / double(n_conns) : round;
  };
  uint64_t k = 0;
  std::vector<epoll_event> events(256);
  while (true) {
    auto now = clock_type::now();
    if (now >= t_end) break;
    double elapsed = double(std::chrono::duration_cast<ns>(now - start).count());
    // Bounded catch-up per iteration (a long stall does not turn into an unbounded burst loop).
    for (int guard = 0; count && guard < 1 << 16 && due_ns(k) <= elapsed; ++guard, ++k) {
      conn& c = conns[k % n_conns];
      if (c.dead) continue;
      if (c.owed) st.late.fetch_add(1, std::memory_order_relaxed);
      c.owed += uint64_t(o.write_bytes);
      flush(c, data, st);
    }
    double wait_ns = due_ns(k) - double(std::chrono::duration_cast<ns>(clock_type::now() - start).count());
    int timeout_ms = wait_ns <= 0 ? 0 : int(std::min(100.0, std::ceil(wait_ns / 1e6)));
    int n = epoll_wait(ep, events.data(), int(events.size()), timeout_ms);
    for (int i = 0; i < n; ++i) {
      conn& c = conns[events[i].data.u64];
      if (c.owed) flush(c, data, st);
    }
  }
  for (auto& c : conns) ::close(c.fd);
  ::close(ep);
}

void usage() {
  std::puts(
      "tcp_floor: CPU floor of paced TCP fan-out over loopback\n"
      "  tcp_floor [--connections N] [--threads T] [--rate 2M] [--write-bytes 16384]\n"
      "            [--duration 10s] [--warmup 1s] [--sink-cpu C] [--writer-cpus 0,1]\n"
      "            [--phase burst|spread] [--no-nodelay] [--sink-port P] [--json]\n"
      "  tcp_floor sink --listen 127.0.0.1:PORT [--cpu C] [--max-seconds 600]\n"
      "--rate is per connection in bit/s (k/M/G suffixes). The writer's CPU is this process's\n"
      "getrusage over the measured window; the sink is a forked process pinned to --sink-cpu.\n"
      "--phase burst (default): every connection's write is due at the same instant once per\n"
      "interval, as a published frame is to all its players; spread: phases spread evenly.");
}

int sink_main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  int cpu = -1;
  double max_seconds = 600;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--listen") listen = value();
    else if (a == "--cpu") cpu = int(parse_int(value(), 0, 4095, "--cpu"));
    else if (a == "--max-seconds") max_seconds = parse_seconds(value());
    else if (a == "-h" || a == "--help") { usage(); return 0; }
    else die("unknown argument '" + a + "'");
  }
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) die("--listen wants HOST:PORT");
  raise_fd_limit();
  pin_to(cpu);
  int lfd = listen_socket(listen.substr(0, colon), int(parse_int(listen.substr(colon + 1), 0, 65535, "port")));
  std::printf("sink listening on 127.0.0.1:%d\n", bound_port(lfd));
  std::fflush(stdout);
  auto rep = run_sink(lfd, 0, max_seconds);
  std::printf("sink: %llu connections, %llu bytes, %.3f CPU-s\n", (unsigned long long)rep.accepted,
              (unsigned long long)rep.bytes, rep.cpu_seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "sink") return sink_main(argc, argv);
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--connections" || a == "-n") o.connections = parse_int(value(), 1, 100000, "--connections");
    else if (a == "--threads") o.threads = parse_int(value(), 1, 256, "--threads");
    else if (a == "--rate") o.rate_bps = parse_rate(value());
    else if (a == "--write-bytes") o.write_bytes = parse_int(value(), 1, 16 << 20, "--write-bytes");
    else if (a == "--duration") o.duration_s = parse_seconds(value());
    else if (a == "--warmup") o.warmup_s = parse_seconds(value());
    else if (a == "--sink-cpu") o.sink_cpu = int(parse_int(value(), 0, 4095, "--sink-cpu"));
    else if (a == "--sink-port") o.sink_port = int(parse_int(value(), 1, 65535, "--sink-port"));
    else if (a == "--writer-cpus") {
      std::stringstream ss(value());
      std::string part;
      while (std::getline(ss, part, ',')) o.writer_cpus.push_back(int(parse_int(part, 0, 4095, "--writer-cpus")));
    } else if (a == "--phase") {
      std::string v = value();
      if (v != "burst" && v != "spread") die("--phase is burst or spread");
      o.spread = v == "spread";
    } else if (a == "--no-nodelay") o.nodelay = false;
    else if (a == "--json") o.json = true;
    else if (a == "run") continue;
    else if (a == "-h" || a == "--help") { usage(); return 0; }
    else die("unknown argument '" + a + "' (see --help)");
  }
  if (o.duration_s <= 0) die("--duration must be positive");
  if (o.threads > o.connections) o.threads = o.connections;
  raise_fd_limit();
  std::signal(SIGPIPE, SIG_IGN);

  // The sink: a separate process, so this process's getrusage is the writer alone. Forked here
  // unless --sink-port names one started with `tcp_floor sink` (then it is not checked).
  const bool own_sink = o.sink_port == 0;
  int lfd = own_sink ? listen_socket("127.0.0.1", 0) : -1;
  int port = own_sink ? bound_port(lfd) : o.sink_port;
  int report_pipe[2];
  if (pipe2(report_pipe, O_CLOEXEC) != 0) die_errno("pipe2");
  const double sink_deadline = o.warmup_s + o.duration_s + 90;
  pid_t sink = own_sink ? fork() : 0;
  if (sink < 0) die_errno("fork");
  if (own_sink && sink == 0) {
    ::close(report_pipe[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the writer
    if (getppid() == 1) _exit(1);
    pin_to(o.sink_cpu);
    auto rep = run_sink(lfd, o.connections, sink_deadline);
    write_all(report_pipe[1], &rep, sizeof rep);
    _exit(0);
  }
  ::close(report_pipe[1]);
  if (lfd >= 0) ::close(lfd);

  std::vector<std::unique_ptr<thread_stats>> stats;
  std::vector<std::thread> threads;
  schedule sched;
  long first = 0;
  for (long t = 0; t < o.threads; ++t) {
    long count = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    int cpu = o.writer_cpus.empty() ? -1 : o.writer_cpus[size_t(t) % o.writer_cpus.size()];
    stats.push_back(std::make_unique<thread_stats>());
    threads.emplace_back(writer_thread, std::cref(o), first, count, port, cpu, std::ref(sched),
                         std::ref(*stats.back()));
    first += count;
  }
  for (int i = 0; i < 60000 && sched.ready.load() < o.threads; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (sched.ready.load() < o.threads) die("writer threads did not connect within 60 s");

  struct counts {
    uint64_t bytes = 0, writes = 0, eagain = 0, late = 0, failures = 0;
  };
  auto totals = [&] {
    counts sum;
    for (auto& s : stats) {
      sum.bytes += s->bytes.load();
      sum.writes += s->writes.load();
      sum.eagain += s->eagain.load();
      sum.late += s->late.load();
      sum.failures += s->failures.load();
    }
    return sum;
  };
  auto secs = [](double s) { return std::chrono::duration_cast<ns>(std::chrono::duration<double>(s)); };
  sched.start = clock_type::now();
  sched.end = sched.start + secs(o.warmup_s + o.duration_s);
  sched.go.store(true, std::memory_order_release);

  std::this_thread::sleep_until(sched.start + secs(o.warmup_s));
  rusage ru0{};
  getrusage(RUSAGE_SELF, &ru0);
  const double sink_cpu0 = own_sink ? proc_cpu_seconds(sink) : 0;
  const auto w0 = clock_type::now();
  const counts a = totals();

  std::this_thread::sleep_until(sched.start + secs(o.warmup_s + o.duration_s) - std::chrono::milliseconds(1));
  rusage ru1{};
  getrusage(RUSAGE_SELF, &ru1);
  const double sink_cpu1 = own_sink ? proc_cpu_seconds(sink) : 0;
  const auto w1 = clock_type::now();
  const counts b = totals();

  for (auto& th : threads) th.join();
  const counts all = totals();
  sink_report rep;
  bool got_report = own_sink && read_all(report_pipe[0], &rep, sizeof rep);
  int status = 0;
  if (own_sink) waitpid(sink, &status, 0);

  const double window = std::chrono::duration<double>(w1 - w0).count();
  const uint64_t bytes = b.bytes - a.bytes;
  const uint64_t writes = b.writes - a.writes;
  const double cpu = rusage_seconds(ru1) - rusage_seconds(ru0);
  const double user = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) + (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6;
  const double gbit = double(bytes) * 8 / 1e9;
  const double mbps = window > 0 ? double(bytes) * 8 / 1e6 / window : 0;
  const double target_mbps = o.rate_bps * double(o.connections) / 1e6;
  const double sink_cpu = sink_cpu1 - sink_cpu0;
  const double per_gbit = gbit > 0 ? cpu / gbit : 0;
  const double sink_per_gbit = gbit > 0 ? sink_cpu / gbit : 0;
  const double avg_write = writes ? double(bytes) / double(writes) : 0;
  if (o.json) {
    std::printf(
        "{\"connections\": %ld, \"threads\": %ld, \"rate_bps_per_connection\": %.0f, "
        "\"write_bytes\": %ld, \"phase\": \"%s\", \"warmup_s\": %.3f, \"window_s\": %.3f, \"target_mbps\": %.3f, "
        "\"delivered_mbps\": %.3f, \"bytes_window\": %llu, \"writes_window\": %llu, "
        "\"avg_write_bytes\": %.1f, \"writer_cpu_seconds\": %.4f, \"writer_user_seconds\": %.4f, "
        "\"writer_sys_seconds\": %.4f, \"writer_cpu_percent\": %.2f, "
        "\"writer_cpu_s_per_gbit\": %.5f, \"sink_cpu_seconds\": %.4f, \"sink_cpu_s_per_gbit\": %.5f, "
        "\"eagain\": %llu, \"late_writes\": %llu, \"failed_connections\": %llu, "
        "\"bytes_sent_total\": %llu, \"bytes_received_total\": %llu, \"sink_connections\": %llu, "
        "\"sink_ok\": %s}\n",
        o.connections, o.threads, o.rate_bps, o.write_bytes, o.spread ? "spread" : "burst", o.warmup_s, window, target_mbps, mbps,
        (unsigned long long)bytes, (unsigned long long)writes, avg_write, cpu, user, cpu - user,
        window > 0 ? cpu / window * 100 : 0, per_gbit, sink_cpu, sink_per_gbit,
        (unsigned long long)(b.eagain - a.eagain),
        (unsigned long long)(b.late - a.late), (unsigned long long)all.failures,
        (unsigned long long)all.bytes, (unsigned long long)rep.bytes,
        (unsigned long long)rep.accepted,
        got_report && rep.bytes == all.bytes && WIFEXITED(status) ? "true" : "false");
  } else {
    std::printf("tcp_floor: %ld connections x %.3f Mbit/s, %ld-byte writes (%s), %ld thread(s), %.2f s window\n",
                o.connections, o.rate_bps / 1e6, o.write_bytes, o.spread ? "spread" : "burst", o.threads, window);
    std::printf("  delivered      %10.1f Mbit/s (target %.1f)\n", mbps, target_mbps);
    std::printf("  writer CPU     %10.3f s (%.1f%% of one CPU; user %.3f, sys %.3f)\n", cpu,
                window > 0 ? cpu / window * 100 : 0, user, cpu - user);
    std::printf("  writer CPU/Gb  %10.4f CPU-s per delivered gigabit\n", per_gbit);
    std::printf("  sink CPU/Gb    %10.4f CPU-s per gigabit (sink process, not part of the floor)\n", sink_per_gbit);
    std::printf("  writes         %10llu (avg %.0f B), EAGAIN %llu, late %llu, failed conns %llu\n",
                (unsigned long long)writes, avg_write, (unsigned long long)(b.eagain - a.eagain),
                (unsigned long long)(b.late - a.late), (unsigned long long)all.failures);
    std::printf("  sink           %10llu bytes received of %llu sent, %llu connections\n",
                (unsigned long long)rep.bytes, (unsigned long long)all.bytes, (unsigned long long)rep.accepted);
  }
  if (own_sink && (!got_report || rep.bytes != all.bytes)) {
    std::fprintf(stderr, "tcp_floor: sink received %llu bytes of %llu sent\n", (unsigned long long)rep.bytes,
                 (unsigned long long)all.bytes);
    return 1;
  }
  return all.failures ? 1 : 0;
}
