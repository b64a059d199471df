#include "junction-load/gateway_run.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "junction-load/flv_file_source.hpp"
#include "rtmp/client_protocol.hpp"

namespace junction::load {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

struct call_tally {
  bool set_up = false;
  std::string failure;
  std::uint64_t sent = 0, received = 0;
  std::vector<double> lateness_ms;  // per received frame, against the call's earliest
};

// One siprtmp client: logs in, invites the callee, publishes the audio frames at their pace,
// plays what comes back and notes when each frame arrives.
class caller {
 public:
  caller(asio::io_context& io, const gateway_options& o, const std::vector<media::frame>& audio, unsigned index)
      : io_(io), o_(o), audio_(audio), index_(index), socket_(io), pacer_(io) {}

  // Starts after `delay` (calls arrive spread out). Plain parameters only: GCC 12 destroys a
  // coroutine's by-value parameters twice when they own memory.
  asio::awaitable<void> run_after(std::chrono::milliseconds delay, call_tally* tally) {
    pacer_.expires_after(delay);
    co_await pacer_.async_wait(no_throw);
    co_await run(*tally);
  }

  asio::awaitable<void> run(call_tally& tally) {
    tally_ = &tally;
    // Each ends the other: the session by shutting the socket down, the reader by waking the
    // session's waits once the connection is gone.
    co_await (session() && reader());
    boost::system::error_code ec;
    socket_.close(ec);
  }

 private:
  asio::awaitable<void> session() {
    auto [ec] = co_await socket_.async_connect(o_.server, no_throw);
    connected_ = !ec;
    wake_.cancel();  // the reader waits for the connection
    if (ec) co_return fail("TCP connect: " + ec.message());
    socket_.set_option(asio::ip::tcp::no_delay{true});
    protocol_.start();
    const std::string user = fmt::format("{}{}@{}", o_.user_prefix, index_, o_.domain);
    const std::string app = o_.app + "/" + user;
    const media::amf::value args[] = {media::amf::value::make_string(fmt::format("{}{}", o_.user_prefix, index_)),
                                     media::amf::value::make_string(o_.password),
                                     media::amf::value::make_string("junction-load")};
    const double connect = protocol_.connect(app, fmt::format("rtmp://{}/{}", o_.server.address().to_string(), app), args);
    co_await flush();
    auto answer = co_await until([connect](const rtmp::client_event& e) {
      auto* r = std::get_if<rtmp::call_result>(&e);
      return r && r->transaction_id == connect;
    });
    if (!answer || !std::get<rtmp::call_result>(*answer).ok)
      co_return fail("login refused: " + (answer ? std::get<rtmp::call_result>(*answer).description : "closed"));
    const media::amf::value invite[] = {media::amf::value::make_string(o_.callee), media::amf::value::make_string(o_.codec)};
    protocol_.invoke("invite", invite);
    co_await flush();
    auto accepted = co_await until([](const rtmp::client_event& e) {
      auto* i = std::get_if<rtmp::server_invocation>(&e);
      return i && (i->cmd.name == "accepted" || i->cmd.name == "rejected" || i->cmd.name == "byed");
    });
    if (!accepted || std::get<rtmp::server_invocation>(*accepted).cmd.name != "accepted")
      co_return fail(accepted ? "call " + std::get<rtmp::server_invocation>(*accepted).cmd.name : "closed");
    const double publish_stream = protocol_.create_stream();
    const double play_stream = protocol_.create_stream();
    co_await flush();
    std::uint32_t publish_id = 0;
    while (!publish_id || !play_id_) {
      auto r = co_await until([&](const rtmp::client_event& e) {
        auto* c = std::get_if<rtmp::call_result>(&e);
        return c && (c->transaction_id == publish_stream || c->transaction_id == play_stream);
      });
      if (!r) co_return fail("createStream: closed");
      const auto& c = std::get<rtmp::call_result>(*r);
      (c.transaction_id == publish_stream ? publish_id : play_id_) = static_cast<std::uint32_t>(c.number.value_or(0));
    }
    protocol_.publish(publish_id, "local");
    protocol_.play(play_id_, "remote");
    co_await flush();
    tally_->set_up = true;
    // The audio at its own pace, looped: one frame per timestamp step.
    const auto start = clock::now();
    const auto end = start + o_.duration;
    std::uint32_t base = 0, ts = 0;
    for (std::size_t i = 0; clock::now() < end; ++i) {
      const auto& f = audio_[i % audio_.size()];
      if (i % audio_.size() == 0 && i) base = ts + 20;
      ts = base + f.timestamp;
      pacer_.expires_at(start + std::chrono::milliseconds(ts));
      co_await pacer_.async_wait(no_throw);
      if (closed_) co_return;
      protocol_.send_media(publish_id, rtmp::message_type::audio, ts, f.payload);
      ++tally_->sent;
      co_await flush();
    }
    protocol_.invoke("bye", {});
    co_await flush();
    // What is still on its way comes back within a moment.
    pacer_.expires_after(std::chrono::milliseconds(500));
    co_await pacer_.async_wait(no_throw);
    closed_ = true;
    boost::system::error_code shut;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, shut);
  }

  // Feeds the protocol core and keeps what comes back on `remote`.
  asio::awaitable<void> reader() {
    std::vector<std::byte> buffer(64 * 1024);
    std::vector<rtmp::client_event> events;
    while (!connected_ && !closed_) {
      wake_.expires_after(std::chrono::seconds(15));
      co_await wake_.async_wait(no_throw);
    }
    while (!closed_) {
      auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buffer), no_throw);
      if (ec) {
        closed_ = true;
        break;
      }
      const auto now = clock::now();
      events.clear();
      auto fed = protocol_.feed(std::span{buffer.data(), n}, events);
      if (fed.error) {
        closed_ = true;
        break;
      }
      for (auto& e : events) {
        if (auto* m = std::get_if<rtmp::incoming_media>(&e);
            m && play_id_ && m->m.stream_id == play_id_ && m->m.kind() == rtmp::message_type::audio) {
          ++tally_->received;
          // Arrival against the frame's timestamp: what is left once the constant delay (the
          // smallest) is taken away is how late the frame was.
          const double offset = std::chrono::duration<double, std::milli>(now - start_).count() -
                                static_cast<double>(static_cast<std::int32_t>(m->m.timestamp));
          offsets_.push_back(offset);
          continue;
        }
        waiting_.push_back(std::move(e));
      }
      if (protocol_.has_output()) co_await flush();
      wake_.cancel();
    }
    wake_.cancel();
    pacer_.cancel();
    if (!offsets_.empty()) {
      const double earliest = *std::min_element(offsets_.begin(), offsets_.end());
      for (double o : offsets_) tally_->lateness_ms.push_back(o - earliest);
    }
  }

  // The first event (waiting, or read later) that `wanted` picks; nothing when closed first.
  template <class Wanted>
  asio::awaitable<std::optional<rtmp::client_event>> until(Wanted wanted) {
    const auto deadline = clock::now() + std::chrono::seconds(15);
    while (!closed_ && clock::now() < deadline) {
      for (auto it = waiting_.begin(); it != waiting_.end(); ++it)
        if (wanted(*it)) {
          auto e = std::move(*it);
          waiting_.erase(waiting_.begin(), it + 1);
          co_return e;
        }
      wake_.expires_at(deadline);
      co_await wake_.async_wait(no_throw);
    }
    co_return std::nullopt;
  }

  asio::awaitable<void> flush() {
    if (!protocol_.has_output()) co_return;
    auto bytes = protocol_.take_output();
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), no_throw);
    if (ec) closed_ = true;
  }

  void fail(std::string why) {
    tally_->failure = std::move(why);
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }

  asio::io_context& io_;
  const gateway_options& o_;
  const std::vector<media::frame>& audio_;
  unsigned index_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer pacer_, wake_{io_};
  rtmp::client_protocol protocol_;
  std::vector<rtmp::client_event> waiting_;
  call_tally* tally_ = nullptr;
  std::uint32_t play_id_ = 0;
  std::vector<double> offsets_;
  clock::time_point start_ = clock::now();
  bool closed_ = false, connected_ = false;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int run_gateway_load(const gateway_options& o) {
  std::string why;
  auto file = load_flv_file(o.source, &why);
  if (!file) {
    std::fprintf(stderr, "junction-load: %s: %s\n", o.source.c_str(), why.c_str());
    return 2;
  }
  std::vector<media::frame> audio;
  for (const auto& f : file->body)
    if (f.is_audio() && !f.config) audio.push_back(f);
  if (audio.empty()) {
    std::fprintf(stderr, "junction-load: %s has no audio\n", o.source.c_str());
    return 2;
  }
  const std::uint32_t first = audio.front().timestamp;
  for (auto& f : audio) f.timestamp -= first;

  asio::io_context io{1};
  std::vector<call_tally> tallies(o.calls);
  std::vector<std::unique_ptr<caller>> callers;
  for (unsigned i = 0; i < o.calls; ++i) {
    callers.push_back(std::make_unique<caller>(io, o, audio, o.first_user + i));
    const auto delay = std::chrono::milliseconds(i * 1000 / std::max(1u, o.ramp));
    asio::co_spawn(io, callers.back()->run_after(delay, &tallies[i]), asio::detached);
  }
  io.run();

  unsigned set_up = 0;
  std::uint64_t sent = 0, received = 0, late = 0;
  std::vector<double> lateness;
  boost::json::array failures;
  for (auto& t : tallies) {
    set_up += t.set_up;
    if (!t.failure.empty() && failures.size() < 5) failures.push_back(boost::json::string{t.failure});
    if (!t.set_up) continue;
    sent += t.sent;
    received += t.received;
    for (double l : t.lateness_ms) {
      lateness.push_back(l);
      if (l > o.late_ms) ++late;
    }
  }
  const double loss = sent ? 1.0 - static_cast<double>(received) / static_cast<double>(sent) : 1.0;
  boost::json::object report{{"calls", o.calls},
                             {"set_up", set_up},
                             {"frames_sent", sent},
                             {"frames_received", received},
                             {"loss", loss},
                             {"late_frames", late},
                             {"late_fraction", received ? static_cast<double>(late) / static_cast<double>(received) : 0.0},
                             {"late_ms", o.late_ms},
                             {"lateness_p50_ms", percentile(lateness, 0.50)},
                             {"lateness_p99_ms", percentile(lateness, 0.99)},
                             {"failures", failures}};
  std::printf("%s\n", boost::json::serialize(report).c_str());
  return set_up == o.calls ? 0 : 1;
}

}  // namespace junction::load
