// chunked()/chunk_writer: hand-computed chunk bytes for each header form (RTMP spec 1.0 section
// 5.3.1), exact sizes, and round trips through chunk_reader across chunk sizes and payload sizes.
#include "rtmp/chunk_writer.hpp"
#include "rtmp/chunk_reader.hpp"
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

message make(std::uint32_t csid, std::uint8_t type, std::uint32_t timestamp,
             std::uint32_t stream_id, const bytes& payload) {
  return {.chunk_stream_id = csid,
          .type = type,
          .timestamp = timestamp,
          .stream_id = stream_id,
          .payload = shared_buffer::copy_of(payload)};
}

void expect_same(const message& got, const message& want) {
  EXPECT_EQ(got.chunk_stream_id, want.chunk_stream_id);
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.timestamp, want.timestamp);
  EXPECT_EQ(got.stream_id, want.stream_id);
  EXPECT_TRUE(std::ranges::equal(got.payload.bytes(), want.payload.bytes()))
      << "payload of " << got.payload.size() << " bytes, want " << want.payload.size();
}

// Reads `wire` in pieces of `piece` bytes, requiring no error and every byte consumed.
std::vector<message> read_all(const bytes& wire, std::size_t piece = 0) {
  chunk_reader reader{{.max_message_size = 0xFFFFFF, .max_chunk_streams = 64}};
  std::vector<message> out;
  if (piece == 0) piece = wire.size() + 1;
  for (std::size_t at = 0; at < wire.size(); at += piece) {
    const std::size_t n = std::min(piece, wire.size() - at);
    auto r = reader.feed(std::span{wire}.subspan(at, n), out);
    EXPECT_FALSE(r.error) << r.error.message();
    EXPECT_EQ(r.consumed, n);
  }
  return out;
}

struct chunked_case {
  const char* name;
  message m;
  std::uint32_t chunk_size;
  bytes expected;
};

// gtest prints the case name instead of the bytes of the struct.
void PrintTo(const chunked_case& c, std::ostream* os) { *os << c.name; }

const bytes p10 = pattern(10, 3);

const std::vector<chunked_case>& chunked_cases() {
  static const std::vector<chunked_case> cases = {
      {"one_chunk", make(3, 20, 100, 0, hex("68656c6c6f")), 128,
       hex("03 000064 000005 14 00000000 68656c6c6f")},
      {"stream_id_little_endian", make(4, 9, 0, 0x04030201, hex("cc")), 128,
       hex("04 000000 000001 09 01020304 cc")},
      {"empty_payload", make(3, 20, 0, 0, {}), 128, hex("03 000000 000000 14 00000000")},
      {"csid_63_one_byte", make(63, 8, 1, 0, hex("aa")), 128,
       hex("3f 000001 000001 08 00000000 aa")},
      {"csid_64_two_bytes", make(64, 8, 1, 0, hex("aa")), 128,
       hex("00 00 000001 000001 08 00000000 aa")},
      {"csid_319_two_bytes", make(319, 8, 1, 0, hex("aa")), 128,
       hex("00 ff 000001 000001 08 00000000 aa")},
      {"csid_320_three_bytes", make(320, 8, 1, 0, hex("aabb")), 1,
       hex("01 00 01 000001 000002 08 00000000 aa  c1 00 01 bb")},
      {"csid_65599_three_bytes", make(65599, 8, 1, 0, hex("aa")), 128,
       hex("01 ff ff 000001 000001 08 00000000 aa")},
      {"continuations_are_fmt3", make(6, 9, 0, 1, p10), 4,
       cat({hex("06 000000 00000a 09 01000000"), slice(p10, 0, 4), hex("c6"), slice(p10, 4, 8),
            hex("c6"), slice(p10, 8, 10)})},
      {"payload_exactly_one_chunk", make(6, 9, 0, 1, slice(p10, 0, 4)), 4,
       cat({hex("06 000000 000004 09 01000000"), slice(p10, 0, 4)})},
      {"largest_plain_timestamp", make(3, 20, 0xFFFFFE, 0, hex("aa")), 128,
       hex("03 fffffe 000001 14 00000000 aa")},
      {"timestamp_ffffff_is_extended", make(3, 20, 0xFFFFFF, 0, hex("aa")), 128,
       hex("03 ffffff 000001 14 00000000 00ffffff aa")},
      {"extended_timestamp_repeated_in_continuations", make(6, 9, 0x01000000, 1, slice(p10, 0, 6)),
       4,
       cat({hex("06 ffffff 000006 09 01000000 01000000"), slice(p10, 0, 4), hex("c6 01000000"),
            slice(p10, 4, 6)})},
  };
  return cases;
}

class chunked_table : public testing::TestWithParam<chunked_case> {};

TEST_P(chunked_table, Chunk_bytes) {
  const auto& c = GetParam();
  const shared_buffer buffer = chunked(c.m, c.chunk_size);
  EXPECT_EQ(to_bytes(buffer), c.expected);
  EXPECT_EQ(chunked_size(c.m.chunk_stream_id, c.m.timestamp, c.m.payload.size(), c.chunk_size),
            c.expected.size());
  bytes appended = hex("ee");  // appends after what is there
  append_chunked(appended, c.m, c.chunk_size);
  EXPECT_EQ(appended, cat({hex("ee"), c.expected}));
  // Read back.
  auto got =
      read_all(cat({to_bytes(chunked(set_chunk_size_message(c.chunk_size), 128)), c.expected}));
  ASSERT_EQ(got.size(), 2u);
  expect_same(got[1], c.m);
}

INSTANTIATE_TEST_SUITE_P(ChunkWriter, chunked_table, testing::ValuesIn(chunked_cases()),
                         [](const auto& info) { return std::string{info.param.name}; });

TEST(ChunkWriter, chunked_size_is_exact) {
  for (std::uint32_t csid : {2u, 63u, 64u, 319u, 320u, 65599u})
    for (std::uint32_t ts : {0u, 0xFFFFFEu, 0xFFFFFFu, 0xFFFFFFFFu})
      for (std::uint32_t chunk_size : {1u, 3u, 128u, 4096u})
        for (std::size_t n : {0u, 1u, 2u, 3u, 127u, 128u, 129u, 4096u, 4097u, 10000u}) {
          const bytes payload = pattern(n);
          const auto buffer = chunked(csid, 9, ts, 1, payload, chunk_size);
          ASSERT_EQ(buffer.size(), chunked_size(csid, ts, n, chunk_size))
              << csid << " " << ts << " " << chunk_size << " " << n;
        }
}

TEST(ChunkWriter, chunk_size_zero_is_treated_as_one) {
  const auto m = make(3, 20, 0, 0, hex("aabb"));
  EXPECT_EQ(to_bytes(chunked(m, 0)), to_bytes(chunked(m, 1)));
  EXPECT_EQ(chunk_writer{0}.chunk_size(), 1u);
}

// Writer -> reader across the chunk sizes that matter: 1 (every byte its own chunk), the default
// 128, common server choices, and the largest the reader accepts.
TEST(ChunkWriter, round_trip_across_chunk_and_payload_sizes) {
  std::vector<std::size_t> sizes;
  for (std::size_t n = 0; n <= 300; ++n) sizes.push_back(n);
  for (std::size_t n : {4095u, 4096u, 4097u, 65535u, 65536u, 65537u, 200'000u}) sizes.push_back(n);
  const std::uint32_t csids[] = {2, 63, 64, 319, 320, 65599};
  const std::uint32_t timestamps[] = {0, 1000, 0xFFFFFE, 0xFFFFFF, 0xFFFFFFFF};
  for (std::uint32_t chunk_size : {1u, 128u, 4096u, 65536u, 0xFFFFFFu}) {
    SCOPED_TRACE("chunk size " + std::to_string(chunk_size));
    bytes wire;
    append_chunked(wire, set_chunk_size_message(chunk_size), 128);
    std::vector<message> sent;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      sent.push_back(make(csids[i % 6], static_cast<std::uint8_t>(8 + i % 2), timestamps[i % 5],
                          static_cast<std::uint32_t>(i % 3),
                          pattern(sizes[i], static_cast<int>(i))));
      append_chunked(wire, sent.back(), chunk_size);
    }
    for (std::size_t piece : {std::size_t{0}, std::size_t{997}}) {
      auto got = read_all(wire, piece);
      ASSERT_EQ(got.size(), sent.size() + 1);
      for (std::size_t i = 0; i < sent.size(); ++i) {
        SCOPED_TRACE("message " + std::to_string(i));
        expect_same(got[i + 1], sent[i]);
      }
    }
  }
}

// Header compression, byte for byte (5.3.1.2), then decoded back.
TEST(ChunkWriter, compresses_headers) {
  chunk_writer writer;
  const std::vector<message> sent = {
      make(3, 20, 0, 0, hex("6162")),     // first on the chunk stream: fmt 0
      make(3, 20, 10, 0, hex("6364")),    // same length and type: fmt 2 (no fmt 3 after fmt 0)
      make(3, 20, 20, 0, hex("6566")),    // same delta again: fmt 3
      make(3, 20, 25, 0, hex("6768")),    // new delta: fmt 2
      make(3, 20, 30, 0, hex("78797a")),  // new length: fmt 1
      make(3, 18, 30, 0, hex("78797a")),  // new type, delta 0: fmt 1
      make(3, 18, 30, 1, hex("78797a")),  // new message stream: fmt 0
      make(3, 18, 29, 1, hex("78797a")),  // timestamp backwards: fmt 0
      make(4, 8, 29, 1, hex("01")),       // another chunk stream: its own fmt 0
  };
  const std::vector<bytes> expected = {
      hex("03 000000 000002 14 00000000 6162"),
      hex("83 00000a 6364"),
      hex("c3 6566"),
      hex("83 000005 6768"),
      hex("43 000005 000003 14 78797a"),
      hex("43 000000 000003 12 78797a"),
      hex("03 00001e 000003 12 01000000 78797a"),
      hex("03 00001d 000003 12 01000000 78797a"),
      hex("04 00001d 000001 08 01000000 01"),
  };
  bytes wire;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    bytes out;
    writer.write(out, sent[i]);
    EXPECT_EQ(out, expected[i]) << "message " << i;
    wire.insert(wire.end(), out.begin(), out.end());
  }
  auto got = read_all(wire);
  ASSERT_EQ(got.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) expect_same(got[i], sent[i]);
}

TEST(ChunkWriter, compresses_extended_deltas) {
  chunk_writer writer{4};
  const bytes p6 = pattern(6);
  const std::vector<message> sent = {
      make(4, 8, 0, 1, p6),
      make(4, 8, 0x01000000, 1, p6),  // extended delta: fmt 2 + field, repeated in continuations
      make(4, 8, 0x02000000, 1, p6),  // same delta: fmt 3, still carrying the field
  };
  bytes wire;
  for (const auto& m : sent) writer.write(wire, m);
  const bytes expected =
      cat({hex("04 000000 000006 08 01000000"), slice(p6, 0, 4), hex("c4"), slice(p6, 4, 6),
           hex("84 ffffff 01000000"), slice(p6, 0, 4), hex("c4 01000000"), slice(p6, 4, 6),
           hex("c4 01000000"), slice(p6, 0, 4), hex("c4 01000000"), slice(p6, 4, 6)});
  EXPECT_EQ(wire, expected);
  chunk_reader reader;
  std::vector<message> got;
  auto set_size = chunked(set_chunk_size_message(4), 128);
  reader.feed(set_size.bytes(), got);
  reader.feed(wire, got);
  ASSERT_EQ(got.size(), 4u);
  for (std::size_t i = 0; i < sent.size(); ++i) expect_same(got[i + 1], sent[i]);
}

TEST(ChunkWriter, set_chunk_size_applies_to_later_messages) {
  chunk_writer writer;
  bytes out;
  writer.write(out, set_chunk_size_message(4));  // goes out with the old size
  writer.set_chunk_size(4);
  EXPECT_EQ(writer.chunk_size(), 4u);
  writer.write(out, make(3, 20, 0, 0, p10));
  EXPECT_EQ(out,
            cat({hex("02 000000 000004 01 00000000 00000004"), hex("03 000000 00000a 14 00000000"),
                 slice(p10, 0, 4), hex("c3"), slice(p10, 4, 8), hex("c3"), slice(p10, 8, 10)}));
}

TEST(ChunkWriter, forget_restarts_with_a_full_header) {
  chunk_writer writer;
  bytes out;
  writer.write(out, make(3, 20, 0, 0, hex("aa")));
  writer.forget(3);
  out.clear();
  writer.write(out, make(3, 20, 5, 0, hex("bb")));
  EXPECT_EQ(out, hex("03 000005 000001 14 00000000 bb"));
}

// A deterministic mix of chunk streams, message streams, timestamps and sizes, with chunk size
// changes, through the compressing writer and back.
TEST(ChunkWriter, compressed_round_trip) {
  std::uint32_t state = 12345;
  auto next = [&state](std::uint32_t below) {  // xorshift32: same sequence on every platform
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state % below;
  };
  chunk_writer writer;
  bytes wire;
  std::vector<message> sent;
  std::uint32_t timestamp[8] = {};
  const std::uint32_t chunk_sizes[] = {1, 7, 128, 4096};
  for (int i = 0; i < 2000; ++i) {
    if (next(50) == 0) {
      const std::uint32_t size = chunk_sizes[next(4)];
      sent.push_back(set_chunk_size_message(size));
      writer.write(wire, sent.back());
      writer.set_chunk_size(size);
      continue;
    }
    const std::uint32_t csid = 3 + next(4) * 100;  // 3, 103, 203, 303: all basic header forms
    std::uint32_t& ts = timestamp[next(8) % 4];
    const std::uint32_t step = next(4);
    ts += step == 0 ? 0 : step == 1 ? 33 : step == 2 ? 0x01000000 : next(100);
    if (next(20) == 0) ts -= 50;  // backwards now and then
    const std::size_t length = next(3) == 0 ? next(1000) : 40 + 10 * next(2);
    sent.push_back(make(csid, static_cast<std::uint8_t>(8 + next(2)), ts, next(4) == 0 ? 1 : 0,
                        pattern(length, i)));
    writer.write(wire, sent.back());
  }
  for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{1013}}) {
    auto got = read_all(wire, piece);
    ASSERT_EQ(got.size(), sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
      SCOPED_TRACE("message " + std::to_string(i));
      expect_same(got[i], sent[i]);
      if (testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace junction::rtmp
