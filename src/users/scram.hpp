#pragma once
// SCRAM (RFC 5802, RFC 7677): the keys the user store keeps instead of a password, and the
// server's side of one exchange, sans-IO (messages in, messages out).
//
// Keys: SaltedPassword = PBKDF2(password, salt, iterations); StoredKey = H(HMAC(SaltedPassword,
// "Client Key")); ServerKey = HMAC(SaltedPassword, "Server Key"). Holding them lets a server
// check a client's proof and prove itself, not log in as the user. The password is used as the
// UTF-8 bytes given (no SASLprep: equal for the ASCII passwords that need none).
//
// Exchange: client-first ("n,,n=user,r=cnonce") -> server-first ("r=cnonce+snonce,s=salt,i=n")
// -> client-final ("c=..,r=..,p=proof") -> server-final ("v=signature"). Channel binding
// (the -PLUS mechanisms): the gs2 header's "p=<type>" with the binding data the TLS layer gives;
// a client that says "y" (it could bind but thinks the server cannot) while the server offered
// -PLUS is refused (a downgrade).
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace junction::users {

enum class scram_hash { sha1, sha256 };

struct scram_keys {
  std::string salt;            // raw bytes
  std::uint32_t iterations = 0;
  std::string stored_key;      // raw bytes, the hash's size
  std::string server_key;
  bool empty() const noexcept { return stored_key.empty(); }
};

inline constexpr std::uint32_t scram_default_iterations = 4096;

scram_keys derive_scram_keys(scram_hash hash, std::string_view password, std::string_view salt,
                             std::uint32_t iterations);
// With a fresh random 16-byte salt.
scram_keys make_scram_keys(scram_hash hash, std::string_view password,
                           std::uint32_t iterations = scram_default_iterations);

enum class scram_errc {
  malformed = 1,              // a message that does not follow RFC 5802 §7
  unsupported_binding,        // a channel binding type the server does not offer
  binding_downgrade,          // "y" while the server offered a -PLUS mechanism
  binding_mismatch,           // the c= of client-final is not the gs2 header and binding data
  nonce_mismatch,             // the client-final's nonce is not the one the server sent
  invalid_proof,              // wrong password (or no such user)
  out_of_order,               // a message the exchange does not expect now
};
const std::error_category& scram_category() noexcept;
std::error_code make_error_code(scram_errc e) noexcept;

class scram_server {
 public:
  // One channel binding this connection offers: its type ("tls-exporter") and data.
  struct binding {
    std::string type;
    std::string data;
  };
  // `plus`: the client chose a -PLUS mechanism, and binds to one of `bindings` (what this
  // connection can bind to, empty without TLS). `plus_offered`: the server listed a -PLUS
  // mechanism (so a client's "y" is a downgrade).
  explicit scram_server(scram_hash hash, bool plus = false, std::vector<binding> bindings = {},
                        bool plus_offered = false);

  // The client-first-message: who logs in. Errors: malformed, unsupported_binding,
  // binding_downgrade.
  std::error_code client_first(std::string_view message);
  const std::string& username() const noexcept { return username_; }  // "=2C"/"=3D" decoded
  const std::string& authzid() const noexcept { return authzid_; }

  // The server-first-message, with the user's keys (`keys` empty: no such user; the exchange
  // goes on with keys made up from the name and `secret`, and fails at the proof, so that a
  // client cannot tell a wrong name from a wrong password). `server_nonce`: printable, no ','.
  std::string server_first(const scram_keys& keys, std::string_view server_nonce, std::string_view secret = {});

  // The client-final-message: the server-final-message ("v=...") when the proof is right.
  std::error_code client_final(std::string_view message, std::string& server_final);

 private:
  scram_hash hash_;
  bool plus_;
  std::vector<binding> bindings_;
  std::string binding_data_;  // of the binding the client chose
  bool plus_offered_;
  enum class step { first, final, done } step_ = step::first;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
  std::string username_, authzid_;
  scram_keys keys_;
  bool real_user_ = false;
};

}  // namespace junction::users

template <>
struct std::is_error_code_enum<junction::users::scram_errc> : std::true_type {};
