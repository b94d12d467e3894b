// What a socket tells about its connection: TCP_INFO, the ioctls SIOCINQ / SIOCOUTQ /
// SIOCOUTQNSD, TCP_INQ's hint, and the TCP_SYNCNT arithmetic (tcp(7), as Linux's
// tcp_get_info() and tcp_ioctl()).
#include <algorithm>
#include <cerrno>
#include <chrono>

#include "synack/posix/socket_table.hpp"

namespace synack::posix {
namespace {

std::uint32_t usec(duration d) { return static_cast<std::uint32_t>(std::min<std::int64_t>(d.count(), 0xffffffff)); }

std::uint32_t segments(std::uint64_t bytes, std::uint32_t mss) {
  return mss == 0 ? 0 : static_cast<std::uint32_t>((bytes + mss - 1) / mss);
}

}  // namespace

duration syn_give_up_after(const tcp_config& c, int retries) {
  duration total{0};
  duration rto = c.rto_initial;
  for (int i = 0; i <= retries; ++i) {
    total += rto;
    rto = std::min(rto * 2, c.rto_max);
  }
  return total;
}

int syn_retries_within(const tcp_config& c) {
  int n = 0;
  while (n < 127 && syn_give_up_after(c, n + 1) <= c.syn_r2) ++n;
  return n;
}

// tcp_get_info(). DEVIATION: synack does not track these, and reports 0 for them: probes,
// lost, retrans (segments now in flight a second time), fackets, last_data_sent,
// last_ack_sent, last_data_recv, last_ack_recv, rcv_rtt, rcv_space, pacing_rate,
// max_pacing_rate, segs_out, segs_in, min_rtt, data_segs_in, data_segs_out, delivery_rate,
// busy_time, rwnd_limited, sndbuf_limited, delivered, delivered_ce, bytes_retrans,
// dsack_dups, reord_seen, rcv_ooopack. bytes_acked, bytes_received and bytes_sent come from
// sequence numbers and so wrap at 4 GiB.
tcp_info_data socket_table::info(sock& s) {
  sync(s);
  tcp_info_data ti;
  const tcp_state k = kstate(s);
  ti.state = linux_state(k);
  if (k == tcp_state::listen) {  // the accept queue and its bound
    ti.unacked = static_cast<std::uint32_t>(host_.accept_queue_len(*s.listener));
    return ti;
  }
  ti.reordering = 3;  // net.ipv4.tcp_reordering
  ti.pmtu = host_.config().mtu;
  ti.snd_ssthresh = tcp_infinite_ssthresh;
  ti.ato = usec(s.cfg.delayed_ack_timeout);
  ti.rto = usec(s.cfg.rto_initial);
  ti.snd_mss = static_cast<std::uint32_t>(lim_.default_mss);
  ti.rcv_mss = ti.snd_mss;
  ti.advmss = s.user_mss != 0 ? static_cast<std::uint32_t>(s.user_mss) : s.cfg.mss;
  const std::optional<tcp_internals> t = s.conn ? host_.internals(*s.conn) : std::nullopt;
  if (!t) return ti;
  if (t->rto_streak > 0) {
    ti.ca_state = tcp_ca_loss;
  } else if (t->in_recovery) {
    ti.ca_state = tcp_ca_recovery;
  } else if (t->dup_acks > 0) {
    ti.ca_state = tcp_ca_disorder;
  }
  ti.retransmits = static_cast<std::uint8_t>(std::min<std::uint32_t>(t->rto_streak, 255));
  ti.backoff = ti.retransmits;
  if (t->timestamps) ti.options |= tcpi_opt_timestamps;
  if (t->sack) ti.options |= tcpi_opt_sack;
  if (t->ecn) ti.options |= tcpi_opt_ecn;  // RFC 3168, negotiated
  if (t->syn_data) ti.options |= tcpi_opt_syn_data;
  if (t->fast_open_child) ti.options |= tcpi_opt_tfo_child;
  if (t->wscale_ok) {
    ti.options |= tcpi_opt_wscale;
    ti.wscales = static_cast<std::uint8_t>((t->snd_wscale & 0xf) | ((t->rcv_wscale & 0xf) << 4));
  }
  ti.rto = usec(t->rto);
  const std::uint32_t mss = t->mss;
  ti.snd_mss = mss;
  ti.rcv_mss = mss;
  ti.advmss = t->advmss;
  ti.unacked = segments(t->flight, mss);
  ti.sacked = segments(t->sacked, mss);
  ti.rcv_ssthresh = t->rcv_wnd;
  if (t->srtt) {
    ti.rtt = usec(*t->srtt);
    ti.rttvar = usec(t->rttvar);
  }
  if (t->ssthresh < tcp_internals::infinite_ssthresh) ti.snd_ssthresh = segments(t->ssthresh, mss);
  ti.snd_cwnd = mss == 0 ? 0 : t->cwnd / mss;
  ti.total_retrans = static_cast<std::uint32_t>(t->retransmissions);
  ti.bytes_acked = t->bytes_acked;
  ti.bytes_sent = t->bytes_sent;
  ti.bytes_received = t->bytes_received;
  ti.notsent_bytes = static_cast<std::uint32_t>(t->notsent);
  ti.snd_wnd = t->snd_wnd;
  ti.rcv_wnd = t->rcv_wnd;
  ti.total_rto = static_cast<std::uint16_t>(std::min<std::uint64_t>(t->timeouts, 0xffff));
  return ti;
}

// SO_MEMINFO, sk_get_meminfo()'s order: rmem_alloc, rcvbuf, wmem_alloc, sndbuf, fwd_alloc,
// wmem_queued, optmem, backlog, drops. DEVIATION: Linux counts the skbs' truesize (headers and
// slack), synack the octets held: rmem_alloc is what recv() would return, wmem_queued what is
// queued or unacknowledged; wmem_alloc (packets still in a device queue), fwd_alloc, optmem,
// backlog and drops have no counterpart and are 0.
std::array<std::uint32_t, sk_meminfo_vars> socket_table::meminfo(sock& s) {
  sync(s);
  std::array<std::uint32_t, sk_meminfo_vars> m{};
  const auto clamp32 = [](std::size_t n) { return static_cast<std::uint32_t>(std::min<std::size_t>(n, 0xffffffff)); };
  m[1] = clamp32(static_cast<std::size_t>(s.rcvbuf));
  m[3] = clamp32(static_cast<std::size_t>(s.sndbuf));
  const auto c = s.conn ? host_.status(*s.conn) : std::nullopt;
  if (c) {
    m[0] = clamp32(c->readable);
    m[5] = clamp32(c->send_queued);
  }
  return m;
}

// tcp_ioctl(): EINVAL on a listener; 0 during the handshake.
sys_result<int> socket_table::ioctl(int fd, unsigned long request) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (request != siocinq && request != siocoutq && request != siocoutqnsd) return unexpected{ENOTTY};
  if (s->type == sock_dgram) return dg_ioctl(*s, request);
  sync(*s);
  const tcp_state k = kstate(*s);
  if (k == tcp_state::listen) return unexpected{EINVAL};
  const auto c = s->conn ? host_.status(*s->conn) : std::nullopt;
  if (!c || k == tcp_state::syn_sent || k == tcp_state::syn_received) return 0;
  std::size_t n = 0;
  if (request == siocinq) {
    n = c->readable;
  } else if (request == siocoutq) {
    n = c->send_queued;  // write_seq - snd_una
  } else {
    n = c->notsent;
  }
  return static_cast<int>(std::min<std::size_t>(n, 0x7fffffff));
}

sys_result<std::optional<int>> socket_table::inq_hint(int fd) {
  sock* s = get(fd);
  if (s == nullptr) return unexpected{EBADF};
  if (!s->inq) return std::optional<int>{};
  sync(*s);
  const auto c = s->conn ? host_.status(*s->conn) : std::nullopt;
  std::size_t n = c ? c->readable : 0;
  // tcp_inq_hint(): 1 once the peer's FIN came and nothing is left, so a reader knows.
  if (n == 0 && s->done) n = 1;
  return std::optional<int>{static_cast<int>(std::min<std::size_t>(n, 0x7fffffff))};
}

}  // namespace synack::posix
