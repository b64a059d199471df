#include "whip/whep_feed.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "core/shard.hpp"
#include "core/worker_pool.hpp"
#include "media/stream_hub.hpp"

namespace junction::whip {
namespace {

const transcode::audio_format opus_format{media::codec::opus, 48000, 2};
// A frame due this far behind, or ahead, of its anchor moves the anchor to it (the publisher
// stalled, jumped, or its clock runs apart from ours).
constexpr auto late_limit = std::chrono::milliseconds(250);
constexpr auto early_limit = std::chrono::milliseconds(1500);
// A group of pictures longer than this is not kept for joining players (they wait for the next
// keyframe instead).
constexpr std::size_t max_gop_bytes = 16 << 20;

std::span<const std::uint8_t> as_u8(std::span<const std::byte> b) {
  return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}

}  // namespace

whep_feed::whep_feed(junction::shard& home, media::stream_hub& hub, worker_pool& workers, std::string key)
    : home_(home), hub_(hub), workers_(workers), worker_(workers.assign()), key_(std::move(key)), timer_(home.context()) {}

whep_feed::~whep_feed() {
  if (!members_.empty()) hub_.unsubscribe(key_, *this);
  workers_.release(worker_);
}

void whep_feed::add(listener& l, bool audio) {
  members_.push_back({&l, audio});
  if (audio) ++audio_members_;
  if (members_.size() == 1) {
    hub_.subscribe(key_, *this);  // the hub's replay, if any, comes now or after a hop
    return;
  }
  if (!replaying_) send_gop(l);
}

void whep_feed::remove(listener& l) {
  auto it = std::find_if(members_.begin(), members_.end(), [&](const member& m) { return m.l == &l; });
  if (it == members_.end()) return;
  if (it->audio) --audio_members_;
  members_.erase(it);
  if (members_.empty()) {
    hub_.unsubscribe(key_, *this);
    on_stop();
  }
}

void whep_feed::request_keyframe() {
  const auto now = clock::now();
  if (now - last_keyframe_request_ < std::chrono::milliseconds(500)) return;
  last_keyframe_request_ = now;
  hub_.request_keyframe(key_);
}

bool whep_feed::gop_is_short() const {
  return !gop_.empty() && gop_.size() <= 60 &&
         gop_.back().frame->frame().timestamp - gop_.front().frame->frame().timestamp <= 1000;
}

void whep_feed::send_gop(listener& l) {
  if (!gop_is_short()) {
    l.on_restart();  // the next keyframe, which the publisher is asked for
    request_keyframe();
    return;
  }
  // One millisecond apart, ending at the newest frame's own time.
  const std::uint32_t last = gop_.back().frame->frame().timestamp;
  for (std::size_t i = 0; i < gop_.size(); ++i) {
    const auto behind = static_cast<std::uint32_t>(gop_.size() - 1 - i);
    l.on_video(gop_[i], last >= behind ? last - behind : 0);
  }
}

void whep_feed::on_start() {
  on_stop();
  for (const auto& m : members_) m.l->on_restart();
  // What the hub gives in this turn is its cache's replay.
  replaying_ = true;
  if (!replay_posted_) {
    replay_posted_ = true;
    boost::asio::post(home_.context(), [self = weak_from_this()] {
      if (auto f = self.lock()) f->end_replay();
    });
  }
}

void whep_feed::end_replay() {
  replay_posted_ = false;
  replaying_ = false;
  for (auto& f : std::exchange(replay_, {})) shape(f);
  for (const auto& m : members_) send_gop(*m.l);
  if (!gop_.empty()) anchor_ = {clock::now(), gop_.back().frame->frame().timestamp};
}

void whep_feed::on_stop() {
  queue_.clear();
  anchor_.reset();
  gop_.clear();
  gop_bytes_ = 0;
  shaper_ = media::h264::rtp_packetizer{media::h264::packetizer_settings{}};  // the next sequence header
  replay_.clear();
  restart_audio();
  aac_config_.clear();
}

void whep_feed::restart_audio() {
  ++generation_;
  direction_.reset();
  first_audio_ms_.reset();
}

void whep_feed::on_frame(const media::shard_frame_ptr& f) {
  const auto& frame = f->frame();
  if (members_.empty()) return;
  if (frame.is_audio()) {
    on_audio(frame);
    return;
  }
  if (!frame.is_video() || frame.codec != media::codec::h264) return;
  if (replaying_) {
    replay_.push_back(f);
    return;
  }
  if (auto unit = shape(f)) enqueue(frame.timestamp, std::move(*unit));
}

std::optional<video_unit> whep_feed::shape(const media::shard_frame_ptr& f) {
  const auto& frame = f->frame();
  std::vector<media::h264::rtp_payload> parts;
  shaper_.payloads(frame, parts);
  if (frame.config || parts.empty()) return std::nullopt;
  auto payloads = std::make_shared<std::vector<video_unit::payload>>();
  payloads->reserve(parts.size());
  for (auto& p : parts)
    payloads->push_back({shared_buffer::copy_of(std::as_bytes(std::span{p.bytes})), p.marker});
  video_unit unit{f, std::move(payloads)};
  // Kept for players that join: from the last keyframe on.
  if (frame.keyframe) {
    gop_ = {unit};
    gop_bytes_ = frame.payload.size();
  } else if (!gop_.empty()) {
    gop_bytes_ += frame.payload.size();
    if (gop_bytes_ > max_gop_bytes) {
      gop_.clear();
      gop_bytes_ = 0;
    } else {
      gop_.push_back(unit);
    }
  }
  return unit;
}

void whep_feed::on_audio(const media::frame& frame) {
  auto flv = transcode::read_flv_audio(as_u8(frame.payload.bytes()));
  if (!flv) return;
  if (flv->aac_config) {
    std::vector<std::uint8_t> config(flv->data.begin(), flv->data.end());
    if (config != aac_config_) {
      restart_audio();  // a new configuration: a new decoder
      aac_config_ = std::move(config);
    }
    return;
  }
  // The replay's audio is in the past: the live audio follows at once.
  if (replaying_ || flv->data.empty() || audio_members_ == 0) return;
  auto in = flv->format;
  if (in.codec == media::codec::aac) {
    if (aac_config_.empty()) return;  // not decodable before its configuration
    in.extradata = aac_config_;
  }
  if (!direction_ || direction_->input() != in) {
    restart_audio();
    direction_ = std::make_shared<transcode::audio_direction>(in, opus_format, 20);
    first_audio_ms_ = frame.timestamp;
  }
  std::vector<std::uint8_t> packet(flv->data.begin(), flv->data.end());
  workers_.post(worker_, [dir = direction_, packet = std::move(packet), self = weak_from_this(), home = &home_,
                          generation = generation_, first = *first_audio_ms_] {
    auto out = dir->push(packet);
    if (out.empty()) return;
    boost::asio::post(home->context(), [self, out = std::move(out), generation, first]() mutable {
      if (auto f = self.lock()) f->deliver(generation, std::move(out), first);
    });
  });
}

void whep_feed::deliver(std::uint64_t generation, std::vector<transcode::audio_packet> packets,
                        std::uint32_t first_ms) {
  if (generation != generation_ || members_.empty()) return;
  for (auto& p : packets) {
    const auto clock48 = static_cast<std::uint32_t>(std::int64_t{first_ms} * 48 + p.pts);
    enqueue(clock48 / 48, opus_packet{std::move(p.data), clock48});
  }
}

void whep_feed::enqueue(std::uint32_t media_ms, item what) {
  const auto now = clock::now();
  auto due_of = [&] {
    const auto delta = static_cast<std::int32_t>(media_ms - anchor_->second);
    return anchor_->first + std::chrono::milliseconds(delta);
  };
  if (!anchor_) anchor_ = {now, media_ms};
  auto due = due_of();
  if (due < now - late_limit || due > now + early_limit) {
    anchor_ = {now, media_ms};
    due = now;
  }
  queue_.emplace(due, std::move(what));
  release();
}

// Sends what is due, then sleeps until the next.
void whep_feed::release() {
  const auto now = clock::now();
  while (!queue_.empty() && queue_.begin()->first <= now) {
    auto node = queue_.extract(queue_.begin());
    // A listener may leave from inside a call: walk a copy, skipping those gone.
    const auto now_members = members_;
    auto present = [&](listener* l) {
      return std::any_of(members_.begin(), members_.end(), [&](const member& m) { return m.l == l; });
    };
    if (auto* unit = std::get_if<video_unit>(&node.mapped())) {
      for (const auto& m : now_members)
        if (present(m.l)) m.l->on_video(*unit, unit->frame->frame().timestamp);
    } else {
      const auto& opus = std::get<opus_packet>(node.mapped());
      for (const auto& m : now_members)
        if (m.audio && present(m.l)) m.l->on_opus(opus.data, opus.clock);
    }
  }
  schedule();
}

void whep_feed::schedule() {
  if (queue_.empty()) return;
  const auto due = queue_.begin()->first;
  if (armed_for_ && *armed_for_ <= due) return;  // a wait ends sooner already
  armed_for_ = due;
  timer_.expires_at(due);  // cancels a later wait
  timer_.async_wait([self = weak_from_this(), due](const boost::system::error_code& ec) {
    if (ec) return;
    auto f = self.lock();
    if (!f || f->armed_for_ != due) return;
    f->armed_for_.reset();
    f->release();
  });
}

}  // namespace junction::whip
