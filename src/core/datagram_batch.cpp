#include "core/datagram_batch.hpp"

#include <cerrno>
#include <cstring>

namespace junction {

datagram_batch::datagram_batch(std::size_t capacity, std::size_t max_size)
    : max_size_(max_size), buffers_(capacity * max_size), iovecs_(capacity), peers_(capacity), headers_(capacity) {
  for (std::size_t i = 0; i < capacity; ++i) {
    iovecs_[i] = {buffers_.data() + i * max_size, max_size};
    headers_[i].msg_hdr = {};
    headers_[i].msg_hdr.msg_iov = &iovecs_[i];
    headers_[i].msg_hdr.msg_iovlen = 1;
    headers_[i].msg_hdr.msg_name = &peers_[i];
  }
}

int datagram_batch::receive(int fd) {
  for (std::size_t i = 0; i < headers_.size(); ++i) {
    headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    headers_[i].msg_len = 0;
  }
  int n = ::recvmmsg(fd, headers_.data(), static_cast<unsigned>(headers_.size()), MSG_DONTWAIT, nullptr);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
  return n;
}

boost::asio::ip::udp::endpoint datagram_batch::peer(std::size_t i) const {
  boost::asio::ip::udp::endpoint ep;
  const auto length = headers_[i].msg_hdr.msg_namelen;
  if (length <= ep.capacity()) {
    std::memcpy(ep.data(), &peers_[i], length);
    ep.resize(length);
  }
  return ep;
}

bool send_datagram_now(int fd, std::string_view bytes, const boost::asio::ip::udp::endpoint& peer) noexcept {
  const ssize_t n = ::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL, peer.data(),
                             static_cast<socklen_t>(peer.size()));
  return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace junction
