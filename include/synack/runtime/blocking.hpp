#pragma once
// Blocking socket calls over posix::socket_table, on an event loop. posix/ never blocks: a
// call that would returns EINPROGRESS or EAGAIN. Here, for a blocking socket (no O_NONBLOCK,
// no MSG_DONTWAIT), the loop runs until poll says the call can go on, and the call is made
// again — what the kernel does when it puts the caller to sleep on the socket's wait queue:
//   connect  EINPROGRESS -> wait for POLLOUT -> connect again: 0, or the error (ECONNREFUSED,
//            ETIMEDOUT, EHOSTUNREACH ...) exactly as the second call of a non-blocking one
//   accept   EAGAIN -> wait for POLLIN
//   recv     EAGAIN -> wait for POLLIN (MSG_WAITALL: until the buffer is full, EOF or error;
//            on a datagram socket one datagram, MSG_WAITALL meaning nothing, as udp_recvmsg)
//   recvfrom EAGAIN -> wait for POLLIN; the datagram's source (MSG_WAITALL is recv's)
//   send     until every byte is taken (a partial count if an error comes after some); a
//            datagram socket's EAGAIN (the host's transmit queue full) -> wait for POLLOUT
//   sendto   the same, to an address (a datagram socket's destination)
//   poll     up to timeout_ms (negative: no limit)
//   close    SO_LINGER on with l_linger > 0: waits while our FIN is unacknowledged
//            (FIN-WAIT-1, CLOSING, LAST-ACK) for at most l_linger seconds, then returns 0
//            either way (sk_stream_wait_close); l_linger < 0 is Linux's "for ever"
// SO_RCVTIMEO bounds the waits of recv and accept, SO_SNDTIMEO those of send and connect, as
// Linux's sock_rcvtimeo / sock_sndtimeo: when the time runs out, recv / send return what they
// moved so far or EAGAIN, accept EAGAIN, connect EINPROGRESS (the handshake goes on).
// `each_round` runs after every loop round: other work of a single-threaded program (tests
// drive the peer's loop with it).
#include <functional>
#include <span>

#include "synack/posix/socket_table.hpp"
#include "synack/runtime/event_loop.hpp"

namespace synack::runtime {

class blocking_sockets {
 public:
  blocking_sockets(event_loop& loop, posix::socket_table& table, duration round = std::chrono::milliseconds(10),
                   std::function<void()> each_round = {});

  posix::sys_result<void> connect(int fd, posix::sock_addr a);
  posix::sys_result<posix::accepted> accept(int fd, int flags = 0);
  posix::sys_result<std::size_t> recv(int fd, mutable_bytes out, int flags = 0);
  posix::sys_result<std::size_t> send(int fd, bytes data, int flags = 0);
  posix::sys_result<posix::received> recvfrom(int fd, mutable_bytes out, int flags = 0);
  posix::sys_result<std::size_t> sendto(int fd, bytes data, int flags, const std::optional<posix::sock_addr>& to);
  posix::sys_result<int> poll(std::span<posix::poll_fd> fds, int timeout_ms);
  // The calls that never wait, at the loop's time.
  posix::sys_result<void> shutdown(int fd, int how) { return table_.shutdown(loop_.now(), fd, how); }
  posix::sys_result<void> close(int fd);

  [[nodiscard]] posix::socket_table& table() { return table_; }

 private:
  [[nodiscard]] bool blocks(int fd, int flags) const;
  // When a wait on `fd` must end: SO_RCVTIMEO (`sending` false) or SO_SNDTIMEO from now;
  // instant::max() for none.
  [[nodiscard]] instant wait_limit(int fd, bool sending) const;
  // Runs the loop until `fd` reports one of `events` (or POLLERR / POLLHUP / POLLNVAL): true;
  // false if `until` came first.
  bool wait_for(int fd, short events, instant until);
  // One loop round that waits no later than `until`.
  void round(instant until = instant::max());

  event_loop& loop_;
  posix::socket_table& table_;
  duration round_;
  std::function<void()> each_round_;
};

}  // namespace synack::runtime
