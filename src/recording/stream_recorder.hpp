#pragma once
// Records one live RTMP stream while its publisher lasts: a sink of the stream on the
// publisher's shard that hands each frame to a transcode worker, where the file is written.
// Destroying it ends the recording (the file is closed and its JSON completed on the worker).
#include <memory>
#include <string>

#include "media/sink.hpp"

namespace junction {
class shard;
}
namespace junction::media {
class stream_hub;
}

namespace junction::recording {

class service;

class stream_recorder final : public media::sink {
 public:
  stream_recorder(service& svc, junction::shard& home, media::stream_hub& hub, std::string key, std::string app,
                  std::string name, bool append);
  ~stream_recorder() override;

  void on_start() override {}
  void on_frame(const media::shard_frame_ptr& f) override;
  void on_stop() override {}

 private:
  struct state;  // the file and its description, used on the worker only
  service& svc_;
  junction::shard& home_;
  media::stream_hub& hub_;
  std::string key_;
  std::size_t worker_;
  std::shared_ptr<state> state_;
};

}  // namespace junction::recording
