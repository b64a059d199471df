#pragma once
// The client side of one RTMP connection as a pure state machine, the mirror of server_protocol:
// bytes in, events and bytes out. It owns the handshake, the chunk layer and flow control
// (Set Chunk Size both ways, Acknowledgements per the server's Window Acknowledgement Size,
// Ping answers); requests (connect, createStream, publish, play) are methods, and their answers
// (_result, _error, onStatus) leave as events for the caller to act on. No socket, no clock:
// a loop feeds what it reads and writes take_output().
//
// Plain standard RTMP only (RTMP spec 1.0 and what FMS, nginx-rtmp, FFmpeg and librtmp do), so
// it works against any server. Commands use AMF0 (objectEncoding 0): every server speaks it.
#include "media/amf/error.hpp"
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
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace junction::rtmp {

struct client_protocol_options {
  // Announced with Set Chunk Size right after the handshake, before connect, as librtmp and OBS
  // do. Bigger chunks: fewer headers for the server to parse (Red5's cheap win was 1024 -> 4096).
  std::uint32_t out_chunk_size = 4096;
  // Window Acknowledgement Size announced once connect succeeds (librtmp's SendServerBW); the
  // server acknowledges what we send by it. 0: announce nothing.
  std::uint32_t window_ack_size = 2500000;
  // Set Buffer Length sent after play (FFmpeg and librtmp send one; some servers wait for it).
  std::uint32_t buffer_length_ms = 1000;
  std::string flash_ver = "LNX 9,0,124,2";  // what FFmpeg and librtmp send
  chunk_reader_limits chunk_limits;
  handshake_options handshake;
};

// Events -----------------------------------------------------------------------------------------

struct handshake_complete {
  bool digest = false;  // the server's S1 carried a digest we verified
};

// The answer (_result or _error) to one of our calls.
struct call_result {
  double transaction_id = 0;
  std::string call;  // the request it answers ("connect", "createStream"), empty if unknown
  bool ok = false;   // _result; false for _error
  std::string code;  // the info object's code, when the answer carries one (connect, errors)
  std::string description;
  std::optional<double> number;  // the first numeric argument: createStream's stream id
  command cmd;                   // everything, for what the fields above do not cover
};

// onStatus on a message stream (NetStream.Publish.Start, NetStream.Play.Start, ...).
struct stream_status {
  std::uint32_t stream_id = 0;
  std::string level;  // "status", "warning" or "error"
  std::string code;
  std::string description;
};

// User Control stream events: StreamBegin, StreamEOF, StreamDry, StreamIsRecorded.
struct stream_control {
  user_control_event event{};
  std::uint32_t stream_id = 0;
};

// Audio, video or data on a message stream, as received (aggregates are split into their parts).
struct incoming_media {
  message m;
};
// A method the server calls on the client's NetConnection (the gateway's invited, accepted, ...).
struct server_invocation {
  command cmd;
};

using client_event =
    std::variant<handshake_complete, call_result, stream_status, stream_control, incoming_media,
                 server_invocation>;

// The state machine ----------------------------------------------------------------------------

class client_protocol {
 public:
  explicit client_protocol(client_protocol_options options = {});

  // Queues C0+C1: the first bytes to send. Requests made before the handshake completes are
  // held and go out after C2.
  void start();

  struct fed {
    std::size_t consumed = 0;
    std::error_code error;  // fatal (handshake or chunk framing): close the connection
  };
  // Consumes bytes, appending events; answers it makes alone (C2, Ping responses,
  // Acknowledgements) go to the output.
  fed feed(std::span<const std::byte> in, std::vector<client_event>& events);

  // Bytes to send, in order. Empty when nothing is due.
  std::vector<std::byte> take_output();
  bool has_output() const noexcept { return !out_.empty(); }

  bool handshake_done() const noexcept { return !handshake_ && started_; }
  std::uint32_t in_chunk_size() const noexcept { return reader_.chunk_size(); }
  std::uint32_t out_chunk_size() const noexcept { return writer_.chunk_size(); }
  std::uint64_t bytes_received() const noexcept { return reader_.bytes_received(); }
  std::uint32_t server_window() const noexcept { return server_window_; }

  // Requests; the ones with an answer return their transaction id. -----------------------------
  // `tc_url` is rtmp://host[:port]/app, as the server should see it.
  // `args` go after the command object (siprtmp's authName, authPassword, displayName).
  double connect(std::string_view app, std::string_view tc_url, std::span<const media::amf::value> args = {});
  // NetConnection.call(method, null, args...): its transaction id.
  double invoke(std::string_view method, std::span<const media::amf::value> args);
  double create_stream();
  void publish(std::uint32_t stream_id, std::string_view name, std::string_view type = "live");
  // start -2: live or recorded, -1: live only (RTMP spec 7.2.2.1).
  void play(std::uint32_t stream_id, std::string_view name, double start = -2);
  void delete_stream(std::uint32_t stream_id);
  // onMetaData for a publishing stream, wrapped in @setDataFrame as encoders send it.
  void send_metadata(std::uint32_t stream_id, const media::amf::value& metadata);
  // One audio, video or data message (an FLV tag body) on a publishing stream. A data body
  // that starts with "@setDataFrame" sets the stream's metadata, as send_metadata does.
  void send_media(std::uint32_t stream_id, message_type type, std::uint32_t timestamp,
                  shared_buffer payload);

 private:
  void on_message(message m, std::vector<client_event>& events);
  void on_control(const message& m, std::vector<client_event>& events);
  void on_command(const message& m, std::vector<client_event>& events);
  double call(std::string_view name, const media::amf::value& object, std::span<const media::amf::value> args,
              std::uint32_t stream_id = 0);
  void send(const message& m);
  void acknowledge_if_due();

  client_protocol_options options_;
  // Freed once done: its packet buffers are 3 KiB of every idle connection's footprint.
  std::unique_ptr<client_handshake> handshake_;
  bool started_ = false;
  chunk_reader reader_;
  chunk_writer writer_{128};  // 128 until our Set Chunk Size is out (5.4.1)
  std::vector<std::byte> out_;
  std::vector<message> held_;  // requests made before the handshake completed
  std::vector<message> messages_;  // reused between feeds
  media::amf::decode_limits amf_limits_;

  double next_transaction_ = 1;
  std::vector<std::pair<double, std::string>> pending_calls_;  // transaction id, command name
  std::uint32_t server_window_ = 0;  // the server's Window Acknowledgement Size; 0: none yet
  std::uint32_t announced_window_ = 0;  // the last Window Acknowledgement Size we sent
  std::uint64_t acknowledged_ = 0;
};

}  // namespace junction::rtmp
