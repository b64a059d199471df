#include "rtmp/client_protocol.hpp"

#include "rtmp/aggregate.hpp"
#include "rtmp/control.hpp"

#include <algorithm>

namespace junction::rtmp {

namespace {

media::amf::value str(std::string_view s) { return media::amf::value::make_string(std::string{s}); }
media::amf::value num(double d) { return media::amf::value::make_number(d); }

}  // namespace

client_protocol::client_protocol(client_protocol_options options)
    : options_{std::move(options)},
      handshake_{std::make_unique<client_handshake>(options_.handshake)},
      reader_{options_.chunk_limits} {}

void client_protocol::start() {
  if (started_) return;
  started_ = true;
  auto c0c1 = handshake_->start();
  out_.insert(out_.end(), c0c1.begin(), c0c1.end());
}

client_protocol::fed client_protocol::feed(std::span<const std::byte> in,
                                           std::vector<client_event>& events) {
  std::size_t used = 0;
  if (handshake_) {
    if (!started_) start();
    auto step = handshake_->feed(in);
    out_.insert(out_.end(), step.output.begin(), step.output.end());
    if (step.error) return {step.consumed, step.error};
    used = step.consumed;
    if (!step.done) return {used, {}};
    events.push_back(handshake_complete{handshake_->digest_used()});
    handshake_.reset();
    // Our chunk size first (librtmp and OBS send it before connect), then what was asked for
    // while the handshake ran. The Set Chunk Size message itself still goes at 128 (5.4.1).
    writer_.write(out_, set_chunk_size_message(options_.out_chunk_size));
    writer_.set_chunk_size(options_.out_chunk_size);
    for (const auto& m : held_) writer_.write(out_, m);
    held_.clear();
  }
  messages_.clear();
  auto r = reader_.feed(in.subspan(used), messages_);
  for (auto& m : messages_) on_message(std::move(m), events);
  messages_.clear();
  acknowledge_if_due();
  return {used + r.consumed, r.error};
}

std::vector<std::byte> client_protocol::take_output() {
  std::vector<std::byte> out;
  out.swap(out_);
  return out;
}

void client_protocol::send(const message& m) {
  if (handshake_) {
    // Before C2 nothing but handshake bytes may go out: kept as messages, and chunked once the
    // handshake is done, behind our Set Chunk Size.
    held_.push_back(m);
    return;
  }
  writer_.write(out_, m);
}

// Acknowledgement (5.4.3): after each window of bytes the server announced, say how many
// arrived. nginx-rtmp and FMS announce one; a client that never acknowledges may be throttled
// by servers that honour Set Peer Bandwidth.
void client_protocol::acknowledge_if_due() {
  if (server_window_ == 0 || !handshake_done()) return;
  const std::uint64_t received = reader_.bytes_received();
  if (received - acknowledged_ >= server_window_) {
    acknowledged_ = received;
    send(acknowledgement_message(static_cast<std::uint32_t>(received)));
  }
}

void client_protocol::on_message(message m, std::vector<client_event>& events) {
  switch (m.kind()) {
    case message_type::set_chunk_size:
    case message_type::abort:
    case message_type::acknowledgement:
    case message_type::window_ack_size:
    case message_type::set_peer_bandwidth:
    case message_type::user_control:
      on_control(m, events);
      return;
    case message_type::command_amf0:
    case message_type::command_amf3:
      on_command(m, events);
      return;
    case message_type::audio:
    case message_type::video:
    case message_type::data_amf0:
    case message_type::data_amf3:
      events.push_back(incoming_media{std::move(m)});
      return;
    case message_type::aggregate:
      for (auto& part : split_aggregate(m)) on_message(std::move(part), events);
      return;
    default:
      return;  // shared objects and unknown types: nothing a client of live streams needs
  }
}

void client_protocol::on_control(const message& m, std::vector<client_event>& events) {
  switch (m.kind()) {
    case message_type::window_ack_size:
      if (auto v = parse_u32(m.payload.bytes())) server_window_ = *v;
      return;
    case message_type::set_peer_bandwidth: {
      // 5.4.5: answer with a Window Acknowledgement Size when it differs from the last one we
      // sent, as librtmp and FFmpeg do.
      auto bw = parse_set_peer_bandwidth(m.payload.bytes());
      if (bw && bw->size != 0 && bw->size != announced_window_) {
        announced_window_ = bw->size;
        send(window_ack_size_message(bw->size));
      }
      return;
    }
    case message_type::user_control: {
      auto uc = parse_user_control(m.payload.bytes());
      if (!uc) return;
      switch (uc->event) {
        case user_control_event::ping_request:
          send(user_control_message(user_control_event::ping_response, uc->value));
          return;
        case user_control_event::stream_begin:
        case user_control_event::stream_eof:
        case user_control_event::stream_dry:
        case user_control_event::stream_is_recorded:
          events.push_back(stream_control{uc->event, uc->value});
          return;
        default:
          return;  // buffer lengths, pong, FMS's buffer empty/ready: nothing to do
      }
    }
    default:
      return;  // chunk size and abort are applied by the reader; acks need no answer
  }
}

void client_protocol::on_command(const message& m, std::vector<client_event>& events) {
  command c;
  if (decode_command(m, c, amf_limits_)) return;  // unreadable: nothing to answer it with
  if (c.name == "_result" || c.name == "_error") {
    call_result r;
    r.transaction_id = c.transaction_id;
    r.ok = c.name == "_result";
    auto pending = std::ranges::find(pending_calls_, c.transaction_id,
                                     &std::pair<double, std::string>::first);
    if (pending != pending_calls_.end()) {
      r.call = std::move(pending->second);
      pending_calls_.erase(pending);
    }
    if (const media::amf::value* info = c.arg(0)) {
      r.code = std::string{info->get_string("code")};
      r.description = std::string{info->get_string("description")};
      if (info->is(media::amf::type::number) || info->is(media::amf::type::integer)) r.number = info->number_or(0);
    }
    r.cmd = std::move(c);
    // librtmp's SendServerBW: tell the server how often we acknowledge what it receives.
    if (r.ok && r.call == "connect" && options_.window_ack_size &&
        options_.window_ack_size != announced_window_) {
      announced_window_ = options_.window_ack_size;
      send(window_ack_size_message(options_.window_ack_size));
    }
    events.push_back(std::move(r));
    return;
  }
  if (c.name == "onStatus") {
    const media::amf::value* info = c.arg(0);
    if (!info) return;
    events.push_back(stream_status{m.stream_id, std::string{info->get_string("level")},
                                   std::string{info->get_string("code")},
                                   std::string{info->get_string("description")}});
    return;
  }
  // onBWDone, onFCPublish, _onbwcheck: courtesy notices a client of live streams does not need
  // (FFmpeg ignores them too). Other methods the server calls are the application's.
  if (c.name == "onBWDone" || c.name == "onFCPublish" || c.name == "onFCUnpublish" || c.name == "_onbwcheck" ||
      c.name == "_onbwdone")
    return;
  events.push_back(server_invocation{std::move(c)});
}

// Requests -------------------------------------------------------------------------------------

double client_protocol::call(std::string_view name, const media::amf::value& object,
                             std::span<const media::amf::value> args, std::uint32_t stream_id) {
  const double id = next_transaction_++;
  pending_calls_.emplace_back(id, std::string{name});
  send(make_command(stream_id, name, id, object, args));
  return id;
}

double client_protocol::connect(std::string_view app, std::string_view tc_url, std::span<const media::amf::value> args) {
  // The members FFmpeg sends when playing; servers read app and tcUrl, the rest is courtesy.
  const auto object = media::amf::value::make_object({
      {"app", str(app)},
      {"flashVer", str(options_.flash_ver)},
      {"tcUrl", str(tc_url)},
      {"fpad", media::amf::value::make_boolean(false)},
      {"capabilities", num(15)},
      {"audioCodecs", num(4071)},
      {"videoCodecs", num(252)},
      {"videoFunction", num(1)},
      {"objectEncoding", num(0)},
  });
  return call("connect", object, args);
}

double client_protocol::invoke(std::string_view method, std::span<const media::amf::value> args) {
  return call(method, media::amf::value::make_null(), args);
}

double client_protocol::create_stream() {
  return call("createStream", media::amf::value::make_null(), {});
}

void client_protocol::publish(std::uint32_t stream_id, std::string_view name, std::string_view type) {
  const media::amf::value args[] = {str(name), str(type)};
  send(make_command(stream_id, "publish", 0, media::amf::value::make_null(), args));
}

void client_protocol::play(std::uint32_t stream_id, std::string_view name, double start) {
  const media::amf::value args[] = {str(name), num(start)};
  send(make_command(stream_id, "play", 0, media::amf::value::make_null(), args));
  if (options_.buffer_length_ms)
    send(set_buffer_length_message(stream_id, options_.buffer_length_ms));
}

void client_protocol::delete_stream(std::uint32_t stream_id) {
  const media::amf::value args[] = {num(stream_id)};
  send(make_command(0, "deleteStream", 0, media::amf::value::make_null(), args));
}

void client_protocol::send_metadata(std::uint32_t stream_id, const media::amf::value& metadata) {
  const media::amf::value values[] = {str("@setDataFrame"), str("onMetaData"), metadata};
  send(make_data(stream_id, values));
}

void client_protocol::send_media(std::uint32_t stream_id, message_type type, std::uint32_t timestamp,
                                 shared_buffer payload) {
  message m;
  m.chunk_stream_id = type == message_type::audio   ? csid::audio
                      : type == message_type::video ? csid::video
                                                    : csid::data;
  m.type = static_cast<std::uint8_t>(type);
  m.timestamp = timestamp;
  m.stream_id = stream_id;
  m.payload = std::move(payload);
  send(m);
}

}  // namespace junction::rtmp
