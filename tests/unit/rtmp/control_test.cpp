// Protocol control (RTMP spec 1.0 section 5.4) and User Control (7.1.7) payloads, byte for byte.
#include "rtmp/control.hpp"

#include "byte_helpers.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace junction::rtmp {
namespace {

using namespace rtmp_test;

struct builder_case {
  const char* name;
  message m;
  message_type type;
  bytes payload;
};

// gtest prints the case name instead of the bytes of the struct.
void PrintTo(const builder_case& c, std::ostream* os) { *os << c.name; }

const std::vector<builder_case>& builder_cases() {
  static const std::vector<builder_case> cases = {
      {"set_chunk_size", set_chunk_size_message(4096), message_type::set_chunk_size,
       hex("00001000")},
      {"set_chunk_size_clears_the_reserved_bit", set_chunk_size_message(0xFFFFFFFF),
       message_type::set_chunk_size, hex("7fffffff")},
      {"abort", abort_message(6), message_type::abort, hex("00000006")},
      {"acknowledgement", acknowledgement_message(0x01020304), message_type::acknowledgement,
       hex("01020304")},
      {"window_ack_size", window_ack_size_message(2'500'000), message_type::window_ack_size,
       hex("002625a0")},
      {"set_peer_bandwidth", set_peer_bandwidth_message(2'500'000, peer_bandwidth_limit::dynamic),
       message_type::set_peer_bandwidth, hex("002625a0 02")},
      {"stream_begin", user_control_message(user_control_event::stream_begin, 1),
       message_type::user_control, hex("0000 00000001")},
      {"stream_eof", user_control_message(user_control_event::stream_eof, 1),
       message_type::user_control, hex("0001 00000001")},
      {"stream_is_recorded", user_control_message(user_control_event::stream_is_recorded, 7),
       message_type::user_control, hex("0004 00000007")},
      {"ping_request", user_control_message(user_control_event::ping_request, 0xDEADBEEF),
       message_type::user_control, hex("0006 deadbeef")},
      {"ping_response", user_control_message(user_control_event::ping_response, 42),
       message_type::user_control, hex("0007 0000002a")},
      {"set_buffer_length", set_buffer_length_message(1, 3000), message_type::user_control,
       hex("0003 00000001 00000bb8")},
  };
  return cases;
}

class control_builders : public testing::TestWithParam<builder_case> {};

TEST_P(control_builders, Control_payload) {
  const auto& c = GetParam();
  // Section 5.4: protocol control messages travel on chunk stream 2, message stream 0.
  EXPECT_EQ(c.m.chunk_stream_id, csid::protocol_control);
  EXPECT_EQ(c.m.stream_id, 0u);
  EXPECT_EQ(c.m.timestamp, 0u);
  EXPECT_EQ(c.m.kind(), c.type);
  EXPECT_EQ(bytes(c.m.payload.bytes().begin(), c.m.payload.bytes().end()), c.payload);
}

INSTANTIATE_TEST_SUITE_P(Control, control_builders, testing::ValuesIn(builder_cases()),
                         [](const auto& info) { return std::string{info.param.name}; });

TEST(Control, parse_u32_reads_the_first_four_bytes) {
  EXPECT_EQ(parse_u32(hex("01020304")), 0x01020304u);
  EXPECT_EQ(parse_u32(hex("01020304 ff")), 0x01020304u);  // trailing bytes ignored
  EXPECT_EQ(parse_u32(hex("010203")), std::nullopt);
  EXPECT_EQ(parse_u32({}), std::nullopt);
}

TEST(Control, parse_set_chunk_size_clears_the_reserved_bit) {
  EXPECT_EQ(parse_set_chunk_size(hex("00001000")), 4096u);
  EXPECT_EQ(parse_set_chunk_size(hex("80001000")), 4096u);
  EXPECT_EQ(parse_set_chunk_size(hex("ffffffff")), 0x7FFFFFFFu);
  EXPECT_EQ(parse_set_chunk_size(hex("0010")), std::nullopt);
}

TEST(Control, parse_set_peer_bandwidth) {
  auto bw = parse_set_peer_bandwidth(hex("002625a0 01"));
  ASSERT_TRUE(bw);
  EXPECT_EQ(bw->size, 2'500'000u);
  EXPECT_EQ(bw->limit_type, peer_bandwidth_limit::soft);
  EXPECT_FALSE(parse_set_peer_bandwidth(hex("002625a0")));
}

TEST(Control, parse_user_control_events) {
  auto begin = parse_user_control(hex("0000 00000001"));
  ASSERT_TRUE(begin);
  EXPECT_EQ(begin->event, user_control_event::stream_begin);
  EXPECT_EQ(begin->value, 1u);
  EXPECT_EQ(begin->extra, 0u);

  auto ping = parse_user_control(hex("0006 00012345"));
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->event, user_control_event::ping_request);
  EXPECT_EQ(ping->value, 0x12345u);

  auto buffer = parse_user_control(hex("0003 00000001 00000bb8"));
  ASSERT_TRUE(buffer);
  EXPECT_EQ(buffer->event, user_control_event::set_buffer_length);
  EXPECT_EQ(buffer->value, 1u);
  EXPECT_EQ(buffer->extra, 3000u);
}

TEST(Control, parse_user_control_too_short) {
  EXPECT_FALSE(parse_user_control({}));
  EXPECT_FALSE(parse_user_control(hex("00")));
  EXPECT_FALSE(parse_user_control(hex("0000 000000")));           // Stream Begin needs a value
  EXPECT_FALSE(parse_user_control(hex("0003 00000001 000000")));  // Set Buffer Length needs two
  EXPECT_FALSE(parse_user_control(hex("0007")));
}

TEST(Control, parse_user_control_unknown_events_pass_through) {
  // SWF Verification Request (26) is the event type alone; FMS's Buffer Empty (31) has a stream id.
  auto swf = parse_user_control(hex("001a"));
  ASSERT_TRUE(swf);
  EXPECT_EQ(static_cast<std::uint16_t>(swf->event), 26u);
  EXPECT_EQ(swf->value, 0u);
  auto empty = parse_user_control(hex("001f 00000001"));
  ASSERT_TRUE(empty);
  EXPECT_EQ(static_cast<std::uint16_t>(empty->event), 31u);
  EXPECT_EQ(empty->value, 1u);
}

TEST(Control, builders_and_parsers_agree) {
  for (auto e : {user_control_event::stream_begin, user_control_event::stream_eof,
                 user_control_event::stream_dry, user_control_event::stream_is_recorded,
                 user_control_event::ping_request, user_control_event::ping_response}) {
    auto parsed = parse_user_control(user_control_message(e, 0xA1B2C3D4).payload.bytes());
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->event, e);
    EXPECT_EQ(parsed->value, 0xA1B2C3D4u);
  }
  auto buffer = parse_user_control(set_buffer_length_message(5, 100).payload.bytes());
  ASSERT_TRUE(buffer);
  EXPECT_EQ(buffer->value, 5u);
  EXPECT_EQ(buffer->extra, 100u);
  EXPECT_EQ(parse_u32(window_ack_size_message(5000).payload.bytes()), 5000u);
  EXPECT_EQ(parse_u32(acknowledgement_message(77).payload.bytes()), 77u);
  EXPECT_EQ(parse_u32(abort_message(320).payload.bytes()), 320u);
  EXPECT_EQ(parse_set_chunk_size(set_chunk_size_message(60000).payload.bytes()), 60000u);
  auto bw = parse_set_peer_bandwidth(set_peer_bandwidth_message(1000, 0).payload.bytes());
  ASSERT_TRUE(bw);
  EXPECT_EQ(bw->size, 1000u);
  EXPECT_EQ(bw->limit_type, 0u);
}

}  // namespace
}  // namespace junction::rtmp
