#pragma once
// The transactions of one transaction user (the proxy of a shard, a user agent), sans-IO: client
// and server transactions by key (top Via branch + method, RFC 3261 §17.1.3 / §17.2.3), with what
// the owner keeps beside each (where its peer is, what it belongs to), and their deadlines in
// two heaps, retransmissions and the rest, so the next wake-up is known at once, timers fire in
// time order, and an owner may wake for the rest on a coarser grid (wake_at).
//
// Client and Server are the owner's entry types; each has a member `tx` (client_transaction /
// server_transaction). After feeding a transaction anything (a response, an ACK, a
// retransmission) the owner calls touched(): the new deadline is queued and a terminated
// transaction goes. Entries are node-based: a reference stays valid while others are added.
#include <algorithm>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/transaction.hpp"

namespace junction::sip {

template <class Client, class Server>
class transaction_table {
 public:
  // Adds (or replaces) an entry whose transaction was just started or answered.
  Client& put_client(std::string key, Client entry) {
    auto [it, _] = clients_.insert_or_assign(std::move(key), std::move(entry));
    queue(it->first, false, it->second.tx);
    return it->second;
  }
  Server& put_server(std::string key, Server entry) {
    auto [it, _] = servers_.insert_or_assign(std::move(key), std::move(entry));
    queue(it->first, true, it->second.tx);
    return it->second;
  }

  Client* client(const std::string& key) {
    auto it = clients_.find(key);
    return it == clients_.end() ? nullptr : &it->second;
  }
  Server* server(const std::string& key) {
    auto it = servers_.find(key);
    return it == servers_.end() ? nullptr : &it->second;
  }
  bool has_server(const std::string& key) const { return servers_.contains(key); }

  // The transaction under `key` was fed something: its deadline is queued again, and it goes
  // when it has terminated.
  void touched_client(const std::string& key) { touched(clients_, key, false); }
  void touched_server(const std::string& key) { touched(servers_, key, true); }

  // When the next transaction timer is due; nothing when none is.
  std::optional<tx_clock::time_point> deadline() {
    drop_stale(resends_);
    drop_stale(ends_);
    if (resends_.empty() && ends_.empty()) return std::nullopt;
    if (resends_.empty()) return ends_.top().at;
    if (ends_.empty()) return resends_.top().at;
    return std::min(resends_.top().at, ends_.top().at);
  }

  // When to wake for the timers: a retransmission rounded up to `resend_grid`, the end of a
  // transaction (a timeout, Timers D, I, J, K, which only free it) up to `end_grid`. A shard
  // ending hundreds of transactions a second so wakes a few times a second for them.
  std::optional<tx_clock::time_point> wake_at(tx_clock::duration resend_grid, tx_clock::duration end_grid) {
    drop_stale(resends_);
    drop_stale(ends_);
    std::optional<tx_clock::time_point> at;
    if (!resends_.empty()) at = round_up(resends_.top().at, resend_grid);
    if (!ends_.empty()) {
      auto end = round_up(ends_.top().at, end_grid);
      if (!at || end < *at) at = end;
    }
    return at;
  }

  // Fires every transaction timer due at `now`, earliest first. `on_client(key, entry, effects)`
  // and `on_server(key, entry, effects)` send the effects and act on a timeout; they may add
  // transactions. Terminated transactions go afterwards.
  void run_timers(tx_clock::time_point now,
                  const std::function<void(const std::string&, Client&, const tx_effects&)>& on_client,
                  const std::function<void(const std::string&, Server&, const tx_effects&)>& on_server) {
    for (;;) {
      const bool resend = !resends_.empty() && resends_.top().at <= now &&
                          (ends_.empty() || resends_.top().at <= ends_.top().at);
      auto& from = resend ? resends_ : ends_;  // the earlier of the two tops
      if (from.empty() || from.top().at > now) break;
      auto d = from.top();
      from.pop();
      if (d.server) fire(servers_, d, now, on_server);
      else fire(clients_, d, now, on_client);
    }
  }

  std::size_t size() const noexcept { return clients_.size() + servers_.size(); }
  std::size_t clients() const noexcept { return clients_.size(); }
  std::size_t servers() const noexcept { return servers_.size(); }

 private:
  struct due {
    tx_clock::time_point at;
    std::string key;
    bool server;
    bool operator>(const due& o) const noexcept { return at > o.at; }
  };

  using heap = std::priority_queue<due, std::vector<due>, std::greater<>>;

  template <class Tx>
  void queue(const std::string& key, bool server, const Tx& tx) {
    if (auto at = tx.deadline()) (tx.deadline_resends() ? resends_ : ends_).push(due{*at, key, server});
  }

  static tx_clock::time_point round_up(tx_clock::time_point at, tx_clock::duration grid) noexcept {
    if (grid <= tx_clock::duration::zero()) return at;
    const auto rest = at.time_since_epoch() % grid;
    return rest == tx_clock::duration::zero() ? at : at + (grid - rest);
  }

  template <class Map>
  void touched(Map& map, const std::string& key, bool server) {
    auto it = map.find(key);
    if (it == map.end()) return;
    if (it->second.tx.state() == tx_state::terminated) {
      map.erase(it);
      return;
    }
    queue(key, server, it->second.tx);
  }

  // A queued deadline is stale when its transaction went or wants another time (the other
  // time has its own entry in the heap).
  template <class Map>
  static bool current(Map& map, const due& d) {
    auto it = map.find(d.key);
    if (it == map.end()) return false;
    auto at = it->second.tx.deadline();
    return at && *at == d.at;
  }
  void drop_stale(heap& h) {
    while (!h.empty() && !(h.top().server ? current(servers_, h.top()) : current(clients_, h.top()))) h.pop();
  }

  template <class Map, class Callback>
  void fire(Map& map, const due& d, tx_clock::time_point now, const Callback& callback) {
    auto it = map.find(d.key);
    if (it == map.end()) return;
    auto at = it->second.tx.deadline();
    if (!at || *at > now) return;  // moved on since this deadline was queued
    auto effects = it->second.tx.on_timer(now);
    callback(it->first, it->second, effects);
    touched(map, d.key, d.server);  // found again: the callback may have added entries
  }

  std::unordered_map<std::string, Client> clients_;
  std::unordered_map<std::string, Server> servers_;
  heap resends_;  // Timers A, E, G
  heap ends_;     // the rest
};

}  // namespace junction::sip
