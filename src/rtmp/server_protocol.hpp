#pragma once
// The server side of one RTMP connection as a pure state machine: bytes in, events and bytes
// out. It owns the handshake, the chunk layer, flow control (acknowledgements, pings) and the
// commands that need no decision (createStream, releaseStream, FCPublish, ...). Commands that
// need one (connect, publish, play, server calls) leave as events; the session decides,
// possibly after asking a hook, and answers through the reply methods. No socket, no clock:
// the session passes the time when it asks for a ping.
#include "media/amf/amf0.hpp"
#include "media/amf/value.hpp"
#include "rtmp/chunk_reader.hpp"
#include "rtmp/chunk_writer.hpp"
#include "rtmp/commands.hpp"
#include "rtmp/handshake.hpp"
#include "rtmp/message.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

namespace junction::rtmp {

struct server_protocol_options {
  std::uint32_t out_chunk_size = 4096;   // Set Chunk Size sent after connect
  std::uint32_t window_ack_size = 2500000;
  std::uint32_t max_streams = 16;        // message streams one connection may create
  chunk_reader_limits chunk_limits;
  handshake_options handshake;
};

struct connect_request {
  double transaction_id = 0;
  std::string app;        // without any query string
  std::string tc_url;
  std::string query;      // from the app field or tcUrl ("a=1&b=2"), without '?'
  std::string flash_ver;
  std::string page_url;
  double object_encoding = 0;
  media::amf::value object;      // everything the client sent
  std::vector<media::amf::value> args;  // values after the command object (siprtmp: authName, ...)
};

struct publish_request {
  std::uint32_t stream_id = 0;
  std::string name;   // without the query
  std::string query;
  std::string type;   // "live", "record" or "append"
};

struct play_request {
  std::uint32_t stream_id = 0;
  std::string name;
  std::string query;
  double start = -2;     // -2 live or recorded, -1 live only, >= 0 recorded from that point
  double duration = -1;  // -1 until the end
  bool reset = true;
};

struct media_message { message m; };  // audio, video or data on a message stream
struct stream_closed { std::uint32_t stream_id = 0; };  // closeStream, deleteStream, FCUnpublish
struct receive_toggle {
  std::uint32_t stream_id = 0;
  bool video = false;  // which kind: receiveVideo or receiveAudio
  bool enabled = true;
};
struct pause_request {
  std::uint32_t stream_id = 0;
  bool pause = true;
  double position_ms = 0;
};
struct seek_request {
  std::uint32_t stream_id = 0;
  double position_ms = 0;
};
struct server_call { command cmd; };  // NetConnection.call of a method the core does not know
struct handshake_done { bool digest = false; };

using protocol_event = std::variant<handshake_done, connect_request, publish_request, play_request,
                                    media_message, stream_closed, receive_toggle, pause_request,
                                    seek_request, server_call>;

class server_protocol {
 public:
  explicit server_protocol(server_protocol_options options = {});

  struct fed {
    std::size_t consumed = 0;
    std::error_code error;  // fatal: log it and close
  };
  // Consumes bytes, appending events; replies it could make alone go to the output. After a
  // connect_request, later messages are held until accept_connect(); feed an empty span then
  // to have them handled.
  fed feed(std::span<const std::byte> in, std::vector<protocol_event>& events,
           chunk_reader::time_point now = {});
  // Incomplete messages: their buffer limit (raised for an accepted publisher) and age.
  void set_buffer_limit(std::size_t bytes) noexcept { reader_.set_buffer_limit(bytes); }
  std::optional<chunk_reader::time_point> oldest_incomplete() const noexcept {
    return reader_.oldest_incomplete();
  }

  // Bytes to send, in order (replies, acknowledgements, pings). Empty when nothing is due.
  std::vector<std::byte> take_output();
  bool has_output() const noexcept { return !out_.empty(); }

  bool connected() const noexcept { return connected_; }
  std::uint32_t out_chunk_size() const noexcept { return options_.out_chunk_size; }
  std::uint32_t in_chunk_size() const noexcept { return reader_.chunk_size(); }
  std::uint64_t bytes_received() const noexcept { return reader_.bytes_received(); }
  const std::string& app() const noexcept { return app_; }

  // Replies ------------------------------------------------------------------------------------
  void accept_connect(const connect_request& r);
  void reject_connect(const connect_request& r, std::string_view description);
  void call_result(const command& c, const media::amf::value& result);
  void call_error(const command& c, std::string_view code, std::string_view description);
  // Calls a method on the client's NetConnection (server to client, transaction 0).
  void invoke(std::string_view method, std::span<const media::amf::value> args);

  void publish_started(const publish_request& r);
  void publish_refused(const publish_request& r, std::string_view code, std::string_view description);
  void publish_stopped(std::uint32_t stream_id, std::string_view name);

  // Play.Reset (when asked), Play.Start, StreamBegin and |RtmpSampleAccess.
  void play_started(const play_request& r);
  void play_failed(const play_request& r, std::string_view code, std::string_view description);
  // The publisher of a playing stream left / came back.
  void unpublish_notify(std::uint32_t stream_id, std::string_view name);
  void publish_notify(std::uint32_t stream_id, std::string_view name);
  void pause_notify(const pause_request& r, std::string_view name);
  // Recorded streams: a seek done (Seek.Notify, then Play.Start from there) or refused (a live
  // stream), and the end of the file (Play.Stop, onPlayStatus Play.Complete, StreamEOF).
  void seek_notify(std::uint32_t stream_id, std::string_view name, double position_ms);
  void seek_failed(std::uint32_t stream_id, std::string_view description);
  void play_complete(std::uint32_t stream_id, std::string_view name, double duration_ms);
  void status(std::uint32_t stream_id, std::string_view level, std::string_view code,
              std::string_view description);

  // A PingRequest carrying `timestamp` (the session's clock, milliseconds).
  void ping(std::uint32_t timestamp);
  // The last PingResponse's timestamp, to tell a live client from a dead one.
  std::optional<std::uint32_t> last_pong() const noexcept { return last_pong_; }

 private:
  std::error_code on_message(message m, std::vector<protocol_event>& events);
  void on_control(const message& m);
  std::error_code on_command(const message& m, std::vector<protocol_event>& events);
  void on_data(message m, std::vector<protocol_event>& events);
  void send(const message& m);
  void reply(const command& c, std::string_view name, const media::amf::value& object,
             const media::amf::value& info);
  void acknowledge_if_due();

  server_protocol_options options_;
  // Freed once done: its packet buffers are 3 KiB of every idle connection's footprint.
  std::unique_ptr<server_handshake> handshake_;
  chunk_reader reader_;
  chunk_writer writer_;
  std::vector<message> held_;  // read but not yet handled (behind a connect being decided)
  bool awaiting_connect_ = false;
  std::error_code failed_;  // sticky, like the chunk reader's
  std::vector<std::byte> out_;
  media::amf::decode_limits amf_limits_;

  bool connected_ = false;
  bool amf3_ = false;  // the client connected with objectEncoding 3
  std::string app_;
  std::vector<std::uint32_t> streams_;  // created message stream ids
  std::uint32_t next_stream_id_ = 1;
  std::uint32_t peer_window_ = 0;       // the client's Window Acknowledgement Size
  std::uint64_t acknowledged_ = 0;
  std::optional<std::uint32_t> last_pong_;
};

// Splits "name?a=1&b=2" into name and query.
std::pair<std::string, std::string> split_query(std::string_view s);

}  // namespace junction::rtmp
