#include "users/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

#include "core/base64.hpp"

namespace junction::users {
namespace {

class scram_category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "users.scram"; }
  std::string message(int e) const override {
    switch (static_cast<scram_errc>(e)) {
      case scram_errc::malformed: return "malformed SCRAM message";
      case scram_errc::unsupported_binding: return "channel binding type not supported here";
      case scram_errc::binding_downgrade: return "client could bind the channel but did not (downgrade)";
      case scram_errc::binding_mismatch: return "channel binding data do not match";
      case scram_errc::nonce_mismatch: return "nonce does not match";
      case scram_errc::invalid_proof: return "wrong credentials";
      case scram_errc::out_of_order: return "SCRAM message out of order";
    }
    return "unknown SCRAM error";
  }
};

const EVP_MD* digest_of(scram_hash h) { return h == scram_hash::sha1 ? EVP_sha1() : EVP_sha256(); }

std::string hmac(scram_hash h, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(digest_of(h), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &length))
    return {};
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string hash_of(scram_hash h, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!EVP_Digest(data.data(), data.size(), out, &length, digest_of(h), nullptr)) return {};
  return std::string(reinterpret_cast<const char*>(out), length);
}

// saslname (RFC 5802 §7): ',' and '=' are written "=2C" and "=3D"; any other '=' is an error.
bool decode_saslname(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == ',') return false;
    if (in[i] != '=') {
      out += in[i];
      continue;
    }
    if (in.substr(i + 1, 2) == "2C") out += ',';
    else if (in.substr(i + 1, 2) == "3D") out += '=';
    else return false;
    i += 2;
  }
  return !out.empty();
}

bool printable_nonce(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return true;
}

// The next attribute "x=value" of a comma-separated message, from `pos`.
bool next_attribute(std::string_view message, std::size_t& pos, char& name, std::string_view& value) {
  if (pos >= message.size()) return false;
  const auto comma = message.find(',', pos);
  std::string_view attribute = message.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
  pos = comma == std::string_view::npos ? message.size() : comma + 1;
  if (attribute.size() < 2 || attribute[1] != '=') return false;
  name = attribute[0];
  value = attribute.substr(2);
  return true;
}

}  // namespace

const std::error_category& scram_category() noexcept {
  static const scram_category_impl category;
  return category;
}

std::error_code make_error_code(scram_errc e) noexcept { return {static_cast<int>(e), scram_category()}; }

scram_keys derive_scram_keys(scram_hash hash, std::string_view password, std::string_view salt,
                             std::uint32_t iterations) {
  const EVP_MD* md = digest_of(hash);
  std::string salted(static_cast<std::size_t>(EVP_MD_get_size(md)), '\0');
  if (!PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                         reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                         static_cast<int>(iterations), md, static_cast<int>(salted.size()),
                         reinterpret_cast<unsigned char*>(salted.data())))
    throw std::runtime_error("PBKDF2 failed");
  scram_keys keys;
  keys.salt = std::string(salt);
  keys.iterations = iterations;
  keys.stored_key = hash_of(hash, hmac(hash, salted, "Client Key"));
  keys.server_key = hmac(hash, salted, "Server Key");
  OPENSSL_cleanse(salted.data(), salted.size());
  return keys;
}

scram_keys make_scram_keys(scram_hash hash, std::string_view password, std::uint32_t iterations) {
  std::string salt(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) != 1)
    throw std::runtime_error("no random bytes for a SCRAM salt");
  return derive_scram_keys(hash, password, salt, iterations);
}

scram_server::scram_server(scram_hash hash, bool plus, std::vector<binding> bindings, bool plus_offered)
    : hash_(hash), plus_(plus), bindings_(std::move(bindings)), plus_offered_(plus_offered || plus) {}

std::error_code scram_server::client_first(std::string_view message) {
  if (step_ != step::first) return scram_errc::out_of_order;
  // gs2-header: cbind-flag "," [authzid] ","
  const auto first_comma = message.find(',');
  if (first_comma == std::string_view::npos) return scram_errc::malformed;
  const auto second_comma = message.find(',', first_comma + 1);
  if (second_comma == std::string_view::npos) return scram_errc::malformed;
  const std::string_view flag = message.substr(0, first_comma);
  const std::string_view authz = message.substr(first_comma + 1, second_comma - first_comma - 1);
  if (flag == "n" || flag == "y") {
    if (plus_) return scram_errc::malformed;  // a -PLUS mechanism binds, always
    if (flag == "y" && plus_offered_) return scram_errc::binding_downgrade;
  } else if (flag.starts_with("p=")) {
    if (!plus_) return scram_errc::malformed;
    const std::string_view type = flag.substr(2);
    auto chosen = std::find_if(bindings_.begin(), bindings_.end(), [&](const binding& b) { return b.type == type; });
    if (chosen == bindings_.end() || chosen->data.empty()) return scram_errc::unsupported_binding;
    binding_data_ = chosen->data;
  } else {
    return scram_errc::malformed;
  }
  if (!authz.empty()) {
    if (!authz.starts_with("a=") || !decode_saslname(authz.substr(2), authzid_)) return scram_errc::malformed;
  }
  gs2_header_ = std::string(message.substr(0, second_comma + 1));
  client_first_bare_ = std::string(message.substr(second_comma + 1));
  // client-first-message-bare: [m=..,] n=saslname "," r=nonce ["," extensions]
  std::size_t pos = 0;
  char name = 0;
  std::string_view value;
  const std::string_view bare = client_first_bare_;
  if (!next_attribute(bare, pos, name, value)) return scram_errc::malformed;
  if (name == 'm') return scram_errc::malformed;  // mandatory extensions: none is supported
  if (name != 'n' || !decode_saslname(value, username_)) return scram_errc::malformed;
  if (!next_attribute(bare, pos, name, value) || name != 'r' || !printable_nonce(value)) return scram_errc::malformed;
  nonce_ = std::string(value);
  // Extensions may follow, each an attribute of its own.
  while (pos < bare.size())
    if (!next_attribute(bare, pos, name, value)) return scram_errc::malformed;
  if (!bare.empty() && bare.back() == ',') return scram_errc::malformed;
  step_ = step::final;
  return {};
}

std::string scram_server::server_first(const scram_keys& keys, std::string_view server_nonce, std::string_view secret) {
  real_user_ = !keys.empty();
  if (real_user_) {
    keys_ = keys;
  } else {
    // Made-up keys, the same for the same name (so that asking twice tells nothing).
    keys_.salt = hmac(scram_hash::sha256, secret, "salt:" + username_).substr(0, 16);
    keys_.iterations = scram_default_iterations;
    keys_.stored_key = hmac(hash_, secret, "stored:" + username_);
    keys_.server_key = hmac(hash_, secret, "server:" + username_);
  }
  nonce_ += server_nonce;
  server_first_ = "r=" + nonce_ + ",s=" + base64::encode(keys_.salt) + ",i=" + std::to_string(keys_.iterations);
  return server_first_;
}

std::error_code scram_server::client_final(std::string_view message, std::string& server_final) {
  if (step_ != step::final || server_first_.empty()) return scram_errc::out_of_order;
  step_ = step::done;
  const auto proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return scram_errc::malformed;
  const std::string_view without_proof = message.substr(0, proof_at);
  const auto proof = base64::decode(message.substr(proof_at + 3));
  if (!proof) return scram_errc::malformed;
  std::size_t pos = 0;
  char name = 0;
  std::string_view value;
  if (!next_attribute(without_proof, pos, name, value) || name != 'c') return scram_errc::malformed;
  const auto binding = base64::decode(value);
  if (!binding) return scram_errc::malformed;
  if (*binding != gs2_header_ + binding_data_)
    return scram_errc::binding_mismatch;
  if (!next_attribute(without_proof, pos, name, value) || name != 'r') return scram_errc::malformed;
  if (value != nonce_) return scram_errc::nonce_mismatch;
  const std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const std::string signature = hmac(hash_, keys_.stored_key, auth_message);
  if (proof->size() != signature.size() || signature.empty()) return scram_errc::invalid_proof;
  std::string client_key(signature.size(), '\0');
  for (std::size_t i = 0; i < signature.size(); ++i) client_key[i] = static_cast<char>((*proof)[i] ^ signature[i]);
  const std::string stored = hash_of(hash_, client_key);
  if (!real_user_ || stored.size() != keys_.stored_key.size() ||
      CRYPTO_memcmp(stored.data(), keys_.stored_key.data(), stored.size()) != 0)
    return scram_errc::invalid_proof;
  server_final = "v=" + base64::encode(hmac(hash_, keys_.server_key, auth_message));
  return {};
}

}  // namespace junction::users
