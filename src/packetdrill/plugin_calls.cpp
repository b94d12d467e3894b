// The plug-in's socket calls: libc's signatures and errno over posix::socket_table, with the
// waits of a blocking socket (as runtime::blocking_sockets, on the plug-in's clock).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "plugin.hpp"

namespace synack::packetdrill {
namespace {

template <class T>
T fail(int e) {
  errno = e;
  return T{-1};
}

template <class T>
T done(const posix::sys_result<void>& r) {
  return r ? T{0} : fail<T>(r.error());
}

posix::sys_result<posix::sock_addr> from_sockaddr(const sockaddr* a, socklen_t len) {
  if (a == nullptr) return unexpected{EFAULT};
  if (len < static_cast<socklen_t>(sizeof(sa_family_t))) return unexpected{EINVAL};
  if (a->sa_family == AF_INET6) {
    if (len < static_cast<socklen_t>(sizeof(sockaddr_in6))) return unexpected{EINVAL};
    sockaddr_in6 in6{};
    std::memcpy(&in6, a, sizeof in6);
    ipv6_addr v6;
    std::memcpy(v6.octets.data(), &in6.sin6_addr, 16);
    return posix::sock_addr{ip_addr{v6}, ntohs(in6.sin6_port), AF_INET6, in6.sin6_scope_id};
  }
  if (a->sa_family != AF_INET) return posix::sock_addr{{}, 0, a->sa_family};
  if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return unexpected{EINVAL};
  sockaddr_in in{};
  std::memcpy(&in, a, sizeof in);
  return posix::sock_addr{ipv4_addr{ntohl(in.sin_addr.s_addr)}, ntohs(in.sin_port), AF_INET};
}

void to_sockaddr(const posix::sock_addr& a, sockaddr* out, socklen_t* len) {
  if (out == nullptr || len == nullptr) return;
  if (a.family == AF_INET6) {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(a.port);
    in6.sin6_scope_id = a.scope_id;
    std::memcpy(&in6.sin6_addr, a.addr.v6().octets.data(), 16);
    std::memcpy(out, &in6, std::min<std::size_t>(sizeof in6, static_cast<std::size_t>(*len)));
    *len = sizeof in6;
    return;
  }
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(a.port);
  in.sin_addr.s_addr = htonl(a.addr.low32());
  std::memcpy(out, &in, std::min<std::size_t>(sizeof in, static_cast<std::size_t>(*len)));
  *len = sizeof in;
}

std::size_t iov_total(const iovec* iov, std::size_t n) {
  std::size_t t = 0;
  for (std::size_t i = 0; i < n; ++i) t += iov[i].iov_len;
  return t;
}

bool iov_valid(const iovec* iov, std::size_t n) {
  if (n > 0 && iov == nullptr) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (iov[i].iov_base == nullptr && iov[i].iov_len > 0) return false;
  }
  return true;
}

}  // namespace

std::optional<int> plugin::table_fd(int kfd) const {
  const auto it = fds_.find(kfd);
  if (it == fds_.end()) return std::nullopt;
  return it->second;
}

// A real descriptor for socket_table descriptor `tfd`: packetdrill close()s it at the end.
int plugin::new_kernel_fd(int tfd) {
  const int kfd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (kfd < 0) {
    const int e = errno;
    (void)table_->close(now_, tfd);
    return fail<int>(e);
  }
  fds_[kfd] = tfd;
  return kfd;
}

bool plugin::blocks(int tfd, int flags) const {
  if ((flags & MSG_DONTWAIT) != 0) return false;
  auto nb = table_->nonblocking(tfd);
  return nb && !*nb;
}

instant plugin::limit(int tfd, bool sending) const {
  const auto t = sending ? table_->send_timeout(tfd) : table_->recv_timeout(tfd);
  return t && *t ? now_ + **t : instant::max();
}

// net.ipv4.tcp_fastopen as the script set it last: scripts change it between calls on one socket.
void plugin::refresh_fastopen() {
  if (!opt_.sysctl) return;
  if (const auto fo = fastopen_sysctl()) table_->set_fast_open_sysctl(*fo);
}

int plugin::socket(int domain, int type, int protocol) {
  lock lk(mu_);
  if (opt_.linux_defaults || opt_.sysctl) {
    tcp_config c = opt_.host.tcp;
    if (opt_.sysctl) apply_sysctls(c);
    table_->set_defaults(c);
  }
  refresh_fastopen();
  auto r = table_->socket(domain, type, protocol);
  if (!r) return fail<int>(r.error());
  const int kfd = new_kernel_fd(*r);
  trace("socket() = %d", kfd);
  return kfd;
}

int plugin::bind(int fd, const sockaddr* addr, socklen_t len) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<int>(EBADF);
  auto a = from_sockaddr(addr, len);
  if (!a) return fail<int>(a.error());
  return done<int>(table_->bind(*t, *a));
}

int plugin::listen(int fd, int backlog) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<int>(EBADF);
  return done<int>(table_->listen(*t, backlog));
}

int plugin::accept(int fd, sockaddr* addr, socklen_t* len) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<int>(EBADF);
  const instant until = limit(*t, false);
  for (;;) {
    auto r = table_->accept(*t, 0);
    if (r) {
      to_sockaddr(r->peer, addr, len);
      return new_kernel_fd(r->fd);
    }
    if (r.error() != EAGAIN || !blocks(*t, 0) || !wait_events(lk, *t, posix::pollin, until)) {
      return fail<int>(r.error());
    }
  }
}

int plugin::connect(int fd, const sockaddr* addr, socklen_t len) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<int>(EBADF);
  auto a = from_sockaddr(addr, len);
  if (!a) return fail<int>(a.error());
  refresh_fastopen();
  auto r = table_->connect(now_, *t, *a);
  pump();
  if (r || r.error() != EINPROGRESS || !blocks(*t, 0)) return done<int>(r);
  // inet_wait_for_connect(): until SYN-SENT is over, then as the second call of a
  // non-blocking connect would answer.
  if (!wait_events(lk, *t, posix::pollout, limit(*t, true))) return fail<int>(EINPROGRESS);
  r = table_->connect(now_, *t, *a);
  pump();
  return done<int>(r);
}

ssize_t plugin::recv_locked(lock& lk, int tfd, mutable_bytes out, int flags) {
  const bool waitall = (flags & MSG_WAITALL) != 0 && (flags & MSG_PEEK) == 0;
  const int pass = flags & ~MSG_WAITALL;
  const instant until = limit(tfd, false);
  std::size_t got = 0;
  for (;;) {
    auto r = table_->recv(tfd, out.subspan(got), pass);
    pump();  // reading may open the window: a window update
    if (!r) {
      const bool waits = r.error() == EAGAIN && blocks(tfd, flags) && wait_events(lk, tfd, posix::pollin, until);
      if (!waits) return got > 0 ? static_cast<ssize_t>(got) : fail<ssize_t>(r.error());
      continue;
    }
    got += *r;
    if (*r == 0 || !waitall || got == out.size()) return static_cast<ssize_t>(got);
  }
}

ssize_t plugin::send_locked(lock& lk, int tfd, bytes data, int flags) {
  const instant until = limit(tfd, true);
  std::size_t sent = 0;
  for (;;) {
    auto r = table_->send(tfd, data.subspan(sent), flags);
    pump();
    if (!r) {
      if (r.error() == EAGAIN && blocks(tfd, flags) && wait_events(lk, tfd, posix::pollout, until)) continue;
      return sent > 0 ? static_cast<ssize_t>(sent) : fail<ssize_t>(r.error());
    }
    sent += *r;
    if (sent == data.size() || !blocks(tfd, flags)) return static_cast<ssize_t>(sent);
  }
}

ssize_t plugin::recv(int fd, void* buf, std::size_t len, int flags) {
  if ((flags & MSG_ERRQUEUE) != 0) {  // the entry is taken; without room its data is cut
    msghdr m{};
    return recv_error_queue(fd, &m);
  }
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<ssize_t>(EBADF);
  if (buf == nullptr && len > 0) return fail<ssize_t>(EFAULT);
  const ssize_t n = recv_locked(lk, *t, mutable_bytes{static_cast<std::byte*>(buf), len}, flags);
  settle(lk);
  return n;
}

ssize_t plugin::send(int fd, const void* buf, std::size_t len, int flags) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<ssize_t>(EBADF);
  if (buf == nullptr && len > 0) return fail<ssize_t>(EFAULT);
  const ssize_t n = send_locked(lk, *t, bytes{static_cast<const std::byte*>(buf), len}, flags);
  settle(lk);
  return n;
}

ssize_t plugin::sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* addr, socklen_t alen) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<ssize_t>(EBADF);
  if (buf == nullptr && len > 0) return fail<ssize_t>(EFAULT);
  const bytes data{static_cast<const std::byte*>(buf), len};
  // Without MSG_FASTOPEN a connected TCP socket ignores the address (Linux).
  const ssize_t n = (flags & MSG_FASTOPEN) != 0 ? send_fastopen(lk, *t, data, flags, addr, alen)
                                                : send_locked(lk, *t, data, flags);
  settle(lk);
  return n;
}

ssize_t plugin::send_fastopen(lock& lk, int tfd, bytes data, int flags, const sockaddr* addr, socklen_t alen) {
  std::optional<posix::sock_addr> to;
  if (addr != nullptr) {
    auto a = from_sockaddr(addr, alen);
    if (!a) return fail<ssize_t>(a.error());
    to = *a;
  }
  refresh_fastopen();
  auto r = table_->sendto(now_, tfd, data, flags, to);
  pump();
  const std::size_t sent = r ? *r : 0;
  if (!r && r.error() != EINPROGRESS) return fail<ssize_t>(r.error());
  if (!blocks(tfd, flags)) return r ? static_cast<ssize_t>(sent) : fail<ssize_t>(EINPROGRESS);
  // __inet_stream_connect on a blocking socket: until SYN-SENT is over; then tcp_sendmsg goes
  // on with what the SYN did not carry.
  if (!wait_events(lk, tfd, posix::pollout, limit(tfd, true))) return fail<ssize_t>(EINPROGRESS);
  if (sent == data.size() && !data.empty()) return static_cast<ssize_t>(sent);
  const ssize_t more = send_locked(lk, tfd, data.subspan(sent), flags & ~MSG_FASTOPEN);
  if (more < 0) return sent > 0 ? static_cast<ssize_t>(sent) : more;
  return static_cast<ssize_t>(sent) + more;
}

ssize_t plugin::read(int fd, void* buf, std::size_t len) {
  if (!table_fd_unlocked(fd)) return ::read(fd, buf, len);
  return recv(fd, buf, len, 0);
}

ssize_t plugin::write(int fd, const void* buf, std::size_t len) {
  if (!table_fd_unlocked(fd)) return ::write(fd, buf, len);
  return send(fd, buf, len, 0);
}

// With TCP_INQ on, a TCP_CM_INQ control message tells how much is left to read.
ssize_t plugin::recvmsg(int fd, msghdr* msg, int flags) {
  if (msg == nullptr) return fail<ssize_t>(EFAULT);
  const std::size_t iovlen = msg->msg_iovlen;
  if (!iov_valid(msg->msg_iov, iovlen)) return fail<ssize_t>(EFAULT);
  if ((flags & MSG_ERRQUEUE) != 0) return recv_error_queue(fd, msg);
  std::vector<std::byte> tmp(iov_total(msg->msg_iov, iovlen));
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<ssize_t>(EBADF);
  const ssize_t n = recv_locked(lk, *t, tmp, flags);
  if (n < 0) return n;
  std::size_t off = 0;
  for (std::size_t i = 0; i < iovlen && off < static_cast<std::size_t>(n); ++i) {
    const std::size_t k = std::min(msg->msg_iov[i].iov_len, static_cast<std::size_t>(n) - off);
    std::memcpy(msg->msg_iov[i].iov_base, tmp.data() + off, k);
    off += k;
  }
  msg->msg_flags = 0;
  const std::size_t room = msg->msg_controllen;
  msg->msg_controllen = 0;
  if (auto hint = table_->inq_hint(*t); hint && *hint) {
    if (msg->msg_control != nullptr && room >= CMSG_SPACE(sizeof(int))) {
      cmsghdr* c = CMSG_FIRSTHDR(msg);
      msg->msg_controllen = room;
      c = CMSG_FIRSTHDR(msg);
      c->cmsg_level = IPPROTO_TCP;
      c->cmsg_type = posix::tcp_inq;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      const int v = **hint;
      std::memcpy(CMSG_DATA(c), &v, sizeof v);
      msg->msg_controllen = CMSG_SPACE(sizeof(int));
    } else {
      msg->msg_flags |= MSG_CTRUNC;
    }
  }
  settle(lk);
  return n;
}

// ip_recv_error(): never waits; no octets, one control message (the entry and a zeroed
// offender address), MSG_ERRQUEUE in msg_flags; put_cmsg() truncates to the room given.
ssize_t plugin::recv_error_queue(int fd, msghdr* msg) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<ssize_t>(EBADF);
  auto e = table_->recv_error(*t);
  if (!e) return fail<ssize_t>(e.error());
  std::array<std::byte, sizeof(posix::sock_extended_err_data) + sizeof(sockaddr_in6)> data{};
  std::memcpy(data.data(), &e->err, sizeof e->err);
  const std::size_t len = sizeof e->err + (e->cmsg_level == IPPROTO_IPV6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  const std::size_t room = msg->msg_controllen;
  msg->msg_flags = MSG_ERRQUEUE;
  msg->msg_controllen = 0;
  if (msg->msg_control == nullptr || room < CMSG_LEN(0)) {
    msg->msg_flags |= MSG_CTRUNC;
  } else {
    cmsghdr c{};
    c.cmsg_level = e->cmsg_level;
    c.cmsg_type = e->cmsg_type;
    c.cmsg_len = CMSG_LEN(len);
    const std::size_t fits = std::min<std::size_t>(room, CMSG_LEN(len));
    if (fits < CMSG_LEN(len)) msg->msg_flags |= MSG_CTRUNC;
    auto* out = static_cast<std::byte*>(msg->msg_control);
    std::memcpy(out, &c, sizeof c);
    std::memcpy(out + CMSG_LEN(0), data.data(), fits - CMSG_LEN(0));
    msg->msg_controllen = std::min<std::size_t>(room, CMSG_SPACE(len));
  }
  settle(lk);
  return 0;
}

ssize_t plugin::sendmsg(int fd, const msghdr* msg, int flags) {
  if (msg == nullptr) return fail<ssize_t>(EFAULT);
  const std::size_t iovlen = msg->msg_iovlen;
  if (!iov_valid(msg->msg_iov, iovlen)) return fail<ssize_t>(EFAULT);
  std::vector<std::byte> tmp;
  tmp.reserve(iov_total(msg->msg_iov, iovlen));
  for (std::size_t i = 0; i < iovlen; ++i) {
    const auto* p = static_cast<const std::byte*>(msg->msg_iov[i].iov_base);
    tmp.insert(tmp.end(), p, p + msg->msg_iov[i].iov_len);
  }
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<ssize_t>(EBADF);
  const ssize_t n = (flags & MSG_FASTOPEN) != 0
                        ? send_fastopen(lk, *t, tmp, flags, static_cast<const sockaddr*>(msg->msg_name), msg->msg_namelen)
                        : send_locked(lk, *t, tmp, flags);
  settle(lk);
  return n;
}

int plugin::fcntl(int fd, int cmd, long arg) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) {
    lk.unlock();
    return ::fcntl(fd, cmd, arg);
  }
  if (cmd == F_GETFL) {
    auto nb = table_->nonblocking(*t);
    return nb ? (O_RDWR | (*nb ? O_NONBLOCK : 0)) : fail<int>(nb.error());
  }
  if (cmd == F_SETFL) return done<int>(table_->set_nonblocking(*t, (arg & O_NONBLOCK) != 0));
  if (cmd == F_GETFD || cmd == F_SETFD) return 0;
  return fail<int>(EINVAL);
}

int plugin::ioctl(int fd, unsigned long request, void* arg) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) {
    lk.unlock();
    return ::ioctl(fd, request, arg);
  }
  if (arg == nullptr) return fail<int>(EFAULT);
  if (request == FIONBIO) {
    int on = 0;
    std::memcpy(&on, arg, sizeof on);
    return done<int>(table_->set_nonblocking(*t, on != 0));
  }
  auto v = table_->ioctl(*t, request);
  if (!v) return fail<int>(v.error());
  const int x = *v;
  std::memcpy(arg, &x, sizeof x);
  return 0;
}

// tcp_close(); with SO_LINGER and a time, the wait for our FIN's ACK (sk_stream_wait_close).
int plugin::close(int fd) {
  lock lk(mu_);
  for (auto& [e, items] : epolls_) items.erase(fd);  // a closed descriptor leaves every epoll set
  epolls_.erase(fd);
  const auto t = table_fd(fd);
  if (!t) {
    lk.unlock();
    return ::close(fd);
  }
  posix::linger_opt lg;
  const auto got = table_->getsockopt(*t, posix::sol_socket, posix::so_linger, std::as_writable_bytes(std::span{&lg, 1}));
  const auto h = table_->connection_of(*t);
  const connection* c = h ? host_->find(*h) : nullptr;
  const bool linger = got && lg.l_onoff != 0 && lg.l_linger != 0 && c != nullptr;
  const four_tuple tuple = c != nullptr ? c->tuple() : four_tuple{};
  auto r = table_->close(now_, *t);
  fds_.erase(fd);
  ::close(fd);
  pump();
  if (linger) {
    const instant until = lg.l_linger < 0 ? instant::max() : now_ + std::chrono::seconds(lg.l_linger);
    (void)wait(lk, [&] {
      const connection* k = host_->lookup(tuple);
      if (k == nullptr) return true;
      const tcp_state s = k->state();
      return s != tcp_state::fin_wait_1 && s != tcp_state::closing && s != tcp_state::last_ack;
    }, until);
  }
  settle(lk);
  return done<int>(r);
}

int plugin::shutdown(int fd, int how) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<int>(EBADF);
  auto r = table_->shutdown(now_, *t, how);
  pump();
  settle(lk);
  return done<int>(r);
}

int plugin::getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<int>(EBADF);
  if (len == nullptr || (value == nullptr && *len > 0)) return fail<int>(EFAULT);
  if (static_cast<int>(*len) < 0) return fail<int>(EINVAL);
  auto n = table_->getsockopt(*t, level, name, mutable_bytes{static_cast<std::byte*>(value), *len});
  if (!n) return fail<int>(n.error());
  *len = static_cast<socklen_t>(*n);
  return 0;
}

int plugin::setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  lock lk(mu_);
  const auto t = table_fd(fd);
  if (!t) return fail<int>(EBADF);
  if (value == nullptr && len > 0) return fail<int>(EFAULT);
  refresh_fastopen();
  auto r = table_->setsockopt(now_, *t, level, name, bytes{static_cast<const std::byte*>(value), len});
  pump();
  settle(lk);
  return done<int>(r);
}

int plugin::poll(pollfd* fds, nfds_t n, int timeout_ms) {
  if (fds == nullptr && n > 0) return fail<int>(EFAULT);
  lock lk(mu_);
  int ready = 0;
  const auto check = [&] {
    ready = 0;
    for (nfds_t i = 0; i < n; ++i) {
      fds[i].revents = 0;
      if (fds[i].fd < 0) continue;
      const auto t = table_fd(fds[i].fd);
      const short m = t ? table_->revents(*t) : posix::pollnval;
      fds[i].revents = static_cast<short>(m & (fds[i].events | POLLERR | POLLHUP | POLLNVAL));
      if (fds[i].revents != 0) ++ready;
    }
    return ready > 0;
  };
  wait_ms(lk, check, timeout_ms);
  return ready;
}

int plugin::epoll_create(int size) {
  if (size <= 0) return fail<int>(EINVAL);
  const lock lk(mu_);
  const int kfd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (kfd < 0) return -1;
  epolls_[kfd];
  return kfd;
}

int plugin::epoll_ctl(int epfd, int op, int fd, epoll_event* ev) {
  const lock lk(mu_);
  const auto set = epolls_.find(epfd);
  if (set == epolls_.end()) return fail<int>(::fcntl(epfd, F_GETFD) < 0 ? EBADF : EINVAL);
  if (fd == epfd || epolls_.contains(fd)) return fail<int>(EINVAL);  // no nesting
  if (!table_fd(fd)) return fail<int>(::fcntl(fd, F_GETFD) < 0 ? EBADF : EPERM);  // not a socket of ours
  if (op != EPOLL_CTL_DEL && ev == nullptr) return fail<int>(EFAULT);
  const auto it = set->second.find(fd);
  switch (op) {
    case EPOLL_CTL_ADD:
      if (it != set->second.end()) return fail<int>(EEXIST);
      set->second[fd] = epoll_item{ev->events, ev->data.u64};
      return 0;
    case EPOLL_CTL_MOD:
      if (it == set->second.end()) return fail<int>(ENOENT);
      // Linux: EPOLLEXCLUSIVE is for EPOLL_CTL_ADD only, and an exclusive item cannot be changed.
      if (((ev->events | it->second.events) & EPOLLEXCLUSIVE) != 0) return fail<int>(EINVAL);
      it->second = epoll_item{ev->events, ev->data.u64};  // re-armed, and reported afresh
      return 0;
    case EPOLL_CTL_DEL:
      if (it == set->second.end()) return fail<int>(ENOENT);
      set->second.erase(it);
      return 0;
    default:
      return fail<int>(EINVAL);
  }
}

std::uint64_t plugin::edge_mark(int tfd, short mask) const {
  if (const auto h = table_->connection_of(tfd)) {
    const auto e = edges_.find(std::uint64_t{h->index} << 32 | h->gen);
    return e == edges_.end() ? 0 : e->second;
  }
  return static_cast<std::uint16_t>(mask);  // a listener: its mask changing is the edge
}

int plugin::epoll_wait(int epfd, epoll_event* evs, int max, int timeout_ms) {
  lock lk(mu_);
  const auto set = epolls_.find(epfd);
  if (set == epolls_.end()) return fail<int>(::fcntl(epfd, F_GETFD) < 0 ? EBADF : EINVAL);
  if (max <= 0) return fail<int>(EINVAL);
  if (evs == nullptr) return fail<int>(EFAULT);
  int ready = 0;
  const auto check = [&] {
    ready = 0;
    for (auto& [fd, item] : set->second) {
      if (ready == max) break;
      const auto t = table_fd(fd);
      if (!item.armed || !t) continue;
      const short m = table_->revents(*t);
      const std::uint32_t got = static_cast<std::uint16_t>(m) & (item.events | EPOLLERR | EPOLLHUP);
      if (got == 0) continue;
      if ((item.events & EPOLLET) != 0) {
        const std::uint64_t mark = edge_mark(*t, m);
        if (mark == item.reported) continue;
        item.reported = mark;
      }
      if ((item.events & EPOLLONESHOT) != 0) item.armed = false;
      evs[ready].events = got;
      evs[ready].data.u64 = item.data;
      ++ready;
    }
    return ready > 0;
  };
  wait_ms(lk, check, timeout_ms);
  return ready;
}

void plugin::wait_ms(lock& lk, const std::function<bool()>& ready, int timeout_ms) {
  if (timeout_ms == 0) {
    (void)ready();
    return;
  }
  (void)wait(lk, ready, timeout_ms < 0 ? instant::max() : now_ + std::chrono::milliseconds(timeout_ms));
}

bool plugin::table_fd_unlocked(int fd) {
  const lock lk(mu_);
  return table_fd(fd).has_value();
}

}  // namespace synack::packetdrill
