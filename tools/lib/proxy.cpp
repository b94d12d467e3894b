// The relay of `synack proxy` (proxy.hpp): synack connection <-> kernel socket, connected
// directly or through a SOCKS5 server.
#include "proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "synack/posix/tcp_info.hpp"

namespace synack::tools {

struct proxy::session {
  // The first read's reservation: one ring allocation's worth (what send() of a few bytes
  // allocates), so that a connection that moves a few bytes holds no more.
  static constexpr std::size_t first_reserve = ring_buffer::min_storage;
  std::uint64_t id = 0;
  conn_handle h;
  bool h_open = false;  // we hold `h` (false until accepted, and once closed, aborted or released)
  // The client's SYN, held unanswered (defer_syn) until the upstream connect ends; then, once
  // accepted, the client's handshake is awaited (`awaiting_client`) before the relay starts.
  std::optional<syn_handle> syn;
  bool awaiting_client = false;
  int fd = -1;
  four_tuple tuple;        // local: the original destination; remote: the client
  bool connecting = true;  // the kernel socket's connect (and SOCKS5 handshake) has not completed
  std::optional<socks5::client> socks;  // --socks5: the handshake, once the socket is connected
  runtime::timer_id connect_timer = 0;
  std::uint32_t interest = 0;  // what the event loop watches fd for (0: not watched)
  // pause_reading(h): before the upstream is there, and while the kernel socket is full with
  // client bytes left in the synack connection (`up_blocked`; EPOLLOUT watched).
  bool tun_paused = false;
  bool up_blocked = false;
  // The synack connection's send buffer had no room (on_writable asked; EPOLLIN not watched).
  bool down_blocked = false;
  // How much send buffer one read reserves (proxy.cpp: relay_down): a full read doubles it.
  std::size_t down_reserve = first_reserve;
  bool tun_eof = false;        // the client's FIN was read
  bool up_shut = false;        // shutdown(SHUT_WR) done on fd
  bool kern_eof = false;       // the upstream's EOF was read
  bool tun_shut = false;       // the synack side's FIN queued (loop.shutdown)
  std::uint64_t bytes_up = 0;  // this session's bytes each way (proxy_link)
  std::uint64_t bytes_down = 0;
};

// The original destination as a kernel socket address (proxy.hpp).
socklen_t to_sockaddr(const ip_addr& a, std::uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.is_v4()) {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    s4->sin_addr.s_addr = htonl(a.low32());
    return sizeof(sockaddr_in);
  }
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
  s6->sin6_family = AF_INET6;
  s6->sin6_port = htons(port);
  std::memcpy(&s6->sin6_addr, a.v6().octets.data(), 16);
  return sizeof(sockaddr_in6);
}

std::optional<socks5::endpoint> from_sockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
    return socks5::endpoint{ipv4_addr{ntohl(s4->sin_addr.s_addr)}, ntohs(s4->sin_port)};
  }
  if (ss.ss_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    ipv6_addr a;
    std::memcpy(a.octets.data(), &s6->sin6_addr, 16);
    return socks5::endpoint{a, ntohs(s6->sin6_port)};
  }
  return std::nullopt;
}

int connect_status(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  if (err != 0) return err;
  sockaddr_storage peer;
  socklen_t plen = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) < 0) return EINPROGRESS;
  return 0;
}

int run_socks5_handshake(int fd, socks5::client& c) {
  for (;;) {
    if (c.current() == socks5::client::state::write) {
      const bytes out = c.output();
      const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
      }
      c.on_output_sent(static_cast<std::size_t>(n));
    } else if (c.current() == socks5::client::state::read) {
      std::array<std::byte, 512> buf;  // a reply is at most 262 bytes (RFC 1928 §6)
      const ssize_t n = ::recv(fd, buf.data(), std::min(buf.size(), c.input_wanted()), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
      }
      if (n == 0) {
        c.on_eof();
      } else {
        (void)c.on_input(bytes{buf}.first(static_cast<std::size_t>(n)));
      }
    } else {
      return 0;  // connected or failed
    }
  }
}

std::string_view to_string(proxy_phase p) {
  switch (p) {
    case proxy_phase::connecting: return "connecting";
    case proxy_phase::awaiting_client: return "awaiting_client";
    case proxy_phase::relaying: return "relaying";
  }
  return "?";
}

std::vector<proxy_link> proxy::links() const {
  std::vector<proxy_link> out;
  out.reserve(sessions_.size());
  for (const auto& [id, sp] : sessions_) {
    const session& s = *sp;
    proxy_link l;
    l.client = s.tuple;
    l.phase = s.connecting ? proxy_phase::connecting
              : s.awaiting_client ? proxy_phase::awaiting_client
                                  : proxy_phase::relaying;
    l.socks5 = opts_.socks5.has_value();
    l.upstream_addr = l.socks5 ? opts_.socks5->addr : s.tuple.local_addr;
    l.upstream_port = l.socks5 ? opts_.socks5->port : s.tuple.local_port;
    l.bytes_up = s.bytes_up;
    l.bytes_down = s.bytes_down;
    if (s.fd >= 0) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      if (::getsockname(s.fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
        if (const auto e = from_sockaddr(ss)) {
          l.upstream_local_addr = e->addr.unmapped();
          l.upstream_local_port = e->port;
        }
      }
      tcp_info ti{};
      socklen_t tlen = sizeof ti;
      if (::getsockopt(s.fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0) l.upstream_state = posix::from_linux_state(ti.tcpi_state);
    }
    out.push_back(l);
  }
  return out;
}

int set_out_route(int fd, const std::string& out_interface, std::optional<std::uint32_t> out_mark) {
  // The proxy's own traffic must not come back into the TUN (the routing loop): it leaves
  // through the chosen interface, or carries a mark an `ip rule` routes elsewhere.
  if (!out_interface.empty() && ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, out_interface.data(),
                                             static_cast<socklen_t>(out_interface.size())) < 0) {
    return errno;
  }
  if (out_mark) {
    const std::uint32_t mark = *out_mark;
    if (::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) return errno;
  }
  return 0;
}

result<std::unique_ptr<proxy>, std::string> proxy::start(runtime::event_loop& loop, const proxy_options& o) {
  std::unique_ptr<proxy> p(new proxy(loop, o));
  proxy* self = p.get();
  // One any-address listener per family: IPv4 and IPv6 destinations alike. Each SYN is held
  // until the upstream connect ends (proxy.hpp); the host forgets a held SYN only after the
  // connect timeout has answered it.
  for (listen_family f : {listen_family::v4, listen_family::v6}) {
    any_address_options ao;
    ao.family = f;
    ao.defer_syn = true;
    ao.max_pending_syns = o.backlog;
    ao.pending_syn_timeout = o.connect_timeout + std::chrono::seconds(10);
    ao.evict_oldest_syn = true;  // under a flood, the oldest held SYN goes (proxy.hpp)
    auto l = loop.listen_any(
        o.backlog, ao, [self](conn_handle h) { self->on_accept(h); },
        [self](syn_handle sh, const four_tuple& t) { self->on_syn(sh, t); });
    if (!l) return unexpected{fmt::format("any-address listener ({}): {}", f == listen_family::v4 ? "IPv4" : "IPv6",
                               to_string(l.error()))};
  }
  return p;
}

proxy::proxy(runtime::event_loop& loop, proxy_options o) : loop_(loop), opts_(std::move(o)) {
  stats_.socks5 = opts_.socks5.has_value();
}

proxy::~proxy() {
  // At exit: every kernel socket is closed (no fd outlives the proxy); the synack side goes
  // with the host.
  for (auto& [id, s] : sessions_) {
    if (s->fd >= 0) {
      loop_.unwatch(s->fd);
      ::close(s->fd);
    }
  }
}

proxy::session* proxy::find(std::uint64_t id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

// A client's SYN, held: the session starts with the upstream connect; the SYN is answered
// when it ends (upstream_ready: accept_syn; fail_upstream: refuse_syn).
void proxy::on_syn(syn_handle sh, const four_tuple& t) {
  // The host may have forgotten older held SYNs for this one (and this one for newer ones, if
  // it went before we were told): their sessions end, and a forgotten SYN starts none.
  const bool v4 = t.local_addr.is_v4();
  reap_forgotten(v4);
  if (!loop_.host().pending_syn(sh)) return;
  // A session still waiting on this 4-tuple is stale: the client's handshake it waited for
  // died (the host absorbs retransmissions of a SYN it holds, so this is a new attempt).
  if (auto it = pending_.find(t); it != pending_.end()) {
    if (session* old = find(it->second)) destroy(*old, true);
  }
  auto s = std::make_unique<session>();
  s->id = next_id_++;
  s->syn = sh;
  s->tuple = t;
  session& ref = *s;
  pending_.emplace(t, s->id);
  held_[v4 ? 0 : 1].push_back(s->id);
  sessions_.emplace(s->id, std::move(s));
  ++stats_.sessions_opened;
  ++stats_.sessions_active;
  ++stats_.syns_held;
  start_upstream(ref);
}

// Ends the sessions whose held SYN the host forgot for a newer one (evict_oldest_syn: always
// the oldest, so they are at the front of the family's queue).
void proxy::reap_forgotten(bool v4) {
  std::deque<std::uint64_t>& q = held_[v4 ? 0 : 1];
  while (!q.empty()) {
    session* s = find(q.front());
    if (s != nullptr && s->syn) {
      if (loop_.host().pending_syn(*s->syn)) break;  // still held: the newer ones are too
      q.pop_front();
      destroy(*s, true);
      continue;
    }
    q.pop_front();  // answered, or the session is gone
  }
  // Answered sessions queued behind a SYN held long: dropped now and then, so the queue stays
  // bounded by the sessions that hold a SYN.
  if (q.size() > 2 * opts_.backlog + 64) {
    std::erase_if(q, [this](std::uint64_t id) {
      const session* x = find(id);
      return x == nullptr || !x->syn;
    });
  }
}

// A connection accepted: the client's handshake completed after accept_syn, and the relay
// starts. A SYN the host did not hold (one reopening a TIME-WAIT 4-tuple) arrives here
// accepted already: its session starts here, as before deferral (proxy.hpp).
void proxy::on_accept(conn_handle h) {
  auto st = loop_.host().status(h);
  if (!st) {
    (void)loop_.abort(h);  // cannot happen for a handle just accepted; never leak it
    return;
  }
  auto it = pending_.find(st->tuple);
  session* s = it == pending_.end() ? nullptr : find(it->second);
  if (s != nullptr && s->awaiting_client) {
    pending_.erase(it);
    s->awaiting_client = false;
    if (s->connect_timer != 0) loop_.cancel(s->connect_timer), s->connect_timer = 0;
    attach(*s, h);
    update_interest(*s);  // the upstream's bytes (a banner) waited in its socket until now
    return;
  }
  if (s != nullptr) {
    (void)loop_.abort(h);  // its SYN is still held: cannot happen; never leak it
    return;
  }
  auto fresh = std::make_unique<session>();
  fresh->id = next_id_++;
  fresh->tuple = st->tuple;
  session& ref = *fresh;
  sessions_.emplace(fresh->id, std::move(fresh));
  ++stats_.sessions_opened;
  ++stats_.sessions_active;
  attach(ref, h);
  // The client's bytes wait in the synack connection until the upstream is there.
  loop_.pause_reading(h, true);
  ref.tun_paused = true;
  start_upstream(ref);
}

void proxy::attach(session& s, conn_handle h) {
  s.h = h;
  s.h_open = true;
  const std::uint64_t id = s.id;
  loop_.set_callbacks(h, {.on_established = {},
                          .on_readable =
                              [this, id] {
                                if (session* x = find(id)) relay_up(*x);
                              },
                          .on_writable =
                              [this, id] {
                                if (session* x = find(id)) relay_down(*x);
                              },
                          .on_closed = [this, id](close_reason why) { on_tun_closed(id, why); }});
}

void proxy::start_upstream(session& ref) {
  const ip_addr& dst = ref.tuple.local_addr;
  const std::uint64_t id = ref.id;
  // Direct: to the original destination; --socks5: to the server, which is asked for it.
  const ip_addr& to = opts_.socks5 ? opts_.socks5->addr : dst;
  const std::uint16_t to_port = opts_.socks5 ? opts_.socks5->port : ref.tuple.local_port;
  const int fd = ::socket(to.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail_connect(ref, errno);
    return;
  }
  ref.fd = fd;
  if (const int err = set_out_route(fd, opts_.out_interface, opts_.out_mark); err != 0) {
    fail_connect(ref, err);
    return;
  }
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(to, to_port, ss);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len) < 0 && errno != EINPROGRESS) {
    fail_connect(ref, errno);
    return;
  }
  ref.connect_timer = loop_.call_after(opts_.connect_timeout, [this, id] {
    if (session* x = find(id); x && x->connecting) {
      x->connect_timer = 0;
      fail_connect(*x, ETIMEDOUT);
    }
  });
  update_interest(ref);
}

void proxy::on_fd(std::uint64_t id, std::uint32_t events) {
  session* s = find(id);
  if (s == nullptr) return;
  if (s->connecting) {
    if (s->socks) {
      run_socks5(*s);
    } else {
      finish_connect(*s);
    }
    return;
  }
  if ((events & EPOLLERR) != 0) {
    // An error (a reset) is reported whatever we watch for, and again on every wait while it
    // stands, even when a full send buffer keeps us from reading into recv's error: take it now.
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err != 0) {
      reset_from_upstream(*s, err);
      return;
    }
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
    relay_down(*s);
    s = find(id);
    if (s == nullptr) return;
  }
  if ((events & EPOLLOUT) != 0) relay_up(*s);
}

void proxy::finish_connect(session& s) {
  const int err = connect_status(s.fd);
  if (err == EINPROGRESS) return;  // still connecting
  if (err != 0) {
    fail_connect(s, err);
    return;
  }
  if (opts_.socks5) {
    // Connected to the SOCKS5 server: the handshake runs before the relay (connect timer on).
    s.socks.emplace(s.tuple.local_addr, s.tuple.local_port, opts_.socks5->auth);
    run_socks5(s);
    return;
  }
  upstream_ready(s);
}

// The upstream is there (connected, or the SOCKS5 server connected): the client's SYN is
// answered with a SYN-ACK, and the relay starts once its handshake completes (on_accept).
void proxy::upstream_ready(session& s) {
  s.connecting = false;
  if (s.connect_timer != 0) loop_.cancel(s.connect_timer), s.connect_timer = 0;
  if (opts_.verbose) {
    std::string via;
    if (s.socks) {
      const socks5::connect_reply& r = s.socks->reply();
      via = fmt::format(" through SOCKS5, bound {}",
                        r.bnd_addr ? r.bnd_addr->with_port(r.bnd_port) : fmt::format("{}:{}", r.bnd_domain, r.bnd_port));
    }
    fmt::print(stderr, "synack proxy: {} -> {} connected{}\n", s.tuple.remote_addr.with_port(s.tuple.remote_port),
               s.tuple.local_addr.with_port(s.tuple.local_port), via);
  }
  s.socks.reset();
  if (!s.syn) {
    // Accepted before the connect (a SYN the host did not hold): the relay starts now.
    s.tun_paused = false;
    loop_.pause_reading(s.h, false);  // what the client sent meanwhile is read now
    update_interest(s);
    return;
  }
  const syn_handle sh = *s.syn;
  s.syn.reset();
  --stats_.syns_held;
  if (!loop_.accept_syn(sh)) {
    destroy(s, true);  // the held SYN is gone (expired, or no room now): the client retries
    return;
  }
  s.awaiting_client = true;
  const std::uint64_t id = s.id;
  s.connect_timer = loop_.call_after(opts_.connect_timeout, [this, id] {
    if (session* x = find(id); x && x->awaiting_client) {
      x->connect_timer = 0;  // the client never completed its handshake
      destroy(*x, true);
    }
  });
  update_interest(s);  // nothing is watched until the client is there
}

void proxy::fail_connect(session& s, int err) {
  const char* why = "other";
  syn_refusal answer = syn_refusal::reset;
  switch (err) {
    case ECONNREFUSED: ++stats_.failed_refused, why = "refused"; break;
    case ENETUNREACH: ++stats_.failed_unreachable, why = "unreachable", answer = syn_refusal::net_unreachable; break;
    case EHOSTUNREACH: ++stats_.failed_unreachable, why = "unreachable", answer = syn_refusal::host_unreachable; break;
    // No answer at all: what a router says of a host that never answers its ARP or NDP.
    case ETIMEDOUT: ++stats_.failed_timeout, why = "timeout", answer = syn_refusal::host_unreachable; break;
    case EACCES:
    case EPERM: ++stats_.failed_other, answer = syn_refusal::admin_prohibited; break;  // a firewall's verdict
    default: ++stats_.failed_other; break;
  }
  fail_upstream(s, why, std::strerror(err), answer);
}

// The SOCKS5 handshake (socks5.hpp) over the connected socket: write what the client has,
// read no more than the reply it waits for (what follows is the relay's), until it is done.
void proxy::run_socks5(session& s) {
  if (const int err = run_socks5_handshake(s.fd, *s.socks); err != 0) return fail_connect(s, err);
  switch (s.socks->current()) {
    case socks5::client::state::write:
    case socks5::client::state::read: return update_interest(s);
    case socks5::client::state::connected:
      ++stats_.socks5_connected;
      return upstream_ready(s);
    case socks5::client::state::failed: return fail_socks5(s);
  }
}

void proxy::fail_socks5(session& s) {
  const socks5::error e = s.socks->failure();
  const char* why = "other";
  syn_refusal answer = syn_refusal::reset;
  switch (e) {
    case socks5::error::connection_refused: ++stats_.failed_refused, why = "refused"; break;
    case socks5::error::network_unreachable:
      ++stats_.failed_unreachable, why = "unreachable", answer = syn_refusal::net_unreachable;
      break;
    case socks5::error::host_unreachable:
      ++stats_.failed_unreachable, why = "unreachable", answer = syn_refusal::host_unreachable;
      break;
    case socks5::error::ttl_expired: ++stats_.failed_timeout, why = "timeout", answer = syn_refusal::host_unreachable; break;
    case socks5::error::not_allowed: ++stats_.failed_other, answer = syn_refusal::admin_prohibited; break;
    case socks5::error::general_failure:
    case socks5::error::command_not_supported:
    case socks5::error::address_type_not_supported: ++stats_.failed_other; break;
    case socks5::error::auth_rejected:
    case socks5::error::no_acceptable_method:
      ++stats_.failed_other, ++stats_.socks5_auth_failed, why = "auth failed";
      break;
    case socks5::error::malformed_reply:
    case socks5::error::closed: ++stats_.failed_other, ++stats_.socks5_malformed, why = "SOCKS5 error"; break;
  }
  if (socks5::error_from_rep(s.socks->failure_rep()) == e) ++stats_.socks5_rejected;
  const std::string detail =
      s.socks->failure_rep() != 0 ? fmt::format("SOCKS5 server: {}, REP {}", to_string(e), s.socks->failure_rep())
                                  : fmt::format("SOCKS5 server: {}", to_string(e));
  fail_upstream(s, why, detail, answer);
}

void proxy::fail_upstream(session& s, const char* why, std::string_view detail, syn_refusal answer) {
  fmt::print(stderr, "synack proxy: {} -> {}: upstream {} ({})\n", s.tuple.remote_addr.with_port(s.tuple.remote_port),
             s.tuple.local_addr.with_port(s.tuple.local_port), why, detail);
  // The client's SYN is still held (proxy.hpp): it is answered as the destination (or the
  // path to it) would have: RST|ACK for a refusal, ICMP destination unreachable otherwise.
  // A connection accepted before the connect (on_accept) can only be reset.
  if (s.syn) {
    (void)loop_.refuse_syn(*s.syn, answer);
    s.syn.reset();
    --stats_.syns_held;
  } else if (s.h_open) {
    (void)loop_.abort(s.h);
    s.h_open = false;
  }
  destroy(s, false);
}

// Client -> upstream, with no buffer of our own: the synack connection's unread bytes go to the
// kernel socket straight from its receive buffer (sendmsg over the view's two spans), and only
// what the kernel took is consumed. Bytes it does not take stay there: the client's window
// closes as they do (backpressure), on_readable is paused and EPOLLOUT watched until it takes
// more.
void proxy::relay_up(session& s) {
  if (s.connecting) return;
  bool blocked = false;
  while (!s.tun_eof) {
    auto view = loop_.recv_view(s.h);
    if (!view) break;  // would_block; an error ends the connection through on_closed
    if (view->empty()) {
      s.tun_eof = true;  // the client's FIN, every byte before it relayed
      break;
    }
    std::array<iovec, 2> iov{iovec{const_cast<std::byte*>(view->first.data()), view->first.size()},
                             iovec{const_cast<std::byte*>(view->second.data()), view->second.size()}};
    msghdr m{};
    m.msg_iov = iov.data();
    m.msg_iovlen = view->second.empty() ? 1 : 2;
    const std::size_t held = view->size();
    const ssize_t n = ::sendmsg(s.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        blocked = true;
        break;
      }
      reset_from_upstream(s, errno);
      return;
    }
    const auto taken = static_cast<std::size_t>(n);
    (void)loop_.recv_consume(s.h, taken);
    stats_.bytes_up += taken;
    s.bytes_up += taken;
    if (taken < held) {
      blocked = true;  // the socket's buffer is full: EAGAIN next time
      break;
    }
  }
  s.up_blocked = blocked;
  if (s.tun_paused != blocked) {
    s.tun_paused = blocked;
    loop_.pause_reading(s.h, blocked);
  }
  if (s.tun_eof && !s.up_shut) {
    // Half-close carried through: the client's FIN becomes the upstream's FIN.
    ::shutdown(s.fd, SHUT_WR);
    s.up_shut = true;
  }
  if (!maybe_done(s)) update_interest(s);
}

// Upstream -> client, with no buffer of our own: the kernel socket is read (readv) straight into
// the synack connection's free send buffer (send_reserve), and what was read is committed. With
// no room the socket is not read (EPOLLIN unwatched) until on_writable: its window closes in
// turn. A read that fills its reservation doubles the next one (down_reserve), so a bulk
// transfer soon reads as much as the buffer has room for, while a connection that moves a few
// bytes grows no larger buffer than send() of them would.
void proxy::relay_down(session& s) {
  if (s.connecting) return;
  s.down_blocked = false;
  while (!s.kern_eof) {
    auto space = loop_.send_reserve(s.h, s.down_reserve);
    if (!space) {
      // No send space: wait for on_writable. Another error ends the connection (on_closed).
      if (space.error() != tcp_error::would_block) return;
      s.down_blocked = true;
      loop_.want_writable(s.h, true);
      break;
    }
    std::array<iovec, 2> iov{iovec{space->first.data(), space->first.size()},
                             iovec{space->second.data(), space->second.size()}};
    const std::size_t room = space->size();
    const ssize_t n = ::readv(s.fd, iov.data(), space->second.empty() ? 1 : 2);
    const int err = errno;
    (void)loop_.send_commit(s.h, n > 0 ? static_cast<std::size_t>(n) : 0);  // before anything else
    if (n < 0) {
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      reset_from_upstream(s, err);
      return;
    }
    if (n == 0) {
      s.kern_eof = true;
      break;
    }
    const auto got = static_cast<std::size_t>(n);
    stats_.bytes_down += got;
    s.bytes_down += got;
    if (got < room) break;  // drained the socket (level-triggered: told again)
    // The next reservation: twice this one, up to the whole send buffer (send_reserve gives
    // no more than its room).
    s.down_reserve = std::min(std::max(s.down_reserve, 2 * room), loop_.host().config().tcp.send_buffer);
  }
  if (s.kern_eof && !s.tun_shut) {
    // The upstream's EOF becomes the synack side's FIN.
    (void)loop_.shutdown(s.h);
    s.tun_shut = true;
  }
  if (!maybe_done(s)) update_interest(s);
}

void proxy::update_interest(session& s) {
  if (s.fd < 0) return;
  std::uint32_t want = 0;
  if (s.awaiting_client) {
    want = 0;  // connected upstream; its bytes wait in the socket until the client is there
  } else if (s.connecting) {
    // Connecting, or writing the SOCKS5 handshake: writable; waiting for its reply: readable.
    want = s.socks && s.socks->current() == socks5::client::state::read ? EPOLLIN : EPOLLOUT;
  } else {
    if (!s.kern_eof && !s.down_blocked) want |= EPOLLIN;
    if (s.up_blocked) want |= EPOLLOUT;
  }
  if (want == s.interest) return;
  s.interest = want;
  // Unwatched while nothing is wanted: a socket shut both ways would report EPOLLHUP forever.
  if (want == 0) {
    loop_.unwatch(s.fd);
    return;
  }
  const std::uint64_t id = s.id;
  if (!loop_.watch(s.fd, want, [this, id](std::uint32_t ev) { on_fd(id, ev); })) {
    fmt::print(stderr, "synack proxy: epoll_ctl: {}\n", std::strerror(errno));
    reset_from_upstream(s, errno);
  }
}

void proxy::on_tun_closed(std::uint64_t id, close_reason why) {
  session* s = find(id);
  if (s == nullptr) return;
  s->h_open = false;  // the event loop releases the handle after this callback
  if (why == close_reason::none) {
    // Closed in order on the TUN side: what the connection still holds goes upstream (as far as
    // the socket takes it now), then FIN.
    if (!s->connecting) relay_up(*s);
    s = find(id);
    if (s == nullptr) return;
    destroy(*s, false);
    return;
  }
  // A reset (or the client timed out): the upstream gets an RST too.
  ++stats_.resets_client;
  if (opts_.verbose) {
    fmt::print(stderr, "synack proxy: {} -> {}: client side {}\n", s->tuple.remote_addr.with_port(s->tuple.remote_port),
               s->tuple.local_addr.with_port(s->tuple.local_port), why == close_reason::timeout ? "timed out" : "reset");
  }
  destroy(*s, true);
}

void proxy::reset_from_upstream(session& s, int err) {
  ++stats_.resets_upstream;
  if (opts_.verbose) {
    fmt::print(stderr, "synack proxy: {} -> {}: upstream {}\n", s.tuple.remote_addr.with_port(s.tuple.remote_port),
               s.tuple.local_addr.with_port(s.tuple.local_port), std::strerror(err));
  }
  (void)loop_.abort(s.h);  // RST to the client
  s.h_open = false;
  destroy(s, false);
}

bool proxy::maybe_done(session& s) {
  if (!(s.up_shut && s.tun_shut && s.kern_eof && s.tun_eof)) return false;
  // Both FINs carried through and both queues empty: the synack side finishes its close on
  // its own (TIME-WAIT or LAST-ACK), the kernel socket is closed in order.
  (void)loop_.close(s.h);
  s.h_open = false;
  destroy(s, false);
  return true;
}

void proxy::destroy(session& s, bool rst_upstream) {
  if (s.syn) --stats_.syns_held;  // forgotten by the host, or replaced by a new SYN of its 4-tuple
  if (s.connect_timer != 0) loop_.cancel(s.connect_timer);
  if (auto it = pending_.find(s.tuple); it != pending_.end() && it->second == s.id) pending_.erase(it);
  if (s.fd >= 0) {
    loop_.unwatch(s.fd);
    if (rst_upstream) {
      // SO_LINGER 0: close() sends RST instead of FIN and drops what is unsent.
      linger l{1, 0};
      ::setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(s.fd);
  }
  if (s.h_open) (void)loop_.close(s.h);
  --stats_.sessions_active;
  sessions_.erase(s.id);  // `s` is gone from here on
}

}  // namespace synack::tools
