#include "gateway/line.hpp"

#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/connection.hpp"
#include "core/cross_shard.hpp"
#include "core/log.hpp"
#include "core/runtime.hpp"
#include "core/shard.hpp"
#include "gateway/call_legs.hpp"
#include "gateway/call_media.hpp"
#include "gateway/client_requests.hpp"
#include "gateway/service.hpp"
#include "media/stream_hub.hpp"
#include "recording/call_recorder.hpp"
#include "recording/service.hpp"
#include "rtmp/server_protocol.hpp"
#include "sip/ua/udp_agent.hpp"
#include "core/worker_pool.hpp"

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

std::uint64_t random_seed() { return (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}(); }

class line : public std::enable_shared_from_this<line>, public line_view {
 public:
  line(service& svc, rtmp::client_link& link)
      : svc_(svc), link_(&link), home_(link.home()), seed_(random_seed()),
        sip_(std::make_shared<ua::udp_agent>(home_.context())), connect_wait_(home_.context()),
        linger_(home_.context()), rtp_watch_(home_.context()),
        media_(call_media::for_line(svc.media_address(), svc.settings().srtp, seed_)),
        legs_(home_, svc) {}
  ~line() { sip_->close(); }

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
  static asio::awaitable<void> publish_remote_task(std::shared_ptr<line> self, std::string peer);
  user_agent& agent() const { return sip_->agent(); }
  void pump() { sip_->pump(); }
  void handle(ua::event_t& e);
  void callback(std::string_view method, std::vector<amf_value> args = {});
  void push_remote(media::frame f);
  // The agreed call's legs: null, or why not (and then no leg and no port is left).
  const char* start_media(const std::optional<media_start>& start);
  void call_failed(std::string_view why);  // frees, counts and logs why
  void end_media();
  void check_rtp();
  void watch_rtp();
  // Hold and other re-INVITEs (RFC 3264 §8): ours, their offers, and what either agreed.
  void hold(bool on, rtmp::app_handler::call_answer& answer);
  void on_reoffer(const std::string& sdp);
  void on_reanswer(const std::string& sdp);
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
  std::shared_ptr<ua::udp_agent> sip_;  // the line's SIP user agent on its socket
  asio::steady_timer connect_wait_, linger_, rtp_watch_;
  // Counts the line as open, so that a stopping server waits for its BYE and unregistration.
  connection_ticket open_slot_;
  bool running_ = false, closing_ = false, connecting_ = false;
  std::optional<std::string> connect_refusal_;
  bool connect_answered_ = false;

  // The call being set up or up: its media decisions, ports and legs.
  call_media media_;
  call_legs legs_;
  bool media_up() const noexcept { return legs_.up(); }
  std::unique_ptr<media::publication> remote_;  // what the client plays as `remote`
  // What the legs gave before `remote` was claimed (one hop at most): it goes out first, so the
  // client gets the phone's first packet and first keyframe too. Bounded.
  std::vector<media::frame> remote_early_;
  std::optional<std::size_t> worker_;           // the call's transcoding worker
  std::shared_ptr<recording::call_recording> recording_;
  bool outgoing_ = false;           // the call being set up or up is the client's
  bool media_counted_ = false;      // in the calls gauge
  bool record_next_call_ = false;   // asked for with the client's record() call
  // The RTP timeout counts from here: while a hold means the phone sends nothing, it waits.
  std::chrono::steady_clock::time_point rtp_quiet_until_{};
};

asio::awaitable<std::optional<std::string>> line::connect(const rtmp::connect_request& r) {
  auto self = shared_from_this();
  connection_id_ = link_->connection_id();
  line_address address;
  if (auto ec = parse_line_address(r.app, address); ec == request_errc::no_address)
    co_return fmt::format("connect to rtmp://host/{}/<user>@<domain>", svc_.settings().app);
  else if (ec)
    co_return fmt::format("bad port in '{}'", r.app.substr(r.app.find('/') + 1));
  ua::settings s;
  s.user = address.user;
  s.domain = address.domain;
  const auto& server_port = address.server_port;
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
    const std::string peer{link_->peer()}, login{s.auth_user.empty() ? s.user : s.auth_user};
    auto refusal = co_await svc_.logins().check(home_.owner(), peer, s.user, login, s.domain, s.password);
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
  ec = sip_->open(local);
  if (ec) co_return fmt::format("cannot open a SIP socket: {}", ec.message());
  s.local_host = svc_.media_address();
  s.local_port = sip_->local_port();
  running_ = true;
  open_slot_ = hold_open(home_.owner().limit());
  home_.metrics().add(svc_.metrics().lines);
  // The agent's events come back while the line runs: close() stops them before it goes.
  sip_->start(std::make_unique<user_agent>(std::move(s), seed_), [this](ua::event_t& e) { handle(e); });

  connecting_ = true;
  agent().registration().start(now());
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
            agent().call().reject(480, "Temporarily Unavailable", now());
            return;
          }
          media_.offered(e.sdp);
          if (!media_.answerable()) {
            agent().call().reject(488, "Not Acceptable Here", now());
            call_failed(fmt::format("call from {} refused (488): no media in its offer the gateway could answer "
                                    "(codecs, or RTP/AVP vs RTP/SAVP with gateway.srtp = \"{}\")",
                                    e.from, svc_.settings().srtp));
            return;
          }
          log::info("gateway {}: call from {}", who(), e.from);
          callback("invited", {str(e.from), str(e.to)});
        } else if constexpr (std::is_same_v<E, ua::event::ringing>) {
          callback("ringing", {str(fmt::format("{} {}", e.status, e.reason))});
        } else if constexpr (std::is_same_v<E, ua::event::answered>) {
          auto agreed = media_.answered(e.sdp);
          if (const char* why = start_media(agreed)) {
            agent().call().hang_up(now());
            call_failed(agreed ? why : "the phone's answer has no codec the client offered");
            callback("rejected", {str("488 Not Acceptable Here")});
          }
        } else if constexpr (std::is_same_v<E, ua::event::rejected>) {
          legs_.release_ports();
          home_.metrics().add(svc_.metrics().calls_failed);
          log::info("gateway {}: call rejected: {} {}", who(), e.status, e.reason);
          callback("rejected", {str(fmt::format("{} {}", e.status, e.reason))});
        } else if constexpr (std::is_same_v<E, ua::event::cancelled>) {
          legs_.release_ports();
          log::info("gateway {}: call from {} cancelled by the caller", who(), e.from);
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

void line::push_remote(media::frame f) {
  if (remote_) {
    remote_->push(std::move(f));
  } else if (media_up() && remote_early_.size() < 256) {
    remote_early_.push_back(std::move(f));
  }
}

bool line::call(const rtmp::command& c, rtmp::app_handler::call_answer& answer) {
  using kind = client_call::kind;
  const auto request = read_client_call(c.name, c.args);
  if (!request) return false;
  if (!running_) {
    answer.error = "not registered";
    return true;
  }
  auto& session = agent().call();
  auto fail = [&](const char* why) {
    answer.error = why;
    return true;
  };
  switch (request->what) {
    case kind::invite: {
      if (request->text.empty()) return fail("invite needs a destination");
      if (session.state() != ua::call_state::idle) return fail("a call is already in progress");
      const auto needs = media_.plan_offer(request->codecs);
      auto ports = legs_.bind(needs);
      if (!ports || needs.empty()) {
        legs_.release_ports();
        const char* why = !ports ? "no RTP port" : "no codec to offer";
        log::info("gateway {}: cannot call {}: {}", who(), request->text, why);
        return fail(why);
      }
      if (!session.invite(request->text, media_.make_offer(*ports), now())) {
        legs_.release_ports();
        log::info("gateway {}: cannot call {}: not a SIP address", who(), request->text);
        return fail("the destination is not a SIP address");
      }
      log::info("gateway {}: calling {}", who(), request->text);
      outgoing_ = true;
      pump();
      break;
    }
    case kind::accept: {
      if (session.state() != ua::call_state::ringing) return fail("no incoming call to accept");
      std::optional<std::string> sdp;
      if (auto needs = media_.plan_answer(request->codecs))
        if (auto ports = legs_.bind(*needs)) sdp = media_.make_answer(*ports);
      if (!sdp) {
        session.reject(488, "Not Acceptable Here", now());
        pump();
        call_failed("no codec in common with the caller (488 sent)");
        return fail("no codec in common with the caller");
      }
      outgoing_ = false;
      session.accept(*sdp, now());
      pump();
      if (const char* why = start_media(media_.accepted())) {
        session.hang_up(now());
        pump();
        call_failed(why);
        return fail("no audio in common with the caller");
      }
      break;
    }
    case kind::reject: {
      auto [status, reason] = parse_rejection(request->text);
      if (!session.reject(status, reason, now())) return fail("no incoming call to reject");
      legs_.release_ports();
      pump();
      break;
    }
    case kind::hold:
      hold(request->on, answer);
      if (!answer.error.empty()) return true;
      break;
    case kind::bye:
      session.hang_up(now());
      end_media();  // and the ports
      pump();
      break;
    case kind::dtmf:
      if (!legs_.send_dtmf(request->text)) return fail(legs_.audio() ? "DTMF was not agreed with the phone" : "no call");
      home_.metrics().add(svc_.metrics().dtmf_out);
      break;
  }
  answer.result = amf_value::make_boolean(true);
  return true;
}

void line::call_failed(std::string_view why) {
  end_media();
  home_.metrics().add(svc_.metrics().calls_failed);
  log::info("gateway {}: call failed: {}", who(), why);
}

const char* line::start_media(const std::optional<media_start>& start) {
  if (!start) {
    end_media();
    return "no audio agreed";
  }
  std::weak_ptr<line> weak = weak_from_this();
  worker_ = svc_.workers().assign();
  leg_context context{&home_, &svc_.hub(), &svc_.workers(), *worker_, &svc_.metrics(), key("local"),
                      [weak](media::frame f) {
                        if (auto self = weak.lock()) self->push_remote(std::move(f));
                      },
                      nullptr};
  auto on_dtmf = [weak](char key) {
    if (auto self = weak.lock()) {
      self->home_.metrics().add(self->svc_.metrics().dtmf_in);
      self->callback("dtmf", {str(std::string(1, key))});
    }
  };
  if (!legs_.start(*start, context, std::move(on_dtmf))) {
    end_media();
    return "a leg could not be started (codec or SRTP keys)";
  }
  media_counted_ = true;
  if (start->srtp()) home_.metrics().add(svc_.metrics().srtp_calls);
  if (record_next_call_ || svc_.recordings().records_calls_of(aor_)) start_recording();
  // The phone's media, as the client plays it.
  const auto& main = start->xflv ? *start->xflv : start->audio;
  publish_remote(main.remote_address);
  watch_rtp();
  home_.metrics().add(svc_.metrics().calls);
  home_.metrics().add(svc_.metrics().calls_total);
  if (start->xflv)
    log::info("gateway {}: call up with {}: x-flv at {}:{}", who(), agent().call().peer(), main.remote_address,
              main.remote_port);
  else
    log::info("gateway {}: call up with {}: audio {}/{} at {}:{}{}", who(), agent().call().peer(),
              start->phone_audio.encoding, start->phone_audio.clock_rate, main.remote_address, main.remote_port,
              legs_.video() ? ", video H.264" : "");
  // siprtmp's callback: the codecs the client should send, when it named any.
  std::vector<amf_value> args;
  if (media_.codecs().given) {
    const auto& p = start->plan;
    if (start->xflv) {
      args = {str("default"), str("default")};
    } else {
      args.push_back(p.audio_callback ? str(*p.audio_callback) : amf_value::make_null());
      args.push_back(p.video_callback && legs_.video() ? str(*p.video_callback) : amf_value::make_null());
    }
  }
  callback("accepted", std::move(args));
  return nullptr;
}

void line::publish_remote(const std::string& peer) {
  asio::co_spawn(home_.context(), publish_remote_task(shared_from_this(), peer), asio::detached);
}

asio::awaitable<void> line::publish_remote_task(std::shared_ptr<line> self, std::string peer) {
  media::publish_options options;
  options.takeover = true;  // the line's own stream: a leftover gives way
  media::publisher_info who{"rtp", peer, self->connection_id_};
  auto claimed = co_await self->svc_.hub().publish(self->key("remote"), std::move(options), std::move(who));
  if (self->media_up() && claimed.handle) {
    self->remote_ = std::move(claimed.handle);
    for (auto& f : self->remote_early_) self->remote_->push(std::move(f));
  }
  self->remote_early_.clear();
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
  const auto last = legs_.last_received(rtp_quiet_until_);
  if (std::chrono::steady_clock::now() - last > svc_.settings().rtp_timeout) {
    log::info("gateway {}: no RTP from the phone for {} ms: hanging up", who(), svc_.settings().rtp_timeout.count());
    agent().call().hang_up(now());
    end_media();
    pump();
    callback("byed");
    return;
  }
  watch_rtp();
}

// The client's hold: a re-INVITE with our session as it is, sendonly (or sendrecv again).
void line::hold(bool on, rtmp::app_handler::call_answer& answer) {
  if (agent().call().state() != ua::call_state::confirmed || !media_up()) {
    answer.error = "no call";
    return;
  }
  auto step = media_.hold(on, agent().call().local_sdp());
  if (step.already) {
    callback("holding", {amf_value::make_boolean(on)});
    return;
  }
  if (!step.reoffer) {
    answer.error = step.error.message();
    return;
  }
  if (!agent().call().reinvite(*step.reoffer, now())) {
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
  if (result->error) {
    callback("holdFailed", {str(result->error.message() + ": " + result->detail)});
    return;
  }
  legs_.apply(result->updates);
  callback("holding", {amf_value::make_boolean(media_.holding())});
}

void line::on_reoffer(const std::string& sdp) {
  auto result = media_.reoffered(sdp, agent().call().local_sdp());
  if (result.status != 200) {
    log::info("gateway {}: {}{}{}: 488", who(), result.why.message(), result.medium.empty() ? "" : " for ",
              result.medium);
    agent().call().answer_reoffer(488, {}, now());
    return;
  }
  agent().call().answer_reoffer(200, result.answer, now());
  legs_.apply(result.updates);
  if (result.held_changed) {
    log::info("gateway {}: the phone {} the call", who(), media_.held() ? "holds" : "resumes");
    callback("held", {amf_value::make_boolean(media_.held())});
  }
}

void line::start_recording() {
  if (recording_ || !legs_.audio() || !worker_) return;
  record_next_call_ = false;
  recording::recording_info info;
  info.id = svc_.recordings().call_recording_id(agent().call().call_id());
  info.kind = "call";
  info.call_id = agent().call().call_id();
  info.line = aor_;
  info.from = outgoing_ ? "sip:" + aor_ : agent().call().peer();
  info.to = outgoing_ ? agent().call().peer() : "sip:" + aor_;
  info.started = std::chrono::system_clock::now();
  recording_ = std::make_shared<recording::call_recording>(svc_.recordings(), *worker_, std::move(info),
                                                        legs_.phone_format());
  legs_.set_recording(recording_);
  log::info("gateway {}: recording the call as {}", who(), recording_->id());
}

std::string line::record() {
  if (!legs_.audio()) {
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
  if (running_) {
    switch (agent().call().state()) {
      case ua::call_state::idle: s.state = "idle"; break;
      case ua::call_state::calling: s.state = "calling"; break;
      case ua::call_state::ringing: s.state = "ringing"; break;
      case ua::call_state::confirmed: s.state = "in-call"; break;
    }
    s.peer = agent().call().peer();
    s.call_id = agent().call().call_id();
  }
  if (recording_) s.recording = recording_->id();
  return s;
}

void line::end_media() {
  rtp_watch_.cancel();
  media_.ended();
  legs_.stop();
  remote_.reset();  // the client's player of `remote` hears UnpublishNotify
  remote_early_.clear();
  recording_.reset();  // the last holder: the recording is finished on the worker
  if (worker_) svc_.workers().release(*worker_);
  worker_.reset();
  if (std::exchange(media_counted_, false)) home_.metrics().sub(svc_.metrics().calls);
}

void line::link_gone() {
  link_ = nullptr;
  if (!running_) return;
  closing_ = true;
  if (agent().call().state() != ua::call_state::idle) agent().call().hang_up(now());
  end_media();
  if (!agent().registration().registered()) {
    pump();
    close();
    return;
  }
  agent().registration().unregister(now());
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
  sip_->close();
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
