#include "junction-load/janus_player.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "core/log.hpp"
#include "core/spawn.hpp"
#include "http/client.hpp"
#include "junction-load/player_frames.hpp"
#include "media/rtp/packet.hpp"
#include "media/sdp/session.hpp"
#include "webrtc/client_peer.hpp"
#include "webrtc/offer_answer.hpp"

namespace junction::load {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::ip::udp;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

std::shared_ptr<const webrtc::dtls_certificate> client_certificate() {
  static const auto certificate = webrtc::dtls_certificate::generate();
  return certificate;
}

// A Janus request's JSON (its "transaction" is required and never read back here).
std::string request(std::string_view janus, json::object extra = {}) {
  extra["janus"] = janus;
  extra["transaction"] = "jl";
  return json::serialize(extra);
}

// data.id of a "success" answer, or 0.
std::uint64_t created_id(const http::client_response& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return 0;
  const auto* data = v.as_object().if_contains("data");
  const auto* id = data && data->is_object() ? data->as_object().if_contains("id") : nullptr;
  return id && id->is_int64() ? static_cast<std::uint64_t>(id->as_int64()) : id && id->is_uint64() ? id->as_uint64() : 0;
}

}  // namespace

janus_player::janus_player(load_shard& shard, unsigned stream) : webrtc_viewer(shard, stream) {}

janus_player::~janus_player() = default;

void janus_player::start() {
  asio::co_spawn(shard_.home().context(), session(), log_failure{"junction-load janus player"});
}

void janus_player::fail(const std::string& why) {
  outcome_ = outcome::failed;
  if (!stopping_) {
    live_counters::add(shard_.counters().play_failures);
    log::debug("janus player: {}", why);
  }
}

asio::awaitable<bool> janus_player::signal() {
  const auto& o = shard_.plan().options;
  const auto timeout = o.step_timeout;
  std::string body = request("create");
  auto created = co_await http::send_request("POST", o.janus_base, "application/json", body, timeout);
  const auto session = created_id(created);
  if (!session) {
    fail("create: " + std::to_string(created.status) + " " + created.body + created.error);
    co_return false;
  }
  session_url_ = o.janus_base + "/" + std::to_string(session);
  body = request("attach", {{"plugin", "janus.plugin.streaming"}});
  auto attached = co_await http::send_request("POST", session_url_, "application/json", body, timeout);
  const auto handle = created_id(attached);
  if (!handle) {
    fail("attach: " + attached.body + attached.error);
    co_return false;
  }
  handle_url_ = session_url_ + "/" + std::to_string(handle);
  asked_to_play();
  body = request("message", {{"body", {{"request", "watch"}, {"id", o.janus_mountpoint}}}});
  auto acked = co_await http::send_request("POST", handle_url_, "application/json", body, timeout);
  if (!acked.ok()) {
    fail("watch: " + acked.body + acked.error);
    co_return false;
  }
  // The offer comes as an event on the session's long poll.
  const std::string poll = session_url_ + "?maxev=1";
  const std::string none;
  for (int polls = 0; polls < 5 && !stopping_; ++polls) {
    auto event = co_await http::send_request("GET", poll, "", none, timeout);
    boost::system::error_code ec;
    auto v = json::parse(event.body, ec);
    if (ec || !v.is_object()) continue;
    const auto* jsep = v.as_object().if_contains("jsep");
    if (jsep && jsep->is_object() && jsep->as_object().if_contains("sdp")) {
      offer_ = json::value_to<std::string>(jsep->as_object().at("sdp"));
      co_return true;
    }
  }
  fail("no offer from the mountpoint");
  co_return false;
}

asio::awaitable<void> janus_player::session() {
  auto& counters = shard_.counters();
  live_counters::add(counters.running);
  const auto& o = shard_.plan().options;
  started_ = std::chrono::steady_clock::now();
  const bool offered = co_await signal();
  std::optional<std::string> answer_text;
  if (offered) {
    auto parsed = media::sdp::parse(offer_);
    auto read = parsed.ok() ? webrtc::read_offer(*parsed.session) : std::variant<webrtc::offer, std::string>{"unparsable"};
    auto* offer = std::get_if<webrtc::offer>(&read);
    // Where Janus's media is: its offer's first UDP candidate (read as a WHEP answer's is).
    auto where = webrtc::read_server_answer(offer_);
    auto* server = std::get_if<webrtc::server_answer>(&where);
    std::optional<udp::endpoint> janus;
    boost::system::error_code ec;
    if (server) {
      auto address = asio::ip::make_address(server->address, ec);
      if (!ec) janus = udp::endpoint{address, server->port};
    }
    if (janus) socket_.open(janus->protocol(), ec);
    if (janus && !ec) socket_.bind({janus->address(), 0}, ec);
    if (janus && !ec) socket_.set_option(udp::socket::receive_buffer_size(1 << 20), ec);
    ec.clear();
    if (offer && janus && socket_.is_open()) {
      const auto local = webrtc::new_ice_credentials();
      webrtc::answer_parameters p;
      p.ice = local;
      p.fingerprint = client_certificate()->fingerprint();
      p.candidates = {{socket_.local_endpoint().address().to_string(), socket_.local_endpoint().port(), false}};
      for (const auto& m : offer->media)
        p.choices.push_back(m.kind == "video" ? webrtc::choose_video(m, true) : std::nullopt);
      p.directions.assign(offer->media.size(), media::sdp::direction::recvonly);
      p.session_id = 1;
      answer_text = media::sdp::serialize(webrtc::make_answer(*offer, p));
      peer_ = std::make_unique<webrtc::transport>(client_certificate(), local, offer->ice.ufrag, offer->fingerprint,
                                                  webrtc::answer_role(*offer), std::chrono::steady_clock::now());
    } else {
      fail("an offer without ICE, a fingerprint, or a UDP candidate");
    }
  }
  if (answer_text) {
    std::string body = request("message", {{"body", {{"request", "start"}}},
                                           {"jsep", {{"type", "answer"}, {"sdp", *answer_text}}}});
    const auto timeout = o.step_timeout;
    auto started = co_await http::send_request("POST", handle_url_, "application/json", body, timeout);
    if (!started.ok()) {
      fail("start: " + started.body + started.error);
      peer_.reset();
    }
  }
  if (peer_ && !stopping_) {
    start_ticks();
    std::vector<std::uint8_t> buffer(2048);
    udp::endpoint from;
    while (!stopping_) {
      auto [rec, n] = co_await socket_.async_receive_from(asio::buffer(buffer), from, no_throw);
      if (rec) break;
      tally_.bytes += n;
      live_counters::add(counters.bytes_received, n);
      on_datagram({buffer.data(), n}, from);
      if (peer_->current() == webrtc::transport::state::failed) break;
    }
    finished("janus player", peer_->failure());
  } else {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  if (!session_url_.empty()) {  // within the player's life, as the WHEP player's DELETE
    const std::string body = request("destroy");
    const std::chrono::milliseconds destroy_timeout{5000};
    auto destroyed = co_await http::send_request("POST", session_url_, "application/json", body, destroy_timeout);
    (void)destroyed;
  }
  co_await ticks_ended();
  live_counters::sub(counters.running);
}

std::chrono::steady_clock::time_point janus_player::next_tick() {
  const bool connected = peer_->current() == webrtc::transport::state::connected;
  const auto due = std::chrono::steady_clock::now() +
                   (connected ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(50));
  return std::min(due, peer_->next_timeout());
}

void janus_player::on_tick() {
  peer_->on_timer(std::chrono::steady_clock::now());
  flush();
}

void janus_player::flush() {
  for (auto& d : peer_->take_outgoing()) {
    boost::system::error_code ignored;
    socket_.send_to(asio::buffer(d.bytes), d.to, 0, ignored);
  }
}

void janus_player::on_datagram(std::span<const std::uint8_t> datagram, const udp::endpoint& from) {
  const auto was = peer_->current();
  peer_->on_datagram(datagram, from, std::chrono::steady_clock::now());
  flush();
  if (was != webrtc::transport::state::connected && peer_->current() == webrtc::transport::state::connected)
    now_playing();
  take(peer_->take_received());
}

}  // namespace junction::load
