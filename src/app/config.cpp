#include "app/config.hpp"

#include <algorithm>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "app/locations.hpp"

namespace junction {
namespace {

// Each table and the module reader that owns it.
template <class Settings>
void read(const config_document& doc, const char* name, Settings& out) {
  auto section = doc.section(name);
  read_config(section, out);
}

config parse(std::string_view text, const std::string& name, std::vector<std::string>* defaulted) {
  config_document doc(text, name, defaulted);
  doc.only({"server", "http", "rtmp", "sip", "users", "gateway", "recording", "webrtc", "xmpp"});
  config cfg;
  cfg.source = name;
  read(doc, "server", cfg.server);
  read(doc, "http", cfg.http);
  read(doc, "rtmp", cfg.rtmp);
  read(doc, "sip", cfg.sip);
  read(doc, "users", cfg.users);
  read(doc, "recording", cfg.recording);
  read(doc, "gateway", cfg.gateway);
  read(doc, "webrtc", cfg.webrtc);
  read(doc, "xmpp", cfg.xmpp);
  return cfg;
}

}  // namespace

config config::load_string(std::string_view toml, const std::string& name, std::vector<std::string>* defaulted) {
  auto cfg = parse(toml, name, defaulted);
  if (cfg.server.listen_all) cfg.apply_listen_all();
  return cfg;
}

config config::builtin() {
  config cfg;
  cfg.http.web_root = app::default_web_root();
  const std::filesystem::path state{app::default_state_directory()};
  std::error_code ec;
  if (std::filesystem::create_directories(state, ec))
    std::filesystem::permissions(state, std::filesystem::perms::owner_all, ec);
  cfg.users.database = (state / "users.sqlite").string();
  cfg.recording.directory = (state / "recordings").string();
  return cfg;
}

config config::load_file(const std::string& path, std::vector<std::string>* defaulted) {
  std::vector<std::string> left_out;
  if (!defaulted) defaulted = &left_out;
  std::string text;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw config_error(path + ": cannot open: " + std::strerror(errno));
    char chunk[4096];
    while (auto n = std::fread(chunk, 1, sizeof chunk, f)) text.append(chunk, n);
    std::fclose(f);
  }
  auto cfg = load_string(text, path, defaulted);
  const auto base = std::filesystem::path{path}.parent_path().string();
  for (auto* p : {&cfg.server.log_file, &cfg.http.web_root, &cfg.http.tls_certificate, &cfg.http.tls_private_key,
                  &cfg.http.access_log, &cfg.rtmp.tls_certificate, &cfg.rtmp.tls_private_key,
                  &cfg.sip.tls_certificate, &cfg.sip.tls_private_key, &cfg.xmpp.tls_certificate,
                  &cfg.xmpp.tls_private_key, &cfg.users.database,
                  &cfg.recording.directory})
    make_relative_to(base, *p);
  // "conf/www" next to /etc/junction/junction.toml is no web root: the default one is.
  if (std::find(defaulted->begin(), defaulted->end(), "http.web_root") != defaulted->end())
    cfg.http.web_root = app::default_web_root();
  return cfg;
}

void config::apply_listen_all() {
  server.listen_all = true;
  auto everywhere = [](std::vector<listen_address>& listen, bool given) {
    if (given) return;
    for (auto& a : listen)
      if (a.host == "127.0.0.1") a.host = "0.0.0.0";
  };
  everywhere(http.listen, http.listen_given);
  everywhere(rtmp.listen, rtmp.listen_given);
  everywhere(sip.listen, sip.listen_given);
  everywhere(xmpp.listen, xmpp.listen_given);
  everywhere(xmpp.s2s_listen, xmpp.s2s_listen_given);
  if (!webrtc.address_given && webrtc.address == "127.0.0.1") webrtc.address = "0.0.0.0";
}

}  // namespace junction
