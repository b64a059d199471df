#pragma once
// The password of a gateway login for one of Junction's own users, checked before its line
// registers. The registrar sees the REGISTER of every line come from the gateway's one address,
// so its per-source lockout (users::auth_throttle) would lock every line out for one guesser; here
// the failures are counted against the RTMP client's own address instead, with the same
// settings (sip.auth_failures_allowed, sip.auth_lockout_max). Per shard, like the registrar's.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/config.hpp"
#include "users/auth_throttle.hpp"
#include "users/user_store.hpp"

#include <boost/asio/awaitable.hpp>

namespace junction {
class runtime;
}

namespace junction::users {
class user_directory;
}

namespace junction::gateway {

class login_guard {
 public:
  // `users` null (or sip.authenticate off): every login goes on to register unchecked.
  login_guard(users::user_directory* users, const sip_config& sip, unsigned shards);

  // From a coroutine on any shard: nullopt when the line may register, else why not
  // ("registration failed: 401 ...", "... 403 too many failed logins ..."), as the client's
  // Connect.Rejected says it. The count is kept on the address of record's shard (shard_for),
  // the user is read by the user store's worker: two hops, no disk on a shard.
  // `peer` is the RTMP client's "address:port". `user` is the name the client authenticates as;
  // the registrar lets only the address's own user (`aor_user`) register it, so another name is
  // refused (and counted) here too.
  boost::asio::awaitable<std::optional<std::string>> check(runtime& rt, std::string_view peer,
                                                          std::string_view aor_user, std::string_view user,
                                                          std::string_view domain, std::string_view password);
  // The shard that checks logins for `aor` (user@domain), so that one user's count is in one place.
  static unsigned shard_for(std::string_view aor, unsigned shards) noexcept;

 private:
  // On the counting shard: a locked-out source, and the verdict on what the store said.
  std::optional<std::string> locked(unsigned shard, std::string_view source);
  std::optional<std::string> judge(unsigned shard, std::string_view peer, std::string_view aor_user,
                                   std::string_view user, std::string_view realm, std::string_view password,
                                   const std::optional<users::user_record>& record);

  users::user_directory* users_;
  std::vector<users::auth_throttle> throttles_;  // one per shard, touched by that shard only
};

}  // namespace junction::gateway
