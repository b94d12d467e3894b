// Congestion control and loss recovery on the sending side: RFC 5681 slow start, congestion
// avoidance and fast retransmit, RFC 6582 NewReno fast recovery, RFC 3042 limited transmit,
// RFC 6675 SACK-based recovery, RFC 6937 / 9937 Proportional Rate Reduction, the undo of
// spurious retransmissions (RFC 3708 with D-SACK, RFC 3522 Eifel with timestamps), and the
// window-growth algorithm chosen per connection (tcp_config::congestion; CUBIC, RFC 9438, by
// default). The algorithms themselves live in tcp/congestion, tcp/prr and tcp/sack_scoreboard;
// this file feeds them the connection's ACKs and timeouts and turns their verdicts into
// segments.
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
  cc.prr = cfg_->prr;
  cc.hystart = cfg_->hystart;
  // RFC 8985 §6: with RACK, a loss it detects starts recovery, not the DupThresh-th duplicate
  // ACK (limited transmit, RFC 3042, still sends on the first two).
  const std::uint32_t dup_thresh = cc.dup_thresh;
  if (rack_on()) cc.dup_thresh = UINT32_MAX;
  snd_.rec.cc.reset(cfg_->congestion, snd_.mss, cc);
  if (bbr* b = snd_.rec.cc.as_bbr()) b->set_seed(snd_.iss.raw);  // the ISS comes from the host's seeded randomness
  if (snd_.retransmissions > 0) snd_.rec.cc->on_syn_retransmitted();
  sack_scoreboard_config sc;
  sc.smss = snd_.mss;
  snd_.rec.sb.configure(sc);  // in place: the scoreboard is ~600 octets
  snd_.rec.sb.reset(snd_.una);
  snd_.rec.rk.configure(cfg_->rack_segments, dup_thresh, snd_.mss);
  snd_.rec.rk.reset(snd_.una);
  snd_.rec.rtx.reset();
  snd_.rec.lt_budget = 0;
  snd_.rec.rtx_mark = snd_.una;
  snd_.rec.undo.reset();
}

// Called for every acceptable ACK in a synchronized state after SND.UNA and the send window
// were updated. `prev_una` and `prev_wnd` are their values before this ACK.
void connection::on_ack_for_recovery(instant now, const tcp_repr& seg, seq_num prev_una, std::uint32_t prev_wnd) {
  const seq_num ack = *seg.ack;
  // Built in place (no copy of a returned struct reread before its stores land).
  const std::span<const sack_block> blocks(seg.options.sack.data(), sack_ok_ ? seg.options.sack_count : 0);
  if (blocks.empty() && nothing_to_recover(ack, prev_una)) {
    // Every step below would find nothing to do. RACK still takes the latest RTT sample (the
    // handshake's reaches it with the first ACK it sees) and recomputes reo_wnd from it; with
    // nothing recorded and the reorder timer not armed, its loss detection has nothing to do.
    if (ack != prev_una) {
      // Only our FIN was acknowledged (a lone FIN, which RACK does not record): nothing can
      // be sent any more. No octet of data was delivered, so the window does not grow
      // (RFC 5681 §3.1 counts data). Limited transmit and the PMTU resend end; the probe
      // timer stopped with the retransmission timer (process_ack_of_new_data).
      snd_.rec.lt_budget = 0;
      snd_.rec.pmtu_burst = 0;
    }
    if (rack_on()) snd_.rec.rk.on_idle_ack(snd_.rtt.latest(), snd_.rtt.srtt());
    return;
  }
  recover_on_ack(now, seg, prev_una, prev_wnd, blocks);
}

// on_ack_for_recovery for an ACK that may find something to do: its own function, so that the
// short path above (every ACK of an open-close cycle, and the receiving side of a transfer)
// stays a few cache lines (docs/performance.md, issue #12).
void connection::recover_on_ack(instant now, const tcp_repr& seg, seq_num prev_una, std::uint32_t prev_wnd,
                                std::span<const sack_block> blocks) {
  const seq_num ack = *seg.ack;
  const std::uint32_t sacked_before = snd_.rec.sb.sacked_bytes();
  const std::uint64_t losses_before = snd_.rec.rk.losses();
  // What only DupThresh's adaptation and an undo episode's F-RTO read (an episode this ACK
  // opens, a fast recovery's, has no F-RTO step).
  sack_evidence ev;
  if (sack_ok_ && (snd_.rec.undo || (cfg_->adaptive_dupthresh && !rack_on()))) read_sack_evidence(ack, blocks, ev);
  const sack_update su = sack_ok_ ? snd_.rec.sb.update(snd_.una, snd_.max, blocks) : sack_update{};
  if (su.reneged) on_sack_reneging();
  const std::uint32_t newly_sacked = su.newly_sacked;
  // RFC 5681 §2 DUPLICATE ACKNOWLEDGMENT: data outstanding, no data or SYN/FIN in it, the
  // same ACK and the same window. RFC 6675 §2 adds: an ACK whose SACK blocks cover new data.
  const bool dup = ack == prev_una && snd_.una.before(snd_.max) && seg.payload.empty() && !seg.syn() && !seg.fin() &&
                   (snd_.wnd == prev_wnd || newly_sacked > 0);
  std::optional<delivered_segment> newest;
  if (record_on()) rack_on_ack(now, seg, su, &newest);
  if (snd_.rec.tlp_end) check_loss_probe(now, prev_una, su);
  if (snd_.rec.undo) check_spurious(seg, prev_una, su);
  adapt_dupthresh(prev_una, ev);
  if (prev_una.before(ack)) {
    const std::uint32_t dup_acks_before = snd_.rec.cc->dup_acks();
    snd_.rec.lt_budget = 0;
    // The resend after a PMTU reduction is clocked by ACKs: each acknowledged octet lets two
    // more go (slow start's pace) until the bound reaches cwnd and is lifted.
    if (snd_.rec.pmtu_burst != 0) {
      const std::uint64_t next = std::uint64_t{snd_.rec.pmtu_burst} + 2ULL * distance(prev_una, ack).n;
      // Everything acknowledged lifts it too: no flight is left to clock it.
      const bool all_acked = ack == snd_.max;
      snd_.rec.pmtu_burst = all_acked || next >= std::uint64_t{snd_.rec.pmtu_sent} + snd_.rec.cc->cwnd()
                                ? 0
                                : static_cast<std::uint32_t>(next);
    }
    const std::uint32_t flight = distance(snd_.una, snd_.max).n;
    // HyStart++ sees the RTT sample this ACK gave, if it gave one (timestamps or the timed
    // segment, taken before this call).
    std::optional<duration> fresh;
    if (snd_.rtt.samples() != snd_.rec.rtt_samples_seen) {
      snd_.rec.rtt_samples_seen = snd_.rtt.samples();
      fresh = snd_.rtt.latest();
    }
    snd_.rec.cc->on_round_sample(ack, snd_.max, fresh);
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
        if (rack_on()) snd_.rec.rk.on_recovery_exit();
        break;
    }
    // RFC 9937 §4: every ACK during recovery but the one that ends it sets the window.
    // DeliveredData = change_in(SND.UNA) + change_in(SACKd): octets SACKed before and
    // acknowledged now were delivered then, not now.
    if (snd_.rec.cc->in_recovery()) {
      const std::uint32_t acked = distance(prev_una, ack).n;
      const std::uint32_t held = sacked_before + newly_sacked;
      const std::uint32_t absorbed = held - std::min(held, snd_.rec.sb.sacked_bytes());
      prr_on_ack(acked + newly_sacked - std::min(acked + newly_sacked, absorbed), su, dup_acks_before, true);
    }
    arm_loss_probe(now);  // RFC 8985 §7.2: restarted by an ACK of new data
  } else if (dup) {
    on_duplicate_ack(now, su);
  }
  frto_on_ack(prev_una, dup, ev);
  rack_start_recovery(now, su);
  try_undo();
  if (snd_.rec.cc.as_bbr() != nullptr) {
    // Octets this ACK delivered: DeliveredData as PRR counts it (RFC 9937 §4), SND.UNA's advance
    // plus what was newly SACKed, less what was SACKed before and only now cumulatively ACKed.
    const std::uint32_t acked = distance(prev_una, ack).n;
    const std::uint32_t held = sacked_before + newly_sacked;
    const std::uint32_t absorbed = held - std::min(held, snd_.rec.sb.sacked_bytes());
    bbr_on_ack(now, acked + newly_sacked - std::min(acked + newly_sacked, absorbed), newest, losses_before);
  }
}

// BBR's model on one ACK (after recovery processing decided what is lost and whether recovery
// runs): the delivery-rate sample, what is in the network now (RFC 6675's pipe in SACK
// recovery), and what RACK newly marked lost. PRR is off with BBR: its packet conservation
// decides how much goes in recovery; RACK and the scoreboard still decide what.
void connection::bbr_on_ack(instant now, std::uint32_t delivered, const std::optional<delivered_segment>& newest,
                            std::uint64_t losses_before) {
  bbr& b = *snd_.rec.cc.as_bbr();
  const std::uint64_t lost_segs = snd_.rec.rk.losses() - losses_before;
  const auto lost = static_cast<std::uint32_t>(std::min<std::uint64_t>(lost_segs * snd_.mss, UINT32_MAX));
  b.on_rate_sample(now, snd_.una, delivered, newest, sending_flight(), lost);
}

// The receiver dropped octets it had SACKed (sack_update::reneged; the scoreboard forgot every
// SACK): RACK forgets them too, and what was skipped as SACKed goes again — a resend from
// SND.UNA in progress after a timeout starts over there, a SACK recovery owes the segment at
// SND.UNA now (the RTO would find it otherwise, as RFC 2018 §8's rule waits for).
void connection::on_sack_reneging() {
  snd_.rec.rk.forget_sacks();
  if (sack_recovery()) {
    snd_.rec.rtx = next_segment{snd_.una, snd_.mss, seg_rule::first};
  } else if (snd_.nxt.before(snd_.max) && snd_.una.before(snd_.nxt)) {
    snd_.nxt = snd_.una;
    snd_.rtt_probe.reset();  // Karn: an ACK may answer either copy
  }
}

// Before the scoreboard takes this ACK's blocks: the highest octet SACKed so far, and the
// lowest octet at or above the cumulative ACK that a block covers and the scoreboard does not.
void connection::read_sack_evidence(seq_num ack, std::span<const sack_block> blocks, sack_evidence& ev) const {
  ev.fack = snd_.rec.sb.highest_sacked();
  for (const sack_block& b : blocks) {
    if (!b.left.before(b.right) || b.right.before_eq(ack) || b.right.after(snd_.max)) continue;
    const auto x = snd_.rec.sb.first_unsacked(seq_max(b.left, ack), b.right);
    if (x && (!ev.lowest_new || x->before(*ev.lowest_new))) ev.lowest_new = x;
  }
}

void connection::on_duplicate_ack(instant now, const sack_update& su) {
  const std::uint32_t flight = distance(snd_.una, snd_.max).n;
  const recovery_style style = sack_ok_ ? recovery_style::sack : recovery_style::newreno;
  switch (snd_.rec.cc->on_dup_ack(now, snd_.una, snd_.max, flight, style)) {
    case dup_ack_action::none:
      break;
    case dup_ack_action::in_recovery:  // PRR sets the window; without it cwnd (or cwnd - pipe) rules
      prr_on_ack(su.newly_sacked, su, 0, false);
      break;
    case dup_ack_action::limited_transmit:
      snd_.rec.lt_budget = snd_.rec.cc->limited_transmit_segments(flight);  // RFC 3042
      break;
    case dup_ack_action::fast_retransmit:
      begin_fast_recovery(su);
      return;
  }
  // RFC 6675 §5 step (3): with SACK, recovery starts as soon as IsLost(HighACK + 1), even
  // before the DupThresh-th duplicate ACK. With RACK only for a segment it does not track.
  if (sack_ok_ && !snd_.rec.cc->in_recovery() && (!rack_on() || !snd_.rec.rk.tracks(snd_.una)) &&
      snd_.rec.sb.is_lost(snd_.una) &&
      snd_.rec.cc->enter_recovery(now, snd_.una, snd_.max, flight, style)) {
    begin_fast_recovery(su);
  }
}

// RFC 5681 §3.2 step 2 / RFC 6675 §5 step (4): retransmit the first unacknowledged segment.
// RFC 9937 §4: PRR starts with RecoverFS, the flight less what was SACKed before this ACK
// (those octets will not be delivered during recovery); this ACK is its first.
void connection::begin_fast_recovery(const sack_update& su) {
  ++snd_.fast_retransmits;
  snd_.rec.enter(sack_ok_, snd_.una, snd_.mss);
  // RFC 8985 §6: with RACK the first retransmission is the first segment it marked lost.
  if (rack_on()) {
    if (const auto l = snd_.rec.rk.first_lost()) {
      snd_.rec.rtx = next_segment{l->seq, std::min<std::uint32_t>(distance(l->seq, l->end).n, snd_.mss), seg_rule::first};
    }
  }
  timers_.clear(timer_kind::loss_probe);  // recovery finds the losses now (a recovery_probe is armed as it sends)
  snd_.rec.tlp_due = false;
  open_undo_episode();
  if (!snd_.rec.cc->prr_enabled()) return;
  const std::uint32_t flight = distance(snd_.una, snd_.max).n;
  // Without SACK the duplicate ACKs before this one each stand for a segment delivered.
  const std::uint32_t dups = snd_.rec.cc->dup_acks();
  const std::uint32_t sacked_before =
      sack_ok_ ? snd_.rec.sb.sacked_bytes() - std::min(snd_.rec.sb.sacked_bytes(), su.newly_sacked)
               : (dups > 0 ? dups - 1 : 0) * std::uint32_t{snd_.mss};
  snd_.rec.pr.start(flight - std::min(flight, sacked_before));
  prr_on_ack(su.newly_sacked, su, 0, false);
}

// RFC 9937 §4 on one ACK of recovery: DeliveredData (`delivered`: with SACK, octets newly
// acknowledged plus newly SACKed; without SACK one SMSS per duplicate ACK, and a cumulative
// ACK less one SMSS per duplicate ACK before it, RFC 6937 §3), pipe (RFC 6675's; without SACK
// the flight less the segments the duplicate ACKs stand for), and the window: cwnd = pipe +
// sndcnt. The window is set relative to what the output compares it with (sending_flight()),
// so the room it leaves is sndcnt exactly.
void connection::prr_on_ack(std::uint32_t delivered, const sack_update& su, std::uint32_t dup_acks_before,
                            bool advanced) {
  if (!snd_.rec.cc->prr_enabled() || !snd_.rec.cc->in_recovery()) return;
  const std::uint32_t mss = snd_.mss;
  std::uint32_t pipe = 0;
  if (sack_ok_) {
    pipe = recovery_pipe();
  } else {
    delivered = advanced ? delivered - std::min(delivered, dup_acks_before * mss) : mss;
    const std::uint32_t flight = distance(snd_.una, snd_.nxt).n;
    pipe = flight - std::min(flight, snd_.rec.cc->dup_acks() * mss);
  }
  // safeACK: SND.UNA advanced and nothing suggests another loss. DEVIATION(RFC 9937 §4): "no
  // further loss indicated" is read as "nothing newly SACKed" (the scoreboard does not report
  // which octets an ACK newly marked lost); without SACK a partial ACK itself says the next
  // segment is lost, so every reduction bound there is PRR-CRB.
  const bool safe = advanced && sack_ok_ && su.newly_sacked == 0;
  const std::uint32_t sndcnt = snd_.rec.pr.on_ack(delivered, pipe, snd_.rec.cc->ssthresh(), mss, safe);
  snd_.rec.cc->set_recovery_window(sending_flight() + sndcnt);
}

// RFC 9937 §4 "On any data transmission or retransmission": prr_out. A retransmission the
// output sends without asking cwnd (the fast retransmit, NewReno's after a partial ACK) takes
// its octets out of the window; with SACK it raised pipe already. DEVIATION(RFC 9937 §4): those
// two go even when sndcnt is below one SMSS (the RFC forces a segment only while prr_out and
// sndcnt are both 0): sndcnt is counted in octets here, and NewReno's repair of the next hole
// should not wait for the proportion; prr_out still counts them, so new data waits instead.
void connection::prr_on_sent(std::uint32_t octets, bool retransmission) {
  if (!snd_.rec.cc->prr_enabled() || !snd_.rec.cc->in_recovery()) return;
  snd_.rec.pr.on_sent(octets);
  if (retransmission && !sack_recovery()) {
    const std::uint32_t cwnd = snd_.rec.cc->cwnd();
    snd_.rec.cc->set_recovery_window(std::max<std::uint32_t>(cwnd - std::min(cwnd, octets), snd_.mss));
  }
}

// ---- Undo of spurious retransmissions (RFC 3708, RFC 3522, RFC 4015) ----------------------

// A reduction began: a fast recovery is a new episode (its ACK is beyond the last one's
// `recover`); a timeout extends the episode in progress (during recovery, or a repeated
// timeout), as congestion_control::on_rto keeps the window it would restore.
void connection::open_undo_episode() {
  undo_episode& e = snd_.rec.undo.emplace();
  e.start = snd_.una;
  e.end = snd_.max;
  e.rtx_high = snd_.una;
  e.fack = snd_.rec.sb.highest_sacked().value_or(snd_.una);
}

// Every retransmission of the episode (fast, SACK-chosen, after a timeout; not a loss probe).
void connection::note_episode_retransmission(instant now, seq_num seq, std::uint32_t len) {
  if (!snd_.rec.undo) return;
  undo_episode& e = *snd_.rec.undo;
  ++e.retrans;
  e.rtx_high = seq_max(e.rtx_high, seq + seq_len{std::max<std::uint32_t>(len, 1)});
  if (!e.rtx_ts && ts_ok_) {
    e.rtx_ts = ts_clock(now);  // RFC 3522 §3.2 (1): RetransmitTS
    e.rtx_seq = seq;
  }
}

// The evidence an ACK brings. RFC 3708 §2: a D-SACK of octets the episode retransmitted says
// both copies arrived. RFC 3522 §3.2 (3): the first ACK for the first retransmitted segment
// echoing a TSval older than RetransmitTS was sent for the original.
void connection::check_spurious(const tcp_repr& seg, seq_num prev_una, const sack_update& su) {
  if (!snd_.rec.undo) return;
  undo_episode& e = *snd_.rec.undo;
  if (const auto h = snd_.rec.sb.highest_sacked()) e.fack = seq_max(e.fack, *h);
  if (!cfg_->undo_spurious) return;
  if (su.dsack && !su.dsack_block.left.before(e.start) && su.dsack_block.left.before(e.rtx_high) &&
      e.dsacked < e.retrans) {
    const std::uint32_t len = distance(su.dsack_block.left, su.dsack_block.right).n;
    const std::uint32_t segs = std::max<std::uint32_t>(1, (len + snd_.mss - 1) / snd_.mss);
    e.dsacked = std::min(e.retrans, e.dsacked + segs);
  }
  const seq_num ack = *seg.ack;
  if (e.rtx_ts && !e.eifel_checked && prev_una.before(ack) && e.rtx_seq.before(ack)) {
    e.eifel_checked = true;
    const auto& ts = seg.options.timestamps;
    e.eifel = ts && ts->tsecr != 0 && static_cast<std::int32_t>(ts->tsecr - *e.rtx_ts) < 0;
  }
}

// All the episode's retransmissions proved spurious: restore the window. DEVIATION(RFC 4015 §2):
// cwnd and ssthresh go back to their values before the reduction (never below their present
// values), as Linux's undo does; RFC 4015 instead resumes after a spurious timeout with a window
// near the flight, so that the restored window does not leave as a burst. After a fast recovery
// the undo waits for its end (SND.UNA at the episode's SND.MAX: nothing else is missing). A
// spurious timeout found by Eifel or F-RTO is undone at once, and sending resumes with new data
// (RFC 4015: SND.NXT = SND.MAX) instead of resending what arrived. F-RTO's verdict stands for
// the timeout's one retransmission, as Eifel's does for the first.
void connection::try_undo() {
  if (!cfg_->undo_spurious || !snd_.rec.undo || snd_.rec.cc->in_recovery()) return;
  const undo_episode& e = *snd_.rec.undo;
  const bool first_proven = e.eifel || e.frto_spurious;
  if (e.retrans == 0 || e.dsacked + (first_proven ? 1u : 0u) < e.retrans) return;
  const bool done = !snd_.una.before(e.end);
  if (!done && !(e.after_rto && first_proven)) return;
  if (!snd_.rec.cc->undo()) return;
  ++snd_.spurious_undos;
  // A fast recovery all of whose retransmissions were spurious was started by reordering: at
  // least from the episode's first hole to the highest octet SACKed during it.
  // DEVIATION(RFC 8985 §6.2 step 3, which sees reordering only in an original delivered below
  // RACK.fack): RACK learns it here too. When every late original is resent before it arrives
  // (a hold longer than reo_wnd, which is 0 in recovery until reordering is seen), no original
  // is ever delivered below RACK.fack unresent, so step 3 never fires: reo_wnd stays 0 in
  // recovery and at DupThresh SACKed segments, and each recovery resends every late segment
  // again. Linux counts the same evidence as reordering (tcp_try_undo_partial and a D-SACK of
  // a retransmitted, SACKed segment both reach tcp_check_sack_reordering). Traced in
  // docs/performance.md "Pacing under reordering".
  if (!e.after_rto) {
    raise_dupthresh(e.start, e.fack);
    if (rack_on()) snd_.rec.rk.on_reordering_proven();
  }
  // An undone timeout resends nothing more, so RFC 6582's guard against the duplicate ACKs of a
  // go-back-N resend (no fast recovery until SND.UNA passes the timeout's SND.MAX) has nothing
  // to guard: without this a loss RACK finds among the segments in flight waits for the next,
  // backed-off, timeout. Everything before SND.UNA is answered, as F-RTO's "recover" says.
  if (e.after_rto) snd_.rec.cc->set_recover(snd_.una - seq_len{1});
  if (!done) snd_.nxt = snd_.max;
  snd_.rec.undo.reset();
}

// ---- Tail Loss Probe (RFC 8985 §7) ----------------------------------------------------------

// §7.2: after new data is sent or an ACK acknowledges new data, with SACK, outside recovery,
// nothing SACKed and no probe outstanding: PTO = 2 x SRTT, plus WCDelAckT when one segment is
// in flight (its ACK may be delayed). DEVIATION(RFC 8985 §7.2): when the RTO would fire first
// the RFC moves the probe to the RTO's time, which turns every first RTO into a probe; here the
// RTO stays an RTO (with no RTT sample yet, PTO = 1 s, no earlier than the initial RTO).
void connection::arm_loss_probe_now(instant now) {
  // tcp_config::recovery_probe: in recovery and with SACKed data too (DEVIATION, see there).
  if (!cfg_->recovery_probe && (snd_.rec.cc->in_recovery() || sack_recovery() || snd_.rec.sb.sacked_bytes() != 0)) return;
  const auto srtt = snd_.rtt.srtt();
  if (!srtt) return;
  // DEVIATION(RFC 8985 §7.2): at least 10 ms, so a near-zero SRTT (a host on the same
  // machine) does not probe at once; RFC 8985 sets no floor. tcp_config::tlp_linux: Linux's
  // 2 x SRTT + 2 ms instead.
  duration pto = cfg_->tlp_linux ? 2 * *srtt + std::chrono::milliseconds(2)
                                 : std::max<duration>(2 * *srtt, std::chrono::milliseconds(10));
  if (distance(snd_.una, snd_.max).n <= snd_.mss) pto += cfg_->tlp_delayed_ack;
  if (timers_.armed(timer_kind::retransmit) && timers_.at(timer_kind::retransmit) <= now + pto) {
    if (!cfg_->tlp_linux) return;
    // Linux: the probe takes the RTO's place and time; the RTO is armed again when it fires.
    const instant rto_at = timers_.at(timer_kind::retransmit);
    timers_.clear(timer_kind::retransmit);
    timers_.set(timer_kind::loss_probe, rto_at);
    return;
  }
  timers_.set(timer_kind::loss_probe, now + pto);
}

void connection::on_loss_probe_timeout(instant now) {
  timers_.clear(timer_kind::loss_probe);
  // tcp_config::tlp_linux: the RTO runs again from now, whether or not a probe goes
  // (Linux's tcp_send_loss_probe ends with tcp_rearm_rto).
  if (cfg_->tlp_linux && snd_.una != snd_.max) arm_retransmit(now);
  if (snd_.una == snd_.max || snd_.rec.tlp_end || (snd_.rec.cc->in_recovery() && !cfg_->recovery_probe)) return;
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

// ---- RACK (RFC 8985 §6) ----------------------------------------------------------------------

// §6.2 steps 1-5 on an ACK, after the scoreboard took its SACK blocks and before congestion
// control sees it (so that PRR's pipe leaves out what this ACK shows lost): RACK.min_RTT from the
// RFC 6298 / RFC 7323 samples, what the ACK newly delivered, then loss detection.
// DEVIATION(RFC 8985 §6.2 step 1): min_RTT is the minimum over the connection's life, not a
// windowed minimum.
void connection::rack_on_ack(instant now, const tcp_repr& seg, const sack_update& su,
                             std::optional<delivered_segment>* newest) {
  if (const auto rtt = snd_.rtt.latest()) snd_.rec.rk.on_rtt_sample(*rtt);
  const auto& ts = seg.options.timestamps;
  const bool echo = ts_ok_ && ts && ts->tsecr != 0;
  const std::uint32_t ecr = echo ? ts->tsecr : 0;
  const auto echoed_before = [this, echo, ecr](instant t) {
    return echo && static_cast<std::int32_t>(ecr - ts_clock(t)) < 0;
  };
  snd_.rec.rk.on_ack(now, snd_.una, snd_.rec.sb, su.dsack, snd_.max, echoed_before, newest);
  if (rack_on()) rack_detect(now);
}

// §6.2 step 5 and §6.3: mark what is lost and arm the reorder timer for what is not yet.
void connection::rack_detect(instant now) {
  if (const instant t = snd_.rec.rk.detect_loss_at(now, snd_.rtt.srtt(), snd_.rec.cc->in_recovery()); t != instant::max()) {
    timers_.set(timer_kind::rack_reorder, t);
  } else {
    timers_.clear(timer_kind::rack_reorder);
  }
}

// RFC 8985 §8: a loss RACK found starts fast recovery (DupThresh does not, with RACK on). The
// lost segments go out through plan_segment (take_retransmission) as cwnd - pipe allows.
void connection::rack_start_recovery(instant now, const sack_update& su) {
  if (!rack_on() || snd_.rec.rk.lost_pending() == 0 || snd_.rec.cc->in_recovery()) return;
  const std::uint32_t flight = distance(snd_.una, snd_.max).n;
  if (snd_.rec.cc->enter_recovery(now, snd_.una, snd_.max, flight, recovery_style::sack)) begin_fast_recovery(su);
}

void connection::on_rack_timeout(instant now) {
  timers_.clear(timer_kind::rack_reorder);
  if (!rack_on() || snd_.una == snd_.max) return;
  rack_detect(now);
  rack_start_recovery(now, sack_update{});
}

// RFC 5681 §3.1 (cwnd = 1 SMSS, ssthresh halved once per loss): loss_recovery::on_rto.
// RFC 5682 §2 / §3.1 step 1: F-RTO follows unless a recovery is still repairing (`recover`,
// or RFC 6675's RecoveryPoint, at or above SND.UNA: a fast recovery or an earlier timeout).
// A timeout also puts an adapted DupThresh back: a threshold too high may be what left the
// loss to the timer.
void connection::on_rto_for_recovery(instant now) {
  ++snd_.timeouts;
  const bool same_episode = snd_.rec.undo && snd_.rec.cc->undo_continues_on_rto();
  const auto recover = snd_.rec.cc->recover();
  const bool frto = cfg_->frto && (!recover || snd_.una.after(*recover));
  snd_.rec.on_rto(now, sack_ok_, snd_.una, snd_.max, cfg_->rto_keeps_sack);
  // Linux's reneging test on a timeout (tcp_timeout_mark_lost): the octet at SND.UNA, which the
  // receiver would have acknowledged, counts as SACKed — a block at (or across) the cumulative
  // ACK. Nothing kept is trusted then, or the resend would skip everything.
  if (sack_ok_ && snd_.rec.sb.is_sacked(snd_.una)) {
    snd_.rec.sb.renege();
    on_sack_reneging();
  }
  timers_.clear(timer_kind::rack_reorder);
  if (!same_episode) open_undo_episode();
  undo_episode& e = *snd_.rec.undo;
  e.end = seq_max(e.end, snd_.max);
  e.after_rto = true;
  e.frto = frto ? undo_episode::frto_step::first_ack : undo_episode::frto_step::off;
  if (!rack_on()) set_dupthresh(3);
}

// ---- F-RTO (RFC 5682) ----------------------------------------------------------------------

// Steps 2 and 3 of §2 (without SACK) or §3.1 (with SACK) on each ACK after the timeout's
// retransmission. The response to a spurious timeout is try_undo's (RFC 4015, as for Eifel).
void connection::frto_on_ack(seq_num prev_una, bool dup, const sack_evidence& ev) {
  if (!snd_.rec.undo || snd_.rec.undo->frto == undo_episode::frto_step::off) return;
  undo_episode& e = *snd_.rec.undo;
  const bool advanced = prev_una.before(snd_.una);
  if (e.frto == undo_episode::frto_step::first_ack) {
    if (!advanced) {
      // §2 step 2a: a duplicate ACK means conventional recovery. §3.1 step 2: with SACK the
      // duplicate ACKs before the new one only update the scoreboard.
      if (dup && !sack_ok_) e.frto = undo_episode::frto_step::off;
      return;
    }
    e.frto = undo_episode::frto_step::off;
    // With timestamps Eifel judged this ACK (check_spurious): its verdict stands.
    if (e.eifel_checked) return;
    // Step 2a: the ACK does not cover the retransmission, or covers everything sent
    // ("recover"): conventional recovery.
    if (snd_.una.before(e.rtx_high) || !snd_.una.before(e.end)) return;
    // Step 2b: up to two new segments instead of retransmissions, if there is new data the
    // window takes; otherwise conventional recovery (the RFC's recommendation).
    const seq_num wnd_edge = snd_.una + seq_len{snd_.wnd};
    if (!snd_.max.before(wnd_edge) || !snd_.max.before(snd_.data_end())) return;
    e.frto = undo_episode::frto_step::second_ack;
    e.frto_point = snd_.max;
    snd_.nxt = snd_.max;
    snd_.rec.lt_budget = 2;
    return;
  }
  // Step 3b: this ACK acknowledges data that was never retransmitted (the cumulative ACK
  // moves past the retransmission again; §3.1: or SACKs octets below the new segments). The
  // timeout was spurious; "recover" = SND.UNA.
  const bool sacked_old = ev.lowest_new && ev.lowest_new->before(e.frto_point);
  if (advanced || sacked_old) {
    e.frto = undo_episode::frto_step::off;
    e.frto_spurious = true;
    ++snd_.frto_spurious;
    snd_.rec.cc->set_recover(snd_.una);
    return;
  }
  if (!dup) return;  // a window update: still waiting
  // Step 3a: a duplicate ACK (§3.1: SACKing nothing sent before the new segments): the loss
  // was real. Retransmit in slow start from SND.UNA; cwnd is 2 SMSS (one, plus the first
  // ACK's growth), within the RFC's 3 * MSS.
  e.frto = undo_episode::frto_step::off;
  snd_.nxt = snd_.una;
}

// ---- Adaptive DupThresh (RFC 4653's idea, without RACK) --------------------------------------

// A segment proven reordered: its original delivered by this ACK while octets above it were
// SACKed before — the cumulative ACK passing the old SND.UNA, or a block SACKing a hole below
// FACK — and nothing at or above it ever sent twice (`rtx_mark`: probes and every resend
// count, so a hole a retransmission may have filled proves nothing). The ACK must close the
// hole up to that FACK: an ACK whose cumulative ACK lags behind the SACK blocks it carries (a
// receiver that ACKs a burst only after taking all of it) moves into the hole step by step,
// which proves nothing. The reordering extent is the distance to FACK, in segments.
void connection::adapt_dupthresh(seq_num prev_una, const sack_evidence& ev) {
  if (!cfg_->adaptive_dupthresh || rack_on() || !sack_ok_ || !ev.fack) return;
  std::optional<seq_num> low;
  if (prev_una.before(snd_.una) && prev_una.before(*ev.fack)) {
    low = prev_una;
  } else if (ev.lowest_new && ev.lowest_new->before(*ev.fack)) {
    low = ev.lowest_new;
  }
  if (!low || low->before(snd_.rec.rtx_mark)) return;
  if (snd_.rec.sb.first_unsacked(seq_max(*low, snd_.una), *ev.fack)) return;  // the hole is still open
  raise_dupthresh(*low, *ev.fack);
}

// DupThresh rises to the extent of the reordering from `low` to `top`, in segments, within
// 3..dupthresh_max (RACK off, tcp_config::adaptive_dupthresh).
void connection::raise_dupthresh(seq_num low, seq_num top) {
  if (!cfg_->adaptive_dupthresh || rack_on() || !low.before(top)) return;
  const std::uint32_t extent = (distance(low, top).n + snd_.mss - 1) / snd_.mss;
  const std::uint32_t next = std::min(extent, std::max<std::uint32_t>(cfg_->dupthresh_max, 3));
  if (next <= snd_.rec.cc->dup_thresh()) return;
  set_dupthresh(next);
  ++snd_.dupthresh_raises;
}

void connection::set_dupthresh(std::uint32_t n) {
  snd_.rec.cc->set_dup_thresh(n);
  snd_.rec.sb.set_dup_thresh(n);
}

// What counts against cwnd when sending: RFC 6675's pipe during SACK recovery; otherwise the
// octets sent and not yet acknowledged that are not presumed lost. After a timeout SND.NXT
// went back to SND.UNA (go-back-N), so what lies beyond it is presumed lost.
std::uint32_t connection::sending_flight() const {
  if (sack_recovery()) return recovery_pipe();
  const std::uint32_t sent = distance(snd_.una, snd_.nxt).n;
  // After a timeout that kept the SACKs (tcp_config::rto_keeps_sack), until everything sent
  // before it is acknowledged (RFC 6582's recover): what the receiver holds is not in flight
  // (RFC 8985 §6.3; Linux's packets_in_flight leaves sacked_out out the same way).
  const auto recover = snd_.rec.cc->recover();
  if (!sack_ok_ || !recover || snd_.una.after(*recover)) return sent;
  return sent - std::min(sent, snd_.rec.sb.sacked_below(snd_.nxt));
}

// Where a resend from SND.NXT (SND.NXT < SND.MAX: after a timeout, a PMTU reduction, a window
// that reopened) goes on: past octets the receiver SACKed (none are kept across a timeout with
// tcp_config::rto_keeps_sack off).
// One step is enough: the scoreboard's ranges are disjoint and never adjacent.
seq_num connection::resend_past_sacked() const {
  const auto r = snd_.rec.sb.sacked_from(snd_.nxt);
  if (!r || r->left.after(snd_.nxt)) return snd_.nxt;
  return seq_min(r->right, snd_.max);
}

std::uint32_t connection::recovery_pipe() const {
  const std::uint32_t pipe = snd_.rec.sb.pipe();
  if (!rack_on()) return pipe;
  return pipe - std::min(pipe, snd_.rec.rk.lost_in_pipe(snd_.rec.sb));
}

// RFC 5681 §3.1: at most cwnd octets in flight; RFC 3042 limited transmit may add segments.
std::uint32_t connection::cwnd_room() const {
  const std::uint32_t flight = sending_flight();
  const std::uint32_t cwnd = snd_.rec.cc->cwnd();
  std::uint32_t room = cwnd > flight ? cwnd - flight : 0;
  // After a PMTU reduction the flight is resent from SND.UNA, clocked by ACKs (pmtu_room) —
  // while there is a flight: with none, no ACK would ever come to lift the bound.
  if (snd_.rec.pmtu_burst != 0 && snd_.una != snd_.max) room = std::min(room, snd_.rec.pmtu_room());
  if (snd_.rec.lt_budget > 0 && snd_.nxt == snd_.max) room = std::max(room, snd_.rec.lt_budget * std::uint32_t{snd_.mss});
  return room;
}

// A retransmission due now: one owed by fast retransmit or a partial ACK, or in SACK
// recovery the next hole NextSeg() picks while cwnd - pipe >= 1 SMSS (RFC 6675 §5 (C)).
// New data chosen by NextSeg() rule (2) is planned as new data (plan_segment).
std::optional<next_segment> connection::take_retransmission() {
  if (snd_.rec.pmtu_held(snd_.mss)) return std::nullopt;  // after a PMTU drop (has_pending_output agrees)
  if (snd_.rec.rtx) {
    const next_segment s = *snd_.rec.rtx;
    snd_.rec.rtx.reset();
    if (!s.seq.before(snd_.una) && s.seq.before(snd_.max)) return s;  // not acknowledged meanwhile
  }
  if (!sack_recovery()) return std::nullopt;
  const std::uint32_t pipe = recovery_pipe();
  if (snd_.rec.cc->cwnd() < pipe || snd_.rec.cc->cwnd() - pipe < snd_.mss) return std::nullopt;
  // RFC 8985 §6: what RACK marked lost goes first, a lost retransmission included (RFC 6675's
  // NextSeg() never resends below HighRxt).
  if (rack_on()) {
    if (const auto l = snd_.rec.rk.first_lost(); l && !l->seq.before(snd_.una) && l->seq.before(snd_.max)) {
      return next_segment{l->seq, std::min<std::uint32_t>(distance(l->seq, l->end).n, snd_.mss), seg_rule::lost};
    }
  }
  const seq_num wnd_edge = snd_.una + seq_len{snd_.wnd};
  const seq_num end = snd_.data_end();
  const std::uint32_t usable = snd_.max.before(wnd_edge) ? distance(snd_.max, wnd_edge).n : 0;
  const std::uint32_t unsent = snd_.max.before(end) ? distance(snd_.max, end).n : 0;
  const std::uint32_t sendable = std::min(usable, unsent);
  auto s = snd_.rec.sb.next_seg(sendable);
  // DEVIATION(RFC 6675 §4 NextSeg() rule (1)): with RACK on, a hole RACK tracks is lost when
  // RACK says so (first_lost() above), not when DupThresh segments above it are SACKed. RFC
  // 8985 is "an alternative to the DupAck threshold approach" (its abstract; Linux with RACK
  // marks no loss by DupThresh either): RACK.reo_wnd already becomes 0 at DupThresh SACKed
  // segments until reordering is seen (§6.2 step 4), and once it is seen, IsLost resent every
  // segment held back behind three later ones — RACK's window waited for it in vain (issue
  // #12: 270 of the 348 late spurious retransmissions at 100 ms RTT, 25 % held 30 ms).
  if (s && s->rule == seg_rule::lost && rack_on() && snd_.rec.rk.tracks(s->seq)) {
    s = snd_.rec.sb.next_seg(sendable, false);
  }
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
