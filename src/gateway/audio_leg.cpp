#include "gateway/audio_leg.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "media/rtp/audio_payload.hpp"
#include "recording/call_recorder.hpp"
#include "transcode/audio_transcoder.hpp"

namespace junction::gateway {
namespace {

namespace asio = boost::asio;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

// Same codec at the same rate: the bytes can pass through.
bool same_audio(const transcode::audio_format& a, const transcode::audio_format& b) {
  return a.codec == b.codec && a.sample_rate == b.sample_rate && a.channels == b.channels;
}

std::span<const std::uint8_t> as_u8(std::span<const std::byte> b) {
  return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}

}  // namespace

audio_leg::audio_leg(leg_context context, asio::ip::udp::socket socket, audio_leg_setup setup)
    : rtp_leg(std::move(context), std::move(socket)), setup_(std::move(setup)) {
  if (!same_audio(setup_.phone_format, setup_.client_format))
    decode_ = std::make_shared<direction>(setup_.phone_format, setup_.client_format, 20);
}

audio_leg::~audio_leg() = default;

// One packet through a direction's transcoder on the worker; what comes out goes on from the shard.
void audio_leg::transcode(std::shared_ptr<direction> dir, std::vector<std::uint8_t> packet, bool towards_phone) {
  on_worker([dir = std::move(dir), packet = std::move(packet), towards_phone](const shard_return& back) {
    auto out = dir->push(packet);
    if (out.empty()) return;
    const auto format = dir->output();
    back([out = std::move(out), format, towards_phone](rtp_leg& base) {
      auto& leg = static_cast<audio_leg&>(base);
      for (const auto& p : out) {
        if (towards_phone)
          leg.to_phone(p.data, leg.timestamp_base_ + media::rtp::rtp_units(format.codec, format.sample_rate,
                                                                          static_cast<int>(p.pts)));
        else
          leg.to_client(p.data, static_cast<std::uint32_t>(p.pts * 1000 / format.sample_rate));
      }
    });
  });
}

// Phone -> client ----------------------------------------------------------------------------

void audio_leg::on_packet(const media::rtp::packet& p) {
  if (setup_.telephone_event && p.header.payload_type == *setup_.telephone_event) {
    if (auto press = dtmf_in_.on_packet(p); press && setup_.on_dtmf) setup_.on_dtmf(press->key);
    return;
  }
  if (p.header.payload_type != setup_.phone_codec.payload_type || media::rtp::is_comfort_noise(p)) return;
  if (ctx_.recording) ctx_.recording->phone_audio(p.payload);
  if (!first_rtp_timestamp_) first_rtp_timestamp_ = p.header.timestamp;
  if (!decode_) {
    const auto clock = media::rtp::rtp_clock_rate(setup_.phone_format.codec, setup_.phone_format.sample_rate);
    to_client(p.payload, static_cast<std::uint32_t>(std::uint64_t(p.header.timestamp - *first_rtp_timestamp_) *
                                                    1000 / clock));
    return;
  }
  transcode(decode_, {p.payload.begin(), p.payload.end()}, false);
}

void audio_leg::to_client(std::span<const std::uint8_t> packet, std::uint32_t timestamp_ms) {
  auto header = transcode::flv_audio_header(setup_.client_format);
  if (!header || !ctx_.to_client) return;
  auto body = shared_buffer::build(header->size() + packet.size(), [&](std::span<std::byte> out) {
    std::memcpy(out.data(), header->data(), header->size());
    if (!packet.empty()) std::memcpy(out.data() + header->size(), packet.data(), packet.size());
  });
  ctx_.to_client(media::make_frame(media::track::audio, timestamp_ms, std::move(body)));
}

// Client -> phone ----------------------------------------------------------------------------

void audio_leg::on_frame(const media::shard_frame_ptr& f) {
  const auto& frame = f->frame();
  if (!running()) return;
  // The recording takes the client's video whether or not the phone does.
  if (frame.is_video() && ctx_.recording) ctx_.recording->client_video(frame);
  if (!frame.is_audio()) return;
  auto flv = transcode::read_flv_audio(as_u8(frame.payload.bytes()));
  if (!flv) return;
  if (flv->aac_config) {
    aac_config_.assign(flv->data.begin(), flv->data.end());
    if (ctx_.recording) ctx_.recording->client_audio(frame.payload);
    return;
  }
  if (flv->data.empty()) return;
  if (ctx_.recording) ctx_.recording->client_audio(frame.payload);
  if (!first_client_ms_) first_client_ms_ = frame.timestamp;
  auto in = flv->format;
  if (in.codec == media::codec::aac) in.extradata = aac_config_;
  const auto& out = setup_.phone_format;
  if (same_audio(in, out)) {
    const auto clock = media::rtp::rtp_clock_rate(out.codec, out.sample_rate);
    to_phone(flv->data, timestamp_base_ + static_cast<std::uint32_t>(
                                              std::uint64_t(frame.timestamp - *first_client_ms_) * clock / 1000));
    return;
  }
  // A new input format (the client switched codecs) starts a new transcoder.
  if (!encode_ || encode_->input() != in)
    encode_ = std::make_shared<direction>(in, out, static_cast<int>(setup_.ptime));
  transcode(encode_, {flv->data.begin(), flv->data.end()}, true);
}

void audio_leg::to_phone(std::span<const std::uint8_t> packet, std::uint32_t rtp_timestamp) {
  send_rtp(setup_.phone_codec.payload_type, packet, rtp_timestamp, !sent_any_);
  sent_any_ = true;
  last_sent_timestamp_ = rtp_timestamp;
  last_sent_at_ = std::chrono::steady_clock::now();
}

bool audio_leg::send_dtmf(std::string_view keys) {
  if (!running() || !setup_.telephone_event || keys.empty()) return false;
  constexpr std::uint32_t tone_ms = 100, gap_ms = 50;
  const std::uint32_t units_per_ms = setup_.phone_format.codec == media::codec::opus ? 48 : 8;
  // Each event starts where the audio stands when it begins (RFC 4733 §2.5.1.2), the keys one
  // after the other with a pause between.
  std::uint32_t start = timestamp_base_;
  if (sent_any_) {
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                             last_sent_at_);
    start = last_sent_timestamp_ + static_cast<std::uint32_t>(since.count()) * units_per_ms;
  }
  std::vector<media::rtp::dtmf_packet> packets;
  std::uint32_t offset_ms = 0;
  for (char key : keys) {
    auto one = media::rtp::dtmf_packets(key, start + offset_ms * units_per_ms, tone_ms, units_per_ms * 1000);
    if (one.empty()) return false;  // not a DTMF key
    for (auto& p : one) {
      p.send_after_ms += offset_ms;
      packets.push_back(std::move(p));
    }
    offset_ms += tone_ms + gap_ms;
  }
  asio::co_spawn(ctx_.home->context(),
                 send_events(std::static_pointer_cast<audio_leg>(shared_from_this()), *setup_.telephone_event,
                             std::move(packets)),
                 asio::detached);
  return true;
}

asio::awaitable<void> audio_leg::send_events(std::shared_ptr<audio_leg> self, std::uint8_t payload_type,
                                             std::vector<media::rtp::dtmf_packet> packets) {
  asio::steady_timer timer{self->ctx_.home->context()};
  const auto begun = std::chrono::steady_clock::now();
  for (const auto& p : packets) {
    timer.expires_at(begun + std::chrono::milliseconds(p.send_after_ms));
    co_await timer.async_wait(no_throw);
    if (!self->running()) co_return;
    self->send_rtp(payload_type, p.payload, p.timestamp, p.marker);
  }
}

}  // namespace junction::gateway
