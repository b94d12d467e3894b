// Congestion control and loss recovery on the sending side: RFC 5681 slow start, congestion
// avoidance and fast retransmit, RFC 6582 NewReno fast recovery, RFC 3042 limited transmit,
// RFC 6675 SACK-based recovery, and the window-growth algorithm chosen per connection
// (tcp_config::congestion; CUBIC, RFC 9438, by default). The algorithms themselves live in
// tcp/congestion and tcp/sack_scoreboard; this file feeds them the connection's ACKs and
// timeouts and turns their verdicts into segments.
#include <algorithm>
#include <span>

#include "synack/tcp/connection.hpp"

namespace synack {

// Entering ESTABLISHED: the effective send MSS is known, so the initial window (RFC 5681 §3.1
// equation (1)) can be sized. A handshake that needed a retransmission starts with one
// segment (RFC 5681 §3.1: "the initial window MUST be one segment").
void connection::start_congestion_control() {
  congestion_config cc;
  cc.iw = cfg_->initial_window;
  // DEVIATION(Linux tcp_slow_start): slow start counts every acknowledged byte of a stretch
  // ACK (an ACK covering many segments, as from a receiver that takes packets in batches or
  // a GRO/LRO host), where RFC 3465 §2.2 caps one ACK at L = 2*SMSS. With the cap a batching
  // receiver makes slow start grow linearly. The cap of L = 1*SMSS after an RTO (§2.3) stays.
  cc.abc_limit_segments = 1u << 14;
  snd_.rec.cc.reset(cfg_->congestion, snd_.mss, cc);
  if (snd_.retransmissions > 0) snd_.rec.cc->on_syn_retransmitted();
  sack_scoreboard_config sc;
  sc.smss = snd_.mss;
  snd_.rec.sb.configure(sc);  // in place: the scoreboard is ~600 octets
  snd_.rec.sb.reset(snd_.una);
  snd_.rec.rtx.reset();
  snd_.rec.lt_budget = 0;
}

// Called for every acceptable ACK in a synchronized state after SND.UNA and the send window
// were updated. `prev_una` and `prev_wnd` are their values before this ACK.
void connection::on_ack_for_recovery(instant now, const tcp_repr& seg, seq_num prev_una, std::uint32_t prev_wnd) {
  const seq_num ack = *seg.ack;
  sack_update su;
  if (sack_ok_) {
    const std::span<const sack_block> blocks(seg.options.sack.data(), seg.options.sack_count);
    su = snd_.rec.sb.update(snd_.una, snd_.max, blocks);
  }
  const std::uint32_t newly_sacked = su.newly_sacked;
  check_loss_probe(now, prev_una, su);
  if (prev_una.before(ack)) {
    snd_.rec.lt_budget = 0;
    // The resend after a PMTU reduction is clocked by ACKs: each acknowledged octet lets two
    // more go (slow start's pace) until the bound reaches cwnd and is lifted.
    if (snd_.rec.pmtu_burst != 0) {
      const std::uint64_t next = std::uint64_t{snd_.rec.pmtu_burst} + 2ULL * distance(prev_una, ack).n;
      snd_.rec.pmtu_burst = next >= snd_.rec.cc->cwnd() ? 0 : static_cast<std::uint32_t>(next);
    }
    const std::uint32_t flight = distance(snd_.una, snd_.max).n;
    switch (snd_.rec.cc->on_ack(now, ack, distance(prev_una, ack).n, snd_.rtt.srtt(), flight)) {
      case ack_outcome::advanced:
        break;
      case ack_outcome::partial_ack_first:
        arm_retransmit(now);  // RFC 6582 §3.2 step 3: reset the timer on the first partial ACK
        [[fallthrough]];
      case ack_outcome::partial_ack:
        // NewReno retransmits the first unacknowledged segment; with SACK the scoreboard's
        // NextSeg() picks what goes next (RFC 6675 §5 step (C)).
        if (!sack_recovery() && snd_.una.before(snd_.max)) snd_.rec.rtx = next_segment{snd_.una, snd_.mss, seg_rule::first};
        break;
      case ack_outcome::recovery_exit:
        snd_.rec.exit(sack_ok_);
        break;
    }
    arm_loss_probe(now);  // RFC 8985 §7.2: restarted by an ACK of new data
    return;
  }
  // RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT: data outstanding, no data or SYN/FIN in it, the
  // same ACK and the same window. RFC 6675 §2 adds: an ACK whose SACK blocks cover new data.
  const bool candidate = ack == prev_una && snd_.una.before(snd_.max) && seg.payload.empty() && !seg.syn() &&
                         !seg.fin();
  if (candidate && (snd_.wnd == prev_wnd || newly_sacked > 0)) on_duplicate_ack(now);
}

void connection::on_duplicate_ack(instant now) {
  const std::uint32_t flight = distance(snd_.una, snd_.max).n;
  const recovery_style style = sack_ok_ ? recovery_style::sack : recovery_style::newreno;
  switch (snd_.rec.cc->on_dup_ack(now, snd_.una, snd_.max, flight, style)) {
    case dup_ack_action::none:
    case dup_ack_action::in_recovery:  // the output computes what cwnd (or cwnd - pipe) allows
      break;
    case dup_ack_action::limited_transmit:
      snd_.rec.lt_budget = snd_.rec.cc->limited_transmit_segments(flight);  // RFC 3042
      break;
    case dup_ack_action::fast_retransmit:
      begin_fast_recovery();
      return;
  }
  // RFC 6675 §5 step (3): with SACK, recovery starts as soon as IsLost(HighACK + 1), even
  // before the DupThresh-th duplicate ACK.
  if (sack_ok_ && !snd_.rec.cc->in_recovery() && snd_.rec.sb.is_lost(snd_.una) &&
      snd_.rec.cc->enter_recovery(now, snd_.una, snd_.max, flight, style)) {
    begin_fast_recovery();
  }
}

// RFC 5681 §3.2 step 2 / RFC 6675 §5 step (4): retransmit the first unacknowledged segment.
void connection::begin_fast_recovery() {
  ++snd_.fast_retransmits;
  snd_.rec.enter(sack_ok_, snd_.una, snd_.mss);
  timers_.clear(timer_kind::loss_probe);  // recovery finds the losses now
  snd_.rec.tlp_due = false;
}

// ---- Tail Loss Probe (RFC 8985 §7) ----------------------------------------------------------

// §7.2: after new data is sent or an ACK acknowledges new data, with SACK, outside recovery,
// nothing SACKed and no probe outstanding: PTO = 2 x SRTT, plus WCDelAckT when one segment is
// in flight (its ACK may be delayed). DEVIATION(RFC 8985 §7.2): when the RTO would fire first
// the RFC moves the probe to the RTO's time, which turns every first RTO into a probe; here the
// RTO stays an RTO (with no RTT sample yet, PTO = 1 s, no earlier than the initial RTO).
void connection::arm_loss_probe(instant now) {
  timers_.clear(timer_kind::loss_probe);
  if (!cfg_->tail_loss_probe || !sack_ok_ || snd_.una == snd_.max || snd_.rec.tlp_end) return;
  if (snd_.rec.cc->in_recovery() || sack_recovery() || snd_.rec.sb.sacked_bytes() != 0) return;
  const auto srtt = snd_.rtt.srtt();
  if (!srtt) return;
  // DEVIATION(Linux tcp_schedule_loss_probe): at least 10 ms, so a near-zero SRTT (a host on
  // the same machine) does not probe at once; RFC 8985 sets no floor.
  duration pto = std::max<duration>(2 * *srtt, std::chrono::milliseconds(10));
  if (distance(snd_.una, snd_.max).n <= snd_.mss) pto += cfg_->tlp_delayed_ack;
  const auto rto_at = timers_.get(timer_kind::retransmit);
  if (rto_at && *rto_at <= now + pto) return;
  timers_.set(timer_kind::loss_probe, now + pto);
}

void connection::on_loss_probe_timeout() {
  timers_.clear(timer_kind::loss_probe);
  if (snd_.una == snd_.max || snd_.rec.tlp_end || snd_.rec.cc->in_recovery()) return;
  snd_.rec.tlp_due = true;  // plan_segment sends it (plan_loss_probe)
}

// §7.3: the probe is a new segment if there is unsent data the peer's window takes (cwnd does
// not hold it back: the probe is the one segment sent to learn what happened), else the last
// segment sent again (the highest sequence numbers, the FIN with it if it was sent).
connection::segment_plan connection::plan_loss_probe() const {
  const seq_num end = snd_.data_end();
  const seq_num wnd_edge = snd_.una + seq_len{snd_.wnd};
  const std::uint32_t usable = snd_.max.before(wnd_edge) ? distance(snd_.max, wnd_edge).n : 0;
  const std::uint32_t unsent = snd_.max.before(end) ? distance(snd_.max, end).n : 0;
  if (snd_.nxt == snd_.max && usable > 0 && unsent > 0) {
    const std::uint32_t len = std::min({usable, unsent, std::uint32_t{snd_.mss}});
    return segment_plan{segment_kind::new_data, snd_.nxt, len, snd_.fin_queued, {}, true};
  }
  const seq_num data_sent_end = end.before(snd_.max) ? end : snd_.max;  // the FIN (if sent) follows `end`
  const std::uint32_t last = std::min<std::uint32_t>(distance(snd_.una, data_sent_end).n, snd_.mss);
  segment_plan p = plan_retransmission(next_segment{data_sent_end - seq_len{last}, last, seg_rule::lost});
  p.loss_probe = p.kind != segment_kind::none;
  return p;
}

// §7.4: what the ACKs after a probe say. An ACK at or beyond TLP.end_seq ends the episode: a
// probe of new data says nothing of a loss; a D-SACK of the probe means the original arrived
// too (no loss); an ACK beyond it (data sent after the probe acknowledged, no D-SACK came) means
// the probe repaired a loss: cwnd is reduced as fast recovery would have; a pure duplicate ACK
// means both arrived.
void connection::check_loss_probe(instant now, seq_num prev_una, const sack_update& su) {
  if (!snd_.rec.tlp_end) return;
  const seq_num end = *snd_.rec.tlp_end;
  const seq_num ack = snd_.una;
  if (ack.before(end)) return;
  const bool dsack_of_probe = su.dsack && su.dsack_block.right.after(end - seq_len{snd_.mss + 1u}) &&
                              su.dsack_block.left.before(end);
  if (!snd_.rec.tlp_retrans || dsack_of_probe) {
    snd_.rec.tlp_end.reset();
  } else if (ack.after(end)) {
    snd_.rec.tlp_end.reset();
    ++snd_.probe_recoveries;
    snd_.rec.cc->on_probe_repaired_loss(now, distance(prev_una, snd_.max).n);
  } else if (prev_una == ack && su.newly_sacked == 0) {
    snd_.rec.tlp_end.reset();  // a pure duplicate ACK: the original and the probe both arrived
  }
}

// RFC 5681 §3.1 (cwnd = 1 SMSS, ssthresh halved once per loss): loss_recovery::on_rto.
void connection::on_rto_for_recovery(instant now) {
  ++snd_.timeouts;
  snd_.rec.on_rto(now, sack_ok_, snd_.una, snd_.max);
}

// What counts against cwnd when sending: RFC 6675's pipe during SACK recovery; otherwise the
// octets sent and not yet acknowledged that are not presumed lost. After a timeout SND.NXT
// went back to SND.UNA (go-back-N), so what lies beyond it is presumed lost.
std::uint32_t connection::sending_flight() const {
  if (sack_recovery()) return snd_.rec.sb.pipe();
  return distance(snd_.una, snd_.nxt).n;
}

// RFC 5681 §3.1: at most cwnd octets in flight; RFC 3042 limited transmit may add segments.
std::uint32_t connection::cwnd_room() const {
  const std::uint32_t flight = sending_flight();
  const std::uint32_t cwnd = snd_.rec.cc->cwnd();
  std::uint32_t room = cwnd > flight ? cwnd - flight : 0;
  // After a PMTU reduction the flight is resent from SND.UNA: at most snd_.rec.pmtu_burst in flight.
  if (snd_.rec.pmtu_burst != 0) room = std::min(room, snd_.rec.pmtu_burst > flight ? snd_.rec.pmtu_burst - flight : 0);
  if (snd_.rec.lt_budget > 0 && snd_.nxt == snd_.max) room = std::max(room, snd_.rec.lt_budget * std::uint32_t{snd_.mss});
  return room;
}

// A retransmission due now: one owed by fast retransmit or a partial ACK, or in SACK
// recovery the next hole NextSeg() picks while cwnd - pipe >= 1 SMSS (RFC 6675 §5 (C)).
// New data chosen by NextSeg() rule (2) is planned as new data (plan_segment).
std::optional<next_segment> connection::take_retransmission() {
  if (snd_.rec.rtx) {
    const next_segment s = *snd_.rec.rtx;
    snd_.rec.rtx.reset();
    if (!s.seq.before(snd_.una) && s.seq.before(snd_.max)) return s;  // not acknowledged meanwhile
  }
  if (!sack_recovery()) return std::nullopt;
  const std::uint32_t pipe = snd_.rec.sb.pipe();
  if (snd_.rec.cc->cwnd() < pipe || snd_.rec.cc->cwnd() - pipe < snd_.mss) return std::nullopt;
  const seq_num wnd_edge = snd_.una + seq_len{snd_.wnd};
  const seq_num end = snd_.data_end();
  const std::uint32_t usable = snd_.max.before(wnd_edge) ? distance(snd_.max, wnd_edge).n : 0;
  const std::uint32_t unsent = snd_.max.before(end) ? distance(snd_.max, end).n : 0;
  auto s = snd_.rec.sb.next_seg(std::min(usable, unsent));
  if (!s || s->rule == seg_rule::new_data) return std::nullopt;
  return s;
}

// Plans sending again the octets [s.seq, s.seq + s.len) (s.len 0: a segment's worth; clipped to
// what was sent), with the FIN if it was sent right after them. Nothing if none are left.
connection::segment_plan connection::plan_retransmission(const next_segment& s) const {
  const seq_num end = snd_.data_end();
  const std::uint32_t data_left = s.seq.before(end) ? distance(s.seq, end).n : 0;
  std::uint32_t len = std::min(data_left, distance(s.seq, snd_.max).n);
  if (s.len != 0) len = std::min(len, s.len);
  const bool fin_ok = snd_.fin_queued && end.before(snd_.max);  // the FIN was sent: it goes again
  if (len == 0 && !(fin_ok && s.seq == end)) return {};
  return segment_plan{segment_kind::retransmission, s.seq, len, fin_ok, s};
}

}  // namespace synack
