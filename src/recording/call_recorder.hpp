#pragma once
// The recording of one call: one FLV file with a stereo AAC track (a gateway call: left what the
// RTMP client said, right what the phone said, plus the client's video; an anchored phone-to-phone
// call: left the caller, right the callee). Both sides are decoded to
// 16 kHz PCM and laid on one timeline by arrival time (a side that pauses, or has not started,
// is silence there), so the two channels stay in step whatever either side's clock does.
// Used only on the call's transcode worker: decoding, mixing, encoding and the file's writes
// never touch a shard.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>

#include "core/shared_buffer.hpp"
#include "media/frame.hpp"
#include "transcode/audio_format.hpp"

namespace junction::transcode {
class audio_transcoder;
}

namespace junction::recording {

class recording_file;

class call_recorder {
 public:
  static constexpr int rate = 16000;
  // Nothing (with `error`) when the file or the AAC encoder cannot be opened.
  static std::unique_ptr<call_recorder> open(const std::string& path, const transcode::audio_format& phone,
                                             std::string* error = nullptr);
  ~call_recorder();

  // `arrival_ms`: when the shard received it, from the start of the call.
  void client_audio(std::span<const std::uint8_t> flv_body, std::uint32_t arrival_ms);
  void phone_audio(std::span<const std::uint8_t> rtp_payload, std::uint32_t arrival_ms);
  // RTP audio of either channel in the codec its payload type names (anchored calls).
  void rtp_audio(bool left, std::span<const std::uint8_t> rtp_payload, const transcode::audio_format& format,
                 std::uint32_t arrival_ms);
  void client_video(const media::frame& f, std::uint32_t arrival_ms);
  // Writes what is pending when a second has passed since the last write to the file (so a
  // pause in the call does not hold it back).
  void flush_if_due();
  // The rest of both channels, the encoder's last frames, the final onMetaData; closes the file.
  void finish();

  std::uint32_t duration_ms() const noexcept;
  std::uint64_t size() const noexcept;

 private:
  struct channel {
    std::unique_ptr<transcode::audio_transcoder> decoder;
    transcode::audio_format format;
    std::deque<std::int16_t> samples;  // from the next stereo sample to go out
    std::uint64_t end = 0;             // timeline position after the last sample held
    bool failed = false;
  };
  call_recorder() = default;
  void decoded(channel& c, std::span<const std::uint8_t> pcm, std::uint32_t arrival_ms);
  void add(channel& c, std::span<const std::uint8_t> encoded, const transcode::audio_format& format,
           std::uint32_t arrival_ms);
  void mix(bool to_the_end);
  void write_aac(std::span<const std::uint8_t> packet, std::int64_t pts);

  std::unique_ptr<recording_file> file_;
  std::unique_ptr<transcode::audio_transcoder> encoder_;
  transcode::audio_format phone_format_;
  std::vector<std::uint8_t> client_aac_config_;
  channel client_, phone_;
  std::uint64_t emitted_ = 0;  // timeline position of the next stereo sample
  bool video_started_ = false;
  bool finished_ = false;
};

class service;
struct recording_info;

// The shard's side of a call recording: hands what the call's legs see to the call_recorder on
// the call's worker (in order, after the call's own transcoding jobs). Destroying it finishes
// the recording there and completes its description.
class call_recording {
 public:
  call_recording(service& svc, std::size_t worker, recording_info info, const transcode::audio_format& phone);
  ~call_recording();
  call_recording(const call_recording&) = delete;
  call_recording& operator=(const call_recording&) = delete;

  void client_audio(const shared_buffer& flv_body);
  void phone_audio(std::span<const std::uint8_t> rtp_payload);
  void rtp_audio(bool left, std::span<const std::uint8_t> rtp_payload, const transcode::audio_format& format);
  void client_video(const media::frame& f);
  const std::string& id() const noexcept { return id_; }

 private:
  struct state;
  struct flush_timer;
  std::uint32_t now_ms() const;
  service& svc_;
  std::size_t worker_;
  std::string id_;
  std::shared_ptr<state> state_;
  std::shared_ptr<flush_timer> flush_;  // once a second, the worker writes what is pending
  std::chrono::steady_clock::time_point start_;
};

}  // namespace junction::recording
