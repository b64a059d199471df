#pragma once
// A recorded stream played over RTMP (video on demand): an FLV file read from disk and sent to
// one player at the pace of its timestamps (a second ahead, which the client buffers), with
// seeking to the keyframe at or before a position, pause, and the end of the file told as
// NetStream.Play.Stop / Play.Complete. Frames go through the same player (and so the same
// chunking and queue) as live ones. The file is never read on the shard: the index is built and
// the tags are read ahead, a batch at a time, on a worker (core/worker_pool), and handed back.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "media/frame.hpp"

namespace junction {
class shard;
class worker_pool;
}

namespace junction::rtmp {

class player;
class player_host;

// Where a recording's tags and keyframes are.
struct flv_index {
  struct entry {
    std::uint64_t offset = 0;
    std::uint32_t timestamp = 0;
  };
  std::vector<entry> seek_points;          // video keyframes (audio tags when there is no video)
  std::vector<std::uint64_t> config_tags;  // metadata and decoder configuration, in file order
  std::uint64_t first_tag = 0;
  std::uint32_t duration_ms = 0;
  // Reads the tags' headers; nothing when the file is not FLV.
  static std::optional<flv_index> build(int fd, std::uint64_t size);
  // The last seek point at or before `position_ms` (the first when none is).
  entry seek_point(double position_ms) const;
};

class vod_player : public std::enable_shared_from_this<vod_player> {
 public:
  // Opens and indexes the file on a worker of `workers`; nothing when it cannot be opened or is
  // not FLV.
  static boost::asio::awaitable<std::shared_ptr<vod_player>> open(junction::shard& home, player_host& host,
                                                                  std::uint32_t stream_id, std::string name,
                                                                  const std::string& path, worker_pool& workers);
  ~vod_player();
  // Starts sending from `start_ms` (play's start argument; negative: from the beginning).
  void start(double start_ms);
  void seek(double position_ms);
  void pause(bool paused);
  void stop();
  std::uint32_t duration_ms() const noexcept { return index_.duration_ms; }

  // A tag read from the file, and where the next one starts.
  struct tag {
    std::uint64_t offset = 0, next = 0;
    media::frame frame;
  };

 private:
  vod_player(junction::shard& home, player_host& host, std::uint32_t stream_id, std::string name, int fd,
             flv_index index, worker_pool& workers);
  boost::asio::awaitable<void> run(std::shared_ptr<vod_player> self);
  // The tag at `offset`, read ahead on the worker when the batch in hand does not have it;
  // nothing at the end of the file.
  boost::asio::awaitable<std::optional<tag>> tag_at(std::uint64_t offset);

  junction::shard& home_;
  player_host& host_;
  std::uint32_t stream_id_;
  std::string name_;
  int fd_;
  flv_index index_;
  worker_pool& workers_;
  std::size_t worker_;
  std::vector<tag> ahead_;  // the batch read last, in file order
  std::unique_ptr<player> player_;
  boost::asio::steady_timer timer_;
  std::uint64_t position_ = 0;  // where a seek (or the start) asks the sender to go
  bool seek_pending_ = false;    // the sender starts over from position_, configuration first
  bool rebase_ = false;          // the sender's clock starts over (after a pause)
  bool paused_ = false, stopped_ = false, running_ = false;
};

}  // namespace junction::rtmp
