#include "gateway/login_guard.hpp"

#include "core/ascii.hpp"
#include "core/cross_shard.hpp"
#include "core/runtime.hpp"
#include "core/log.hpp"
#include "users/digest.hpp"
#include "users/user_directory.hpp"
#include "users/user_store.hpp"

#include <fmt/format.h>

namespace junction::gateway {
namespace {

// "192.0.2.1:1935" or "[2001:db8::1]:1935" -> the address.
std::string_view address_of(std::string_view peer) {
  auto colon = peer.rfind(':');
  if (colon != std::string_view::npos) peer = peer.substr(0, colon);
  if (peer.size() > 2 && peer.front() == '[' && peer.back() == ']') peer = peer.substr(1, peer.size() - 2);
  return peer;
}

}  // namespace

unsigned login_guard::shard_for(std::string_view aor, unsigned shards) noexcept {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a, case-insensitive
  for (char c : aor) h = (h ^ static_cast<unsigned char>(ascii_lower(c))) * 1099511628211ull;
  return shards == 0 ? 0 : static_cast<unsigned>(h % shards);
}

login_guard::login_guard(users::user_directory* users, const sip_config& sip, unsigned shards)
    : users_{sip.authenticate ? users : nullptr} {
  throttles_.reserve(shards);
  for (unsigned i = 0; i < shards; ++i)
    throttles_.emplace_back(users::auth_throttle::settings{.allowed = sip.auth_failures_allowed,
                                                         .max_delay = sip.auth_lockout_max});
}

boost::asio::awaitable<std::optional<std::string>> login_guard::check(runtime& rt, std::string_view peer,
                                                                     std::string_view aor_user, std::string_view user,
                                                                     std::string_view domain, std::string_view password) {
  if (!users_ || throttles_.empty()) co_return std::nullopt;
  const std::string aor = std::string{aor_user} + "@" + std::string{domain};
  const unsigned shard = shard_for(aor, static_cast<unsigned>(throttles_.size()));
  const std::string source{address_of(peer)};
  std::string realm{domain};
  for (auto& c : realm) c = ascii_lower(c);
  // The hops capture references only (see core/cross_shard.hpp); what they refer to lives here.
  auto refusal = co_await invoke_on(rt.at(shard), [this, shard, &source] { return locked(shard, source); });
  if (refusal) co_return refusal;
  std::optional<users::user_record> record;
  try {
    record = co_await users_->run([&user, &realm](users::user_store& store) { return store.find(user, realm); });
  } catch (const std::exception& e) {
    log::error("gateway: user store {}: {}", users_->path(), e.what());
    co_return std::string{"registration failed: 500 user store unavailable"};
  }
  co_return co_await invoke_on(rt.at(shard), [&, shard] {
    return judge(shard, peer, aor_user, user, realm, password, record);
  });
}

std::optional<std::string> login_guard::locked(unsigned shard, std::string_view source) {
  if (auto wait = throttles_.at(shard).locked_for(std::string{source}, users::auth_throttle::clock::now()); wait.count() > 0)
    return fmt::format("registration failed: 403 too many failed logins from {}; try again in {} s", source,
                       wait.count());
  return std::nullopt;
}

std::optional<std::string> login_guard::judge(unsigned shard, std::string_view peer, std::string_view aor_user,
                                              std::string_view user, std::string_view realm, std::string_view password,
                                              const std::optional<users::user_record>& record) {
  auto& throttle = throttles_.at(shard);
  const auto now = users::auth_throttle::clock::now();
  const std::string source{address_of(peer)};
  const bool right = record && users::hex_equal_constant_time(
                                   record->ha1_md5, users::ha1(users::digest_algorithm::md5, user, realm, password));
  if (right && user == aor_user) return std::nullopt;
  const bool locked = throttle.failed(source, now);
  log::throttled(log::level::info, "gateway login failure", "gateway {}: {} for {}@{} as '{}'{}", peer,
                 right ? "another user's name" : "wrong password", aor_user, realm, user,
                 locked ? " (now locked out)" : "");
  return std::string{right ? "registration failed: 403 only the address's own user may log in"
                           : "registration failed: 401 wrong user name or password"};
}

}  // namespace junction::gateway
