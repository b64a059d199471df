#pragma once
// The event state compositor's store (RFC 3903): what each presentity's devices published, as
// soft state with an entity-tag per publication, refreshed, modified and removed by SIP-If-Match,
// and expiring unless refreshed. Pure: every call is told the time.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/location.hpp"

namespace junction::sip {

struct publish_request {
  std::string_view aor;                    // the presentity (canonical, "sip:alice@example.com")
  std::optional<std::string_view> if_match;  // SIP-If-Match
  std::optional<std::uint32_t> expires;    // Expires header
  std::string_view body;                   // empty: a refresh or a removal
};

struct publish_outcome {
  int status = 200;              // 200, 400, 412, 423, 403 (too many)
  std::string_view reason{};     // for statuses other than 200
  std::string etag{};            // SIP-ETag of a 200
  std::uint32_t expires = 0;     // Expires of a 200 (0: removed)
  std::uint32_t min_expires = 0; // Min-Expires of a 423
  bool changed = false;          // the presentity's document may read differently now
};

struct publication_limits {
  std::uint32_t min_expires = 60;
  std::uint32_t max_expires = 3600;
  std::uint32_t default_expires = 3600;
  std::size_t per_presentity = 16;
};

class publication_store {
 public:
  publication_store(publication_limits limits, std::uint64_t etag_seed) : limits_(limits), next_etag_(etag_seed) {}

  publish_outcome apply(const publish_request& request, sip_clock::time_point now);
  // The document watchers of `aor` are shown: the most recently published one, when any is live.
  std::optional<std::string_view> current(std::string_view aor, sip_clock::time_point now) const;
  // Drops expired publications; returns the presentities whose document changed.
  std::vector<std::string> purge(sip_clock::time_point now);
  std::size_t count() const noexcept { return count_; }

 private:
  struct publication {
    std::string etag;
    std::string body;
    sip_clock::time_point expires_at;
    std::uint64_t version = 0;  // when its body was last set: the newest body wins
  };
  std::string fresh_etag();

  publication_limits limits_;
  std::uint64_t next_etag_;
  std::uint64_t version_ = 0;
  std::map<std::string, std::vector<publication>, std::less<>> by_aor_;
  std::size_t count_ = 0;
};

}  // namespace junction::sip
