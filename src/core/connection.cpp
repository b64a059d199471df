#include "core/connection.hpp"

#include "core/shard.hpp"

#include <fmt/format.h>

namespace junction {

source_limit::source_limit(std::size_t max_per_source)
    : max_{max_per_source}, counts_{std::make_unique<std::atomic<std::uint32_t>[]>(slots)} {}

std::uint32_t source_limit::slot_of(const boost::asio::ip::address& source) noexcept {
  // FNV-1a over the address bytes (an IPv6 address's first 8: its /64). Mapped IPv4 counts as IPv4.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const unsigned char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  if (source.is_v6() && !source.to_v6().is_v4_mapped()) {
    auto b = source.to_v6().to_bytes();
    mix(b.data(), 8);
  } else {
    auto b = source.is_v4() ? source.to_v4().to_bytes()
                            : boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, source.to_v6()).to_bytes();
    mix(b.data(), b.size());
  }
  return static_cast<std::uint32_t>((h ^ (h >> 32)) & (slots - 1));
}

std::optional<std::uint32_t> source_limit::try_acquire(const boost::asio::ip::address& source) noexcept {
  const auto slot = slot_of(source);
  if (counts_[slot].fetch_add(1, std::memory_order_relaxed) < max_ || max_ == 0) return slot;
  counts_[slot].fetch_sub(1, std::memory_order_relaxed);
  return std::nullopt;
}

connection::connection(shard& home, connection_ticket ticket, const connection_metrics& metrics,
                       std::string_view protocol, std::string peer, std::function<void()> close)
    : home_{home},
      ticket_{std::move(ticket)},
      metrics_{metrics},
      protocol_{protocol},
      peer_{std::move(peer)},
      close_{std::move(close)},
      since_{std::chrono::steady_clock::now()},
      id_{home.connections().add(*this)} {
  home_.metrics().add(metrics_.accepted);
  home_.metrics().add(metrics_.active);
}

connection::~connection() {
  home_.connections().remove(id_);
  home_.metrics().sub(metrics_.active);
}

void connection::received(std::size_t n) noexcept {
  bytes_in_ += n;
  home_.metrics().add(metrics_.bytes_in, n);
}

void connection::sent(std::size_t n) noexcept {
  bytes_out_ += n;
  home_.metrics().add(metrics_.bytes_out, n);
}

void connection::count_error() noexcept { home_.metrics().add(metrics_.errors); }
void connection::count_timeout() noexcept { home_.metrics().add(metrics_.timeouts); }

connection_info connection::info() const {
  std::chrono::duration<double> age = std::chrono::steady_clock::now() - since_;
  return {id_,   home_.index(), std::string{protocol_}, peer_, age.count(), idle_, bytes_in_,
          bytes_out_};
}

std::uint64_t connection_registry::add(connection& c) {
  auto id = (std::uint64_t{shard_index_} << 48) | next_++;
  by_id_.emplace(id, &c);
  return id;
}

connection* connection_registry::find(std::uint64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<connection_info> connection_registry::list() const {
  std::vector<connection_info> out;
  out.reserve(by_id_.size());
  for (const auto& [id, c] : by_id_) out.push_back(c->info());
  return out;
}

template <class Pred>
void connection_registry::close_if(Pred pred) {
  // Closing may destroy a connection (and so erase it from the map) later, not now: sessions
  // notice the closed socket on their next resumption. Collect first, then close.
  std::vector<connection*> chosen;
  for (const auto& [id, c] : by_id_)
    if (pred(*c)) chosen.push_back(c);
  for (auto* c : chosen) c->close();
}

void connection_registry::close_idle() {
  close_if([](const connection& c) { return c.idle(); });
}
void connection_registry::close_all() {
  close_if([](const connection&) { return true; });
}

std::string peer_text(const boost::asio::ip::address& address, std::uint16_t port) {
  return address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), port)
                         : fmt::format("{}:{}", address.to_string(), port);
}

std::string peer_of(const boost::asio::ip::tcp::socket& socket, boost::asio::ip::address& address) {
  boost::system::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  address = peer.address();
  return peer_text(address, peer.port());
}

}  // namespace junction
