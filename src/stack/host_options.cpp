// Per-connection options and the queries posix/ needs: live reconfiguration (TCP_NODELAY,
// keep-alives), MSG_PEEK, who holds a local port (bind/listen conflicts), and a connection's
// internals (TCP_INFO, `synack stat -i`).
#include "host_impl.hpp"

namespace synack {

tcp_internals internals_of(const connection& c) {
  const tcb_snapshot t = c.snapshot();
  tcp_internals in;
  in.srtt = c.rtt().srtt();
  if (in.srtt) in.rttvar = c.rtt().rttvar();
  in.rto = t.rto;
  in.timestamps = c.timestamps_on();
  in.sack = c.sack_permitted();
  in.mss = t.snd.mss - (in.timestamps ? 12u : 0u);
  in.advmss = c.config().mss;
  in.cwnd = t.cwnd;
  in.ssthresh = std::min(t.ssthresh, tcp_internals::infinite_ssthresh);
  in.flight = distance(t.snd.una, t.snd.max).n;
  in.sacked = t.sacked;
  in.snd_wnd = t.snd.wnd;
  in.rcv_wnd = t.rcv.wnd;
  in.wscale_ok = t.wscale_ok;
  if (t.wscale_ok) in.snd_wscale = t.snd.wscale, in.rcv_wscale = t.rcv.wscale;
  in.congestion = t.congestion;
  in.bbr = t.bbr;
  in.in_recovery = t.in_recovery;
  in.dup_acks = t.dup_acks;
  in.rto_streak = t.rto_streak;
  in.retransmissions = c.retransmissions();
  in.fast_retransmits = c.fast_retransmits();
  in.timeouts = c.timeouts();
  in.spurious_undos = c.spurious_undos();
  in.loss_probes = c.loss_probes();
  in.probe_recoveries = c.probe_recoveries();
  in.rack_losses = c.rack_losses();
  in.reo_wnd_adaptations = c.reo_wnd_adaptations();
  in.pacing_rate = t.pacing_rate;
  in.frto_spurious = c.frto_spurious();
  in.dupthresh = t.dupthresh;
  in.ecn = t.ecn;
  in.ecn_ce_received = t.ecn_ce_received;
  in.ecn_ece_received = t.ecn_ece_received;
  in.ecn_reductions = t.ecn_reductions;
  in.syn_data = c.fast_open_syn_data();
  in.fast_open_child = c.fast_open_child();
  // Octets past the SYNs (a FIN, once it counts in the sequence space, counts too).
  const auto past_syn = [](seq_num from, seq_num to) -> std::uint64_t {
    const std::uint32_t d = distance(from, to).n;
    return d > 0 ? d - 1 : 0;
  };
  in.bytes_acked = past_syn(t.snd.iss, t.snd.una);
  in.bytes_sent = past_syn(t.snd.iss, t.snd.max);
  if (t.state != tcp_state::syn_sent && t.state != tcp_state::listen) in.bytes_received = past_syn(t.rcv.irs, t.rcv.nxt);
  in.notsent = t.send_queue - std::min<std::size_t>(t.send_queue, distance(t.snd.una, t.snd.nxt).n);
  in.ooo_ranges = t.recv_ooo_ranges;
  in.ooo_bytes = t.recv_ooo_bytes;
  return in;
}

std::optional<tcp_internals> host::internals(conn_handle h) const {
  const impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return std::nullopt;
  return internals_of(*s->conn);
}

result<void, host_error> host::reconfigure(instant now, conn_handle h, const tcp_config& cfg) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{host_error::bad_handle};
  tcp_config next = cfg;
  // Fixed when the TCB was made: the buffers are sized, the SYN options announced.
  const tcp_config& was = *s->cfg;
  next.mss = was.mss;
  next.send_buffer = was.send_buffer;
  next.recv_buffer = was.recv_buffer;
  next.window_scaling = was.window_scaling;
  next.sack = was.sack;
  next.timestamps = was.timestamps;
  next.max_ooo_ranges = was.max_ooo_ranges;
  next.congestion = was.congestion;
  // The connection points at s->cfg, which other connections may share: point both at the
  // new options (the old stay alive until the connection has seen them), then let it react.
  const std::shared_ptr<const tcp_config> before = s->cfg;
  s->cfg = impl_->share_config(next);
  s->conn->set_config(now, *s->cfg, *before);
  impl_->touch(now, h.index);  // TCP_NODELAY may release held data; the keep-alive timer moved
  return {};
}

result<void, host_error> host::reconfigure_listener(listener_handle h, const tcp_config& cfg) {
  impl& m = *impl_;
  if (h.index >= m.listeners.size() || m.listeners[h.index].gen != h.gen || !m.listeners[h.index].open) {
    return unexpected{host_error::bad_handle};
  }
  m.listeners[h.index].cfg = cfg;
  return {};
}

result<void, host_error> host::push(instant now, conn_handle h) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{host_error::bad_handle};
  s->conn->push();
  impl_->touch(now, h.index);
  return {};
}

result<std::size_t, tcp_error> host::peek(conn_handle h, mutable_bytes out) const {
  const impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  return s->conn->peek(out);
}

host::port_use host::local_port_use(std::uint16_t port) const {
  const impl& m = *impl_;
  port_use u;
  u.listener = m.listen_by_port.contains(port) || m.listen_by_port6.contains(port);
  m.demux.for_each([&](const four_tuple& t, std::uint32_t) {
    if (t.local_port == port) ++u.connections;
  });
  m.tw.for_each([&](const four_tuple& t, const time_wait_record&) {
    if (t.local_port == port) ++u.time_wait;
  });
  return u;
}

}  // namespace synack
