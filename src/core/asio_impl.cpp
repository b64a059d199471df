// Asio's implementation, compiled once for the whole program (BOOST_ASIO_SEPARATE_COMPILATION).

#if defined(BOOST_ASIO_HAS_IO_URING)
// Asio 1.81 (Boost 1.81, Debian 12) prepares its io_uring cancellations without setting the
// request's user data (io_uring_service.ipp: io_uring_prep_cancel, no io_uring_sqe_set_data),
// and liburing 2.3's prep functions do not clear it. A cancellation so inherits the user data of
// whatever request last used its slot in the submission ring, and its completion (0 when the
// cancellation succeeded) is delivered as that request's result: an accept completes with
// "descriptor 0" (which the server then shuts down and closes), a read of a connection that has
// since been freed writes into freed memory. Seen as close(0) and "malloc(): unsorted double
// linked list corrupted" after a burst of HTTP header timeouts (each closes a socket with a read
// pending, which cancels it). The cancellations compiled here go through this wrapper, which
// clears it (Asio ignores a completion without user data); drop it once the packaged Asio clears
// the user data of every request it prepares (test_http.TimeoutsAfterStreamedFilesTest tells). All of Asio's io_uring
// cancellations are in io_uring_service.ipp, which is compiled only in this file.
#include <liburing.h>

static inline void junction_io_uring_prep_cancel(io_uring_sqe* sqe, void* user_data, int flags) {
  io_uring_prep_cancel(sqe, user_data, flags);
  io_uring_sqe_set_data(sqe, nullptr);
}
#define io_uring_prep_cancel junction_io_uring_prep_cancel

// Each shard's ring is made with IORING_SETUP_COOP_TASKRUN (Linux 5.19): a completion that
// arrives while the shard runs in user space (a socket's data, a peer's ACK) no longer
// interrupts it with an IPI to run the completion's task work at once; the work runs at the
// shard's next system call or wait, in a batch. Without it a TCP read completed by io_uring ran
// on the shard while the softirq that woke it still held the socket's lock: in a profile of
// small HTTP requests 5 % of the CPU spun in tcp_recvmsg's lock_sock, and the io_uring build
// served 15-20 % fewer requests than the epoll build. A kernel without the flag gets the ring
// Asio asks for.
static inline int junction_io_uring_queue_init(unsigned entries, io_uring* ring, unsigned flags) {
  io_uring_params params{};
  // TASKRUN_FLAG marks the ring while work waits, so even Asio's peek for completions (between
  // two handlers, no system call of its own) enters the kernel to run it: a shard busy with
  // handlers still sees its completions.
  params.flags = flags | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  const int result = io_uring_queue_init_params(entries, ring, &params);
  if (result != -EINVAL) return result;
  return io_uring_queue_init(entries, ring, flags);
}
#define io_uring_queue_init junction_io_uring_queue_init
#endif

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
