#include "gateway/line.hpp"

#include "core/cross_shard.hpp"

#include <charconv>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/connection.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "gateway/audio_leg.hpp"
#include "gateway/video_leg.hpp"
#include "gateway/xflv_leg.hpp"
#include "media/stream_hub.hpp"
#include "recording/call_recorder.hpp"
#include "recording/service.hpp"
#include "transcode/worker_pool.hpp"
#include "gateway/call_media.hpp"
#include "gateway/codec_list.hpp"
#include "gateway/service.hpp"
#include "sip/ua/user_agent.hpp"
#include "media/sdp/negotiation.hpp"
#include "media/srtp/session.hpp"
#include "rtmp/server_protocol.hpp"

namespace junction::gateway {
namespace {

namespace asio = boost::asio;
namespace ua = sip::ua;
using asio::ip::udp;
using ua::user_agent;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
constexpr auto registration_wait = std::chrono::seconds(10);
constexpr auto unregistration_wait = std::chrono::seconds(5);

using amf_value = media::amf::value;

amf_value str(std::string s) { return amf_value::make_string(std::move(s)); }

std::vector<std::string> string_args(const rtmp::command& c, std::size_t from) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < c.args.size(); ++i)
    if (c.args[i].type == media::amf::type::string) out.push_back(c.args[i].text);
  return out;
}

// "486 Busy Here" -> 486 and "Busy Here"; anything else is 603 Decline with that text.
std::pair<int, std::string> parse_rejection(std::string_view text) {
  int status = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), status);
  if (ec == std::errc{} && status >= 300 && status <= 699) {
    std::string_view rest{end, static_cast<std::size_t>(text.data() + text.size() - end)};
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    return {status, std::string{rest}};
  }
  return {603, text.empty() ? std::string{"Decline"} : std::string{text}};
}

std::uint64_t random_seed() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) | rd();
}

call_media::settings media_settings(const service& svc, std::uint64_t seed) {
  call_media::settings s;
  s.address = svc.media_address();
  s.srtp = svc.settings().srtp;
  s.session_id = seed & 0xffffffff;
  s.make_key = [](std::string_view suite) {
    auto s = media::srtp::parse_suite(suite);
    return s ? media::srtp::make_inline_key(media::srtp::random_master(*s)) : std::string{};
  };
  return s;
}

class line : public std::enable_shared_from_this<line>, public line_view {
 public:
  line(service& svc, rtmp::client_link& link)
      : svc_(svc), link_(&link), home_(link.home()), seed_(random_seed()), sip_socket_(home_.context()),
        timer_(home_.context()), connect_wait_(home_.context()), linger_(home_.context()),
        rtp_watch_(home_.context()), media_(media_settings(svc, seed_)) {}

  asio::awaitable<std::optional<std::string>> connect(const rtmp::connect_request& r);
  bool call(const rtmp::command& c, rtmp::app_handler::call_answer& answer);
  std::string key(std::string_view name) const {
    return fmt::format("{}/{}/{}", svc_.settings().app, connection_id_, name);
  }
  void link_gone();
  line_summary summary() const override;
  std::string record() override;

 private:
  void start_recording();
  asio::awaitable<void> receive_loop(std::shared_ptr<line> self);
  asio::awaitable<void> timer_loop(std::shared_ptr<line> self);
  static asio::awaitable<void> publish_remote_task(std::shared_ptr<line> self, std::string peer);
  void pump();
  void handle(ua::event_t& e);
  void callback(std::string_view method, std::vector<amf_value> args = {});
  void send(const ua::datagram& d);
  // The RTP port of one medium, bound for the offer or answer and then handed to its leg.
  std::optional<std::uint16_t> bind_rtp(std::optional<udp::socket>& slot);
  void release_rtp();
  // The ports for what the m= lines need (call_media's plan), 0 for none.
  std::optional<std::vector<std::uint16_t>> bind_ports(const std::vector<port_need>& needs);
  void push_remote(media::frame f);
  // Starts the legs call_media decided on; false (and nothing started) when there are none.
  bool start_media(const std::optional<media_start>& start);
  bool start_audio(const media_start& start, const leg_context& context);
  bool start_xflv(const media_start& start, const leg_context& context);
  void end_media();
  void check_rtp();
  void watch_rtp();
  // Hold and other re-INVITEs (RFC 3264 §8): ours, their offers, and what either agreed.
  void hold(bool on, rtmp::app_handler::call_answer& answer);
  void on_reoffer(const std::string& sdp);
  void on_reanswer(const std::string& sdp);
  void apply(const std::vector<leg_update>& updates);
  rtp_leg* leg_for(std::string_view media) const;
  void publish_remote(const std::string& peer);
  void close();
  const char* who() const { return aor_.c_str(); }
  static ua::clock::time_point now() { return ua::clock::now(); }

  service& svc_;
  rtmp::client_link* link_;  // null once the connection is gone
  junction::shard& home_;
  std::uint64_t connection_id_ = 0;
  std::uint64_t seed_ = 0;
  std::string aor_;
  udp::socket sip_socket_;
  asio::steady_timer timer_, connect_wait_, linger_, rtp_watch_;
  ua::clock::time_point armed_for_ = ua::clock::time_point::max();
  std::unique_ptr<user_agent> agent_;
  // Counts the line as open, so that a stopping server waits for its BYE and unregistration.
  connection_ticket open_slot_;
  bool running_ = false, closing_ = false, connecting_ = false;
  std::optional<std::string> connect_refusal_;
  bool connect_answered_ = false;

  // The call being set up or up: its media decisions, ports and legs.
  call_media media_;
  std::optional<udp::socket> audio_socket_, video_socket_;
  std::shared_ptr<audio_leg> audio_;
  std::shared_ptr<video_leg> video_;
  std::shared_ptr<xflv_leg> xflv_;  // both ends gateways: RTMP messages as x-flv
  bool media_up() const noexcept { return audio_ || xflv_; }
  std::unique_ptr<media::publication> remote_;  // what the client plays as `remote`
  std::optional<std::size_t> worker_;           // the call's transcoding worker
  std::shared_ptr<recording::call_recording> recording_;
  bool outgoing_ = false;           // the call being set up or up is the client's
  bool media_counted_ = false;      // in the calls gauge
  transcode::audio_format phone_format_;  // the call's phone audio, for a recording
  bool record_next_call_ = false;   // asked for with the client's record() call
  // The RTP timeout counts from here: while a hold means the phone sends nothing, it waits.
  std::chrono::steady_clock::time_point rtp_quiet_until_{};
};

asio::awaitable<std::optional<std::string>> line::connect(const rtmp::connect_request& r) {
  auto self = shared_from_this();
  connection_id_ = link_->connection_id();
  const auto slash = r.app.find('/');
  const std::string address = slash == std::string::npos ? std::string{} : r.app.substr(slash + 1);
  const auto at = address.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == address.size() || address.find('/') != std::string::npos)
    co_return fmt::format("connect to rtmp://host/{}/<user>@<domain>", svc_.settings().app);
  ua::settings s;
  s.user = address.substr(0, at);
  s.domain = address.substr(at + 1);
  // "domain:port" names the domain's SIP server port (as a SIP URI may); the address of record
  // is user@domain.
  std::string server_port = "5060";
  if (auto colon = s.domain.rfind(':'); colon != std::string::npos && s.domain.find(']') == std::string::npos) {
    server_port = s.domain.substr(colon + 1);
    s.domain.resize(colon);
    if (server_port.empty() || server_port.find_first_not_of("0123456789") != std::string::npos ||
        server_port.size() > 5)
      co_return fmt::format("bad port in '{}'", address);
  }
  aor_ = s.user + "@" + s.domain;
  auto arg = [&](std::size_t i) {
    return i < r.args.size() && r.args[i].type == media::amf::type::string ? r.args[i].text : std::string{};
  };
  s.auth_user = arg(0);
  s.password = arg(1);
  s.display_name = arg(2);
  s.register_expires = svc_.settings().register_expires;
  s.ring_timeout = std::chrono::duration_cast<std::chrono::seconds>(svc_.settings().ring_timeout);
  s.timers = {svc_.sip().t1, svc_.sip().t2, svc_.sip().t4};
  s.user_agent = "junction-gateway";

  // Junction's own domains register here (the password checked first: login_guard.hpp); others
  // with the domain's server (port 5060).
  if (svc_.is_local_domain(s.domain)) {
    // Checked on the address of record's own shard, so that every guess at one user meets the
    // same count whichever shard its connection landed on (a hop there and back).
    const std::string peer{link_->peer()}, login{s.auth_user.empty() ? s.user : s.auth_user};
    const unsigned checker = login_guard::shard_for(aor_, home_.owner().size());
    auto refusal = co_await invoke_on(home_.owner().at(checker), [&svc = svc_, checker, &peer, &login, &s] {
      return svc.logins().check(checker, peer, s.user, login, s.domain, s.password);
    });
    if (refusal) {
      home_.metrics().add(svc_.metrics().registrations_failed);
      co_return *refusal;
    }
    std::tie(s.proxy_host, s.proxy_port) = svc_.sip_server();
  } else {
    udp::resolver resolver{home_.context()};
    auto [ec, results] = co_await resolver.async_resolve(s.domain, server_port, no_throw);
    if (ec || results.empty()) co_return fmt::format("cannot resolve the SIP domain '{}'", s.domain);
    s.proxy_host = results.begin()->endpoint().address().to_string();
    s.proxy_port = results.begin()->endpoint().port();
  }
  boost::system::error_code ec;
  auto local = asio::ip::make_address(svc_.media_address(), ec);
  if (ec) co_return "gateway.media_address is not an IP address";
  sip_socket_.open(local.is_v6() ? udp::v6() : udp::v4(), ec);
  if (!ec) sip_socket_.bind({local, 0}, ec);
  if (ec) co_return fmt::format("cannot open a SIP socket: {}", ec.message());
  s.local_host = svc_.media_address();
  s.local_port = sip_socket_.local_endpoint().port();
  agent_ = std::make_unique<user_agent>(std::move(s), seed_);
  running_ = true;
  open_slot_ = hold_open(home_.owner().limit());
  home_.metrics().add(svc_.metrics().lines);
  // The coroutines hold the line by a parameter (not a lambda's capture: co_spawn of lambdas
  // owning memory corrupted the heap under load with GCC 12).
  asio::co_spawn(home_.context(), receive_loop(self), asio::detached);
  asio::co_spawn(home_.context(), timer_loop(self), asio::detached);

  connecting_ = true;
  agent_->start_registration(now());
  pump();
  if (!connect_answered_) {
    connect_wait_.expires_after(registration_wait);
    co_await connect_wait_.async_wait(no_throw);
  }
  connecting_ = false;
  if (!connect_answered_) connect_refusal_ = "registration timed out";
  if (connect_refusal_) {
    home_.metrics().add(svc_.metrics().registrations_failed);
    log::info("gateway {}: {}", who(), *connect_refusal_);
    close();
    co_return connect_refusal_;
  }
  log::info("gateway conn={} {}: registered as {}", connection_id_, link_ ? link_->peer() : "", aor_);
  svc_.add_line(home_.index(), aor_, weak_from_this());
  co_return std::nullopt;
}

asio::awaitable<void> line::receive_loop(std::shared_ptr<line> self) {
  std::vector<char> buffer(65536);
  udp::endpoint from;
  while (running_) {
    auto [ec, n] = co_await sip_socket_.async_receive_from(asio::buffer(buffer), from, no_throw);
    if (!running_) break;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
      continue;
    }
    agent_->on_datagram(std::string_view{buffer.data(), n}, from.address().to_string(), from.port(), now());
    pump();
  }
}

asio::awaitable<void> line::timer_loop(std::shared_ptr<line> self) {
  while (running_) {
    auto due = agent_->deadline();
    armed_for_ = due.value_or(ua::clock::now() + std::chrono::hours(1));
    timer_.expires_at(armed_for_);
    co_await timer_.async_wait(no_throw);
    if (!running_) break;
    agent_->on_timer(now());
    pump();
  }
}

void line::send(const ua::datagram& d) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(d.host, ec);
  if (ec) {
    log::info("gateway {}: cannot send to '{}': not an IP address", who(), d.host);
    return;
  }
  sip_socket_.send_to(asio::buffer(d.bytes), udp::endpoint{address, d.port}, 0, ec);
  if (ec) log::debug("gateway {}: send to {}:{}: {}", who(), d.host, d.port, ec.message());
}

void line::pump() {
  if (!agent_) return;
  for (int rounds = 0; rounds < 8; ++rounds) {
    auto out = agent_->take_output();
    auto events = agent_->take_events();
    if (out.empty() && events.empty()) break;
    if (running_)
      for (const auto& d : out) send(d);
    for (auto& e : events) handle(e);
  }
  // An earlier deadline than the timer waits for: wake it to re-arm.
  if (auto due = agent_->deadline(); due && *due < armed_for_) timer_.cancel();
}

void line::callback(std::string_view method, std::vector<amf_value> args) {
  if (link_) link_->invoke(method, std::move(args));
}

void line::handle(ua::event_t& event) {
  std::visit(
      [&](auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, ua::event::registered>) {
          if (connecting_ && !connect_answered_) {
            connect_answered_ = true;
            connect_wait_.cancel();
          }
        } else if constexpr (std::is_same_v<E, ua::event::registration_failed>) {
          if (connecting_ && !connect_answered_) {
            connect_answered_ = true;
            connect_refusal_ = fmt::format("registration failed: {} {}", e.status, e.reason);
            connect_wait_.cancel();
          } else {
            log::info("gateway {}: registration refresh failed: {} {}", who(), e.status, e.reason);
          }
        } else if constexpr (std::is_same_v<E, ua::event::unregistered>) {
          if (closing_) close();
        } else if constexpr (std::is_same_v<E, ua::event::invited>) {
          if (!link_) {
            agent_->reject(480, "Temporarily Unavailable", now());
            return;
          }
          media_.offered(e.sdp);
          log::info("gateway {}: call from {}", who(), e.from);
          callback("invited", {str(e.from), str(e.to)});
        } else if constexpr (std::is_same_v<E, ua::event::ringing>) {
          callback("ringing", {str(fmt::format("{} {}", e.status, e.reason))});
        } else if constexpr (std::is_same_v<E, ua::event::answered>) {
          if (!start_media(media_.answered(e.sdp))) {
            agent_->hang_up(now());
            home_.metrics().add(svc_.metrics().calls_failed);
            callback("rejected", {str("488 Not Acceptable Here")});
          }
        } else if constexpr (std::is_same_v<E, ua::event::rejected>) {
          release_rtp();
          home_.metrics().add(svc_.metrics().calls_failed);
          log::info("gateway {}: call rejected: {} {}", who(), e.status, e.reason);
          callback("rejected", {str(fmt::format("{} {}", e.status, e.reason))});
        } else if constexpr (std::is_same_v<E, ua::event::cancelled>) {
          release_rtp();
          callback("cancelled", {str(e.from), str(e.to)});
        } else if constexpr (std::is_same_v<E, ua::event::ended>) {
          log::info("gateway {}: call ended: {}", who(), e.why);
          end_media();
          callback("byed");
        } else if constexpr (std::is_same_v<E, ua::event::reoffered>) {
          on_reoffer(e.sdp);
        } else if constexpr (std::is_same_v<E, ua::event::reanswered>) {
          on_reanswer(e.sdp);
        } else if constexpr (std::is_same_v<E, ua::event::reinvite_failed>) {
          media_.reinvite_failed();
          log::info("gateway {}: re-INVITE refused: {} {}", who(), e.status, e.reason);
          callback("holdFailed", {str(fmt::format("{} {}", e.status, e.reason))});
        }
      },
      event);
}

std::optional<std::uint16_t> line::bind_rtp(std::optional<udp::socket>& slot) {
  if (slot) return slot->local_endpoint().port();
  boost::system::error_code ec;
  auto address = asio::ip::make_address(svc_.media_address(), ec);
  if (ec) return std::nullopt;
  udp::socket s{home_.context()};
  s.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
  if (!ec) s.bind({address, 0}, ec);
  if (ec) return std::nullopt;
  const auto port = s.local_endpoint().port();
  slot.emplace(std::move(s));
  home_.metrics().add(svc_.metrics().rtp_ports);
  return port;
}

void line::release_rtp() {
  for (auto* slot : {&audio_socket_, &video_socket_})
    if (*slot) {
      slot->reset();
      home_.metrics().sub(svc_.metrics().rtp_ports);
    }
}

std::optional<std::vector<std::uint16_t>> line::bind_ports(const std::vector<port_need>& needs) {
  std::vector<std::uint16_t> ports;
  for (auto need : needs) {
    std::optional<std::uint16_t> port = 0;
    if (need == port_need::audio) port = bind_rtp(audio_socket_);
    else if (need == port_need::video) port = bind_rtp(video_socket_);
    if (!port) return std::nullopt;
    ports.push_back(*port);
  }
  return ports;
}

void line::push_remote(media::frame f) {
  if (remote_) remote_->push(std::move(f));
}

bool line::call(const rtmp::command& c, rtmp::app_handler::call_answer& answer) {
  const auto& name = c.name;
  if (name != "invite" && name != "accept" && name != "reject" && name != "bye" && name != "sendDTMF" &&
      name != "hold")
    return false;
  if (!agent_) {
    answer.error = "not registered";
    return true;
  }
  if (name == "invite") {
    const std::string dest = c.arg(0) && c.arg(0)->type == media::amf::type::string ? c.arg(0)->text : "";
    if (dest.empty()) {
      answer.error = "invite needs a destination";
      return true;
    }
    if (agent_->state() != ua::call_state::idle) {
      answer.error = "a call is already in progress";
      return true;
    }
    const auto needs = media_.plan_offer(string_args(c, 1));
    auto ports = bind_ports(needs);
    if (!ports || needs.empty()) {
      release_rtp();
      answer.error = !ports ? "no RTP port" : "no codec to offer";
      return true;
    }
    if (!agent_->invite(dest, media_.make_offer(*ports), now())) {
      release_rtp();
      answer.error = "the destination is not a SIP address";
      return true;
    }
    log::info("gateway {}: calling {}", who(), dest);
    outgoing_ = true;
    pump();
  } else if (name == "accept") {
    if (agent_->state() != ua::call_state::ringing) {
      answer.error = "no incoming call to accept";
      return true;
    }
    std::optional<std::string> sdp;
    if (auto needs = media_.plan_answer(string_args(c, 0)))
      if (auto ports = bind_ports(*needs)) sdp = media_.make_answer(*ports);
    if (!sdp) {
      agent_->reject(488, "Not Acceptable Here", now());
      pump();
      release_rtp();
      answer.error = "no codec in common with the caller";
      return true;
    }
    outgoing_ = false;
    agent_->accept(*sdp, now());
    pump();
    if (!start_media(media_.accepted())) {
      agent_->hang_up(now());
      pump();
      answer.error = "no audio in common with the caller";
      return true;
    }
  } else if (name == "reject") {
    const std::string text = c.arg(0) && c.arg(0)->type == media::amf::type::string ? c.arg(0)->text : "";
    auto [status, reason] = parse_rejection(text);
    if (!agent_->reject(status, reason, now())) {
      answer.error = "no incoming call to reject";
      return true;
    }
    release_rtp();
    pump();
  } else if (name == "hold") {
    // hold(true) / hold(false); hold() holds.
    const bool on = !c.arg(0) || c.arg(0)->boolean_or(true);
    hold(on, answer);
    if (!answer.error.empty()) return true;
  } else if (name == "bye") {
    agent_->hang_up(now());
    end_media();
    release_rtp();
    pump();
  } else {  // sendDTMF
    const std::string digits = c.arg(0) && c.arg(0)->type == media::amf::type::string ? c.arg(0)->text : "";
    const bool sent = audio_ && audio_->send_dtmf(digits);
    if (!sent) {
      answer.error = audio_ ? "DTMF was not agreed with the phone" : "no call";
      return true;
    }
    home_.metrics().add(svc_.metrics().dtmf_out);
  }
  answer.result = amf_value::make_boolean(true);
  return true;
}

bool line::start_media(const std::optional<media_start>& start) {
  if (!start) return false;
  std::weak_ptr<line> weak = weak_from_this();
  worker_ = svc_.workers().assign();
  leg_context context{&home_, &svc_.hub(), &svc_.workers(), *worker_, &svc_.metrics(), key("local"),
                      [weak](media::frame f) {
                        if (auto self = weak.lock()) self->push_remote(std::move(f));
                      },
                      nullptr};
  const bool started = start->xflv ? start_xflv(*start, context) : start_audio(*start, context);
  if (!started) {
    end_media();
    return false;
  }
  media_counted_ = true;
  if (start->srtp()) home_.metrics().add(svc_.metrics().srtp_calls);
  release_rtp();  // a port the phone refused, or the audio port of an x-flv call
  if (record_next_call_ || svc_.recordings().records_calls_of(aor_)) start_recording();
  // The phone's media, as the client plays it.
  const auto& main = start->xflv ? *start->xflv : start->audio;
  publish_remote(main.remote_address);
  watch_rtp();
  home_.metrics().add(svc_.metrics().calls);
  home_.metrics().add(svc_.metrics().calls_total);
  if (start->xflv)
    log::info("gateway {}: call up with {}: x-flv at {}:{}", who(), agent_->peer(), main.remote_address,
              main.remote_port);
  else
    log::info("gateway {}: call up with {}: audio {}/{} at {}:{}{}", who(), agent_->peer(),
              start->phone_audio.encoding, start->phone_audio.clock_rate, main.remote_address, main.remote_port,
              video_ ? ", video H.264" : "");
  // siprtmp's callback: the codecs the client should send, when it named any.
  std::vector<amf_value> args;
  if (media_.codecs().given) {
    const auto& p = start->plan;
    if (start->xflv) {
      args = {str("default"), str("default")};
    } else {
      args.push_back(p.audio_callback ? str(*p.audio_callback) : amf_value::make_null());
      args.push_back(p.video_callback && video_ ? str(*p.video_callback) : amf_value::make_null());
    }
  }
  callback("accepted", std::move(args));
  return true;
}

// The audio leg (transcoding as the plan says), and the H.264 video leg when agreed.
bool line::start_audio(const media_start& start, const leg_context& context) {
  const auto& audio = start.audio;
  audio_leg_setup setup;
  setup.phone_codec = start.phone_audio;
  auto phone_format = transcode::audio_format_of(setup.phone_codec);
  if (!phone_format) return false;
  setup.phone_format = *phone_format;
  setup.telephone_event = start.telephone_event;
  const auto& p = start.plan;
  setup.client_format = p.client_audio == media::codec::unknown
                            ? transcode::audio_format{media::codec::speex, 16000, 1}
                            : transcode::audio_format{p.client_audio, p.client_rate, 1};
  setup.ptime = audio.ptime ? audio.ptime : 20;
  std::weak_ptr<line> weak = weak_from_this();
  setup.on_dtmf = [weak](char key) {
    if (auto self = weak.lock()) {
      self->home_.metrics().add(self->svc_.metrics().dtmf_in);
      self->callback("dtmf", {str(std::string(1, key))});
    }
  };
  phone_format_ = setup.phone_format;
  // The sockets (and their counts in the rtp_ports gauge) go to the legs.
  audio_ = std::make_shared<audio_leg>(context, std::move(*audio_socket_), std::move(setup));
  audio_socket_.reset();
  bool keys_ok = !audio.local_crypto || audio_->use_srtp(*audio.local_crypto, *audio.remote_crypto);
  audio_->start(audio.remote_address, audio.remote_port);
  if (start.video) {
    const auto& video = *start.video;
    video_ = std::make_shared<video_leg>(context, std::move(*video_socket_), video_leg_setup{video.codecs.front()});
    video_socket_.reset();
    keys_ok = keys_ok && (!video.local_crypto || video_->use_srtp(*video.local_crypto, *video.remote_crypto));
    video_->start(video.remote_address, video.remote_port);
  }
  if (!keys_ok) log::info("gateway {}: the SRTP keys cannot be used", who());
  return keys_ok;
}

// Both ends are gateways: the client's RTMP messages go as x-flv on the video m= line.
bool line::start_xflv(const media_start& start, const leg_context& context) {
  const auto& video = *start.xflv;
  xflv_ = std::make_shared<xflv_leg>(context, std::move(*video_socket_), start.xflv_codec->payload_type);
  video_socket_.reset();
  if (video.local_crypto && !xflv_->use_srtp(*video.local_crypto, *video.remote_crypto)) return false;
  xflv_->start(video.remote_address, video.remote_port);
  return true;
}

void line::publish_remote(const std::string& peer) {
  asio::co_spawn(home_.context(), publish_remote_task(shared_from_this(), peer), asio::detached);
}

asio::awaitable<void> line::publish_remote_task(std::shared_ptr<line> self, std::string peer) {
  media::publish_options options;
  options.takeover = true;  // the line's own stream: a leftover gives way
  media::publisher_info who{"rtp", peer, self->connection_id_};
  auto claimed = co_await self->svc_.hub().publish(self->key("remote"), std::move(options), std::move(who));
  if (self->media_up()) self->remote_ = std::move(claimed.handle);
}

void line::watch_rtp() {
  std::weak_ptr<line> weak = weak_from_this();
  rtp_watch_.expires_after(std::chrono::seconds(1));
  rtp_watch_.async_wait([weak](boost::system::error_code ec) {
    if (auto self = weak.lock(); self && !ec) self->check_rtp();
  });
}

// No RTP from the phone for gateway.rtp_timeout: the call is over. Not while a hold means the
// phone sends nothing (our hold, or theirs with inactive); the wait starts again after it.
void line::check_rtp() {
  if (!media_up()) return;
  if (media_.holding() || media_.held()) {
    rtp_quiet_until_ = std::chrono::steady_clock::now();
    watch_rtp();
    return;
  }
  auto last = rtp_quiet_until_;
  for (rtp_leg* leg : {static_cast<rtp_leg*>(audio_.get()), static_cast<rtp_leg*>(video_.get()),
                       static_cast<rtp_leg*>(xflv_.get())})
    if (leg) last = std::max(last, leg->last_received());
  if (std::chrono::steady_clock::now() - last > svc_.settings().rtp_timeout) {
    log::info("gateway {}: no RTP from the phone for {} ms: hanging up", who(), svc_.settings().rtp_timeout.count());
    agent_->hang_up(now());
    end_media();
    pump();
    callback("byed");
    return;
  }
  watch_rtp();
}

rtp_leg* line::leg_for(std::string_view media) const {
  if (media == "audio") return audio_.get();
  if (media == "video") return video_ ? static_cast<rtp_leg*>(video_.get()) : static_cast<rtp_leg*>(xflv_.get());
  return nullptr;
}

// The client's hold: a re-INVITE with our session as it is, sendonly (or sendrecv again).
void line::hold(bool on, rtmp::app_handler::call_answer& answer) {
  if (agent_->state() != ua::call_state::confirmed || !media_up()) {
    answer.error = "no call";
    return;
  }
  auto step = media_.hold(on, agent_->local_sdp());
  if (step.already) {
    callback("holding", {amf_value::make_boolean(on)});
    return;
  }
  if (!step.reoffer) {
    answer.error = step.error;
    return;
  }
  if (!agent_->reinvite(*step.reoffer, now())) {
    media_.reinvite_failed();
    answer.error = "a re-INVITE is under way";
    return;
  }
  log::info("gateway {}: {} the call", who(), on ? "holding" : "resuming");
  pump();
}

void line::on_reanswer(const std::string& sdp) {
  auto result = media_.reanswered(sdp);
  if (!result || !media_up()) return;
  if (!result->error.empty()) {
    callback("holdFailed", {str(result->error)});
    return;
  }
  apply(result->updates);
  callback("holding", {amf_value::make_boolean(media_.holding())});
}

void line::on_reoffer(const std::string& sdp) {
  auto result = media_.reoffered(sdp, agent_->local_sdp());
  if (result.status != 200) {
    log::info("gateway {}: {}: 488", who(), result.why);
    agent_->answer_reoffer(488, {}, now());
    return;
  }
  agent_->answer_reoffer(200, result.answer, now());
  apply(result.updates);
  if (result.held_changed) {
    log::info("gateway {}: the phone {} the call", who(), media_.held() ? "holds" : "resumes");
    callback("held", {amf_value::make_boolean(media_.held())});
  }
}

// Each leg sends (or not) and goes where the session now says; SRTP keys that changed are used.
void line::apply(const std::vector<leg_update>& updates) {
  for (const auto& u : updates) {
    auto* leg = leg_for(u.media);
    if (!leg) continue;
    leg->set_sending(u.sending);
    if (u.remote) leg->retarget(u.remote->first, u.remote->second);
    if (u.keys) leg->use_srtp(u.keys->first, u.keys->second);
  }
}

void line::start_recording() {
  if (recording_ || !audio_ || !worker_) return;
  record_next_call_ = false;
  recording::recording_info info;
  info.id = svc_.recordings().call_recording_id(agent_->call_id());
  info.kind = "call";
  info.call_id = agent_->call_id();
  info.line = aor_;
  info.from = outgoing_ ? "sip:" + aor_ : agent_->peer();
  info.to = outgoing_ ? agent_->peer() : "sip:" + aor_;
  info.started = std::chrono::system_clock::now();
  recording_ = std::make_shared<recording::call_recording>(svc_.recordings(), *worker_, std::move(info), phone_format_);
  audio_->set_recording(recording_);
  if (video_) video_->set_recording(recording_);
  log::info("gateway {}: recording the call as {}", who(), recording_->id());
}

std::string line::record() {
  if (!audio_) {
    record_next_call_ = true;
    return {};
  }
  start_recording();
  return recording_ ? recording_->id() : std::string{};
}

line_summary line::summary() const {
  line_summary s;
  s.user = aor_;
  s.connection = connection_id_;
  s.shard = home_.index();
  if (agent_) {
    switch (agent_->state()) {
      case ua::call_state::idle: s.state = "idle"; break;
      case ua::call_state::calling: s.state = "calling"; break;
      case ua::call_state::ringing: s.state = "ringing"; break;
      case ua::call_state::confirmed: s.state = "in-call"; break;
    }
    s.peer = agent_->peer();
    s.call_id = agent_->call_id();
  }
  if (recording_) s.recording = recording_->id();
  return s;
}

void line::end_media() {
  rtp_watch_.cancel();
  media_.ended();
  if (!media_up()) return;
  for (rtp_leg* leg : {static_cast<rtp_leg*>(audio_.get()), static_cast<rtp_leg*>(video_.get()),
                       static_cast<rtp_leg*>(xflv_.get())})
    if (leg) leg->stop();
  audio_.reset();
  video_.reset();
  xflv_.reset();
  remote_.reset();  // the client's player of `remote` hears UnpublishNotify
  recording_.reset();  // the last holder: the recording is finished on the worker
  if (worker_) svc_.workers().release(*worker_);
  worker_.reset();
  if (std::exchange(media_counted_, false)) home_.metrics().sub(svc_.metrics().calls);
}

void line::link_gone() {
  link_ = nullptr;
  if (!running_) return;
  closing_ = true;
  if (agent_->state() != ua::call_state::idle) agent_->hang_up(now());
  end_media();
  release_rtp();
  if (!agent_->registered()) {
    pump();
    close();
    return;
  }
  agent_->unregister(now());
  pump();
  // Unregistering takes a round trip or two (a challenge); the line lingers that long at most.
  auto self = shared_from_this();
  linger_.expires_after(unregistration_wait);
  linger_.async_wait([self](boost::system::error_code) { self->close(); });
}

void line::close() {
  if (!running_) return;
  running_ = false;
  home_.metrics().sub(svc_.metrics().lines);
  svc_.remove_line(home_.index(), aor_, this);
  open_slot_.reset();
  boost::system::error_code ec;
  sip_socket_.close(ec);
  timer_.cancel();
  linger_.cancel();
  connect_wait_.cancel();
  rtp_watch_.cancel();
}

// The RTMP side's view of a line.
class line_handler final : public rtmp::app_handler {
 public:
  line_handler(service& svc, rtmp::client_link& link) : line_(std::make_shared<line>(svc, link)) {}
  asio::awaitable<std::optional<std::string>> on_connect(const rtmp::connect_request& r) override {
    return line_->connect(r);
  }
  bool on_call(const rtmp::command& c, call_answer& answer) override { return line_->call(c, answer); }
  std::string stream_key(std::string_view name) override { return line_->key(name); }
  void on_disconnect() override { line_->link_gone(); }

 private:
  std::shared_ptr<line> line_;
};

}  // namespace

std::unique_ptr<rtmp::app_handler> make_line(service& svc, rtmp::client_link& link) {
  return std::make_unique<line_handler>(svc, link);
}

}  // namespace junction::gateway
