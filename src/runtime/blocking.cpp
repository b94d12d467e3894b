// Blocking calls: posix/ answers as non-blocking; the loop runs until the call can complete.
#include "synack/runtime/blocking.hpp"

#include <cerrno>

namespace synack::runtime {

using posix::sys_result;

blocking_sockets::blocking_sockets(event_loop& loop, posix::socket_table& table, duration round,
                                   std::function<void()> each_round)
    : loop_(loop), table_(table), round_(round), each_round_(std::move(each_round)) {}

bool blocking_sockets::blocks(int fd, int flags) const {
  if ((flags & posix::msg_dontwait) != 0) return false;
  auto nb = table_.nonblocking(fd);
  return nb.has_value() && !*nb;
}

void blocking_sockets::round() {
  loop_.run_once(round_);
  if (each_round_) each_round_();
}

void blocking_sockets::wait_for(int fd, short events) {
  const auto wake = static_cast<short>(events | posix::pollerr | posix::pollhup | posix::pollnval);
  while ((table_.revents(fd) & wake) == 0) round();
}

sys_result<void> blocking_sockets::connect(int fd, posix::sock_addr a) {
  auto r = table_.connect(loop_.now(), fd, a);
  if (r || r.error() != EINPROGRESS || !blocks(fd, 0)) return r;
  // inet_wait_for_connect(): sleep until SYN-SENT is over, then report as connect does.
  wait_for(fd, posix::pollout);
  return table_.connect(loop_.now(), fd, a);
}

sys_result<posix::accepted> blocking_sockets::accept(int fd, int flags) {
  for (;;) {
    auto r = table_.accept(fd, flags);
    if (r || r.error() != EAGAIN || !blocks(fd, 0)) return r;
    wait_for(fd, posix::pollin);
  }
}

sys_result<std::size_t> blocking_sockets::recv(int fd, mutable_bytes out, int flags) {
  const bool waitall = (flags & posix::msg_waitall) != 0 && (flags & posix::msg_peek) == 0;
  const int pass = flags & ~posix::msg_waitall;
  std::size_t got = 0;
  for (;;) {
    auto r = table_.recv(fd, out.subspan(got), pass);
    if (!r) {
      if (r.error() != EAGAIN || !blocks(fd, flags)) return got > 0 ? sys_result<std::size_t>{got} : r;
      wait_for(fd, posix::pollin);
      continue;
    }
    got += *r;
    if (*r == 0 || !waitall || got == out.size()) return got;
  }
}

sys_result<std::size_t> blocking_sockets::send(int fd, bytes data, int flags) {
  std::size_t sent = 0;
  for (;;) {
    auto r = table_.send(fd, data.subspan(sent), flags);
    if (!r) {
      if (r.error() == EAGAIN && blocks(fd, flags)) {
        wait_for(fd, posix::pollout);
        continue;
      }
      return sent > 0 ? sys_result<std::size_t>{sent} : r;
    }
    sent += *r;
    if (sent == data.size() || !blocks(fd, flags)) return sent;
  }
}

sys_result<int> blocking_sockets::poll(std::span<posix::poll_fd> fds, int timeout_ms) {
  const instant until = loop_.now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const int n = table_.poll(fds);
    if (n > 0 || timeout_ms == 0 || (timeout_ms > 0 && loop_.now() >= until)) return n;
    round();
  }
}

}  // namespace synack::runtime
