// Blocking calls: posix/ answers as non-blocking; the loop runs until the call can complete,
// or until SO_RCVTIMEO / SO_SNDTIMEO / the linger time runs out.
#include "synack/runtime/blocking.hpp"

#include <algorithm>
#include <cerrno>

namespace synack::runtime {

using posix::sys_result;

namespace {

// sk_stream_wait_close()'s closing(): our FIN is sent and not yet acknowledged.
bool fin_unacknowledged(const host& h, const four_tuple& t) {
  const auto s = h.state(t);
  return s == tcp_state::fin_wait_1 || s == tcp_state::closing || s == tcp_state::last_ack;
}

}  // namespace

blocking_sockets::blocking_sockets(event_loop& loop, posix::socket_table& table, duration round,
                                   std::function<void()> each_round)
    : loop_(loop), table_(table), round_(round), each_round_(std::move(each_round)) {}

bool blocking_sockets::blocks(int fd, int flags) const {
  if ((flags & posix::msg_dontwait) != 0) return false;
  auto nb = table_.nonblocking(fd);
  return nb.has_value() && !*nb;
}

instant blocking_sockets::wait_limit(int fd, bool sending) const {
  const auto t = sending ? table_.send_timeout(fd) : table_.recv_timeout(fd);
  if (!t || !*t) return instant::max();
  return loop_.now() + **t;
}

void blocking_sockets::round(instant until) {
  duration wait = round_;
  if (until != instant::max()) wait = std::clamp(until - loop_.now(), duration{0}, round_);
  loop_.run_once(wait);
  if (each_round_) each_round_();
}

bool blocking_sockets::wait_for(int fd, short events, instant until) {
  const auto wake = static_cast<short>(events | posix::pollerr | posix::pollhup | posix::pollnval);
  while ((table_.revents(fd) & wake) == 0) {
    if (loop_.now() >= until) return false;
    round(until);
  }
  return true;
}

sys_result<void> blocking_sockets::connect(int fd, posix::sock_addr a) {
  auto r = table_.connect(loop_.now(), fd, a);
  if (r || r.error() != EINPROGRESS || !blocks(fd, 0)) return r;
  // inet_wait_for_connect(): sleep until SYN-SENT is over, then report as connect does. Out
  // of SO_SNDTIMEO time: EINPROGRESS, the handshake going on.
  if (!wait_for(fd, posix::pollout, wait_limit(fd, true))) return r;
  return table_.connect(loop_.now(), fd, a);
}

sys_result<posix::accepted> blocking_sockets::accept(int fd, int flags) {
  const instant until = wait_limit(fd, false);
  for (;;) {
    auto r = table_.accept(fd, flags);
    if (r || r.error() != EAGAIN || !blocks(fd, 0)) return r;
    if (!wait_for(fd, posix::pollin, until)) return r;
  }
}

sys_result<std::size_t> blocking_sockets::recv(int fd, mutable_bytes out, int flags) {
  int type = posix::sock_stream;
  (void)table_.getsockopt(fd, posix::sol_socket, posix::so_type, std::as_writable_bytes(std::span{&type, 1}));
  const bool waitall = (flags & posix::msg_waitall) != 0 && (flags & posix::msg_peek) == 0 && type == posix::sock_stream;
  const int pass = flags & ~posix::msg_waitall;
  const instant until = wait_limit(fd, false);
  std::size_t got = 0;
  for (;;) {
    auto r = table_.recv(fd, out.subspan(got), pass);
    if (!r) {
      const bool waits = r.error() == EAGAIN && blocks(fd, flags) && wait_for(fd, posix::pollin, until);
      if (!waits) return got > 0 ? sys_result<std::size_t>{got} : r;
      continue;
    }
    got += *r;
    if (*r == 0 || !waitall || got == out.size()) return got;
  }
}

sys_result<posix::received> blocking_sockets::recvfrom(int fd, mutable_bytes out, int flags) {
  const instant until = wait_limit(fd, false);
  for (;;) {
    auto r = table_.recvfrom(fd, out, flags & ~posix::msg_waitall);
    if (r || r.error() != EAGAIN || !blocks(fd, flags) || !wait_for(fd, posix::pollin, until)) return r;
  }
}

sys_result<std::size_t> blocking_sockets::send(int fd, bytes data, int flags) { return sendto(fd, data, flags, std::nullopt); }

sys_result<std::size_t> blocking_sockets::sendto(int fd, bytes data, int flags, const std::optional<posix::sock_addr>& to) {
  const instant until = wait_limit(fd, true);
  std::size_t sent = 0;
  for (;;) {
    auto r = to ? table_.sendto(loop_.now(), fd, data.subspan(sent), flags, to) : table_.send(fd, data.subspan(sent), flags);
    if (!r) {
      if (r.error() == EAGAIN && blocks(fd, flags) && wait_for(fd, posix::pollout, until)) continue;
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
    round(timeout_ms > 0 ? until : instant::max());
  }
}

// tcp_close() with SO_LINGER on and a time: the FIN goes out (or the RST, for unread data),
// then sk_stream_wait_close() sleeps while it is unacknowledged, at most the linger time.
// close returns 0 either way; an unacknowledged FIN goes on in the background. As Linux's
// inet_release, the wait happens whatever O_NONBLOCK says (BSD would not wait there).
sys_result<void> blocking_sockets::close(int fd) {
  posix::linger_opt lg;
  const auto got = table_.getsockopt(fd, posix::sol_socket, posix::so_linger, std::as_writable_bytes(std::span{&lg, 1}));
  const auto h = table_.connection_of(fd);
  const auto st = h ? table_.stack().status(*h) : std::nullopt;
  const bool linger = got && lg.l_onoff != 0 && lg.l_linger != 0 && st.has_value();
  const four_tuple t = st ? st->tuple : four_tuple{};
  auto r = table_.close(loop_.now(), fd);
  if (!r || !linger) return r;
  const instant until = lg.l_linger < 0 ? instant::max() : loop_.now() + std::chrono::seconds(lg.l_linger);
  while (fin_unacknowledged(table_.stack(), t) && loop_.now() < until) round(until);
  return r;
}

}  // namespace synack::runtime
