#include "recording/stream_recorder.hpp"

#include <cerrno>

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
  s.info.kind = "stream";
  s.info.stream = app + "/" + name;
  s.info.started = std::chrono::system_clock::now();
  s.append = append;
  home_.metrics().add(svc_.metrics().active);
  home_.metrics().add(svc_.metrics().started);
  // The file is chosen on the worker (it reads the folder): append continues the stream's newest
  // recording; record, or append with none, starts a new one and never overwrites a file.
  svc_.workers().post(worker_, [st = state_, &svc = svc_, key = key_, app = std::move(app), name = std::move(name)] {
    std::string why;
    std::optional<std::string> latest = st->append ? svc.latest_stream_recording(app, name) : std::nullopt;
    if (latest) {
      st->info.id = *latest;
      st->path = svc.path_of(st->info.id);
      st->file = recording_file::open(st->path, true, true, true, &why);
    } else {
      st->append = false;
      // Two publications in one millisecond: the second gets "-2" after the time, and so on.
      const std::string fresh = svc.stream_recording_id(app, name, st->info.started);
      const auto cut = fresh.rfind('-');
      for (int n = 1; n <= 100 && !st->file; ++n) {
        st->info.id = n == 1 ? fresh : fresh.substr(0, cut) + "-" + std::to_string(n) + fresh.substr(cut);
        st->path = svc.path_of(st->info.id);
        st->file = recording_file::open(st->path, true, true, false, &why);
        if (!st->file && errno != EEXIST) break;
      }
    }
    if (!st->file) {
      st->failed = true;
      log::warn("recording: cannot open {}: {}", st->path, why);
      return;
    }
    log::info("recording '{}' to {}{}", key, st->path, latest ? " (appending)" : "");
    if (latest)
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
