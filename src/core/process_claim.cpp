#include "core/process_claim.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <functional>

#include <fmt/format.h>

namespace junction {

std::string claim_socket_name(std::string_view name) {
  constexpr std::size_t room = sizeof(sockaddr_un::sun_path) - 1;  // after the leading NUL
  if (name.size() <= room) return std::string{name};
  // Keep the start (what held_claims filters on) and make the rest a hash of the whole.
  std::string hash = fmt::format("#{:016x}", std::hash<std::string_view>{}(name));
  return std::string{name.substr(0, room - hash.size())} + hash;
}

bool process_claims::claim(std::string_view name) {
  const std::string abstract = claim_socket_name(name);
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, abstract.data(), abstract.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract.size());
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    const int error = errno;
    ::close(fd);
    return error != EADDRINUSE;
  }
  fds_.push_back(fd);
  return true;
}

process_claims::~process_claims() {
  for (int fd : fds_) ::close(fd);
}

std::vector<std::string> held_claims(std::string_view prefix) {
  // Lines: "Num RefCount Protocol Flags Type St Inode Path"; an abstract name shows as "@name".
  std::vector<std::string> out;
  std::ifstream table{"/proc/net/unix"};
  std::string line;
  while (std::getline(table, line)) {
    const auto at = line.find(" @");
    if (at == std::string::npos) continue;
    std::string name = line.substr(at + 2);
    if (name.starts_with(prefix)) out.push_back(std::move(name));
  }
  return out;
}

}  // namespace junction
