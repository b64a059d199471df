#pragma once
// The notifier's side of SIP-specific event notification (RFC 6665) for the presence package
// (RFC 3856): subscription dialogs, their expiry, and the NOTIFY requests they send. Pure: the
// transport that carries a NOTIFY and the clock are the caller's.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sip/location.hpp"
#include "sip/message.hpp"

namespace junction::sip {

// An Event header (RFC 6665 §8.2.1): the package and its id parameter.
struct event_type {
  std::string package;  // lowercased: "presence"
  std::string id;       // the id parameter, or empty
};
std::optional<event_type> parse_event(std::string_view value);

enum class subscription_state { pending, active, terminated };
std::string_view state_name(subscription_state s) noexcept;

struct subscription {
  std::uint64_t id = 0;
  std::string presentity;            // canonical AOR watched ("sip:alice@example.com")
  std::string watcher;               // who watches, as "bob@example.com"
  event_type event;
  // The dialog (RFC 6665 §4.1.2.2: the SUBSCRIBE's 200 creates it; this server is its UAS).
  std::string call_id;
  std::string local_tag;             // ours: To-tag of the 200, From-tag of every NOTIFY
  std::string remote_tag;            // the SUBSCRIBE's From-tag
  std::string local_header;          // From of NOTIFYs: the SUBSCRIBE's To with our tag
  std::string remote_header;         // To of NOTIFYs: the SUBSCRIBE's From
  std::string remote_target;         // Request-URI of NOTIFYs: the SUBSCRIBE's Contact URI
  std::vector<std::string> route_set;  // the SUBSCRIBE's Record-Route values, in order
  std::uint32_t local_cseq = 0;      // of the last NOTIFY
  std::uint32_t remote_cseq = 0;     // of the last SUBSCRIBE
  subscription_state state = subscription_state::pending;
  sip_clock::time_point expires_at;
  std::uint32_t seconds_left(sip_clock::time_point now) const noexcept;
};

struct subscription_limits {
  std::uint32_t min_expires = 60;
  std::uint32_t max_expires = 3600;
  std::uint32_t default_expires = 3600;  // RFC 3856 §6.4
  std::size_t max_subscriptions = 100000;  // on one shard
};

// What a SUBSCRIBE asks of the table, decided before anything changes.
struct subscribe_outcome {
  int status = 200;                // 200; 400, 423, 481, 489, 503 refuse it
  std::string_view reason{};
  std::uint32_t expires = 0;       // granted (0: a fetch or an unsubscribe)
  std::uint32_t min_expires = 0;   // for a 423
  subscription* sub = nullptr;     // the dialog (new or refreshed) when 200
  bool created = false;
  bool retransmission = false;     // the initial SUBSCRIBE again (its 200 was lost): answer again
};

class subscription_table {
 public:
  explicit subscription_table(subscription_limits limits) : limits_(limits) {}

  // A SUBSCRIBE for `presentity` from `watcher`. Without a To-tag it creates a dialog (with
  // `local_tag` as ours); with one it refreshes (or, with Expires 0, ends) the dialog it names.
  subscribe_outcome subscribe(const message& request, std::string_view presentity, std::string_view watcher,
                              std::string_view local_tag, std::uint64_t id, sip_clock::time_point now);

  subscription* find(std::uint64_t id);
  void remove(std::uint64_t id);
  // Subscriptions to one presentity, in creation order.
  std::vector<std::uint64_t> watching(std::string_view presentity) const;
  // Subscriptions whose time is up (still in the table: the caller sends their final NOTIFY).
  std::vector<std::uint64_t> expired(sip_clock::time_point now) const;
  std::vector<std::uint64_t> all() const;
  std::size_t size() const noexcept { return by_id_.size(); }

 private:
  std::string dialog_key(std::string_view call_id, std::string_view local_tag, std::string_view remote_tag) const;
  subscription_limits limits_;
  std::map<std::uint64_t, subscription> by_id_;
  std::unordered_map<std::string, std::uint64_t> by_dialog_;
  std::multimap<std::string, std::uint64_t, std::less<>> by_presentity_;
};

struct notify_content {
  subscription_state state = subscription_state::active;
  std::uint32_t expires = 0;        // what Subscription-State says is left (active, pending)
  std::string_view reason;          // terminated: "timeout", "noresource", "deactivated", …
  std::string_view body;            // empty: no body (pending, or terminated without state)
};

// The next NOTIFY of `s` (its CSeq advances), with `via` as its top Via and `contact` as ours.
std::string make_notify(subscription& s, std::string_view via, std::string_view contact,
                        const notify_content& content);

}  // namespace junction::sip
