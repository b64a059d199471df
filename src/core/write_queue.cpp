#include "core/write_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "core/shard.hpp"
#include "core/spawn.hpp"

namespace junction {
namespace asio = boost::asio;

write_queue::write_queue(shard& home, std::string name, write_fn write, std::function<void()> close,
                         std::size_t max_queued)
    : name_(std::move(name)), write_(std::move(write)), close_(std::move(close)), max_queued_(max_queued),
      wake_(home.context()), drained_(home.context()), loop_done_(home.context()) {}

void write_queue::spawn_loop() {
  loop_running_ = true;
  loop_done_.expires_at(asio::steady_timer::time_point::max());
  asio::co_spawn(loop_done_.get_executor(), write_loop(), [this](std::exception_ptr failure) {
    if (failure) {
      log_failure{name_.c_str()}(failure);
      stop();
    }
    loop_running_ = false;
    loop_done_.cancel();
  });
}

asio::awaitable<void> write_queue::loop_ended() {
  if (loop_running_) co_await loop_done_.async_wait(asio::as_tuple(asio::use_awaitable));
}

void write_queue::send(std::string bytes) {
  if (stopped_ || bytes.empty()) return;
  if (queued_ + bytes.size() > max_queued_) {
    log::info("{}: {} bytes wait to be written: the peer stopped reading, closing", name_, queued_);
    stop();
    return;
  }
  queued_ += bytes.size();
  // What was written goes from the front now and then, for a queue that never empties.
  if (head_ > 32 && head_ * 2 > queue_.size()) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  queue_.push_back(std::move(bytes));
  if (asleep_) wake_.cancel();
}

asio::awaitable<void> write_queue::write_loop() {
  while (!stopped_) {
    if (head_ == queue_.size()) {
      // Empty: a burst's room is kept for the next one, up to a few entries.
      if (queue_.capacity() > 8) std::vector<std::string>().swap(queue_);
      queue_.clear();
      head_ = 0;
      if (draining_) drained_.cancel();
      if (stop_when_written_) {
        stop();
        break;
      }
      asleep_ = true;
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
      asleep_ = false;
      continue;
    }
    std::string next = std::move(queue_[head_++]);
    queued_ -= next.size();
    writing_since_ = std::chrono::steady_clock::now();
    writing_ = true;
    auto ec = co_await write_(next);
    writing_ = false;
    writing_since_.reset();
    if (ec) {
      stop();
      break;
    }
  }
}

asio::awaitable<void> write_queue::drained() {
  while (!stopped_ && (head_ < queue_.size() || writing_)) {
    draining_ = true;
    drained_.expires_at(asio::steady_timer::time_point::max());
    co_await drained_.async_wait(asio::as_tuple(asio::use_awaitable));
    draining_ = false;
  }
}

void write_queue::stop_when_written() {
  stop_when_written_ = true;
  if (asleep_) wake_.cancel();
}

void write_queue::stop() {
  if (stopped_) return;
  stopped_ = true;
  wake_.cancel();
  drained_.cancel();
  if (close_) close_();
}

}  // namespace junction
