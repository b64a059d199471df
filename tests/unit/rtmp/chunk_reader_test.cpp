// chunk_reader: hand-computed chunk streams (RTMP spec 1.0 section 5.3) with the messages they
// must produce, each also fed split at every byte offset; error cases; limits.
#include "rtmp/chunk_reader.hpp"
#include "rtmp/chunk_writer.hpp"
#include "rtmp/control.hpp"

#include "byte_helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace junction::rtmp {
namespace {

using namespace rtmp_test;

struct want {
  std::uint32_t csid;
  std::uint8_t type;
  std::uint32_t timestamp;
  std::uint32_t stream_id;
  bytes payload;
};

std::string describe(const message& m) {
  return "csid " + std::to_string(m.chunk_stream_id) + " type " + std::to_string(m.type) + " ts " +
         std::to_string(m.timestamp) + " stream " + std::to_string(m.stream_id) + " len " +
         std::to_string(m.payload.size());
}

void expect_messages(const std::vector<message>& got, const std::vector<want>& expected) {
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i) + ": " + describe(got[i]));
    EXPECT_EQ(got[i].chunk_stream_id, expected[i].csid);
    EXPECT_EQ(got[i].type, expected[i].type);
    EXPECT_EQ(got[i].timestamp, expected[i].timestamp);
    EXPECT_EQ(got[i].stream_id, expected[i].stream_id);
    EXPECT_EQ(bytes(got[i].payload.bytes().begin(), got[i].payload.bytes().end()),
              expected[i].payload);
  }
}

// Feeds `in` in pieces that end at each of `cuts`, checking every piece is fully consumed.
std::vector<message> feed_cut(chunk_reader& reader, const bytes& in,
                              std::vector<std::size_t> cuts) {
  std::vector<message> out;
  cuts.push_back(in.size());
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    auto r = reader.feed(std::span{in}.subspan(from, cut - from), out);
    EXPECT_FALSE(r.error) << r.error.message();
    EXPECT_EQ(r.consumed, cut - from);
    from = cut;
  }
  return out;
}

const bytes v200 = pattern(200, 3);
const bytes v300 = pattern(300, 5);
const bytes a10 = pattern(10, 11);
const bytes a10b = pattern(10, 13);

struct reader_case {
  const char* name;
  bytes input;
  std::vector<want> expected;
  std::uint32_t chunk_size_after = 128;
};

// gtest prints the case name instead of the bytes of the struct.
void PrintTo(const reader_case& c, std::ostream* os) { *os << c.name; }

const std::vector<reader_case>& reader_cases() {
  static const std::vector<reader_case> cases = {
      {"fmt0_one_byte_basic_header",
       cat({hex("03 000064 000005 14 00000000"), text("hello")}),
       {{3, 20, 100, 0, text("hello")}}},
      {"stream_id_is_little_endian",
       hex("04 000000 000001 09 01020304 cc"),
       {{4, 9, 0, 0x04030201, hex("cc")}}},
      {"two_byte_basic_header_csid_64",
       hex("00 00 000001 000001 08 00000000 aa"),
       {{64, 8, 1, 0, hex("aa")}}},
      {"two_byte_basic_header_csid_319",
       hex("00 ff 000001 000001 08 00000000 aa"),
       {{319, 8, 1, 0, hex("aa")}}},
      {"three_byte_basic_header_csid_320",
       hex("01 00 01 000001 000001 08 00000000 aa"),
       {{320, 8, 1, 0, hex("aa")}}},
      {"three_byte_basic_header_csid_65599",
       hex("01 ff ff 000001 000001 08 00000000 aa"),
       {{65599, 8, 1, 0, hex("aa")}}},
      {"three_byte_form_of_a_small_id",
       hex("01 05 00 000001 000001 08 00000000 aa"),
       {{69, 8, 1, 0, hex("aa")}}},
      {"fmt1_fmt2_fmt3_inherit_the_last_header",
       hex("03 000064 000002 14 05000000 aabb"  // fmt 0: ts 100, stream 5
           "43 00000a 000003 12 ccddee"         // fmt 1: +10, new length and type
           "83 000005 ffeedd"                   // fmt 2: +5
           "c3 112233"),                        // fmt 3: +5 again
       {{3, 20, 100, 5, hex("aabb")},
        {3, 18, 110, 5, hex("ccddee")},
        {3, 18, 115, 5, hex("ffeedd")},
        {3, 18, 120, 5, hex("112233")}}},
      // FFmpeg and librtmp: after fmt 0, a fmt 3 new message re-adds the timestamp field.
      {"fmt3_after_fmt0_readds_the_timestamp_field",
       hex("04 000064 000001 08 01000000 aa  c4 bb"),
       {{4, 8, 100, 1, hex("aa")}, {4, 8, 200, 1, hex("bb")}}},
      {"message_over_two_chunks",
       cat({hex("06 000000 0000c8 09 01000000"), slice(v200, 0, 128), hex("c6"),
            slice(v200, 128, 200)}),
       {{6, 9, 0, 1, v200}}},
      {"extended_timestamp_fmt0",
       hex("03 ffffff 000002 09 01000000 01000000 aabb"),
       {{3, 9, 0x01000000, 1, hex("aabb")}}},
      {"extended_timestamp_repeated_in_continuation",
       cat({hex("06 ffffff 000082 09 01000000 12345678"), slice(v200, 0, 128), hex("c6 12345678"),
            slice(v200, 128, 130)}),
       {{6, 9, 0x12345678, 1, slice(v200, 0, 130)}}},
      // Old encoders leave the field out of continuations; the 4 bytes looked at are then the
      // 2 payload bytes and the start of the next chunk.
      {"extended_timestamp_not_repeated_short_tail",
       cat({hex("06 ffffff 000082 09 01000000 12345678"), slice(v200, 0, 128), hex("c6"),
            slice(v200, 128, 130), hex("03 000000 000001 14 00000000 77")}),
       {{6, 9, 0x12345678, 1, slice(v200, 0, 130)}, {3, 20, 0, 0, hex("77")}}},
      {"extended_timestamp_not_repeated_long_tail",
       cat({hex("06 ffffff 00008c 09 01000000 12345678"), slice(v200, 0, 128), hex("c6"),
            slice(v200, 128, 140)}),
       {{6, 9, 0x12345678, 1, slice(v200, 0, 140)}}},
      {"extended_delta_and_fmt3_new_messages",
       hex("03 000010 000001 14 00000000 aa"
           "43 ffffff 000001 14 01000000 bb"  // fmt 1, extended delta 2^24
           "c3 01000000 cc"                   // fmt 3 new message: the field is required
           "c3 02000000 dd"),                 // ... and is that message's delta (as FFmpeg)
       {{3, 20, 0x10, 0, hex("aa")},
        {3, 20, 0x01000010, 0, hex("bb")},
        {3, 20, 0x02000010, 0, hex("cc")},
        {3, 20, 0x04000010, 0, hex("dd")}}},
      {"timestamp_wraps_at_2_32",
       hex("03 ffffff 000001 08 00000000 fffffff0 aa  83 000020 bb"),
       {{3, 8, 0xFFFFFFF0, 0, hex("aa")}, {3, 8, 0x10, 0, hex("bb")}}},
      // Section 5.3.2.2: audio chunks between the chunks of one big video message.
      {"interleaved_chunk_streams",
       cat({hex("06 000000 00012c 09 01000000"), slice(v300, 0, 128),
            hex("04 000000 00000a 08 01000000"), a10, hex("c6"), slice(v300, 128, 256),
            hex("84 000017"), a10b, hex("c6"), slice(v300, 256, 300)}),
       {{4, 8, 0, 1, a10}, {4, 8, 23, 1, a10b}, {6, 9, 0, 1, v300}}},
      {"set_chunk_size_applies_to_the_next_chunk",
       cat({hex("02 000000 000004 01 00000000 00000004"), hex("03 000000 00000a 14 00000000"),
            slice(a10, 0, 4), hex("c3"), slice(a10, 4, 8), hex("c3"), slice(a10, 8, 10)}),
       {{2, 1, 0, 0, hex("00000004")}, {3, 20, 0, 0, a10}},
       4},
      {"set_chunk_size_in_the_middle_of_another_message",
       cat({hex("06 000000 0000c8 09 01000000"), slice(v200, 0, 128),
            hex("02 000000 000004 01 00000000 00000040"), hex("c6"), slice(v200, 128, 192),
            hex("c6"), slice(v200, 192, 200)}),
       {{2, 1, 0, 0, hex("00000040")}, {6, 9, 0, 1, v200}},
       64},
      {"set_chunk_size_largest",
       hex("02 000000 000004 01 00000000 00ffffff"),
       {{2, 1, 0, 0, hex("00ffffff")}},
       0xFFFFFF},
      // Section 5.4.1: the top bit is reserved; it is ignored, not taken as part of the size.
      {"set_chunk_size_reserved_bit_ignored",
       hex("02 000000 000004 01 00000000 80000100"),
       {{2, 1, 0, 0, hex("80000100")}},
       256},
      {"abort_discards_the_partial_message",
       cat({hex("06 000000 0000c8 09 01000000"), slice(v200, 0, 128),
            hex("02 000000 000004 02 00000000 00000006"),
            hex("06 000000 000002 09 01000000 aabb")}),
       {{2, 2, 0, 0, hex("00000006")}, {6, 9, 0, 1, hex("aabb")}}},
      {"after_abort_fmt3_starts_a_new_message",
       cat({hex("06 000064 0000c8 09 01000000"), slice(v200, 0, 128),
            hex("02 000000 000004 02 00000000 00000006"), hex("c6"), slice(v200, 0, 128), hex("c6"),
            slice(v200, 128, 200)}),
       {{2, 2, 0, 0, hex("00000006")}, {6, 9, 200, 1, v200}}},
      {"abort_of_an_unknown_chunk_stream_is_harmless",
       hex("02 000000 000004 02 00000000 00000009"),
       {{2, 2, 0, 0, hex("00000009")}}},
      {"empty_messages_are_delivered",
       hex("03 000010 000000 14 00000000  c3  83 000001"),
       {{3, 20, 16, 0, {}}, {3, 20, 32, 0, {}}, {3, 20, 33, 0, {}}}},
      // librtmp's RTMP_SendCtrl / RTMP_SendBytesReceived start chunk stream 2 with fmt 1.
      {"librtmp_fmt1_first_on_chunk_stream_2",
       hex("42 000000 000004 03 00001000"),
       {{2, 3, 0, 0, hex("00001000")}}},
      {"full_header_mid_message_restarts",
       cat({hex("06 000000 0000c8 09 01000000"), slice(v200, 0, 128),
            hex("06 000005 000002 09 01000000 aabb")}),
       {{6, 9, 5, 1, hex("aabb")}}},
      {"unknown_message_types_pass_through",
       hex("05 000000 000001 7f 00000000 01"),
       {{5, 0x7F, 0, 0, hex("01")}}},
  };
  return cases;
}

class reader_table : public testing::TestWithParam<reader_case> {};

TEST_P(reader_table, Chunk_whole_input) {
  const auto& c = GetParam();
  chunk_reader reader;
  std::vector<message> out;
  auto r = reader.feed(c.input, out);
  EXPECT_FALSE(r.error) << r.error.message();
  EXPECT_EQ(r.consumed, c.input.size());
  EXPECT_EQ(reader.bytes_received(), c.input.size());
  EXPECT_EQ(reader.chunk_size(), c.chunk_size_after);
  expect_messages(out, c.expected);
}

TEST_P(reader_table, Chunk_split_at_every_offset) {
  const auto& c = GetParam();
  for (std::size_t cut = 0; cut <= c.input.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    chunk_reader reader;
    expect_messages(feed_cut(reader, c.input, {cut}), c.expected);
    EXPECT_EQ(reader.bytes_received(), c.input.size());
  }
}

TEST_P(reader_table, Chunk_byte_by_byte) {
  const auto& c = GetParam();
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < c.input.size(); ++i) cuts.push_back(i);
  chunk_reader reader;
  expect_messages(feed_cut(reader, c.input, cuts), c.expected);
}

INSTANTIATE_TEST_SUITE_P(ChunkReader, reader_table, testing::ValuesIn(reader_cases()),
                         [](const auto& info) { return std::string{info.param.name}; });

// Errors: each input fails with the given error after delivering `before` messages.
struct error_case {
  const char* name;
  bytes input;
  chunk_errc error;
  std::size_t before = 0;
  chunk_reader_limits limits = {};
};

// gtest prints the case name instead of the bytes of the struct.
void PrintTo(const error_case& c, std::ostream* os) { *os << c.name; }

const std::vector<error_case>& error_cases() {
  static const std::vector<error_case> cases = {
      {"chunk_size_zero", hex("02 000000 000004 01 00000000 00000000"), chunk_errc::bad_chunk_size},
      {"chunk_size_2_24", hex("02 000000 000004 01 00000000 01000000"), chunk_errc::bad_chunk_size},
      {"chunk_size_2_31_minus_1", hex("02 000000 000004 01 00000000 7fffffff"),
       chunk_errc::bad_chunk_size},
      {"chunk_size_reserved_bit_only", hex("02 000000 000004 01 00000000 80000000"),
       chunk_errc::bad_chunk_size},
      {"set_chunk_size_too_short", hex("02 000000 000003 01 00000000 000010"),
       chunk_errc::bad_control_message},
      {"abort_too_short", hex("02 000000 000000 02 00000000"), chunk_errc::bad_control_message},
      {"message_over_the_cap",
       hex("03 000000 000065 14 00000000"),
       chunk_errc::message_too_large,
       0,
       {.max_message_size = 100}},
      {"fmt1_over_the_cap",
       hex("03 000000 000001 14 00000000 aa  43 000000 000065 14"),
       chunk_errc::message_too_large,
       1,
       {.max_message_size = 100}},
      {"fmt3_on_unknown_chunk_stream", hex("c5 aa"), chunk_errc::unknown_chunk_stream},
      {"fmt2_on_unknown_chunk_stream", hex("82 000000"), chunk_errc::unknown_chunk_stream},
      {"fmt1_on_unknown_chunk_stream_3", hex("43 000000 000001 14 aa"),
       chunk_errc::unknown_chunk_stream},
      {"too_many_chunk_streams",
       hex("03 000000 000001 14 00000000 aa  04 000000 000001 08 00000000 bb"
           "05 000000 000001 09 00000000 cc"),
       chunk_errc::too_many_chunk_streams,
       2,
       {.max_chunk_streams = 2}},
  };
  return cases;
}

class reader_errors : public testing::TestWithParam<error_case> {};

TEST_P(reader_errors, Chunk_error) {
  const auto& c = GetParam();
  chunk_reader reader{c.limits};
  std::vector<message> out;
  auto r = reader.feed(c.input, out);
  EXPECT_EQ(r.error, c.error) << r.error.message();
  EXPECT_LE(r.consumed, c.input.size());
  EXPECT_EQ(out.size(), c.before);
  // Sticky: the connection is to be closed, nothing more is read.
  auto again = reader.feed(c.input, out);
  EXPECT_EQ(again.error, c.error);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_EQ(out.size(), c.before);
}

INSTANTIATE_TEST_SUITE_P(ChunkReader, reader_errors, testing::ValuesIn(error_cases()),
                         [](const auto& info) { return std::string{info.param.name}; });

TEST(ChunkReader, message_at_the_cap_is_accepted) {
  chunk_reader reader{{.max_message_size = 100}};
  std::vector<message> out;
  reader.feed(cat({hex("02 000000 000004 01 00000000 00001000"),
                   hex("03 000000 000064 14 00000000"), pattern(100)}),
              out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].payload.size(), 100u);
}

TEST(ChunkReader, error_codes_have_a_category_and_messages) {
  std::error_code ec = chunk_errc::message_too_large;
  EXPECT_EQ(ec.category(), chunk_category());
  EXPECT_STREQ(ec.category().name(), "rtmp.chunk");
  for (int e = 1; e <= 7; ++e) {
    const std::error_code code = make_error_code(static_cast<chunk_errc>(e));
    EXPECT_NE(code.message(), "unknown RTMP chunk error");
  }
}

TEST(ChunkReader, large_message_assembled_across_segments) {
  // Larger than the first 64 KiB segment: several segments, concatenated once at the end.
  const bytes payload = pattern(300'000, 9);
  message m{.chunk_stream_id = 6,
            .type = 9,
            .timestamp = 40,
            .stream_id = 1,
            .payload = shared_buffer::copy_of(payload)};
  bytes wire;
  append_chunked(wire, set_chunk_size_message(4096), 128);
  append_chunked(wire, m, 4096);
  for (std::size_t piece : {std::size_t{1000}, std::size_t{4096 + 1}, wire.size()}) {
    chunk_reader reader;
    std::vector<message> out;
    for (std::size_t at = 0; at < wire.size(); at += piece) {
      const std::size_t n = std::min(piece, wire.size() - at);
      ASSERT_EQ(reader.feed(std::span{wire}.subspan(at, n), out).consumed, n);
    }
    ASSERT_EQ(out.size(), 2u);
    expect_messages({out[1]}, {{6, 9, 40, 1, payload}});
  }
}

TEST(ChunkReader, whole_single_chunk_message_is_not_staged) {
  // A message that arrives in one piece is copied once, straight into its own buffer.
  chunk_reader reader;
  std::vector<message> out;
  reader.feed(cat({hex("03 000000 000005 14 00000000"), text("hello")}), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload.use_count(), 1u);
  EXPECT_EQ(out[0].payload.text(), "hello");
}

TEST(ChunkReader, counts_bytes_across_feeds) {
  chunk_reader reader;
  std::vector<message> out;
  const bytes in = hex("03 000000 000002 14 00000000 aabb");
  reader.feed(std::span{in}.first(5), out);
  EXPECT_EQ(reader.bytes_received(), 5u);
  reader.feed(std::span{in}.subspan(5), out);
  EXPECT_EQ(reader.bytes_received(), in.size());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(reader.chunk_stream_count(), 1u);
}

TEST(ChunkReader, empty_feed_is_a_no_op) {
  chunk_reader reader;
  std::vector<message> out;
  auto r = reader.feed({}, out);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_FALSE(r.error);
  EXPECT_TRUE(out.empty());
}

// A longer stream mixing every kind of chunk, cut at every pair of offsets.
TEST(ChunkReader, split_at_every_pair_of_offsets) {
  const bytes in = cat({hex("02 000000 000004 01 00000000 00000010"),  // chunk size 16
                        hex("06 ffffff 000028 09 01000000 01000000"),  // video, 40 bytes
                        slice(v200, 0, 16),
                        hex("04 000000 000003 08 01000000 aabbcc"),  // audio between
                        hex("c6 01000000"), slice(v200, 16, 32),     // extended repeated
                        hex("c6"), slice(v200, 32, 40),              // ... and not
                        hex("c4 ddeeff"),                            // fmt 3 new audio
                        hex("03 000000 000000 14 00000000"),         // empty command
                        hex("43 000005 000002 12 1122")});
  const std::vector<want> expected = {{2, 1, 0, 0, hex("00000010")},
                                      {4, 8, 0, 1, hex("aabbcc")},
                                      {6, 9, 0x01000000, 1, slice(v200, 0, 40)},
                                      {4, 8, 0, 1, hex("ddeeff")},
                                      {3, 20, 0, 0, {}},
                                      {3, 18, 5, 0, hex("1122")}};
  for (std::size_t i = 0; i <= in.size(); ++i)
    for (std::size_t j = i; j <= in.size(); ++j) {
      SCOPED_TRACE("cuts at " + std::to_string(i) + ", " + std::to_string(j));
      chunk_reader reader;
      expect_messages(feed_cut(reader, in, {i, j}), expected);
      if (testing::Test::HasFailure()) return;
    }
}

// The first chunk (128 bytes) of a 1,000-byte message on chunk stream `csid`: the rest never comes.
bytes unfinished_message(std::uint8_t csid) {
  bytes b{std::byte{csid}, std::byte{0}, std::byte{0}, std::byte{0},  // fmt 0, timestamp 0
          std::byte{0}, std::byte{0x03}, std::byte{0xe8},              // length 1000
          std::byte{9},                                                // video
          std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}};     // message stream 1
  b.resize(b.size() + 128, std::byte{0x5a});
  return b;
}

TEST(ChunkReader, incomplete_messages_are_held_to_the_connections_limit) {
  // All but the last chunk of a message on many chunk streams (issue 13): without a limit on
  // their sum, one connection holds max_chunk_streams x max_message_size.
  chunk_reader reader({.max_buffered_bytes = 3000});
  std::vector<message> out;
  for (std::uint8_t csid = 3; csid < 6; ++csid) {
    auto r = reader.feed(unfinished_message(csid), out);
    ASSERT_FALSE(r.error) << r.error.message();
  }
  EXPECT_EQ(reader.buffered_bytes(), 3000u);
  auto r = reader.feed(unfinished_message(6), out);
  EXPECT_EQ(r.error, chunk_errc::buffer_limit);
  EXPECT_TRUE(out.empty());
}

TEST(ChunkReader, the_limit_can_be_raised_for_a_publisher) {
  chunk_reader reader({.max_buffered_bytes = 1000});
  std::vector<message> out;
  ASSERT_FALSE(reader.feed(unfinished_message(3), out).error);
  reader.set_buffer_limit(2000);
  EXPECT_FALSE(reader.feed(unfinished_message(4), out).error);
  EXPECT_EQ(reader.feed(unfinished_message(5), out).error, chunk_errc::buffer_limit);
}

TEST(ChunkReader, the_process_wide_budget_is_shared_and_given_back) {
  memory_budget budget{2500};
  {
    chunk_reader a({.budget = &budget}), b({.budget = &budget});
    std::vector<message> out;
    ASSERT_FALSE(a.feed(unfinished_message(3), out).error);
    ASSERT_FALSE(b.feed(unfinished_message(3), out).error);
    EXPECT_EQ(budget.used(), 2000u);
    EXPECT_EQ(a.feed(unfinished_message(4), out).error, chunk_errc::server_buffer_limit);
    EXPECT_EQ(budget.used(), 2000u);
  }
  EXPECT_EQ(budget.used(), 0u);  // closing a connection returns what it held
}

TEST(ChunkReader, oldest_incomplete_message_is_told_and_forgotten_when_complete) {
  chunk_reader reader;
  std::vector<message> out;
  EXPECT_FALSE(reader.oldest_incomplete());
  const auto t0 = chunk_reader::time_point{} + std::chrono::seconds(5);
  auto first = unfinished_message(3);
  ASSERT_FALSE(reader.feed(first, out, t0).error);
  ASSERT_EQ(reader.oldest_incomplete(), t0);
  // The rest: 7 more chunks of 128 (fmt 3 headers), the last one 104 bytes.
  bytes rest;
  for (std::size_t left = 1000 - 128; left > 0;) {
    const std::size_t n = std::min<std::size_t>(left, 128);
    rest.push_back(std::byte{0xc3});
    rest.resize(rest.size() + n, std::byte{0x5a});
    left -= n;
  }
  ASSERT_FALSE(reader.feed(rest, out, t0 + std::chrono::seconds(1)).error);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload.size(), 1000u);
  EXPECT_FALSE(reader.oldest_incomplete());
  EXPECT_EQ(reader.buffered_bytes(), 0u);
}

}  // namespace
}  // namespace junction::rtmp
