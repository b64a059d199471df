#pragma once
// The legs of one gateway call and the RTP ports they start from: ports bound for an offer or an
// answer (what call_media's plan needs), then the audio leg (with an H.264 video leg) or the
// x-flv leg started as call_media decided, the updates of hold, moves and re-keying applied to
// them, and everything stopped at the end. A line (line.cpp) owns one.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/ip/udp.hpp>

#include "gateway/call_media.hpp"
#include "gateway/rtp_leg.hpp"
#include "transcode/audio_format.hpp"

namespace junction::gateway {

class audio_leg;
class video_leg;
class xflv_leg;
class service;

class call_legs {
 public:
  call_legs(junction::shard& home, service& svc);
  ~call_legs();
  call_legs(const call_legs&) = delete;
  call_legs& operator=(const call_legs&) = delete;

  // Ports for the m= lines (0 where none is needed); nothing when one cannot be bound.
  std::optional<std::vector<std::uint16_t>> bind(const std::vector<port_need>& needs);
  // Ports bound but not handed to a leg are closed (a refused stream, a call that failed).
  void release_ports();

  // Starts the legs; false, with nothing left running, when one cannot be started (no codec the
  // transcoder knows, SRTP keys that cannot be used).
  bool start(const media_start& start, const leg_context& context, std::function<void(char)> on_dtmf);
  void apply(const std::vector<leg_update>& updates);
  // Stops the legs and closes every port, bound or handed over: nothing of the call is left.
  void stop();

  bool up() const noexcept { return audio_ || xflv_; }
  bool video() const noexcept { return video_ != nullptr; }
  bool audio() const noexcept { return audio_ != nullptr; }
  // RFC 4733 events for the keys; false when DTMF was not agreed (or no call is up).
  bool send_dtmf(std::string_view keys);
  // When the phone last sent anything on any leg (not before `since`).
  std::chrono::steady_clock::time_point last_received(std::chrono::steady_clock::time_point since) const;
  void set_recording(const std::shared_ptr<recording::call_recording>& recording);
  const transcode::audio_format& phone_format() const noexcept { return phone_format_; }

 private:
  std::optional<std::uint16_t> bind_one(std::optional<boost::asio::ip::udp::socket>& slot);
  bool start_audio(const media_start& start, const leg_context& context, std::function<void(char)> on_dtmf);
  bool start_xflv(const media_start& start, const leg_context& context);
  rtp_leg* leg_for(std::string_view media) const;
  std::vector<rtp_leg*> legs() const;

  junction::shard& home_;
  service& svc_;
  std::optional<boost::asio::ip::udp::socket> audio_socket_, video_socket_;
  std::shared_ptr<audio_leg> audio_;
  std::shared_ptr<video_leg> video_;
  std::shared_ptr<xflv_leg> xflv_;  // both ends gateways: RTMP messages as x-flv
  transcode::audio_format phone_format_;  // the call's phone audio, for a recording
};

}  // namespace junction::gateway
