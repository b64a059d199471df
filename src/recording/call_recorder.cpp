#include "recording/call_recorder.hpp"

#include <algorithm>
#include <cstring>

#include <boost/asio/steady_timer.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "recording/recording_file.hpp"
#include "recording/service.hpp"
#include "core/worker_pool.hpp"
#include "transcode/audio_transcoder.hpp"

namespace junction::recording {
namespace {

constexpr std::size_t aac_frame = 1024;
// How far one channel may run ahead of a silent one before the silent one is filled in.
constexpr std::uint64_t max_lead = call_recorder::rate / 2;
// A packet later than this after the channel's end starts after a gap of silence.
constexpr std::uint64_t gap = call_recorder::rate / 10;

const transcode::audio_format pcm_mono{media::codec::pcm_le, call_recorder::rate, 1};
const transcode::audio_format pcm_stereo{media::codec::pcm_le, call_recorder::rate, 2};
const transcode::audio_format aac_stereo{media::codec::aac, call_recorder::rate, 2};

std::uint64_t position_of(std::uint32_t ms) { return std::uint64_t(ms) * call_recorder::rate / 1000; }

}  // namespace

std::unique_ptr<call_recorder> call_recorder::open(const std::string& path, const transcode::audio_format& phone,
                                                   std::string* error) {
  std::unique_ptr<call_recorder> r{new call_recorder()};
  r->encoder_ = transcode::audio_transcoder::create(pcm_stereo, aac_stereo, 64, error);
  if (!r->encoder_) return nullptr;
  r->file_ = recording_file::open(path, true, true, false, error);
  if (!r->file_) return nullptr;
  r->phone_format_ = phone;
  // The AAC sequence header opens the file at 0 ms: the call's timeline starts there.
  auto config = r->encoder_->output_extradata();
  auto header = transcode::flv_audio_header(aac_stereo, true);
  std::vector<std::uint8_t> body(header->begin(), header->end());
  body.insert(body.end(), config.begin(), config.end());
  r->file_->write(media::make_frame(media::track::audio, 0,
                                    shared_buffer::copy_of(std::as_bytes(std::span{body.data(), body.size()}))));
  return r;
}

call_recorder::~call_recorder() { finish(); }

void call_recorder::client_audio(std::span<const std::uint8_t> flv_body, std::uint32_t arrival_ms) {
  auto flv = transcode::read_flv_audio(flv_body);
  if (!flv) return;
  if (flv->aac_config) {
    client_aac_config_.assign(flv->data.begin(), flv->data.end());
    return;
  }
  auto format = flv->format;
  if (format.codec == media::codec::aac) format.extradata = client_aac_config_;
  add(client_, flv->data, format, arrival_ms);
}

void call_recorder::phone_audio(std::span<const std::uint8_t> rtp_payload, std::uint32_t arrival_ms) {
  add(phone_, rtp_payload, phone_format_, arrival_ms);
}

void call_recorder::rtp_audio(bool left, std::span<const std::uint8_t> rtp_payload,
                              const transcode::audio_format& format, std::uint32_t arrival_ms) {
  add(left ? client_ : phone_, rtp_payload, format, arrival_ms);
}

void call_recorder::add(channel& c, std::span<const std::uint8_t> encoded, const transcode::audio_format& format,
                        std::uint32_t arrival_ms) {
  if (finished_ || encoded.empty()) return;
  if (!c.decoder || c.format != format) {
    if (c.failed && c.format == format) return;
    c.format = format;
    std::string why;
    c.decoder = transcode::audio_transcoder::create(format, pcm_mono, 20, &why);
    c.failed = !c.decoder;
    if (c.failed) {
      log::warn("recording: cannot decode {}: {}", transcode::describe(format), why);
      return;
    }
  }
  std::vector<transcode::audio_packet> out;
  c.decoder->push(encoded, out);
  for (const auto& p : out) decoded(c, p.data, arrival_ms);
  mix(false);
}

void call_recorder::decoded(channel& c, std::span<const std::uint8_t> pcm, std::uint32_t arrival_ms) {
  const std::size_t n = pcm.size() / 2;
  // Where this chunk belongs by the clock: it ends about when it arrived. After a pause (or
  // before the channel's first sound) the channel is silent up to there.
  const std::uint64_t due = position_of(arrival_ms);
  if (due > c.end + n + gap) {
    const std::uint64_t silence = due - n - c.end;
    c.samples.insert(c.samples.end(), silence, 0);
    c.end += silence;
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::int16_t s;
    std::memcpy(&s, pcm.data() + 2 * i, 2);
    c.samples.push_back(s);
  }
  c.end += n;
}

void call_recorder::mix(bool to_the_end) {
  const std::uint64_t lead = std::max(client_.end, phone_.end);
  for (channel* c : {&client_, &phone_}) {
    const std::uint64_t floor = to_the_end ? lead : (lead > max_lead ? lead - max_lead : 0);
    if (c->end < floor) {
      c->samples.insert(c->samples.end(), floor - c->end, 0);
      c->end = floor;
    }
  }
  std::vector<std::uint8_t> stereo;
  while (true) {
    const std::size_t ready = std::min(client_.samples.size(), phone_.samples.size());
    if (ready < aac_frame && !(to_the_end && ready > 0)) break;
    const std::size_t n = std::min(ready, aac_frame);
    stereo.resize(n * 4);
    for (std::size_t i = 0; i < n; ++i) {
      std::int16_t l = client_.samples.front(), r = phone_.samples.front();
      client_.samples.pop_front();
      phone_.samples.pop_front();
      std::memcpy(stereo.data() + 4 * i, &l, 2);
      std::memcpy(stereo.data() + 4 * i + 2, &r, 2);
    }
    emitted_ += n;
    std::vector<transcode::audio_packet> out;
    encoder_->push(stereo, out);
    for (const auto& p : out) write_aac(p.data, p.pts);
  }
}

void call_recorder::write_aac(std::span<const std::uint8_t> packet, std::int64_t pts) {
  auto header = transcode::flv_audio_header(aac_stereo, false);
  std::vector<std::uint8_t> body(header->begin(), header->end());
  body.insert(body.end(), packet.begin(), packet.end());
  const auto ms = static_cast<std::uint32_t>(std::max<std::int64_t>(pts, 0) * 1000 / rate);
  file_->write(media::make_frame(media::track::audio, ms,
                                 shared_buffer::copy_of(std::as_bytes(std::span{body.data(), body.size()}))));
}

void call_recorder::client_video(const media::frame& f, std::uint32_t arrival_ms) {
  if (finished_ || !f.is_video()) return;
  // Decoder configuration always goes in; pictures from the first keyframe on.
  if (!f.config && !video_started_) {
    if (!f.keyframe) return;
    video_started_ = true;
  }
  media::frame at = f;
  at.timestamp = arrival_ms;
  file_->write(at);
}

void call_recorder::finish() {
  if (finished_ || !file_) return;
  mix(true);
  std::vector<transcode::audio_packet> out;
  encoder_->flush(out);
  for (const auto& p : out) write_aac(p.data, p.pts);
  finished_ = true;
  file_->close();
}

void call_recorder::flush_if_due() {
  if (!finished_ && file_) file_->flush_if_due();
}

std::uint32_t call_recorder::duration_ms() const noexcept { return file_ ? file_->duration_ms() : 0; }
std::uint64_t call_recorder::size() const noexcept { return file_ ? file_->size() : 0; }

// The shard's side ------------------------------------------------------------------------------

struct call_recording::state {
  recording_info info;
  transcode::audio_format phone;
  std::unique_ptr<call_recorder> recorder;
};

// Asks the worker once a second to write what is pending. Its waits hold it weakly: a wait that
// completes after the recording is gone (cancelled too late) finds nothing and stops.
struct call_recording::flush_timer : std::enable_shared_from_this<flush_timer> {
  flush_timer(boost::asio::io_context& io, service& svc, std::size_t worker, std::shared_ptr<state> st)
      : timer(io), svc(svc), worker(worker), st(std::move(st)) {}
  boost::asio::steady_timer timer;
  service& svc;
  std::size_t worker;
  std::shared_ptr<state> st;

  void arm() {
    timer.expires_after(std::chrono::seconds(1));
    timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->svc.workers().post(self->worker, [st = self->st] {
        if (st->recorder) st->recorder->flush_if_due();
      });
      self->arm();
    });
  }
};

call_recording::call_recording(service& svc, std::size_t worker, recording_info info,
                               const transcode::audio_format& phone)
    : svc_(svc), worker_(worker), id_(info.id), state_(std::make_shared<state>()),
      start_(std::chrono::steady_clock::now()) {
  state_->info = std::move(info);
  state_->phone = phone;
  if (auto* home = junction::shard::current()) {
    home->metrics().add(svc_.metrics().active);
    home->metrics().add(svc_.metrics().started);
  }
  svc_.workers().post(worker_, [st = state_, &svc = svc_] {
    std::string why;
    st->recorder = call_recorder::open(svc.path_of(st->info.id), st->phone, &why);
    if (!st->recorder) {
      log::warn("recording: cannot record call {}: {}", st->info.call_id, why);
      return;
    }
    svc.write_info(st->info);
  });
  if (auto* home = junction::shard::current()) {
    flush_ = std::make_shared<flush_timer>(home->context(), svc_, worker_, state_);
    flush_->arm();
  }
}

call_recording::~call_recording() {
  if (flush_) flush_->timer.cancel();
  flush_.reset();
  if (auto* home = junction::shard::current()) home->metrics().sub(svc_.metrics().active);
  svc_.workers().post(worker_, [st = state_, &svc = svc_] {
    if (!st->recorder) return;
    st->recorder->finish();
    st->info.ended = std::chrono::system_clock::now();
    st->info.duration_ms = st->recorder->duration_ms();
    st->info.size = st->recorder->size();
    svc.write_info(st->info);
    st->recorder.reset();
  });
}

std::uint32_t call_recording::now_ms() const {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count());
}

void call_recording::client_audio(const shared_buffer& flv_body) {
  svc_.workers().post(worker_, [st = state_, body = flv_body, at = now_ms()] {
    auto bytes = body.bytes();
    if (st->recorder)
      st->recorder->client_audio({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, at);
  });
}

void call_recording::phone_audio(std::span<const std::uint8_t> rtp_payload) {
  svc_.workers().post(worker_, [st = state_, payload = std::vector<std::uint8_t>(rtp_payload.begin(), rtp_payload.end()),
                                at = now_ms()] {
    if (st->recorder) st->recorder->phone_audio(payload, at);
  });
}

void call_recording::rtp_audio(bool left, std::span<const std::uint8_t> rtp_payload,
                               const transcode::audio_format& format) {
  svc_.workers().post(worker_, [st = state_, left, format,
                                payload = std::vector<std::uint8_t>(rtp_payload.begin(), rtp_payload.end()),
                                at = now_ms()] {
    if (st->recorder) st->recorder->rtp_audio(left, payload, format, at);
  });
}

void call_recording::client_video(const media::frame& f) {
  svc_.workers().post(worker_, [st = state_, f, at = now_ms()] {
    if (st->recorder) st->recorder->client_video(f, at);
  });
}

}  // namespace junction::recording
