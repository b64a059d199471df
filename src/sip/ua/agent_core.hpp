#pragma once
// What the parts of a user agent share (user_agent.hpp): its settings and random tokens, the
// transactions it runs (one sip::transaction_table), the requests it sends (written by
// sip::make_request and kept, so a 401/407 can be answered by sending them again with
// credentials), its responses, and the datagrams and events waiting to be taken.
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "sip/request.hpp"
#include "sip/response.hpp"
#include "sip/transaction_table.hpp"
#include "sip/ua/types.hpp"

namespace junction::sip {
class message;
}

namespace junction::sip::ua {

// What a request of ours is for: whose answer it is when it comes.
enum class purpose { registration, unregistration, invite, reinvite, cancel, bye, other };

struct client_entry {
  purpose why = purpose::other;
  client_transaction tx;
  request_spec request;  // as sent, for a retry with credentials, a CANCEL or the ACK of a failure
  std::string host, branch;
  std::uint16_t port = 0;
  bool auth_tried = false;
};

struct server_entry {
  server_transaction tx;
  std::string host;
  std::uint16_t port = 0;
};

class agent_core {
 public:
  agent_core(settings s, std::uint64_t seed);

  const settings& config() const noexcept { return s_; }
  std::string token(std::size_t hex_digits);
  std::string aor() const;      // sip:user@domain
  std::string contact() const;  // <sip:user@host:port;transport=udp>
  std::string via(const std::string& branch) const;

  // Sends a new request in a client transaction of its own, to host:port; its key in the table
  // is returned.
  std::string send(purpose why, request_spec request, std::string host, std::uint16_t port, clock::time_point now);
  // Sends the CANCEL of the INVITE under `invite_key` (the same branch, §9.1).
  void send_cancel(const std::string& invite_key, clock::time_point now);
  // Answers a 401/407 by sending the request again with credentials and CSeq `cseq` (the
  // owner's next); the new transaction's key. Nothing when it cannot (no challenge this side
  // computes, or credentials were tried already).
  std::optional<std::string> retry_with_credentials(client_entry& c, const message& response, std::uint32_t cseq,
                                                    clock::time_point now);
  // A response of ours to `request` (with our User-Agent), through its server transaction when
  // there is one, else straight to host:port.
  void respond(const message& request, int status, response_options options, std::string_view host,
               std::uint16_t port, clock::time_point now);
  // Sends a response's bytes through the server transaction under `key`.
  void respond_in(const std::string& key, int status, std::string bytes, clock::time_point now);

  void emit(const tx_effects& effects, const std::string& host, std::uint16_t port);
  void send_raw(std::string bytes, std::string host, std::uint16_t port) {
    out_.push_back({std::move(bytes), std::move(host), port});
  }
  void raise(event_t e) { events_.push_back(std::move(e)); }

  transaction_table<client_entry, server_entry>& transactions() noexcept { return table_; }
  const transaction_table<client_entry, server_entry>& transactions() const noexcept { return table_; }
  std::vector<datagram> take_output() { return std::exchange(out_, {}); }
  std::vector<event_t> take_events() { return std::exchange(events_, {}); }

 private:
  settings s_;
  std::mt19937_64 random_;
  transaction_table<client_entry, server_entry> table_;
  std::vector<datagram> out_;
  std::vector<event_t> events_;
  std::uint32_t nonce_count_ = 0;
};

}  // namespace junction::sip::ua
