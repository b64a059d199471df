#include "rtmp/handshake.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace junction::rtmp {
namespace {

using bytes = std::vector<std::byte>;
constexpr std::size_t packet = 1536;

// The vector tests' "random" bytes: (j * 73 + 41) & 0xff, j restarting at 0 for each region
// filled. tests/vectors/rtmp/make_handshake_vectors.py uses the same rule.
std::byte pattern(std::size_t j) { return static_cast<std::byte>((j * 73 + 41) & 0xff); }
void fill_pattern(std::span<std::byte> out) {
  for (std::size_t j = 0; j < out.size(); ++j) out[j] = pattern(j);
}

// A reproducible stream (xorshift32) for round trips, so client and server bytes differ and a
// fresh copy of the same options replays the same handshake.
std::function<void(std::span<std::byte>)> seeded(std::uint32_t seed) {
  auto state = std::make_shared<std::uint32_t>(seed);
  return [state](std::span<std::byte> out) {
    std::uint32_t x = *state;  // a local copy: the split tests run this ~10^7 times in Debug
    for (auto& b : out) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      b = static_cast<std::byte>(x);
    }
    *state = x;
  };
}

handshake_options options(bool digest, int schema, std::uint32_t seed) {
  handshake_options o;
  o.digest = digest;
  o.schema = schema;
  o.epoch = seed * 1000;
  o.fill_random = seeded(seed);
  return o;
}

// std::equal on bytes is a memcmp even in Debug, unlike std::ranges::equal.
bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

bytes concat(std::span<const std::byte> a, std::span<const std::byte> b) {
  bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::size_t digest_offset(std::span<const std::byte> p, int schema) {
  const std::size_t base = schema == 0 ? 772 : 8;
  unsigned sum = 0;
  for (std::size_t i = 0; i < 4; ++i) sum += std::to_integer<unsigned>(p[base + i]);
  return sum % 728 + base + 4;
}

// ---- round trips -----------------------------------------------------------------------------

struct round_trip_case {
  const char* name;
  bool client_digest;
  int client_schema;
  bool server_digest;
  int expected_schema;  // what both ends report
};

const round_trip_case round_trips[] = {
    {"digest schema 1", true, 1, true, 1},
    {"digest schema 0", true, 0, true, 0},
    {"plain client, digest server", false, 1, true, -1},
    {"digest client, plain server", true, 1, false, -1},
    {"plain both", false, 0, false, -1},
};

// One handshake fed whole, checked step by step; returns each side's byte stream.
struct transcript {
  bytes client_stream;  // C0 C1 C2
  bytes server_stream;  // S0 S1 S2
};

transcript run(const round_trip_case& c) {
  client_handshake client(options(c.client_digest, c.client_schema, 7));
  server_handshake server(options(c.server_digest, 1, 11));

  const bytes c0c1 = client.start();
  EXPECT_EQ(c0c1.size(), 1 + packet);
  const auto s = server.feed(c0c1);
  EXPECT_EQ(s.consumed, 1 + packet);
  EXPECT_EQ(s.output.size(), 1 + 2 * packet);
  EXPECT_FALSE(s.done);
  EXPECT_FALSE(s.error);

  const auto cl = client.feed(s.output);
  EXPECT_EQ(cl.consumed, 1 + 2 * packet);
  EXPECT_EQ(cl.output.size(), packet);
  EXPECT_TRUE(cl.done);
  EXPECT_FALSE(cl.error) << cl.error.message();

  const auto fin = server.feed(cl.output);
  EXPECT_EQ(fin.consumed, packet);
  EXPECT_TRUE(fin.output.empty());
  EXPECT_TRUE(fin.done);
  EXPECT_FALSE(fin.error);

  EXPECT_EQ(server.schema(), c.expected_schema);
  EXPECT_EQ(server.digest_used(), c.expected_schema >= 0);
  EXPECT_EQ(client.schema(), c.expected_schema);
  EXPECT_TRUE(server.c2_echo_ok());
  EXPECT_TRUE(client.s2_echo_ok());
  return {concat(c0c1, cl.output), s.output};
}

TEST(HandshakeRoundTrip, EveryFlavour) {
  for (const auto& c : round_trips) {
    SCOPED_TRACE(c.name);
    run(c);
  }
}

TEST(HandshakeRoundTrip, DefaultRandomnessFromOpenSSL) {
  client_handshake client;
  server_handshake server;
  const auto s = server.feed(client.start());
  const auto c = client.feed(s.output);
  ASSERT_TRUE(c.done);
  EXPECT_TRUE(server.feed(c.output).done);
  EXPECT_EQ(server.schema(), 1);  // defaults: digest on, schema 1
  EXPECT_NE(client_handshake{}.start(), client_handshake{}.start());
}

// ---- split at every byte offset --------------------------------------------------------------

// Feeds `stream` + trailing chunk-stream bytes in two parts split at `k`; returns what came out.
template <typename Handshake>
bytes feed_split(Handshake& hs, const bytes& stream, std::size_t k) {
  const bytes input = concat(stream, bytes{std::byte{0x02}, std::byte{0x00}, std::byte{0x00}});
  const std::span<const std::byte> all(input);
  bytes out;
  std::size_t consumed = 0;
  bool done = false;
  for (auto part : {all.first(k), all.subspan(k)}) {
    const auto step = hs.feed(part);
    EXPECT_FALSE(step.error);
    EXPECT_LE(step.consumed, part.size());
    consumed += step.consumed;
    done = step.done;
    out.insert(out.end(), step.output.begin(), step.output.end());
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(consumed, stream.size());  // the chunk-stream bytes are left alone
  return out;
}

TEST(HandshakeSplit, ServerAtEveryOffset) {
  for (const auto& c : round_trips) {
    SCOPED_TRACE(c.name);
    const transcript t = run(c);
    for (std::size_t k = 0; k <= t.client_stream.size(); ++k) {
      server_handshake server(options(c.server_digest, 1, 11));
      ASSERT_EQ(feed_split(server, t.client_stream, k), t.server_stream) << "split at " << k;
      ASSERT_EQ(server.schema(), c.expected_schema);
      ASSERT_TRUE(server.c2_echo_ok());
    }
  }
}

TEST(HandshakeSplit, ClientAtEveryOffset) {
  for (const auto& c : round_trips) {
    SCOPED_TRACE(c.name);
    const transcript t = run(c);
    const std::span<const std::byte> c0c1 = std::span(t.client_stream).first(1 + packet);
    const std::span<const std::byte> c2 = std::span(t.client_stream).subspan(1 + packet);
    for (std::size_t k = 0; k <= t.server_stream.size(); ++k) {
      client_handshake client(options(c.client_digest, c.client_schema, 7));
      ASSERT_TRUE(same(client.start(), c0c1));
      ASSERT_TRUE(same(feed_split(client, t.server_stream, k), c2))
          << "split at " << k;
      ASSERT_EQ(client.schema(), c.expected_schema);
      ASSERT_TRUE(client.s2_echo_ok());
    }
  }
}

TEST(HandshakeSplit, OneByteAtATime) {
  const transcript t = run(round_trips[0]);
  server_handshake server(options(true, 1, 11));
  bytes out;
  for (std::size_t i = 0; i < t.client_stream.size(); ++i) {
    const auto step = server.feed(std::span(t.client_stream).subspan(i, 1));
    ASSERT_EQ(step.consumed, 1u);
    ASSERT_EQ(step.done, i + 1 == t.client_stream.size());
    out.insert(out.end(), step.output.begin(), step.output.end());
  }
  EXPECT_EQ(out, t.server_stream);
}

// ---- vectors from tests/vectors/rtmp/make_handshake_vectors.py (Python hmac/hashlib) ---------

struct digest_vector {
  int schema;
  std::size_t c1_at;  // C1 and S1 digests sit at the same offset: same pattern bytes at the base
  std::array<std::uint8_t, 32> c1, s1, s2, c2;
};

const digest_vector vectors[] = {
    {1,
     358,
     {0x5a, 0xcf, 0xcd, 0x03, 0xfd, 0xc7, 0x83, 0x72, 0x06, 0x47, 0x2c,
      0x2e, 0x47, 0x0d, 0xbb, 0x17, 0x3d, 0x8b, 0xae, 0x60, 0x8c, 0x2f,
      0xef, 0x09, 0x6f, 0xa3, 0x35, 0xd1, 0xd3, 0xf1, 0x02, 0x6d},
     {0xaf, 0xbf, 0x90, 0xd6, 0x99, 0xf7, 0xfe, 0xdc, 0xd3, 0xcb, 0xb9,
      0xcc, 0xd0, 0xc1, 0x42, 0xdf, 0xaf, 0xae, 0x1c, 0x88, 0xf8, 0x76,
      0x86, 0x63, 0x8f, 0x94, 0xf3, 0xae, 0x2f, 0x7d, 0x5c, 0x34},
     {0x9b, 0x95, 0xb8, 0xf7, 0x1c, 0x8e, 0x60, 0x29, 0xa1, 0xf9, 0x30,
      0xea, 0x86, 0x7c, 0xb8, 0x3d, 0xea, 0x1e, 0xf1, 0x24, 0x52, 0x29,
      0xe3, 0x0b, 0xab, 0xa9, 0x4b, 0x82, 0x09, 0x43, 0x0e, 0x4a},
     {0x5f, 0x5b, 0xe7, 0x5a, 0x87, 0xe0, 0xfc, 0xe2, 0xfa, 0xd4, 0x20,
      0xc7, 0xc5, 0xc3, 0xa1, 0x0f, 0x47, 0x7f, 0xe5, 0x52, 0x7f, 0xd8,
      0xc6, 0x6c, 0x3a, 0x42, 0x73, 0xcd, 0xe1, 0xef, 0x79, 0xaa}},
    {0,
     1234,
     {0x7e, 0x03, 0xf9, 0x91, 0x24, 0x6a, 0x2e, 0xa9, 0x07, 0x3d, 0xf2,
      0xbe, 0xa0, 0x03, 0xa1, 0x9e, 0xc7, 0x21, 0x51, 0xf4, 0xdd, 0x30,
      0x63, 0x1c, 0x1b, 0x4e, 0x0d, 0x77, 0xcc, 0x0d, 0xbe, 0x19},
     {0x10, 0x43, 0x82, 0xae, 0xe6, 0xc0, 0x06, 0x99, 0xb7, 0x4a, 0x71,
      0x89, 0xa7, 0xa0, 0x7f, 0x16, 0x2f, 0xd4, 0xea, 0x82, 0x4d, 0xc8,
      0x46, 0x05, 0x61, 0x73, 0xf5, 0xbe, 0x8c, 0x9c, 0x96, 0x39},
     {0x4b, 0xce, 0x6c, 0x50, 0xaa, 0x37, 0x96, 0x54, 0xed, 0x1c, 0x0b,
      0xc2, 0x8e, 0x4b, 0xf8, 0x81, 0x91, 0xd5, 0x9c, 0xf2, 0x93, 0xd2,
      0x04, 0x97, 0xc9, 0xd0, 0x44, 0x60, 0x5a, 0x69, 0x67, 0xa9},
     {0x3f, 0x03, 0x75, 0xe3, 0x3b, 0x1e, 0xc3, 0xbd, 0xfc, 0xa0, 0x75,
      0x04, 0x27, 0x72, 0xe0, 0x6d, 0xb9, 0x02, 0x01, 0x9b, 0x42, 0xd5,
      0x1c, 0x5e, 0x97, 0x07, 0xc7, 0x3a, 0xb2, 0x6d, 0xea, 0x94}},
};

// time, version, pattern from byte 8, `digest` at `at`.
bytes c1s1(std::uint32_t time, std::uint32_t version, std::size_t at,
           const std::array<std::uint8_t, 32>& digest) {
  bytes p(packet);
  for (int i = 0; i < 4; ++i) {
    p[i] = static_cast<std::byte>(time >> (24 - 8 * i));
    p[4 + i] = static_cast<std::byte>(version >> (24 - 8 * i));
  }
  fill_pattern(std::span(p).subspan(8));
  for (std::size_t i = 0; i < 32; ++i) p[at + i] = static_cast<std::byte>(digest[i]);
  return p;
}

// Pattern body, then `digest` in the last 32 bytes.
bytes c2s2(const std::array<std::uint8_t, 32>& digest) {
  bytes p(packet);
  fill_pattern(std::span(p).first(packet - 32));
  for (std::size_t i = 0; i < 32; ++i) p[packet - 32 + i] = static_cast<std::byte>(digest[i]);
  return p;
}

handshake_options pattern_options(int schema, std::uint32_t epoch) {
  handshake_options o;
  o.schema = schema;
  o.epoch = epoch;
  o.fill_random = fill_pattern;
  return o;
}

TEST(HandshakeVector, ClientC1MatchesReference) {
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.schema);
    client_handshake client(pattern_options(v.schema, 0));
    EXPECT_EQ(client.start(), concat(bytes{std::byte{3}}, c1s1(0, 0x09007c02, v.c1_at, v.c1)));
  }
}

TEST(HandshakeVector, ServerAnswersReferenceC1) {
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.schema);
    server_handshake server(pattern_options(1, 0x11223344));
    const auto step = server.feed(concat(bytes{std::byte{3}}, c1s1(0, 0x09007c02, v.c1_at, v.c1)));
    EXPECT_EQ(server.schema(), v.schema);
    const bytes expected = concat(
        concat(bytes{std::byte{3}}, c1s1(0x11223344, 0x0d0e0a0d, v.c1_at, v.s1)), c2s2(v.s2));
    EXPECT_EQ(step.output, expected);
    EXPECT_TRUE(server.feed(c2s2(v.c2)).done);
    EXPECT_TRUE(server.c2_echo_ok());
  }
}

TEST(HandshakeVector, ClientAnswersReferenceS1) {
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.schema);
    client_handshake client(pattern_options(v.schema, 0));
    client.start();
    const bytes s0s1s2 = concat(
        concat(bytes{std::byte{3}}, c1s1(0x11223344, 0x0d0e0a0d, v.c1_at, v.s1)), c2s2(v.s2));
    const auto step = client.feed(s0s1s2);
    ASSERT_TRUE(step.done) << step.error.message();
    EXPECT_EQ(step.output, c2s2(v.c2));
    EXPECT_EQ(client.schema(), v.schema);
    EXPECT_TRUE(client.s2_echo_ok());
  }
}

// ---- errors and fallbacks --------------------------------------------------------------------

struct version_case {
  std::uint8_t c0;
  handshake_errc expected;
};

const version_case bad_versions[] = {
    {0x00, handshake_errc::bad_version},
    {0x01, handshake_errc::bad_version},
    {0x02, handshake_errc::bad_version},
    {0x04, handshake_errc::bad_version},
    {0x47, handshake_errc::bad_version},  // 'G': someone speaking HTTP to the RTMP port
    {0xff, handshake_errc::bad_version},
    {0x06, handshake_errc::encrypted_not_supported},
    {0x08, handshake_errc::encrypted_not_supported},
    {0x09, handshake_errc::encrypted_not_supported},
};

TEST(HandshakeErrors, BadC0FailsOnTheFirstByte) {
  for (const auto& v : bad_versions) {
    SCOPED_TRACE(int{v.c0});
    server_handshake server(options(true, 1, 1));
    const bytes in{std::byte{v.c0}, std::byte{0}, std::byte{0}};
    const auto step = server.feed(in);
    EXPECT_EQ(step.error, make_error_code(v.expected));
    EXPECT_EQ(step.consumed, 1u);
    EXPECT_TRUE(step.output.empty());
    EXPECT_FALSE(step.done);
    EXPECT_EQ(server.feed(in).error, v.expected);  // sticky
  }
}

TEST(HandshakeErrors, BadS0) {
  for (const auto& v : bad_versions) {
    SCOPED_TRACE(int{v.c0});
    client_handshake client(options(true, 1, 1));
    client.start();
    EXPECT_EQ(client.feed(bytes{std::byte{v.c0}}).error, v.expected);
  }
}

TEST(HandshakeErrors, CategoryMessages) {
  const std::error_code ec = handshake_errc::encrypted_not_supported;
  EXPECT_STREQ(ec.category().name(), "rtmp.handshake");
  EXPECT_EQ(ec.message(), "encrypted RTMP (RTMPE) is not supported");
  for (auto e :
       {handshake_errc::bad_version, handshake_errc::bad_digest, handshake_errc::out_of_order})
    EXPECT_FALSE(make_error_code(e).message().empty());
}

TEST(HandshakeErrors, ClientFeedBeforeStart) {
  client_handshake client;
  EXPECT_EQ(client.feed(bytes(10, std::byte{3})).error, handshake_errc::out_of_order);
}

TEST(HandshakeServer, GarbageC1FallsBackToPlain) {
  bytes c1(packet);
  seeded(99)(c1);
  c1[4] = std::byte{0x80};  // a digest-style version, but no digest behind it
  server_handshake server(options(true, 1, 3));
  const auto step = server.feed(concat(bytes{std::byte{3}}, c1));
  ASSERT_FALSE(step.error);
  EXPECT_FALSE(server.digest_used());
  EXPECT_EQ(server.schema(), -1);
  const std::span<const std::byte> s1 = std::span(step.output).subspan(1, packet);
  EXPECT_TRUE(std::ranges::all_of(s1.subspan(4, 4), [](std::byte b) { return b == std::byte{0}; }));
  EXPECT_TRUE(same(std::span(step.output).subspan(1 + packet), c1));  // S2 echoes C1
  EXPECT_TRUE(server.feed(s1).done);
  EXPECT_TRUE(server.c2_echo_ok());
}

TEST(HandshakeServer, WrongC2IsOnlyDiagnostic) {
  server_handshake server(options(true, 1, 3));
  client_handshake client(options(true, 1, 4));
  server.feed(client.start());
  const auto step = server.feed(bytes(packet, std::byte{0}));
  EXPECT_TRUE(step.done);
  EXPECT_FALSE(step.error);
  EXPECT_FALSE(server.c2_echo_ok());
}

TEST(HandshakeServer, C2EchoIgnoresTime2) {
  // Bytes 4..7 of a plain C2 are "time2" (when the client read S1); only the random part must echo.
  server_handshake server(options(false, 1, 3));
  client_handshake client(options(false, 1, 4));
  bytes c2 = server.feed(client.start()).output;
  c2.erase(c2.begin(), c2.begin() + 1);
  c2.resize(packet);  // S1
  c2[5] = std::byte{0x77};
  EXPECT_TRUE(server.feed(c2).done);
  EXPECT_TRUE(server.c2_echo_ok());
}

TEST(HandshakeServer, EpochAndVersionInS1) {
  handshake_options o = options(true, 1, 3);
  o.epoch = 0xaabbccdd;
  server_handshake server(o);
  client_handshake client(options(true, 1, 4));
  const auto step = server.feed(client.start());
  const bytes head(step.output.begin() + 1, step.output.begin() + 9);
  EXPECT_EQ(head, (bytes{std::byte{0xaa}, std::byte{0xbb}, std::byte{0xcc}, std::byte{0xdd},
                         std::byte{0x0d}, std::byte{0x0e}, std::byte{0x0a}, std::byte{0x0d}}));
}

TEST(HandshakeServer, FeedAfterDoneConsumesNothing) {
  const transcript t = run(round_trips[0]);
  server_handshake server(options(true, 1, 11));
  ASSERT_TRUE(server.feed(t.client_stream).done);
  const auto again = server.feed(bytes(5, std::byte{1}));
  EXPECT_TRUE(again.done);
  EXPECT_EQ(again.consumed, 0u);
  EXPECT_TRUE(again.output.empty());
}

TEST(HandshakeClient, StartTwiceReturnsNothing) {
  client_handshake client;
  EXPECT_EQ(client.start().size(), 1 + packet);
  EXPECT_TRUE(client.start().empty());
}

// Server S0 S1 S2 for a digest client, with S1 then modified by `tamper`.
template <typename Tamper>
handshake_step answer_tampered(int schema, Tamper tamper) {
  client_handshake client(options(true, schema, 5));
  server_handshake server(options(true, 1, 6));
  bytes reply = server.feed(client.start()).output;
  tamper(std::span(reply).subspan(1, packet));
  return client.feed(reply);
}

TEST(HandshakeClient, TamperedS1DigestIsRejected) {
  for (int schema : {0, 1}) {
    SCOPED_TRACE(schema);
    auto in_digest = [schema](std::span<std::byte> s1) {
      s1[digest_offset(s1, schema) + 5] ^= std::byte{1};
    };
    auto in_body = [](std::span<std::byte> s1) { s1[1500] ^= std::byte{0x40}; };
    for (const auto& step :
         {answer_tampered(schema, in_digest), answer_tampered(schema, in_body)}) {
      EXPECT_EQ(step.error, handshake_errc::bad_digest);
      EXPECT_FALSE(step.done);
      EXPECT_TRUE(step.output.empty());
    }
  }
}

TEST(HandshakeClient, S1ClaimingDigestWithoutOneIsRejected) {
  client_handshake client(options(true, 1, 5));
  client.start();
  bytes reply(1 + 2 * packet, std::byte{0x5a});
  reply[0] = std::byte{3};
  EXPECT_EQ(client.feed(reply).error, handshake_errc::bad_digest);  // version byte 0x5a >= 3
}

TEST(HandshakeClient, FfmpegStyleS2WithZeroTime2EchoesC1) {
  // ffmpeg's listening server answers with S2 = C1's time, zero, C1's random bytes.
  client_handshake client(options(true, 1, 5));
  const bytes c0c1 = client.start();
  bytes s1(packet);
  seeded(42)(s1);
  std::fill_n(s1.begin() + 4, 4, std::byte{0});
  bytes s2(c0c1.begin() + 1, c0c1.end());
  std::fill_n(s2.begin() + 4, 4, std::byte{0});
  const auto step = client.feed(concat(concat(bytes{std::byte{3}}, s1), s2));
  ASSERT_TRUE(step.done);
  EXPECT_TRUE(client.s2_echo_ok());
}

TEST(HandshakeClient, OldServerVersionIsAnsweredPlainly) {
  // A plain server: S1 version 0 (or below FMS 3). C2 echoes S1, as ffmpeg does.
  for (std::uint8_t version : {0x00, 0x01, 0x02}) {
    SCOPED_TRACE(int{version});
    client_handshake client(options(true, 1, 5));
    const bytes c0c1 = client.start();
    bytes s1(packet);
    seeded(42)(s1);
    s1[4] = std::byte{version};
    const bytes reply = concat(concat(bytes{std::byte{3}}, s1), std::span(c0c1).subspan(1));
    const auto step = client.feed(reply);
    ASSERT_TRUE(step.done);
    EXPECT_EQ(step.output, s1);
    EXPECT_FALSE(client.digest_used());
    EXPECT_TRUE(client.s2_echo_ok());
  }
}

}  // namespace
}  // namespace junction::rtmp
