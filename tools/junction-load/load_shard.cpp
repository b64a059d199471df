#include "junction-load/load_shard.hpp"

#include "junction-load/flv_file_source.hpp"
#include "junction-load/rtmp_player.hpp"
#include "junction-load/rtmp_publisher.hpp"
#include "junction-load/synthetic_source.hpp"
#include "junction-load/janus_player.hpp"
#include "junction-load/rtp_publisher.hpp"
#include "junction-load/whep_player.hpp"

namespace junction::load {

load_shard::load_shard(shard& home, const run_plan& plan) : home_{home}, plan_{plan} {}

// Out of line: the players and publishers are complete types here.
load_shard::~load_shard() = default;

void load_shard::start_publisher(unsigned stream) {
  std::unique_ptr<frame_source> source;
  const auto& o = plan_.options;
  if (plan_.file) {
    source = std::make_unique<flv_file_source>(plan_.file, plan_.indexes[stream].get());
  } else {
    source = std::make_unique<synthetic_source>(
        synthetic_settings{.bitrate = o.bitrate, .fps = o.fps, .gop = o.gop, .audio_bitrate = o.audio_bitrate},
        stream);
  }
  if (!o.rtp_to.empty()) {
    const auto colon = o.rtp_to.rfind(':');
    const boost::asio::ip::udp::endpoint to{boost::asio::ip::make_address(o.rtp_to.substr(0, colon)),
                                            static_cast<std::uint16_t>(std::stoul(o.rtp_to.substr(colon + 1)))};
    publishers_.push_back(std::make_unique<rtp_publisher>(*this, stream, std::move(source), to));
  } else {
    publishers_.push_back(std::make_unique<rtmp_publisher>(*this, stream, std::move(source)));
  }
  publishers_.back()->start();
}

void load_shard::start_player(unsigned stream) {
  if (!plan_.options.janus_base.empty()) {
    janus_players_.push_back(std::make_unique<janus_player>(*this, stream));
    janus_players_.back()->start();
    return;
  }
  if (!plan_.options.whep_base.empty()) {
    whep_players_.push_back(std::make_unique<whep_player>(*this, stream));
    whep_players_.back()->start();
    return;
  }
  players_.push_back(std::make_unique<rtmp_player>(*this, stream));
  players_.back()->start();
}

void load_shard::stop_publishers() {
  ending_ = true;
  for (auto& p : publishers_) p->stop();
}

void load_shard::stop_players() {
  for (auto& p : players_) p->stop();
  for (auto& p : whep_players_) p->stop();
  for (auto& p : janus_players_) p->stop();
}

std::uint64_t load_shard::players_behind() const {
  std::uint64_t n = 0;
  for (const auto& p : players_)
    if (!p->caught_up()) ++n;
  for (const auto& p : whep_players_)
    if (!p->caught_up()) ++n;
  for (const auto& p : janus_players_)
    if (!p->caught_up()) ++n;
  return n;
}

namespace {

template <class Player>
void collect_players(const std::vector<std::unique_ptr<Player>>& players, shard_result& r) {
  r.players_started += players.size();
  for (const auto& p : players) {
    const auto& t = p->tally();
    r.misrouted += t.misrouted;
    r.unidentified += t.unidentified;
    if (t.first_keyframe_ms) r.first_keyframe_ms.push_back(*t.first_keyframe_ms);
    switch (p->result()) {
      case Player::outcome::completed: r.completed.push_back(t); break;
      case Player::outcome::disconnected: ++r.players_disconnected; break;
      default: break;
    }
  }
}

}  // namespace

shard_result load_shard::collect() const {
  shard_result r;
  r.latency = latency_;
  collect_players(players_, r);
  collect_players(whep_players_, r);
  collect_players(janus_players_, r);
  return r;
}

}  // namespace junction::load
