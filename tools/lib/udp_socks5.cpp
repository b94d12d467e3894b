// --socks5's UDP sessions (udp_relay.hpp): one SOCKS5 UDP association each (RFC 1928 §4
// CMD 3, §7), a TCP control connection and a UDP socket to the relay it names.
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "proxy.hpp"
#include "udp_relay.hpp"

namespace synack::tools {

// A new session: the control connection's connect starts; datagrams wait in `pending` until
// the association is set up (associated) or fails (fail_association).
udp_session_table::session* udp_relay::open_association(instant now, const four_tuple& t) {
  const socks5::server& server = *opts_.socks5;
  const int fd = ::socket(server.addr.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fmt::print(stderr, "synack proxy: udp {}: socket: {}\n", describe(t), std::strerror(errno));
    ++socks5_stats_.failed;
    return nullptr;
  }
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(server.addr, server.port, ss);
  int err = set_out_route(fd, opts_.out_interface, opts_.out_mark);
  if (err == 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len) < 0 && errno != EINPROGRESS) err = errno;
  if (err == 0 && !loop_.watch(fd, EPOLLOUT, [this, t](std::uint32_t) { on_control(t); })) err = errno;
  if (err != 0) {
    fmt::print(stderr, "synack proxy: udp {}: SOCKS5 server {}: {}\n", describe(t),
               server.addr.with_port(server.port), std::strerror(err));
    loop_.unwatch(fd);
    ::close(fd);
    ++socks5_stats_.failed;
    return nullptr;
  }
  udp_session_table::session& s = add_session(now, t, fd);
  association& a = assocs_[t];
  a.timer = loop_.call_after(opts_.connect_timeout, [this, t] {
    if (auto it = assocs_.find(t); it != assocs_.end()) {
      it->second.timer = 0;
      fail_association(t, "timed out");
    }
  });
  return &s;
}

void udp_relay::send_socks5(udp_session_table::session& s, const udp_datagram& d) {
  association& a = assocs_[s.tuple];
  if (a.udp_fd >= 0) {
    send_to_relay(s.tuple, a, d.payload);
  } else if (a.pending.size() < opts_.pending_datagrams) {
    a.pending.emplace_back(d.payload.begin(), d.payload.end());
  } else {
    ++stats_.dropped;
  }
}

// RFC 1928 §7: the header names the original destination, the relay sends DATA there.
void udp_relay::send_to_relay(const four_tuple& t, association& a, bytes payload) {
  std::array<std::byte, socks5::udp_header_max_emit> header;
  const std::size_t n = socks5::emit_udp_header(t.local_addr, t.local_port, header);
  iovec iov[2] = {{header.data(), n}, {const_cast<std::byte*>(payload.data()), payload.size()}};
  msghdr msg{};
  msg.msg_name = &a.relay_ss;
  msg.msg_namelen = a.relay_len;
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  if (::sendmsg(a.udp_fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    ++stats_.dropped;  // a full send buffer (EAGAIN, ENOBUFS), too long (EMSGSIZE), unreachable
    return;
  }
  ++stats_.datagrams_up;
  stats_.bytes_up += payload.size();
}

// The control connection is ready: its connect ended, the handshake can go on, or (once
// associated) it has something to read: its end, or bytes a server should not send.
void udp_relay::on_control(const four_tuple& t) {
  auto it = assocs_.find(t);
  udp_session_table::session* s = table_.find(t);
  if (it == assocs_.end() || s == nullptr) return;
  association& a = it->second;
  const int fd = s->fd;
  if (a.connecting) {
    const int err = connect_status(fd);
    if (err == EINPROGRESS) return;
    if (err != 0) return fail_association(t, fmt::format("connect: {}", std::strerror(err)));
    a.connecting = false;
    // From address and port all zeros: the proxy may sit behind a NAT (socks5.hpp).
    const ip_addr zeros = opts_.socks5->addr.is_v4() ? ip_addr{ipv4_addr{0}} : ip_addr{ipv6_addr{}};
    a.handshake.emplace(zeros, 0, opts_.socks5->auth, socks5::cmd_udp_associate);
  }
  if (a.handshake) {
    if (const int err = run_socks5_handshake(fd, *a.handshake); err != 0) {
      return fail_association(t, fmt::format("handshake: {}", std::strerror(err)));
    }
    switch (a.handshake->current()) {
      case socks5::client::state::write:
      case socks5::client::state::read: {
        const bool reading = a.handshake->current() == socks5::client::state::read;
        if (!loop_.watch(fd, reading ? EPOLLIN : EPOLLOUT, [this, t](std::uint32_t) { on_control(t); })) {
          return fail_association(t, fmt::format("epoll_ctl: {}", std::strerror(errno)));
        }
        return;
      }
      case socks5::client::state::connected: return associated(t, a);
      case socks5::client::state::failed: {
        const socks5::client& c = *a.handshake;
        return fail_association(t, c.failure_rep() != 0 ? fmt::format("{}, REP {}", to_string(c.failure()), c.failure_rep())
                                                        : std::string(to_string(c.failure())));
      }
    }
    return;
  }
  // Associated: nothing is expected on the control connection but its end.
  std::array<std::byte, 512> buf;
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) continue;  // not in RFC 1928: ignored
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    return close_association(t);
  }
}

// The UDP ASSOCIATE reply succeeded: a UDP socket to the relay, and what waited goes.
void udp_relay::associated(const four_tuple& t, association& a) {
  const auto relay = socks5::udp_relay_of(a.handshake->reply(), opts_.socks5->addr);
  if (!relay) return fail_association(t, "the reply names no relay address");
  a.relay = *relay;
  a.relay_len = to_sockaddr(relay->addr, relay->port, a.relay_ss);
  const int ufd = ::socket(relay->addr.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (ufd < 0) return fail_association(t, fmt::format("UDP socket: {}", std::strerror(errno)));
  a.udp_fd = ufd;  // closed with the session from here on
  // Not connected: a datagram from elsewhere is read and counted (foreign), not left unseen.
  int err = set_out_route(ufd, opts_.out_interface, opts_.out_mark);
  if (err == 0 && !loop_.watch(ufd, EPOLLIN, [this, t](std::uint32_t) { on_relay(t); })) err = errno;
  udp_session_table::session* s = table_.find(t);
  if (err == 0 && !loop_.watch(s->fd, EPOLLIN, [this, t](std::uint32_t) { on_control(t); })) err = errno;
  if (err != 0) return fail_association(t, fmt::format("UDP socket: {}", std::strerror(err)));
  if (a.timer != 0) loop_.cancel(a.timer), a.timer = 0;
  a.handshake.reset();
  ++socks5_stats_.associations;
  if (opts_.verbose) {
    fmt::print(stderr, "synack proxy: udp {} associated, relay {}\n", describe(t), relay->addr.with_port(relay->port));
  }
  for (const auto& d : a.pending) send_to_relay(t, a, d);
  a.pending.clear();
  a.pending.shrink_to_fit();
}

void udp_relay::fail_association(const four_tuple& t, const std::string& why) {
  ++socks5_stats_.failed;
  if (auto it = assocs_.find(t); it != assocs_.end()) stats_.dropped += it->second.pending.size();
  fmt::print(stderr, "synack proxy: udp {}: SOCKS5 UDP ASSOCIATE failed ({})\n", describe(t), why);
  remove_session(t, "ended (no association)");
}

void udp_relay::close_association(const four_tuple& t) {
  ++socks5_stats_.closed;
  remove_session(t, "ended (SOCKS5 control connection closed)");
}

// The relay's datagrams: the §7 header off, the data to the client from the destination.
void udp_relay::on_relay(const four_tuple& t) {
  for (int i = 0; i < reads_per_wakeup; ++i) {
    auto it = assocs_.find(t);
    udp_session_table::session* s = table_.find(t);
    if (it == assocs_.end() || s == nullptr) return;
    const association& a = it->second;
    sockaddr_storage from;
    socklen_t from_len = sizeof from;
    const ssize_t n =
        ::recvfrom(a.udp_fd, buf_.data(), buf_.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN; an unconnected socket reports no ICMP errors
    }
    if (from_sockaddr(from) != a.relay) {
      ++socks5_stats_.foreign;
      continue;
    }
    const bytes datagram{buf_.data(), static_cast<std::size_t>(n)};
    const auto h = socks5::parse_udp_header(datagram);
    if (h.status != socks5::parse_status::done) {
      ++socks5_stats_.malformed;
      continue;
    }
    if (h.message.frag != 0) {
      ++socks5_stats_.dropped_frag;
      continue;
    }
    // The relay names who sent DATA: only the session's destination answers this client.
    const socks5::address& src = h.message.dst;
    if (!src.addr || src.addr->unmapped() != t.local_addr.unmapped() || src.port != t.local_port) {
      ++socks5_stats_.foreign;
      continue;
    }
    if (!deliver(*s, datagram.subspan(h.length))) return;
  }
}

}  // namespace synack::tools
