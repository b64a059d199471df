#include "rtmp/server_protocol.hpp"

#include <fmt/format.h>

#include "rtmp/aggregate.hpp"
#include "rtmp/control.hpp"

#include <algorithm>

namespace junction::rtmp {

namespace {

media::amf::value str(std::string_view s) { return media::amf::value::make_string(std::string{s}); }
media::amf::value num(double d) { return media::amf::value::make_number(d); }

}  // namespace

std::pair<std::string, std::string> split_query(std::string_view s) {
  auto q = s.find('?');
  if (q == std::string_view::npos) return {std::string{s}, {}};
  return {std::string{s.substr(0, q)}, std::string{s.substr(q + 1)}};
}

server_protocol::server_protocol(server_protocol_options options)
    : options_{std::move(options)},
      handshake_{std::make_unique<server_handshake>(options_.handshake)},
      reader_{options_.chunk_limits} {}

server_protocol::fed server_protocol::feed(std::span<const std::byte> in,
                                           std::vector<protocol_event>& events,
                                           chunk_reader::time_point now) {
  std::size_t used = 0;
  if (handshake_) {
    auto step = handshake_->feed(in);
    out_.insert(out_.end(), step.output.begin(), step.output.end());
    if (step.error) return {step.consumed, step.error};
    used = step.consumed;
    if (!step.done) return {used, {}};
    events.push_back(handshake_done{handshake_->digest_used()});
    handshake_.reset();
  }
  auto r = reader_.feed(in.subspan(used), held_, now);
  // Messages after a connect wait for the session's decision on it (a hook may take a while):
  // a client that pipelines createStream behind connect must not be told to connect first.
  std::size_t i = 0;
  std::error_code error = r.error;
  for (; i < held_.size() && !awaiting_connect_ && !failed_; ++i)
    if (auto ec = on_message(std::move(held_[i]), events)) failed_ = ec;
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(i));
  if (failed_) return {used + r.consumed, failed_};
  acknowledge_if_due();
  return {used + r.consumed, error};
}

std::vector<std::byte> server_protocol::take_output() {
  std::vector<std::byte> out;
  out.swap(out_);
  return out;
}

void server_protocol::send(const message& m) { writer_.write(out_, m); }

// Acknowledgement (5.4.3): after each window of bytes the peer announced, say how many arrived.
// Before the client announces one, use ours: FFmpeg and OBS never send one to a server.
void server_protocol::acknowledge_if_due() {
  const std::uint32_t window = peer_window_ ? peer_window_ : options_.window_ack_size;
  if (window == 0) return;
  const std::uint64_t received = reader_.bytes_received();
  if (received - acknowledged_ >= window) {
    acknowledged_ = received;
    send(acknowledgement_message(static_cast<std::uint32_t>(received)));
  }
}

std::error_code server_protocol::on_message(message m, std::vector<protocol_event>& events) {
  switch (m.kind()) {
    case message_type::set_chunk_size:
    case message_type::abort:
    case message_type::acknowledgement:
    case message_type::window_ack_size:
    case message_type::set_peer_bandwidth:
    case message_type::user_control:
      on_control(m);
      return {};
    case message_type::command_amf0:
    case message_type::command_amf3:
      return on_command(m, events);
    case message_type::data_amf0:
    case message_type::data_amf3:
      on_data(std::move(m), events);
      return {};
    case message_type::audio:
    case message_type::video:
      events.push_back(media_message{std::move(m)});
      return {};
    case message_type::aggregate:
      for (auto& part : split_aggregate(m)) on_message(std::move(part), events);
      return {};
    default:
      return {};  // shared objects and unknown types: ignored, as FMS-compatible servers do
  }
}

void server_protocol::on_control(const message& m) {
  switch (m.kind()) {
    case message_type::window_ack_size:
      if (auto v = parse_u32(m.payload.bytes())) peer_window_ = *v;
      return;
    case message_type::user_control: {
      auto uc = parse_user_control(m.payload.bytes());
      if (!uc) return;
      if (uc->event == user_control_event::ping_request)
        send(user_control_message(user_control_event::ping_response, uc->value));
      else if (uc->event == user_control_event::ping_response)
        last_pong_ = uc->value;
      return;
    }
    default:
      return;  // chunk size and abort are applied by the reader; acks need no answer
  }
}

std::error_code server_protocol::on_command(const message& m, std::vector<protocol_event>& events) {
  command c;
  // A command we cannot read (malformed, or past the AMF limits) has no transaction id to
  // answer, and a peer that sends one is broken or hostile: the connection ends.
  if (auto ec = decode_command(m, c, amf_limits_)) return ec;
  const std::uint32_t sid = m.stream_id;
  const auto arg_string = [&](std::size_t i) {
    const media::amf::value* a = c.arg(i);
    return a ? std::string{a->string_or()} : std::string{};
  };

  if (c.name == "connect") {
    if (connected_ || awaiting_connect_) {
      call_error(c, "NetConnection.Call.Failed", "already connected");
      return {};
    }
    connect_request r;
    r.transaction_id = c.transaction_id;
    auto [app, app_query] = split_query(c.object.get_string("app"));
    r.app = std::move(app);
    while (!r.app.empty() && r.app.back() == '/') r.app.pop_back();
    r.tc_url = std::string{c.object.get_string("tcUrl")};
    r.query = app_query.empty() ? split_query(r.tc_url).second : app_query;
    r.flash_ver = std::string{c.object.get_string("flashVer")};
    r.page_url = std::string{c.object.get_string("pageUrl")};
    r.object_encoding = c.object.get_number("objectEncoding", 0);
    r.object = std::move(c.object);
    r.args = std::move(c.args);
    amf3_ = r.object_encoding == 3;
    app_ = r.app;
    awaiting_connect_ = true;
    events.push_back(std::move(r));
    return {};
  }
  if (!connected_) {
    call_error(c, "NetConnection.Call.Failed", "connect first");
    return {};
  }
  if (c.name == "createStream") {
    if (streams_.size() >= options_.max_streams) {
      call_error(c, "NetConnection.Call.Failed", "too many streams on this connection");
      return {};
    }
    const std::uint32_t id = next_stream_id_++;
    streams_.push_back(id);
    reply(c, "_result", media::amf::value::make_null(), num(id));
    return {};
  }
  if (c.name == "releaseStream" || c.name == "FCPublish" || c.name == "FCUnpublish") {
    // Flash Media Live Encoder's handshake around publish. FCPublish/FCUnpublish are answered
    // with onFCPublish/onFCUnpublish as FMS does; FFmpeg and OBS do not wait for either.
    const std::string name = arg_string(0);
    if (c.name == "FCPublish")
      send(make_command(0, "onFCPublish", 0, media::amf::value::make_null(),
                        std::vector{status_info("status", "NetStream.Publish.Start", name)}, amf3_));
    if (c.name == "FCUnpublish")
      send(make_command(0, "onFCUnpublish", 0, media::amf::value::make_null(),
                        std::vector{status_info("status", "NetStream.Unpublish.Success", name)}, amf3_));
    if (c.transaction_id != 0) reply(c, "_result", media::amf::value::make_null(), media::amf::value::make_undefined());
    return {};
  }
  if (c.name == "FCSubscribe" || c.name == "FCUnsubscribe") {
    // rtmpdump (--live) and Flash's live players ask before play; FMS answers onFCSubscribe. An
    // _error here made rtmpdump log "rtmp server sent error" although play then worked.
    const std::string name = arg_string(0);
    const bool subscribe = c.name == "FCSubscribe";
    send(make_command(0, subscribe ? "onFCSubscribe" : "onFCUnsubscribe", 0, media::amf::value::make_null(),
                      std::vector{status_info("status", subscribe ? "NetStream.Play.Start" : "NetStream.Play.Stop",
                                              name)},
                      amf3_));
    if (c.transaction_id != 0) reply(c, "_result", media::amf::value::make_null(), media::amf::value::make_undefined());
    return {};
  }
  if (c.name == "publish") {
    publish_request r;
    r.stream_id = sid;
    auto [name, query] = split_query(arg_string(0));
    r.name = std::move(name);
    r.query = std::move(query);
    r.type = arg_string(1);
    if (r.type.empty()) r.type = "live";
    events.push_back(std::move(r));
    return {};
  }
  if (c.name == "play") {
    play_request r;
    r.stream_id = sid;
    auto [name, query] = split_query(arg_string(0));
    r.name = std::move(name);
    r.query = std::move(query);
    if (auto* a = c.arg(1)) r.start = a->number_or(-2);
    if (auto* a = c.arg(2)) r.duration = a->number_or(-1);
    if (auto* a = c.arg(3)) r.reset = a->boolean_or(a->number_or(1) != 0);
    events.push_back(std::move(r));
    return {};
  }
  if (c.name == "deleteStream" || c.name == "closeStream") {
    std::uint32_t target = sid;
    if (c.name == "deleteStream") {
      if (auto* a = c.arg(0)) target = static_cast<std::uint32_t>(a->number_or(sid));
      std::erase(streams_, target);
    }
    events.push_back(stream_closed{target});
    return {};
  }
  if (c.name == "receiveAudio" || c.name == "receiveVideo") {
    const media::amf::value* a = c.arg(0);
    events.push_back(receive_toggle{sid, c.name == "receiveVideo", a ? a->boolean_or(true) : true});
    return {};
  }
  if (c.name == "pause" || c.name == "pauseRaw") {
    const media::amf::value* p = c.arg(0);
    const media::amf::value* at = c.arg(1);
    events.push_back(pause_request{sid, p ? p->boolean_or(true) : true, at ? at->number_or(0) : 0});
    return {};
  }
  if (c.name == "seek") {
    // The session knows whether the stream is recorded; a live one answers Seek.Failed as FMS does.
    const media::amf::value* at = c.arg(0);
    events.push_back(seek_request{sid, at ? at->number_or(0) : 0});
    return {};
  }
  if (c.name == "getStreamLength") {
    reply(c, "_result", media::amf::value::make_null(), num(0));  // live: no length
    return {};
  }
  if (c.name == "_checkbw") {
    reply(c, "_result", media::amf::value::make_null(), media::amf::value::make_undefined());
    return {};
  }
  if (c.name == "_result" || c.name == "_error" || c.name == "onStatus" || c.name == "onBWDone" ||
      c.name == "_onbwcheck" || c.name == "_onbwdone")
    return {};  // answers to calls we never made, or courtesy notices
  events.push_back(server_call{std::move(c)});
  return {};
}

void server_protocol::on_data(message m, std::vector<protocol_event>& events) {
  std::vector<media::amf::value> values;
  if (decode_data(m, values, amf_limits_)) return;
  if (values.empty() || !values[0].is(media::amf::type::string)) return;
  if (values[0].text == "@setDataFrame") {
    // The publisher's metadata for players: drop the @setDataFrame wrapper, keep the rest
    // (normally "onMetaData" and its object), as FMS and nginx-rtmp do.
    values.erase(values.begin());
    auto data = make_data(m.stream_id, values);
    data.timestamp = m.timestamp;
    events.push_back(media_message{std::move(data)});
    return;
  }
  if (values[0].text == "@clearDataFrame") return;
  if (m.kind() == message_type::data_amf3) {
    // Players read AMF0 data messages; rewrite the body without the format byte.
    auto data = make_data(m.stream_id, values);
    data.timestamp = m.timestamp;
    events.push_back(media_message{std::move(data)});
    return;
  }
  events.push_back(media_message{std::move(m)});
}

// Replies --------------------------------------------------------------------------------------

void server_protocol::reply(const command& c, std::string_view name, const media::amf::value& object,
                            const media::amf::value& info) {
  send(make_command(0, name, c.transaction_id, object, std::span{&info, 1}, c.amf3));
}

void server_protocol::accept_connect(const connect_request& r) {
  connected_ = true;
  awaiting_connect_ = false;
  // The order FMS and nginx-rtmp use: window, peer bandwidth, chunk size, then the result.
  send(window_ack_size_message(options_.window_ack_size));
  send(set_peer_bandwidth_message(options_.window_ack_size, 2));
  send(set_chunk_size_message(options_.out_chunk_size));
  writer_.set_chunk_size(options_.out_chunk_size);
  const auto properties = media::amf::value::make_object({
      {"fmsVer", str("FMS/3,5,7,7009")},
      {"capabilities", num(31)},
      {"mode", num(1)},
  });
  const auto info = status_info("status", "NetConnection.Connect.Success", "Connection succeeded.",
                                {{"objectEncoding", num(r.object_encoding)},
                                 {"data", media::amf::value::make_ecma_array({{"version", str("3,5,7,7009")}})}});
  command c;
  c.transaction_id = r.transaction_id;
  c.amf3 = amf3_;
  reply(c, "_result", properties, info);
}

void server_protocol::reject_connect(const connect_request& r, std::string_view description) {
  command c;
  c.transaction_id = r.transaction_id;
  c.amf3 = amf3_;
  reply(c, "_error", media::amf::value::make_null(),
        status_info("error", "NetConnection.Connect.Rejected", description));
}

void server_protocol::call_result(const command& c, const media::amf::value& result) {
  reply(c, "_result", media::amf::value::make_null(), result);
}

void server_protocol::call_error(const command& c, std::string_view code, std::string_view description) {
  reply(c, "_error", media::amf::value::make_null(), status_info("error", code, description));
}

void server_protocol::invoke(std::string_view method, std::span<const media::amf::value> args) {
  send(make_command(0, method, 0, media::amf::value::make_null(), args, amf3_));
}

void server_protocol::status(std::uint32_t stream_id, std::string_view level, std::string_view code,
                             std::string_view description) {
  send(on_status(stream_id, level, code, description));
}

void server_protocol::publish_started(const publish_request& r) {
  send(user_control_message(user_control_event::stream_begin, r.stream_id));
  status(r.stream_id, "status", "NetStream.Publish.Start", r.name + " is now published.");
}

void server_protocol::publish_refused(const publish_request& r, std::string_view code,
                                      std::string_view description) {
  status(r.stream_id, "error", code, description);
}

void server_protocol::publish_stopped(std::uint32_t stream_id, std::string_view name) {
  status(stream_id, "status", "NetStream.Unpublish.Success", std::string{name} + " is now unpublished.");
}

void server_protocol::play_started(const play_request& r) {
  send(user_control_message(user_control_event::stream_begin, r.stream_id));
  if (r.reset) status(r.stream_id, "status", "NetStream.Play.Reset", "Playing and resetting " + r.name + ".");
  status(r.stream_id, "status", "NetStream.Play.Start", "Started playing " + r.name + ".");
  // Lets Flash clients read the stream's bytes (BitmapData.draw, SoundMixer.computeSpectrum).
  const media::amf::value access[] = {str("|RtmpSampleAccess"), media::amf::value::make_boolean(true),
                               media::amf::value::make_boolean(true)};
  send(make_data(r.stream_id, access));
}

void server_protocol::play_failed(const play_request& r, std::string_view code,
                                  std::string_view description) {
  status(r.stream_id, "error", code, description);
}

void server_protocol::unpublish_notify(std::uint32_t stream_id, std::string_view name) {
  status(stream_id, "status", "NetStream.Play.UnpublishNotify", std::string{name} + " is now unpublished.");
  send(user_control_message(user_control_event::stream_eof, stream_id));
}

void server_protocol::publish_notify(std::uint32_t stream_id, std::string_view name) {
  send(user_control_message(user_control_event::stream_begin, stream_id));
  status(stream_id, "status", "NetStream.Play.PublishNotify", std::string{name} + " is now published.");
}

void server_protocol::seek_notify(std::uint32_t stream_id, std::string_view name, double position_ms) {
  send(user_control_message(user_control_event::stream_eof, stream_id));
  send(user_control_message(user_control_event::stream_begin, stream_id));
  status(stream_id, "status", "NetStream.Seek.Notify",
         fmt::format("Seeking {} (stream ID: {}).", position_ms, stream_id));
  status(stream_id, "status", "NetStream.Play.Start", "Started playing " + std::string{name} + ".");
}

void server_protocol::seek_failed(std::uint32_t stream_id, std::string_view description) {
  status(stream_id, "error", "NetStream.Seek.Failed", description);
}

void server_protocol::play_complete(std::uint32_t stream_id, std::string_view name, double duration_ms) {
  status(stream_id, "status", "NetStream.Play.Stop", "Stopped playing " + std::string{name} + ".");
  const media::amf::value info[] = {str("onPlayStatus"),
                             media::amf::value::make_object({{"level", str("status")},
                                                      {"code", str("NetStream.Play.Complete")},
                                                      {"duration", num(duration_ms / 1000.0)},
                                                      {"bytes", num(0)}})};
  send(make_data(stream_id, info));
  send(user_control_message(user_control_event::stream_eof, stream_id));
}

void server_protocol::pause_notify(const pause_request& r, std::string_view name) {
  if (r.pause) {
    send(user_control_message(user_control_event::stream_eof, r.stream_id));
    status(r.stream_id, "status", "NetStream.Pause.Notify", "Paused " + std::string{name} + ".");
  } else {
    send(user_control_message(user_control_event::stream_begin, r.stream_id));
    status(r.stream_id, "status", "NetStream.Unpause.Notify", "Unpaused " + std::string{name} + ".");
  }
}

void server_protocol::ping(std::uint32_t timestamp) {
  send(user_control_message(user_control_event::ping_request, timestamp));
}

}  // namespace junction::rtmp
