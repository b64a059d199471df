#pragma once
// Which shard is the home of a name (a SIP address-of-record, an XMPP bare JID): everything
// about it lives there, and every shard can work the home out without asking. FNV-1a: stable and
// cheap, not a defence against anything.
#include <cstdint>
#include <string_view>

namespace junction {

inline unsigned home_shard(std::string_view name, unsigned shards) noexcept {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return shards ? static_cast<unsigned>(h % shards) : 0;
}

}  // namespace junction
