#include "xmpp/bosh.hpp"


#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <deque>
#include <map>

#include "core/connection.hpp"
#include "core/shard.hpp"
#include "core/spawn.hpp"
#include "http/websocket.hpp"
#include "xml/stream_parser.hpp"
#include "xmpp/random_id.hpp"
#include "xmpp/server.hpp"

namespace junction::xmpp {
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view bosh_ns = "http://jabber.org/protocol/httpbind";
constexpr std::string_view xbosh_restart = "urn:xmpp:xbosh restart";
constexpr unsigned max_wait = 60;      // seconds a request may be held
constexpr unsigned inactivity = 60;    // seconds without a request held, then the session ends
constexpr unsigned requests = 2;       // requests the client may have open
constexpr std::size_t max_pending = 4 << 20;  // bytes waiting for a request, then the session ends

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

std::string terminate_body(std::string_view condition) {
  return "<body xmlns='http://jabber.org/protocol/httpbind' type='terminate' condition='" + std::string(condition) +
         "'/>";
}

}  // namespace

class bosh_session final : public http::websocket_channel, public std::enable_shared_from_this<bosh_session> {
 public:
  using respond_fn = std::function<void(int, std::string)>;

  bosh_session(server& srv, shard& home, std::string sid, std::string peer, bool secure,
               std::string domain, unsigned wait, unsigned hold)
      : home_(home), sid_(std::move(sid)), secure_(secure), domain_(std::move(domain)),
        wait_(wait), hold_(hold), wake_(home.context()), inactivity_(home.context()),
        conn_(home, connection_ticket{}, srv.metrics().bosh, secure ? "https" : "http", std::move(peer),
              [this] { end("the connection was closed"); }) {
    conn_.set_idle(true);
  }

  ~bosh_session() override { answer_all_terminated("system-shutdown"); }

  // websocket_channel: what the client stream reads and writes.
  asio::awaitable<boost::system::error_code> read(http::ws_message& out) override {
    while (incoming_.empty() && !closed_) {
      wake_.expires_at(clock::time_point::max());
      co_await wake_.async_wait(no_throw);
    }
    if (incoming_.empty()) co_return asio::error::eof;
    out.data = std::move(incoming_.front());
    out.text = true;
    incoming_.pop_front();
    co_return boost::system::error_code{};
  }
  asio::awaitable<boost::system::error_code> write(std::string_view data, bool) override {
    if (data.starts_with("<open")) {
      if (auto open = xml::parse_fragment(data, "urn:ietf:params:xml:ns:xmpp-framing")) stream_id_ = open->attr("id");
    } else if (data.starts_with("<close")) {
      ended_by_stream_ = true;
    } else {
      pending_bytes_ += data.size();
      pending_.emplace_back(data);
      if (pending_bytes_ > max_pending) end("the client does not collect what is sent to it");
    }
    schedule_answer();
    co_return boost::system::error_code{};
  }
  asio::awaitable<void> close(std::uint16_t, std::string_view) override {
    end("closed");
    co_return;
  }
  const std::string& subprotocol() const override {
    static const std::string xmpp = "xmpp";
    return xmpp;
  }
  connection& conn() override { return conn_; }
  const std::string& sid() const noexcept { return sid_; }

  // The session's first request: what it says about the session, then as any other.
  void start(const xml::element& body, respond_fn respond) {
    last_rid_ = *number(body.attr("rid")) - 1;
    creating_ = true;
    feed("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='" + domain_ + "' version='1.0'/>");
    request(body, std::move(respond));
  }

  void request(const xml::element& body, respond_fn respond) {
    const auto rid = number(body.attr("rid"));
    if (!rid) return respond(400, terminate_body("bad-request"));
    if (closed_ && held_.empty() && pending_.empty()) return respond(200, terminate_body("item-not-found"));
    if (*rid <= last_rid_) {
      // A request sent again (XEP-0124 §14.3): the answer it had, if it is the last one.
      if (*rid == last_rid_ && !last_answer_.empty()) return respond(200, last_answer_);
      return respond(200, terminate_body("item-not-found"));
    }
    if (*rid > last_rid_ + requests) return respond(200, terminate_body("item-not-found"));
    waiting_[*rid] = {std::make_shared<xml::element>(body), std::move(respond)};
    // In the order of their rids, whatever order they came in.
    while (!waiting_.empty() && waiting_.begin()->first == last_rid_ + 1) {
      auto next = std::move(waiting_.begin()->second);
      waiting_.erase(waiting_.begin());
      ++last_rid_;
      handle(*next.body, std::move(next.respond));
    }
  }

  void end(std::string_view why) {
    if (closed_) return;
    closed_ = true;
    reason_ = std::string(why);
    wake_.cancel();
    inactivity_.cancel();
    schedule_answer();
  }

 private:
  struct held {
    std::uint64_t rid = 0;
    respond_fn respond;
    std::shared_ptr<asio::steady_timer> timer;
    bool creation = false;
  };
  struct queued {
    std::shared_ptr<const xml::element> body;
    respond_fn respond;
  };

  void feed(std::string frame) {
    incoming_.push_back(std::move(frame));
    wake_.cancel();
  }

  void handle(const xml::element& body, respond_fn respond) {
    if (body.attr(xbosh_restart) == "true")
      feed("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='" + domain_ + "' version='1.0'/>");
    for (const auto& child : body.children())
      if (!child.is_text()) feed(xml::to_string(child, {}));
    if (body.attr("type") == "terminate") feed("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
    held h;
    h.rid = last_rid_;
    h.respond = std::move(respond);
    h.creation = std::exchange(creating_, false);
    h.timer = std::make_shared<asio::steady_timer>(home_.context());
    h.timer->expires_after(std::chrono::seconds(wait_));
    h.timer->async_wait([weak = weak_from_this(), rid = h.rid](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!ec && self) self->answer_rid(rid);
    });
    held_.push_back(std::move(h));
    inactivity_.cancel();
    // More held than the client asked for: the oldest goes back now.
    while (held_.size() > hold_) answer_front();
    schedule_answer();
  }

  void schedule_answer() {
    if (answer_scheduled_) return;
    answer_scheduled_ = true;
    asio::post(home_.context(), [weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->answer_scheduled_ = false;
        self->answer_pending();
      }
    });
  }

  // What waits goes out on the oldest held request; the end of the stream on all of them.
  void answer_pending() {
    if (closed_ || ended_by_stream_) return answer_all_terminated(ended_by_stream_ ? "remote-stream-error" : "other-request");
    if (!pending_.empty() && !held_.empty()) answer_front();
    if (held_.empty()) arm_inactivity();
  }

  void answer_rid(std::uint64_t rid) {
    for (std::size_t i = 0; i < held_.size(); ++i)
      if (held_[i].rid == rid) {
        held h = std::move(held_[i]);
        held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
        send(h, false, {});
        if (held_.empty()) arm_inactivity();
        return;
      }
  }

  void answer_front() {
    held h = std::move(held_.front());
    held_.pop_front();
    send(h, false, {});
  }

  void answer_all_terminated(std::string_view condition) {
    while (!held_.empty()) {
      held h = std::move(held_.front());
      held_.pop_front();
      send(h, true, condition);
    }
  }

  void send(held& h, bool terminate, std::string_view condition) {
    if (h.timer) h.timer->cancel();
    std::string out = "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'";
    if (h.creation) {
      out += " sid='" + sid_ + "' wait='" + std::to_string(wait_) + "' requests='" + std::to_string(requests) +
             "' hold='" + std::to_string(hold_) + "' inactivity='" + std::to_string(inactivity) +
             "' polling='2' ver='1.11' from='";
      xml::escape(domain_, out, true);
      out += "' authid='";
      xml::escape(stream_id_, out, true);
      out += "' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'";
      if (secure_) out += " secure='true'";
    }
    if (terminate) {
      out += " type='terminate'";
      // A stream that ended with a stream error says so; one the client ended does not.
      const bool error = !pending_.empty() && pending_.front().find("stream:error") != std::string::npos;
      if (error) out += " condition='remote-stream-error'";
      else if (condition != "remote-stream-error") out += " condition='" + std::string(condition) + "'";
    }
    out += '>';
    for (auto& frame : pending_) out += frame;
    pending_.clear();
    pending_bytes_ = 0;
    out += "</body>";
    last_answer_ = out;
    h.respond(200, std::move(out));
  }

  void arm_inactivity() {
    if (closed_) return;
    inactivity_.expires_after(std::chrono::seconds(inactivity));
    inactivity_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (!ec && self && self->held_.empty()) self->end("no request within the inactivity period");
    });
  }

  shard& home_;
  std::string sid_;
  bool secure_;
  std::string domain_;
  unsigned wait_, hold_;
  asio::steady_timer wake_, inactivity_;
  connection conn_;
  std::deque<std::string> incoming_;   // frames for the client stream
  std::vector<std::string> pending_;   // frames for the client, not yet sent
  std::size_t pending_bytes_ = 0;
  std::deque<held> held_;
  std::map<std::uint64_t, queued> waiting_;  // requests that came before their predecessors
  std::uint64_t last_rid_ = 0;
  std::string last_answer_;
  std::string stream_id_;
  std::string reason_;
  bool creating_ = false, closed_ = false, ended_by_stream_ = false, answer_scheduled_ = false;
};

namespace {

asio::awaitable<void> run_bosh(server* srv, std::shared_ptr<bosh_session> session, bosh_sessions* registry) {
  co_await run_websocket_c2s(*srv, *session);
  session->end("the stream ended");
  registry->forget(session->sid());
}

std::string make_sid(unsigned shard) { return std::to_string(shard) + "." + random_id(18); }

}  // namespace

bosh_sessions::bosh_sessions(server& owner, shard& home) : owner_(owner), home_(home) {}

bosh_sessions::~bosh_sessions() {
  for (auto& [sid, s] : sessions_) s->end("the server stops");
}

void bosh_sessions::forget(const std::string& sid) { sessions_.erase(sid); }

void bosh_sessions::request(std::string text, std::string peer, bool secure, std::function<void(int, std::string)> respond) {
  // Answered once only, whatever happens to the session.
  auto once = std::make_shared<bool>(false);
  auto answer = [once, respond = std::move(respond)](int status, std::string body) {
    if (std::exchange(*once, true)) return;
    respond(status, std::move(body));
  };
  auto body = xml::parse_fragment(text, bosh_ns);
  if (!body || !body->is(bosh_ns, "body")) return answer(400, terminate_body("bad-request"));
  const std::string sid(body->attr("sid"));
  if (!sid.empty()) {
    auto it = sessions_.find(sid);
    if (it == sessions_.end()) return answer(200, terminate_body("item-not-found"));
    return it->second->request(*body, answer);
  }
  // A new session (XEP-0124 §7.1).
  const std::string domain(body->attr("to"));
  if (!number(body->attr("rid")) || domain.empty()) return answer(400, terminate_body("bad-request"));
  if (!owner_.serves(domain)) return answer(200, terminate_body("host-unknown"));
  if (sessions_.size() >= max_sessions) return answer(200, terminate_body("remote-connection-failed"));
  const unsigned wait = static_cast<unsigned>(std::clamp<std::uint64_t>(number(body->attr("wait")).value_or(max_wait), 1, max_wait));
  const unsigned hold = std::clamp<unsigned>(static_cast<unsigned>(number(body->attr("hold")).value_or(1)), 1, 1);
  const std::string new_sid = make_sid(home_.index());
  if (new_sid.empty()) return answer(500, terminate_body("internal-server-error"));
  auto session = std::make_shared<bosh_session>(owner_, home_, new_sid, std::move(peer), secure, domain, wait, hold);
  sessions_[new_sid] = session;
  session->start(*body, answer);
  asio::co_spawn(home_.context(), run_bosh(&owner_, session, this), log_failure{"xmpp bosh session"});
}

}  // namespace junction::xmpp
