#include "rtmp/commands.hpp"

#include "media/amf/amf0.hpp"

#include <gtest/gtest.h>

namespace junction::rtmp {
namespace {

TEST(commands, round_trip_through_a_command_message) {
  const media::amf::value args[] = {media::amf::value::make_string("cam"), media::amf::value::make_string("live")};
  auto m = make_command(1, "publish", 5, media::amf::value::make_null(), args);
  EXPECT_EQ(m.kind(), message_type::command_amf0);
  EXPECT_EQ(m.stream_id, 1u);
  command c;
  ASSERT_FALSE(decode_command(m, c, media::amf::decode_limits{}));
  EXPECT_EQ(c.name, "publish");
  EXPECT_EQ(c.transaction_id, 5);
  EXPECT_TRUE(c.object.is(media::amf::type::null));
  ASSERT_EQ(c.args.size(), 2u);
  EXPECT_EQ(c.arg(1)->string_or(), "live");
  EXPECT_EQ(c.arg(2), nullptr);
  EXPECT_FALSE(c.amf3);
}

TEST(commands, amf3_command_messages_have_a_format_byte) {
  auto m = make_command(0, "connect", 1, media::amf::value::make_object({}), {}, true);
  EXPECT_EQ(m.kind(), message_type::command_amf3);
  EXPECT_EQ(m.payload.bytes()[0], std::byte{0});
  command c;
  ASSERT_FALSE(decode_command(m, c, media::amf::decode_limits{}));
  EXPECT_EQ(c.name, "connect");
  EXPECT_TRUE(c.amf3);
}

TEST(commands, on_status_carries_level_code_and_description) {
  auto m = on_status(1, "status", "NetStream.Play.Start", "Started playing cam.");
  command c;
  ASSERT_FALSE(decode_command(m, c, media::amf::decode_limits{}));
  EXPECT_EQ(c.name, "onStatus");
  EXPECT_EQ(c.transaction_id, 0);
  const auto* info = c.arg(0);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->get_string("level"), "status");
  EXPECT_EQ(info->get_string("code"), "NetStream.Play.Start");
  EXPECT_EQ(info->get_string("description"), "Started playing cam.");
}

TEST(commands, malformed_commands_are_errors_not_crashes) {
  message m;
  m.type = static_cast<std::uint8_t>(message_type::command_amf0);
  const std::vector<std::vector<std::uint8_t>> bodies{
      {},                                   // nothing
      {0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0},  // a number where the name should be
      {0x02, 0x00, 0x05, 'h', 'i'},          // truncated string
      {0x02, 0x00, 0x02, 'h', 'i'},          // a name without a transaction id
  };
  for (const auto& b : bodies) {
    std::vector<std::byte> bytes;
    for (auto x : b) bytes.push_back(std::byte(x));
    m.payload = shared_buffer::copy_of(bytes);
    command c;
    EXPECT_TRUE(decode_command(m, c, media::amf::decode_limits{})) << b.size();
  }
}

}  // namespace
}  // namespace junction::rtmp
