#pragma once
// Junction's configuration: one TOML file, a table per module, every key documented in
// conf/junction.toml with its default. Without a file, the defaults are a complete, working
// set-up on localhost. Each module reads its own table (core/config_section.hpp); this puts the
// tables together: a new protocol adds its member and one line in config.cpp.
#include <string>
#include <string_view>
#include <vector>

#include "core/config_section.hpp"
#include "core/server_config.hpp"
#include "gateway/config.hpp"
#include "http/config.hpp"
#include "recording/config.hpp"
#include "rtmp/config.hpp"
#include "sip/config.hpp"
#include "users/config.hpp"
#include "webrtc/config.hpp"
#include "xmpp/config.hpp"

namespace junction {

struct config {
  server_config server;
  http_config http;
  rtmp_config rtmp;
  sip_config sip;
  users_config users;
  gateway_config gateway;
  recording_config recording;
  webrtc_config webrtc;
  xmpp_config xmpp;
  std::string source = "(built-in defaults)";

  // The built-in configuration (no file): the defaults, with the web root and the state files
  // where app/locations.hpp says (the state folder is created, 0700).
  static config builtin();
  // Reads and validates a TOML file; relative paths in it are taken from the file's folder, and
  // a web root it does not name is the default one (app/locations.hpp). Throws config_error.
  // `defaulted`, when given, receives every key the file left out.
  static config load_file(const std::string& path, std::vector<std::string>* defaulted = nullptr);
  static config load_string(std::string_view toml, const std::string& name,
                            std::vector<std::string>* defaulted = nullptr);

  // Binds the listeners the file did not name on every address instead of loopback.
  void apply_listen_all();
  friend bool operator==(const config&, const config&) = default;
};

}  // namespace junction
