#include "webrtc/stun.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "media/enum_category.hpp"
#include "media/rtp/big_endian.hpp"

namespace junction::webrtc::stun {
namespace {

std::string_view describe(stun_errc e) noexcept {
  switch (e) {
    case stun_errc::not_stun: return "not a STUN message";
    case stun_errc::bad_length: return "length not a multiple of four or not the datagram's";
    case stun_errc::bad_attribute: return "an attribute runs past the end of the message";
    case stun_errc::too_many_attributes: return "too many attributes";
    case stun_errc::fingerprint_not_last: return "an attribute after FINGERPRINT";
  }
  return "malformed STUN message";
}

constexpr std::uint32_t fingerprint_xor = 0x5354554E;
constexpr std::size_t sha1_size = 20;

using media::rtp::read16;
using media::rtp::read32;
using media::rtp::store16;
using media::rtp::store32;

std::uint16_t encode_type(std::uint16_t method, message_class kind) noexcept {
  const auto c = static_cast<std::uint16_t>(kind);
  return static_cast<std::uint16_t>((method & 0x000F) | (method & 0x0070) << 1 | (method & 0x0F80) << 2 |
                                    (c & 1) << 4 | (c & 2) << 7);
}

// CRC-32 (zlib's, the one RFC 8489 §14.7 names) of `bytes`, XORed as FINGERPRINT wants it.
std::uint32_t fingerprint_of(std::span<const std::uint8_t> bytes) noexcept {
  const auto crc = ::crc32(::crc32(0L, Z_NULL, 0), bytes.data(), static_cast<uInt>(bytes.size()));
  return static_cast<std::uint32_t>(crc) ^ fingerprint_xor;
}

bool hmac_sha1(std::string_view key, std::span<const std::uint8_t> bytes, std::uint8_t* out) noexcept {
  unsigned int length = 0;
  static const unsigned char empty = 0;
  const auto* k = key.empty() ? &empty : reinterpret_cast<const unsigned char*>(key.data());
  return HMAC(EVP_sha1(), k, static_cast<int>(key.size()), bytes.data(), bytes.size(), out, &length) != nullptr &&
         length == sha1_size;
}

bool known_required(std::uint16_t type) noexcept {
  switch (type) {
    case attr::mapped_address:
    case attr::username:
    case attr::message_integrity:
    case attr::error_code:
    case attr::unknown_attributes:
    case attr::realm:
    case attr::nonce:
    case attr::message_integrity_sha256:
    case attr::userhash:
    case attr::xor_mapped_address:
    case attr::priority:
    case attr::use_candidate:
      return true;
    default:
      return false;
  }
}

}  // namespace

const std::error_category& stun_category() noexcept {
  static const enum_category<stun_errc> category{"stun", describe};
  return category;
}
std::error_code make_error_code(stun_errc e) noexcept { return {static_cast<int>(e), stun_category()}; }

bool looks_like_stun(std::span<const std::uint8_t> d) noexcept {
  return d.size() >= header_size && d[0] < 4 && read32(d.data() + 4) == magic_cookie;
}

message_view message_view::parse(std::span<const std::uint8_t> d, std::error_code& ec) {
  message_view m;
  ec.clear();
  if (!looks_like_stun(d)) {
    ec = stun_errc::not_stun;
    return m;
  }
  const std::size_t length = read16(d.data() + 2);
  if (length % 4 != 0 || length + header_size != d.size()) {
    ec = stun_errc::bad_length;
    return m;
  }
  m.bytes_ = d;
  const std::uint16_t type = read16(d.data());
  m.method_ = static_cast<std::uint16_t>((type & 0x000F) | (type & 0x00E0) >> 1 | (type & 0x3E00) >> 2);
  m.class_ = static_cast<message_class>((type >> 4 & 1) | (type >> 7 & 2));
  std::copy_n(d.data() + 8, m.id_.size(), m.id_.begin());

  std::size_t at = header_size;
  while (at < d.size()) {
    if (at + 4 > d.size()) {
      ec = stun_errc::bad_attribute;
      return m;
    }
    const std::uint16_t t = read16(d.data() + at);
    const std::size_t n = read16(d.data() + at + 2);
    const std::size_t padded = (n + 3) & ~std::size_t{3};
    if (at + 4 + padded > d.size()) {
      ec = stun_errc::bad_attribute;
      return m;
    }
    if (m.fingerprint_at_ != 0) {
      ec = stun_errc::fingerprint_not_last;
      return m;
    }
    // After MESSAGE-INTEGRITY only FINGERPRINT counts (RFC 8489 §14.5): the rest is not
    // covered by the HMAC, so it is skipped, not believed.
    const bool counted = m.integrity_at_ == 0 || t == attr::fingerprint;
    if (counted) {
      if (m.count_ == max_attributes) {
        ec = stun_errc::too_many_attributes;
        return m;
      }
      m.attributes_[m.count_++] = attribute{t, d.subspan(at + 4, n)};
      if (t == attr::message_integrity) m.integrity_at_ = at;
      if (t == attr::fingerprint) m.fingerprint_at_ = at;
    }
    at += 4 + padded;
  }
  return m;
}

std::optional<std::span<const std::uint8_t>> message_view::find(std::uint16_t type) const noexcept {
  for (std::size_t i = 0; i < count_; ++i)
    if (attributes_[i].type == type) return attributes_[i].value;
  return std::nullopt;
}

std::optional<std::string_view> message_view::username() const noexcept {
  auto v = find(attr::username);
  if (!v || v->size() > 513) return std::nullopt;  // RFC 8489 §14.3: less than 509 bytes
  return std::string_view(reinterpret_cast<const char*>(v->data()), v->size());
}

std::optional<std::uint32_t> message_view::priority() const noexcept {
  auto v = find(attr::priority);
  if (!v || v->size() != 4) return std::nullopt;
  return read32(v->data());
}

std::optional<std::uint64_t> message_view::u64(std::uint16_t type) const noexcept {
  auto v = find(type);
  if (!v || v->size() != 8) return std::nullopt;
  return std::uint64_t{read32(v->data())} << 32 | read32(v->data() + 4);
}

std::optional<boost::asio::ip::udp::endpoint> message_view::xor_mapped_address() const noexcept {
  auto v = find(attr::xor_mapped_address);
  if (!v || v->size() < 8) return std::nullopt;
  const std::uint8_t family = (*v)[1];
  const auto port = static_cast<std::uint16_t>(read16(v->data() + 2) ^ (magic_cookie >> 16));
  std::array<std::uint8_t, 16> mask{};
  store32(mask.data(), magic_cookie);
  std::copy(id_.begin(), id_.end(), mask.begin() + 4);
  if (family == 0x01 && v->size() == 8) {
    boost::asio::ip::address_v4::bytes_type b;
    for (std::size_t i = 0; i < 4; ++i) b[i] = (*v)[4 + i] ^ mask[i];
    return boost::asio::ip::udp::endpoint(boost::asio::ip::address_v4(b), port);
  }
  if (family == 0x02 && v->size() == 20) {
    boost::asio::ip::address_v6::bytes_type b;
    for (std::size_t i = 0; i < 16; ++i) b[i] = (*v)[4 + i] ^ mask[i];
    return boost::asio::ip::udp::endpoint(boost::asio::ip::address_v6(b), port);
  }
  return std::nullopt;
}

std::optional<std::pair<int, std::string_view>> message_view::error() const noexcept {
  auto v = find(attr::error_code);
  if (!v || v->size() < 4) return std::nullopt;
  const int code = ((*v)[2] & 0x07) * 100 + (*v)[3];
  if ((*v)[3] > 99 || code < 300 || code > 699) return std::nullopt;
  return std::pair{code, std::string_view(reinterpret_cast<const char*>(v->data()) + 4, v->size() - 4)};
}

std::vector<std::uint16_t> message_view::unknown_required() const {
  std::vector<std::uint16_t> out;
  for (std::size_t i = 0; i < count_; ++i) {
    const std::uint16_t t = attributes_[i].type;
    if (t < 0x8000 && !known_required(t) && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  }
  return out;
}

bool message_view::integrity_ok(std::string_view key) const noexcept {
  if (integrity_at_ == 0) return false;
  auto mac = find(attr::message_integrity);
  if (!mac || mac->size() != sha1_size) return false;
  // The HMAC covers the message up to the attribute, with a length that ends just after it
  // (so that a FINGERPRINT added later does not change it).
  // ICE's checks are a few hundred bytes; a longer one is not checked (and so not believed).
  std::array<std::uint8_t, 2048> covered;
  if (integrity_at_ > covered.size()) return false;
  std::copy_n(bytes_.data(), integrity_at_, covered.begin());
  store16(covered.data() + 2, static_cast<std::uint16_t>(integrity_at_ + 4 + sha1_size - header_size));
  std::array<std::uint8_t, sha1_size> expected;
  return hmac_sha1(key, std::span(covered.data(), integrity_at_), expected.data()) &&
         CRYPTO_memcmp(expected.data(), mac->data(), sha1_size) == 0;
}

bool message_view::fingerprint_ok() const noexcept {
  if (fingerprint_at_ == 0) return false;
  auto v = find(attr::fingerprint);
  if (!v || v->size() != 4) return false;
  // FINGERPRINT is last, so the header's length already covers it.
  return fingerprint_of(bytes_.first(fingerprint_at_)) == read32(v->data());
}

message_writer::message_writer(std::uint16_t method, message_class kind, const transaction_id& id) {
  out_.reserve(128);
  out_.resize(header_size);
  store16(out_.data(), encode_type(method, kind));
  store32(out_.data() + 4, magic_cookie);
  std::copy(id.begin(), id.end(), out_.begin() + 8);
}

message_writer& message_writer::add(std::uint16_t type, std::span<const std::uint8_t> value) {
  const std::size_t at = out_.size();
  const std::size_t n = std::min<std::size_t>(value.size(), 0xFFFF);
  out_.resize(at + 4 + ((n + 3) & ~std::size_t{3}), 0);
  store16(out_.data() + at, type);
  store16(out_.data() + at + 2, static_cast<std::uint16_t>(n));
  std::copy_n(value.data(), n, out_.begin() + static_cast<std::ptrdiff_t>(at + 4));
  return *this;
}

message_writer& message_writer::add(std::uint16_t type, std::string_view value) {
  return add(type, std::span(reinterpret_cast<const std::uint8_t*>(value.data()), value.size()));
}

message_writer& message_writer::add_u32(std::uint16_t type, std::uint32_t value) {
  std::array<std::uint8_t, 4> b;
  store32(b.data(), value);
  return add(type, b);
}

message_writer& message_writer::add_u64(std::uint16_t type, std::uint64_t value) {
  std::array<std::uint8_t, 8> b;
  store32(b.data(), static_cast<std::uint32_t>(value >> 32));
  store32(b.data() + 4, static_cast<std::uint32_t>(value));
  return add(type, b);
}

message_writer& message_writer::add_xor_mapped_address(const boost::asio::ip::udp::endpoint& address) {
  std::array<std::uint8_t, 16> mask{};
  store32(mask.data(), magic_cookie);
  std::copy_n(out_.begin() + 8, 12, mask.begin() + 4);
  std::array<std::uint8_t, 20> v{};
  store16(v.data() + 2, static_cast<std::uint16_t>(address.port() ^ (magic_cookie >> 16)));
  const auto ip = address.address();
  if (ip.is_v4()) {
    v[1] = 0x01;
    const auto b = ip.to_v4().to_bytes();
    for (std::size_t i = 0; i < 4; ++i) v[4 + i] = b[i] ^ mask[i];
    return add(attr::xor_mapped_address, std::span(v.data(), 8));
  }
  v[1] = 0x02;
  const auto b = ip.to_v6().to_bytes();
  for (std::size_t i = 0; i < 16; ++i) v[4 + i] = b[i] ^ mask[i];
  return add(attr::xor_mapped_address, std::span(v.data(), 20));
}

message_writer& message_writer::add_error(int code, std::string_view reason) {
  std::vector<std::uint8_t> v(4);
  v[2] = static_cast<std::uint8_t>(code / 100 & 0x07);
  v[3] = static_cast<std::uint8_t>(code % 100);
  v.insert(v.end(), reason.begin(), reason.end());
  return add(attr::error_code, v);
}

message_writer& message_writer::add_unknown_attributes(std::span<const std::uint16_t> types) {
  std::vector<std::uint8_t> v(types.size() * 2);
  for (std::size_t i = 0; i < types.size(); ++i) store16(v.data() + 2 * i, types[i]);
  return add(attr::unknown_attributes, v);
}

void message_writer::set_length(std::size_t attribute_bytes) noexcept {
  store16(out_.data() + 2, static_cast<std::uint16_t>(attribute_bytes));
}

std::vector<std::uint8_t> message_writer::finish(std::optional<std::string_view> integrity_key, bool fingerprint) {
  if (integrity_key) {
    set_length(out_.size() + 4 + sha1_size - header_size);
    std::array<std::uint8_t, sha1_size> mac{};
    hmac_sha1(*integrity_key, out_, mac.data());
    add(attr::message_integrity, mac);
  }
  if (fingerprint) {
    set_length(out_.size() + 8 - header_size);
    std::array<std::uint8_t, 4> b;
    store32(b.data(), fingerprint_of(out_));
    add(attr::fingerprint, b);
  }
  set_length(out_.size() - header_size);
  return std::move(out_);
}

transaction_id new_transaction_id() {
  transaction_id id{};
  if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) {
    std::random_device random;  // OpenSSL's generator failed: the kernel's
    for (auto& b : id) b = static_cast<std::uint8_t>(random());
  }
  return id;
}

}  // namespace junction::webrtc::stun
