#include "gateway/call_legs.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "gateway/audio_leg.hpp"
#include "gateway/service.hpp"
#include "gateway/video_leg.hpp"
#include "gateway/xflv_leg.hpp"

namespace junction::gateway {

namespace asio = boost::asio;
using asio::ip::udp;

call_legs::call_legs(junction::shard& home, service& svc) : home_(home), svc_(svc) {}

call_legs::~call_legs() {
  stop();
  release_ports();
}

std::optional<std::uint16_t> call_legs::bind_one(std::optional<udp::socket>& slot) {
  if (slot) return slot->local_endpoint().port();
  boost::system::error_code ec;
  auto address = asio::ip::make_address(svc_.media_address(), ec);
  if (ec) return std::nullopt;
  udp::socket s{home_.context()};
  s.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
  if (!ec) s.bind({address, 0}, ec);
  if (ec) return std::nullopt;
  const auto port = s.local_endpoint().port();
  slot.emplace(std::move(s));
  home_.metrics().add(svc_.metrics().rtp_ports);
  return port;
}

std::optional<std::vector<std::uint16_t>> call_legs::bind(const std::vector<port_need>& needs) {
  std::vector<std::uint16_t> ports;
  for (auto need : needs) {
    std::optional<std::uint16_t> port = 0;
    if (need == port_need::audio) port = bind_one(audio_socket_);
    else if (need == port_need::video) port = bind_one(video_socket_);
    if (!port) return std::nullopt;
    ports.push_back(*port);
  }
  return ports;
}

void call_legs::release_ports() {
  for (auto* slot : {&audio_socket_, &video_socket_})
    if (*slot) {
      slot->reset();
      home_.metrics().sub(svc_.metrics().rtp_ports);
    }
}

bool call_legs::start(const media_start& start, const leg_context& context, std::function<void(char)> on_dtmf) {
  const bool started = start.xflv ? start_xflv(start, context) : start_audio(start, context, std::move(on_dtmf));
  if (!started) stop();
  release_ports();  // a port the phone refused, or the audio port of an x-flv call
  return started;
}

// The audio leg (transcoding as the plan says), and the H.264 video leg when agreed. The sockets
// (and their counts in the rtp_ports gauge) go to the legs.
bool call_legs::start_audio(const media_start& start, const leg_context& context,
                            std::function<void(char)> on_dtmf) {
  const auto& audio = start.audio;
  if (!audio_socket_) return false;
  audio_leg_setup setup;
  setup.phone_codec = start.phone_audio;
  auto phone_format = transcode::audio_format_of(setup.phone_codec);
  if (!phone_format) return false;
  setup.phone_format = *phone_format;
  setup.telephone_event = start.telephone_event;
  const auto& p = start.plan;
  setup.client_format = p.client_audio == media::codec::unknown
                            ? transcode::audio_format{media::codec::speex, 16000, 1}
                            : transcode::audio_format{p.client_audio, p.client_rate, 1};
  setup.ptime = audio.ptime ? audio.ptime : 20;
  setup.on_dtmf = std::move(on_dtmf);
  phone_format_ = setup.phone_format;
  audio_ = std::make_shared<audio_leg>(context, std::move(*audio_socket_), std::move(setup));
  audio_socket_.reset();
  bool keys_ok = !audio.local_crypto || audio_->use_srtp(*audio.local_crypto, *audio.remote_crypto);
  audio_->start(audio.remote_address, audio.remote_port);
  if (start.video && video_socket_) {
    const auto& video = *start.video;
    video_ = std::make_shared<video_leg>(context, std::move(*video_socket_), video_leg_setup{video.codecs.front()});
    video_socket_.reset();
    keys_ok = keys_ok && (!video.local_crypto || video_->use_srtp(*video.local_crypto, *video.remote_crypto));
    video_->start(video.remote_address, video.remote_port);
  }
  if (!keys_ok) log::info("gateway: the SRTP keys cannot be used");
  return keys_ok;
}

// Both ends are gateways: the client's RTMP messages go as x-flv on the video m= line.
bool call_legs::start_xflv(const media_start& start, const leg_context& context) {
  const auto& video = *start.xflv;
  if (!video_socket_) return false;
  xflv_ = std::make_shared<xflv_leg>(context, std::move(*video_socket_), start.xflv_codec->payload_type);
  video_socket_.reset();
  if (video.local_crypto && !xflv_->use_srtp(*video.local_crypto, *video.remote_crypto)) return false;
  xflv_->start(video.remote_address, video.remote_port);
  return true;
}

rtp_leg* call_legs::leg_for(std::string_view media) const {
  if (media == "audio") return audio_.get();
  if (media == "video") return video_ ? static_cast<rtp_leg*>(video_.get()) : static_cast<rtp_leg*>(xflv_.get());
  return nullptr;
}

std::vector<rtp_leg*> call_legs::legs() const {
  std::vector<rtp_leg*> out;
  for (rtp_leg* leg : {static_cast<rtp_leg*>(audio_.get()), static_cast<rtp_leg*>(video_.get()),
                       static_cast<rtp_leg*>(xflv_.get())})
    if (leg) out.push_back(leg);
  return out;
}

// Each leg sends (or not) and goes where the session now says; SRTP keys that changed are used.
void call_legs::apply(const std::vector<leg_update>& updates) {
  for (const auto& u : updates) {
    auto* leg = leg_for(u.media);
    if (!leg) continue;
    leg->set_sending(u.sending);
    if (u.remote) leg->retarget(u.remote->first, u.remote->second);
    if (u.keys) leg->use_srtp(u.keys->first, u.keys->second);
  }
}

void call_legs::stop() {
  for (auto* leg : legs()) leg->stop();
  audio_.reset();
  video_.reset();
  xflv_.reset();
  release_ports();
}

bool call_legs::send_dtmf(std::string_view keys) { return audio_ && audio_->send_dtmf(keys); }

std::chrono::steady_clock::time_point call_legs::last_received(std::chrono::steady_clock::time_point since) const {
  auto last = since;
  for (auto* leg : legs()) last = std::max(last, leg->last_received());
  return last;
}

void call_legs::set_recording(const std::shared_ptr<recording::call_recording>& recording) {
  if (audio_) audio_->set_recording(recording);
  if (video_) video_->set_recording(recording);
}

}  // namespace junction::gateway
