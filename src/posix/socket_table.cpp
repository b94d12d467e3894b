// The socket calls: socket, bind, listen, accept, connect, send/recv, shutdown, close, and the
// bookkeeping that turns what the connection did into Linux's sk_err and sk_shutdown.
// Options and poll are in socket_options.cpp, SOCK_DGRAM's calls in socket_dgram.cpp.
#include <algorithm>
#include <cerrno>

#include "synack/posix/socket_table.hpp"

namespace synack::posix {

// Linux's icmp_err_convert (net/ipv4/icmp.c) for destination unreachable, and EHOSTUNREACH for
// time exceeded (tcp_v4_err).
int icmp_errno(const icmp_report& r) {
  if (r.type != 3) return EHOSTUNREACH;
  switch (r.code) {
    case 0: return ENETUNREACH;
    case 1: return EHOSTUNREACH;
    case 2: return ENOPROTOOPT;
    case 3: return ECONNREFUSED;
    case 4: return EMSGSIZE;
    case 5: return EOPNOTSUPP;
    case 6: return ENETUNREACH;
    case 7: return EHOSTDOWN;
    case 8: return ENONET;
    case 9: return ENETUNREACH;
    case 11: return ENETUNREACH;
    default: return EHOSTUNREACH;  // 10, 12, 13, 14, 15
  }
}

socket_table::socket_table(host& h, int first_fd, std::size_t max_sockets)
    : host_(h), first_fd_(first_fd), max_sockets_(max_sockets) {}

// The host keeps no handler of a table that is gone.
socket_table::~socket_table() {
  for (sock& s : socks_) {
    if (s.open && s.type == sock_dgram) dg_unhash(s);
  }
}

socket_table::sock* socket_table::get(int fd) {
  if (fd < first_fd_) return nullptr;
  const auto i = static_cast<std::size_t>(fd - first_fd_);
  return i < socks_.size() && socks_[i].open ? &socks_[i] : nullptr;
}
const socket_table::sock* socket_table::get(int fd) const { return const_cast<socket_table*>(this)->get(fd); }

std::size_t socket_table::open_count() const {
  return static_cast<std::size_t>(std::ranges::count_if(socks_, [](const sock& s) { return s.open; }));
}

std::optional<conn_handle> socket_table::connection_of(int fd) const {
  const sock* s = get(fd);
  return s != nullptr ? s->conn : std::nullopt;
}

int socket_table::alloc_fd() {
  for (std::size_t i = 0; i < socks_.size(); ++i) {
    if (!socks_[i].open) return first_fd_ + static_cast<int>(i);
  }
  if (socks_.size() >= max_sockets_) return -1;
  socks_.emplace_back();
  return first_fd_ + static_cast<int>(socks_.size() - 1);
}

// ---- state bookkeeping ------------------------------------------------------------------------

tcp_state socket_table::kstate(const sock& s) const {
  if (s.listener) return tcp_state::listen;
  if (!s.conn) return tcp_state::closed;
  const auto st = host_.state(*s.conn);
  if (!st) return tcp_state::closed;
  // tcp_time_wait() hands the connection to a TIME-WAIT bucket and the socket goes to CLOSE.
  return *st == tcp_state::time_wait ? tcp_state::closed : *st;
}

int socket_table::close_errno(const sock& s, const conn_status& c) const {
  switch (c.reason) {
    case close_reason::none:
    case close_reason::aborted:
      return 0;
    case close_reason::refused:
      return c.hard_error ? icmp_errno(*c.hard_error) : ECONNREFUSED;
    case close_reason::reset:
      // tcp_reset(): EPIPE in CLOSE-WAIT (the peer's FIN came, we had not shut down).
      return c.eof && (s.shut & send_shutdown) == 0 ? EPIPE : ECONNRESET;
    case close_reason::timeout:
      // tcp_write_err(): the soft error remembered from ICMP, else ETIMEDOUT.
      return c.soft_error ? icmp_errno(*c.soft_error) : ETIMEDOUT;
  }
  return 0;
}

// Turns the host's status of the connection into Linux's sk_shutdown and sk_err.
void socket_table::sync(sock& s) {
  if (!s.conn || s.close_seen) return;
  const auto c = host_.status(*s.conn);
  if (!c) return;
  if (c->eof) {  // tcp_fin()
    s.shut |= rcv_shutdown;
    s.done = true;
  }
  if (c->ended()) {  // tcp_done()
    s.close_seen = true;
    s.err = close_errno(s, *c);
    s.shut = shutdown_mask;
    if (c->state == tcp_state::closed) unbind_if_auto(s);  // tcp_set_state(CLOSE): put_port
  }
}

int socket_table::take_err(sock& s) {
  const int e = s.err;
  s.err = 0;
  return e;
}

void socket_table::unbind_if_auto(sock& s) {
  if (s.port_locked) return;
  s.bound = false;
  s.lport = 0;
}

void socket_table::disconnect(instant now, sock& s, bool send_reset) {
  if (s.listener) {
    host_.close_listener(now, *s.listener);
    s.listener.reset();
  }
  if (s.conn) {
    (void)(send_reset ? host_.abort(now, *s.conn) : host_.close(now, *s.conn));
    s.conn.reset();
  }
  s.st = sock_state::unconnected;
  s.shut = 0;
  s.done = false;
  s.close_seen = false;
  s.peer = {};
  unbind_if_auto(s);
}

// inet_csk_bind_conflict(): a port is shared only if both sockets ask for SO_REUSEADDR and the
// other one is not listening. Connections and TIME-WAIT records no socket owns any more carry
// the SO_REUSEADDR of the socket that bound the port.
bool socket_table::port_conflict(const sock& me, std::uint16_t port) const {
  for (const sock& o : socks_) {  // UDP ports are another space (dg_hash)
    if (!o.open || o.type != sock_stream || &o == &me || !o.bound || o.lport != port) continue;
    if (!(me.reuse && o.reuse && kstate(o) != tcp_state::listen)) return true;
  }
  const host::port_use u = host_.local_port_use(port);
  if (u.listener) return true;
  return (u.connections != 0 || u.time_wait != 0) && !(me.reuse && port_reuse_[port]);
}

std::optional<std::uint16_t> socket_table::pick_port(const sock& me) {
  const host_config& hc = host_.config();
  const std::uint32_t count = std::uint32_t{hc.ephemeral_last} - hc.ephemeral_first + 1;
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto p = static_cast<std::uint16_t>(hc.ephemeral_first + (port_cursor_ + i) % count);
    if (!port_conflict(me, p)) {
      port_cursor_ += i + 1;
      return p;
    }
  }
  return std::nullopt;
}

tcp_config socket_table::connection_config(const sock& s, bool listening) const {
  tcp_config c = s.cfg;
  if (s.user_mss != 0) c.mss = std::min(c.mss, static_cast<std::uint16_t>(s.user_mss));
  if (s.syn_retries != 0) c.syn_r2 = syn_give_up_after(c, s.syn_retries);
  // RFC 7413 server: the TFO queue of TCP_FASTOPEN (fastopen_queue_tune: at most somaxconn),
  // while net.ipv4.tcp_fastopen lets servers use it.
  const bool server = (fastopen_sysctl_ & tfo_server_enable) != 0;
  c.fast_open_qlen = server ? static_cast<std::uint32_t>(std::min(s.fastopen_qlen, lim_.somaxconn)) : 0;
  // Without cookies: TCP_FASTOPEN_NO_COOKIE, or the sysctl's bit for the socket's side
  // (tcp_fastopen_no_cookie; each bit only beside its side's enable bit, which Fast Open
  // needs anyway: fast_open_qlen above, the client's checks in sendto and connect).
  c.fast_open_no_cookie = listening ? s.fastopen_no_cookie || (fastopen_sysctl_ & tfo_server_cookie_not_reqd) != 0
                                    : fast_open_no_cookie(s);
  return c;
}

bool socket_table::fast_open_no_cookie(const sock& s) const {
  return s.fastopen_no_cookie || (fastopen_sysctl_ & tfo_client_no_cookie) != 0;
}

// ---- socket, bind, listen, accept -------------------------------------------------------------

// inet_create(): a type with no protocol at all is ESOCKTNOSUPPORT, a protocol the type does
// not have (SOCK_DGRAM with IPPROTO_TCP) EPROTONOSUPPORT. DEVIATION: no UDP-Lite.
sys_result<int> socket_table::socket(int domain, int type, int protocol) {
  if (domain != af_inet && domain != af_inet6) return unexpected{EAFNOSUPPORT};
  const int base = type & ~(sock_nonblock | sock_cloexec);
  if (base != sock_stream && base != sock_dgram) return unexpected{ESOCKTNOSUPPORT};
  if (protocol != 0 && protocol != (base == sock_stream ? ipproto_tcp : ipproto_udp)) return unexpected{EPROTONOSUPPORT};
  const int fd = alloc_fd();
  if (fd < 0) return unexpected{EMFILE};
  sock& s = socks_[static_cast<std::size_t>(fd - first_fd_)];
  s = sock{};
  s.open = true;
  s.nonblock = (type & sock_nonblock) != 0;
  s.domain = domain;
  s.laddr = domain == af_inet6 ? ip_addr{ipv6_addr{}} : ip_addr{};
  s.cfg = defaults_ ? *defaults_ : host_.config().tcp;
  // Linux reports twice the buffer it holds (socket(7) SO_RCVBUF); ours hold cfg's bytes.
  s.rcvbuf = static_cast<int>(std::min<std::size_t>(2 * s.cfg.recv_buffer, 0x7FFFFFFF));
  s.sndbuf = static_cast<int>(std::min<std::size_t>(2 * s.cfg.send_buffer, 0x7FFFFFFF));
  s.type = base;
  if (base == sock_dgram) {  // sk_rcvbuf / sk_sndbuf from rmem_default / wmem_default
    s.rcvbuf = lim_.rmem_default;
    s.sndbuf = lim_.wmem_default;
  }
  return fd;
}

sys_result<void> socket_table::bind(int fd, sock_addr a) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (a.family != s->domain) return unexpected{EAFNOSUPPORT};
  // inet6_bind(): a v4-mapped address binds the IPv4 side only, refused on a V6ONLY socket.
  const ip_addr want = a.addr.unmapped();
  if (s->domain == af_inet6 && want.is_v4() && s->v6only) return unexpected{EINVAL};
  if (const int e = scope_error(want, a.scope_id, ENODEV); e != 0) return unexpected{e};
  if (!want.is_unspecified() && !host_.is_local(want)) return unexpected{EADDRNOTAVAIL};
  if (s->type == sock_dgram) return dg_bind(*s, a);
  sync(*s);
  if (kstate(*s) != tcp_state::closed || s->bound) return unexpected{EINVAL};
  std::uint16_t port = a.port;
  if (port == 0) {
    auto p = pick_port(*s);
    if (!p) return unexpected{EADDRINUSE};
    port = *p;
  } else if (port_conflict(*s, port)) {
    return unexpected{EADDRINUSE};
  }
  s->bound = true;
  s->port_locked = a.port != 0;
  s->laddr = want;  // "::" stays IPv6 (both families); ::ffff:0.0.0.0 is IPv4 any
  s->lport = port;
  port_reuse_[port] = s->reuse;
  return {};
}

sys_result<void> socket_table::listen(int fd, int backlog) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (s->type == sock_dgram) return unexpected{EOPNOTSUPP};  // inet_dgram_ops: sock_no_listen
  sync(*s);
  const tcp_state k = kstate(*s);
  if (s->st != sock_state::unconnected || (k != tcp_state::closed && k != tcp_state::listen)) {
    return unexpected{EINVAL};
  }
  if (k == tcp_state::listen) return {};  // DEVIATION: Linux also takes the new backlog
  // __sys_listen: a backlog above somaxconn (or negative, as unsigned) is somaxconn. The
  // accept queue is full when it holds more than the backlog (sk_acceptq_is_full), so it
  // holds backlog + 1.
  const int b = backlog < 0 || backlog > lim_.somaxconn ? lim_.somaxconn : backlog;
  // TFO_SERVER_WO_SOCKOPT1: every listener takes Fast Open, its queue as long as the backlog.
  const int wo_sockopt = tfo_server_enable | tfo_server_wo_sockopt;
  if (s->fastopen_qlen == 0 && (fastopen_sysctl_ & wo_sockopt) == wo_sockopt) s->fastopen_qlen = b;
  if (s->any_address) return listen_any(*s, b);
  if (!s->bound) {  // inet_autobind
    auto p = pick_port(*s);
    if (!p) return unexpected{EAGAIN};
    s->bound = true;
    s->lport = *p;
    port_reuse_[*p] = s->reuse;
  }
  auto l = host_.listen(s->lport, static_cast<std::size_t>(b) + 1, connection_config(*s, true), families(*s));
  if (!l) return unexpected{EADDRINUSE};
  s->listener = *l;
  return {};
}

// Which families a listener takes: AF_INET IPv4; AF_INET6 both, unless V6ONLY or bound to an
// address of one family (a v4-mapped one: IPv4).
listen_family socket_table::families(const sock& s) {
  if (s.domain != af_inet6 || s.laddr.is_v4()) return listen_family::v4;
  if (s.v6only || !s.laddr.is_unspecified()) return listen_family::v6;
  return listen_family::any;
}

// SYNACK_ANY_ADDRESS: the port bind() gave, or every port; no autobind.
sys_result<void> socket_table::listen_any(sock& s, int backlog) {
  any_address_options o;
  o.family = families(s);
  o.port = s.bound && s.port_locked ? s.lport : 0;
  auto l = host_.listen_any(static_cast<std::size_t>(backlog) + 1, connection_config(s, true), o);
  if (!l) return unexpected{EADDRINUSE};
  if (!s.bound) {
    s.bound = true;
    s.lport = 0;
  }
  s.listener = *l;
  return {};
}

sys_result<accepted> socket_table::accept(int fd, int flags) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (s->type == sock_dgram) return unexpected{EOPNOTSUPP};  // sock_no_accept
  if ((flags & ~(sock_nonblock | sock_cloexec)) != 0) return unexpected{EINVAL};
  if (!s->listener) return unexpected{EINVAL};
  const listener_handle lh = *s->listener;
  if (host_.accept_queue_len(lh) == 0) return unexpected{EAGAIN};
  const int nfd = alloc_fd();  // may grow the table: `s` is not used after this
  if (nfd < 0) return unexpected{EMFILE};
  auto c = host_.accept(lh);
  if (!c) return unexpected{EAGAIN};
  sock& l = *get(fd);
  sock& n = socks_[static_cast<std::size_t>(nfd - first_fd_)];
  n = l;  // sock_copy: the options
  n.nonblock = (flags & sock_nonblock) != 0;
  n.listener.reset();
  n.conn = *c;
  n.st = sock_state::connected;
  n.port_locked = true;  // shares the listener's port
  n.err = 0;
  n.shut = 0;
  n.done = false;
  n.close_seen = false;
  const four_tuple t = host_.status(*c)->tuple;
  n.laddr = t.local_addr;
  n.lport = t.local_port;  // an any-address listener's connections: the original destination
  n.any_address = false;
  n.peer = as_seen_by(n, t.remote_addr, t.remote_port);
  return accepted{nfd, n.peer};
}

sock_addr socket_table::as_seen_by(const sock& s, const ip_addr& a, std::uint16_t port) const {
  if (s.domain != af_inet6) return sock_addr{a, port, af_inet, 0};
  const ipv6_addr v6 = a.v6();
  return sock_addr{ip_addr{v6}, port, af_inet6, v6.is_link_local() ? host_.config().link_index : 0};
}

// A link-local address names its link by sin6_scope_id (RFC 4007 §6). The host has one link:
// 0 names none (Linux: a link-local bind or connect needs an interface, EINVAL), another
// index one that does not exist here (Linux: bind ENODEV, connect ENETUNREACH, no route).
// Other addresses ignore it, as Linux does.
int socket_table::scope_error(const ip_addr& a, std::uint32_t scope_id, int missing_link) const {
  if (!a.is_v6() || !a.v6().is_link_local()) return 0;
  if (scope_id == 0) return EINVAL;
  return scope_id == host_.config().link_index ? 0 : missing_link;
}

// ---- connect ------------------------------------------------------------------------------------

// __inet_stream_connect(), one state of socket.state at a time. With TCP_FASTOPEN_CONNECT
// and a cookie cached (or none needed: fast_open_no_cookie), the SYN waits for the first
// write and connect returns 0 at once (tcp_fastopen_defer_connect); without a cookie the SYN
// asks for one.
sys_result<void> socket_table::connect(instant now, int fd, sock_addr a) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (s->type == sock_dgram) return dg_connect(*s, a);
  const bool fo = s->fastopen_connect && (fastopen_sysctl_ & tfo_client_enable) != 0;
  return connect_to(now, *s, a, fo, fo);
}

bool socket_table::syn_deferred(const sock& s) const {
  const connection* c = s.conn ? host_.find(*s.conn) : nullptr;
  return c != nullptr && c->fast_open_deferred();
}

bool socket_table::fast_open_early(const sock& s, tcp_state k) const {
  if (k != tcp_state::syn_received) return false;
  const connection* c = s.conn ? host_.find(*s.conn) : nullptr;
  return c != nullptr && c->fast_open_child();
}

sys_result<void> socket_table::connect_to(instant now, sock& so, sock_addr a, bool fast_open, bool defer) {
  sock* s = &so;
  if (a.family != s->domain) return unexpected{EAFNOSUPPORT};
  sync(*s);
  const tcp_state k = kstate(*s);
  switch (s->st) {
    case sock_state::connected:
      return unexpected{EISCONN};
    case sock_state::disconnecting:
      return unexpected{EINVAL};
    case sock_state::connecting:
      if (syn_deferred(*s)) return {};  // the SYN waits for the first write
      if (k == tcp_state::syn_sent || k == tcp_state::syn_received) return unexpected{EALREADY};
      if (k == tcp_state::closed) {
        // "Connection was closed by RST, timeout, ICMP error": report and forget it.
        const int e = take_err(*s);
        disconnect(now, *s, false);
        return unexpected{e != 0 ? e : ECONNABORTED};
      }
      s->st = sock_state::connected;  // the first call after the handshake completed
      return {};
    case sock_state::unconnected:
      break;
  }
  if (k != tcp_state::closed) return unexpected{EISCONN};  // a listener
  if (s->conn) disconnect(now, *s, false);                  // an old, dead connection
  // DEVIATION: no loopback. Linux connects 0.0.0.0 to itself and routes nothing to
  // multicast or broadcast (ENETUNREACH); a SYN to port 0 would go out.
  // On an AF_INET6 socket a v4-mapped address connects over IPv4 (tcp_v6_connect), unless
  // V6ONLY (ENETUNREACH).
  const ip_addr dst = a.addr.unmapped();
  if (s->domain == af_inet6 && dst.is_v4() && s->v6only) return unexpected{ENETUNREACH};
  const bool bad = dst.is_unspecified() ||
                   (dst.is_v4() ? dst.v4().is_multicast() || dst.v4().is_broadcast() : dst.v6().is_multicast());
  if (bad) return unexpected{ENETUNREACH};
  if (const int e = scope_error(dst, a.scope_id, ENETUNREACH); e != 0) return unexpected{e};
  if (a.port == 0) return unexpected{EINVAL};
  std::optional<std::uint16_t> lport;
  if (s->bound) lport = s->lport;
  auto h = fast_open ? host_.connect_fast_open(now, dst, a.port, lport, connection_config(*s), defer)
                     : host_.connect(now, dst, a.port, lport, connection_config(*s));
  if (!h) {
    switch (h.error()) {
      case host_error::address_in_use:
      case host_error::no_ephemeral_port:
        return unexpected{EADDRNOTAVAIL};  // __inet_hash_connect
      case host_error::too_many_connections:
        return unexpected{ENOBUFS};
      case host_error::network_unreachable:
        return unexpected{ENETUNREACH};
      case host_error::invalid_argument:
      case host_error::bad_handle:
      case host_error::would_block:
      case host_error::message_too_long:  // UDP's: connect() never returns them
      case host_error::no_buffer_space:
      case host_error::address_not_available:
        return unexpected{EINVAL};
    }
  }
  const four_tuple t = host_.status(*h)->tuple;
  s->conn = *h;
  s->st = sock_state::connecting;
  s->bound = true;
  s->lport = t.local_port;
  s->laddr = t.local_addr;
  s->peer = as_seen_by(*s, dst, a.port);  // the scope id as getpeername reports it
  s->err = 0;
  s->shut = 0;
  port_reuse_[t.local_port] = s->reuse;
  if (syn_deferred(*s)) return {};  // TCP_FASTOPEN_CONNECT: nothing sent yet
  return unexpected{EINPROGRESS};
}

// tcp_sendmsg_fastopen(): MSG_FASTOPEN connects an unconnected socket; on one whose SYN left it
// is EALREADY; after the handshake it is ignored.
sys_result<std::size_t> socket_table::sendto(instant now, int fd, bytes data, int flags,
                                             const std::optional<sock_addr>& to) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (s->type == sock_dgram) return dg_send(*s, data, flags & ~msg_fastopen, to);
  if ((flags & msg_fastopen) == 0) return send(fd, data, flags);
  flags &= ~msg_fastopen;
  sync(*s);
  const tcp_state k = kstate(*s);
  if (s->st == sock_state::unconnected && k == tcp_state::closed) {
    if ((fastopen_sysctl_ & tfo_client_enable) == 0 || (to && to->family == af_unspec)) {
      return unexpected{EOPNOTSUPP};
    }
    if (!to) return unexpected{EINVAL};  // tcp_v4_connect: no address
    const bool cookie = fast_open_no_cookie(*s) || host_.fast_open_cookie_cached(to->addr.unmapped());
    auto r = connect_to(now, *s, *to, true, cookie && !data.empty());
    if (!r && r.error() != EINPROGRESS) return unexpected{r.error()};
    if (!syn_deferred(*s)) return unexpected{EINPROGRESS};  // a cookie request, or no data
    return send(fd, data, flags);  // the SYN leaves with what of it fits
  }
  if (s->st == sock_state::connecting && k == tcp_state::syn_sent && !syn_deferred(*s)) return unexpected{EALREADY};
  return send(fd, data, flags);
}

// ---- data ---------------------------------------------------------------------------------------

// tcp_sendmsg_locked() with sk_stream_wait_connect() and sk_stream_error().
sys_result<std::size_t> socket_table::send(int fd, bytes data, int flags) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (s->type == sock_dgram) return dg_send(*s, data, flags, std::nullopt);
  sync(*s);
  const tcp_state k = kstate(*s);
  // A SYN held for the first write (TCP_FASTOPEN_CONNECT) leaves with it (RFC 7413).
  if (k != tcp_state::established && k != tcp_state::close_wait && !syn_deferred(*s) && !fast_open_early(*s, k)) {
    if (s->err != 0) return unexpected{take_err(*s)};
    if (k != tcp_state::syn_sent && k != tcp_state::syn_received) return unexpected{EPIPE};
    return unexpected{EAGAIN};
  }
  if (s->err != 0 || (s->shut & send_shutdown) != 0) {
    const int e = take_err(*s);
    return unexpected{e != 0 ? e : EPIPE};
  }
  // MSG_OOB: the data is urgent; SND.UP follows its last octet (RFC 6093, as Linux's tcp_mark_urg).
  // MSG_MORE: not pushed, and a short segment of it held (send_flags::more; Linux's tcp_push).
  auto n = host_.send(*s->conn, data, send_flags{.urgent = (flags & msg_oob) != 0, .more = (flags & msg_more) != 0});
  if (!n) return unexpected{n.error() == tcp_error::would_block ? EAGAIN : EPIPE};
  // tcp_sendmsg_locked(): MSG_ZEROCOPY without SO_ZEROCOPY is ignored; a call that queued
  // nothing takes no id (net_zcopy_put_abort).
  if ((flags & msg_zerocopy) != 0 && s->zerocopy && *n > 0) {
    const auto in = host_.internals(*s->conn);
    const auto c = host_.status(*s->conn);
    const std::uint64_t end = (in ? in->bytes_acked : 0) + (c ? c->send_queued : 0);
    s->zc_pending.push_back(sock::zc_send{static_cast<std::uint32_t>(end), s->zc_key++});
  }
  return *n;
}

void socket_table::zerocopy_reap(sock& s) {
  if (s.zc_pending.empty()) return;
  // A connection that is gone has dropped what it held (tcp_write_queue_purge): all complete.
  const auto c = s.conn ? host_.status(*s.conn) : std::nullopt;
  const auto in = c && !c->ended() ? host_.internals(*s.conn) : std::nullopt;
  // bytes_acked comes from sequence numbers and wraps at 4 GiB: compared modulo 2^32, as
  // SND.UNA is (what is unacknowledged is always less than 2^31 octets).
  const auto reached = [&](std::uint32_t end) {
    return !in || static_cast<std::int32_t>(static_cast<std::uint32_t>(in->bytes_acked) - end) >= 0;
  };
  std::size_t k = 0;
  for (; k < s.zc_pending.size() && reached(s.zc_pending[k].end); ++k) zerocopy_done(s, s.zc_pending[k].id);
  s.zc_pending.erase(s.zc_pending.begin(), s.zc_pending.begin() + static_cast<std::ptrdiff_t>(k));
}

void socket_table::zerocopy_done(sock& s, std::uint32_t id) {
  if (!s.zc_done.empty() && s.zc_done.back().hi + 1 == id) {
    s.zc_done.back().hi = id;
  } else {
    s.zc_done.push_back(sock::zc_range{id, id});
  }
}

// ip_recv_error() / ipv6_recv_error() for the one kind of entry synack queues.
sys_result<socket_table::queued_error> socket_table::recv_error(int fd) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  zerocopy_reap(*s);
  if (s->zc_done.empty()) return unexpected{EAGAIN};
  const sock::zc_range r = s->zc_done.front();
  s->zc_done.erase(s->zc_done.begin());
  queued_error q;
  q.err.ee_origin = so_ee_origin_zerocopy;
  q.err.ee_code = so_ee_code_zerocopy_copied;
  q.err.ee_info = r.lo;
  q.err.ee_data = r.hi;
  if (s->domain == af_inet6) {
    q.cmsg_level = ipproto_ipv6;
    q.cmsg_type = ipv6_recverr;
  }
  return q;
}

// tcp_recvmsg_locked(): data first; then SOCK_DONE, sk_err, RCV_SHUTDOWN, CLOSE, EAGAIN.
sys_result<std::size_t> socket_table::recv(int fd, mutable_bytes out, int flags) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if ((flags & msg_errqueue) != 0) {  // no octets: the entry's content is for recv_error()
    auto e = recv_error(fd);
    if (!e) return unexpected{e.error()};
    return std::size_t{0};
  }
  if (s->type == sock_dgram) {
    auto r = dg_recv(*s, std::span{&out, 1}, flags);
    if (!r) return unexpected{r.error()};
    return r->len;
  }
  sync(*s);
  const tcp_state k = kstate(*s);
  if (k == tcp_state::listen) return unexpected{ENOTCONN};
  // DEVIATION(SO_OOBINLINE): urgent octets are read inline (RFC 6093 §4), never out of band,
  // so MSG_OOB finds none: EINVAL, as Linux answers with SO_OOBINLINE set.
  if ((flags & msg_oob) != 0) return unexpected{EINVAL};
  if (out.empty()) return std::size_t{0};
  const auto c = s->conn ? host_.status(*s->conn) : std::nullopt;
  if (c && c->readable > 0) {
    auto n = (flags & msg_peek) != 0 ? host_.peek(*s->conn, out) : host_.recv(*s->conn, out);
    if (n) return *n;
  }
  if (s->done) return std::size_t{0};
  if (s->err != 0) return unexpected{take_err(*s)};
  if ((s->shut & rcv_shutdown) != 0) return std::size_t{0};
  if (k == tcp_state::closed) return unexpected{ENOTCONN};
  return unexpected{EAGAIN};
}

// ____sys_sendmsg() hands the protocol the whole iovec: the buffers gathered here leave as one
// send (one datagram on a datagram socket).
sys_result<std::size_t> socket_table::sendmsg(instant now, int fd, std::span<const bytes> iov, int flags,
                                              const std::optional<sock_addr>& to) {
  if (get(fd) == nullptr) return unexpected{EBADF};
  if (iov.size() == 1) return sendto(now, fd, iov[0], flags, to);
  scratch_.clear();
  for (const bytes b : iov) scratch_.insert(scratch_.end(), b.begin(), b.end());
  return sendto(now, fd, scratch_, flags, to);
}

sys_result<received> socket_table::recvfrom(int fd, mutable_bytes out, int flags) {
  return recvmsg(fd, std::span{&out, 1}, flags);
}

// A datagram is scattered over the buffers as it is; a stream socket's bytes are read as one
// recv into a gathered buffer (so MSG_PEEK sees the same bytes once) and then spread.
sys_result<received> socket_table::recvmsg(int fd, std::span<const mutable_bytes> iov, int flags) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (s->type == sock_dgram) return dg_recv(*s, iov, flags);
  if (iov.size() == 1) {
    auto n = recv(fd, iov[0], flags);
    if (!n) return unexpected{n.error()};
    return received{*n, std::nullopt, 0};
  }
  std::size_t total = 0;
  for (const mutable_bytes b : iov) total += b.size();
  scratch_.resize(total);
  auto n = recv(fd, scratch_, flags);
  if (!n) return unexpected{n.error()};
  std::size_t at = 0;
  for (const mutable_bytes b : iov) {
    const std::size_t k = std::min(b.size(), *n - at);
    std::copy_n(scratch_.begin() + static_cast<std::ptrdiff_t>(at), k, b.begin());
    at += k;
  }
  return received{*n, std::nullopt, 0};
}

// ---- shutdown, close ----------------------------------------------------------------------------

// inet_shutdown().
sys_result<void> socket_table::shutdown(instant now, int fd, int how) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (how < shut_rd || how > shut_rdwr) return unexpected{EINVAL};
  if (s->type == sock_dgram) return dg_shutdown(*s, how);
  const auto bits = static_cast<std::uint8_t>(how + 1);  // SHUT_RD -> RCV_SHUTDOWN ...
  sync(*s);
  const tcp_state k = kstate(*s);
  if (s->st == sock_state::connecting) {
    const bool early = k == tcp_state::syn_sent || k == tcp_state::syn_received || k == tcp_state::closed;
    s->st = early ? sock_state::disconnecting : sock_state::connected;
  }
  switch (k) {
    case tcp_state::closed:
      s->shut |= bits;  // still recorded, so poll shows it (Linux does the same)
      return unexpected{ENOTCONN};
    case tcp_state::listen:
      if ((bits & rcv_shutdown) != 0) disconnect(now, *s, false);  // stops listening
      return {};
    case tcp_state::syn_sent:
      disconnect(now, *s, false);  // tcp_disconnect(): no RST before synchronization
      s->err = ECONNRESET;
      return {};
    case tcp_state::syn_received:
    case tcp_state::established:
    case tcp_state::fin_wait_1:
    case tcp_state::fin_wait_2:
    case tcp_state::close_wait:
    case tcp_state::closing:
    case tcp_state::last_ack:
    case tcp_state::time_wait:
      break;
  }
  s->shut |= bits;
  if ((bits & send_shutdown) != 0) (void)host_.shutdown(now, *s->conn);  // the FIN (tcp_shutdown)
  return {};
}

// tcp_close(): unread data or SO_LINGER with a zero time aborts with RST; otherwise the
// connection finishes its close on its own. Nothing here blocks: with a non-zero linger time
// runtime::blocking_sockets::close waits for the FIN's acknowledgement (sk_stream_wait_close).
sys_result<void> socket_table::close(instant now, int fd) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (s->type == sock_dgram) dg_unhash(*s);  // udp_lib_close: the port is free at once
  disconnect(now, *s, s->linger.l_onoff != 0 && s->linger.l_linger == 0);
  s->open = false;
  s->dg = dgram_state{};
  return {};
}

sys_result<bool> socket_table::nonblocking(int fd) const {
  const sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  return s->nonblock;
}

sys_result<void> socket_table::set_nonblocking(int fd, bool on) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  s->nonblock = on;
  return {};
}

sys_result<sock_addr> socket_table::getsockname(int fd) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (s->type == sock_dgram) return dg_name(*s);
  sync(*s);
  if (!s->bound) return as_seen_by(*s, s->domain == af_inet6 ? ip_addr{ipv6_addr{}} : ip_addr{}, 0);
  if (s->conn) {
    if (const auto st = host_.status(*s->conn)) return as_seen_by(*s, st->tuple.local_addr, s->lport);
  }
  return as_seen_by(*s, s->laddr, s->lport);
}

sys_result<sock_addr> socket_table::getpeername(int fd) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  // inet_getname(): a datagram socket has a peer while connected.
  if (s->type == sock_dgram) return s->st == sock_state::connected ? sys_result<sock_addr>{s->peer} : unexpected{ENOTCONN};
  sync(*s);
  const tcp_state k = kstate(*s);
  if (!s->conn || k == tcp_state::closed || k == tcp_state::syn_sent) return unexpected{ENOTCONN};
  return s->peer;
}

}  // namespace synack::posix
