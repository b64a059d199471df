#include "app/server_app.hpp"

#include <cstdlib>

#include "core/log.hpp"
#include "core/sd_notify.hpp"
#include "core/runtime.hpp"
#include "core/version.hpp"
#include "http/request_context.hpp"
#include "http/server.hpp"
#include "gateway/service.hpp"
#include "recording/anchored_call.hpp"
#include "recording/service.hpp"
#include "core/worker_pool.hpp"
#include "media/stream_hub.hpp"
#include "rtmp/server.hpp"
#include "sip/server.hpp"
#include "xmpp/server.hpp"
#include "app/users_api.hpp"
#include "app/users_cli.hpp"
#include "users/user_directory.hpp"
#include "webrtc/shard_ports.hpp"
#include "whip/service.hpp"
#include "sip_webrtc/bridges.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <optional>

namespace junction::app {
namespace {

// Signals are taken synchronously by the main thread: blocked everywhere (threads inherit the
// mask), then waited for with sigtimedwait, so no shard ever runs a signal handler.
sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Those and what the main thread does while running: reload, reopen the logs.
sigset_t running_signals() {
  sigset_t set = shutdown_signals();
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, reload_request_signal());
  return set;
}

int wait_for_signal(const sigset_t& set, siginfo_t* info = nullptr) {
  for (;;) {
    int sig = sigwaitinfo(&set, info);
    if (sig > 0) return sig;
  }
}

bool signal_pending(const sigset_t& set) {
  timespec now{0, 0};
  return sigtimedwait(&set, nullptr, &now) > 0;
}

// Each connection is a descriptor: lift the soft limit to the hard one, as nginx's
// worker_rlimit_nofile would, so max_connections is not capped by a shell's default of 1024.
void raise_descriptor_limit(std::size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted + 64)
    log::warn("open-file limit {} is below server.max_connections {}", limit.rlim_cur, wanted);
}

}  // namespace

int run_server(const config& cfg, const std::string& path, const command_line_overrides& overrides) {
  auto signals = shutdown_signals();
  auto all_signals = running_signals();
  pthread_sigmask(SIG_BLOCK, &all_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  raise_descriptor_limit(cfg.server.max_connections);

  metric_registry registry;
  // Declared before the runtime so that it outlives the sessions the runtime's loops still hold
  // when they are torn down (closed first: see stream_hub::close).
  std::optional<media::stream_hub> hub;
  // Transcoding and recording threads, shared by every call and recording (stopped once the
  // shards have: their jobs post back to the shards).
  worker_pool workers{cfg.gateway.transcode_threads};
  std::optional<recording::service> recordings;
  std::optional<gateway::service> gateway;
  std::optional<runtime> runtime_holder;
  auto& rt = runtime_holder.emplace(runtime_options{cfg.server.shards, cfg.server.pin_cpus, cfg.server.max_connections,
                                                    cfg.server.max_connections_per_source,
                                                    cfg.server.share_listeners},
                                    registry);
  hub.emplace(rt);
  // After the runtime: destroyed before it (on every path), their loops ended by the drain.
  std::optional<webrtc::shard_ports> webrtc_ports;
  std::unique_ptr<whip::service> whip;
  std::optional<sip_webrtc::bridge_metrics> bridge_metrics;
  std::unique_ptr<http::server> web;
  std::unique_ptr<rtmp::server> rtmp_server;
  std::unique_ptr<sip::server> sip_server;
  std::unique_ptr<xmpp::server> xmpp_server;
  // JUNCTION_TEST_STORE_DELAY_MS slows every job of the user store's worker, for the test that
  // shows a slow store does not hold the shards up.
  const char* store_delay = std::getenv("JUNCTION_TEST_STORE_DELAY_MS");
  std::optional<users::user_directory> user_directory;
  std::optional<reloader> reload;
  user_directory.emplace(cfg.users.database, rt, std::chrono::milliseconds(store_delay ? std::atoi(store_delay) : 0));
  rt.claims().claim(store_claim_name(cfg.users.database));  // `junction users` looks for it
  try {
    web = std::make_unique<http::server>(rt, cfg.http);
    rtmp_server = std::make_unique<rtmp::server>(rt, cfg.rtmp, *hub);
    rtmp_server->set_workers(workers);
    sip_server = std::make_unique<sip::server>(rt, cfg.sip, *user_directory);
    recordings.emplace(rt, registry, cfg.recording, cfg.http.admin_token, workers);
    recordings->attach(*web);
    recordings->attach(*rtmp_server, *hub);
    sip_server->set_relay_tap_factory(recording::anchored_call_taps(*recordings));
    gateway.emplace(registry, cfg.gateway, cfg.sip, *hub, workers, *recordings, &*user_directory, rt);
    gateway->attach(*rtmp_server);
    gateway->attach(*web, rt);
    rtmp_server->attach_http(*web);
    if (cfg.webrtc.enabled) {
      webrtc_ports.emplace(rt, cfg.webrtc);
      whip = std::make_unique<whip::service>(rt, *webrtc_ports, *rtmp_server, *hub, workers);
      whip->attach(*web);
      // Browsers calling phones through the proxy: WebRTC on one side, plain RTP on the other.
      bridge_metrics.emplace(sip_webrtc::bridge_metrics::declare(rt.registry()));
      sip_server->set_media_bridges(sip_webrtc::make_bridge_factory(
          *webrtc_ports, workers, *bridge_metrics, sip_server->anchor_address(), cfg.sip.media_timeout));
    }
    sip_server->attach_http(*web);
    if (cfg.xmpp.enabled)
      xmpp_server = std::make_unique<xmpp::server>(rt, cfg.xmpp, cfg.xmpp.domains.empty() ? cfg.sip.domains : cfg.xmpp.domains,
                                                   *user_directory, workers);
    if (xmpp_server) xmpp_server->attach_http(*web);
    add_users_api(*web, *user_directory);
    reload.emplace(rt, path, overrides, cfg,
                   reloader::targets{web.get(), rtmp_server.get(), sip_server.get(), &*recordings, xmpp_server.get()});
    // POST /api/v1/reload (admin): what SIGHUP does, with the outcome in the answer.
    web->routes().add({"/api/v1/reload", http::POST, true,
                       http::async_handler{[&reload](http::request_context& ctx) -> boost::asio::awaitable<http::reply> {
                         auto outcome = co_await reload->request(std::chrono::seconds(30));
                         boost::json::array changed;
                         for (const auto& k : outcome.changed) changed.emplace_back(k);
                         boost::json::object body{{"reloaded", outcome.ok}, {"message", outcome.message},
                                                  {"changed", std::move(changed)}};
                         co_return ctx.json(outcome.ok ? http::status::ok : http::status::conflict,
                                            boost::json::serialize(body) + "\n");
                       }}});
    web->listen();
    rtmp_server->listen();
    sip_server->listen();
    if (xmpp_server) xmpp_server->listen();
    if (webrtc_ports) webrtc_ports->listen();
    // SIP over WebSocket has no socket of its own: it is a path on every HTTP listener.
    if (cfg.sip.websocket) {
      const auto bound = rt.listeners();
      for (const auto& l : bound)
        if (l.protocol == "http" || l.protocol == "https")
          rt.add_listener({"sip", l.protocol == "http" ? "ws" : "wss",
                           (l.protocol == "http" ? "ws://" : "wss://") + l.address + "/sip"});
    }
    for (const auto& l : rt.listeners())
      if (l.protocol == "sip" && l.transport == "udp")
        if (auto a = listen_address::parse(l.address)) {
          gateway->set_sip_server(a->host, a->port);
          break;
        }
  } catch (const config_error& e) {
    // A certificate that does not load, a cipher OpenSSL does not know: the configuration's.
    log::error("cannot start: {}", e.what());
    std::fprintf(stderr, "junction: cannot start: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    log::error("cannot start: {}", e.what());
    std::fprintf(stderr, "junction: cannot start: %s\n", e.what());
    return 1;
  }
  rt.start();

  log::info("junction {} ready: {} shards on {}, config {}", JUNCTION_VERSION, rt.size(),
            JUNCTION_IO_BACKEND, cfg.source);
  // Once each: the log says it; standard output says it too (for scripts and tests reading it),
  // unless both go to the same terminal.
  const bool one_terminal = cfg.server.log_file.empty() && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
  for (const auto& l : rt.listeners()) {
    if (!one_terminal)
      std::printf("listening: %s %s %s\n", l.protocol.c_str(), l.transport.c_str(), l.address.c_str());
    log::info("listening: {} {} {}", l.protocol, l.transport, l.address);
  }
  std::fflush(stdout);

  sd_notify("READY=1");
  int sig = 0;
  for (;;) {
    siginfo_t info{};
    sig = wait_for_signal(all_signals, &info);
    if (sig == SIGUSR1) {
      const bool reopened = log::reopen_files();
      (reopened ? log::info("SIGUSR1: log files reopened") : log::warn("SIGUSR1: a log file could not be reopened"));
      continue;
    }
    if (sig == SIGHUP) {
      log::info("SIGHUP received: reloading {}", path.empty() ? std::string("(no configuration file)") : path);
      reload->reload();
      continue;
    }
    if (sig == reload_request_signal()) {
      // Only this process's own requests (the API's) count: another's would be a forged one.
      if (info.si_code != SI_QUEUE || info.si_pid != ::getpid()) continue;
      log::info("reload requested over the admin API");
      reload->answer(info.si_value.sival_int, reload->reload());
      continue;
    }
    break;
  }
  sd_notify("STOPPING=1");
  log::info("{} received: draining (deadline {} ms, send it again to close at once)",
            sig == SIGINT ? "SIGINT" : "SIGTERM", cfg.server.shutdown_timeout.count());
  rt.shutdown(cfg.server.shutdown_timeout, [&] { return signal_pending(signals); });
  // The shards have stopped. What is left goes in this order, each before what it refers to:
  hub->close();             // publications end; what the loops still hold finds the hub closed
  workers.stop();           // jobs still queued are dropped: nothing posts to the shards any more
  user_directory.reset();   // its worker first: it posts to the shards' caches
  sip_server.reset();       // its per-shard services (sharded<T>) and listeners
  whip.reset();             // WHIP and WHEP sessions (ended by the drain already)
  webrtc_ports.reset();     // the shards' WebRTC ports (stopped by the drain)
  if (xmpp_server) xmpp_server->release_loop_state();  // BOSH sessions and hibernating streams: the loops' timers
  runtime_holder.reset();   // the loops, with the sessions, lines and legs they still hold, which
                            // refer to the RTMP and HTTP servers (a session's memory budget, its
                            // settings), the gateway, the recordings, the hub and the workers
  xmpp_server.reset();      // its routers, which the streams the loops held detached from
  rtmp_server.reset();
  web.reset();
  gateway.reset();
  recordings.reset();
  log::info("stopped");
  return 0;
}

}  // namespace junction::app
