#include "transcode/video_transcoder.hpp"

#include "transcode/libav_handles.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <fmt/format.h>

#include <functional>

#include "media/h264/parameter_sets.hpp"
#include "media/vp8/rtp_payload.hpp"

namespace junction::transcode {
namespace {

struct sws_free {
  void operator()(SwsContext* s) const noexcept { sws_freeContext(s); }
};

const char* decoder_for(media::codec c) {
  switch (c) {
    case media::codec::h264: return "h264";
    case media::codec::sorenson_h263: return "flv";
    case media::codec::vp8: return "vp8";
    default: return nullptr;
  }
}

// Annex B (start codes, as x264 writes without a global header) to NAL units.
std::vector<media::h264::bytes> split_annex_b(media::h264::bytes data) {
  std::vector<media::h264::bytes> out;
  std::size_t i = 0, start = std::string::npos;
  while (i + 3 <= data.size()) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (start != std::string::npos) {
        std::size_t end = i;
        while (end > start && data[end - 1] == 0) --end;  // the zero before a 4-byte start code
        out.push_back(data.subspan(start, end - start));
      }
      i += 3;
      start = i;
    } else {
      ++i;
    }
  }
  if (start != std::string::npos && start < data.size()) out.push_back(data.subspan(start));
  return out;
}

shared_buffer flv_body(std::initializer_list<std::uint8_t> header, std::size_t payload,
                       const std::function<void(std::uint8_t*)>& fill) {
  return shared_buffer::build(header.size() + payload, [&](std::span<std::byte> out) {
    auto* p = reinterpret_cast<std::uint8_t*>(out.data());
    p = std::copy(header.begin(), header.end(), p);
    fill(p);
  });
}

}  // namespace

bool needs_transcoding(media::codec from, media::codec to) noexcept { return from != to; }

struct video_transcoder::impl {
  media::codec from;
  video_settings out;
  codec_context_ptr dec, enc;
  std::unique_ptr<SwsContext, sws_free> sws;
  frame_ptr decoded{av_frame_alloc()}, converted{av_frame_alloc()};
  packet_ptr packet{av_packet_alloc()};
  media::h264::parameter_sets sent_sets;
  bool keyframe_wanted = false;
  video_counters counters;

  bool open_decoder(std::span<const std::uint8_t> extradata, std::string& error) {
    const AVCodec* c = avcodec_find_decoder_by_name(decoder_for(from));
    if (!c) return error = fmt::format("no decoder for {}", media::codec_name(from)), false;
    dec.reset(avcodec_alloc_context3(c));
    set_extradata(dec.get(), extradata);
    dec->thread_count = 1;  // one call, one worker: threads would fight the pool
    if (int r = avcodec_open2(dec.get(), c, nullptr); r < 0) return error = "decoder did not open", false;
    return true;
  }

  bool open_encoder(const AVFrame& f) {
    const AVCodec* c = avcodec_find_encoder_by_name(out.codec == media::codec::h264 ? "libx264" : "flv");
    if (!c || f.width > out.max_width || f.height > out.max_height) return false;
    enc.reset(avcodec_alloc_context3(c));
    enc->width = f.width;
    enc->height = f.height;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = AVRational{1, 1000};  // the frame model's milliseconds
    enc->framerate = AVRational{25, 1};
    enc->bit_rate = out.bitrate;
    enc->gop_size = out.keyframe_interval;
    enc->max_b_frames = 0;
    enc->thread_count = 1;
    if (out.codec == media::codec::h264) {
      av_opt_set(enc->priv_data, "profile", "baseline", 0);
      av_opt_set(enc->priv_data, "preset", "veryfast", 0);
      av_opt_set(enc->priv_data, "tune", "zerolatency", 0);
      av_opt_set(enc->priv_data, "forced-idr", "1", 0);  // a requested keyframe is an IDR
    }
    if (avcodec_open2(enc.get(), c, nullptr) < 0) {
      enc.reset();
      return false;
    }
    return true;
  }

  const AVFrame* as_yuv420p(const AVFrame* f) {
    if (f->format == AV_PIX_FMT_YUV420P) return f;
    sws.reset(sws_getCachedContext(sws.release(), f->width, f->height, static_cast<AVPixelFormat>(f->format), f->width,
                                   f->height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr));
    av_frame_unref(converted.get());
    converted->format = AV_PIX_FMT_YUV420P;
    converted->width = f->width;
    converted->height = f->height;
    if (!sws || av_frame_get_buffer(converted.get(), 0) < 0) return nullptr;
    sws_scale(sws.get(), f->data, f->linesize, 0, f->height, converted->data, converted->linesize);
    converted->pts = f->pts;
    return converted.get();
  }

  void emit(std::vector<media::frame>& result) {
    while (avcodec_receive_packet(enc.get(), packet.get()) == 0) {
      const bool key = packet->flags & AV_PKT_FLAG_KEY;
      const auto ts = static_cast<std::uint32_t>(std::max<std::int64_t>(packet->pts, 0));
      media::h264::bytes data(packet->data, static_cast<std::size_t>(packet->size));
      if (out.codec == media::codec::sorenson_h263) {
        const auto header = static_cast<std::uint8_t>((key ? 0x10 : 0x20) | 2);
        result.push_back(media::make_frame(media::track::video, ts, flv_body({header}, data.size(), [&](std::uint8_t* p) {
          std::copy(data.begin(), data.end(), p);
        })));
      } else {
        media::h264::parameter_sets sets;
        std::vector<media::h264::bytes> units;
        for (auto nal : split_annex_b(data)) {
          const auto type = media::h264::nal_type(nal);
          if (type == media::h264::nal_sps) sets.sps.emplace_back(nal.begin(), nal.end());
          else if (type == media::h264::nal_pps) sets.pps.emplace_back(nal.begin(), nal.end());
          else if (type != media::h264::nal_aud) units.push_back(nal);
        }
        if (!sets.empty() && !(sets == sent_sets)) {
          auto record = media::h264::make_avc_config(sets);
          result.push_back(media::make_frame(media::track::video, ts, flv_body({0x17, 0, 0, 0, 0}, record.size(), [&](std::uint8_t* p) {
            std::copy(record.begin(), record.end(), p);
          })));
          sent_sets = std::move(sets);
        }
        std::size_t size = 0;
        for (auto n : units) size += 4 + n.size();
        const auto header = static_cast<std::uint8_t>((key ? 0x10 : 0x20) | 7);
        result.push_back(media::make_frame(media::track::video, ts, flv_body({header, 1, 0, 0, 0}, size, [&](std::uint8_t* p) {
          for (auto n : units) {
            const auto len = static_cast<std::uint32_t>(n.size());
            *p++ = static_cast<std::uint8_t>(len >> 24);
            *p++ = static_cast<std::uint8_t>(len >> 16);
            *p++ = static_cast<std::uint8_t>(len >> 8);
            *p++ = static_cast<std::uint8_t>(len);
            p = std::copy(n.begin(), n.end(), p);
          }
        })));
      }
      ++counters.frames_out;
      av_packet_unref(packet.get());
    }
  }

  void encode(AVFrame* f, std::vector<media::frame>& result) {
    if (!enc && !open_encoder(*f)) return;
    const AVFrame* yuv = as_yuv420p(f);
    if (!yuv) return;
    AVFrame* in = const_cast<AVFrame*>(yuv);
    in->pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    in->pict_type = keyframe_wanted ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    keyframe_wanted = false;
    if (avcodec_send_frame(enc.get(), in) == 0) emit(result);
  }

  void drain_decoder(std::vector<media::frame>& result) {
    while (avcodec_receive_frame(dec.get(), decoded.get()) == 0) {
      encode(decoded.get(), result);
      av_frame_unref(decoded.get());
    }
  }
};

video_transcoder::video_transcoder(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
video_transcoder::~video_transcoder() = default;

std::unique_ptr<video_transcoder> video_transcoder::create(media::codec from, const video_settings& out, std::string* error) {
  quiet_libav();
  std::string why;
  if (!decoder_for(from)) why = fmt::format("no decoder for {}", media::codec_name(from));
  else if (out.codec != media::codec::h264 && out.codec != media::codec::sorenson_h263)
    why = fmt::format("cannot encode {}", media::codec_name(out.codec));
  else if (!avcodec_find_encoder_by_name(out.codec == media::codec::h264 ? "libx264" : "flv"))
    why = "no encoder for " + std::string(media::codec_name(out.codec));
  if (!why.empty()) {
    if (error) *error = why;
    return nullptr;
  }
  auto i = std::make_unique<impl>();
  i->from = from;
  i->out = out;
  // H.264 waits for its sequence header; flv1 and VP8 need nothing before their first frame.
  if (from != media::codec::h264 && !i->open_decoder({}, why)) {
    if (error) *error = why;
    return nullptr;
  }
  return std::unique_ptr<video_transcoder>(new video_transcoder(std::move(i)));
}

void video_transcoder::push(const media::frame& f, std::vector<media::frame>& out) {
  auto& i = *impl_;
  ++i.counters.frames_in;
  auto body = f.payload.bytes();
  if (!f.is_video() || f.codec != i.from || body.size() < 2) return;
  std::span<const std::uint8_t> data(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
  if (i.from == media::codec::h264) {
    if (data.size() < 5) return;
    if (data[1] == 0) {  // sequence header: the decoder (re)starts with it
      std::string ignored;
      if (!i.open_decoder(data.subspan(5), ignored)) ++i.counters.decode_errors;
      return;
    }
    if (data[1] != 1 || !i.dec) return;
    data = data.subspan(5);
  } else if (i.from == media::codec::vp8) {
    data = media::vp8::frame_data(f);
    if (data.empty()) return;
  } else {
    data = data.subspan(1);
  }
  if (av_new_packet(i.packet.get(), static_cast<int>(data.size())) < 0) return;
  std::copy(data.begin(), data.end(), i.packet->data);
  i.packet->pts = i.packet->dts = f.timestamp;
  if (f.keyframe) i.packet->flags |= AV_PKT_FLAG_KEY;
  int r = avcodec_send_packet(i.dec.get(), i.packet.get());
  av_packet_unref(i.packet.get());
  if (r < 0) {
    ++i.counters.decode_errors;
    return;
  }
  i.drain_decoder(out);
}

void video_transcoder::flush(std::vector<media::frame>& out) {
  auto& i = *impl_;
  if (i.dec) {
    avcodec_send_packet(i.dec.get(), nullptr);
    i.drain_decoder(out);
  }
  if (i.enc) {
    avcodec_send_frame(i.enc.get(), nullptr);
    i.emit(out);
  }
}

void video_transcoder::request_keyframe() noexcept {
  impl_->keyframe_wanted = true;
  ++impl_->counters.keyframes_requested;
}

const video_counters& video_transcoder::counters() const noexcept { return impl_->counters; }

}  // namespace junction::transcode
