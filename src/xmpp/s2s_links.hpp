#pragma once
// Federation's book-keeping on one shard (docs/xmpp.md, "Federation"):
//  - the outgoing links homed here (one per pair of Junction's domain and another server's,
//    homed by the remote domain): stanzas wait in a link's queue while its connection is made,
//    encrypted and authenticated, go out once it is, and come back as errors to their senders if
//    it cannot be;
//  - the dialback questions Junction asks other servers over those links ("is this key yours?")
//    on behalf of incoming streams, wherever those streams live;
//  - the incoming streams on this shard, which the answers reach.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "xmpp/router.hpp"

namespace junction {
class shard;
}

namespace junction::xmpp {

class server;

// An outgoing connection, as its link reaches it (s2s_session.cpp).
class s2s_outgoing {
 public:
  virtual ~s2s_outgoing() = default;
  virtual void send(const xml::element& stanza) = 0;
  virtual void ask_verify(const std::string& id, const std::string& key) = 0;
};

// An incoming stream, as a dialback verdict reaches it.
class s2s_incoming {
 public:
  virtual ~s2s_incoming() = default;
  virtual void verified(const std::string& local, const std::string& remote, bool valid) = 0;
};

struct s2s_link_summary {
  std::string local, remote;
  bool ready = false;        // authenticated: stanzas flow
  bool connecting = false;   // a connection is being made
  std::size_t queued = 0;    // stanzas waiting for it
  std::string last_error;
};

// The shard a link to `remote` lives on.
unsigned s2s_home_of(const std::string& remote, unsigned shards) noexcept;

class s2s_links {
 public:
  static constexpr std::size_t max_queued = 1000;  // stanzas waiting for one link; more are refused
  static constexpr auto retry_delay = std::chrono::seconds(5);  // after a failed attempt

  s2s_links(server& owner, shard& home);

  // On the home shard of `remote`: a stanza from a user of `local` for a JID of `remote`.
  void send(const std::string& local, const std::string& remote, const stanza_ptr& stanza);
  // On the home shard of `remote`: ask remote's server whether `key` is its, for Junction's
  // incoming stream `id`; the verdict goes to `stream` on shard `shard`.
  void ask_verify(const std::string& local, const std::string& remote, const std::string& id, const std::string& key,
                  unsigned shard, std::uint64_t stream);

  // From the link's own connection, on this shard.
  void connected(const std::string& local, const std::string& remote, s2s_outgoing& c);
  void ready(const std::string& local, const std::string& remote);
  void verify_answer(const std::string& local, const std::string& remote, const std::string& id, bool valid);
  // The connection is gone (or was never made): `reason` for the log and the errors.
  void disconnected(const std::string& local, const std::string& remote, const std::string& reason, bool timed_out);

  // Incoming streams on this shard.
  void attach(std::uint64_t id, s2s_incoming& stream) { incoming_[id] = &stream; }
  void detach(std::uint64_t id) { incoming_.erase(id); }
  void verdict(std::uint64_t stream, const std::string& local, const std::string& remote, bool valid);

  std::vector<s2s_link_summary> links() const;

 private:
  struct link {
    s2s_outgoing* conn = nullptr;  // while connected
    bool connecting = false, ready = false;
    std::deque<stanza_ptr> queue;
    std::vector<std::pair<std::string, std::string>> verifies;  // (id, key) not yet asked
    std::chrono::steady_clock::time_point retry_after{};
    std::string last_error;
  };
  struct waiting_verdict {
    unsigned shard = 0;
    std::uint64_t stream = 0;
  };
  link& open(const std::string& local, const std::string& remote);
  void answer_waiting(const std::string& local, const std::string& remote, const std::string& id, bool valid);

  server& owner_;
  shard& home_;
  std::map<std::string, link> links_;                     // "local remote"
  std::map<std::string, waiting_verdict> waiting_;        // "local remote id"
  std::unordered_map<std::uint64_t, s2s_incoming*> incoming_;
};

}  // namespace junction::xmpp
