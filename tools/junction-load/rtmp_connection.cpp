#include "junction-load/rtmp_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace junction::load {

namespace asio = boost::asio;
namespace {
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
// 4 KiB holds a player's usual read; a read that fills it (a stream at several Mbit/s, a burst
// from a GOP cache) switches to 16 KiB, which keeps reads per frame near one.
constexpr std::size_t small_read_buffer = 4 * 1024;
constexpr std::size_t large_read_buffer = 16 * 1024;
}

rtmp_connection::rtmp_connection(load_shard& shard, rtmp::client_protocol_options options)
    : shard_{shard},
      socket_{shard.home().context()},
      deadline_{shard.home().context(), clock::time_point::max()},
      protocol_{std::move(options)},
      read_buffer_(small_read_buffer) {}

asio::awaitable<void> rtmp_connection::watchdog() {
  while (!closed_) {
    co_await deadline_.async_wait(no_throw);
    if (closed_) break;
    // Woken by a new deadline (the wait was cancelled) or by this one passing.
    if (clock::now() >= deadline_.expiry()) {
      timed_out_ = true;
      close();
    }
  }
}

void rtmp_connection::set_deadline(std::chrono::milliseconds from_now) {
  if (!closed_) deadline_.expires_after(from_now);
}

void rtmp_connection::clear_deadline() {
  if (!closed_) deadline_.expires_at(clock::time_point::max());
}

void rtmp_connection::close() noexcept {
  if (closed_) return;
  closed_ = true;
  deadline_.cancel();
  boost::system::error_code ignored;
  // A connected socket is shut down, not closed: whatever the session awaits on it completes
  // (as Junction's sessions are closed from outside), and the descriptor goes with the object.
  // A connect in progress is not ended by shutdown(): that one is closed.
  if (connected_) socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  else socket_.close(ignored);
}

asio::awaitable<std::error_code> rtmp_connection::open(const asio::ip::tcp::endpoint& server) {
  connect_started_ = clock::now();
  auto [ec] = co_await socket_.async_connect(server, no_throw);
  if (closed_) co_return std::make_error_code(std::errc::timed_out);
  if (ec) co_return last_error_ = ec;
  connected_ = true;
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay{true}, ignored);
  co_return std::error_code{};
}

asio::awaitable<std::error_code> rtmp_connection::handshake() {
  protocol_.start();
  if (auto ec = co_await flush()) co_return ec;
  // Named, not temporaries in the co_await expression: GCC 12 mishandles non-trivial
  // temporaries there (see src/rtmp/session.cpp).
  const std::function<bool(const rtmp::client_event&)> complete = [](const rtmp::client_event& e) {
    return std::holds_alternative<rtmp::handshake_complete>(e);
  };
  const std::function<void(rtmp::client_event&)> ignore = [](rtmp::client_event&) {};
  auto done = co_await wait_for(complete, ignore);
  if (!done) co_return last_error_ ? last_error_ : std::make_error_code(std::errc::connection_aborted);
  co_return co_await flush();  // C2, and our Set Chunk Size behind it
}

asio::awaitable<std::error_code> rtmp_connection::read_events(std::vector<rtmp::client_event>& events) {
  if (!leftover_.empty()) {
    for (auto& e : leftover_) events.push_back(std::move(e));
    leftover_.clear();
    co_return std::error_code{};
  }
  if (closed_) co_return std::make_error_code(std::errc::operation_canceled);
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(read_buffer_), no_throw);
  if (ec) co_return last_error_ = ec;
  if (closed_) co_return std::make_error_code(std::errc::operation_canceled);
  bytes_read_ += n;
  const bool grow = n == read_buffer_.size() && read_buffer_.size() < large_read_buffer;
  auto fed = protocol_.feed(std::span{read_buffer_}.first(n), events);
  if (grow) read_buffer_.resize(large_read_buffer);
  if (fed.error) co_return last_error_ = fed.error;
  co_return std::error_code{};
}

asio::awaitable<std::error_code> rtmp_connection::flush() {
  // One write at a time: a second caller finds the first still busy, and its bytes (queued in
  // the core) go out with the first caller's next round.
  if (write_busy_) co_return std::error_code{};
  write_busy_ = true;
  std::error_code result;
  while (protocol_.has_output() && !closed_) {
    writing_ = protocol_.take_output();
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(writing_), no_throw);
    bytes_written_ += n;
    if (ec) {
      result = last_error_ = ec;
      break;
    }
  }
  write_busy_ = false;
  co_return result;
}

asio::awaitable<std::optional<rtmp::client_event>> rtmp_connection::wait_for(
    const std::function<bool(const rtmp::client_event&)>& wanted,
    const std::function<void(rtmp::client_event&)>& others) {
  if (auto ec = co_await flush()) co_return std::nullopt;  // the request that is to be answered
  std::vector<rtmp::client_event> events;
  for (;;) {
    events.clear();
    if (auto ec = co_await read_events(events)) co_return std::nullopt;
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (!wanted(events[i])) {
        others(events[i]);
        continue;
      }
      for (std::size_t j = i + 1; j < events.size(); ++j) leftover_.push_back(std::move(events[j]));
      auto found = std::move(events[i]);
      if (auto ec = co_await flush()) co_return std::nullopt;
      co_return found;
    }
    if (auto ec = co_await flush()) co_return std::nullopt;
  }
}

asio::awaitable<rtmp_connection::stream_setup> rtmp_connection::open_stream(
    const std::function<void(rtmp::client_event&)>& others) {
  using failure = stream_setup::failure;
  const run_plan& plan = shard_.plan();
  const auto step = plan.options.step_timeout;
  stream_setup result;
  const auto failed = [&](failure f, std::string why) {
    result.failed = f;
    result.why = std::move(why);
    close();
    return result;
  };

  set_deadline(step);
  if (auto ec = co_await open(plan.server))
    co_return failed(failure::connect, timed_out_ ? "timed out" : ec.message());
  set_deadline(step);
  if (auto ec = co_await handshake())
    co_return failed(failure::handshake, timed_out_ ? "timed out" : ec.message());

  // connect, then createStream, each answered by a _result or an _error.
  double transaction = 0;
  const std::function<bool(const rtmp::client_event&)> answer = [&](const rtmp::client_event& e) {
    return is_answer(e, transaction);
  };
  set_deadline(step);
  transaction = protocol_.connect(plan.options.url.app, plan.options.url.tc_url());
  auto connected = co_await wait_for(answer, others);
  if (!connected) co_return failed(failure::refused, timed_out_ ? "connect: no answer" : "connect: closed");
  if (const auto* r = as_call_result(*connected); !r->ok)
    co_return failed(failure::refused, "connect: " + r->code + " " + r->description);

  set_deadline(step);
  transaction = protocol_.create_stream();
  auto created = co_await wait_for(answer, others);
  if (!created) co_return failed(failure::refused, timed_out_ ? "createStream: no answer" : "createStream: closed");
  const auto* r = as_call_result(*created);
  if (!r->ok || !r->number) co_return failed(failure::refused, "createStream: " + r->code + " " + r->description);
  result.stream_id = static_cast<std::uint32_t>(*r->number);
  co_return result;
}

bool is_answer(const rtmp::client_event& e, double transaction_id) noexcept {
  const auto* r = as_call_result(e);
  return r && r->transaction_id == transaction_id;
}

const rtmp::call_result* as_call_result(const rtmp::client_event& e) noexcept {
  return std::get_if<rtmp::call_result>(&e);
}

const rtmp::stream_status* as_status(const rtmp::client_event& e) noexcept {
  return std::get_if<rtmp::stream_status>(&e);
}

}  // namespace junction::load
