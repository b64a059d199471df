#include "core/connection.hpp"

#include "core/shard.hpp"

namespace junction {

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

}  // namespace junction
