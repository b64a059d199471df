#include "whip/publisher.hpp"

#include <algorithm>
#include <cstring>

#include <boost/asio/post.hpp>

#include "core/ascii.hpp"
#include "core/shard.hpp"
#include "core/worker_pool.hpp"
#include "media/rtp/header_extension.hpp"
#include "media/rtp/rtcp.hpp"

namespace junction::whip {
namespace {

// What browsers send (RFC 7587: the RTP clock is 48 kHz, two channels whatever is sent) and what
// RTMP and FLV players take.
const transcode::audio_format opus_format{media::codec::opus, 48000, 2};
const transcode::audio_format aac_format{media::codec::aac, 48000, 2};

}  // namespace

bool publisher_tracks::vp8() const { return video && iequals(video->encoding, "VP8"); }

std::string layer_key(const std::string& key, const std::string& rid) { return key + "~" + rid; }

publisher::publisher(junction::shard& home, webrtc::webrtc_port& port, session_table& table,
                     const session_metrics& metrics, std::string id, std::string key, std::string peer,
                     std::unique_ptr<media::publication> publication,
                     std::vector<std::unique_ptr<media::publication>> layer_publications, publisher_tracks tracks,
                     worker_pool& workers)
    : session(home, port, table, metrics, std::move(id), std::move(key), std::move(peer)),
      publication_(std::move(publication)),
      layer_publications_(std::move(layer_publications)),
      tracks_(std::move(tracks)),
      workers_(workers),
      worker_(workers.assign()),
      tick_timer_(home.context()) {
  if (tracks_.video) {
    video_layer::settings s{"", tracks_.vp8(), tracks_.video->payload_type, tracks_.video_rtx, ssrc_};
    video_layer::owner& me = *this;
    if (tracks_.rids.empty()) {
      layers_.push_back(std::make_shared<video_layer>(s, me, home_, workers_, worker_));
      main_layer_ = 0;
    }
    for (const auto& rid : tracks_.rids) {
      s.rid = rid;
      layers_.push_back(std::make_shared<video_layer>(s, me, home_, workers_, worker_));
    }
    bytes_at_choice_.assign(layers_.size(), 0);
  }
  publication_->on_evicted([this] { end("taken over by another publisher"); });
  // A player that joins (or lost its picture) gets its keyframe from the browser's encoder, or
  // from the transcoder's.
  publication_->on_keyframe_request([this] {
    if (auto i = next_main_layer_ ? next_main_layer_ : main_layer_) layers_[*i]->request_keyframe();
  });
  publication_->on_demand([this](bool) { update_transcoding(); });
  for (std::size_t i = 0; i < layer_publications_.size() && i < layers_.size(); ++i) {
    auto& p = *layer_publications_[i];
    p.on_evicted([this] { end("a layer was taken over by another publisher"); });
    p.on_keyframe_request([this, i] { layers_[i]->request_keyframe(); });
    p.on_demand([this](bool) { update_transcoding(); });
  }
  update_transcoding();
  count(metrics_.publishers);
  count(metrics_.publishes);
}

publisher::~publisher() { workers_.release(worker_); }

void publisher::on_connected() { tick(); }

void publisher::update_transcoding() {
  bool any = false, main = publication_ && publication_->demanded();
  if (publication_) any = main;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const bool own = i < layer_publications_.size() && layer_publications_[i]->demanded();
    any = any || own;
    layers_[i]->set_transcoding(own || main);
  }
  if (ended()) any = false;
  if (any == transcoding_) return;
  transcoding_ = any;
  if (any) count(metrics_.transcoding);
  else home_.metrics().sub(metrics_.transcoding);
  ++audio_generation_;
  opus_to_aac_.reset();
  if (any && tracks_.audio) {
    opus_to_aac_ = std::make_shared<transcode::audio_direction>(opus_format, aac_format);
    audio_offset_.reset();  // the new encoder's timeline starts at its first packet
    aac_config_sent_ = false;
  }
}

void publisher::tick() {
  if (ended()) return;
  const auto now = clock::now();
  for (auto& l : layers_) l->tick(now);
  ++ticks_;
  if (tracks_.transport_cc && ticks_ % 5 == 0) send_feedback();
  if (!tracks_.transport_cc && tracks_.remb && ticks_ % 50 == 0) send_remb();
  if (layers_.size() > 1 && ticks_ % 50 == 0) choose_main_layer();
  tick_timer_.expires_after(std::chrono::milliseconds(20));
  tick_timer_.async_wait([self = std::weak_ptr<session>(shared_from_this())](const boost::system::error_code& ec) {
    if (ec) return;
    if (auto s = self.lock()) static_cast<publisher&>(*s).tick();
  });
}

void publisher::send_feedback() {
  if (auto f = arrivals_.take(ssrc_, media_ssrc_)) {
    std::vector<std::uint8_t> out;
    media::rtp::write_transport_feedback(*f, out);
    send(webrtc::packet_kind::rtcp, std::move(out));
  }
}

// What arrived in the last second and what went missing, to the estimate; the estimate to the
// browser for its video SSRCs.
void publisher::send_remb() {
  const auto now = clock::now();
  std::uint64_t bytes = 0, packets = 0, missing = 0;
  std::vector<std::uint32_t> ssrcs;
  for (const auto& l : layers_) {
    bytes += l->bytes();
    packets += l->packets();
    missing += l->missing();
    if (l->ssrc()) ssrcs.push_back(l->ssrc());
  }
  remb_.update(bytes - bytes_at_remb_, packets - packets_at_remb_, missing - missing_at_remb_,
               std::chrono::duration_cast<std::chrono::milliseconds>(now - last_remb_));
  bytes_at_remb_ = bytes;
  packets_at_remb_ = packets;
  missing_at_remb_ = missing;
  last_remb_ = now;
  if (ssrcs.empty()) return;
  std::vector<std::uint8_t> out;
  media::rtp::write_remb({ssrc_, remb_.estimate(), std::move(ssrcs)}, out);
  send(webrtc::packet_kind::rtcp, std::move(out));
}

void publisher::choose_main_layer() {
  // The largest picture among the layers that brought anything in the last second (Chromium
  // stops its upper layers when its estimate of the path falls); between two of a size (or of
  // sizes not known yet), the one that brings the most bytes.
  std::optional<std::size_t> best;
  std::uint64_t best_rate = 0, main_rate = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const std::uint64_t rate = layers_[i]->bytes() - bytes_at_choice_[i];
    bytes_at_choice_[i] = layers_[i]->bytes();
    if (main_layer_ == i) main_rate = rate;
    if (rate == 0) continue;
    const auto area = layers_[i]->area();
    if (!best || area > layers_[*best]->area() || (area == layers_[*best]->area() && rate > best_rate)) {
      best = i;
      best_rate = rate;
    }
  }
  if (!best || best == main_layer_) {
    next_main_layer_.reset();
    return;
  }
  // A switch: to a larger picture, away from a layer that stopped, or to one of the same size
  // that brings clearly more (not back and forth between two of a kind).
  if (main_layer_ && main_rate > 0) {
    const auto main_area = layers_[*main_layer_]->area(), area = layers_[*best]->area();
    if (area < main_area || (area == main_area && best_rate * 2 < main_rate * 3)) return;
  }
  if (next_main_layer_ == best) return;  // asked already
  next_main_layer_ = best;
  // At its keyframe, asked for now: a browser's encoder makes them on request only (Chromium's
  // upper layer starts after the lower one, and `<stream>` would stay on the lower one).
  layers_[*best]->request_keyframe();
}

bool publisher::send_layer_rtcp(std::vector<std::uint8_t> packet) {
  return send(webrtc::packet_kind::rtcp, std::move(packet));
}

void publisher::count_nacked(std::size_t packets) { count(metrics_.nacked, packets); }

void publisher::on_layer_frame(video_layer& layer, media::frame f) {
  if (!alive()) return;
  const auto index = static_cast<std::size_t>(
      std::find_if(layers_.begin(), layers_.end(), [&](const auto& l) { return l.get() == &layer; }) - layers_.begin());
  if (index < layer_publications_.size()) {
    count(metrics_.frames_in);
    layer_publications_[index]->push(f);
    if (!alive()) return;
  }
  // `<stream>` takes the layer it carries, and switches at the next layer's keyframe (its
  // sequence header first: players decode it with the new layer's SPS and PPS). Until the first
  // choice (a second of rates), the first layer to bring a picture.
  if (!main_layer_ && !next_main_layer_) next_main_layer_ = index;
  if (next_main_layer_ == index && f.keyframe && !f.config) {
    main_layer_ = index;
    next_main_layer_.reset();
    if (const auto& header = layer.sequence_header()) {
      auto h = *header;
      h.timestamp = std::max(f.timestamp, last_main_timestamp_);
      count(metrics_.frames_in);
      publication_->push(std::move(h));
      if (!alive()) return;
    }
  }
  if (main_layer_ != index) return;
  // Layers' timelines start at their own first packets: a switch must not go back in time.
  f.timestamp = std::max(f.timestamp, last_main_timestamp_);
  last_main_timestamp_ = f.timestamp;
  count(metrics_.frames_in);
  publication_->push(std::move(f));
}

void publisher::on_end() {
  tick_timer_.cancel();
  if (publication_) home_.metrics().sub(metrics_.publishers);
  if (transcoding_) home_.metrics().sub(metrics_.transcoding);
  transcoding_ = false;
  ++audio_generation_;
  opus_to_aac_.reset();
  for (auto& l : layers_) l->set_transcoding(false);
  publication_.reset();  // players everywhere hear the stream stop
  layer_publications_.clear();
}

std::uint32_t publisher::offset_now() {
  const auto now = clock::now();
  if (!first_packet_) first_packet_ = now;
  return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now - *first_packet_).count());
}

video_layer* publisher::layer_of(const media::rtp::packet& p) {
  if (layers_.size() == 1) return layers_.front().get();
  const auto pt = p.header.payload_type;
  const bool rtx = tracks_.video_rtx && pt == *tracks_.video_rtx;
  // A browser names the layer until it knows the SSRC arrived (libwebrtc stops after an RTCP
  // receiver report): the name first, then the SSRC.
  if (auto id = rtx ? tracks_.repaired_rid_extension : tracks_.rid_extension)
    if (auto value = media::rtp::find_extension(p.header, *id)) {
      const std::string_view rid(reinterpret_cast<const char*>(value->data()), value->size());
      for (auto& l : layers_)
        if (l->rid() == rid) return l.get();
    }
  for (auto& l : layers_)
    if (rtx ? l->rtx_ssrc() == p.header.ssrc : l->ssrc() == p.header.ssrc) return l.get();
  return nullptr;
}

void publisher::on_media(webrtc::packet_kind kind, std::span<const std::uint8_t> datagram) {
  if (kind != webrtc::packet_kind::rtp || !alive()) return;  // RTCP from a sender: its reports
  auto parsed = media::rtp::parse_packet(datagram);
  if (!parsed.ok()) return;
  const auto& p = *parsed.packet;
  if (tracks_.transport_cc)
    if (auto sequence = media::rtp::transport_sequence(p.header, *tracks_.transport_cc)) {
      const auto now = std::chrono::duration_cast<std::chrono::microseconds>(clock::now().time_since_epoch());
      arrivals_.on_packet(*sequence, now.count());
      if (media_ssrc_ == 0) media_ssrc_ = p.header.ssrc;
    }
  const auto pt = p.header.payload_type;
  if (tracks_.video && (pt == tracks_.video->payload_type || (tracks_.video_rtx && pt == *tracks_.video_rtx))) {
    if (auto* layer = layer_of(p)) layer->on_packet(datagram, p);
  } else if (tracks_.audio && pt == tracks_.audio->payload_type) {
    on_audio(p);
  }
}

void publisher::on_audio(const media::rtp::packet& p) {
  if (p.payload.empty() || !opus_to_aac_) return;
  if (!audio_offset_) audio_offset_ = offset_now();
  std::vector<std::uint8_t> packet(p.payload.begin(), p.payload.end());
  auto self = std::weak_ptr<session>(shared_from_this());
  workers_.post(worker_, [dir = opus_to_aac_, packet = std::move(packet), self, home = &home_,
                          generation = audio_generation_] {
    auto out = dir->push(packet);
    if (out.empty()) return;
    auto config = dir->output_extradata();
    boost::asio::post(home->context(), [self, out = std::move(out), config = std::move(config), generation] {
      auto s = self.lock();
      if (!s || s->ended()) return;
      auto& me = static_cast<publisher&>(*s);
      if (me.audio_generation_ == generation) me.push_aac(out, config);
    });
  });
}

void publisher::push_everywhere(const media::frame& f) {
  for (auto& p : layer_publications_) {
    count(metrics_.frames_in);
    p->push(f);
    if (!alive()) return;
  }
  count(metrics_.frames_in);
  publication_->push(f);
}

void publisher::push_aac(const std::vector<transcode::audio_packet>& packets, const std::vector<std::uint8_t>& config) {
  auto flv = [](const std::vector<std::uint8_t>& header, std::span<const std::uint8_t> data) {
    return shared_buffer::build(header.size() + data.size(), [&](std::span<std::byte> out) {
      std::memcpy(out.data(), header.data(), header.size());
      if (!data.empty()) std::memcpy(out.data() + header.size(), data.data(), data.size());
    });
  };
  if (!alive()) return;
  if (!aac_config_sent_) {
    if (config.empty()) return;
    aac_config_sent_ = true;
    push_everywhere(media::make_frame(media::track::audio, *audio_offset_,
                                      flv(*transcode::flv_audio_header(aac_format, true), config)));
  }
  const auto header = *transcode::flv_audio_header(aac_format);
  for (const auto& p : packets) {
    if (!alive()) return;
    const auto ms = *audio_offset_ + static_cast<std::uint32_t>(p.pts * 1000 / aac_format.sample_rate);
    push_everywhere(media::make_frame(media::track::audio, ms, flv(header, p.data)));
  }
}

}  // namespace junction::whip
