// Output: what poll_transmit sends, in priority order — a pending RST, the SYN or SYN-ACK,
// data and FIN within the peer's window, and finally a bare ACK if one is owed. Data and FIN
// go through one pipeline: plan_segment chooses, emit_segment builds, emit completes.
#include <algorithm>

#include "synack/tcp/connection.hpp"

namespace synack {

namespace {

// The states that send data and the FIN: plan_segment's (SYN-RECEIVED sends a Fast Open
// child's data before the handshake's ACK, on its own rules).
constexpr bool sends_data(tcp_state s) {
  switch (s) {
    case tcp_state::established:
    case tcp_state::close_wait:
    case tcp_state::fin_wait_1:
    case tcp_state::closing:
    case tcp_state::last_ack:
      return true;
    case tcp_state::closed:
    case tcp_state::listen:
    case tcp_state::syn_sent:
    case tcp_state::syn_received:
    case tcp_state::fin_wait_2:
    case tcp_state::time_wait:
      return false;
  }
  return false;
}

}  // namespace

bool connection::has_pending_output() const {
  // CLOSED sends nothing but a pending RST (write_next): loss-recovery state a reset or abort
  // left behind (a RACK mark, an owed retransmission) is not output.
  if (state_ == tcp_state::closed) return rst_.has_value();
  // snd_.rec.rtx: a fast retransmission owed (the third duplicate ACK, a partial ACK) is output too,
  // even when nothing new may be sent (all sent, or cwnd full).
  if (rst_ || syn_due_ || rcv_.ack_now || keepalive_due_ || snd_.rec.tlp_due) return true;
  if (timers_.armed(timer_kind::pacing)) return false;  // data waits for the pacing timer
  if (snd_.rec.rtx && !snd_.rec.pmtu_held(snd_.mss)) return true;  // as take_retransmission
  // RACK (RFC 8985 §6) marked segments lost during recovery (the reorder timer): resent as cwnd allows.
  if (sack_recovery() && snd_.rec.rk.lost_pending() > 0 && cwnd_room() >= snd_.mss) return true;
  if (sends_data(state_)) return next_send().any() || persist_needed();  // poll_transmit arms the timer
  // A Fast Open child sends data before the handshake's ACK; never the FIN (write_next).
  if (state_ == tcp_state::syn_received) return fast_open_sends_early() && next_send().len > 0;
  return false;
}

// What new data plan_segment would send now at SND.NXT: payload length and whether the FIN
// goes with it.
connection::send_plan connection::next_send() const {
  const seq_num end = snd_.data_end();
  // Nothing to resend (SND.NXT = SND.MAX), nothing queued beyond SND.NXT and no FIN due there:
  // nothing goes, whatever the windows say (the common case of an idle connection, asked by
  // has_pending_output after every input).
  if (snd_.nxt == snd_.max && !snd_.nxt.before(end) && !(snd_.fin_queued && snd_.nxt == end)) return {};
  // SND.NXT, past what a resend skips because the receiver SACKed it (plan_segment moves it).
  const seq_num nxt = resend_from();
  // Usable window (RFC 9293 §3.8.6.2.1): SND.UNA + SND.WND - SND.NXT, which may be negative
  // when the peer shrank its window (MUST-34): then nothing new goes out.
  const seq_num wnd_edge = snd_.una + seq_len{snd_.wnd};
  const std::uint32_t usable = nxt.before(wnd_edge) ? distance(nxt, wnd_edge).n : 0;
  const std::uint32_t unsent = nxt.before(end) ? distance(nxt, end).n : 0;
  const bool fresh = nxt == snd_.max;
  const bool urgent = snd_.up && nxt.before(*snd_.up);  // urgent data is not held back
  std::uint32_t len = std::min({usable, unsent, tso_allowed(fresh, urgent) ? cfg_->tso_max : std::uint32_t{snd_.mss}});
  // A resend stops where the next SACKed octets begin.
  if (!fresh && sack_ok_) {
    if (const auto r = snd_.rec.sb.sacked_from(nxt)) len = std::min(len, distance(nxt, r->left).n);
  }
  // RFC 5681 §3.1: no more than cwnd in flight. A segment cwnd would cut short waits for
  // the next ACK instead of going out as a runt; a super-segment shrinks to what cwnd allows
  // (emit_segment keeps its whole segments).
  if (const std::uint32_t room = cwnd_room(); len > room) len = len > snd_.mss && room >= snd_.mss ? room : 0;
  // RFC 9293 §3.8.6.2.1 sender SWS avoidance with Nagle (§3.7.4, SHLD-7): a segment shorter
  // than the MSS goes out only if it carries everything queued, or at least half the largest
  // window the peer offered — and, unless TCP_NODELAY (MUST-17), only when nothing sent is
  // unacknowledged. Every write is pushed (MUST-61), so "queued" is all the user's data.
  // Retransmissions (SND.NXT < SND.MAX after a timeout) resend what was sent before as is; the
  // override timer (persist) lets a held segment go when no ACK can come to release it.
  // "Short" against the effective send MSS (RFC 9293 §3.7.1: less the options every data
  // segment carries — the timestamps, 12 octets with their padding — as Linux's tcp_current_mss):
  // a full segment of 1448 octets with timestamps is not held.
  const auto full = static_cast<std::uint32_t>(snd_.mss - (ts_ok_ ? tcp_timestamps::space : 0));
  if (len > 0 && len < full && fresh && !snd_.sws_override && !urgent) {
    // TCP_CORK (or the write's MSG_MORE) holds it whatever Nagle says, unless the FIN follows
    // (Linux's tcp_nagle_test).
    const bool corked = (cfg_->cork || snd_.more_hold) && !snd_.fin_queued;
    // A Fast Open child's SYN-ACK, unacknowledged in SYN-RECEIVED, is no data held back.
    const seq_num una = state_ == tcp_state::syn_received ? snd_.iss + seq_len{1} : snd_.una;
    const bool idle = cfg_->nagle_minshall ? !(snd_.sml.after(una) && snd_.sml.before_eq(snd_.max))
                                           : una == snd_.max;
    const bool nagle_ok = !corked && (cfg_->no_delay || idle);
    const bool big_enough = len == unsent || len >= snd_.max_wnd / 2;
    if (!nagle_ok || !big_enough) len = 0;
  }
  // RFC 9293 §3.8.6.1 (MUST-36): a zero-window probe is one octet beyond the window.
  if (snd_.probe_due && len == 0 && snd_.wnd == 0 && nxt == snd_.una && unsent > 0) len = 1;
  // The FIN follows the last byte; it needs no window (it occupies no buffer at the peer).
  const bool fin = snd_.fin_queued && nxt.before_eq(end) && nxt + seq_len{len} == end;
  return send_plan{len, fin};
}


// Linux's tcp_tso_autosize: about 1 ms of data at the pacing rate (sk_pacing_shift 10), plus
// 64 KiB halved for every 512 us of minimum RTT (tcp_tso_rtt_log 9), at most 64 KiB
// (GSO_LEGACY_MAX_SIZE), at least 2 segments (tcp_min_tso_segs). The pacing rate
// (tcp_update_pacing_rate) is mss x max(cwnd, flight) / SRTT, doubled in slow start below
// half ssthresh (tcp_pacing_ss_ratio 200) and x 1.2 after (tcp_pacing_ca_ratio 120);
// unlimited before the first RTT sample.
std::uint32_t connection::linux_tso_segs(std::uint32_t seg) const {
  constexpr std::uint64_t gso_max = 65536;
  const std::uint64_t mss = std::max<std::uint32_t>(seg, 1);
  std::uint64_t octets = gso_max;
  const std::uint64_t window = pacing_window();
  if (const std::uint64_t rate = linux_pacing_rate(window / mss * mss, snd_.rtt.srtt()); rate > 0) {
    octets = rate >> 10;
    if (const auto m = snd_.rec.rk.min_rtt()) {
      const auto shift = std::chrono::duration_cast<std::chrono::microseconds>(*m).count() >> 9;
      if (shift < 32) octets += gso_max >> shift;
    }
  }
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(std::min(octets, gso_max) / mss, 2));
}

std::size_t connection::write_next(instant now, mutable_bytes out) {
  if (rst_) [[unlikely]] return emit_control(now, out);
  switch (state_) {
    case tcp_state::closed:
    case tcp_state::listen:
      rcv_.ack_now = false;
      syn_due_ = false;
      return 0;
    case tcp_state::syn_sent:
      return emit_syn(now, out);
    case tcp_state::syn_received:
      if (const std::size_t n = emit_syn(now, out); n > 0 || !fast_open_sends_early()) return n;
      return fast_open_send_early(now, out);
    case tcp_state::established:
    case tcp_state::close_wait:
    case tcp_state::fin_wait_1:
    case tcp_state::closing:
    case tcp_state::last_ack:
      if (const segment_plan p = plan_segment(now); p.kind != segment_kind::none) return emit_segment(now, out, p);
      if (persist_needed()) {
        timers_.set(timer_kind::persist, now + snd_.rtt.rto());  // SHLD-29
        if (snd_.wnd == 0 && !snd_.probe_due) snd_.progress_at = now;  // held by a zero window from now
      }
      break;
    case tcp_state::fin_wait_2:
    case tcp_state::time_wait:
      break;
  }
  if (keepalive_due_ && state_ != tcp_state::time_wait) [[unlikely]] return emit_keepalive(now, out);
  if (!rcv_.ack_now) return 0;
  // A bare ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. The RFC's SND.NXT is our SND.MAX: after
  // a timeout snd_.nxt goes back, and a peer that holds everything (and maybe offers a zero
  // window, §3.10.7.4 first) accepts an ACK only at its RCV.NXT, which is SND.MAX then.
  tcp_repr& hdr = ack_header(now);
  hdr.seq = snd_.max;
  if (state_ == tcp_state::time_wait) hdr.seq = snd_.nxt;  // as time_wait_state() has it
  // SHLD-19: ACK points left by a batch go first, each as its own cumulative ACK.
  if (rcv_.ack_points_len > 1 && rcv_.ack_points[0].before(rcv_.nxt)) {
    hdr.ack = rcv_.ack_points[0];
    std::copy(rcv_.ack_points.begin() + 1, rcv_.ack_points.begin() + rcv_.ack_points_len, rcv_.ack_points.begin());
    --rcv_.ack_points_len;
    const std::size_t n = emit(now, out, hdr, 0, 0);
    rcv_.ack_now = true;  // the rest (and the ACK of RCV.NXT) are still owed
    return n;
  }
  return emit(now, out, hdr, 0, 0);
}

// RFC 9293 §3.8.4: a keep-alive probe <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>, with no data
// (SHLD-12; the garbage octet of MAY-6 is not offered). Its sequence number is already
// acknowledged, so the peer's sequence check (§3.10.7.4 first) answers it with an ACK
// <SEQ=its SND.NXT><ACK=SND.NXT>, and that reply is an acceptable segment here. SND.MAX
// stands for the RFC's SND.NXT (see the bare ACK in write_next); nothing is in flight anyway.
std::size_t connection::emit_keepalive(instant now, mutable_bytes out) {
  keepalive_due_ = false;
  tcp_repr& hdr = ack_header(now);
  hdr.seq = snd_.max - seq_len{1};
  return emit(now, out, hdr, 0, 0);
}

void connection::make_own_header() {
  own_hdr_ = std::make_unique<tcp_repr>();
  hdr_ = own_hdr_.get();
}

// A RST owed to the peer (abort, or an unacceptable ACK; rst_ is set). Sent even from CLOSED.
// DEVIATION(Linux tcp_v4_send_reset): RFC 7323 §3.2 says a RST SHOULD carry timestamps too; it
// goes without, and the peer accepts it without (RSTs are exempt from PAWS, §5.3 R1). An
// active reset with tcp_config::active_reset_linux carries them (queue_active_reset).
std::size_t connection::emit_control(instant now, mutable_bytes out) {
  tcp_repr& r = fresh_header();
  r.src_port = tuple_.local_port;
  r.dst_port = tuple_.remote_port;
  r.seq = rst_->seq;
  r.ack = rst_->ack;
  r.flags = tcp_flag::rst;
  if (rst_->timestamps) r.options.timestamps = tcp_timestamps{ts_clock(now), ts_recent_};
  rst_.reset();
  last_tx_.rst = true;
  r.emit(out, tuple_.local_addr, tuple_.remote_addr);
  return r.buffer_len();
}

// A challenge ACK in SYN-RECEIVED, no SYN-ACK being due.
std::size_t connection::emit_syn_received_ack(instant now, mutable_bytes out) {
  tcp_repr& hdr = ack_header(now);
  hdr.seq = snd_.nxt;
  return emit(now, out, hdr, 0, 0);
}

// SYN (SYN-SENT) or SYN-ACK (SYN-RECEIVED), first transmission or retransmission.
std::size_t connection::emit_syn(instant now, mutable_bytes out) {
  if (!syn_due_) {
    if (state_ == tcp_state::syn_received && rcv_.ack_now) [[unlikely]] return emit_syn_received_ack(now, out);
    rcv_.ack_now = false;
    return 0;
  }
  tcp_repr& hdr = fresh_header();
  hdr.seq = snd_.iss;
  hdr.flags = tcp_flag::syn;
  // RFC 9293 §3.7.1 (SHLD-5, MAY-3): always announce our MSS. RFC 7323 §2.2: window scale on
  // our SYN if enabled, on a SYN-ACK only if the peer's SYN had it.
  hdr.options.mss = cfg_->mss;
  const bool announce_ws = state_ == tcp_state::syn_sent ? cfg_->window_scaling : peer_wscale_ok_;
  if (announce_ws) hdr.options.window_scale = rcv_.wscale;
  // RFC 2018 §2: SACK-permitted on our SYN if enabled, on a SYN-ACK only if the peer's had it.
  hdr.options.sack_permitted = state_ == tcp_state::syn_sent ? cfg_->sack : sack_ok_;
  ecn_mark_syn(hdr);  // RFC 3168 §6.1.1
  // RFC 7323 §3.2: timestamps on our SYN if enabled (TSecr 0), on a SYN-ACK only if the
  // peer's SYN had them (TSecr = its TSval).
  if (state_ == tcp_state::syn_sent ? cfg_->timestamps : ts_ok_) {
    hdr.options.timestamps = tcp_timestamps{ts_clock(now), state_ == tcp_state::syn_sent ? 0u : ts_recent_};
  }
  syn_due_ = false;
  const bool first = !snd_.first_tx.has_value();
  const std::size_t syn_data = fast_open_syn_payload(hdr, first);  // RFC 7413
  if (first) {
    snd_.first_tx = now;
    snd_.progress_at = now;  // the user timeout of an active open counts from its first SYN
    snd_.rtt_probe = std::pair{snd_.iss + seq_len{1}, now};
  } else {
    ++snd_.retransmissions;
    last_tx_.retransmission = true;
  }
  snd_.nxt = snd_.iss + seq_len{1 + static_cast<std::uint32_t>(syn_data)};
  snd_.max = seq_max(snd_.max, snd_.nxt);
  arm_retransmit(now);
  if (state_ == tcp_state::syn_sent) {
    // The SYN is the one segment without an ACK; its window is never scaled. A Fast Open SYN
    // carries the first octets of the send buffer.
    hdr.src_port = tuple_.local_port;
    hdr.dst_port = tuple_.remote_port;
    hdr.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(recv_window(), 0xFFFF));
    const std::size_t header = hdr.header_len();
    hdr.emit_header(out);
    if (syn_data > 0) [[unlikely]] snd_.buf.peek(0, out.subspan(header, syn_data));  // RFC 7413
    tcp_repr::fill_checksum(out.first(header + syn_data), tuple_.local_addr, tuple_.remote_addr);
    return header + syn_data;
  }
  return emit(now, out, hdr, 0, 0);
}

// The sender's choice of the next data-bearing segment: a retransmission owed (or picked by
// SACK recovery) first, then new data or the FIN at SND.NXT.
connection::segment_plan connection::plan_segment(instant now) {
  if (snd_.rec.tlp_due) {  // the PTO fired (RFC 8985 §7.3)
    snd_.rec.tlp_due = false;
    if (const segment_plan p = plan_loss_probe(); p.kind != segment_kind::none) return p;
  }
  // tcp_config::pacing: no data segment before the pacing timer lets it go (a probe went above).
  if (timers_.armed(timer_kind::pacing)) return {};
  // Only a retransmission owed or SACK recovery can have one (take_retransmission).
  if (snd_.rec.rtx || sack_recovery()) {
    if (auto s = take_retransmission()) {
      if (const segment_plan p = plan_retransmission(*s); p.kind != segment_kind::none) return p;
    }
  }
  // RFC 5681 §4.1: after an idle period longer than the RTO, restart from the restart window.
  if (snd_.una == snd_.max && snd_.nxt == snd_.max) (void)snd_.rec.cc->on_idle_restart(now, snd_.rtt.rto());
  snd_.nxt = resend_from();  // a resend skips what the receiver SACKed
  const send_plan plan = next_send();
  if (!plan.any()) {
    // draft-cheng-iccrg-delivery-rate-estimation §3.4: nothing left to send while cwnd has room:
    // the samples until this data is delivered are application-limited.
    if (bbr* b = snd_.rec.cc.as_bbr(); b != nullptr && !snd_.nxt.before(snd_.data_end())) b->on_app_limited(sending_flight());
    return {};
  }
  // The FIN needs no window (it occupies no buffer at the peer): it rides on whatever segment
  // ends at the last queued octet.
  return segment_plan{snd_.nxt == snd_.max ? segment_kind::new_data : segment_kind::resend, snd_.nxt, plan.len,
                      snd_.fin_queued, {}};
}

// The rare steps of emit_segment, out of line and cold so that the common segment's code stays
// dense (docs/performance.md, issue #12).
//
// tcp_config::psh_burst_linux: whether this segment may end a burst with PSH (new data, no
// probe, no loss recovery, not past the push point), and if so whether the burst ends here, or
// the packet Linux's TSO sizing makes of it does: Linux marks PSH on every packet of more than
// one segment (__tcp_transmit_skb), and segmentation leaves it on the last segment of each.
bool connection::linux_burst_candidate(const segment_plan& p, std::uint32_t len, seq_num push_point) const {
  return len > 0 && p.kind == segment_kind::new_data && !p.loss_probe && snd_.rec.cc->dup_acks() == 0 &&
         !snd_.rec.cc->in_recovery() && (p.seq + seq_len{len}).before_eq(push_point);
}

void connection::mark_linux_burst_psh(tcp_repr& hdr, std::uint32_t len, std::uint32_t room) {
  snd_.linux_chunk += room > 0 ? (len + room - 1) / room : 1;
  if (!next_send().any() || snd_.linux_chunk >= linux_tso_segs(room)) hdr.flags |= tcp_flag::psh;
}

// A retransmission (or resend) of `used` sequence numbers went: the retransmitted mark moves, and
// an undo episode counts it unless it is the loss probe.
void connection::note_retransmission_sent(instant now, const segment_plan& p, std::uint32_t used) {
  snd_.rec.rtx_mark = seq_max(snd_.rec.rtx_mark, p.seq + seq_len{used});
  if (!p.loss_probe) note_episode_retransmission(now, p.seq, used);
}

// A tail loss probe went.
void connection::note_loss_probe_sent(const segment_plan& p) {
  // RFC 8985 §7.3: one probe per flight; after it the RTO, not another PTO, is armed.
  // DEVIATION(RFC 8985 §7.3): the RTO keeps its deadline if it has one, where the RFC re-arms
  // it from the probe. Measured before RACK (§6), when the probe's ACK did not start recovery
  // by itself: a later RTO only delayed the repair (the transfer golden table: +20-60 % under
  // loss). With RACK on, a SACK of the probe marks what was sent before it lost.
  // tcp_config::tlp_linux re-arms it from the probe (on_loss_probe_timeout), as the RFC.
  snd_.rec.tlp_end = snd_.max;
  // A probe in recovery (tcp_config::recovery_probe) repairs nothing §7.4 would reduce for.
  snd_.rec.tlp_retrans = p.kind != segment_kind::new_data && !snd_.rec.cc->in_recovery();
  ++snd_.loss_probes;
  timers_.clear(timer_kind::loss_probe);
}

// The one builder of data-bearing segments. The rules every kind shares live here only: the
// room the options leave, segmentation offload, PSH, the FIN, what counts as a retransmission,
// and the timers. note_sent does what differs per kind.
std::size_t connection::emit_segment(instant now, mutable_bytes out, const segment_plan& p) {
  // RFC 9293 §3.7.1: the MSS excludes TCP options, so the options this segment carries
  // (timestamps, SACK blocks) come out of its payload.
  tcp_repr& hdr = ack_header(now);
  const auto room = static_cast<std::uint32_t>(snd_.mss - std::min<std::size_t>(hdr.options.buffer_len(), snd_.mss / 2));
  std::uint32_t len = std::min(p.len, room);
  // RFC 3168 §6.1.5, §6.1.6: ECT(0) on new data only, not on a window probe.
  ecn_mark_data(hdr, ecn_.ok && len > 0 && p.kind == segment_kind::new_data && !(snd_.probe_due && snd_.wnd == 0));
  // A super-segment (tcp_config::tso_max) holds whole segments of `room` only: the runt after
  // them goes (or is held by Nagle) on its own, as it would without offload. A CWR segment
  // goes alone (its flag belongs to one segment, not to every one the link cuts).
  if (p.len >= 2 * room && room > 0 && (hdr.flags & tcp_flag::cwr) == 0 && tso_allowed(p.seq == snd_.max, false)) {
    len = p.len / room * room;
    last_tx_.gso_size = static_cast<std::uint16_t>(room);
  }
  const seq_num end = snd_.data_end();
  const bool ends_data = p.seq + seq_len{len} == end;
  const bool fin = p.fin_ok && ends_data;
  hdr.seq = p.seq;
  // MUST-61: PSH on the segment that holds the push point, the end of the last write without
  // MSG_MORE (the end of the data unless MSG_MORE was used).
  const seq_num push_point = end - seq_len{snd_.more_len};
  if (len > 0 && p.seq.before(push_point) && push_point.before_eq(p.seq + seq_len{len})) hdr.flags |= tcp_flag::psh;
  if (fin) hdr.flags |= tcp_flag::fin;
  last_tx_.retransmission = p.kind != segment_kind::new_data;
  if (last_tx_.retransmission) [[unlikely]] ++snd_.retransmissions;
  const seq_num max_before = snd_.max;
  const bool burst_candidate = cfg_->psh_burst_linux && linux_burst_candidate(p, len, push_point);
  note_sent(now, p, len, fin, room);
  if (burst_candidate) [[unlikely]] mark_linux_burst_psh(hdr, len, room);
  if (!burst_candidate || (hdr.flags & tcp_flag::psh) != 0) snd_.linux_chunk = 0;
  const std::uint32_t used = len + (fin ? 1u : 0u);
  // draft-cheng-iccrg-delivery-rate-estimation §3.2: BBR's snapshot of the delivery state,
  // taken with the flight before this segment.
  delivery_snapshot snap;
  if (bbr* b = snd_.rec.cc.as_bbr()) [[unlikely]] snap = b->on_send(now, distance(snd_.una, max_before).n);
  // A FIN alone, first sent after everything before it was acknowledged, is not recorded:
  // nothing can be sent after it whose delivery would mark it lost (§6.2), so an entry could
  // never serve, and a connection that sent no data would allocate the record for it (the
  // open-close benchmark's one allocation per connection). TLP and the RTO answer for it.
  const bool lone_fin = len == 0 && fin && !last_tx_.retransmission && snd_.rec.rk.size() == 0;
  if (record_on() && !lone_fin) {  // RFC 8985 §6.1: Segment.xmit_ts, Segment.retransmitted
    const seq_num end_seq = p.seq + seq_len{used};
    const seq_num new_from = last_tx_.retransmission ? seq_min(end_seq, seq_max(p.seq, max_before)) : p.seq;
    if (new_from != p.seq) [[unlikely]] snd_.rec.rk.on_sent(now, p.seq, new_from, true, snap);  // the part sent before
    snd_.rec.rk.on_sent(now, new_from, end_seq, false, snap);
  }
  if (last_tx_.retransmission) [[unlikely]] note_retransmission_sent(now, p, used);
  if (snd_.rec.cc->in_recovery()) [[unlikely]] {
    prr_on_sent(used, p.kind == segment_kind::retransmission);  // RFC 9937 §4 prr_out
  }
  if (snd_.rec.pmtu_burst != 0) [[unlikely]] snd_.rec.pmtu_sent += std::max<std::uint32_t>(used, snd_.mss);
  snd_.rec.cc->on_transmit(now, distance(snd_.una, snd_.max).n);
  if (p.loss_probe) [[unlikely]] note_loss_probe_sent(p);
  if (!timers_.armed(timer_kind::retransmit)) arm_retransmit(now);
  // §7.2: after new data; with tcp_config::recovery_probe after a retransmission in recovery too.
  const bool recovering = snd_.rec.cc->in_recovery() || sack_recovery();
  if (!p.loss_probe && (p.kind == segment_kind::new_data || (cfg_->recovery_probe && recovering))) arm_loss_probe(now);
  if (pacing_on()) pace_sent(now, used);  // else pacing_rate() is 0
  const std::size_t n = emit(now, out, hdr, distance(snd_.buf_start, p.seq).n, len);
  last_tx_.more = p.kind == segment_kind::new_data && more_new_data_certain();
  return n;
}

// The host asks has_pending_output() after every segment; in a bulk transfer the answer is
// yes many times in a row, and finding it plans the next segment (next_send) only to plan it
// again when it is sent. What makes it certain without the plan: a sending state, no pacing
// timer, no SACK recovery or PMTU resend, nothing to resend (SND.NXT = SND.MAX), and a full
// segment of queued data that fits both the peer's window and cwnd less everything sent and
// unacknowledged (cwnd_room() is at least that). next_send() then plans at least one MSS,
// which Nagle never holds; anything else has_pending_output() checks first only adds to it.
bool connection::more_new_data_certain() const {
  if (!sends_data(state_) || timers_.armed(timer_kind::pacing) || sack_recovery() || snd_.rec.pmtu_burst != 0 || snd_.nxt != snd_.max) return false;
  const seq_num next_end = snd_.nxt + seq_len{snd_.mss};
  if (next_end.after(snd_.una + seq_len{snd_.wnd}) || next_end.after(snd_.data_end())) return false;
  return std::uint64_t{snd_.rec.cc->cwnd()} >= std::uint64_t{distance(snd_.una, snd_.nxt).n} + snd_.mss;
}

std::uint64_t connection::linux_pacing_rate(std::uint64_t window, std::optional<duration> srtt) const {
  if (!srtt || srtt->count() <= 0) return 0;
  const congestion_control& cc = *snd_.rec.cc;
  const std::uint64_t percent = cc.cwnd() < cc.ssthresh() / 2 ? 200 : 120;  // tcp_pacing_ss_ratio / ca_ratio
  // window x percent / 100 octets per SRTT (in microseconds), per second.
  return std::max<std::uint64_t>(window * percent * 10'000 / static_cast<std::uint64_t>(srtt->count()), 1);
}

// Linux's tcp_update_pacing_rate takes the larger of cwnd and packets_out (here the flight,
// SND.MAX - SND.UNA, SACKed and lost octets included): in recovery cwnd falls to ssthresh or
// below while the flight is still the window before the loss, and a rate over cwnd alone held
// the retransmissions and the new data PRR or the pipe allowed. DEVIATION(Linux
// tcp_update_pacing_rate, which divides by srtt_us): the round trip is RACK's, smoothed over
// every ACK that delivered data, SACK-only ones included, as Linux's srtt is (rack::smoothed_rtt;
// the RFC 6298 SRTT without SACK or before RACK's first sample): under reordering the SRTT
// counts mostly the hole-filling segments' round trips and paced below what cwnd allowed
// (docs/performance.md "Pacing under reordering").
std::uint64_t connection::pacing_rate() const {
  if (!pacing_on()) return 0;
  if (const bbr* b = snd_.rec.cc.as_bbr()) return b->pacing_rate();  // BBR always paces (§4.2.1)
  // Once RACK has seen the path reorder, a paced window is released slower than the
  // reordering window lets its ACKs return: under 25 % reordering held 30 ms, paced lost to
  // unpaced in 8-11 of 45 cells of the recovery matrix, and with this none (docs/performance.md
  // "Pacing under reordering"). DEVIATION(Linux tcp_update_pacing_rate, which paces on).
  if (rack_on() && snd_.rec.rk.reordering_seen()) return 0;
  std::optional<duration> rtt = rack_on() ? snd_.rec.rk.smoothed_rtt() : std::nullopt;
  if (!rtt) rtt = snd_.rtt.srtt();
  return linux_pacing_rate(pacing_window(), rtt);
}

// The data sent so far would have left by pace_next at the pacing rate. What is more than a
// burst (1 ms at the rate, at least two segments) ahead of now waits for the pacing timer.
void connection::pace_sent(instant now, std::uint32_t octets) {
  const std::uint64_t rate = pacing_rate();
  if (rate == 0) return;
  const auto at_rate = [rate](std::uint64_t n) { return duration{static_cast<duration::rep>(n * 1'000'000 / rate)}; };
  snd_.pace_next = std::max(snd_.pace_next, now) + at_rate(octets);
  const instant release = snd_.pace_next - at_rate(std::max<std::uint64_t>(2ULL * snd_.mss, rate / 1000));
  if (release > now) timers_.set(timer_kind::pacing, release);
}

// The sender's bookkeeping for a segment of `len` octets (and the FIN if `fin`) at p.seq.
void connection::note_sent(instant now, const segment_plan& p, std::uint32_t len, bool fin, std::uint32_t room) {
  if (p.kind == segment_kind::retransmission) {  // SND.NXT does not move
    next_segment s = p.hole;
    s.len = len;
    if (sack_recovery()) snd_.rec.sb.on_sent(s);
    if (snd_.rtt_probe && p.seq.before(snd_.rtt_probe->first)) snd_.rtt_probe.reset();  // Karn's rule
    return;
  }
  const bool is_new = p.kind == segment_kind::new_data;
  if (snd_.una == snd_.max && !snd_.probe_due) snd_.progress_at = now;  // nothing outstanding: the wait starts now
  snd_.probe_due = false;
  snd_.sws_override = false;
  const std::uint32_t used = len + (fin ? 1u : 0u);
  if (is_new && sack_recovery()) snd_.rec.sb.on_sent(next_segment{snd_.nxt, used, seg_rule::new_data});  // RFC 6675 (C.2)
  if (is_new && snd_.rec.lt_budget > 0 && len > 0) --snd_.rec.lt_budget;
  if (len < room) snd_.sml = snd_.nxt + seq_len{len};  // the end of the last short segment
  snd_.nxt += seq_len{used};
  snd_.max = seq_max(snd_.max, snd_.nxt);
  if (!snd_.first_tx) snd_.first_tx = now;
  if (is_new && !snd_.rtt_probe) snd_.rtt_probe = std::pair{snd_.nxt, now};
}

// Fills in ports, ACK and window, copies `payload_len` bytes of the send buffer starting at
// `payload_offset` after the header, and computes the checksum.
std::size_t connection::emit(instant /*now*/, mutable_bytes out, tcp_repr& hdr, std::size_t payload_offset,
                             std::size_t payload_len) {
  hdr.src_port = tuple_.local_port;
  hdr.dst_port = tuple_.remote_port;
  const bool ack_point = hdr.ack.has_value();  // an earlier cumulative ACK (SHLD-19), not RCV.NXT
  if (!ack_point) hdr.ack = rcv_.nxt;
  if (ecn_.echo && !hdr.syn()) hdr.flags |= tcp_flag::ece;  // RFC 3168 §6.1.3: every ACK until CWR
  last_ack_sent_ = *hdr.ack;  // RFC 7323 §4.3 Last.ACK.sent
  // RFC 7323 §2.2: the window field of a SYN-ACK is not scaled; all later ones are. An ACK
  // point below RCV.NXT offers the octets up to RCV.NXT too, so that its right edge is the
  // one RCV.NXT's ACK announces and the window never appears to shrink (RFC 9293 §3.8.6).
  if (hdr.syn()) {
    hdr.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(recv_window(), 0xFFFF));
  } else if (ack_point) {
    const std::uint64_t wnd = std::uint64_t{recv_window()} + distance(*hdr.ack, rcv_.nxt).n;
    hdr.window = static_cast<std::uint16_t>(std::min<std::uint64_t>(wnd >> rcv_.wscale, 0xFFFF));
  } else {
    hdr.window = window_field();
  }
  // RFC 9293 §3.8.5 / RFC 6093: while SND.UP is ahead of the segment, it carries URG and the
  // offset of the first non-urgent octet (MUST-62), capped at the field's 65535.
  if (snd_.up && !hdr.syn() && hdr.seq.before(*snd_.up)) {
    hdr.flags |= tcp_flag::urg;
    hdr.urgent_ptr = static_cast<std::uint16_t>(std::min<std::uint32_t>(distance(hdr.seq, *snd_.up).n, 0xFFFF));
  }
  const std::size_t header = hdr.header_len();
  hdr.emit_header(out);
  snd_.buf.peek(payload_offset, out.subspan(header, payload_len));
  const std::size_t total = header + payload_len;
  if (last_tx_.gso_size != 0) {
    tcp_repr::fill_partial_checksum(out.first(total), tuple_.local_addr, tuple_.remote_addr);  // the link completes it
  } else {
    tcp_repr::fill_checksum(out.first(total), tuple_.local_addr, tuple_.remote_addr);
  }
  rcv_.wnd = recv_window();
  rcv_.adv_edge = rcv_.nxt + seq_len{rcv_.wnd};  // the right edge offered (memory pressure keeps it)
  rcv_.adv_set = true;
  if (rcv_.wnd < buffer_window()) mem_.note(&memory_stats::window_clamped);  // memory pressure held it
  rcv_.ack_now = false;  // this segment carries the ACK owed, delayed or not
  rcv_.unacked_segments = 0;
  if (!ack_point) rcv_.ack_points_len = 0;
  timers_.clear(timer_kind::delayed_ack);
  rcv_.dsack.reset();  // RFC 2883: a duplicate is reported once
  return total;
}

// The options of every segment after the handshake: timestamps if negotiated, SACK blocks
// while out-of-order data is held or a duplicate is to be reported. Rebuilt from scratch, so calling it twice is harmless.
void connection::add_ack_options(instant now, tcp_options& o) const {
  // RFC 7323 §3.2: once negotiated, TSopt goes in every segment but a RST; TSecr is TS.Recent.
  if (ts_ok_) o.timestamps = tcp_timestamps{ts_clock(now), ts_recent_};
  o.sack_count = 0;
  fill_sack(o);
}

// RFC 2018 §4: the first block holds the most recently received segment, then the other held
// ranges, most recently changed first, as many as fit (4, or 3 beside timestamps). RFC 2883
// §4: a D-SACK block goes first, followed by the held range containing it, if any.
void connection::fill_sack(tcp_options& o) const {
  if (!sack_ok_ || (rcv_.reasm.empty() && !rcv_.dsack)) return;
  constexpr std::size_t max_options = 40;
  constexpr std::size_t sack_overhead = 4;  // NOP, NOP, kind, length
  const std::size_t base = o.buffer_len();
  if (base + sack_overhead + 8 > max_options) return;
  const std::size_t room = std::min((max_options - base - sack_overhead) / 8, tcp_options::max_sack_blocks);
  std::optional<sack_block> listed;
  if (rcv_.dsack) {
    o.add_sack(*rcv_.dsack);
    listed = rcv_.reasm.containing(rcv_.dsack->left, rcv_.dsack->right);
    if (listed && o.sack_count < room) o.add_sack(*listed);
  }
  std::array<sack_block, tcp_options::max_sack_blocks + 1> recent{};
  const std::size_t n = rcv_.reasm.recent_blocks(recent);
  for (std::size_t i = 0; i < n && o.sack_count < room; ++i) {
    if (listed && recent[i] == *listed) continue;
    o.add_sack(recent[i]);
  }
}

}  // namespace synack
