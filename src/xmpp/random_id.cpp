#include "xmpp/random_id.hpp"

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "core/base64.hpp"

namespace junction::xmpp {

std::string random_id(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) == 1)
    return base64::encode({reinterpret_cast<const char*>(raw.data()), raw.size()}, base64::alphabet::url, false);
  static std::atomic<std::uint64_t> counter{0};
  return "j" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "-" +
         std::to_string(counter.fetch_add(1));
}

}  // namespace junction::xmpp
