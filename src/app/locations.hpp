#pragma once
// Where the files of a configuration that does not name them are: one well-defined place each,
// whatever the working directory.
//   web root: <prefix>/share/junction/www beside an installed binary (<prefix>/bin/junction),
//             else the source tree's conf/www (a binary run from its build folder);
//   state (user store, recordings) with no configuration file: $STATE_DIRECTORY (systemd's
//             StateDirectory=), else $XDG_STATE_HOME/junction, else ~/.local/state/junction.
//             With a configuration file they are next to the file, as before.
#include <string>

namespace junction::app {

std::string default_web_root();
std::string default_state_directory();

}  // namespace junction::app
