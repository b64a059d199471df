#pragma once
// STUN messages (RFC 8489) as ICE uses them (RFC 8445 §7): read a datagram into a view of its
// header and attributes, check MESSAGE-INTEGRITY (short-term credentials: the key is the ICE
// password) and FINGERPRINT, and write requests and responses. Sans-IO: bytes in, bytes out;
// the views point into the datagram, which must outlive them.
//
// What is read and checked: the header (the two top bits zero, the magic cookie, a length that
// is a multiple of four and matches the datagram), attribute bounds and padding, at most
// `max_attributes` of them, FINGERPRINT last when present, and MESSAGE-INTEGRITY followed by
// nothing but FINGERPRINT (RFC 8489 §14.5: later attributes are ignored). Only the classic
// RFC 5389 form (with the magic cookie) is accepted: every WebRTC stack sends it.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include <boost/asio/ip/udp.hpp>

namespace junction::webrtc::stun {

enum class stun_errc {
  not_stun = 1,          // too short, a top bit set or no magic cookie (RFC 7983: some other protocol)
  bad_length,            // the header's length is not a multiple of four or not the datagram's
  bad_attribute,         // an attribute runs past the end of the message
  too_many_attributes,   // more than the reader takes
  fingerprint_not_last,  // an attribute after FINGERPRINT
};
const std::error_category& stun_category() noexcept;
std::error_code make_error_code(stun_errc e) noexcept;

inline constexpr std::uint32_t magic_cookie = 0x2112A442;
inline constexpr std::size_t header_size = 20;

enum class message_class : std::uint8_t { request = 0, indication = 1, success = 2, error = 3 };
inline constexpr std::uint16_t binding = 0x001;

namespace attr {
inline constexpr std::uint16_t mapped_address = 0x0001;
inline constexpr std::uint16_t username = 0x0006;
inline constexpr std::uint16_t message_integrity = 0x0008;
inline constexpr std::uint16_t error_code = 0x0009;
inline constexpr std::uint16_t unknown_attributes = 0x000A;
inline constexpr std::uint16_t realm = 0x0014;
inline constexpr std::uint16_t nonce = 0x0015;
inline constexpr std::uint16_t message_integrity_sha256 = 0x001C;
inline constexpr std::uint16_t userhash = 0x001E;
inline constexpr std::uint16_t xor_mapped_address = 0x0020;
inline constexpr std::uint16_t priority = 0x0024;       // RFC 8445 §16.1
inline constexpr std::uint16_t use_candidate = 0x0025;  // RFC 8445 §16.1
inline constexpr std::uint16_t software = 0x8022;
inline constexpr std::uint16_t alternate_server = 0x8023;
inline constexpr std::uint16_t fingerprint = 0x8028;
inline constexpr std::uint16_t ice_controlled = 0x8029;
inline constexpr std::uint16_t ice_controlling = 0x802A;
}  // namespace attr

using transaction_id = std::array<std::uint8_t, 12>;

struct attribute {
  std::uint16_t type = 0;
  std::span<const std::uint8_t> value;
};

// RFC 7983's first-byte rule, and the cookie: is this datagram (on a port shared with DTLS and
// SRTP) meant to be read as STUN?
bool looks_like_stun(std::span<const std::uint8_t> datagram) noexcept;

class message_view {
 public:
  static constexpr std::size_t max_attributes = 32;

  // A view of `datagram` as one STUN message, or why it is not one.
  static message_view parse(std::span<const std::uint8_t> datagram, std::error_code& ec);

  std::uint16_t method() const noexcept { return method_; }
  message_class kind() const noexcept { return class_; }
  const transaction_id& id() const noexcept { return id_; }
  std::span<const attribute> attributes() const noexcept { return {attributes_.data(), count_}; }

  // The first attribute of `type` (before MESSAGE-INTEGRITY, or FINGERPRINT itself), if any.
  std::optional<std::span<const std::uint8_t>> find(std::uint16_t type) const noexcept;
  bool has(std::uint16_t type) const noexcept { return find(type).has_value(); }
  std::optional<std::string_view> username() const noexcept;
  std::optional<std::uint32_t> priority() const noexcept;
  // ICE-CONTROLLING or ICE-CONTROLLED: the tie-breaker.
  std::optional<std::uint64_t> u64(std::uint16_t type) const noexcept;
  std::optional<boost::asio::ip::udp::endpoint> xor_mapped_address() const noexcept;
  // ERROR-CODE's number (e.g. 487) and reason.
  std::optional<std::pair<int, std::string_view>> error() const noexcept;
  // Comprehension-required attribute types (below 0x8000) this reader does not know: a request
  // carrying any gets 420 with them in UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1.1).
  std::vector<std::uint16_t> unknown_required() const;

  bool has_integrity() const noexcept { return integrity_at_ != 0; }
  bool has_fingerprint() const noexcept { return fingerprint_at_ != 0; }
  // MESSAGE-INTEGRITY (HMAC-SHA1) under `key`; false when it is absent or wrong. Constant time.
  bool integrity_ok(std::string_view key) const noexcept;
  // FINGERPRINT (CRC-32 ^ 0x5354554E); false when absent or wrong.
  bool fingerprint_ok() const noexcept;

 private:
  std::span<const std::uint8_t> bytes_;
  std::uint16_t method_ = 0;
  message_class class_ = message_class::request;
  transaction_id id_{};
  std::array<attribute, max_attributes> attributes_{};
  std::size_t count_ = 0;
  std::size_t integrity_at_ = 0;    // offset of the MESSAGE-INTEGRITY attribute (0: none)
  std::size_t fingerprint_at_ = 0;  // offset of the FINGERPRINT attribute (0: none)
};

// Writes one message: the header, then attributes in the order added, then (finish) the
// integrity and fingerprint.
class message_writer {
 public:
  message_writer(std::uint16_t method, message_class kind, const transaction_id& id);

  message_writer& add(std::uint16_t type, std::span<const std::uint8_t> value);
  message_writer& add(std::uint16_t type, std::string_view value);
  message_writer& add_u32(std::uint16_t type, std::uint32_t value);
  message_writer& add_u64(std::uint16_t type, std::uint64_t value);
  message_writer& add_flag(std::uint16_t type) { return add(type, std::string_view{}); }
  message_writer& add_xor_mapped_address(const boost::asio::ip::udp::endpoint& address);
  message_writer& add_error(int code, std::string_view reason);
  message_writer& add_unknown_attributes(std::span<const std::uint16_t> types);

  // The message, with MESSAGE-INTEGRITY under `integrity_key` when it has a value, and
  // FINGERPRINT when asked. The writer is spent.
  std::vector<std::uint8_t> finish(std::optional<std::string_view> integrity_key, bool fingerprint);

 private:
  void set_length(std::size_t attribute_bytes) noexcept;
  std::vector<std::uint8_t> out_;
};

// A fresh random transaction ID.
transaction_id new_transaction_id();

}  // namespace junction::webrtc::stun

template <>
struct std::is_error_code_enum<junction::webrtc::stun::stun_errc> : std::true_type {};
