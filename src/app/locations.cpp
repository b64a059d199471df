#include "app/locations.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace junction::app {
namespace fs = std::filesystem;

namespace {

bool folder_exists(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

}  // namespace

std::string default_web_root() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = exe.parent_path().parent_path() / "share" / "junction" / "www";
    if (folder_exists(installed)) return installed.string();
  }
#ifdef JUNCTION_SOURCE_DIR
  fs::path source = fs::path{JUNCTION_SOURCE_DIR} / "conf" / "www";
  if (folder_exists(source)) return source.string();
#endif
  return "conf/www";
}

std::string default_state_directory() {
  if (const char* systemd = std::getenv("STATE_DIRECTORY"); systemd && *systemd) {
    std::string first{systemd};
    return first.substr(0, first.find(':'));  // several directories are separated by ':'
  }
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg == '/') return (fs::path{xdg} / "junction").string();
  if (const char* home = std::getenv("HOME"); home && *home == '/')
    return (fs::path{home} / ".local" / "state" / "junction").string();
  return fs::current_path().string();
}

}  // namespace junction::app
