#include "whip/opus_rendition.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "core/shard.hpp"
#include "core/worker_pool.hpp"
#include "media/stream_hub.hpp"

namespace junction::whip {
namespace {

const transcode::audio_format opus_format{media::codec::opus, 48000, 2};

std::span<const std::uint8_t> as_u8(std::span<const std::byte> b) {
  return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}

}  // namespace

opus_rendition::opus_rendition(junction::shard& home, media::stream_hub& hub, worker_pool& workers, std::string key)
    : home_(home), hub_(hub), workers_(workers), worker_(workers.assign()), key_(std::move(key)) {}

opus_rendition::~opus_rendition() {
  if (!listeners_.empty()) hub_.unsubscribe(key_, *this);
  workers_.release(worker_);
}

void opus_rendition::add(listener& l) {
  listeners_.push_back(&l);
  if (listeners_.size() == 1) hub_.subscribe(key_, *this);
}

void opus_rendition::remove(listener& l) {
  auto it = std::find(listeners_.begin(), listeners_.end(), &l);
  if (it == listeners_.end()) return;
  listeners_.erase(it);
  if (listeners_.empty()) {
    hub_.unsubscribe(key_, *this);
    on_stop();
  }
}

void opus_rendition::on_start() { on_stop(); }

void opus_rendition::on_stop() {
  ++generation_;
  direction_.reset();
  aac_config_.clear();
  first_ms_.reset();
}

void opus_rendition::on_frame(const media::shard_frame_ptr& f) {
  const auto& frame = f->frame();
  if (!frame.is_audio() || listeners_.empty()) return;
  auto flv = transcode::read_flv_audio(as_u8(frame.payload.bytes()));
  if (!flv) return;
  if (flv->aac_config) {
    std::vector<std::uint8_t> config(flv->data.begin(), flv->data.end());
    if (config != aac_config_) {
      on_stop();  // a new configuration: a new decoder
      aac_config_ = std::move(config);
    }
    return;
  }
  if (flv->data.empty()) return;
  auto in = flv->format;
  if (in.codec == media::codec::aac) {
    if (aac_config_.empty()) return;  // not decodable before its configuration
    in.extradata = aac_config_;
  }
  if (!direction_ || direction_->input() != in) {
    ++generation_;
    direction_ = std::make_shared<transcode::audio_direction>(in, opus_format, 20);
    first_ms_ = frame.timestamp;
  }
  std::vector<std::uint8_t> packet(flv->data.begin(), flv->data.end());
  auto self = weak_from_this();
  workers_.post(worker_, [dir = direction_, packet = std::move(packet), self, home = &home_,
                          generation = generation_, first = *first_ms_] {
    auto out = dir->push(packet);
    if (out.empty()) return;
    boost::asio::post(home->context(), [self, out = std::move(out), generation, first] {
      if (auto r = self.lock()) r->deliver(generation, out, first);
    });
  });
}

void opus_rendition::deliver(std::uint64_t generation, const std::vector<transcode::audio_packet>& packets,
                             std::uint32_t first_ms) {
  if (generation != generation_) return;
  for (const auto& p : packets) {
    const auto clock = static_cast<std::uint32_t>(std::int64_t{first_ms} * 48 + p.pts);
    // A listener may leave from inside on_opus: walk a copy.
    auto now = listeners_;
    for (auto* l : now)
      if (std::find(listeners_.begin(), listeners_.end(), l) != listeners_.end()) l->on_opus(p.data, clock);
  }
}

}  // namespace junction::whip
