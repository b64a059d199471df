#pragma once
// Names a running junction holds, so that another process on this machine can tell: an abstract
// Unix socket per name (Linux; no file to clean up, gone with the process, one namespace per
// network namespace like the ports themselves). Used for
//   - the listeners: "junction:<tcp|udp>:<host>:<port>". SO_REUSEPORT lets a second junction
//     of the same user bind the same ports and silently take half of the traffic; with the
//     claim it is refused at start, unless server.share_listeners says so;
//   - the user store: "junction:users:<absolute path>", so that `junction users` can warn when
//     it changes a database that the running server does not read.
#include <string>
#include <string_view>
#include <vector>

namespace junction {

class process_claims {
 public:
  process_claims() = default;
  process_claims(const process_claims&) = delete;
  process_claims& operator=(const process_claims&) = delete;
  ~process_claims();

  // False when another process holds `name` (and nothing is claimed); other failures (no
  // abstract sockets) count as claimed: the claim is a courtesy, never a reason not to start.
  bool claim(std::string_view name);

 private:
  std::vector<int> fds_;
};

// The abstract socket name used for `name` (long names are shortened to a hash of them).
std::string claim_socket_name(std::string_view name);

// Every name held on this machine (this network namespace) that starts with `prefix`, as
// claim_socket_name gave it, read from /proc/net/unix.
std::vector<std::string> held_claims(std::string_view prefix);

}  // namespace junction
