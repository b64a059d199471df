// client_protocol against server_protocol, in memory: every byte one side writes is fed to the
// other, and what each side sent is read back with a chunk reader of its own (a wire tap).
#include "rtmp/client_protocol.hpp"

#include "rtmp/control.hpp"
#include "rtmp/server_protocol.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace junction::rtmp {
namespace {

// Deterministic handshake bytes on both sides: reproducible runs, and two fixtures with the
// same options produce the same C1 (the split test replays one server's answer to another).
void fixed_fill(std::span<std::byte> b) {
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::byte(i * 7 + 1);
}

constexpr std::size_t handshake_bytes = 1 + 1536 + 1536;  // C0+C1+C2, and S0+S1+S2

shared_buffer pattern(std::size_t size, unsigned seed) {
  std::vector<std::byte> b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = std::byte((i * 31 + seed) & 0xFF);
  return shared_buffer::copy_of(b);
}

// Reads one side's output as the peer would, skipping the handshake bytes first.
struct wire_tap {
  chunk_reader reader;
  std::size_t skip = handshake_bytes;
  std::vector<message> messages;
  void see(std::span<const std::byte> bytes) {
    const std::size_t n = std::min(skip, bytes.size());
    skip -= n;
    auto r = reader.feed(bytes.subspan(n), messages);
    ASSERT_FALSE(r.error) << r.error.message();
  }
  std::size_t count(message_type t) const {
    return std::ranges::count_if(messages, [&](const message& m) { return m.kind() == t; });
  }
};

struct client_and_server {
  server_protocol server;
  client_protocol client;
  std::vector<protocol_event> server_events;
  std::vector<client_event> client_events;
  wire_tap client_sent, server_sent;

  explicit client_and_server(server_protocol_options so = {}, client_protocol_options co = {})
      : server{with_random(std::move(so))}, client{with_random(std::move(co))} {}

  template <class Options>
  static Options with_random(Options o) {
    o.handshake.fill_random = fixed_fill;
    return o;
  }

  void to_server() {
    auto bytes = client.take_output();
    client_sent.see(bytes);
    auto fed = server.feed(bytes, server_events);
    ASSERT_FALSE(fed.error) << fed.error.message();
    ASSERT_EQ(fed.consumed, bytes.size());
  }
  void to_client() {
    auto bytes = server.take_output();
    server_sent.see(bytes);
    auto fed = client.feed(bytes, client_events);
    ASSERT_FALSE(fed.error) << fed.error.message();
    ASSERT_EQ(fed.consumed, bytes.size());
  }
  // Moves bytes both ways until neither side has anything to say.
  void pump() {
    for (int round = 0; round < 100 && (client.has_output() || server.has_output()); ++round) {
      if (client.has_output()) to_server();
      if (server.has_output()) to_client();
    }
  }

  template <class T>
  std::vector<T> client_got() const {
    std::vector<T> out;
    for (const auto& e : client_events)
      if (auto* t = std::get_if<T>(&e)) out.push_back(*t);
    return out;
  }
  template <class T>
  std::vector<T> server_got() const {
    std::vector<T> out;
    for (const auto& e : server_events)
      if (auto* t = std::get_if<T>(&e)) out.push_back(*t);
    return out;
  }

  // Handshake and an accepted connect.
  void connect(std::string app = "live") {
    client.start();
    pump();
    client.connect(app, "rtmp://127.0.0.1/" + app);
    pump();
    auto requests = server_got<connect_request>();
    ASSERT_EQ(requests.size(), 1u);
    server.accept_connect(requests[0]);
    server.feed({}, server_events);
    pump();
  }
  std::uint32_t create_stream() {
    client_events.clear();
    client.create_stream();
    pump();
    auto results = client_got<call_result>();
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? 0 : static_cast<std::uint32_t>(results[0].number.value_or(0));
  }
};

TEST(client_protocol, handshake_and_connect_against_the_server) {
  client_and_server t;
  t.client.start();
  EXPECT_EQ(t.client.take_output().size(), 1537u) << "C0+C1 first";
  client_and_server u;
  u.connect();
  auto done = u.client_got<handshake_complete>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].digest);
  EXPECT_TRUE(u.client.handshake_done());
  auto requests = u.server_got<connect_request>();
  EXPECT_EQ(requests[0].app, "live");
  EXPECT_EQ(requests[0].tc_url, "rtmp://127.0.0.1/live");
  EXPECT_EQ(requests[0].flash_ver, "LNX 9,0,124,2");
  auto results = u.client_got<call_result>();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].ok);
  EXPECT_EQ(results[0].call, "connect");
  EXPECT_EQ(results[0].transaction_id, 1);
  EXPECT_EQ(results[0].code, "NetConnection.Connect.Success");
  EXPECT_EQ(u.client.in_chunk_size(), 4096u) << "the server's Set Chunk Size applies";
  EXPECT_EQ(u.server.in_chunk_size(), 4096u) << "ours reached the server";
  EXPECT_EQ(u.client.server_window(), 2500000u);
}

TEST(client_protocol, set_chunk_size_is_the_first_message_after_the_handshake) {
  client_and_server t;
  t.connect();
  ASSERT_FALSE(t.client_sent.messages.empty());
  EXPECT_EQ(t.client_sent.messages[0].kind(), message_type::set_chunk_size);
  EXPECT_EQ(parse_set_chunk_size(t.client_sent.messages[0].payload.bytes()), 4096u);
  EXPECT_EQ(t.client.out_chunk_size(), 4096u);
}

TEST(client_protocol, requests_made_during_the_handshake_wait_for_it) {
  client_and_server t;
  t.client.start();
  t.client.connect("live", "rtmp://127.0.0.1/live");
  EXPECT_EQ(t.client.take_output().size(), 1537u) << "nothing but C0+C1 before the handshake";
  client_and_server u;
  u.client.start();
  u.client.connect("live", "rtmp://127.0.0.1/live");
  u.pump();
  EXPECT_EQ(u.server_got<connect_request>().size(), 1u);
}

TEST(client_protocol, a_rejected_connect_is_an_error_result) {
  client_and_server t;
  t.client.start();
  t.pump();
  t.client.connect("nope", "rtmp://127.0.0.1/nope");
  t.pump();
  t.server.reject_connect(t.server_got<connect_request>()[0], "no such application");
  t.pump();
  auto results = t.client_got<call_result>();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].ok);
  EXPECT_EQ(results[0].call, "connect");
  EXPECT_EQ(results[0].code, "NetConnection.Connect.Rejected");
  EXPECT_EQ(results[0].description, "no such application");
}

TEST(client_protocol, create_stream_answers_with_the_stream_id) {
  client_and_server t;
  t.connect();
  EXPECT_EQ(t.create_stream(), 1u);
  auto results = t.client_got<call_result>();
  EXPECT_EQ(results[0].call, "createStream");
  EXPECT_EQ(results[0].transaction_id, 2);
  EXPECT_EQ(t.create_stream(), 2u);
}

TEST(client_protocol, publish_and_send_media) {
  client_and_server t;
  t.connect();
  const auto sid = t.create_stream();
  t.client.publish(sid, "cam?token=x");
  t.pump();
  auto requests = t.server_got<publish_request>();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].stream_id, sid);
  EXPECT_EQ(requests[0].name, "cam");
  EXPECT_EQ(requests[0].query, "token=x");
  EXPECT_EQ(requests[0].type, "live");
  t.client_events.clear();
  t.server.publish_started(requests[0]);
  t.pump();
  auto statuses = t.client_got<stream_status>();
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].stream_id, sid);
  EXPECT_EQ(statuses[0].level, "status");
  EXPECT_EQ(statuses[0].code, "NetStream.Publish.Start");
  auto controls = t.client_got<stream_control>();
  ASSERT_EQ(controls.size(), 1u);
  EXPECT_EQ(controls[0].event, user_control_event::stream_begin);
  EXPECT_EQ(controls[0].stream_id, sid);

  t.server_events.clear();
  t.client.send_metadata(sid, media::amf::value::make_object({{"width", media::amf::value::make_number(640)}}));
  const auto key = pattern(20000, 1), inter = pattern(900, 2), audio = pattern(371, 3);
  t.client.send_media(sid, message_type::video, 0, key);
  t.client.send_media(sid, message_type::audio, 23, audio);
  t.client.send_media(sid, message_type::video, 40, inter);
  t.pump();
  auto media = t.server_got<media_message>();
  ASSERT_EQ(media.size(), 4u);
  EXPECT_EQ(media[0].m.kind(), message_type::data_amf0);
  std::vector<media::amf::value> values;
  ASSERT_FALSE(decode_data(media[0].m, values, {}));
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].string_or(), "onMetaData");
  EXPECT_EQ(values[1].get_number("width", 0), 640);
  const struct {
    message_type type;
    std::uint32_t ts;
    const shared_buffer& body;
  } expected[] = {{message_type::video, 0, key}, {message_type::audio, 23, audio},
                  {message_type::video, 40, inter}};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& m = media[i + 1].m;
    EXPECT_EQ(m.kind(), expected[i].type) << i;
    EXPECT_EQ(m.timestamp, expected[i].ts) << i;
    EXPECT_EQ(m.stream_id, sid) << i;
    EXPECT_TRUE(std::ranges::equal(m.payload.bytes(), expected[i].body.bytes())) << i;
  }
}

TEST(client_protocol, play_then_receive_media_and_notices) {
  client_and_server t;
  t.connect();
  const auto sid = t.create_stream();
  t.client.play(sid, "cam", -1);
  t.pump();
  auto requests = t.server_got<play_request>();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].name, "cam");
  EXPECT_EQ(requests[0].start, -1);
  EXPECT_EQ(t.client_sent.count(message_type::user_control), 1u) << "Set Buffer Length";
  t.client_events.clear();
  t.server.play_started(requests[0]);
  t.pump();
  auto statuses = t.client_got<stream_status>();
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].code, "NetStream.Play.Reset");
  EXPECT_EQ(statuses[1].code, "NetStream.Play.Start");
  EXPECT_EQ(t.client_got<incoming_media>().size(), 1u) << "|RtmpSampleAccess is a data message";

  // Media as the server's fan-out writes it: shared chunked() buffers at its chunk size.
  t.client_events.clear();
  const auto key = pattern(30000, 4);
  auto wire = chunked(csid::video, 9, 1000, sid, key.bytes(), t.server.out_chunk_size());
  auto fed = t.client.feed(wire.bytes(), t.client_events);
  ASSERT_FALSE(fed.error);
  auto media = t.client_got<incoming_media>();
  ASSERT_EQ(media.size(), 1u);
  EXPECT_EQ(media[0].m.kind(), message_type::video);
  EXPECT_EQ(media[0].m.timestamp, 1000u);
  EXPECT_TRUE(std::ranges::equal(media[0].m.payload.bytes(), key.bytes()));

  t.client_events.clear();
  t.server.unpublish_notify(sid, "cam");
  t.pump();
  statuses = t.client_got<stream_status>();
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].code, "NetStream.Play.UnpublishNotify");
  auto controls = t.client_got<stream_control>();
  ASSERT_EQ(controls.size(), 1u);
  EXPECT_EQ(controls[0].event, user_control_event::stream_eof);
}

TEST(client_protocol, answers_pings) {
  client_and_server t;
  t.connect();
  t.server.ping(1234);
  t.pump();
  EXPECT_EQ(t.server.last_pong(), 1234u);
}

TEST(client_protocol, acknowledges_each_window_the_server_announced) {
  server_protocol_options so;
  so.window_ack_size = 10000;
  client_and_server t{so};
  t.connect();
  EXPECT_EQ(t.client.server_window(), 10000u);
  const auto before = t.client_sent.count(message_type::acknowledgement);
  EXPECT_EQ(before, 0u);
  for (std::uint32_t i = 0; i < 10; ++i) {
    auto wire = chunked(csid::video, 9, i * 40, 1, pattern(4000, i).bytes(), 4096);
    ASSERT_FALSE(t.client.feed(wire.bytes(), t.client_events).error);
    t.to_server();
  }
  // About 40 KB received: an acknowledgement after each 10,000 bytes.
  std::vector<std::uint32_t> sequences;
  for (const auto& m : t.client_sent.messages)
    if (m.kind() == message_type::acknowledgement) sequences.push_back(*parse_u32(m.payload.bytes()));
  ASSERT_GE(sequences.size(), 3u);
  ASSERT_LE(sequences.size(), 4u);
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    EXPECT_GE(sequences[i], (i + 1) * 10000u) << i;
    if (i > 0) {
      EXPECT_LT(sequences[i] - sequences[i - 1], 10000u + 4096u + 18u) << i;
    }
  }
}

TEST(client_protocol, answers_set_peer_bandwidth_with_its_window_once) {
  client_and_server t;
  t.connect();
  // Set Peer Bandwidth 2,500,000 came before the connect result; our own window is the same.
  ASSERT_EQ(t.client_sent.count(message_type::window_ack_size), 1u);
  client_protocol_options co;
  co.window_ack_size = 5000000;
  client_and_server u{{}, co};
  u.connect();
  std::vector<std::uint32_t> windows;
  for (const auto& m : u.client_sent.messages)
    if (m.kind() == message_type::window_ack_size) windows.push_back(*parse_u32(m.payload.bytes()));
  EXPECT_EQ(windows, (std::vector<std::uint32_t>{2500000, 5000000}));
}

TEST(client_protocol, server_replies_split_at_every_byte_give_the_same_events) {
  // The whole server side of a connect: S0+S1+S2, then the accept sequence and the result.
  client_and_server reference;
  reference.client.start();
  auto c0c1 = reference.client.take_output();
  reference.client_sent.see(c0c1);
  ASSERT_FALSE(reference.server.feed(c0c1, reference.server_events).error);
  std::vector<std::byte> wire = reference.server.take_output();
  reference.client.feed(wire, reference.client_events);
  reference.client.connect("live", "rtmp://h/live");
  reference.to_server();
  reference.server.accept_connect(reference.server_got<connect_request>()[0]);
  auto accept = reference.server.take_output();
  wire.insert(wire.end(), accept.begin(), accept.end());

  for (std::size_t split = 1; split < wire.size(); split += split < handshake_bytes ? 97 : 1) {
    client_and_server t;
    t.client.start();
    t.client.connect("live", "rtmp://h/live");
    auto first = t.client.feed(std::span{wire}.first(split), t.client_events);
    ASSERT_FALSE(first.error) << split;
    auto second = t.client.feed(std::span{wire}.subspan(split), t.client_events);
    ASSERT_FALSE(second.error) << split;
    EXPECT_EQ(first.consumed + second.consumed, wire.size()) << split;
    auto results = t.client_got<call_result>();
    ASSERT_EQ(results.size(), 1u) << split;
    EXPECT_EQ(results[0].code, "NetConnection.Connect.Success") << split;
    EXPECT_EQ(t.client.in_chunk_size(), 4096u) << split;
  }
}

TEST(client_protocol, aggregate_messages_are_split_into_their_tags) {
  client_and_server t;
  t.connect();
  t.client_events.clear();
  // Two FLV tags (video at 500, audio at 520) in one aggregate sent at 2000.
  std::vector<std::byte> body;
  const auto add_tag = [&](std::uint8_t type, std::uint32_t ts, std::size_t size) {
    const std::uint8_t h[11] = {type, 0, 0, std::uint8_t(size), std::uint8_t(ts >> 16),
                                std::uint8_t(ts >> 8), std::uint8_t(ts), 0, 0, 0, 0};
    for (auto b : h) body.push_back(std::byte{b});
    for (std::size_t i = 0; i < size; ++i) body.push_back(std::byte(0x17));
    const std::uint8_t prev[4] = {0, 0, 0, std::uint8_t(11 + size)};
    for (auto b : prev) body.push_back(std::byte{b});
  };
  add_tag(9, 500, 10);
  add_tag(8, 520, 6);
  auto wire = chunked(csid::video, 22, 2000, 1, body, 4096);
  ASSERT_FALSE(t.client.feed(wire.bytes(), t.client_events).error);
  auto media = t.client_got<incoming_media>();
  ASSERT_EQ(media.size(), 2u);
  EXPECT_EQ(media[0].m.kind(), message_type::video);
  EXPECT_EQ(media[0].m.timestamp, 2000u);
  EXPECT_EQ(media[0].m.payload.size(), 10u);
  EXPECT_EQ(media[1].m.kind(), message_type::audio);
  EXPECT_EQ(media[1].m.timestamp, 2020u);
}

TEST(client_protocol, a_bad_server_handshake_is_an_error) {
  client_protocol client{client_and_server::with_random(client_protocol_options{})};
  client.start();
  std::vector<client_event> events;
  const std::byte rtmpe[] = {std::byte{9}};
  auto fed = client.feed(rtmpe, events);
  EXPECT_EQ(fed.error, handshake_errc::encrypted_not_supported);
}

}  // namespace
}  // namespace junction::rtmp
