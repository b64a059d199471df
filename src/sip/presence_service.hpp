#pragma once
// The presence server of one shard (SIMPLE: RFC 3856 over RFC 6665, PUBLISH per RFC 3903): it
// keeps what the presentities homed on this shard published, serves their watchers'
// subscriptions, and sends each watcher a NOTIFY when the document it sees changes. With no
// publication, a presentity is "open" while it has registered contacts and "closed" otherwise,
// so phones that only register still show presence. Only this shard's thread touches it.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "sip/message.hpp"
#include "sip/publications.hpp"
#include "sip/shard_service.hpp"
#include "sip/subscriptions.hpp"
#include "users/user_directory.hpp"

namespace junction {
class shard;
}

namespace junction::sip {

class server;

class presence_service {
 public:
  presence_service(shard_service& service, server& owner, shard& home);

  // A SUBSCRIBE for the presence package, or a PUBLISH, whose presentity (canonical AOR) is
  // homed on this shard. Authentication has been done by the caller.
  // `again` handles the request again when the user store had to be asked first (the shard's
  // cache had not seen the presentity or its contact list).
  void on_subscribe(const message& request, const origin& from, const std::string& presentity,
                    const std::string& watcher, std::function<void()> again);
  void on_publish(const message& request, const origin& from, const std::string& presentity);
  // The presentity's registrations changed: its watchers see it if nothing is published.
  void on_bindings_changed(const std::string& presentity);
  // Expires publications and subscriptions, notices registrations that lapsed, and asks the
  // contact lists again about pending watchers.
  void housekeeping(sip_clock::time_point now);

  std::size_t subscriptions() const noexcept { return subscriptions_.size(); }
  std::size_t publications() const noexcept { return publications_.count(); }

 private:
  struct delivery {
    origin reach;            // where NOTIFYs go: where the SUBSCRIBE came from
    bool in_flight = false;  // one NOTIFY at a time, so they cannot overtake each other
    bool again = false;      // the state changed while one was in flight
  };

  // The document watchers of `presentity` see now.
  std::string document_of(const std::string& presentity, sip_clock::time_point now);
  // Whether the watcher may see the presentity (the configured policy and contact lists).
  // found: the watcher may watch; absent: not (yet); failed: the store is unavailable;
  // unknown: the contact list is not in this shard's cache yet (fetch it).
  users::cached may_watch(const subscription& s);
  void notify(std::uint64_t id, subscription_state state, std::string_view reason = {});
  void notify_current(std::uint64_t id) { notify(id, subscription_state::active); }
  void notify_watchers(const std::string& presentity);
  void end(std::uint64_t id, std::string_view reason);
  void report();

  shard_service& service_;
  server& owner_;
  shard& home_;
  publication_store publications_;
  subscription_table subscriptions_;
  std::unordered_map<std::uint64_t, delivery> deliveries_;
  // The document each watched presentity last showed, so unchanged state sends no NOTIFY.
  std::unordered_map<std::string, std::string> shown_;
  std::uint64_t next_id_ = 1;
  std::size_t reported_subscriptions_ = 0, reported_publications_ = 0;
};

}  // namespace junction::sip
