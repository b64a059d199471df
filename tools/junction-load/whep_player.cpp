#include "junction-load/whep_player.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/spawn.hpp"
#include "http/client.hpp"
#include "junction-load/player_frames.hpp"
#include "media/rtp/packet.hpp"
#include "media/rtp/rtcp.hpp"

namespace junction::load {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

// One certificate for every player of the process (as a browser has one per profile).
std::shared_ptr<const webrtc::dtls_certificate> client_certificate() {
  static const auto certificate = webrtc::dtls_certificate::generate();
  return certificate;
}

}  // namespace

whep_player::whep_player(load_shard& shard, unsigned stream) : webrtc_viewer(shard, stream) {}

whep_player::~whep_player() = default;

void whep_player::start() {
  asio::co_spawn(shard_.home().context(), session(), log_failure{"junction-load whep player"});
}

asio::awaitable<void> whep_player::session() {
  auto& counters = shard_.counters();
  live_counters::add(counters.running);
  const auto& plan = shard_.plan();
  const auto& o = plan.options;
  started_ = std::chrono::steady_clock::now();
  peer_ = std::make_unique<webrtc::client_peer>(client_certificate(), webrtc::client_offer_options{});
  const std::string url = o.whep_base + "/" + o.url.app + "/" + plan.streams[stream_] + "/whep";
  std::string offer = peer_->offer();
  asked_to_play();
  // Copied from named objects into the request's frame (GCC 12 mishandles temporaries and moved
  // objects around co_await).
  const auto step_timeout = o.step_timeout;
  auto answer = co_await http::send_request("POST", url, "application/sdp", offer, step_timeout);
  std::string why;
  if (answer.status != 201 || !peer_->answer(answer.body, why)) {
    outcome_ = outcome::failed;
    if (!stopping_) {
      live_counters::add(answer.status == 0 ? counters.connect_failures : counters.play_failures);
      log::debug("whep player of '{}': {} {}", url, answer.status, answer.status ? answer.body : answer.error);
    }
    live_counters::sub(counters.running);
    co_return;
  }
  location_ = answer.location;
  boost::system::error_code ec;
  const udp::endpoint server{asio::ip::make_address(peer_->server().address, ec), peer_->server().port};
  if (!ec) socket_.open(server.protocol(), ec);
  if (!ec) socket_.connect(server, ec);
  // A keyframe arrives as a burst: room for it while the shard is busy with other players (the
  // kernel caps this at net.core.rmem_max).
  if (!ec) socket_.set_option(udp::socket::receive_buffer_size(1 << 20), ec);
  ec.clear();
  if (ec || stopping_) {
    outcome_ = outcome::failed;
    if (!stopping_) live_counters::add(counters.connect_failures);
    live_counters::sub(counters.running);
    co_return;
  }
  start_ticks();
  std::vector<std::uint8_t> buffer(2048);
  while (!stopping_) {
    auto [rec, n] = co_await socket_.async_receive(asio::buffer(buffer), no_throw);
    if (rec) break;
    tally_.bytes += n;
    live_counters::add(counters.bytes_received, n);
    on_datagram({buffer.data(), n});
    if (peer_->current() == webrtc::client_peer::state::failed) break;
  }
  finished("whep player of '" + url + "'", peer_->failure());
  // The session's DELETE, within the player's life (the run waits for it, as for the rest).
  if (!location_.empty()) {
    const std::string delete_url = o.whep_base + location_;
    const std::string no_body;
    const std::chrono::milliseconds delete_timeout{5000};
    auto deleted = co_await http::send_request("DELETE", delete_url, "", no_body, delete_timeout);
    (void)deleted;
  }
  co_await ticks_ended();
  live_counters::sub(counters.running);
}

std::chrono::steady_clock::time_point whep_player::next_tick() {
  const bool connected = peer_->current() == webrtc::client_peer::state::connected;
  auto due = std::chrono::steady_clock::now() +
             (connected ? std::chrono::milliseconds(2500) : std::chrono::milliseconds(50));
  if (auto dtls = peer_->next_timeout(); dtls && *dtls < due) due = *dtls;
  return due;
}

void whep_player::on_tick() {
  peer_->on_timer(std::chrono::steady_clock::now());
  if (peer_->current() != webrtc::client_peer::state::connecting) {
    auto check = peer_->check();
    boost::system::error_code ignored;
    socket_.send(asio::buffer(check), 0, ignored);
  }
  if (peer_->current() == webrtc::client_peer::state::connected) {
    // A receiver report, as a browser sends (the server learns the player's keys work).
    std::vector<std::uint8_t> rr;
    media::rtp::write_receiver_report({rtcp_ssrc_, {}}, rr);
    peer_->send(webrtc::packet_kind::rtcp, std::move(rr));
  }
  flush();
}

void whep_player::flush() {
  for (auto& d : peer_->take_outgoing()) {
    boost::system::error_code ignored;
    socket_.send(asio::buffer(d), 0, ignored);
  }
}

void whep_player::on_datagram(std::span<const std::uint8_t> datagram) {
  const auto was = peer_->current();
  peer_->on_datagram(datagram, std::chrono::steady_clock::now());
  flush();
  if (was != webrtc::client_peer::state::connected && peer_->current() == webrtc::client_peer::state::connected) {
    std::vector<std::uint8_t> rr;
    media::rtp::write_receiver_report({rtcp_ssrc_, {}}, rr);
    if (peer_->send(webrtc::packet_kind::rtcp, std::move(rr))) flush();
    now_playing();
  }
  take(peer_->take_received());
}

}  // namespace junction::load
