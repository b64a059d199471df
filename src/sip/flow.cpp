#include "sip/flow.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"

#include <algorithm>

namespace junction::sip {
namespace asio = boost::asio;

std::string_view transport_name(transport t) noexcept {
  switch (t) {
    case transport::udp: return "UDP";
    case transport::tcp: return "TCP";
    case transport::tls: return "TLS";
    case transport::ws: return "WS";
    case transport::wss: return "WSS";
  }
  return "UDP";
}

std::string_view transport_token(transport t) noexcept {
  switch (t) {
    case transport::udp: return "udp";
    case transport::tcp: return "tcp";
    case transport::tls: return "tls";
    case transport::ws: return "ws";
    case transport::wss: return "wss";
  }
  return "udp";
}

std::optional<transport> transport_from_token(std::string_view token) noexcept {
  for (auto t : {transport::udp, transport::tcp, transport::tls, transport::ws, transport::wss}) {
    const auto name = transport_token(t);
    if (token.size() == name.size() &&
        std::equal(token.begin(), token.end(), name.begin(), [](char a, char b) { return (a | 0x20) == b; }))
      return t;
  }
  return std::nullopt;
}

flow::flow(shard& home, std::uint64_t id, transport kind, write_fn write, std::function<void()> close,
           std::size_t max_queued)
    : id_(id), kind_(kind), write_(std::move(write)), close_(std::move(close)),
      max_queued_(max_queued), wake_(home.context()) {}

void flow::send(std::string bytes) {
  if (stopped_) return;
  if (queued_ + bytes.size() > max_queued_) {
    log::info("sip flow {}: {} bytes wait to be written: the peer stopped reading, closing", id_, queued_);
    stop();
    return;
  }
  queued_ += bytes.size();
  queue_.push_back(std::move(bytes));
  if (asleep_) wake_.cancel();
}

asio::awaitable<void> flow::write_loop() {
  while (!stopped_) {
    if (queue_.empty()) {
      asleep_ = true;
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
      asleep_ = false;
      continue;
    }
    std::string next = std::move(queue_.front());
    queue_.pop_front();
    queued_ -= next.size();
    writing_since_ = std::chrono::steady_clock::now();
    auto ec = co_await write_(next);
    writing_since_.reset();
    if (ec) {
      stop();
      break;
    }
  }
}

void flow::stop() {
  if (stopped_) return;
  stopped_ = true;
  wake_.cancel();
  if (close_) close_();
}

}  // namespace junction::sip
