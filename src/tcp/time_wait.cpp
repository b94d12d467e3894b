#include "synack/tcp/time_wait.hpp"

#include <algorithm>

namespace synack {

// RFC 6191 §2 (and RFC 1122 §4.2.2.13 without timestamps): a SYN that cannot be an old
// duplicate of the previous incarnation may start a new one.
bool time_wait_record::may_reopen(const tcp_repr& syn, const tcp_config& cfg) const {
  if (!cfg.time_wait_reopen) return false;  // MAY-2 not taken
  const bool new_ts = cfg.timestamps && syn.options.timestamps.has_value();
  if (ts_on && new_ts) {
    // Timestamps on both incarnations: a newer TSval, or an equal one with a higher sequence.
    const auto age = static_cast<std::int32_t>(syn.options.timestamps->tsval - ts_recent);
    return age > 0 || (age == 0 && syn.seq.after(rcv_nxt));
  }
  // The old incarnation had no timestamps but the new one will: its segments are told apart
  // by PAWS, so the SYN is honoured. Otherwise only a sequence number beyond RCV.NXT is.
  if (!ts_on && new_ts) return true;
  return syn.seq.after(rcv_nxt);
}

time_wait_action time_wait_record::on_segment(instant now, const tcp_repr& seg, const tcp_config& cfg) {
  if (seg.rst()) {
    // RFC 1337: TIME-WAIT assassination. Ignoring RST here protects against old duplicates
    // reaching a new incarnation. With the protection off, RFC 5961 §3 applies (window 0:
    // only an exact RCV.NXT resets).
    if (cfg.rfc1337) return time_wait_action::ignore;
    return seg.seq == rcv_nxt ? time_wait_action::close : time_wait_action::ignore;
  }
  if (seg.syn()) {
    // A SYN+FIN is no new connection where a listener would drop it (drop_syn_fin): reopening
    // would end TIME-WAIT for nothing. It is answered as any other SYN here. A SYN-ACK never
    // opens one.
    const bool listener_drops = seg.fin() && cfg.drop_syn_fin;
    if (!seg.ack && !listener_drops && may_reopen(seg, cfg)) return time_wait_action::reopen;
    // The RFC's older rule, opt-in (RFC 793 §3.9, FreeBSD insecure_syn): "If the SYN is in the
    // window it is an error", answered with a reset, whether or not the ACK bit is set (as
    // connection::check_syn does in the other synchronized states). The window is the one our ACKs advertise
    // (RCV.WND as TIME-WAIT began; RCV.NXT alone if that was zero), as the peer sees it.
    if (!cfg.rfc5961_syn && seg.seq.in_window(rcv_nxt, std::max<std::uint32_t>(rcv_wnd, 1))) {
      return time_wait_action::reset;
    }
    // Otherwise it is a SYN in a synchronized state: RFC 5961 §4 challenge ACK.
    return limiter.allow(now, cfg.challenge_ack_limit, cfg.challenge_ack_window) ? time_wait_action::ack
                                                                                  : time_wait_action::ack_suppressed;
  }
  if (seg.fin() && (seg.seq + seq_len{seg.seg_len()}) == rcv_nxt) {
    // RFC 9293 §3.10.7.4 eighth step: "The only thing that can arrive in this state is a
    // retransmission of the remote FIN. Acknowledge it, and restart the 2 MSL timeout."
    return time_wait_action::ack_and_restart;
  }
  // Sequence check with RCV.WND = 0: only an empty segment at exactly RCV.NXT is acceptable,
  // and an acceptable one needs nothing. Anything else gets an ACK (rate-limited).
  if (seg.seg_len() == 0 && seg.seq == rcv_nxt) return time_wait_action::ignore;
  return limiter.allow(now, cfg.challenge_ack_limit, cfg.challenge_ack_window) ? time_wait_action::ack
                                                                                : time_wait_action::ack_suppressed;
}

tcp_repr time_wait_record::ack_segment() const {
  tcp_repr r;
  r.src_port = tuple.local_port;
  r.dst_port = tuple.remote_port;
  r.seq = snd_nxt;
  r.ack = rcv_nxt;
  r.window = window;
  return r;
}

tcp_repr time_wait_record::reset_segment() const {
  tcp_repr r = ack_segment();
  r.flags = tcp_flag::rst;
  r.window = 0;
  return r;
}

}  // namespace synack
