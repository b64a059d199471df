#pragma once
// Owning handles for the libav objects the transcoders hold: each frees its object the way
// libav wants (avcodec_free_context, av_frame_free, ...).
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
}

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

namespace junction::transcode {

struct codec_context_free {
  void operator()(AVCodecContext* c) const noexcept { avcodec_free_context(&c); }
};
struct frame_free {
  void operator()(AVFrame* f) const noexcept { av_frame_free(&f); }
};
struct packet_free {
  void operator()(AVPacket* p) const noexcept { av_packet_free(&p); }
};

using codec_context_ptr = std::unique_ptr<AVCodecContext, codec_context_free>;
using frame_ptr = std::unique_ptr<AVFrame, frame_free>;
using packet_ptr = std::unique_ptr<AVPacket, packet_free>;

// Gives a codec context its setup bytes (avcC, AudioSpecificConfig), padded as libav reads them.
inline void set_extradata(AVCodecContext* c, std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return;
  c->extradata = static_cast<std::uint8_t*>(av_mallocz(bytes.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  std::copy(bytes.begin(), bytes.end(), c->extradata);
  c->extradata_size = static_cast<int>(bytes.size());
}

// libav's own chatter (libx264's statistics when an encoder closes, a decoder's notes on a
// damaged packet) stays off the server's stderr: only its errors get there. Called by every
// transcoder's create.
inline void quiet_libav() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_ERROR); });
}

}  // namespace junction::transcode
