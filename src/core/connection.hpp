#pragma once
// Book-keeping for open connections: a process-wide limit, and a per-shard registry that lets the
// shard list its connections, close idle ones when draining, and close any one on request.
#include "core/metrics.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace junction {

class shard;

// Caps the connections open at once across all shards. Checked once per accept, never on the
// media path, so one shared atomic is cheap enough.
class connection_limit {
 public:
  explicit connection_limit(std::size_t max) : max_{max} {}
  bool try_acquire() noexcept {
    if (open_.fetch_add(1, std::memory_order_relaxed) < max_) return true;
    open_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void force_acquire() noexcept { open_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept { open_.fetch_sub(1, std::memory_order_relaxed); }
  std::size_t open() const noexcept { return open_.load(std::memory_order_relaxed); }
  std::size_t max() const noexcept { return max_; }

 private:
  std::size_t max_;
  std::atomic<std::size_t> open_{0};
};

// Caps the connections one source holds at once, across all shards: one peer must not take every
// connection the server has (server.max_connections_per_source). A source is an IPv4 address or
// an IPv6 /64 (what one host can choose from). Counters sit in a fixed table indexed by a hash
// of the source: no lock, no allocation per connection; two sources that share a slot share its
// limit, which can only make it stricter.
class source_limit {
 public:
  static constexpr std::size_t slots = 1 << 16;
  explicit source_limit(std::size_t max_per_source);
  // The slot taken for `source`, or nullopt when it holds max_per_source already.
  std::optional<std::uint32_t> try_acquire(const boost::asio::ip::address& source) noexcept;
  void release(std::uint32_t slot) noexcept { counts_[slot].fetch_sub(1, std::memory_order_relaxed); }
  std::size_t max() const noexcept { return max_; }
  static std::uint32_t slot_of(const boost::asio::ip::address& source) noexcept;

 private:
  std::size_t max_;  // 0: no limit
  std::unique_ptr<std::atomic<std::uint32_t>[]> counts_;
};

// One acquired slot of a connection_limit (and of a source_limit); gives them back when destroyed.
class connection_ticket {
 public:
  connection_ticket() = default;
  explicit connection_ticket(connection_limit* limit, source_limit* sources = nullptr, std::uint32_t slot = 0)
      : limit_{limit}, sources_{sources}, slot_{slot} {}
  connection_ticket(connection_ticket&& o) noexcept
      : limit_{std::exchange(o.limit_, nullptr)}, sources_{std::exchange(o.sources_, nullptr)}, slot_{o.slot_} {}
  connection_ticket& operator=(connection_ticket&& o) noexcept {
    if (this != &o) {
      reset();
      limit_ = std::exchange(o.limit_, nullptr);
      sources_ = std::exchange(o.sources_, nullptr);
      slot_ = o.slot_;
    }
    return *this;
  }
  ~connection_ticket() { reset(); }
  void reset() noexcept {
    if (limit_) std::exchange(limit_, nullptr)->release();
    if (sources_) std::exchange(sources_, nullptr)->release(slot_);
  }

 private:
  connection_limit* limit_ = nullptr;
  source_limit* sources_ = nullptr;
  std::uint32_t slot_ = 0;
};

// A slot taken whatever the cap: for work the server waits for when it stops, beyond the
// connection that began it (a gateway line's BYE and unregistration after its RTMP client left).
// "192.0.2.1:5060" or "[2001:db8::1]:5060": how logs, APIs and hooks name a peer.
std::string peer_text(const boost::asio::ip::address& address, std::uint16_t port);
// A connected socket's peer as text ("unknown" when it has none any more), and its address.
std::string peer_of(const boost::asio::ip::tcp::socket& socket, boost::asio::ip::address& address);

inline connection_ticket hold_open(connection_limit& limit) noexcept {
  limit.force_acquire();
  return connection_ticket{&limit};
}

// What /api/v1/connections shows of one connection.
struct connection_info {
  std::uint64_t id;
  unsigned shard;
  std::string protocol;
  std::string peer;
  double age_seconds;
  bool idle;
  std::uint64_t bytes_in, bytes_out;
};

// A session's registration on its shard: counts the connection as active while it lives and
// carries its byte counters. Created and destroyed on the owning shard's thread only.
class connection {
 public:
  connection(shard& home, connection_ticket ticket, const connection_metrics& metrics,
             std::string_view protocol, std::string peer, std::function<void()> close);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  std::uint64_t id() const noexcept { return id_; }
  shard& home() const noexcept { return home_; }
  const std::string& peer() const noexcept { return peer_; }
  std::string_view protocol() const noexcept { return protocol_; }

  // An idle connection (between requests) is closed at once when the shard drains; a busy one is
  // left to finish what it is doing.
  void set_idle(bool idle) noexcept { idle_ = idle; }
  bool idle() const noexcept { return idle_; }
  void received(std::size_t n) noexcept;
  void sent(std::size_t n) noexcept;
  void count_error() noexcept;
  void count_timeout() noexcept;
  void close() { if (close_) close_(); }
  connection_info info() const;

 private:
  shard& home_;
  connection_ticket ticket_;
  const connection_metrics& metrics_;
  std::string_view protocol_;
  std::string peer_;
  std::function<void()> close_;
  std::chrono::steady_clock::time_point since_;
  std::uint64_t id_;
  std::uint64_t bytes_in_ = 0, bytes_out_ = 0;
  bool idle_ = false;
};

// The connections of one shard. Only that shard's thread touches it.
class connection_registry {
 public:
  explicit connection_registry(unsigned shard_index) : shard_index_{shard_index} {}
  std::uint64_t add(connection& c);
  void remove(std::uint64_t id) { by_id_.erase(id); }
  connection* find(std::uint64_t id) const;
  std::size_t size() const noexcept { return by_id_.size(); }
  std::vector<connection_info> list() const;
  void close_idle();
  void close_all();

  // Which shard a connection id belongs to: the shard index is in the top 16 bits.
  static unsigned shard_of(std::uint64_t id) noexcept { return static_cast<unsigned>(id >> 48); }

 private:
  template <class Pred>
  void close_if(Pred pred);
  unsigned shard_index_;
  std::uint64_t next_ = 1;
  std::unordered_map<std::uint64_t, connection*> by_id_;
};

}  // namespace junction
