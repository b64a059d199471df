#include "junction-load/xmpp_run.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "core/base64.hpp"
#include "core/byte_stream.hpp"
#include "xml/element.hpp"
#include "xml/stream_parser.hpp"

namespace junction::load {
namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

std::int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count(); }

// What every thread shares: when messaging starts and stops (set by the controller).
struct shared_run {
  std::atomic<unsigned> logins_done{0};
  std::atomic<std::int64_t> messaging_start{0}, messaging_end{0};
  std::atomic<bool> closing{false};
};

// One thread's results.
struct tally {
  unsigned logged_in = 0, failed = 0;
  std::vector<std::string> failures;
  std::vector<double> login_ms, latency_ms;
  std::uint64_t sent = 0, received = 0, sent_bytes = 0;
};

// SCRAM (RFC 5802, RFC 7677), the client's side.
struct scram_client {
  const EVP_MD* md;
  std::string password, nonce, first_bare, auth_message;
  std::vector<unsigned char> salted;

  std::string first(const std::string& user) {
    unsigned char bytes[18];
    RAND_bytes(bytes, sizeof bytes);
    nonce = base64::encode({reinterpret_cast<const char*>(bytes), sizeof bytes});
    first_bare = "n=" + user + ",r=" + nonce;
    return "n,," + first_bare;
  }
  std::string hmac(const std::vector<unsigned char>& key, std::string_view data) const {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
    return {reinterpret_cast<char*>(out), n};
  }
  // The client-final-message for the server-first-message, or "" when it is not one.
  std::string final(const std::string& server_first) {
    std::string r, s;
    int iterations = 0;
    for (std::size_t at = 0; at < server_first.size();) {
      const auto end = std::min(server_first.find(',', at), server_first.size());
      const std::string_view part(server_first.data() + at, end - at);
      if (part.starts_with("r=")) r = part.substr(2);
      else if (part.starts_with("s=")) s = part.substr(2);
      else if (part.starts_with("i=")) std::from_chars(part.data() + 2, part.data() + part.size(), iterations);
      at = end + 1;
    }
    auto salt = base64::decode(s);
    if (!r.starts_with(nonce) || !salt || iterations <= 0) return {};
    salted.resize(EVP_MD_size(md));
    PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), reinterpret_cast<const unsigned char*>(salt->data()),
                      static_cast<int>(salt->size()), iterations, md, static_cast<int>(salted.size()), salted.data());
    const std::string without_proof = "c=biws,r=" + r;
    auth_message = first_bare + "," + server_first + "," + without_proof;
    const std::string client_key = hmac(salted, "Client Key");
    unsigned char stored[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(client_key.data(), client_key.size(), stored, &n, md, nullptr);
    const std::string signature = hmac(std::vector<unsigned char>(stored, stored + n), auth_message);
    std::string proof = client_key;
    for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<char>(proof[i] ^ signature[i]);
    return without_proof + ",p=" + base64::encode(proof);
  }
  bool server_final_ok(const std::string& server_final) const {
    const std::string key = hmac(salted, "Server Key");
    const std::string expected = "v=" + base64::encode(hmac(std::vector<unsigned char>(key.begin(), key.end()), auth_message));
    return server_final == expected;
  }
};

class xmpp_user {
 public:
  xmpp_user(asio::io_context& io, const xmpp_options& o, shared_run& run, tally& t, asio::ssl::context* tls,
            unsigned index, unsigned users)
      : io_(io), o_(o), run_(run), t_(t), tls_(tls), index_(index), users_(users), timer_(io), wake_(io) {}

  // Plain parameters only (GCC 12 and owning coroutine parameters).
  asio::awaitable<void> run_after(std::chrono::milliseconds delay) {
    timer_.expires_after(delay);
    co_await timer_.async_wait(no_throw);
    const auto started = clock::now();
    const bool in = co_await log_in();
    run_.logins_done.fetch_add(1);
    if (!in) co_return;
    ++t_.logged_in;
    t_.login_ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - started).count());
    reading_ = true;
    asio::co_spawn(io_, reader(), asio::detached);
    co_await chat();
  }

 private:
  asio::awaitable<bool> log_in() {
    asio::ip::tcp::socket socket(io_);
    auto [ec] = co_await socket.async_connect(o_.server, no_throw);
    if (ec) co_return fail("connect: " + ec.message());
    socket.set_option(asio::ip::tcp::no_delay{true});
    stream_ = make_plain_stream(std::move(socket));
    if (!co_await open()) co_return false;
    if (o_.tls) {
      co_await write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      auto proceed = co_await next();
      if (!proceed || proceed->name() != "proceed") co_return fail("STARTTLS refused");
      auto s = std::move(stream_->socket());
      stream_ = make_tls_client_stream(std::move(s), *tls_, o_.domain);
      if (auto e = co_await stream_->handshake()) co_return fail("TLS: " + e.message());
      parser_.reset();
      if (!co_await open()) co_return false;
    }
    std::string mechanism = o_.mechanism;
    if (features_.find(">" + mechanism + "<") == std::string::npos) {
      if (features_.find(">SCRAM-SHA-1<") == std::string::npos) co_return fail("no SCRAM mechanism offered");
      mechanism = "SCRAM-SHA-1";
    }
    scram_client scram{mechanism == "SCRAM-SHA-1" ? EVP_sha1() : EVP_sha256(), o_.password, {}, {}, {}, {}};
    const std::string user = fmt::format("{}{}", o_.user_prefix, index_);
    co_await write("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + mechanism + "'>" +
                   base64::encode(scram.first(user)) + "</auth>");
    auto challenge = co_await next();
    if (!challenge || challenge->name() != "challenge") co_return fail("SASL: no challenge");
    auto server_first = base64::decode(challenge->text());
    const std::string final = server_first ? scram.final(*server_first) : std::string{};
    if (final.empty()) co_return fail("SASL: bad challenge");
    co_await write("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64::encode(final) + "</response>");
    auto success = co_await next();
    if (!success || success->name() != "success") co_return fail("SASL: " + (success ? success->name() : std::string("closed")));
    auto server_final = base64::decode(success->text());
    if (!server_final || !scram.server_final_ok(*server_final)) co_return fail("SASL: the server's signature is wrong");
    parser_.restart();
    if (!co_await open()) co_return false;
    co_await write("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>load</resource></bind></iq>");
    auto bound = co_await next();
    if (!bound || bound->attr("type") != "result") co_return fail("bind refused");
    co_await write("<presence/>");
    co_return true;
  }

  asio::awaitable<bool> open() {
    co_await write("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='" +
                   o_.domain + "' version='1.0'>");
    bool opened = false;
    while (!opened) {
      auto e = co_await read_event();
      if (!e) co_return fail("closed during the stream header");
      opened = e->what == xml::stream_event::kind::open;
    }
    auto features = co_await next();
    if (!features || features->name() != "features") co_return fail("no stream features");
    features_ = xml::to_string(*features);
    co_return true;
  }

  // The next element (stanzas the server pushes on its own, such as presence, are skipped).
  asio::awaitable<std::optional<xml::element>> next() {
    for (;;) {
      auto e = co_await read_event();
      if (!e || e->what != xml::stream_event::kind::stanza) co_return std::nullopt;
      if (e->node.name() == "presence" || e->node.name() == "message" ||
          (e->node.name() == "iq" && e->node.attr("type") == "set"))
        continue;
      co_return std::move(e->node);
    }
  }

  asio::awaitable<std::optional<xml::stream_event>> read_event() {
    for (;;) {
      if (auto e = parser_.next()) {
        if (e->what == xml::stream_event::kind::error || e->what == xml::stream_event::kind::close) co_return std::nullopt;
        co_return e;
      }
      auto [ec, n] = co_await stream_->read_some(buffer_);
      if (ec || n == 0) co_return std::nullopt;
      parser_.feed(std::string_view(reinterpret_cast<const char*>(buffer_.data()), n));
    }
  }

  asio::awaitable<void> write(std::string text) {
    if (broken_) co_return;
    asio::const_buffer b(text.data(), text.size());
    auto [ec, n] = co_await stream_->write(std::span<const asio::const_buffer>(&b, 1));
    if (ec) broken_ = true;
  }

  // After login: everything that comes is counted; messages carry their send time.
  asio::awaitable<void> reader() {
    for (;;) {
      auto e = co_await read_event();
      if (!e) break;
      if (e->node.name() != "message" || e->node.attr("type") == "error") continue;
      const std::string body = e->node.child_text("jabber:client", "body");
      std::int64_t sent = 0;
      const auto space = body.find(' ');
      if (space == std::string::npos) continue;
      std::from_chars(body.data(), body.data() + space, sent);
      ++t_.received;
      t_.latency_ms.push_back(static_cast<double>(now_ns() - sent) / 1e6);
    }
    reading_ = false;
  }

  // Messages at this user's share of the rate, to the others in turn, while messaging lasts.
  asio::awaitable<void> chat() {
    while (run_.messaging_start.load() == 0 && !run_.closing.load()) {
      timer_.expires_after(std::chrono::milliseconds(20));
      co_await timer_.async_wait(no_throw);
    }
    const double per_user = o_.rate / users_;
    if (per_user > 0 && users_ > 1) {
      const auto interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / per_user));
      // Spread over the first interval, so that the users do not all send at once.
      auto at = clock::time_point(std::chrono::nanoseconds(run_.messaging_start.load())) +
                std::chrono::duration_cast<std::chrono::nanoseconds>(interval * (static_cast<double>(index_ % 997) / 997.0));
      const auto end = clock::time_point(std::chrono::nanoseconds(run_.messaging_end.load()));
      const std::string to_prefix = o_.user_prefix;
      for (std::uint64_t n = 0; at < end && !broken_; ++n, at += interval) {
        timer_.expires_at(at);
        co_await timer_.async_wait(no_throw);
        const unsigned peer = o_.first_user + (index_ - o_.first_user + 1 + n % (users_ - 1)) % users_;
        std::string body = std::to_string(now_ns()) + " " + std::to_string(index_) + " ";
        if (body.size() < o_.body_size) body.append(o_.body_size - body.size(), 'x');
        std::string stanza = "<message type='chat' to='" + to_prefix + std::to_string(peer) + "@" + o_.domain +
                             "'><body>" + body + "</body></message>";
        t_.sent_bytes += stanza.size();
        co_await write(std::move(stanza));
        if (!broken_) ++t_.sent;
      }
    }
    while (!run_.closing.load()) {
      timer_.expires_after(std::chrono::milliseconds(50));
      co_await timer_.async_wait(no_throw);
    }
    co_await write("</stream:stream>");
    for (int i = 0; i < 40 && reading_; ++i) {
      timer_.expires_after(std::chrono::milliseconds(50));
      co_await timer_.async_wait(no_throw);
    }
    stream_->shutdown();
  }

  bool fail(std::string why) {
    ++t_.failed;
    if (t_.failures.size() < 5) t_.failures.push_back(fmt::format("user {}: {}", index_, why));
    if (stream_) stream_->shutdown();
    return false;
  }

  asio::io_context& io_;
  const xmpp_options& o_;
  shared_run& run_;
  tally& t_;
  asio::ssl::context* tls_;
  unsigned index_, users_;
  asio::steady_timer timer_, wake_;
  std::unique_ptr<byte_stream> stream_;
  xml::stream_parser parser_{{.max_stanza_bytes = 1 << 20, .max_depth = 64, .max_attributes = 64}};
  std::array<std::byte, 16384> buffer_;
  std::string features_;
  bool broken_ = false, reading_ = false;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

void say(const char* event) {
  std::printf("{\"event\":\"%s\"}\n", event);
  std::fflush(stdout);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int run_xmpp_load(const xmpp_options& o) {
  if (o.users == 0 || o.threads == 0) return 2;
  auto tls = make_tls_client_context();
  shared_run run;
  const unsigned threads = std::min(o.threads, o.users);
  std::vector<tally> tallies(threads);
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::vector<std::unique_ptr<xmpp_user>>> users(threads);
  for (unsigned t = 0; t < threads; ++t) ios.push_back(std::make_unique<asio::io_context>(1));
  const auto login_start = clock::now();
  for (unsigned i = 0; i < o.users; ++i) {
    const unsigned t = i % threads;
    users[t].push_back(std::make_unique<xmpp_user>(*ios[t], o, run, tallies[t], tls.get(), o.first_user + i, o.users));
    const auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(i) * 1000 / std::max(1u, o.ramp));
    asio::co_spawn(*ios[t], users[t].back()->run_after(delay), asio::detached);
  }
  std::vector<std::thread> loops;
  for (unsigned t = 0; t < threads; ++t) loops.emplace_back([&io = *ios[t]] { io.run(); });

  // Logins: all of them (or a minute without progress).
  unsigned seen = 0;
  auto progress = clock::now();
  while (run.logins_done.load() < o.users) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (run.logins_done.load() != seen) {
      seen = run.logins_done.load();
      progress = clock::now();
    } else if (clock::now() - progress > std::chrono::seconds(60)) {
      break;
    }
  }
  const double login_seconds = std::chrono::duration<double>(clock::now() - login_start).count();
  say("logged_in");
  std::this_thread::sleep_for(o.idle);
  const auto start = clock::now() + std::chrono::milliseconds(200);
  run.messaging_end.store((start + o.duration).time_since_epoch().count());
  run.messaging_start.store(start.time_since_epoch().count());
  say("messaging");
  const double cpu_before = cpu_seconds();
  std::this_thread::sleep_until(start + o.duration + std::chrono::seconds(2));  // what is on its way arrives
  const double cpu_messaging = cpu_seconds() - cpu_before;
  say("messaging_done");
  run.closing.store(true);
  for (auto& l : loops) l.join();

  tally all;
  for (auto& t : tallies) {
    all.logged_in += t.logged_in;
    all.failed += t.failed;
    for (auto& f : t.failures)
      if (all.failures.size() < 5) all.failures.push_back(f);
    all.login_ms.insert(all.login_ms.end(), t.login_ms.begin(), t.login_ms.end());
    all.latency_ms.insert(all.latency_ms.end(), t.latency_ms.begin(), t.latency_ms.end());
    all.sent += t.sent;
    all.received += t.received;
    all.sent_bytes += t.sent_bytes;
  }
  namespace json = boost::json;
  const double seconds = std::chrono::duration<double>(o.duration).count();
  json::object report{
      {"users", o.users},
      {"tls", o.tls},
      {"mechanism", o.mechanism},
      {"logins", json::object{{"ok", all.logged_in},
                              {"failed", all.failed},
                              {"seconds", login_seconds},
                              {"per_second", login_seconds > 0 ? all.logged_in / login_seconds : 0.0},
                              {"latency_ms_p50", percentile(all.login_ms, 0.5)},
                              {"latency_ms_p99", percentile(all.login_ms, 0.99)}}},
      {"messages", json::object{{"sent", all.sent},
                                {"received", all.received},
                                {"lost", all.sent > all.received ? all.sent - all.received : 0},
                                {"per_second", seconds > 0 ? all.sent / seconds : 0.0},
                                {"latency_ms_p50", percentile(all.latency_ms, 0.5)},
                                {"latency_ms_p99", percentile(all.latency_ms, 0.99)},
                                {"latency_ms_max", all.latency_ms.empty() ? 0.0
                                                                          : *std::max_element(all.latency_ms.begin(),
                                                                                              all.latency_ms.end())}}},
      {"load_cpu_seconds_messaging", cpu_messaging},
  };
  json::array failures;
  for (auto& f : all.failures) failures.emplace_back(f);
  report["failures"] = std::move(failures);
  std::printf("%s\n", json::serialize(report).c_str());
  std::fflush(stdout);
  if (all.logged_in == 0) return 1;
  return all.failed == 0 && all.received >= all.sent ? 0 : 3;
}

}  // namespace junction::load
