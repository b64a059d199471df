#include "rtmp/server_protocol.hpp"

#include "protocol_client.hpp"
#include "rtmp/control.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace junction::rtmp {
namespace {

using rtmp_test::code_of;
using rtmp_test::protocol_client;

media::amf::value str(const char* s) { return media::amf::value::make_string(s); }
media::amf::value num(double d) { return media::amf::value::make_number(d); }
media::amf::value null() { return media::amf::value::make_null(); }

struct server_protocol_connected : ::testing::Test {
  server_protocol server;
  protocol_client client{server};
  void SetUp() override {
    client.handshake();
    client.connect("live");
    auto c = client.events_of<connect_request>();
    ASSERT_EQ(c.size(), 1u);
    server.accept_connect(c[0]);
    client.replies();
    client.events.clear();
  }
};

TEST(server_protocol, connect_is_an_event_and_accepting_sends_the_fms_sequence) {
  server_protocol server;
  protocol_client client{server};
  client.handshake();
  ASSERT_EQ(client.events_of<handshake_done>().size(), 1u);
  EXPECT_TRUE(client.events_of<handshake_done>()[0].digest);
  client.connect("live/?token=abc", 0, "rtmp://127.0.0.1/live/?token=abc");
  auto requests = client.events_of<connect_request>();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].app, "live");
  EXPECT_EQ(requests[0].query, "token=abc");
  EXPECT_EQ(requests[0].flash_ver, "LNX 9,0,124,2");
  EXPECT_FALSE(server.has_output()) << "nothing is said before the session decides";
  server.accept_connect(requests[0]);
  auto replies = client.replies();
  ASSERT_GE(replies.size(), 4u);
  EXPECT_EQ(replies[0].kind(), message_type::window_ack_size);
  EXPECT_EQ(replies[1].kind(), message_type::set_peer_bandwidth);
  EXPECT_EQ(replies[2].kind(), message_type::set_chunk_size);
  EXPECT_EQ(parse_set_chunk_size(replies[2].payload.bytes()), 4096u);
  command result;
  ASSERT_FALSE(decode_command(replies[3], result, media::amf::decode_limits{}));
  EXPECT_EQ(result.name, "_result");
  EXPECT_EQ(result.transaction_id, 1);
  EXPECT_EQ(code_of(result), "NetConnection.Connect.Success");
  EXPECT_EQ(result.object.get_string("fmsVer").substr(0, 4), "FMS/");
  EXPECT_TRUE(server.connected());
}

TEST(server_protocol, a_rejected_connect_gets_an_error) {
  server_protocol server;
  protocol_client client{server};
  client.handshake();
  client.connect("nope");
  server.reject_connect(client.events_of<connect_request>()[0], "no such application");
  auto cmds = client.commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].name, "_error");
  EXPECT_EQ(code_of(cmds[0]), "NetConnection.Connect.Rejected");
}

TEST(server_protocol, commands_pipelined_behind_connect_wait_for_the_decision) {
  server_protocol server;
  protocol_client client{server};
  client.handshake();
  std::vector<std::byte> both;
  client.writer.write(both, make_command(0, "connect", 1, media::amf::value::make_object({{"app", str("live")}}), {}));
  client.writer.write(both, make_command(0, "createStream", 2, null(), {}));
  ASSERT_FALSE(server.feed(both, client.events).error);
  ASSERT_EQ(client.events_of<connect_request>().size(), 1u);
  EXPECT_FALSE(server.has_output()) << "createStream is held, not refused";
  server.accept_connect(client.events_of<connect_request>()[0]);
  server.feed({}, client.events);
  auto cmds = client.commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[1].name, "_result");
  EXPECT_EQ(cmds[1].transaction_id, 2);
  EXPECT_EQ(cmds[1].arg(0)->number_or(0), 1) << "the first stream id";
}

TEST(server_protocol, commands_before_connect_are_refused) {
  server_protocol server;
  protocol_client client{server};
  client.handshake();
  client.send_command(0, "createStream", 2, null());
  auto cmds = client.commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].name, "_error");
  EXPECT_EQ(code_of(cmds[0]), "NetConnection.Call.Failed");
}

TEST_F(server_protocol_connected, fcsubscribe_is_answered_as_fms_does) {
  // rtmpdump --live sends FCSubscribe before play; an _error made it log an error line.
  client.send_command(0, "FCSubscribe", 2, null(), {str("cam")});
  client.send_command(0, "FCUnsubscribe", 0, null(), {str("cam")});
  auto cmds = client.commands();
  ASSERT_EQ(cmds.size(), 3u);
  EXPECT_EQ(cmds[0].name, "onFCSubscribe");
  EXPECT_EQ(code_of(cmds[0]), "NetStream.Play.Start");
  EXPECT_EQ(cmds[1].name, "_result");
  EXPECT_EQ(cmds[1].transaction_id, 2);
  EXPECT_EQ(cmds[2].name, "onFCUnsubscribe");
  EXPECT_EQ(code_of(cmds[2]), "NetStream.Play.Stop");
}

TEST_F(server_protocol_connected, publish_flow_as_ffmpeg_drives_it) {
  client.send_command(0, "releaseStream", 2, null(), {str("cam")});
  client.send_command(0, "FCPublish", 3, null(), {str("cam")});
  client.send_command(0, "createStream", 4, null());
  auto cmds = client.commands();
  ASSERT_EQ(cmds.size(), 4u);
  EXPECT_EQ(cmds[0].name, "_result");
  EXPECT_EQ(cmds[1].name, "onFCPublish");
  EXPECT_EQ(cmds[3].arg(0)->number_or(0), 1);
  client.send_command(1, "publish", 5, null(), {str("cam?token=t"), str("live")});
  auto pubs = client.events_of<publish_request>();
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_EQ(pubs[0].stream_id, 1u);
  EXPECT_EQ(pubs[0].name, "cam");
  EXPECT_EQ(pubs[0].query, "token=t");
  EXPECT_EQ(pubs[0].type, "live");
  server.publish_started(pubs[0]);
  auto replies = client.replies();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].kind(), message_type::user_control);
  EXPECT_EQ(parse_user_control(replies[0].payload.bytes())->event, user_control_event::stream_begin);
  command status;
  ASSERT_FALSE(decode_command(replies[1], status, media::amf::decode_limits{}));
  EXPECT_EQ(status.name, "onStatus");
  EXPECT_EQ(replies[1].stream_id, 1u);
  EXPECT_EQ(code_of(status), "NetStream.Publish.Start");
}

TEST_F(server_protocol_connected, set_data_frame_becomes_on_metadata_and_media_pass_through) {
  const media::amf::value meta[] = {str("@setDataFrame"), str("onMetaData"),
                             media::amf::value::make_ecma_array({{"width", num(320)}})};
  auto data = make_data(1, meta);
  data.timestamp = 0;
  client.send(data);
  message video;
  video.chunk_stream_id = 6;
  video.type = 9;
  video.stream_id = 1;
  video.timestamp = 40;
  std::vector<std::byte> body(5000, std::byte{0x42});
  body[0] = std::byte{0x17};
  video.payload = shared_buffer::copy_of(body);
  client.send(video);
  auto media = client.events_of<media_message>();
  ASSERT_EQ(media.size(), 2u);
  std::vector<media::amf::value> values;
  ASSERT_FALSE(decode_data(media[0].m, values, media::amf::decode_limits{}));
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].text, "onMetaData");
  EXPECT_EQ(values[1].get_number("width", 0), 320);
  EXPECT_EQ(media[1].m.timestamp, 40u);
  EXPECT_EQ(media[1].m.payload.size(), 5000u);
  EXPECT_EQ(std::memcmp(media[1].m.payload.data(), body.data(), body.size()), 0);
}

TEST_F(server_protocol_connected, play_reports_its_arguments_and_starts_as_fms_does) {
  client.send_command(1, "play", 0, null(), {str("cam"), num(-1000), num(-1), media::amf::value::make_boolean(false)});
  auto plays = client.events_of<play_request>();
  ASSERT_EQ(plays.size(), 1u);
  EXPECT_EQ(plays[0].name, "cam");
  EXPECT_EQ(plays[0].start, -1000);
  EXPECT_FALSE(plays[0].reset);
  plays[0].reset = true;
  server.play_started(plays[0]);
  std::vector<std::string> seen;
  for (const auto& m : client.replies()) {
    if (m.kind() == message_type::user_control) seen.push_back("begin");
    if (m.kind() == message_type::data_amf0) seen.push_back("sample-access");
    if (m.kind() == message_type::command_amf0) {
      command c;
      decode_command(m, c, media::amf::decode_limits{});
      seen.push_back(code_of(c));
    }
  }
  std::vector<std::string> expected{"begin", "NetStream.Play.Reset", "NetStream.Play.Start", "sample-access"};
  EXPECT_EQ(seen, expected);
}

TEST_F(server_protocol_connected, pings_are_answered_and_sent) {
  client.send(user_control_message(user_control_event::ping_request, 1234));
  auto replies = client.replies();
  ASSERT_EQ(replies.size(), 1u);
  auto uc = parse_user_control(replies[0].payload.bytes());
  EXPECT_EQ(uc->event, user_control_event::ping_response);
  EXPECT_EQ(uc->value, 1234u);
  server.ping(99);
  replies = client.replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(parse_user_control(replies[0].payload.bytes())->event, user_control_event::ping_request);
  client.send(user_control_message(user_control_event::ping_response, 99));
  EXPECT_EQ(server.last_pong(), 99u);
}

TEST_F(server_protocol_connected, unknown_commands_become_server_calls) {
  client.send_command(0, "fooBar", 7, null(), {num(1)});
  auto calls = client.events_of<server_call>();
  ASSERT_EQ(calls.size(), 1u);
  server.call_error(calls[0].cmd, "NetConnection.Call.Failed", "Method not found (fooBar).");
  auto cmds = client.commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].name, "_error");
  EXPECT_EQ(cmds[0].transaction_id, 7);
}

TEST_F(server_protocol_connected, stream_count_is_limited) {
  for (int i = 0; i < 16; ++i) client.send_command(0, "createStream", 10 + i, null());
  client.send_command(0, "createStream", 99, null());
  auto cmds = client.commands();
  ASSERT_EQ(cmds.size(), 17u);
  EXPECT_EQ(cmds[15].name, "_result");
  EXPECT_EQ(cmds[16].name, "_error");
}

TEST_F(server_protocol_connected, acknowledges_each_window) {
  client.send(window_ack_size_message(10000));
  message big;
  big.chunk_stream_id = 6;
  big.type = 9;
  big.stream_id = 1;
  big.payload = shared_buffer::copy_of(std::vector<std::byte>(12000, std::byte{0x27}));
  client.send(big);
  auto replies = client.replies();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].kind(), message_type::acknowledgement);
  EXPECT_GE(parse_u32(replies[0].payload.bytes()).value(), 12000u);
}

TEST_F(server_protocol_connected, aggregate_messages_are_split_with_rebased_timestamps) {
  std::vector<std::byte> body;
  auto tag = [&](std::uint8_t type, std::uint32_t ts, std::size_t size) {
    body.push_back(std::byte(type));
    body.push_back(std::byte(size >> 16));
    body.push_back(std::byte(size >> 8));
    body.push_back(std::byte(size));
    body.push_back(std::byte(ts >> 16));
    body.push_back(std::byte(ts >> 8));
    body.push_back(std::byte(ts));
    body.push_back(std::byte(ts >> 24));
    for (int i = 0; i < 3; ++i) body.push_back(std::byte{0});
    for (std::size_t i = 0; i < size; ++i) body.push_back(std::byte{0x27});
    const auto prev = 11 + size;
    for (int s = 24; s >= 0; s -= 8) body.push_back(std::byte(prev >> s));
  };
  tag(9, 5000, 10);
  tag(8, 5020, 4);
  message agg;
  agg.chunk_stream_id = 6;
  agg.type = 22;
  agg.stream_id = 1;
  agg.timestamp = 100;
  agg.payload = shared_buffer::copy_of(body);
  client.send(agg);
  auto media = client.events_of<media_message>();
  ASSERT_EQ(media.size(), 2u);
  EXPECT_EQ(media[0].m.type, 9);
  EXPECT_EQ(media[0].m.timestamp, 100u);
  EXPECT_EQ(media[1].m.type, 8);
  EXPECT_EQ(media[1].m.timestamp, 120u);
}

TEST(server_protocol, amf3_clients_get_amf3_replies) {
  server_protocol server;
  protocol_client client{server};
  client.handshake();
  client.connect("live", 3);
  auto c = client.events_of<connect_request>();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].object_encoding, 3);
  server.accept_connect(c[0]);
  auto replies = client.replies();
  ASSERT_EQ(replies.back().kind(), message_type::command_amf3);
  command result;
  ASSERT_FALSE(decode_command(replies.back(), result, media::amf::decode_limits{}));
  EXPECT_EQ(result.arg(0)->get_number("objectEncoding", 0), 3);
}

TEST(server_protocol, chunk_errors_are_fatal) {
  server_protocol server;
  protocol_client client{server};
  client.handshake();
  auto fed = client.send(set_chunk_size_message(0));
  EXPECT_EQ(fed.error, make_error_code(chunk_errc::bad_chunk_size));
}

TEST(server_protocol, an_unreadable_command_ends_the_connection) {
  server_protocol server;
  protocol_client client{server};
  client.handshake();
  // connect's command object nested 40 deep: past the AMF depth limit of 32.
  media::amf::value nested = media::amf::value::make_object();
  for (int i = 0; i < 40; ++i) nested = media::amf::value::make_object({{"a", nested}});
  auto fed = client.send_command(0, "connect", 1, nested);
  EXPECT_EQ(fed.error, make_error_code(media::amf::amf_errc::too_deep));
  EXPECT_TRUE(client.events_of<connect_request>().empty());
  EXPECT_EQ(client.send_command(0, "connect", 2, null()).error, fed.error) << "the error is sticky";
}

TEST(server_protocol, rtmpe_is_refused_at_the_first_byte) {
  server_protocol server;
  std::vector<protocol_event> events;
  const std::byte c0[] = {std::byte{6}};
  auto fed = server.feed(c0, events);
  EXPECT_EQ(fed.error, make_error_code(handshake_errc::encrypted_not_supported));
}

TEST(server_protocol, any_split_of_the_input_gives_the_same_events) {
  // With a fixed server randomness the whole client byte stream is known in advance.
  server_protocol_options options;
  options.handshake = rtmp_test::fixed_random();
  server_protocol first{options};
  client_handshake hs{rtmp_test::fixed_random()};
  std::vector<std::byte> stream = hs.start();
  std::vector<protocol_event> ignored;
  first.feed(stream, ignored);
  auto c2 = hs.feed(first.take_output()).output;
  stream.insert(stream.end(), c2.begin(), c2.end());
  chunk_writer writer{128};
  auto obj = media::amf::value::make_object({{"app", str("live")}, {"tcUrl", str("rtmp://h/live")},
                                      {"pad", str(std::string(300, 'x').c_str())}});
  writer.write(stream, make_command(0, "connect", 1, obj, {}));
  for (std::size_t cut = 0; cut <= stream.size(); cut += (cut < 1600 || cut > stream.size() - 400) ? 1 : 97) {
    server_protocol server{options};
    std::vector<protocol_event> events;
    auto a = server.feed(std::span{stream}.first(cut), events);
    ASSERT_FALSE(a.error) << cut;
    auto b = server.feed(std::span{stream}.subspan(a.consumed), events);
    ASSERT_FALSE(b.error) << cut;
    ASSERT_EQ(a.consumed + b.consumed, stream.size()) << cut;
    ASSERT_EQ(events.size(), 2u) << cut;
    ASSERT_TRUE(std::holds_alternative<connect_request>(events[1])) << cut;
    EXPECT_EQ(std::get<connect_request>(events[1]).app, "live");
  }
}

}  // namespace
}  // namespace junction::rtmp
