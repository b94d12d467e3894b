// SOCK_DGRAM sockets (man 7 udp) over the host's UDP bindings: bind and the implicit bind,
// connect and its AF_UNSPEC dissolution, sendto / recvfrom one datagram at a time, the
// receive queue bounded by SO_RCVBUF, poll, shutdown, and the ICMP errors a connected socket
// reports — as Linux's udp.c, udp_ipv6.c and datagram.c do.
#include <algorithm>
#include <cerrno>

#include "synack/posix/socket_table.hpp"

namespace synack::posix {
namespace {

// Linux charges a queued datagram its skb->truesize: the payload's buffer as the driver made
// it plus struct sk_buff and skb_shared_info. DEVIATION: a fixed overhead of about their size
// stands for it (on Linux it depends on the driver), so a flood of empty datagrams is bounded
// too.
constexpr std::size_t skb_overhead = 576;
std::size_t truesize(std::size_t len) { return len + skb_overhead; }

// __udp4_lib_err(): the errno of an error a socket hears of, 0 for one it does not (soft:
// icmp_err_convert's fatal flag is 0; Fragmentation Needed is hard, EMSGSIZE, as with the
// default IP_PMTUDISC_WANT). DEVIATION: ICMPv6 errors come as their IPv4 equivalents
// (icmp_report_from_v6), so administratively prohibited is EHOSTUNREACH, not Linux's EACCES.
int udp_hard_errno(const icmp_report& r) {
  if (r.type != 3) return 0;  // time exceeded
  switch (r.code) {
    case 2:
    case 3:
    case 4:
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 13:
    case 14:
    case 15:
      return icmp_errno(r);
    default:
      return 0;
  }
}

bool routable(const ip_addr& a) {
  const bool bad = a.is_v4() ? a.v4().is_multicast() || a.v4().is_broadcast() : a.v6().is_multicast();
  return !a.is_unspecified() && !bad;
}

}  // namespace

// ---- the host's bindings --------------------------------------------------------------------

socket_table::sock* socket_table::dgram_of(udp_handle h) {
  if (h.index >= udp_fd_.size()) return nullptr;
  sock* s = get(udp_fd_[h.index]);
  if (s == nullptr || s->type != sock_dgram) return nullptr;
  return std::ranges::any_of(s->dg.bind, [&](const auto& b) { return b == h; }) ? s : nullptr;
}

// The host binds one family per binding: an AF_INET6 socket on "::" takes IPv4 too (a second,
// IPv4 binding of the same port) unless IPV6_V6ONLY; on a v4-mapped address IPv4 only. The
// host refuses a port one family of it already has, which is Linux's rule for UDP sockets
// (udp_lib_lport_inuse with inet_rcv_saddr_equal). DEVIATION: SO_REUSEADDR does not let two
// sockets share a port.
bool socket_table::dg_try_port(sock& s, const ip_addr& want, std::uint16_t port, host_error& why) {
  const bool v6 = want.is_v6();
  const bool v4 = want.is_v4() || (want.is_unspecified() && !s.v6only);
  std::array<std::optional<udp_handle>, 2> got;
  for (std::size_t i = 0; i < 2; ++i) {
    if (!(i == 0 ? v4 : v6)) continue;
    auto h = host_.bind_udp(udp_endpoint{i == 0 && v6 ? ip_addr{} : want, port}, this);
    if (!h) {
      why = h.error();
      for (const auto& g : got) {
        if (g) host_.close_udp(*g);
      }
      return false;
    }
    got[i] = *h;
  }
  s.dg.bind = got;
  for (const auto& g : got) {
    if (!g) continue;
    if (udp_fd_.size() <= g->index) udp_fd_.resize(g->index + 1, -1);
    udp_fd_[g->index] = fd_of(s);
  }
  s.bound = true;
  s.lport = port;
  return true;
}

// udp_lib_get_port(): the given port, or an ephemeral one free in every family the socket
// takes. Returns 0 or the errno.
int socket_table::dg_hash(sock& s, const ip_addr& want, std::uint16_t port) {
  host_error why = host_error::address_in_use;
  if (port != 0) {
    if (dg_try_port(s, want, port, why)) return 0;
    return why == host_error::address_not_available ? EADDRNOTAVAIL : EADDRINUSE;
  }
  const host_config& hc = host_.config();
  const std::uint32_t count = std::uint32_t{hc.ephemeral_last} - hc.ephemeral_first + 1;
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto p = static_cast<std::uint16_t>(hc.ephemeral_first + (udp_port_cursor_ + i) % count);
    if (dg_try_port(s, want, p, why)) {
      udp_port_cursor_ += i + 1;
      return 0;
    }
  }
  return EADDRINUSE;
}

void socket_table::dg_unhash(sock& s) {
  for (auto& b : s.dg.bind) {
    if (b) host_.close_udp(*b);
    b.reset();
  }
}

// inet_bind() for UDP: a socket that has a port is EINVAL; port 0 picks one.
sys_result<void> socket_table::dg_bind(sock& s, sock_addr a) {
  if (s.bound) return unexpected{EINVAL};
  const ip_addr want = a.addr.unmapped();
  if (const int e = dg_hash(s, want, a.port); e != 0) return unexpected{e};
  s.port_locked = a.port != 0;  // SOCK_BINDPORT_LOCK
  s.laddr = want;
  return {};
}

// inet_autobind(), on the first connect or send: an ephemeral port (EAGAIN if none is free).
sys_result<void> socket_table::dg_autobind(sock& s) {
  if (s.bound) return {};
  if (dg_hash(s, s.laddr, 0) != 0) return unexpected{EAGAIN};
  return {};
}

// ---- connect --------------------------------------------------------------------------------

// inet_dgram_connect() and ip4/ip6_datagram_connect(): the default destination, and the only
// source datagrams are taken from. A connected socket may connect again, elsewhere.
sys_result<void> socket_table::dg_connect(sock& s, sock_addr a) {
  if (a.family == af_unspec) {  // "the association is dissolved" (connect(2))
    dg_disconnect(s);
    return {};
  }
  // ip6_datagram_connect(): an AF_INET address on an AF_INET6 socket connects over IPv4.
  const bool v4_on_v6 = s.domain == af_inet6 && a.family == af_inet;
  if ((a.family != s.domain && !v4_on_v6) || (v4_on_v6 && s.v6only)) return unexpected{EAFNOSUPPORT};
  const ip_addr dst = a.addr.unmapped();
  if (s.domain == af_inet6 && dst.is_v4() && s.v6only) return unexpected{ENETUNREACH};
  // DEVIATION: no loopback, multicast or broadcast (connect() of a stream socket says why).
  if (!routable(dst)) return unexpected{ENETUNREACH};
  if (const int e = scope_error(dst, a.scope_id, ENETUNREACH); e != 0) return unexpected{e};
  // DEVIATION: Linux connects to port 0 (and sending there is then EINVAL); the host refuses it.
  if (a.port == 0) return unexpected{EINVAL};
  if (auto r = dg_autobind(s); !r) return r;
  const std::size_t fam = dst.is_v4() ? 0 : 1;
  const bool takes = fam == 0 ? (s.laddr.is_v4() || (s.laddr.is_unspecified() && !s.v6only)) : s.laddr.is_v6();
  if (!takes) return unexpected{ENETUNREACH};  // bound to an address of the other family
  // A new association replaces the old: the bindings are made afresh at the bound address and
  // port (a connect fixed their source), then the one of the peer's family is connected.
  const std::uint16_t port = s.lport;
  dg_unhash(s);
  s.st = sock_state::unconnected;
  s.peer = {};
  host_error why = host_error::address_in_use;
  if (!dg_try_port(s, s.laddr, port, why)) {
    s.bound = false;
    s.lport = 0;
    return unexpected{EADDRINUSE};
  }
  if (auto r = host_.connect_udp(*s.dg.bind[fam], udp_endpoint{dst, a.port}); !r) {
    return unexpected{r.error() == host_error::network_unreachable ? ENETUNREACH
                      : r.error() == host_error::address_in_use   ? EADDRINUSE
                                                                  : EINVAL};
  }
  // A connected socket hears only its peer: the other family's binding goes.
  if (auto& other = s.dg.bind[1 - fam]) {
    host_.close_udp(*other);
    other.reset();
  }
  s.st = sock_state::connected;
  s.peer = as_seen_by(s, dst, a.port);
  return {};
}

// __udp_disconnect(): unconnected again; the source a connect chose is forgotten
// (SOCK_BINDADDR_LOCK keeps a bound address), and a port bind() did not name is released
// (SOCK_BINDPORT_LOCK): the next send takes a new one.
void socket_table::dg_disconnect(sock& s) {
  s.st = sock_state::unconnected;
  s.peer = {};
  dg_unhash(s);
  s.bound = false;
  const std::uint16_t port = s.lport;
  s.lport = 0;
  host_error why = host_error::address_in_use;
  if (s.port_locked) (void)dg_try_port(s, s.laddr, port, why);  // its own port: free again
}

// ---- send -------------------------------------------------------------------------------------

// udp_sendmsg() / udpv6_sendmsg(), in their order: the implicit bind (inet_send_prepare), the
// length, the flags, the destination, the route, the size against the MTU, then the pending
// error and SEND_SHUTDOWN (sock_alloc_send_skb).
sys_result<std::size_t> socket_table::dg_send(sock& s, bytes data, int flags, const std::optional<sock_addr>& to) {
  if (auto r = dg_autobind(s); !r) return unexpected{r.error()};
  if (data.size() > 0xFFFF) return unexpected{EMSGSIZE};
  // DEVIATION: no corking (MSG_MORE, UDP_CORK): refused rather than each call sent alone.
  if ((flags & (msg_oob | msg_more)) != 0) return unexpected{EOPNOTSUPP};
  // udpv6_sendmsg(): AF_UNSPEC is "no address"; AF_INET goes over IPv4; another family is
  // EINVAL. udp_sendmsg() takes AF_UNSPEC as AF_INET and refuses the rest (EAFNOSUPPORT).
  std::optional<sock_addr> dst = to;
  if (dst && dst->family == af_unspec && s.domain == af_inet6) dst.reset();
  ip_addr daddr;
  std::uint16_t dport = 0;
  if (dst) {
    const bool ok = dst->family == s.domain || (s.domain == af_inet6 && dst->family == af_inet) ||
                    (s.domain == af_inet && dst->family == af_unspec);
    if (!ok) return unexpected{s.domain == af_inet6 ? EINVAL : EAFNOSUPPORT};
    if (dst->port == 0) return unexpected{EINVAL};
    daddr = dst->addr.unmapped();
    dport = dst->port;
    if (const int e = scope_error(daddr, dst->scope_id, ENETUNREACH); e != 0) return unexpected{e};
  } else {
    if (s.st != sock_state::connected) return unexpected{EDESTADDRREQ};
    daddr = s.peer.addr.unmapped();
    dport = s.peer.port;
  }
  if (s.domain == af_inet6 && daddr.is_v4() && s.v6only) return unexpected{ENETUNREACH};
  if (!routable(daddr)) return unexpected{ENETUNREACH};  // DEVIATION, as connect
  // The source: the address the socket is bound or connected to, else the route's.
  std::optional<ip_addr> src = dg_name(s).addr.unmapped();
  if (src->is_unspecified()) src = src->fam() == daddr.fam() || src->is_v6() ? host_.source_for(daddr) : std::nullopt;
  if (!src || src->fam() != daddr.fam()) return unexpected{ENETUNREACH};
  // DEVIATION: no IP fragmentation; a datagram larger than the MTU is EMSGSIZE, as Linux's
  // with IP_PMTUDISC_DO (Linux fragments it by default).
  constexpr std::size_t udp_header = 8;
  const std::size_t ip_header = daddr.is_v4() ? 20 : 40;
  if (ip_header + udp_header + data.size() > host_.config().mtu) return unexpected{EMSGSIZE};
  if (s.err != 0) return unexpected{take_err(s)};
  if ((s.shut & send_shutdown) != 0) return unexpected{EPIPE};
  // The host's transmit queue plays the send buffer (sk_wmem_alloc, charged until the driver
  // takes the packet): full, a non-blocking send is EAGAIN and poll shows no POLLOUT until
  // poll_transmit drains it. (Linux's ENOBUFS is a full device queue, and udp_send_skb hides
  // even that without IP_RECVERR.)
  auto r = host_.send_udp(udp_endpoint{*src, s.lport}, udp_endpoint{daddr, dport}, data);
  if (!r) {
    switch (r.error()) {
      case host_error::message_too_long: return unexpected{EMSGSIZE};
      case host_error::no_buffer_space: return unexpected{EAGAIN};
      case host_error::network_unreachable: return unexpected{ENETUNREACH};
      case host_error::address_not_available: return unexpected{EADDRNOTAVAIL};
      case host_error::bad_handle:
      case host_error::address_in_use:
      case host_error::no_ephemeral_port:
      case host_error::too_many_connections:
      case host_error::invalid_argument:
      case host_error::would_block:
        return unexpected{EINVAL};
    }
  }
  // MSG_ZEROCOPY (SO_ZEROCOPY): the datagram is copied into the host's queue, so its send is
  // complete at once (Linux's, once the driver freed it); an empty one takes no id
  // (__ip_append_data).
  if ((flags & msg_zerocopy) != 0 && s.zerocopy && !data.empty()) zerocopy_done(s, s.zc_key++);
  return data.size();
}

// ---- receive ----------------------------------------------------------------------------------

// __udp_enqueue_schedule_skb(): dropped (and counted) when what is queued is already beyond
// SO_RCVBUF, so the last datagram taken may overshoot it. The ring's slots keep their buffers.
void socket_table::on_datagram(instant /*now*/, const udp_datagram& d) {
  sock* s = dgram_of(d.socket);
  if (s == nullptr) return;
  dgram_state& g = s->dg;
  if (g.charged > static_cast<std::size_t>(s->rcvbuf)) {
    ++g.drops;
    ++rcvbuf_errors_;
    return;
  }
  if (g.len == g.ring.size()) {  // grow: the queue's order from slot 0
    std::rotate(g.ring.begin(), g.ring.begin() + static_cast<std::ptrdiff_t>(g.head), g.ring.end());
    g.head = 0;
    g.ring.emplace_back();
  }
  datagram& q = g.ring[(g.head + g.len) % g.ring.size()];
  q.from = as_seen_by(*s, d.tuple.remote_addr, d.tuple.remote_port);
  q.data.assign(d.payload.begin(), d.payload.end());
  ++g.len;
  g.charged += truesize(d.payload.size());
}

// __udp4_lib_err() without IP_RECVERR: only a connected socket hears of an error, and only
// of a hard one; it becomes sk_err, which the next call returns (and SO_ERROR reads).
// DEVIATION: no IP_RECVERR error queue.
void socket_table::on_error(instant /*now*/, const udp_error& e) {
  sock* s = dgram_of(e.socket);
  if (s == nullptr || s->st != sock_state::connected) return;
  if (const int err = udp_hard_errno(e.report); err != 0) s->err = err;
}

// udp_recvmsg(): one datagram per call, cut to the buffers (MSG_TRUNC in msg_flags; with
// MSG_TRUNC in flags its real length returned), left queued by MSG_PEEK. A pending error
// comes first (__skb_recv_udp). MSG_WAITALL means nothing here.
sys_result<received> socket_table::dg_recv(sock& s, std::span<const mutable_bytes> iov, int flags) {
  dgram_state& g = s.dg;
  if (s.err != 0) return unexpected{take_err(s)};
  if (g.len == 0) {
    // __skb_wait_for_more_packets(): after SHUT_RD a reader that would wait gets 0 at once; one
    // that does not wait (O_NONBLOCK, MSG_DONTWAIT) EAGAIN as ever.
    const bool waits = !s.nonblock && (flags & msg_dontwait) == 0;
    if ((s.shut & rcv_shutdown) != 0 && waits) return received{};
    return unexpected{EAGAIN};
  }
  const datagram& d = g.ring[g.head];
  std::size_t at = 0;
  for (const mutable_bytes b : iov) {
    const std::size_t k = std::min(b.size(), d.data.size() - at);
    std::copy_n(d.data.begin() + static_cast<std::ptrdiff_t>(at), k, b.begin());
    at += k;
  }
  const received r{(flags & msg_trunc) != 0 ? d.data.size() : at, d.from, at < d.data.size() ? msg_trunc : 0};
  if ((flags & msg_peek) == 0) {
    g.charged -= truesize(d.data.size());
    g.head = (g.head + 1) % g.ring.size();
    --g.len;
  }
  return r;
}

// ---- shutdown, poll, names --------------------------------------------------------------------

// inet_shutdown(): an unconnected datagram socket (TCP_CLOSE) is ENOTCONN, and the shutdown is
// recorded all the same ("to wake up other listeners, who can poll for EPOLLHUP").
sys_result<void> socket_table::dg_shutdown(sock& s, int how) {
  s.shut |= static_cast<std::uint8_t>(how + 1);
  if (s.st != sock_state::connected) return unexpected{ENOTCONN};
  return {};
}

// udp_poll() / datagram_poll().
short socket_table::dg_poll(const sock& s) const {
  int mask = 0;
  if (s.err != 0 || !s.zc_done.empty()) mask |= pollerr;  // sk_err or the error queue
  if ((s.shut & rcv_shutdown) != 0) mask |= pollrdhup | pollin | pollrdnorm;
  if (s.shut == shutdown_mask) mask |= pollhup;
  if (s.dg.len > 0) mask |= pollin | pollrdnorm;
  if (host_.udp_tx_room() > 0) mask |= pollout | pollwrnorm;  // sock_writeable(): see dg_send
  return static_cast<short>(mask);
}

// inet_getname(): the bound address, or the source a connect chose; port 0 before a bind.
sock_addr socket_table::dg_name(const sock& s) const {
  for (const auto& b : s.dg.bind) {
    if (!b || s.st != sock_state::connected) continue;
    if (const auto l = host_.udp_local(*b)) return as_seen_by(s, l->addr, l->port);
  }
  return as_seen_by(s, s.laddr, s.bound ? s.lport : 0);
}

// udp_ioctl(): SIOCINQ is the length of the next datagram's payload. DEVIATION: SIOCOUTQ
// (sk_wmem_alloc) is 0: queued datagrams are the host's, not charged to the socket.
sys_result<int> socket_table::dg_ioctl(const sock& s, unsigned long request) const {
  if (request == siocinq) return s.dg.len == 0 ? 0 : static_cast<int>(s.dg.ring[s.dg.head].data.size());
  if (request == siocoutq) return 0;
  return unexpected{ENOTTY};  // SIOCOUTQNSD is TCP's
}

sys_result<std::uint64_t> socket_table::drops(int fd) const {
  const sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  return s->dg.drops;
}

}  // namespace synack::posix
