// setsockopt / getsockopt (socket(7), tcp(7)) and poll (tcp_poll), with Linux's checks:
// an int option shorter than an int is EINVAL, an unknown level or name ENOPROTOOPT, values
// out of range EINVAL; getsockopt truncates to the caller's length.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "synack/posix/socket_table.hpp"

namespace synack::posix {
namespace {

std::optional<int> int_value(bytes v) {
  if (v.size() < sizeof(int)) return std::nullopt;
  int x = 0;
  std::memcpy(&x, v.data(), sizeof x);
  return x;
}

int seconds(duration d) { return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(d).count()); }

// Beyond this a timeout waits for ever, as Linux's beyond MAX_SCHEDULE_TIMEOUT / HZ - 1
// seconds (a bound that depends on HZ; both lie past a hundred thousand years).
constexpr std::int64_t forever_sec = 4'000'000'000'000;
constexpr std::int64_t usec_per_sec = 1'000'000;

timeval_opt to_timeval(const std::optional<duration>& t) {
  if (!t) return {};  // MAX_SCHEDULE_TIMEOUT reads back as {0, 0}
  return {t->count() / usec_per_sec, t->count() % usec_per_sec};
}

}  // namespace

// sock_set_timeout(): shorter than a struct timeval is EINVAL; tv_usec outside 0..999999 is
// EDOM; a negative tv_sec means "do not wait" (0); {0, 0} means "for ever".
// DEVIATION: kept to the microsecond; Linux rounds up to a jiffy (1/HZ s), which getsockopt
// then shows.
sys_result<void> socket_table::set_timeout(std::optional<duration>& t, bytes value) {
  timeval_opt tv;
  if (value.size() < sizeof tv) return unexpected{EINVAL};
  std::memcpy(&tv, value.data(), sizeof tv);
  if (tv.tv_usec < 0 || tv.tv_usec >= usec_per_sec) return unexpected{EDOM};
  if (tv.tv_sec < 0) {
    t = duration{0};
  } else if ((tv.tv_sec == 0 && tv.tv_usec == 0) || tv.tv_sec >= forever_sec) {
    t.reset();
  } else {
    t = duration{tv.tv_sec * usec_per_sec + tv.tv_usec};
  }
  return {};
}

sys_result<std::optional<duration>> socket_table::recv_timeout(int fd) const {
  const sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  return s->rcvtimeo;
}

sys_result<std::optional<duration>> socket_table::send_timeout(int fd) const {
  const sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  return s->sndtimeo;
}

// Options that reach a live connection (TCP_NODELAY, keep-alives) go to it at once.
void socket_table::apply_live(instant now, sock& s) {
  if (s.conn) (void)host_.reconfigure(now, *s.conn, connection_config(s));  // bad_handle once it is gone
  // A listener's later connections take every option, as Linux's children inherit them.
  if (s.listener) (void)host_.reconfigure_listener(*s.listener, connection_config(s, true));
}

sys_result<void> socket_table::setsockopt(instant now, int fd, int level, int name, bytes value) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (level == sol_socket) return set_socket_level(now, *s, name, value);
  // udp_setsockopt() passes other levels to ip_setsockopt / ipv6_setsockopt: no SOL_TCP there.
  if (level == ipproto_tcp) return s->type == sock_dgram ? unexpected{ENOPROTOOPT} : set_tcp_level(now, *s, name, value);
  if (level == ipproto_ipv6 && s->domain == af_inet6) {
    // do_ipv6_setsockopt(): IPV6_V6ONLY only before the socket has a port (EINVAL after);
    // IPV6_TCLASS is the IPv6 TOS (-1 restores the default, 0).
    if (value.size() < sizeof(int)) return unexpected{EINVAL};
    const int v = *int_value(value);
    if (name == ipv6_v6only) {
      if (s->bound || s->conn || s->listener) return unexpected{EINVAL};
      s->v6only = v != 0;
      return {};
    }
    if (name == ipv6_tclass) {
      if (v < -1 || v > 0xFF) return unexpected{EINVAL};
      constexpr int ecn_mask = 3;
      s->cfg.tos = static_cast<std::uint8_t>(((v < 0 ? 0 : v) & ~ecn_mask) | (s->cfg.tos & ecn_mask));
      apply_live(now, *s);
      return {};
    }
    return unexpected{ENOPROTOOPT};
  }
  if (level == sol_synack && name == synack_any_address && s->type == sock_stream) {
    if (value.size() < sizeof(int)) return unexpected{EINVAL};
    if (s->listener || s->conn) return unexpected{EINVAL};  // decided at listen()
    s->any_address = *int_value(value) != 0;
    return {};
  }
  if (level == ipproto_ip && name == ip_tos) {
    // do_ip_setsockopt(): an int, or a single octet; on a stream socket the ECN bits stay
    // the stack's (__ip_sock_set_tos).
    if (value.empty()) return unexpected{EINVAL};
    const int v = value.size() >= sizeof(int) ? *int_value(value) : std::to_integer<int>(value[0]);
    constexpr int ecn_mask = 3;
    s->cfg.tos = static_cast<std::uint8_t>((v & ~ecn_mask) | (s->cfg.tos & ecn_mask));
    apply_live(now, *s);
    return {};
  }
  return unexpected{ENOPROTOOPT};
}

sys_result<void> socket_table::set_socket_level(instant now, sock& s, int name, bytes value) {
  if (name == so_linger) {
    if (value.size() < sizeof(linger_opt)) return unexpected{EINVAL};
    std::memcpy(&s.linger, value.data(), sizeof s.linger);
    s.linger.l_onoff = s.linger.l_onoff != 0 ? 1 : 0;
    return {};
  }
  if (name == so_rcvtimeo) return set_timeout(s.rcvtimeo, value);
  if (name == so_sndtimeo) return set_timeout(s.sndtimeo, value);
  if (name == so_zerocopy) {  // sock_setsockopt(): a boolean that must be 0 or 1
    const auto v = int_value(value);
    if (!v || *v < 0 || *v > 1) return unexpected{EINVAL};
    s.zerocopy = *v == 1;
    return {};
  }
  if (name != so_reuseaddr && name != so_keepalive && name != so_rcvbuf && name != so_sndbuf) {
    return unexpected{ENOPROTOOPT};  // SO_ERROR, SO_TYPE, SO_ACCEPTCONN are read-only
  }
  const auto v = int_value(value);
  if (!v) return unexpected{EINVAL};
  switch (name) {
    case so_reuseaddr:
      s.reuse = *v != 0;
      if (s.bound && s.type == sock_stream) port_reuse_[s.lport] = s.reuse;  // TCP's ports
      return {};
    case so_keepalive:
      s.cfg.keepalive = *v != 0;
      apply_live(now, s);
      return {};
    default:
      break;
  }
  // sock_setsockopt(): the value (as unsigned, so a negative one is huge) capped at
  // rmem_max / wmem_max, doubled, and at least SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF. The buffer
  // holds half of what is reported. DEVIATION: only a connection made after the call gets it.
  const bool rcv = name == so_rcvbuf;
  const auto cap = static_cast<unsigned>(rcv ? lim_.rmem_max : lim_.wmem_max);
  const unsigned val = std::min(static_cast<unsigned>(*v), cap);
  const int reported = std::max(static_cast<int>(val * 2), rcv ? lim_.min_rcvbuf : lim_.min_sndbuf);
  (rcv ? s.rcvbuf : s.sndbuf) = reported;
  (rcv ? s.cfg.recv_buffer : s.cfg.send_buffer) = static_cast<std::size_t>(reported / 2);
  if (s.listener) apply_live(now, s);
  return {};
}

sys_result<void> socket_table::set_tcp_level(instant now, sock& s, int name, bytes value) {
  if (name == tcp_fastopen_key) {  // do_tcp_setsockopt: one key, or a key and a backup
    if (value.size() != 16 && value.size() != 32) return unexpected{EINVAL};
    const auto le64 = [&](std::size_t at) {
      std::uint64_t x = 0;
      for (std::size_t k = 0; k < 8; ++k) x |= std::uint64_t{std::to_integer<std::uint8_t>(value[at + k])} << (8 * k);
      return x;
    };
    s.cfg.fast_open_key = std::array<std::uint64_t, 2>{le64(0), le64(8)};  // DEVIATION: no backup key
    apply_live(now, s);
    return {};
  }
  const auto v = int_value(value);
  switch (name) {
    case tcp_nodelay:
    case tcp_maxseg:
    case tcp_keepidle:
    case tcp_keepintvl:
    case tcp_keepcnt:
    case tcp_user_timeout:
    case tcp_cork:
    case tcp_syncnt:
    case tcp_notsent_lowat:
    case tcp_inq:
    case tcp_fastopen:
    case tcp_fastopen_connect:
    case tcp_fastopen_no_cookie:
      if (!v) return unexpected{EINVAL};
      break;
    default:
      return unexpected{ENOPROTOOPT};
  }
  switch (name) {
    case tcp_nodelay:
      s.cfg.no_delay = *v != 0;  // MUST-17: the application can turn Nagle off
      apply_live(now, s);
      // Linux's TCP_NAGLE_PUSH: setting it sends what is held now, even through a cork.
      if (s.cfg.no_delay && s.conn) (void)host_.push(now, *s.conn);  // bad_handle once it is gone
      return {};
    case tcp_cork:
      s.cfg.cork = *v != 0;  // uncorking lets held data go (tcp_push_pending_frames)
      break;
    case tcp_syncnt:  // MAX_TCP_SYNCNT: 127
      if (*v < 1 || *v > 127) return unexpected{EINVAL};
      s.syn_retries = *v;
      return {};
    case tcp_notsent_lowat:
      s.notsent_lowat = static_cast<std::uint32_t>(*v);
      return {};
    case tcp_inq:
      if (*v < 0 || *v > 1) return unexpected{EINVAL};
      s.inq = *v != 0;
      return {};
    case tcp_fastopen: {  // RFC 7413 §5.1 max_qlen, in CLOSE or LISTEN only
      sync(s);
      const tcp_state k = kstate(s);
      if (*v < 0 || (k != tcp_state::closed && k != tcp_state::listen)) return unexpected{EINVAL};
      s.fastopen_qlen = *v;
      break;
    }
    case tcp_fastopen_connect: {
      if (*v < 0 || *v > 1) return unexpected{EINVAL};
      if ((fastopen_sysctl_ & tfo_client_enable) == 0) return unexpected{EOPNOTSUPP};
      sync(s);
      if (kstate(s) != tcp_state::closed) return unexpected{EINVAL};
      s.fastopen_connect = *v != 0;
      return {};
    }
    case tcp_fastopen_no_cookie: {  // 0 or 1, before connect or on a listener (as TCP_FASTOPEN)
      sync(s);
      const tcp_state k = kstate(s);
      if (*v < 0 || *v > 1 || (k != tcp_state::closed && k != tcp_state::listen)) return unexpected{EINVAL};
      s.fastopen_no_cookie = *v != 0;
      break;
    }
    case tcp_maxseg:
      // Takes effect on the next handshake: the MSS we announce and the most we send.
      if (*v != 0 && (*v < lim_.min_user_mss || *v > lim_.max_user_mss)) return unexpected{EINVAL};
      s.user_mss = *v;
      if (s.listener) apply_live(now, s);
      return {};
    case tcp_keepidle:  // MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL: 32767 s
      if (*v < 1 || *v > 32767) return unexpected{EINVAL};
      s.cfg.keepalive_idle = std::chrono::seconds(*v);
      break;
    case tcp_keepintvl:
      if (*v < 1 || *v > 32767) return unexpected{EINVAL};
      s.cfg.keepalive_interval = std::chrono::seconds(*v);
      break;
    case tcp_keepcnt:  // MAX_TCP_KEEPCNT: 127
      if (*v < 1 || *v > 127) return unexpected{EINVAL};
      s.cfg.keepalive_count = static_cast<std::uint32_t>(*v);
      break;
    case tcp_user_timeout:
      // tcp(7): milliseconds, 0 for the system default (off); a negative int is EINVAL. It
      // bounds unacknowledged data and zero-window holds (tcp_config::user_timeout) and, as
      // Linux since 5.4 does, the SYN retransmissions of connect.
      if (*v < 0) return unexpected{EINVAL};
      s.cfg.user_timeout = *v == 0 ? std::nullopt : std::optional<duration>{std::chrono::milliseconds(*v)};
      break;
    default:
      break;
  }
  apply_live(now, s);
  return {};
}

sys_result<int> socket_table::get_int_option(sock& s, int level, int name) {
  if (level == sol_socket) {
    switch (name) {
      case so_reuseaddr: return s.reuse ? 1 : 0;
      case so_keepalive: return s.cfg.keepalive ? 1 : 0;
      case so_type: return s.type;
      case so_acceptconn: return s.listener ? 1 : 0;
      case so_zerocopy: return s.zerocopy ? 1 : 0;
      case so_rcvbuf: return s.rcvbuf;
      case so_sndbuf: return s.sndbuf;
      case so_error:
        sync(s);
        return take_err(s);
      default: return unexpected{ENOPROTOOPT};
    }
  }
  if (level == sol_synack && name == synack_any_address && s.type == sock_stream) return s.any_address ? 1 : 0;
  if (level == ipproto_ip && name == ip_tos) return int{s.cfg.tos};
  if (level == ipproto_ipv6 && s.domain == af_inet6 && name == ipv6_v6only) return s.v6only ? 1 : 0;
  if (level == ipproto_ipv6 && s.domain == af_inet6 && name == ipv6_tclass) return int{s.cfg.tos};
  if (level != ipproto_tcp) return unexpected{ENOPROTOOPT};
  return get_tcp_int(s, name);
}

sys_result<int> socket_table::get_tcp_int(sock& s, int name) {
  switch (name) {
    case tcp_cork: return s.cfg.cork ? 1 : 0;
    case tcp_notsent_lowat: return static_cast<int>(s.notsent_lowat);
    case tcp_inq: return s.inq ? 1 : 0;
    case tcp_fastopen: return s.fastopen_qlen;
    case tcp_fastopen_connect: return s.fastopen_connect ? 1 : 0;
    case tcp_fastopen_no_cookie: return s.fastopen_no_cookie ? 1 : 0;
    case tcp_syncnt: return s.syn_retries != 0 ? s.syn_retries : syn_retries_within(s.cfg);
    case tcp_nodelay: return s.cfg.no_delay ? 1 : 0;
    case tcp_keepidle: return seconds(s.cfg.keepalive_idle);
    case tcp_keepintvl: return seconds(s.cfg.keepalive_interval);
    case tcp_keepcnt: return static_cast<int>(s.cfg.keepalive_count);
    case tcp_user_timeout:
      return s.cfg.user_timeout ? static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(*s.cfg.user_timeout).count()) : 0;
    case tcp_maxseg: {
      // tp->mss_cache: the most payload a segment carries (the timestamp option taken off);
      // before a connection, TCP_MAXSEG's value or 536.
      const auto c = s.conn ? host_.status(*s.conn) : std::nullopt;
      if (!c || (s.user_mss != 0 && kstate(s) == tcp_state::listen)) {
        return s.user_mss != 0 ? s.user_mss : lim_.default_mss;
      }
      return int{c->mss_cache};
    }
    default: return unexpected{ENOPROTOOPT};
  }
}

sys_result<std::size_t> socket_table::getsockopt(int fd, int level, int name, mutable_bytes out) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  // A datagram socket's SOL_TCP: do_ip_getsockopt() answers a level not SOL_IP with
  // EOPNOTSUPP, ipv6_getsockopt() one not SOL_IPV6 with ENOPROTOOPT.
  if (level == ipproto_tcp && s->type == sock_dgram) return unexpected{s->domain == af_inet ? EOPNOTSUPP : ENOPROTOOPT};
  if (level == sol_socket && name == so_linger) {
    const std::size_t n = std::min(out.size(), sizeof(linger_opt));
    std::memcpy(out.data(), &s->linger, n);
    return n;
  }
  if (level == sol_socket && (name == so_rcvtimeo || name == so_sndtimeo)) {
    const timeval_opt tv = to_timeval(name == so_rcvtimeo ? s->rcvtimeo : s->sndtimeo);
    const std::size_t n = std::min(out.size(), sizeof tv);
    std::memcpy(out.data(), &tv, n);
    return n;
  }
  if (level == ipproto_tcp && name == tcp_info) {
    const tcp_info_data ti = info(*s);
    const std::size_t n = std::min(out.size(), sizeof ti);
    std::memcpy(out.data(), &ti, n);
    return n;
  }
  // TCP_CC_INFO: the congestion control's get_info(); Linux's Reno and CUBIC have none and
  // answer with 0 octets, as synack's congestion controls (the ones with one, Vegas, DCTCP and
  // BBR, synack does not have).
  if (level == ipproto_tcp && name == tcp_cc_info) return std::size_t{0};
  if (level == sol_socket && name == so_meminfo) {
    const std::array<std::uint32_t, sk_meminfo_vars> m = meminfo(*s);
    const std::size_t n = std::min(out.size(), sizeof m);
    std::memcpy(out.data(), m.data(), n);
    return n;
  }
  auto v = get_int_option(*s, level, name);
  if (!v) return unexpected{v.error()};
  const int x = *v;
  const std::size_t n = std::min(out.size(), sizeof(int));
  std::memcpy(out.data(), &x, n);
  return n;
}

// ---- poll ---------------------------------------------------------------------------------------

// tcp_poll(), line by line.
short socket_table::poll_mask(sock& s) {
  if (s.type == sock_dgram) return dg_poll(s);
  sync(s);
  const tcp_state k = kstate(s);
  if (k == tcp_state::listen) {  // inet_csk_listen_poll()
    return host_.accept_queue_len(*s.listener) > 0 ? static_cast<short>(pollin | pollrdnorm) : short{0};
  }
  int mask = 0;
  if (s.shut == shutdown_mask || k == tcp_state::closed) mask |= pollhup;
  if ((s.shut & rcv_shutdown) != 0) mask |= pollin | pollrdnorm | pollrdhup;
  // tcp_poll: a SYN held for the first write (TCP_FASTOPEN_CONNECT) is writable.
  if (syn_deferred(s)) mask |= pollout | pollwrnorm;
  if (k != tcp_state::syn_sent && (k != tcp_state::syn_received || fast_open_early(s, k))) {
    const auto c = s.conn ? host_.status(*s.conn) : std::nullopt;
    if (c && c->readable > 0) mask |= pollin | pollrdnorm;
    // sk_stream_is_writeable(), the host's one rule (conn_status::writable).
    bool writable = !c || c->writable();
    // tcp_stream_memory_free() as tcp_poll calls it (wake = 1): TCP_NOTSENT_LOWAT.
    if (c && s.notsent_lowat != 0) writable = writable && 2 * c->notsent < s.notsent_lowat;
    if ((s.shut & send_shutdown) != 0 || writable) mask |= pollout | pollwrnorm;
  }
  zerocopy_reap(s);
  if (s.err != 0 || !s.zc_done.empty()) mask |= pollerr;  // tcp_poll: sk_err or the error queue
  return static_cast<short>(mask);
}

short socket_table::revents(int fd) {
  sock* s = get(fd);
  return s == nullptr ? pollnval : poll_mask(*s);
}

int socket_table::poll(std::span<poll_fd> fds) {
  int ready = 0;
  for (poll_fd& p : fds) {
    p.revents = 0;
    if (p.fd < 0) continue;
    const short m = revents(p.fd);
    p.revents = static_cast<short>(m & (p.events | pollerr | pollhup | pollnval));
    if (p.revents != 0) ++ready;
  }
  return ready;
}

}  // namespace synack::posix
