#pragma once
// UDP in batches: what a socket has queued is read with one recvmmsg(2) per `capacity`
// datagrams, without blocking, after one readiness wake-up, instead of one asynchronous
// receive (a completion, a handler, a wake-up) per datagram. And a datagram is sent at once
// with a non-blocking sendto(2) when the socket buffer has room (nearly always), with no
// completion to wait for: the caller queues it asynchronously only when it does not.
#include <sys/socket.h>

#include <cstddef>
#include <string_view>
#include <vector>

#include <boost/asio/ip/udp.hpp>

namespace junction {

class datagram_batch {
 public:
  explicit datagram_batch(std::size_t capacity = 16, std::size_t max_size = 65536);
  datagram_batch(const datagram_batch&) = delete;
  datagram_batch& operator=(const datagram_batch&) = delete;

  // Reads up to capacity() datagrams that wait on `fd`: how many (0 when none waits), or -1 with
  // errno (ECONNREFUSED and friends: ICMP errors of earlier sends, which the caller may ignore).
  int receive(int fd);
  std::size_t capacity() const noexcept { return headers_.size(); }
  std::string_view data(std::size_t i) const noexcept {
    return {buffers_.data() + i * max_size_, headers_[i].msg_len};
  }
  boost::asio::ip::udp::endpoint peer(std::size_t i) const;

 private:
  std::size_t max_size_;
  std::vector<char> buffers_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_storage> peers_;
  std::vector<mmsghdr> headers_;
};

// What one readiness wake-up of a UDP socket reads: batches of what `fd` has queued, at most
// `rounds` of them (so that one busy socket does not hold the shard), until a batch comes back
// short or `go_on()` turns false. `each(data, peer)` is called for every datagram. A batch that
// fails (ICMP errors of earlier sends surface here) is not the caller's to act on.
template <class Each, class GoOn>
void drain_datagrams(datagram_batch& batch, int fd, Each&& each, GoOn&& go_on, int rounds = 8) {
  for (int round = 0; round < rounds && go_on(); ++round) {
    const int n = batch.receive(fd);
    if (n < 0) continue;
    if (n == 0) break;
    for (int i = 0; i < n && go_on(); ++i)
      each(batch.data(static_cast<std::size_t>(i)), batch.peer(static_cast<std::size_t>(i)));
    if (static_cast<std::size_t>(n) < batch.capacity()) break;
  }
}

// Sends `bytes` to `peer` on `fd` now if the socket takes it: true when it is sent, or failed in
// a way a datagram may (lost as on the network); false when the buffer is full (EAGAIN) and the
// caller should queue it.
bool send_datagram_now(int fd, std::string_view bytes, const boost::asio::ip::udp::endpoint& peer) noexcept;

}  // namespace junction
