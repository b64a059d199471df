#include "recording/stream_recorder.hpp"

#include "core/log.hpp"
#include "core/shard.hpp"
#include "media/stream_hub.hpp"
#include "recording/recording_file.hpp"
#include "recording/service.hpp"
#include "core/worker_pool.hpp"

namespace junction::recording {

struct stream_recorder::state {
  recording_info info;
  std::string path;
  bool append = false;
  std::unique_ptr<recording_file> file;
  bool failed = false;
};

stream_recorder::stream_recorder(service& svc, junction::shard& home, media::stream_hub& hub, std::string key,
                                 std::string app, std::string name, bool append)
    : svc_(svc), home_(home), hub_(hub), key_(std::move(key)), worker_(svc.workers().assign()),
      state_(std::make_shared<state>()) {
  auto& s = *state_;
  s.info.id = svc.stream_recording_id(app, name);
  s.info.kind = "stream";
  s.info.stream = std::string{app} + "/" + std::string{name};
  s.info.started = std::chrono::system_clock::now();
  s.path = svc.path_of(s.info.id);
  s.append = append;
  home_.metrics().add(svc_.metrics().active);
  home_.metrics().add(svc_.metrics().started);
  log::info("recording '{}' to {}{}", key_, s.path, append ? " (appending)" : "");
  svc_.workers().post(worker_, [st = state_, &svc = svc_] {
    std::string why;
    st->file = recording_file::open(st->path, true, true, st->append, &why);
    if (!st->file) {
      st->failed = true;
      log::warn("recording: cannot open {}: {}", st->path, why);
      return;
    }
    if (st->append)
      if (auto existing = svc.find(st->info.id)) st->info.started = existing->started;
    svc.write_info(st->info);
  });
  hub_.subscribe(key_, *this);
}

stream_recorder::~stream_recorder() {
  hub_.unsubscribe(key_, *this);
  home_.metrics().sub(svc_.metrics().active);
  svc_.workers().post(worker_, [st = state_, &svc = svc_] {
    if (!st->file) return;
    st->file->close();
    st->info.ended = std::chrono::system_clock::now();
    st->info.duration_ms = st->file->duration_ms();
    st->info.size = st->file->size();
    svc.write_info(st->info);
    st->file.reset();
  });
  svc_.workers().release(worker_);
}

void stream_recorder::on_frame(const media::shard_frame_ptr& f) {
  // The cached GOP comes first: metadata, decoder configuration, then pictures from a keyframe.
  svc_.workers().post(worker_, [st = state_, f] {
    if (st->file) st->file->write(f->frame());
  });
}

}  // namespace junction::recording
