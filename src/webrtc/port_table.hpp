#pragma once
// Which peer a datagram on a shared WebRTC port belongs to (the way mediasoup's WebRtcServer
// demultiplexes): a STUN check names its peer in USERNAME (the local ufrag, before the colon),
// and a source address that a peer's check came from and was answered is that peer's from then
// on, for DTLS and SRTP too. One table per shard's port; sans-IO.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/ip/udp.hpp>

namespace junction::webrtc {

class port_table {
 public:
  using peer_id = std::uint64_t;
  using endpoint = boost::asio::ip::udp::endpoint;

  // A peer that answers checks to `local_ufrag`. False when the ufrag is taken.
  bool add(std::string local_ufrag, peer_id id);
  // Forgets the peer: its ufrag and every address learned for it.
  void remove(peer_id id);
  // `from` belongs to `id` (after a check from it was answered). An address another peer had
  // moves to this one: the latest answered check wins.
  void learn(const endpoint& from, peer_id id);

  // The peer a datagram is for: by the USERNAME of a STUN message, else by its source. Nothing
  // for a stranger (the caller drops and counts it).
  std::optional<peer_id> route(std::span<const std::uint8_t> datagram, const endpoint& from) const;

  std::size_t peers() const noexcept { return by_ufrag_.size(); }
  std::size_t addresses() const noexcept { return by_address_.size(); }

 private:
  struct endpoint_hash {
    std::size_t operator()(const endpoint& e) const noexcept;
  };
  std::unordered_map<std::string, peer_id> by_ufrag_;
  std::unordered_map<peer_id, std::string> ufrag_of_;
  std::unordered_map<endpoint, peer_id, endpoint_hash> by_address_;
};

// The local ufrag a STUN message's USERNAME names ("<local>:<remote>"), its integrity not checked
// (the peer's ICE agent does that): empty when the datagram is not STUN or has no USERNAME.
std::string_view username_local_part(std::span<const std::uint8_t> datagram);

}  // namespace junction::webrtc
