#include "rtmp/vod_player.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/shard.hpp"
#include "core/worker_pool.hpp"
#include "media/shard_frame.hpp"
#include "rtmp/player.hpp"
#include "rtmp/server_protocol.hpp"

namespace junction::rtmp {
namespace {

namespace asio = boost::asio;
constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);
constexpr auto lead = std::chrono::milliseconds(1000);  // sent ahead of the clock, for the client's buffer
constexpr std::uint32_t max_tag = 16 << 20;

std::uint32_t u24(const std::uint8_t* p) { return std::uint32_t(p[0]) << 16 | std::uint32_t(p[1]) << 8 | p[2]; }
// One read-ahead: this many tags or this many bytes, whichever comes first.
constexpr std::size_t batch_tags = 64;
constexpr std::size_t batch_bytes = 1 << 20;

// The tag at `offset` (audio, video or script data); nothing at the end or at a torn tag. On a
// worker.
std::optional<vod_player::tag> read_tag(int fd, std::uint64_t offset) {
  std::array<std::uint8_t, 11> h{};
  if (::pread(fd, h.data(), 11, static_cast<off_t>(offset)) != 11) return std::nullopt;
  const std::uint32_t size = u24(h.data() + 1);
  const std::uint32_t ts = u24(h.data() + 4) | std::uint32_t(h[7]) << 24;
  if (size > max_tag) return std::nullopt;
  bool complete = true;
  auto body = shared_buffer::build(size, [&](std::span<std::byte> out) {
    complete = ::pread(fd, out.data(), size, static_cast<off_t>(offset + 11)) == static_cast<ssize_t>(size);
  });
  const auto type = h[0] & 0x1F;
  if (!complete || (type != 8 && type != 9 && type != 18)) return std::nullopt;
  return vod_player::tag{offset, offset + 11 + size + 4,
                         media::make_frame(static_cast<media::track>(type), ts, std::move(body))};
}

// Tags from `offset` on, a batch of them. On a worker.
std::vector<vod_player::tag> read_batch(int fd, std::uint64_t offset) {
  std::vector<vod_player::tag> out;
  std::size_t bytes = 0;
  while (out.size() < batch_tags && bytes < batch_bytes) {
    auto t = read_tag(fd, offset);
    if (!t) break;
    offset = t->next;
    bytes += t->frame.payload.size();
    out.push_back(std::move(*t));
  }
  return out;
}

}  // namespace

std::optional<flv_index> flv_index::build(int fd, std::uint64_t size) {
  std::array<std::uint8_t, 13> head{};
  if (size < 13 || ::pread(fd, head.data(), 13, 0) != 13 || head[0] != 'F' || head[1] != 'L' || head[2] != 'V')
    return std::nullopt;
  flv_index index;
  const std::uint32_t header_size = std::uint32_t(head[5]) << 24 | u24(head.data() + 6);
  index.first_tag = header_size + 4;
  bool video = false;
  std::vector<entry> audio_points;
  for (std::uint64_t at = index.first_tag; at + 11 <= size;) {
    std::array<std::uint8_t, 13> t{};
    if (::pread(fd, t.data(), 13, static_cast<off_t>(at)) < 11) break;
    const std::uint8_t type = t[0] & 0x1F;
    const std::uint32_t body = u24(t.data() + 1);
    const std::uint32_t ts = u24(t.data() + 4) | std::uint32_t(t[7]) << 24;
    if (body > max_tag || at + 11 + body > size) break;  // a torn last tag (a recording cut short)
    if (type == 18) {
      index.config_tags.push_back(at);
    } else if (type == 9 && body >= 2) {
      video = true;
      const bool avc_config = (t[11] & 0x0F) == 7 && t[12] == 0;
      if (avc_config) index.config_tags.push_back(at);
      else if ((t[11] >> 4) == 1) index.seek_points.push_back({at, ts});
    } else if (type == 8 && body >= 2) {
      const bool aac_config = (t[11] >> 4) == 10 && t[12] == 0;
      if (aac_config) index.config_tags.push_back(at);
      else audio_points.push_back({at, ts});
    }
    if (type == 8 || type == 9) index.duration_ms = std::max(index.duration_ms, ts);
    at += 11 + body + 4;
  }
  if (!video) index.seek_points = std::move(audio_points);
  return index;
}

flv_index::entry flv_index::seek_point(double position_ms) const {
  if (seek_points.empty()) return {first_tag, 0};
  entry best = seek_points.front();
  for (const auto& e : seek_points)
    if (e.timestamp <= position_ms) best = e;
    else break;
  return best;
}

asio::awaitable<std::shared_ptr<vod_player>> vod_player::open(junction::shard& home, player_host& host,
                                                             std::uint32_t stream_id, std::string name,
                                                             const std::string& path, worker_pool& workers) {
  const auto worker = workers.assign();
  struct opened {
    int fd = -1;
    std::optional<flv_index> index;
  };
  auto file = co_await on_worker(workers, worker, [&path] {
    opened o;
    o.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (o.fd < 0) return o;
    struct stat st {};
    if (::fstat(o.fd, &st) == 0) o.index = flv_index::build(o.fd, static_cast<std::uint64_t>(st.st_size));
    if (!o.index) {
      ::close(o.fd);
      o.fd = -1;
    }
    return o;
  });
  if (file.fd < 0) {
    workers.release(worker);
    co_return nullptr;
  }
  auto player = std::shared_ptr<vod_player>(
      new vod_player(home, host, stream_id, std::move(name), file.fd, std::move(*file.index), workers));
  player->worker_ = worker;
  co_return player;
}

vod_player::vod_player(junction::shard& home, player_host& host, std::uint32_t stream_id, std::string name, int fd,
                       flv_index index, worker_pool& workers)
    : home_(home), host_(host), stream_id_(stream_id), name_(std::move(name)), fd_(fd), index_(std::move(index)),
      workers_(workers), worker_(0), player_(std::make_unique<player>(host, stream_id, name_, std::string{})),
      timer_(home.context()) {}

vod_player::~vod_player() {
  // No read is under way: a read holds the player (its run() waits for it).
  if (fd_ >= 0) ::close(fd_);
  workers_.release(worker_);
}

asio::awaitable<std::optional<vod_player::tag>> vod_player::tag_at(std::uint64_t offset) {
  auto it = std::find_if(ahead_.begin(), ahead_.end(), [offset](const tag& t) { return t.offset == offset; });
  if (it == ahead_.end()) {
    const int fd = fd_;
    ahead_ = co_await on_worker(workers_, worker_, [fd, offset] { return read_batch(fd, offset); });
    it = ahead_.begin();
    if (it == ahead_.end() || it->offset != offset) co_return std::nullopt;
  }
  co_return *it;
}

void vod_player::start(double start_ms) {
  position_ = start_ms > 0 ? index_.seek_point(start_ms).offset : index_.first_tag;
  seek_pending_ = true;
  player_->on_start();
  running_ = true;
  asio::co_spawn(home_.context(), run(shared_from_this()), asio::detached);
}

void vod_player::seek(double position_ms) {
  position_ = index_.seek_point(position_ms).offset;
  seek_pending_ = true;
  player_->on_start();  // video starts again at a keyframe
  host_.protocol().seek_notify(stream_id_, name_, position_ms);
  host_.flush();
  if (!running_) {
    running_ = true;
    asio::co_spawn(home_.context(), run(shared_from_this()), asio::detached);
  }
  timer_.cancel();
}

void vod_player::pause(bool paused) {
  paused_ = paused;
  player_->pause(paused);
  if (!paused) rebase_ = true;  // the clock starts over from where it stands
  timer_.cancel();
}

void vod_player::stop() {
  stopped_ = true;
  timer_.cancel();
}

asio::awaitable<void> vod_player::run(std::shared_ptr<vod_player> self) {
  std::uint32_t base_ts = 0;
  auto base_clock = std::chrono::steady_clock::now();
  std::uint64_t offset = position_;
  while (!stopped_) {
    if (paused_) {
      timer_.expires_after(std::chrono::hours(1));
      co_await timer_.async_wait(no_throw);
      continue;
    }
    if (std::exchange(seek_pending_, false)) {
      // From a seek point: decoder configuration first.
      offset = position_;
      for (auto at : index_.config_tags) {
        auto t = co_await tag_at(at);
        if (stopped_) break;
        if (t) player_->on_frame(media::wrap(t->frame));
      }
      if (stopped_) break;
      rebase_ = true;
    }
    if (std::exchange(rebase_, false)) {
      // The clock counts from the next frame, now.
      auto next = co_await tag_at(offset);
      if (stopped_) break;
      base_ts = next ? next->frame.timestamp : 0;
      base_clock = std::chrono::steady_clock::now();
    }
    const std::uint64_t at = offset;
    auto read = co_await tag_at(offset);
    if (stopped_) break;
    if (paused_ || seek_pending_) continue;  // asked for while the read was under way
    if (!read) {
      // The end: told once; a seek starts it again.
      host_.protocol().play_complete(stream_id_, name_, index_.duration_ms);
      host_.flush();
      running_ = false;
      co_return;
    }
    offset = read->next;
    auto* frame = &read->frame;
    // Configuration tags went out at the start.
    if (std::find(index_.config_tags.begin(), index_.config_tags.end(), at) != index_.config_tags.end()) continue;
    const auto due = base_clock + std::chrono::milliseconds(frame->timestamp - base_ts) - lead;
    if (due > std::chrono::steady_clock::now()) {
      timer_.expires_at(due);
      co_await timer_.async_wait(no_throw);
      if (stopped_) break;
      if (paused_ || seek_pending_ || rebase_) {
        offset = at;  // not sent: read again after the pause or seek
        continue;
      }
    }
    player_->on_frame(media::wrap(std::move(*frame)));
  }
  running_ = false;
}

}  // namespace junction::rtmp
