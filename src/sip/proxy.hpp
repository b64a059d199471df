#pragma once
// The stateful proxy of one shard (RFC 3261 §16): server transactions for the requests it
// forwards, a client transaction per branch (parallel forking to every binding), best-response
// selection, CANCEL propagation, hop-by-hop ACK of failures, and stateless relay of the ACKs of
// 2xx. Transactions live on this shard; responses reach it because each branch names the shard
// (proxy_messages.hpp), whichever shard's socket they arrive on.
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/message.hpp"
#include "sip/transaction.hpp"
#include "sip/transaction_table.hpp"
#include "sip/shard_service.hpp"

namespace junction {
class shard;
}

namespace junction::sip {

// One place to send a forwarded request: the address, and the Request-URI and Route set the
// copy carries there.
struct hop {
  origin peer;
  std::string request_uri;
  std::vector<std::string> routes;  // Route values to put first (a binding's Path)
};

class proxy_engine {
 public:
  proxy_engine(shard_service& service, shard& home, const timer_values& timers);
  ~proxy_engine();
  void start();

  // A request that belongs to a transaction already here: a retransmission, the ACK of a
  // non-2xx answer, or a CANCEL. Handles it and returns true; false when it is new.
  bool absorb(const message& request, const origin& reply_to);
  // Forwards a new request to every hop at once; `reply_to` is where its responses go.
  void forward(message request, const origin& reply_to, const std::vector<hop>& hops);
  // The ACK of a 2xx: end to end, no transaction (RFC 3261 §16.11 step... relayed statelessly).
  void relay_ack(message ack, const hop& next);
  // A request this server sends itself (a stored MESSAGE): client transactions only, one per
  // hop. `build` writes the request for a hop given the Via to put on it; `done` hears the
  // final status (408 when no branch answered, 500 when none could be sent).
  using request_builder = std::function<std::string(const hop&, const std::string& via)>;
  void originate(const request_builder& build, const std::vector<hop>& hops, std::function<void(int)> done);
  // A response whose branch names this shard.
  void on_response(message response);

  std::size_t transactions() const noexcept;

 private:
  struct context;
  struct server_entry;
  struct client_entry;

  void send_effects(const tx_effects& effects, const origin& to);
  // The timer loop wakes for the table's next deadline: earlier than it waits for, it re-arms.
  void rearm();
  void on_timers(tx_clock::time_point now);
  void branch_final(const std::shared_ptr<context>& ctx, std::size_t branch, int status,
                    const message* response);
  // A response to the caller; `from_branch` when it is a branch's (its body may need rewriting).
  void relay_to_caller(const std::shared_ptr<context>& ctx, int status, std::string bytes,
                       std::optional<std::size_t> from_branch = std::nullopt);
  void cancel_pending(const std::shared_ptr<context>& ctx, std::size_t except);
  void notify_final(const std::shared_ptr<context>& ctx, int status);
  // Sends `wire` (a request with our Via on top) to `to` as branch `branch` of `ctx`. `sent` is
  // the message `wire` was written from, when there is one (its header fields are what ACK and
  // CANCEL copy); without it `wire` is parsed back.
  bool start_branch(const std::shared_ptr<context>& ctx, const std::string& branch, std::string wire,
                    const origin& to, std::optional<message> sent = std::nullopt);
  std::string our_via(const origin& next, const std::string& branch) const;
  // A Record-Route facing `side` (see forward()).
  std::string facing(const origin& side, std::string_view call_id, const std::string& common) const;

  shard_service& service_;
  shard& home_;
  timer_values timers_;
  std::uint64_t next_branch_ = 1;
  std::unique_ptr<transaction_table<client_entry, server_entry>> table_;  // entries are defined in proxy.cpp
  std::optional<tx_clock::time_point> next_wake();  // when the timers want the shard, on their grids
  boost::asio::steady_timer timer_;
  tx_clock::time_point armed_for_ = tx_clock::time_point::max();
};

}  // namespace junction::sip
