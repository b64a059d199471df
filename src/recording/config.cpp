#include "recording/config.hpp"

namespace junction {

void read_config(config_section& rec, recording_config& rc) {
  rec.string("directory", rc.directory);
  rec.string("calls", rc.calls);
  rec.strings("users", rc.users);
  rec.string("vod_app", rc.vod_app);
  rec.finish();
  if (rc.directory.empty()) rec.fail("recording.directory must name a folder");
  if (rc.calls != "off" && rc.calls != "all" && rc.calls != "users")
    rec.fail("recording.calls must be \"off\", \"all\" or \"users\"");
}

}  // namespace junction
