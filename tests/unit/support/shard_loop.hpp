#pragma once
// For unit tests of code that runs on a shard: one shard whose io_context the test thread runs
// (no shard threads), plain UDP sockets playing the peers, and bounded waits for conditions.
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "core/metrics.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"

namespace junction::testing {

class shard_loop {
 public:
  using bytes = std::vector<std::uint8_t>;
  using udp = boost::asio::ip::udp;

  metric_registry registry;

  // Declare metrics on `registry` before the first call to home().
  shard& home() {
    if (!runtime_) runtime_ = std::make_unique<runtime>(runtime_options{1, false, 100}, registry);
    return runtime_->at(0);
  }
  boost::asio::io_context& io() { return home().context(); }

  static boost::asio::ip::address loopback() { return boost::asio::ip::make_address("127.0.0.1"); }

  // A non-blocking socket on a port of its own.
  udp::socket peer() {
    udp::socket s(io(), {loopback(), 0});
    s.non_blocking(true);
    return s;
  }
  // Runs the shard's loop until `done` holds or five seconds pass (a bound for busy machines).
  bool run_until(const std::function<bool()>& done) {
    using namespace std::chrono_literals;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io().restart();
      io().run_one_for(5ms);
    }
    return done();
  }
  // The next datagram a peer socket receives (empty after five seconds), and who sent it.
  bytes receive(udp::socket& s, udp::endpoint* from = nullptr) {
    run_until([&] { return s.available() > 0; });
    bytes b(2048);
    udp::endpoint source;
    boost::system::error_code ec;
    auto n = s.receive_from(boost::asio::buffer(b), source, 0, ec);
    if (ec) return {};
    b.resize(n);
    if (from) *from = source;
    return b;
  }
  // True when nothing reaches `s` while the loop runs for a tenth of a second (for what must
  // not arrive).
  bool quiet(udp::socket& s) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
    run_until([&] { return std::chrono::steady_clock::now() > until; });
    return s.available() == 0;
  }
  std::uint64_t count(metric_id id) { return home().metrics().get(id); }

 private:
  std::unique_ptr<runtime> runtime_;
};

}  // namespace junction::testing
