#pragma once
// [webrtc]: where WebRTC media goes (docs/webrtc.md). Each shard has one UDP port that every
// WebRTC peer of the shard shares; the candidates Junction gives name it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config_section.hpp"

namespace junction {

struct webrtc_config {
  bool enabled = true;
  // Where each shard's port binds. Loopback by default, like every listener; "0.0.0.0" with
  // --listen-all or when set.
  std::string address = "127.0.0.1";
  // The address candidates name, when it is not `address` (behind a 1:1 NAT, or a wildcard
  // bind); empty: `address` (127.0.0.1 for a wildcard).
  std::string announce;
  // The first shard's port; shard i takes port + i. 0: the kernel picks each.
  unsigned port = 0;
  std::size_t max_peers = 4096;  // per shard
  // ICE-TCP (RFC 6544): a TCP listener on each shard's port number too, named in the candidates
  // after the UDP ones, for browsers whose UDP does not get through.
  bool ice_tcp = true;
  bool address_given = false;
  friend bool operator==(const webrtc_config&, const webrtc_config&) = default;
};

void read_config(config_section& s, webrtc_config& out);

}  // namespace junction
