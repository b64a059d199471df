#include "gateway/audio_leg.hpp"

#include <algorithm>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "gateway/service.hpp"
#include "media/rtp/audio_payload.hpp"
#include "media/rtp/packet.hpp"
#include "media/stream_hub.hpp"
#include "transcode/audio_transcoder.hpp"
#include "transcode/worker_pool.hpp"

namespace junction::gateway {
namespace {

namespace asio = boost::asio;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

// Same codec at the same rate: the bytes can pass through.
bool same_audio(const transcode::audio_format& a, const transcode::audio_format& b) {
  return a.codec == b.codec && a.sample_rate == b.sample_rate && a.channels == b.channels;
}

std::span<const std::uint8_t> as_u8(std::span<const std::byte> b) {
  return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}

}  // namespace

std::optional<transcode::audio_format> audio_format_of(const media::sdp::codec& c) {
  using media::codec;
  if (iequal(c.encoding, "PCMU")) return transcode::audio_format{codec::g711u, 8000, 1};
  if (iequal(c.encoding, "PCMA")) return transcode::audio_format{codec::g711a, 8000, 1};
  // G.722's RTP clock says 8000 but the audio is 16 kHz (RFC 3551 §4.5.2).
  if (iequal(c.encoding, "G722")) return transcode::audio_format{codec::g722, 16000, 1};
  if (iequal(c.encoding, "speex")) return transcode::audio_format{codec::speex, static_cast<int>(c.clock_rate), 1};
  // Opus is always described as 48000/2 (RFC 7587); mono is what the gateway's audio is.
  if (iequal(c.encoding, "opus")) return transcode::audio_format{codec::opus, 48000, 1};
  return std::nullopt;
}

// One transcoding direction: made on its worker at the first packet, used only there.
struct audio_leg::direction {
  transcode::audio_format in, out;
  int frame_ms = 20;
  std::unique_ptr<transcode::audio_transcoder> transcoder;
  bool failed = false;
};

audio_leg::audio_leg(junction::shard& home, media::stream_hub& hub, transcode::worker_pool& pool,
                     const gateway_metrics& metrics, asio::ip::udp::socket rtp)
    : home_(home), hub_(hub), pool_(pool), metrics_(metrics), rtp_(std::move(rtp)), watchdog_timer_(home.context()) {
  std::random_device rd;
  ssrc_ = rd();
  sequence_ = static_cast<std::uint16_t>(rd());
  timestamp_base_ = rd();
}

audio_leg::~audio_leg() {
  if (worker_assigned_) pool_.release(worker_);
}

void audio_leg::start(audio_leg_setup setup, callbacks cb) {
  setup_ = std::move(setup);
  cb_ = std::move(cb);
  boost::system::error_code ec;
  remote_ = {asio::ip::make_address(setup_.remote_address, ec), setup_.remote_port};
  if (ec) log::info("gateway: the phone's RTP address '{}' is not an IP address", setup_.remote_address);
  running_ = true;
  last_rtp_ = std::chrono::steady_clock::now();
  worker_ = pool_.assign();
  worker_assigned_ = true;
  if (!same_audio(setup_.phone_format, setup_.client_format))
    decode_ = std::make_shared<direction>(direction{setup_.phone_format, setup_.client_format, 20, nullptr, false});
  hub_.subscribe(setup_.local_key, *this);
  subscribed_ = true;
  auto self = shared_from_this();
  asio::co_spawn(home_.context(), [self]() { return self->publish_remote(); }, asio::detached);
  asio::co_spawn(home_.context(), [self]() { return self->receive_loop(); }, asio::detached);
  asio::co_spawn(home_.context(), [self]() { return self->watchdog(); }, asio::detached);
}

void audio_leg::stop() {
  if (!running_) return;
  running_ = false;
  cb_ = {};
  if (subscribed_) hub_.unsubscribe(setup_.local_key, *this);
  subscribed_ = false;
  remote_stream_.reset();  // the client's player of `remote` hears UnpublishNotify
  boost::system::error_code ec;
  rtp_.close(ec);
  home_.metrics().sub(metrics_.rtp_ports);
  watchdog_timer_.cancel();
}

asio::awaitable<void> audio_leg::publish_remote() {
  auto self = shared_from_this();
  media::publish_options options;
  options.takeover = true;  // the line's own stream: a leftover from an earlier call gives way
  media::publisher_info who{"rtp", setup_.remote_address + ":" + std::to_string(setup_.remote_port), 0};
  auto claimed = co_await hub_.publish(setup_.remote_key, std::move(options), std::move(who));
  if (running_) remote_stream_ = std::move(claimed.handle);
}

asio::awaitable<void> audio_leg::receive_loop() {
  auto self = shared_from_this();
  std::vector<std::uint8_t> buffer(2048);
  asio::ip::udp::endpoint from;
  while (running_) {
    auto [ec, n] = co_await rtp_.async_receive_from(asio::buffer(buffer), from, no_throw);
    if (!running_) break;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
      continue;  // ICMP port unreachable and the like: the phone may not be there yet
    }
    on_datagram(std::span{buffer.data(), n}, from);
  }
}

asio::awaitable<void> audio_leg::watchdog() {
  auto self = shared_from_this();
  while (running_) {
    watchdog_timer_.expires_after(std::chrono::seconds(1));
    co_await watchdog_timer_.async_wait(no_throw);
    if (!running_) break;
    if (std::chrono::steady_clock::now() - last_rtp_ > setup_.rtp_timeout) {
      auto timed_out = cb_.timed_out;
      if (timed_out) timed_out();
      break;
    }
  }
}

// Phone -> client ----------------------------------------------------------------------------

void audio_leg::on_datagram(std::span<const std::uint8_t> datagram, const asio::ip::udp::endpoint& from) {
  if (media::rtp::is_rtcp(datagram)) return;  // reports are not used yet
  auto parsed = media::rtp::parse_packet(datagram);
  if (!parsed.ok()) return;
  last_rtp_ = std::chrono::steady_clock::now();
  home_.metrics().add(metrics_.rtp_in);
  // Symmetric RTP: answer where the phone really sends from (it may be behind a NAT).
  if (from != remote_) remote_ = from;
  const auto& p = *parsed.packet;
  if (setup_.telephone_event && p.header.payload_type == *setup_.telephone_event) {
    if (auto press = dtmf_in_.on_packet(p); press && cb_.dtmf) cb_.dtmf(press->key);
    return;
  }
  if (p.header.payload_type != setup_.phone_codec.payload_type || media::rtp::is_comfort_noise(p)) return;
  if (!first_rtp_timestamp_) first_rtp_timestamp_ = p.header.timestamp;
  if (!decode_) {
    const auto clock = media::rtp::rtp_clock_rate(setup_.phone_format.codec, setup_.phone_format.sample_rate);
    const auto ms = static_cast<std::uint32_t>(std::uint64_t(p.header.timestamp - *first_rtp_timestamp_) * 1000 / clock);
    to_client(p.payload, ms);
    return;
  }
  std::vector<std::uint8_t> payload(p.payload.begin(), p.payload.end());
  std::weak_ptr<audio_leg> weak = weak_from_this();
  pool_.post(worker_, [dir = decode_, payload = std::move(payload), weak, home = &home_]() {
    if (dir->failed) return;
    if (!dir->transcoder) {
      std::string why;
      dir->transcoder = transcode::audio_transcoder::create(dir->in, dir->out, dir->frame_ms, &why);
      if (!dir->transcoder) {
        dir->failed = true;
        log::warn("gateway: cannot transcode {} to {}: {}", transcode::describe(dir->in),
                  transcode::describe(dir->out), why);
        return;
      }
    }
    std::vector<transcode::audio_packet> out;
    dir->transcoder->push(payload, out);
    if (out.empty()) return;
    const int rate = dir->out.sample_rate;
    asio::post(home->context(), [weak, out = std::move(out), rate]() {
      if (auto self = weak.lock())
        for (const auto& packet : out)
          self->to_client(packet.data, static_cast<std::uint32_t>(packet.pts * 1000 / rate));
    });
  });
}

void audio_leg::to_client(std::span<const std::uint8_t> packet, std::uint32_t timestamp_ms) {
  if (!running_ || !remote_stream_) return;
  auto header = transcode::flv_audio_header(setup_.client_format);
  if (!header) return;
  auto body = shared_buffer::build(header->size() + packet.size(), [&](std::span<std::byte> out) {
    std::memcpy(out.data(), header->data(), header->size());
    if (!packet.empty()) std::memcpy(out.data() + header->size(), packet.data(), packet.size());
  });
  remote_stream_->push(media::make_frame(media::track::audio, timestamp_ms, std::move(body)));
}

// Client -> phone ----------------------------------------------------------------------------

void audio_leg::on_frame(const media::shard_frame_ptr& f) {
  const auto& frame = f->frame();
  if (!running_ || !frame.is_audio()) return;
  auto flv = transcode::read_flv_audio(as_u8(frame.payload.bytes()));
  if (!flv) return;
  if (flv->aac_config) {
    aac_config_.assign(flv->data.begin(), flv->data.end());
    return;
  }
  if (flv->data.empty()) return;
  if (!first_client_ms_) first_client_ms_ = frame.timestamp;
  auto in = flv->format;
  if (in.codec == media::codec::aac) in.extradata = aac_config_;
  const auto& out_format = setup_.phone_format;
  if (same_audio(in, out_format)) {
    const auto clock = media::rtp::rtp_clock_rate(out_format.codec, out_format.sample_rate);
    to_phone(flv->data, timestamp_base_ + static_cast<std::uint32_t>(
                                              std::uint64_t(frame.timestamp - *first_client_ms_) * clock / 1000));
    return;
  }
  // A new input format (the client switched codecs) starts a new transcoder.
  if (!encode_ || encode_->in != in)
    encode_ = std::make_shared<direction>(direction{in, out_format, static_cast<int>(setup_.ptime), nullptr, false});
  std::vector<std::uint8_t> payload(flv->data.begin(), flv->data.end());
  std::weak_ptr<audio_leg> weak = weak_from_this();
  pool_.post(worker_, [dir = encode_, payload = std::move(payload), weak, home = &home_]() {
    if (dir->failed) return;
    if (!dir->transcoder) {
      std::string why;
      dir->transcoder = transcode::audio_transcoder::create(dir->in, dir->out, dir->frame_ms, &why);
      if (!dir->transcoder) {
        dir->failed = true;
        log::warn("gateway: cannot transcode {} to {}: {}", transcode::describe(dir->in),
                  transcode::describe(dir->out), why);
        return;
      }
    }
    std::vector<transcode::audio_packet> out;
    dir->transcoder->push(payload, out);
    if (out.empty()) return;
    const auto codec = dir->out.codec;
    const int rate = dir->out.sample_rate;
    asio::post(home->context(), [weak, out = std::move(out), codec, rate]() {
      if (auto self = weak.lock())
        for (const auto& packet : out)
          self->to_phone(packet.data,
                         self->timestamp_base_ + media::rtp::rtp_units(codec, rate, static_cast<int>(packet.pts)));
    });
  });
}

void audio_leg::to_phone(std::span<const std::uint8_t> packet, std::uint32_t rtp_timestamp) {
  if (!running_) return;
  send_rtp(setup_.phone_codec.payload_type, packet, rtp_timestamp, !sent_any_);
  sent_any_ = true;
  last_sent_timestamp_ = rtp_timestamp;
  last_sent_at_ = std::chrono::steady_clock::now();
}

void audio_leg::send_rtp(std::uint8_t payload_type, std::span<const std::uint8_t> payload, std::uint32_t timestamp,
                         bool marker) {
  if (remote_.port() == 0) return;
  media::rtp::header h;
  h.payload_type = payload_type;
  h.marker = marker;
  h.sequence = sequence_++;
  h.timestamp = timestamp;
  h.ssrc = ssrc_;
  std::vector<std::uint8_t> datagram;
  datagram.reserve(12 + payload.size());
  media::rtp::write_packet(h, payload, datagram);
  boost::system::error_code ec;
  rtp_.send_to(asio::buffer(datagram), remote_, 0, ec);
  if (!ec) home_.metrics().add(metrics_.rtp_out);
}

bool audio_leg::send_dtmf(char key) {
  if (!running_ || !setup_.telephone_event) return false;
  // The event starts where the audio stands now (RFC 4733 §2.5.1.2: the timestamp of its start).
  std::uint32_t start = timestamp_base_;
  if (sent_any_) {
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - last_sent_at_);
    start = last_sent_timestamp_ + static_cast<std::uint32_t>(since.count() * 8);
  }
  auto packets = media::rtp::dtmf_packets(key, start, 100);
  if (packets.empty()) return false;
  const std::uint8_t pt = *setup_.telephone_event;
  auto self = shared_from_this();
  asio::co_spawn(
      home_.context(),
      [self, pt, packets = std::move(packets)]() -> asio::awaitable<void> {
        asio::steady_timer timer{self->home_.context()};
        const auto begun = std::chrono::steady_clock::now();
        for (const auto& p : packets) {
          timer.expires_at(begun + std::chrono::milliseconds(p.send_after_ms));
          co_await timer.async_wait(no_throw);
          if (!self->running_) co_return;
          self->send_rtp(pt, p.payload, p.timestamp, p.marker);
        }
      },
      asio::detached);
  return true;
}

}  // namespace junction::gateway
