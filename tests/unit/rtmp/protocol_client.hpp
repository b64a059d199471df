#pragma once
// A client side for driving server_protocol in tests: our own client handshake, a chunk writer
// for requests and a chunk reader for replies, all in memory.
#include "media/amf/amf0.hpp"
#include "rtmp/chunk_reader.hpp"
#include "rtmp/chunk_writer.hpp"
#include "rtmp/commands.hpp"
#include "rtmp/handshake.hpp"
#include "rtmp/server_protocol.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace junction::rtmp::rtmp_test {

inline handshake_options fixed_random() {
  handshake_options o;
  o.fill_random = [](std::span<std::byte> b) {
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = std::byte(i * 7 + 1);
  };
  return o;
}

struct protocol_client {
  server_protocol& server;
  chunk_writer writer{128};
  chunk_reader reader;
  std::vector<protocol_event> events;

  explicit protocol_client(server_protocol& s) : server{s} {}

  // Runs the digest handshake; the server's events so far are in `events`.
  void handshake() {
    client_handshake hs{fixed_random()};
    auto c0c1 = hs.start();
    auto fed = server.feed(c0c1, events);
    ASSERT_FALSE(fed.error);
    auto s012 = server.take_output();
    auto step = hs.feed(s012);
    ASSERT_TRUE(step.done);
    ASSERT_FALSE(server.feed(step.output, events).error);
  }

  server_protocol::fed send(const message& m) {
    std::vector<std::byte> out;
    writer.write(out, m);
    return server.feed(out, events);
  }
  server_protocol::fed send_command(std::uint32_t stream_id, std::string_view name, double tid,
                               const media::amf::value& object, std::vector<media::amf::value> args = {},
                               bool amf3 = false) {
    return send(make_command(stream_id, name, tid, object, args, amf3));
  }
  server_protocol::fed connect(std::string app, double encoding = 0, std::string tc_url = "") {
    auto obj = media::amf::value::make_object({
        {"app", media::amf::value::make_string(app)},
        {"flashVer", media::amf::value::make_string("LNX 9,0,124,2")},
        {"tcUrl", media::amf::value::make_string(tc_url.empty() ? "rtmp://127.0.0.1/" + app : tc_url)},
        {"objectEncoding", media::amf::value::make_number(encoding)},
    });
    return send_command(0, "connect", 1, obj, {}, encoding == 3);
  }

  // Every message the server has sent since the last call.
  std::vector<message> replies() {
    std::vector<message> out;
    auto bytes = server.take_output();
    auto r = reader.feed(bytes, out);
    EXPECT_FALSE(r.error) << r.error.message();
    return out;
  }
  // The commands among them, decoded.
  std::vector<command> commands() {
    std::vector<command> out;
    for (const auto& m : replies()) {
      if (m.kind() != message_type::command_amf0 && m.kind() != message_type::command_amf3) continue;
      command c;
      media::amf::decode_limits limits;
      EXPECT_FALSE(decode_command(m, c, limits));
      out.push_back(std::move(c));
    }
    return out;
  }
  template <class T>
  std::vector<T> events_of() const {
    std::vector<T> out;
    for (const auto& e : events)
      if (auto* t = std::get_if<T>(&e)) out.push_back(*t);
    return out;
  }
};

// The info object's code of an onStatus/_result/_error.
inline std::string code_of(const command& c) {
  const auto* info = c.arg(0);
  return info ? std::string{info->get_string("code")} : std::string{};
}

}  // namespace junction::rtmp::rtmp_test
