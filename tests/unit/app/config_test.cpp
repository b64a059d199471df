#include "app/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace junction {
namespace {

std::string error_of(std::string_view toml) {
  try {
    config::load_string(toml, "test.toml");
  } catch (const config_error& e) {
    return e.what();
  }
  return {};
}

TEST(config, defaults_are_a_working_localhost_setup) {
  config cfg;
  ASSERT_EQ(cfg.http.listen.size(), 1u);
  EXPECT_EQ(cfg.http.listen[0].to_string(), "127.0.0.1:8080");
  EXPECT_TRUE(cfg.http.tls_listen.empty());
  EXPECT_EQ(cfg.server.shards, 0u);
  EXPECT_EQ(cfg.http.header_limit, 8192u);
}

TEST(config, reads_every_section) {
  auto cfg = config::load_string(R"(
[server]
shards = 3
max_connections = 50
shutdown_timeout = "2s"
log_level = "debug"
[http]
listen = ["0.0.0.0:80", "[::1]:8080"]
header_timeout = "500ms"
admin_token = "t"
websocket_echo = true
)", "good.toml");
  EXPECT_EQ(cfg.server.shards, 3u);
  EXPECT_EQ(cfg.server.max_connections, 50u);
  EXPECT_EQ(cfg.server.shutdown_timeout, std::chrono::seconds(2));
  EXPECT_EQ(cfg.server.log_level, "debug");
  ASSERT_EQ(cfg.http.listen.size(), 2u);
  EXPECT_EQ(cfg.http.listen[1].host, "::1");
  EXPECT_EQ(cfg.http.header_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(cfg.http.admin_token, "t");
  EXPECT_TRUE(cfg.http.websocket_echo);
}

TEST(config, unknown_key_names_file_line_and_key) {
  auto e = error_of("[server]\nshards = 1\nshard = 2\n");
  EXPECT_NE(e.find("test.toml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'server.shard'"), std::string::npos) << e;
}

TEST(config, unknown_section_is_rejected) {
  auto e = error_of("[htp]\nlisten = []\n");
  EXPECT_NE(e.find("test.toml:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown section 'htp'"), std::string::npos) << e;
}

TEST(config, bad_values_say_what_was_expected) {
  struct {
    const char* toml;
    const char* says;
  } cases[] = {
      {"[http]\nheader_limit = \"big\"\n", "http.header_limit: expected an integer"},
      {"[http]\nheader_limit = 10\n", "from 512 to"},
      {"[server]\nshutdown_timeout = 10\n", "server.shutdown_timeout: expected a duration"},
      {"[server]\npin_cpus = \"yes\"\n", "server.pin_cpus: expected true or false"},
      {"[server]\nlog_level = \"loud\"\n", "server.log_level: expected one of"},
      {"[http]\nlisten = [\"no-such-host.invalid:80\"]\n", "neither a numeric address nor a name that resolves"},
      {"[http]\nlisten = \"127.0.0.1:80\"\n", "expected a list"},
      {"[http]\ntls_listen = [\"127.0.0.1:443\"]\n", "needs http.tls_certificate"},
      {"[server\n", "test.toml:1:"},
      {"[webrtc]\naddress = \"somewhere\"\n", "webrtc.address must be an IP address"},
      {"[webrtc]\nannounce = \"0.0.0.0\"\n", "webrtc.announce must be an IP address"},
      {"[webrtc]\nport = 70000\n", "webrtc.port"},
      {"[webrtc]\nmax_peers = 0\n", "webrtc.max_peers"},
      {"[webrtc]\nice_tcp = \"yes\"\n", "webrtc.ice_tcp"},
  };
  for (const auto& c : cases) {
    auto e = error_of(c.toml);
    EXPECT_NE(e.find(c.says), std::string::npos) << c.toml << " -> " << e;
  }
}

TEST(config, listen_all_changes_only_default_listeners) {
  config cfg;
  cfg.apply_listen_all();
  EXPECT_EQ(cfg.http.listen[0].host, "0.0.0.0");
  auto given = config::load_string("[http]\nlisten = [\"127.0.0.1:81\"]\n", "t.toml");
  given.apply_listen_all();
  EXPECT_EQ(given.http.listen[0].host, "127.0.0.1");
}

TEST(config, ice_tcp_is_on_unless_switched_off) {
  EXPECT_TRUE(config::load_string("", "t.toml").webrtc.ice_tcp);
  EXPECT_FALSE(config::load_string("[webrtc]\nice_tcp = false\n", "t.toml").webrtc.ice_tcp);
}

TEST(config, listen_all_binds_webrtc_everywhere_unless_the_file_says_where) {
  config cfg;
  cfg.apply_listen_all();
  EXPECT_EQ(cfg.webrtc.address, "0.0.0.0");
  auto given = config::load_string("[webrtc]\naddress = \"127.0.0.1\"\n", "t.toml");
  given.apply_listen_all();
  EXPECT_EQ(given.webrtc.address, "127.0.0.1");
}

// conf/junction.toml documents every key with its default: it must name every key Junction
// reads, and each value must equal the built-in default.
TEST(config, shipped_file_documents_every_key_with_its_default) {
  std::string path = JUNCTION_SOURCE_DIR "/conf/junction.toml";
  std::vector<std::string> missing;
  auto shipped = config::load_file(path, &missing);
  EXPECT_TRUE(missing.empty()) << "undocumented key: " << (missing.empty() ? "" : missing[0]);
  config defaults;
  EXPECT_EQ(shipped.server.shards, defaults.server.shards);
  EXPECT_EQ(shipped.server.pin_cpus, defaults.server.pin_cpus);
  EXPECT_EQ(shipped.server.listen_all, defaults.server.listen_all);
  EXPECT_EQ(shipped.server.max_connections, defaults.server.max_connections);
  EXPECT_EQ(shipped.server.shutdown_timeout, defaults.server.shutdown_timeout);
  EXPECT_EQ(shipped.server.log_level, defaults.server.log_level);
  EXPECT_EQ(shipped.server.log_file, defaults.server.log_file);
  EXPECT_EQ(shipped.http.listen, defaults.http.listen);
  EXPECT_EQ(shipped.http.tls_listen, defaults.http.tls_listen);
  EXPECT_EQ(shipped.http.tls_certificate, defaults.http.tls_certificate);
  EXPECT_EQ(shipped.http.tls_private_key, defaults.http.tls_private_key);
  // Relative to the file's folder there, to the working directory for the built-in default.
  EXPECT_EQ(std::filesystem::weakly_canonical(shipped.http.web_root),
            std::filesystem::weakly_canonical(JUNCTION_SOURCE_DIR "/" + defaults.http.web_root));
  EXPECT_EQ(shipped.http.index, defaults.http.index);
  EXPECT_EQ(shipped.http.header_limit, defaults.http.header_limit);
  EXPECT_EQ(shipped.http.body_limit, defaults.http.body_limit);
  EXPECT_EQ(shipped.http.header_timeout, defaults.http.header_timeout);
  EXPECT_EQ(shipped.http.idle_timeout, defaults.http.idle_timeout);
  EXPECT_EQ(shipped.http.access_log, defaults.http.access_log);
  EXPECT_EQ(shipped.http.admin_token, defaults.http.admin_token);
  EXPECT_EQ(shipped.http.file_cache_max_file, defaults.http.file_cache_max_file);
  EXPECT_EQ(shipped.http.file_cache_max_bytes, defaults.http.file_cache_max_bytes);
  EXPECT_EQ(shipped.http.websocket_message_limit, defaults.http.websocket_message_limit);
  EXPECT_EQ(shipped.http.websocket_echo, defaults.http.websocket_echo);
  auto rtmp = shipped.rtmp;
  rtmp.listen_given = defaults.rtmp.listen_given;
  EXPECT_TRUE(rtmp == defaults.rtmp) << "conf/junction.toml's [rtmp] differs from the defaults";
  EXPECT_TRUE(shipped.server == defaults.server) << "conf/junction.toml's [server] differs from the defaults";
  auto sip = shipped.sip;
  sip.listen_given = defaults.sip.listen_given;
  EXPECT_TRUE(sip == defaults.sip) << "conf/junction.toml's [sip] differs from the defaults";
  EXPECT_TRUE(shipped.gateway == defaults.gateway) << "conf/junction.toml's [gateway] differs from the defaults";
  auto webrtc = shipped.webrtc;
  webrtc.address_given = defaults.webrtc.address_given;
  EXPECT_TRUE(webrtc == defaults.webrtc) << "conf/junction.toml's [webrtc] differs from the defaults";
  // Paths: relative to the file's folder there, to the working directory for the built-in default.
  auto relative = [](const std::string& p) {
    return std::filesystem::weakly_canonical(JUNCTION_SOURCE_DIR "/conf/" + p);
  };
  auto recording = shipped.recording;
  EXPECT_EQ(std::filesystem::weakly_canonical(recording.directory), relative(defaults.recording.directory));
  recording.directory = defaults.recording.directory;
  EXPECT_TRUE(recording == defaults.recording) << "conf/junction.toml's [recording] differs from the defaults";
  EXPECT_EQ(std::filesystem::weakly_canonical(shipped.users.database), relative(defaults.users.database));
}

TEST(config, reads_rtmp_applications) {
  auto cfg = config::load_string(R"(
[rtmp]
chunk_size = 8192
[[rtmp.app]]
name = "live"
takeover = true
allow_publish = ["127.0.0.0/8", "::1"]
on_publish = "http://127.0.0.1:9/hook"
[[rtmp.app]]
name = "vod"
live = false
low_latency = true
)", "t.toml");
  EXPECT_EQ(cfg.rtmp.chunk_size, 8192u);
  // The two named, and the built-in "*" (rtmp.catch_all) for any other.
  ASSERT_EQ(cfg.rtmp.apps.size(), 3u);
  EXPECT_EQ(cfg.rtmp.apps[0].name, "live");
  EXPECT_TRUE(cfg.rtmp.apps[0].takeover);
  EXPECT_EQ(cfg.rtmp.apps[0].allow_publish.size(), 2u);
  EXPECT_EQ(cfg.rtmp.apps[0].on_publish, "http://127.0.0.1:9/hook");
  EXPECT_FALSE(cfg.rtmp.apps[1].live);
  EXPECT_FALSE(cfg.rtmp.apps[0].low_latency);
  EXPECT_TRUE(cfg.rtmp.apps[1].low_latency);
  EXPECT_EQ(cfg.rtmp.apps[2].name, "*");
  EXPECT_TRUE(cfg.rtmp.apps[2].live);
}

TEST(config, catch_all_off_keeps_only_the_named_applications) {
  auto named = config::load_string("[rtmp]\ncatch_all = false\n[[rtmp.app]]\nname = \"live\"\n", "t.toml");
  ASSERT_EQ(named.rtmp.apps.size(), 1u);
  EXPECT_EQ(named.rtmp.apps[0].name, "live");
  EXPECT_TRUE(config::load_string("[rtmp]\ncatch_all = false\n", "t.toml").rtmp.apps.empty());
  // A "*" of the file's own is the only one.
  auto own = config::load_string("[[rtmp.app]]\nname = \"*\"\nlive = false\n", "t.toml");
  ASSERT_EQ(own.rtmp.apps.size(), 1u);
  EXPECT_FALSE(own.rtmp.apps[0].live);
}

TEST(config, rejects_bad_rtmp_settings_with_their_place) {
  const std::pair<const char*, const char*> cases[] = {
      {"[rtmp]\nchunk_size = 0\n", "t.toml:2:14: rtmp.chunk_size: expected an integer"},
      {"[[rtmp.app]]\nallow_play = [\"300.1.1.1\"]\n", "t.toml:2:15: rtmp.app.allow_play: '300.1.1.1'"},
      {"[[rtmp.app]]\nname = \"a\"\nbogus = 1\n", "t.toml:3:9: unknown key 'rtmp.app.bogus'"},
      {"[rtmp]\napp = 3\n", "t.toml:2:7: rtmp.app: expected tables"},
      {"[rtmp]\ntls_listen = [\"127.0.0.1:1936\"]\n", "rtmp.tls_listen needs"},
  };
  for (auto [text, expected] : cases) {
    try {
      config::load_string(text, "t.toml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const config_error& e) {
      EXPECT_NE(std::string{e.what()}.find(expected), std::string::npos) << e.what();
    }
  }
}

TEST(config, missing_file_is_a_clear_error) {
  try {
    config::load_file("/nonexistent/junction.toml");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_NE(std::string{e.what()}.find("/nonexistent/junction.toml: cannot open"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace junction
