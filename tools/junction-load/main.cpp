// junction-load: an RTMP load generator. Publishes synthetic or file streams, plays them with
// many players across a few event-loop threads, checks that every player got every frame from
// its first one to its publisher's last, in order (exit 3 when one did not), and reports delivery, latency and its own CPU (to show it was not the bottleneck).
//
//   junction-load rtmp --url rtmp://127.0.0.1/live/test --players 200 --duration 30s
#include "junction-load/gateway_run.hpp"
#include "junction-load/load_run.hpp"
#include "junction-load/options.hpp"
#include "junction-load/xmpp_run.hpp"

#include "core/log.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <string_view>

#include <unistd.h>

int main(int argc, char** argv) {
  using namespace junction;
  using namespace junction::load;
  CLI::App cli{"junction-load: load generator for media servers", "junction-load"};
  cli.require_subcommand(1);
  cli.footer("Exit codes: 0 every player got every frame from its first one to its publisher's last; 1 the run "
             "could not take place (nothing to connect to, nothing published); 2 bad command line; 3 the run "
             "took place but a player was short of frames, was disconnected or could not start.");
  auto* rtmp = cli.add_subcommand("rtmp", "Publish and play RTMP streams (plain standard RTMP, any server)");

  auto* gateway = cli.add_subcommand("gateway", "Concurrent Flash<->SIP gateway calls (siprtmp clients)");
  gateway_options g;
  std::string g_server = "127.0.0.1:1935", g_duration = "10s";
  gateway->add_option("--server", g_server, "RTMP server HOST:PORT (loopback only)")->capture_default_str();
  gateway->add_option("--app", g.app, "The gateway's RTMP application")->capture_default_str();
  gateway->add_option("--calls", g.calls, "Concurrent calls")->capture_default_str();
  gateway->add_option("--ramp", g.ramp, "Calls started per second")->capture_default_str();
  gateway->add_option("--user-prefix", g.user_prefix, "Users are <prefix><n>@<domain>")->capture_default_str();
  gateway->add_option("--first-user", g.first_user, "The first n")->capture_default_str();
  gateway->add_option("--domain", g.domain, "The users' SIP domain")->capture_default_str();
  gateway->add_option("--password", g.password, "Every user's password")->capture_default_str();
  gateway->add_option("--callee", g.callee, "Who every call goes to (an RTP echo)")->capture_default_str();
  gateway->add_option("--codec", g.codec, "siprtmp codec name asked for (ulaw, wideband, ...)")->capture_default_str();
  gateway->add_option("--source", g.source, "FLV file whose audio (Speex 16 kHz) is sent")->required();
  gateway->add_option("--duration", g_duration, "Media time per call, e.g. 20s")->capture_default_str();
  gateway->add_option("--late", g.late_ms, "Milliseconds beyond the steady delay that make a frame late")
      ->capture_default_str();

  auto* xmpp = cli.add_subcommand("xmpp", "Many XMPP users log in and chat (any server: Junction, Prosody, ejabberd)");
  xmpp_options x;
  std::string x_server = "127.0.0.1:5222", x_duration = "10s", x_idle = "0s";
  xmpp->add_option("--server", x_server, "XMPP server HOST:PORT (loopback only)")->capture_default_str();
  xmpp->add_option("--domain", x.domain, "The users' domain")->capture_default_str();
  xmpp->add_option("--users", x.users, "Users logged in at once")->capture_default_str();
  xmpp->add_option("--user-prefix", x.user_prefix, "Users are <prefix><n>@<domain>")->capture_default_str();
  xmpp->add_option("--first-user", x.first_user, "The first n")->capture_default_str();
  xmpp->add_option("--password", x.password, "Every user's password")->capture_default_str();
  xmpp->add_option("--ramp", x.ramp, "Logins started per second")->capture_default_str();
  xmpp->add_option("--rate", x.rate, "Messages per second, all users together")->capture_default_str();
  xmpp->add_option("--duration", x_duration, "Messaging time, e.g. 30s")->capture_default_str();
  xmpp->add_option("--idle", x_idle, "Time logged in before messaging (to measure idle sessions)")->capture_default_str();
  xmpp->add_flag("--tls", x.tls, "STARTTLS (the certificate is not checked)");
  xmpp->add_option("--mechanism", x.mechanism, "SCRAM-SHA-256 or SCRAM-SHA-1")->capture_default_str();
  xmpp->add_option("--threads", x.threads, "Event-loop threads")->capture_default_str();
  xmpp->add_option("--body-size", x.body_size, "Bytes of each message body")->capture_default_str();

  load_options o;
  std::string url, duration = "10s", warmup = "1s", bitrate = "2M", audio_bitrate = "128k", log_level = "warn";
  bool progress = false;
  rtmp->add_option("--url", url, "rtmp://HOST[:PORT]/APP/STREAM")->required();
  rtmp->add_option("--publishers", o.publishers,
                   "Streams to publish: STREAM (1) or STREAM-0..STREAM-(M-1); 0 = play an existing STREAM")
      ->capture_default_str();
  rtmp->add_option("--players", o.players, "Players per stream")->capture_default_str();
  rtmp->add_option("--ramp", o.ramp, "Players started per second")->capture_default_str();
  rtmp->add_option("--duration", duration, "Run length after the publishers start, e.g. 30s")->capture_default_str();
  rtmp->add_option("--warmup", warmup, "Time after publishing starts before players start")->capture_default_str();
  rtmp->add_option("--source", o.source, "\"synthetic\" or the path of an .flv file (looped at real time)")
      ->capture_default_str();
  rtmp->add_option("--bitrate", bitrate, "Synthetic video bitrate, e.g. 2M, 500k")->capture_default_str();
  rtmp->add_option("--fps", o.fps, "Synthetic frames per second")->capture_default_str();
  rtmp->add_option("--gop", o.gop, "Synthetic frames per keyframe")->capture_default_str();
  rtmp->add_option("--audio-bitrate", audio_bitrate,
                   "Synthetic AAC-shaped audio bitrate, 0 = none (1024-sample frames at 44.1 kHz)")
      ->capture_default_str();
  rtmp->add_option("--whep", o.whep_base,
                   "Players play over WHEP from this HTTP server (http://HOST:PORT), H.264 over WebRTC, not RTMP");
  rtmp->add_option("--janus", o.janus_base,
                   "Players watch a Janus streaming mountpoint through Janus's HTTP API at this URL "
                   "(http://HOST:PORT/janus), for benchmarks beside --whep");
  rtmp->add_option("--janus-mountpoint", o.janus_mountpoint, "The mountpoint --janus players watch")
      ->capture_default_str();
  rtmp->add_option("--rtp-to", o.rtp_to,
                   "Publishers send their video as RTP (H.264, payload type 96) to ADDRESS:PORT, not over RTMP");
  rtmp->add_option("--shards", o.shards, "Event-loop threads (default: one per CPU)");
  rtmp->add_flag("--json", o.json, "Print the report as JSON on stdout instead of the table");
  auto* progress_flag = rtmp->add_flag("--progress", progress,
                                       "A live progress line on stderr every second (default: when stderr is a terminal)");
  rtmp->add_flag("--allow-remote", o.allow_remote,
                 "Allow addresses outside 127.0.0.0/8 and ::1 (default: refuse them)");
  rtmp->add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")->capture_default_str();

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = cli.exit(e);
    return code == 0 ? 0 : exit_usage;
  }

  const auto usage = [](const std::string& why) {
    std::fprintf(stderr, "junction-load: %s\n", why.c_str());
    return exit_usage;
  };
  if (xmpp->parsed()) {
    auto colon = x_server.rfind(':');
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(x_server.substr(0, colon), ec);
    unsigned port = 0;
    const auto digits = std::string_view{x_server}.substr(colon == std::string::npos ? 0 : colon + 1);
    const auto [end, bad] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (colon == std::string::npos || ec || !is_loopback(address) || bad != std::errc{} ||
        end != digits.data() + digits.size() || port == 0 || port > 65535)
      return usage("--server: a loopback HOST:PORT");
    x.server = {address, static_cast<unsigned short>(port)};
    auto d = parse_run_duration(x_duration);
    auto idle = parse_run_duration(x_idle);
    if (!d || !idle) return usage("--duration/--idle: durations like 30s");
    x.duration = *d;
    x.idle = *idle;
    if (x.users < 2) return usage("--users: at least 2 (they chat with each other)");
    if (x.mechanism != "SCRAM-SHA-256" && x.mechanism != "SCRAM-SHA-1") return usage("--mechanism: SCRAM-SHA-256 or SCRAM-SHA-1");
    return run_xmpp_load(x);
  }
  if (gateway->parsed()) {
    auto colon = g_server.rfind(':');
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(g_server.substr(0, colon), ec);
    unsigned port = 0;
    const auto digits = std::string_view{g_server}.substr(colon == std::string::npos ? 0 : colon + 1);
    const auto [end, bad] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (colon == std::string::npos || ec || !is_loopback(address) || bad != std::errc{} ||
        end != digits.data() + digits.size() || port == 0 || port > 65535)
      return usage("--server: a loopback HOST:PORT");
    g.server = {address, static_cast<unsigned short>(port)};
    auto d = parse_run_duration(g_duration);
    if (!d) return usage("--duration: '" + g_duration + "' is not a duration like 30s");
    g.duration = *d;
    if (g.calls == 0) return usage("--calls: at least 1");
    return run_gateway_load(g);
  }
  std::string why;
  auto parsed_url = rtmp_url::parse(url, &why);
  if (!parsed_url) return usage("--url: " + why);
  o.url = *parsed_url;
  auto d = parse_run_duration(duration);
  if (!d) return usage("--duration: '" + duration + "' is not a duration like 30s or 500ms");
  o.duration = *d;
  auto w = parse_run_duration(warmup);
  if (!w) return usage("--warmup: '" + warmup + "' is not a duration like 1s or 500ms");
  o.warmup = *w;
  auto b = parse_bitrate(bitrate);
  if (!b) return usage("--bitrate: '" + bitrate + "' is not a bitrate like 2M or 500k");
  o.bitrate = *b;
  auto ab = parse_bitrate(audio_bitrate);
  if (!ab) return usage("--audio-bitrate: '" + audio_bitrate + "' is not a bitrate like 128k or 0");
  o.audio_bitrate = *ab;
  o.progress = progress_flag->count() > 0 ? progress : isatty(STDERR_FILENO) == 1;
  if (auto wrong = check(o); !wrong.empty()) return usage(wrong);

  log::options logging;
  if (!log::parse_level(log_level, logging.threshold)) return usage("--log-level: unknown level '" + log_level + "'");
  log::configure(logging);
  log::set_thread_tag("main");
  return run_load(o);
}
