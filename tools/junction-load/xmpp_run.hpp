#pragma once
// junction-load xmpp: many XMPP users at once against any server (Junction, Prosody, ejabberd).
// Each user <prefix><n>@<domain> logs in over TCP (STARTTLS with --tls) with SCRAM-SHA-256 (or
// SCRAM-SHA-1), binds, sends its presence; once all are in (and --idle has passed, for a memory
// reading of the idle sessions), each sends chat messages to the others at its share of --rate
// for --duration, each body carrying its send time. Every message received is matched to its
// sender and counted.
//
// Prints JSON lines on stdout as it goes ({"event": "logged_in"}, {"event": "messaging"},
// {"event": "messaging_done"}) for a script that measures the server between them, then the
// report: logins (ok, failed, per second, latency), messages (sent, received, lost, latency
// p50/p99/max, per second) and its own CPU.
#include <chrono>
#include <string>

#include <boost/asio/ip/tcp.hpp>

namespace junction::load {

struct xmpp_options {
  boost::asio::ip::tcp::endpoint server;
  std::string domain = "localhost";
  std::string user_prefix = "load";  // users <prefix><n>@<domain>
  unsigned first_user = 0;
  std::string password = "load";
  unsigned users = 100;
  unsigned ramp = 200;               // logins started per second
  double rate = 100;                 // messages per second, all users together
  std::chrono::milliseconds duration{10'000};  // of messaging
  std::chrono::milliseconds idle{0};           // logged in, before messaging
  bool tls = false;                  // STARTTLS (no certificate check)
  std::string mechanism = "SCRAM-SHA-256";
  unsigned threads = 1;              // event loops, users shared among them
  std::size_t body_size = 64;        // bytes of each body (at least what the stamp needs)
};

// 0 when every user logged in and every message arrived, 3 when not, 1 when nothing could run.
int run_xmpp_load(const xmpp_options& o);

}  // namespace junction::load
