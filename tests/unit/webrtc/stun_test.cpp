#include "webrtc/stun.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace junction::webrtc::stun {
namespace {

using bytes = std::vector<std::uint8_t>;

// RFC 5769 §2.1: a Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
// MESSAGE-INTEGRITY and FINGERPRINT. Password "VOkJxbRl1RmTxUk/WvJxBt".
const bytes rfc5769_request = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

// RFC 5769 §2.2: its IPv4 success response, XOR-MAPPED-ADDRESS 192.0.2.1:32853.
const bytes rfc5769_response = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

constexpr std::string_view password = "VOkJxbRl1RmTxUk/WvJxBt";

message_view parsed(const bytes& b) {
  std::error_code ec;
  auto m = message_view::parse(b, ec);
  EXPECT_FALSE(ec) << ec.message();
  return m;
}

TEST(Stun, ReadsTheRfc5769Request) {
  auto m = parsed(rfc5769_request);
  EXPECT_EQ(m.method(), binding);
  EXPECT_EQ(m.kind(), message_class::request);
  EXPECT_EQ(m.username(), "evtj:h6vY");
  EXPECT_EQ(m.priority(), 0x6e0001ffu);
  EXPECT_EQ(m.u64(attr::ice_controlled), 0x932ff9b151263b36u);
  EXPECT_FALSE(m.has(attr::use_candidate));
  EXPECT_TRUE(m.integrity_ok(password));
  EXPECT_FALSE(m.integrity_ok("VOkJxbRl1RmTxUk/WvJxBT"));
  EXPECT_TRUE(m.fingerprint_ok());
  EXPECT_TRUE(m.unknown_required().empty());
}

TEST(Stun, ReadsTheRfc5769Response) {
  auto m = parsed(rfc5769_response);
  EXPECT_EQ(m.kind(), message_class::success);
  auto mapped = m.xor_mapped_address();
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->address().to_string(), "192.0.2.1");
  EXPECT_EQ(mapped->port(), 32853);
  EXPECT_TRUE(m.integrity_ok(password));
  EXPECT_TRUE(m.fingerprint_ok());
}

// The writer's XOR-MAPPED-ADDRESS is the RFC's, byte for byte; its HMAC and CRC are the ones the
// reader checks the RFC's vectors with (above), so what it writes, the reader (and so any
// RFC-conformant peer) accepts.
TEST(Stun, WritesTheRfc5769MappedAddressByteForByte) {
  auto request = parsed(rfc5769_request);
  auto out = message_writer(binding, message_class::success, request.id())
                 .add_xor_mapped_address({boost::asio::ip::make_address("192.0.2.1"), 32853})
                 .finish(password, true);
  ASSERT_EQ(out.size(), 20u + 12 + 24 + 8);
  EXPECT_TRUE(std::equal(out.begin() + 20, out.begin() + 32, rfc5769_response.begin() + 36));
  EXPECT_TRUE(std::equal(out.begin() + 4, out.begin() + 20, rfc5769_response.begin() + 4));
  auto reparsed = parsed(out);
  EXPECT_TRUE(reparsed.integrity_ok(password));
  EXPECT_TRUE(reparsed.fingerprint_ok());
}

TEST(Stun, WritesWhatItReads) {
  const transaction_id id = new_transaction_id();
  auto out = message_writer(binding, message_class::request, id)
                 .add(attr::username, "abcd:efgh1")
                 .add_u32(attr::priority, 1853817087)
                 .add_u64(attr::ice_controlling, 0x0102030405060708)
                 .add_flag(attr::use_candidate)
                 .finish("secret", true);
  EXPECT_EQ(out.size() % 4, 0u);
  auto m = parsed(out);
  EXPECT_EQ(m.id(), id);
  EXPECT_EQ(m.kind(), message_class::request);
  EXPECT_EQ(m.username(), "abcd:efgh1");
  EXPECT_EQ(m.priority(), 1853817087u);
  EXPECT_EQ(m.u64(attr::ice_controlling), 0x0102030405060708u);
  EXPECT_TRUE(m.has(attr::use_candidate));
  EXPECT_TRUE(m.integrity_ok("secret"));
  EXPECT_TRUE(m.fingerprint_ok());

  auto error = message_writer(binding, message_class::error, id).add_error(487, "Role Conflict").finish("secret", false);
  auto e = parsed(error);
  EXPECT_EQ(e.kind(), message_class::error);
  ASSERT_TRUE(e.error());
  EXPECT_EQ(e.error()->first, 487);
  EXPECT_EQ(e.error()->second, "Role Conflict");
  EXPECT_TRUE(e.integrity_ok("secret"));
  EXPECT_FALSE(e.has_fingerprint());
}

TEST(Stun, Ipv6MappedAddressesRoundTrip) {
  const boost::asio::ip::udp::endpoint where{boost::asio::ip::make_address("2001:db8:1234:5678:11:2233:4455:6677"), 32853};
  auto out = message_writer(binding, message_class::success, new_transaction_id()).add_xor_mapped_address(where).finish({}, false);
  EXPECT_EQ(parsed(out).xor_mapped_address(), where);
}

TEST(Stun, AnyFlippedBitIsCaught) {
  for (std::size_t i = 20; i < rfc5769_request.size(); ++i) {
    bytes b = rfc5769_request;
    b[i] ^= 0x01;
    std::error_code ec;
    auto m = message_view::parse(b, ec);
    if (ec) continue;  // a length or a type that no longer reads: refused outright
    EXPECT_FALSE(m.integrity_ok(password) && m.fingerprint_ok()) << "byte " << i;
  }
}

TEST(Stun, RefusesWhatIsNotStun) {
  std::error_code ec;
  message_view::parse(bytes(19, 0), ec);
  EXPECT_EQ(ec, stun_errc::not_stun);
  bytes rtp = rfc5769_request;
  rtp[0] = 0x80;  // RFC 7983: an RTP packet
  EXPECT_FALSE(looks_like_stun(rtp));
  message_view::parse(rtp, ec);
  EXPECT_EQ(ec, stun_errc::not_stun);
  bytes no_cookie = rfc5769_request;
  no_cookie[4] = 0;
  message_view::parse(no_cookie, ec);
  EXPECT_EQ(ec, stun_errc::not_stun);

  bytes truncated(rfc5769_request.begin(), rfc5769_request.end() - 4);
  message_view::parse(truncated, ec);
  EXPECT_EQ(ec, stun_errc::bad_length);

  bytes overrun = rfc5769_request;
  overrun[23] = 0xff;  // SOFTWARE claims 255 bytes
  message_view::parse(overrun, ec);
  EXPECT_EQ(ec, stun_errc::bad_attribute);

  bytes after_fingerprint = rfc5769_request;
  for (std::uint8_t b : {0x80, 0x22, 0x00, 0x00}) after_fingerprint.push_back(b);
  after_fingerprint[3] += 4;
  message_view::parse(after_fingerprint, ec);
  EXPECT_EQ(ec, stun_errc::fingerprint_not_last);
  EXPECT_EQ(make_error_code(stun_errc::fingerprint_not_last).message(), "an attribute after FINGERPRINT");
}

// What follows MESSAGE-INTEGRITY is not covered by it, so it is not believed.
TEST(Stun, AttributesAfterTheIntegrityAreIgnored) {
  auto out = message_writer(binding, message_class::request, new_transaction_id())
                 .add(attr::username, "a:b")
                 .finish("k", false);
  // Append a USE-CANDIDATE after MESSAGE-INTEGRITY, as an attacker could.
  for (std::uint8_t b : {0x00, 0x25, 0x00, 0x00}) out.push_back(b);
  out[3] += 4;
  auto m = parsed(out);
  EXPECT_FALSE(m.has(attr::use_candidate));
  EXPECT_TRUE(m.integrity_ok("k"));
}

TEST(Stun, TellsUnknownComprehensionRequiredAttributes) {
  auto out = message_writer(binding, message_class::request, new_transaction_id())
                 .add(0x0019, "\x11\0\0\0")  // REQUESTED-TRANSPORT (TURN): not ours
                 .add(0x8055, "x")           // comprehension-optional: fine
                 .finish({}, true);
  auto m = parsed(out);
  EXPECT_EQ(m.unknown_required(), std::vector<std::uint16_t>{0x0019});
}

TEST(Stun, ReadsNoMoreThanItsAttributeLimit) {
  message_writer w(binding, message_class::request, new_transaction_id());
  for (std::size_t i = 0; i <= message_view::max_attributes; ++i) w.add(attr::software, "x");
  auto out = w.finish({}, false);
  std::error_code ec;
  message_view::parse(out, ec);
  EXPECT_EQ(ec, stun_errc::too_many_attributes);
}

}  // namespace
}  // namespace junction::webrtc::stun
