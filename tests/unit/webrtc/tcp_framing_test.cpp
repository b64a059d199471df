#include "webrtc/tcp_framing.hpp"

#include <gtest/gtest.h>

#include "webrtc/stun.hpp"

namespace junction::webrtc {
namespace {

using bytes = std::vector<std::uint8_t>;

// Three packets as ICE-TCP carries them: a STUN check, a DTLS record, an empty frame, an SRTP packet.
bytes stream_of(const std::vector<bytes>& packets) {
  bytes out;
  for (const auto& p : packets) EXPECT_TRUE(frame_for_tcp(p, out));
  return out;
}

const std::vector<bytes> packets = {
    stun::message_writer(stun::binding, stun::message_class::request, stun::new_transaction_id())
        .add(stun::attr::username, "a:b")
        .finish("pwd", true),
    bytes{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3, 1, 2, 3},
    bytes{},
    bytes(1200, 0x80),
};

TEST(TcpFraming, WholePacketsComeOutHoweverTheStreamIsCut) {
  const bytes stream = stream_of(packets);
  const std::vector<bytes> expected = {packets[0], packets[1], packets[3]};  // the empty frame carries nothing
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    tcp_deframer d;
    std::vector<bytes> got;
    auto keep = [&](std::span<const std::uint8_t> p) { got.emplace_back(p.begin(), p.end()); };
    d.feed(std::span(stream).first(cut), keep);
    d.feed(std::span(stream).subspan(cut), keep);
    ASSERT_EQ(got, expected) << "cut at " << cut;
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(TcpFraming, OneByteAtATime) {
  const bytes stream = stream_of(packets);
  tcp_deframer d;
  std::size_t count = 0;
  for (std::uint8_t b : stream) d.feed(std::span(&b, 1), [&](std::span<const std::uint8_t>) { ++count; });
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(TcpFraming, AnUnfinishedPacketWaitsAndTheLargestFits) {
  tcp_deframer d;
  const bytes big(tcp_deframer::max_packet, 7);
  bytes stream;
  ASSERT_TRUE(frame_for_tcp(big, stream));
  std::size_t got = 0;
  d.feed(std::span(stream).first(stream.size() - 1), [&](std::span<const std::uint8_t> p) { got = p.size(); });
  EXPECT_EQ(got, 0u);
  EXPECT_EQ(d.buffered(), stream.size() - 1);
  d.feed(std::span(stream).last(1), [&](std::span<const std::uint8_t> p) { got = p.size(); });
  EXPECT_EQ(got, big.size());
  bytes out;
  EXPECT_FALSE(frame_for_tcp(bytes(tcp_deframer::max_packet + 1), out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace junction::webrtc
