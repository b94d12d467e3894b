// Segment arrival, RFC 9293 §3.10.7: one function per state group, then the synchronized
// states in the RFC's order: sequence, RST, SYN, ACK, (URG), text, FIN.
#include <algorithm>

#include "synack/tcp/connection.hpp"

namespace synack {

namespace {

// The part of [left, right) that repeats bytes already held out of order: its overlap with the
// first held range it meets (`held` is in sequence order). RFC 2883 §4.1.2 and §4.1.3: a segment
// that brings new bytes and repeats some held ones reports the repeated part as a D-SACK block.
std::optional<sack_block> first_overlap(std::span<const sack_block> held, seq_num left, seq_num right) {
  for (const sack_block& b : held) {
    const seq_num l = seq_max(left, b.left);
    const seq_num r = seq_min(right, b.right);
    if (l.before(r)) return sack_block{l, r};
  }
  return std::nullopt;
}

}  // namespace

rx_verdict connection::dispatch_segment(instant now, const tcp_repr& seg, const ip_addr& remote) {
  switch (state_) {
    case tcp_state::closed:
      return rx_verdict::no_connection;  // §3.10.7.1: the owner answers with reset_for_closed
    case tcp_state::listen:
      return on_segment_listen(now, seg, remote);
    case tcp_state::syn_sent:
      return on_segment_syn_sent(now, seg);
    case tcp_state::time_wait:
      return on_segment_time_wait(now, seg);
    case tcp_state::syn_received:
    case tcp_state::established:
    case tcp_state::fin_wait_1:
    case tcp_state::fin_wait_2:
    case tcp_state::close_wait:
    case tcp_state::closing:
    case tcp_state::last_ack:
      return on_segment_synchronized(now, seg);
  }
  return rx_verdict::no_connection;
}

// RFC 9293 §3.10.7.2 (LISTEN).
rx_verdict connection::on_segment_listen(instant now, const tcp_repr& seg, const ip_addr& remote) {
  if (seg.rst()) return rx_verdict::listen_rst;  // first: an incoming RST is ignored
  if (seg.ack) return rx_verdict::listen_ack;    // second: <SEQ=SEG.ACK><CTL=RST> (owner sends)
  if (!seg.syn()) return rx_verdict::listen_no_syn;  // fourth: drop
  // DEVIATION(Linux tcp_rcv_state_process): SYN+FIN is dropped, not processed as a SYN
  // (tcp_config::drop_syn_fin; when off, the FIN is not queued, as text is not).
  if (seg.fin() && cfg_->drop_syn_fin) return rx_verdict::syn_fin;
  // Third: SYN. RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ, select ISS, send <SEQ=ISS><ACK=RCV.NXT>
  // <CTL=SYN,ACK>, SND.NXT = ISS+1, SND.UNA = ISS, enter SYN-RECEIVED. Data on the SYN is not
  // queued (the SYN-ACK acknowledges only the SYN; the peer sends it again), unless the host
  // found a valid Fast Open cookie on it (RFC 7413 §4.2.2, set_fast_open_server).
  tuple_.remote_addr = remote;
  tuple_.remote_port = seg.src_port;
  rcv_.irs = seg.seq;
  rcv_.nxt = seg.seq + seq_len{1};
  const initial_numbers init = isns_->initial(tuple_, now);
  snd_.iss = init.isn;
  snd_.sml = snd_.iss;  // no short segment sent yet (Minshall's Nagle)
  ts_offset_ = init.ts_offset;
  snd_.una = snd_.iss;
  snd_.nxt = snd_.iss;
  snd_.max = snd_.iss;
  snd_.buf_start = snd_.iss + seq_len{1};
  take_peer_options(now, seg);
  snd_.wnd = seg.window;  // RFC 7323 §2.2: the window of a SYN is never scaled
  snd_.max_wnd = snd_.wnd;
  snd_.wl1 = seg.seq;
  snd_.wl2 = snd_.iss;
  fast_open_take_syn_data(seg);  // RFC 7413 §4.2.2: a valid cookie's data is taken now
  syn_due_ = true;
  set_state(tcp_state::syn_received);
  return rx_verdict::accepted;
}

// RFC 9293 §3.10.7.3 (SYN-SENT).
rx_verdict connection::on_segment_syn_sent(instant now, const tcp_repr& seg) {
  // First: the ACK. SEG.ACK =< ISS or SEG.ACK > SND.NXT is unacceptable: answer
  // <SEQ=SEG.ACK><CTL=RST> (unless it is a RST) and drop. This is what stops an old
  // duplicate SYN-ACK from opening a connection.
  const bool ack_ok = seg.ack && snd_.iss.before(*seg.ack) && seg.ack->before_eq(snd_.max);
  if (seg.ack && !ack_ok) {
    if (!seg.rst()) queue_reset(*seg.ack, std::nullopt);
    return rx_verdict::syn_sent_bad_ack;
  }
  // Second: RST. Only with an acceptable ACK (RFC 5961 §3 keeps this rule): the connection
  // is refused.
  if (seg.rst()) {
    if (!ack_ok) return rx_verdict::syn_sent_rst_no_ack;
    enter_closed(close_reason::refused);
    return rx_verdict::accepted;
  }
  // Fourth: SYN.
  if (!seg.syn()) return rx_verdict::syn_sent_no_syn;  // fifth: drop
  // SYN+FIN: dropped as in LISTEN, or (drop_syn_fin off) a SYN whose FIN is not taken: only
  // text is held below, and the peer sends the FIN again.
  if (seg.fin() && cfg_->drop_syn_fin) return rx_verdict::syn_fin;
  rcv_.irs = seg.seq;
  rcv_.nxt = seg.seq + seq_len{1};
  take_peer_options(now, seg);
  snd_.wnd = seg.window;  // unscaled on a SYN
  snd_.max_wnd = snd_.wnd;
  snd_.wl1 = seg.seq;
  if (ack_ok) {
    // Our SYN is acknowledged: ESTABLISHED, and ACK their SYN <SEQ=SND.NXT><ACK=RCV.NXT>.
    snd_.wl2 = *seg.ack;
    sample_rtt_from_tsecr(now, seg);
    process_ack_of_new_data(now, *seg.ack);
    fast_open_on_synack(seg);  // RFC 7413 §4.2.2
    note_keepalive_activity(now);  // RFC 9293 §3.8.4: idle is measured from the SYN-ACK
    set_state(tcp_state::established);
    push_event(tcp_event{tcp_event_kind::established, close_reason::none});
    queue_ack();
    // "If there are other controls or text in the segment, then continue processing at the
    // sixth step below where the URG bit is checked": text on the SYN-ACK is taken and ACKed.
    check_urg(seg);
    return process_text(now, seg).value_or(rx_verdict::accepted);
  }
  // Simultaneous open: SYN-RECEIVED, send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. "If there are
  // other controls or text in the segment, queue them for processing after the ESTABLISHED
  // state has been reached".
  hold_syn_text(seg);
  snd_.wl2 = snd_.iss;
  syn_due_ = true;
  set_state(tcp_state::syn_received);
  return rx_verdict::accepted;
}

rx_verdict connection::on_segment_time_wait(instant now, const tcp_repr& seg) {
  time_wait_record tw = time_wait_state();
  const time_wait_action act = tw.on_segment(now, seg, *cfg_);
  challenge_ = tw.limiter;  // the only thing on_segment changes
  switch (act) {
    case time_wait_action::ignore:
      break;
    case time_wait_action::ack_suppressed:
      ++challenge_acks_suppressed_;
      break;
    case time_wait_action::ack:
      queue_ack();
      break;
    case time_wait_action::ack_and_restart:
      queue_ack();
      timers_.set(timer_kind::time_wait, now + 2 * cfg_->msl);  // the record's expiry
      break;
    case time_wait_action::close:
      enter_closed(close_reason::reset);
      return rx_verdict::accepted;
    case time_wait_action::reset:
      queue_reset(tw.snd_nxt, tw.rcv_nxt);
      enter_closed(close_reason::reset);
      return rx_verdict::accepted;
    case time_wait_action::reopen:
      // The owner (stack) hands the SYN to the listener after this TCB is gone.
      enter_closed(close_reason::none);
      return rx_verdict::accepted;
  }
  return rx_verdict::time_wait;
}

// RFC 9293 §3.10.7.4: SYN-RECEIVED and the synchronized states.
rx_verdict connection::on_segment_synchronized(instant now, const tcp_repr& seg) {
  // DEVIATION(Linux tcp_validate_incoming): in a simultaneous open, the peer's SYN-ACK
  // (<SEQ=IRS><ACK=ISS+1><CTL=SYN,ACK>, RFC 9293 Figure 8 line 6) fails the sequence check
  // because its SYN was already counted. It carries exactly the ACK we wait for, so it is
  // processed as that ACK (on_simultaneous_synack).
  if (state_ == tcp_state::syn_received && !passive_ && seg.syn() && seg.ack && !seg.rst() && seg.seq == rcv_.irs)
      [[unlikely]] {
    return on_simultaneous_synack(now, seg);
  }
  // DEVIATION(Linux tcp_check_req): a retransmitted SYN in SYN-RECEIVED (SEG.SEQ = IRS) is
  // answered by retransmitting the SYN-ACK, which is what the peer is missing; RFC 9293's
  // sequence check would send a bare ACK it cannot use.
  if (state_ == tcp_state::syn_received && seg.syn() && !seg.ack && !seg.rst() && seg.seq == rcv_.irs) [[unlikely]] {
    syn_due_ = true;
    return rx_verdict::accepted;
  }
  // RFC 7323 §5.3 R1 (PAWS) comes before the sequence check; a disordered duplicate ACK passes
  // it (tcp_config::paws_disordered_ack) and is processed without its stale window.
  bool disordered = false;
  if (auto v = check_timestamps(now, seg)) {
    if (*v != rx_verdict::accepted) return *v;
    disordered = true;
  }
  // First: sequence number.
  if (!segment_acceptable(seg)) [[unlikely]] return on_unacceptable(now, seg);
  update_ts_recent(now, seg);                    // RFC 7323 §5.3 R3
  note_keepalive_activity(now);                  // RFC 9293 §3.8.4 (MUST-26): not idle
  if (auto v = check_rst(now, seg)) return *v;   // second
  if (auto v = check_syn(now, seg)) return *v;   // fourth (third, security, is not used)
  ecn_on_segment(seg);                           // RFC 3168 §6.1.3: CE and CWR
  if (auto v = check_ack(now, seg, disordered)) return *v;  // fifth
  check_urg(seg);                                // sixth
  const auto text = process_text(now, seg);      // seventh
  check_fin(now, seg, !text.has_value());        // eighth
  return text.value_or(rx_verdict::accepted);
}

// §3.10.7.4 first, a segment that fails the sequence check: answered unless a RST, then dropped.
// Out of line and cold, as the other rare paths of the per-segment code (docs/performance.md,
// issue #12).
rx_verdict connection::on_unacceptable(instant now, const tcp_repr& seg) {
  if (seg.rst()) return rx_verdict::out_of_window;  // never answer a RST
  // Data segments always get their duplicate ACK (liveness); dataless ones are rate
  // limited so two stacks cannot ping-pong ACKs (RFC 5961 §7, Linux tcp_oow_rate_limited).
  if (!seg.payload.empty()) {
    queue_ack();
    note_repeated_text(seg);
  } else {
    queue_challenge_ack(now);
  }
  return rx_verdict::out_of_window;
}

// RFC 2883 §4 (Linux tcp_send_dupack alike): the text below RCV.NXT of a data segment dropped
// by the sequence check or PAWS arrived before, so it is reported as a D-SACK block in the ACK
// that answers the segment, and quick ACKs restart. For PAWS the common case is a reordered
// original that arrives after its retransmission, whose newer TSval raised TS.Recent past the
// original's: without the block the sender never learns that retransmission was spurious (no
// undo, no wider reordering window).
void connection::note_repeated_text(const tcp_repr& seg) {
  if (!seg.seq.before(rcv_.nxt) || seg.syn()) return;
  const seq_num end = seg.seq + seq_len{static_cast<std::uint32_t>(seg.payload.size())};
  note_duplicate(seg.seq, seq_min(end, rcv_.nxt));
  restart_quickack();
}

// The simultaneous-open SYN-ACK as the ACK it carries: the SYN bit dropped, SEQ moved past it.
// Out of line, so the common path does not build (zero) a ~300-octet repr per segment.
rx_verdict connection::on_simultaneous_synack(instant now, const tcp_repr& synack) {
  tcp_repr stripped = synack;
  stripped.flags = static_cast<std::uint8_t>(stripped.flags & ~tcp_flag::syn);
  stripped.seq = synack.seq + seq_len{1};
  return on_segment_synchronized(now, stripped);
}

// RFC 7323 §5.3 R1, before the sequence check: a segment whose TSval is older than TS.Recent
// (PAWS) is answered like an unacceptable segment and dropped. RSTs are exempt. A disordered
// duplicate ACK (disordered_ack) comes back as `accepted`: processed on, without an answer.
// DEVIATION(Linux tcp_validate_incoming): RFC 7323 §3.2 says a non-RST segment without TSopt
// SHOULD be dropped once timestamps are on; it is processed (without PAWS), as Linux does —
// the stack's compact TIME-WAIT record answers without options, and the LAST-ACK peer must
// still take that final ACK.
std::optional<rx_verdict> connection::check_timestamps(instant now, const tcp_repr& seg) {
  if (!ts_ok_ || seg.rst() || !seg.options.timestamps) return std::nullopt;
  const auto age = static_cast<std::int32_t>(seg.options.timestamps->tsval - ts_recent_);
  // §5.5: a TS.Recent idle for more than 24 days is no longer a valid reference.
  const bool recent_valid = now - ts_recent_at_ <= std::chrono::hours(24 * 24);
  if (age >= 0 || !recent_valid) [[likely]] return std::nullopt;
  return on_paws_failure(now, seg);
}

// R1's verdict on a segment older than TS.Recent (check_timestamps): out of line and cold.
rx_verdict connection::on_paws_failure(instant now, const tcp_repr& seg) {
  // How far behind, modulo 2^32 (no signed negation: age may be INT32_MIN).
  if (disordered_ack(seg, ts_recent_ - seg.options.timestamps->tsval)) return rx_verdict::accepted;
  if (!seg.payload.empty()) {
    queue_ack();
    note_repeated_text(seg);
  } else {
    queue_challenge_ack(now);  // as for an unacceptable dataless segment (RFC 5961 §7)
  }
  return rx_verdict::paws;
}

// DEVIATION(RFC 7323 §5.3 R1; Linux tcp_disordered_ack), tcp_config::paws_disordered_ack: a
// duplicate ACK that a later ACK overtook (a path that reorders ACKs by more than a round trip
// makes the later one raise TS.Recent first). Nothing in it can move the connection backwards:
// a pure ACK (no data, SYN or FIN) at RCV.NXT, SEG.ACK = SND.UNA, from where the last window
// update came (SND.WL1) with a window no larger than SND.WND (check_ack does not apply it),
// and a TSval at most one RTO behind TS.Recent, counted in 1 ms ticks (RFC 7323 §5.4's
// fastest clock; a slower peer clock only makes the bound wider in time, as Linux's). What it
// carries is its SACK and D-SACK blocks: dropped, a D-SACK (reported once, RFC 2883 §4) is lost
// to the undo, and SACKs of the last segments to loss detection.
bool connection::disordered_ack(const tcp_repr& seg, std::uint32_t lag) const {
  if (!cfg_->paws_disordered_ack || state_ == tcp_state::syn_received) return false;
  if (!seg.ack || !seg.payload.empty() || seg.syn() || seg.fin()) return false;
  if (seg.seq != rcv_.nxt || *seg.ack != snd_.una || seg.seq != snd_.wl1) return false;
  if ((std::uint64_t{seg.window} << snd_.wscale) > snd_.wnd) return false;
  const auto rto_ms = std::chrono::duration_cast<std::chrono::milliseconds>(snd_.rtt.rto()).count();
  return lag <= static_cast<std::uint64_t>(rto_ms);
}

// RFC 7323 §4.3 (2): TS.Recent takes SEG.TSval if it is not older and the segment starts at
// or before Last.ACK.sent — so delayed ACKs echo the earliest unacknowledged segment.
void connection::update_ts_recent(instant now, const tcp_repr& seg) {
  if (!ts_ok_ || !seg.options.timestamps) return;
  const std::uint32_t tsval = seg.options.timestamps->tsval;
  // §5.5: a TS.Recent idle for over 24 days is invalid and simply replaced.
  const bool newer = static_cast<std::int32_t>(tsval - ts_recent_) >= 0 || now - ts_recent_at_ > std::chrono::hours(24 * 24);
  if (newer && seg.seq.before_eq(last_ack_sent_)) {
    ts_recent_ = tsval;
    ts_recent_at_ = now;
  }
}

// RFC 7323 §4.1 / RFC 6298 §3: an ACK of new data echoes the TSval of the segment that
// triggered it, so TSecr measures an unambiguous round trip even after a retransmission —
// Karn's rule is about ambiguous samples, and these are not. The backed-off RTO is still kept
// until this valid sample collapses it (rtt_estimator::sample).
void connection::sample_rtt_from_tsecr(instant now, const tcp_repr& seg) {
  if (!ts_ok_ || !seg.options.timestamps || seg.options.timestamps->tsecr == 0) return;
  const std::uint32_t elapsed = ts_clock(now) - seg.options.timestamps->tsecr;
  if (elapsed > 0x7FFFFFFFu) return;  // from the future: not ours
  snd_.rtt.sample(std::chrono::milliseconds(elapsed));
  snd_.rtt_probe.reset();  // this ACK's sample replaces the probe's
}

// §3.10.7.4 first: the four acceptability cases, RCV.WND as currently offered.
bool connection::segment_acceptable(const tcp_repr& seg) const {
  const std::uint32_t wnd = recv_window();
  const std::uint32_t len = seg.seg_len();
  if (len == 0) return wnd == 0 ? seg.seq == rcv_.nxt : seg.seq.in_window(rcv_.nxt, wnd);
  if (wnd == 0) {
    // "special allowance should be made to accept valid ACKs, URGs, and RSTs" (MUST-66):
    // a segment exactly at RCV.NXT goes on; process_text takes none of its data.
    return seg.seq == rcv_.nxt;
  }
  const seq_num last = seg.seq + seq_len{len - 1};
  return seg.seq.in_window(rcv_.nxt, wnd) || last.in_window(rcv_.nxt, wnd);
}

// §3.10.7.4 second, with RFC 5961 §3: only a RST at exactly RCV.NXT resets; one elsewhere in
// the window gets a challenge ACK. With rfc5961_rst off (opt-in), the RFC's older rule (RFC
// 793 §3.9): any RST that passed the sequence check, i.e. in the window, resets.
std::optional<rx_verdict> connection::check_rst(instant now, const tcp_repr& seg) {
  if (!seg.rst()) return std::nullopt;
  if (seg.seq != rcv_.nxt && cfg_->rfc5961_rst) {
    queue_challenge_ack(now);
    return rx_verdict::rst_in_window;
  }
  switch (state_) {
    case tcp_state::syn_received:
      // Passive: "return this connection to LISTEN" — the listener still listens, this
      // half-open TCB goes away. Active (simultaneous open): "connection refused".
      enter_closed(passive_ ? close_reason::reset : close_reason::refused);
      break;
    case tcp_state::established:
    case tcp_state::fin_wait_1:
    case tcp_state::fin_wait_2:
    case tcp_state::close_wait:
    case tcp_state::closing:
    case tcp_state::last_ack:
      enter_closed(close_reason::reset);
      break;
    case tcp_state::closed:
    case tcp_state::listen:
    case tcp_state::syn_sent:
    case tcp_state::time_wait:
      break;  // not reached: handled by their own functions
  }
  return rx_verdict::accepted;
}

// §3.10.7.4 fourth, with RFC 5961 §4: a SYN in a synchronized state is answered with a
// challenge ACK, never with a reset; a peer that really restarted answers it with a RST at
// exactly RCV.NXT.
std::optional<rx_verdict> connection::check_syn(instant now, const tcp_repr& seg) {
  if (!seg.syn()) return std::nullopt;
  if (state_ == tcp_state::syn_received && passive_) {
    // "If the connection was initiated with a passive OPEN, then return this connection to
    // the LISTEN state and return."
    enter_closed(close_reason::reset);
    return rx_verdict::syn_synchronized;
  }
  if (!cfg_->rfc5961_syn && seg.seq.in_window(rcv_.nxt, recv_window())) {
    // The RFC's older rule, opt-in (RFC 793 §3.9, FreeBSD insecure_syn): "If the SYN is in
    // the window it is an error, send a reset ... enter the CLOSED state". The reset is
    // ABORT's <SEQ=SND.NXT> (§3.10.5) with <ACK=RCV.NXT>, as FreeBSD's tcp_drop sends it.
    queue_reset(snd_.max, rcv_.nxt);
    enter_closed(close_reason::reset);
    return rx_verdict::syn_synchronized;
  }
  queue_challenge_ack(now);
  return rx_verdict::syn_synchronized;
}

// §3.10.7.4 fifth: the ACK field.
// `disordered`: a duplicate ACK let through PAWS (disordered_ack); its window is older than
// SND.WND and is not applied.
std::optional<rx_verdict> connection::check_ack(instant now, const tcp_repr& seg, bool disordered) {
  if (!seg.ack) return rx_verdict::no_ack;
  const seq_num ack = *seg.ack;
  snd_.more_hold = false;  // an arriving ACK sends what MSG_MORE held, by the socket's rules
  if (state_ == tcp_state::syn_received) {
    // SND.UNA < SEG.ACK =< SND.NXT: ESTABLISHED. Otherwise <SEQ=SEG.ACK><CTL=RST>.
    if (!(snd_.una.before(ack) && ack.before_eq(snd_.max))) [[unlikely]] {
      queue_reset(ack, std::nullopt);
      return rx_verdict::ack_unacceptable;
    }
    set_state(tcp_state::established);
    push_event(tcp_event{tcp_event_kind::established, close_reason::none});
    snd_.wnd = static_cast<std::uint32_t>(seg.window) << snd_.wscale;
    snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
    snd_.wl1 = seg.seq;
    snd_.wl2 = ack;
    sample_rtt_from_tsecr(now, seg);
    if (fo_ && fo_->early_cc) {
      fast_open_handshake_ack(now, seg);  // RFC 7413: data sent before this ACK
    } else {
      process_ack_of_new_data(now, ack);
    }
    take_syn_text(now);
    if (snd_.fin_queued) set_state(tcp_state::fin_wait_1);  // a close() deferred in SYN-RECEIVED
  } else {
    // SEG.ACK > SND.NXT acknowledges something not yet sent: ACK, drop. (SND.MAX stands for
    // SND.NXT because retransmission moves SND.NXT back.)
    if (ack.after(snd_.max)) [[unlikely]] {
      queue_challenge_ack(now);
      return rx_verdict::ack_too_new;
    }
    // RFC 5961 §5.2 (MAY-12): SEG.ACK must be >= SND.UNA - MAX.SND.WND.
    if (ack.before(snd_.una - seq_len{snd_.max_wnd})) [[unlikely]] {
      queue_challenge_ack(now);
      return rx_verdict::ack_too_old;
    }
    const seq_num prev_una = snd_.una;
    if (snd_.una.before(ack)) {
      sample_rtt_from_tsecr(now, seg);
      process_ack_of_new_data(now, ack);
    }
    if (snd_.una.before_eq(ack)) {
      const std::uint32_t old_wnd = snd_.wnd;
      if (!disordered) update_send_window(seg);
      on_window_ack(now, old_wnd);
      on_ack_for_recovery(now, seg, prev_una, old_wnd);  // RFC 5681, 6582, 6675
      ecn_on_ack(now, seg);                              // RFC 3168 §6.1.2
    }
  }
  const bool fin_acked = snd_.fin_queued && snd_.una == fin_seq() + seq_len{1};
  switch (state_) {
    case tcp_state::fin_wait_1:
      // A segment that also carries a FIN is left in FIN-WAIT-1: the eighth step then goes
      // straight to TIME-WAIT ("If our FIN has been ACKed (perhaps in this segment)"), or to
      // FIN-WAIT-2 if that FIN cannot be processed yet.
      if (fin_acked && !seg.fin()) enter_fin_wait_2(now);
      break;
    case tcp_state::closing:
      if (fin_acked) enter_time_wait(now);
      break;
    case tcp_state::last_ack:
      if (fin_acked) {
        enter_closed(close_reason::none);
        return rx_verdict::accepted;
      }
      break;
    case tcp_state::syn_received:
    case tcp_state::established:
    case tcp_state::fin_wait_2:
    case tcp_state::close_wait:
    case tcp_state::closed:
    case tcp_state::listen:
    case tcp_state::syn_sent:
    case tcp_state::time_wait:
      break;
  }
  return std::nullopt;
}

void connection::process_ack_of_new_data(instant now, seq_num ack) {
  // Bytes of queued data covered by the ACK (the SYN and FIN take a number but no byte).
  if (snd_.buf_start.before(ack)) {
    const std::size_t acked = std::min<std::size_t>(distance(snd_.buf_start, ack).n, snd_.buf.size());
    snd_.buf.consume(acked);
    snd_.buf_start += seq_len{static_cast<std::uint32_t>(acked)};
  }
  snd_.una = ack;
  snd_.progress_at = now;  // user timeout: the peer took data
  if (snd_.nxt.before(ack)) snd_.nxt = ack;  // after going back, the peer had more already
  if (snd_.up && !snd_.una.before(*snd_.up)) snd_.up.reset();  // every urgent octet acknowledged
  if (snd_.rtt_probe && snd_.rtt_probe->first.before_eq(ack)) {
    snd_.rtt.sample(now - snd_.rtt_probe->second);
    snd_.rtt_probe.reset();
  }
  // No reset of the backoff here: Karn's rule keeps it until the next valid sample.
  if (syn_timed_out_) {
    snd_.rtt.after_syn_timeout();  // RFC 6298 §5.7 (the handshake ACK: the probe was cleared)
    syn_timed_out_ = false;
  }
  snd_.rto_streak = 0;  // R1 counts retransmissions of one segment; this one got through
  if (snd_.una == snd_.max) {
    timers_.clear(timer_kind::retransmit);  // RFC 6298 §5.2
    timers_.clear(timer_kind::loss_probe);
    snd_.first_tx.reset();
  } else {
    arm_retransmit(now);  // RFC 6298 §5.3
    snd_.first_tx = now;
  }
}

// §3.10.7.4 fifth: "If SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)".
// DEVIATION(Linux tcp_may_update_window): also when SEG.ACK > SND.WL2, i.e. the segment
// acknowledges data the last window update did not. Otherwise one acceptable segment with a
// far-ahead SEG.SEQ (out of order, or a blind in-window injection announcing a zero window)
// freezes SND.WND until the peer's own sequence numbers pass it: a peer that sends no data
// then never reopens our window (stack_fuzz, fuzz/regressions/stack_fuzz/wl1_far_ahead).
void connection::update_send_window(const tcp_repr& seg) {
  if (snd_.wl1.before(seg.seq) || (snd_.wl1 == seg.seq && snd_.wl2.before_eq(*seg.ack)) ||
      snd_.wl2.before(*seg.ack)) {
    snd_.wnd = static_cast<std::uint32_t>(seg.window) << snd_.wscale;
    snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
    snd_.wl1 = seg.seq;
    snd_.wl2 = *seg.ack;
  }
}

// RFC 9293 §3.8.6.1 (MUST-37): however long the peer answers our probes with a zero window,
// the connection stays open. So an ACK announcing a zero window restarts the R2 clock
// (MUST-20): R2 measures how long the peer has been silent, and a probe octet it refused is
// not lost. A silent peer still times out R2 after the last ACK it sent.
void connection::on_window_ack(instant now, std::uint32_t old_wnd) {
  if (snd_.wnd == 0) {
    if (snd_.first_tx) snd_.first_tx = now;
    snd_.rto_streak = 0;  // nor R1: the probe was answered
    return;
  }
  if (old_wnd != 0) return;
  // The window opened: stop probing. What went into the closed window was dropped (§3.10.7.4
  // seventh trims text beyond it), so resend from SND.UNA now rather than at the next RTO.
  timers_.clear(timer_kind::persist);
  snd_.probe_due = false;
  if (snd_.nxt != snd_.una) {
    snd_.nxt = snd_.una;
    snd_.rtt_probe.reset();  // Karn: an ACK may now answer either copy
  }
}

// §3.10.7.4 sixth: the URG bit. In ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2, RCV.UP <-
// max(RCV.UP, SEG.UP) — here SEG.SEQ + SEG.UP, the first non-urgent octet (MUST-62, RFC
// 6093) — and the user is told when the pointer appears or advances (MUST-32), once per
// advance. After the peer's FIN (CLOSE-WAIT and later) it "should not occur" and is ignored.
// The pointer may run ahead of the text (MUST-31: urgent data of any length).
void connection::check_urg(const tcp_repr& seg) {
  if (!seg.urg()) return;
  switch (state_) {
    case tcp_state::established:
    case tcp_state::fin_wait_1:
    case tcp_state::fin_wait_2: {
      const seq_num up = seg.seq + seq_len{seg.urgent_ptr};
      if (!rcv_.up || rcv_.up->before(up)) {
        rcv_.up = up;
        push_event(tcp_event{tcp_event_kind::urgent, close_reason::none});
      }
      break;
    }
    case tcp_state::syn_received:
    case tcp_state::close_wait:
    case tcp_state::closing:
    case tcp_state::last_ack:
    case tcp_state::time_wait:
    case tcp_state::closed:
    case tcp_state::listen:
    case tcp_state::syn_sent:
      break;
  }
}

// §3.10.7.4 seventh: segment text. Returns a drop verdict if any of the text was not taken
// (which also keeps a FIN behind it from being processed). Text beyond RCV.NXT is held by the
// reassembler in the receive buffer's free space; text beyond the window is trimmed.
std::optional<rx_verdict> connection::process_text(instant now, const tcp_repr& seg) {
  if (seg.payload.empty()) return std::nullopt;
  switch (state_) {
    case tcp_state::established:
    case tcp_state::fin_wait_1:
    case tcp_state::fin_wait_2:
      break;
    case tcp_state::close_wait:
    case tcp_state::closing:
    case tcp_state::last_ack:
    case tcp_state::time_wait:
    case tcp_state::closed:
    case tcp_state::listen:
    case tcp_state::syn_sent:
    case tcp_state::syn_received:
      return std::nullopt;  // "This should not occur since a FIN has been received": ignore
  }
  // A SYN occupies the first sequence number of its segment; the text follows it.
  const seq_num text_start = seg.seq + seq_len{seg.syn() ? 1u : 0u};
  const seq_num text_end = text_start + seq_len{static_cast<std::uint32_t>(seg.payload.size())};
  // RFC 1122 §4.2.2.13 (SHLD-3): new text after CLOSE can never be read, so a RST tells the
  // peer it was lost (Linux's TCPAbortOnData, FreeBSD's SS_NOFDREF check). It answers the
  // segment, <SEQ=SEG.ACK><CTL=RST> (check_ack passed, so SEG.ACK is there and acceptable),
  // and the connection is gone.
  if (user_closed_ && seg.ack && text_end.after(rcv_.nxt)) {
    queue_reset(*seg.ack, std::nullopt);
    enter_closed(close_reason::aborted);
    return rx_verdict::data_after_close;
  }
  // "Segments with higher beginning sequence numbers than RCV.NXT may be held"; what lies
  // beyond the right edge of the window is trimmed (the sender retransmits it).
  const seq_num window_end = rcv_.nxt + seq_len{recv_window()};
  const seq_num take_end = seq_min(text_end, window_end);
  const std::optional<rx_verdict> v =
      take_end == text_end ? std::nullopt : std::optional{rx_verdict::accepted};  // not all taken
  if (text_start.after(rcv_.nxt)) return hold_out_of_order(seg, text_start, take_end, v);
  if (text_end.before_eq(rcv_.nxt)) {
    queue_ack();  // all old: a duplicate, ACKed at once (RFC 5681 §4.2)
    restart_quickack();
    note_duplicate(text_start, text_end);
    return std::nullopt;
  }
  if (text_start.before(rcv_.nxt)) note_duplicate(text_start, rcv_.nxt);  // RFC 2883 §4.1.1
  return take_in_order(now, seg, text_start, take_end, v);
}

// In-order text [RCV.NXT, take_end): into the receive buffer; if it reaches held out-of-order
// ranges, those become readable too and RCV.NXT jumps over them.
std::optional<rx_verdict> connection::take_in_order(instant now, const tcp_repr& seg, seq_num text_start,
                                                    seq_num take_end, std::optional<rx_verdict> v) {
  const std::size_t skip = distance(text_start, rcv_.nxt).n;
  const std::size_t len = distance(rcv_.nxt, take_end).n;
  if (!user_closed_) rcv_.buf.write(seg.payload.subspan(skip, len));  // an orphan discards what it gets
  const seq_num filled = rcv_.nxt + seq_len{static_cast<std::uint32_t>(len)};
  const bool gap = !rcv_.reasm.empty();
  // Text that fills a gap and runs into held bytes repeats them: unless a part below RCV.NXT
  // was already reported, the first repeated held part is the D-SACK block.
  if (gap && skip == 0) {
    if (const auto dup = first_overlap(rcv_.reasm.blocks(), rcv_.nxt, filled)) note_duplicate(dup->left, dup->right);
  }
  rcv_.nxt = rcv_.reasm.advance(filled, user_closed_ ? nullptr : &rcv_.buf);
  // RFC 5681 §4.2: text that fills (part of) a gap is ACKed at once, as is text trimmed at the
  // window's edge (the sender learns the window) and text that repeats some already received
  // (a retransmission: like a whole duplicate, ACKed at once with its D-SACK, RFC 2883 §4.1.1);
  // other in-order text may wait.
  if (gap || v || skip != 0) {
    queue_ack();
  } else {
    queue_delayed_ack(now, len);
  }
  return v;
}

// Out-of-order text [text_start, take_end): held by the reassembler in storage of its own,
// charged by what it holds (issue #13 case 4). ACKed at once (RFC 5681 §4.2: a duplicate ACK
// tells the sender what is missing).
//
// Its charge (octets plus a per-block overhead, reassembler::charge) and the unread in-order
// data stay within the receive buffer's charge limit (reassembler::charge_limit), as Linux
// charges its out-of-order queue's truesize to the socket's rcvbuf: beyond it, held ranges above this segment are pruned (highest first,
// the ones least needed to unblock the stream), and if that is not enough the segment is
// dropped (rx_verdict::ooo_memory). Under host memory pressure nothing new is held.
std::optional<rx_verdict> connection::hold_out_of_order(const tcp_repr& seg, seq_num text_start, seq_num take_end,
                                                        std::optional<rx_verdict> v) {
  queue_ack();
  if (!text_start.before(take_end)) return rx_verdict::accepted;  // nothing inside the window
  const std::size_t len = distance(text_start, take_end).n;
  const bytes text = seg.payload.first(len);  // text_start is the payload's first octet
  if (memory_state() != memory_level::normal) {
    mem_.note_pruned(rcv_.reasm.prune_all());
    return rx_verdict::ooo_memory;
  }
  const std::size_t limit = reassembler::charge_limit(rcv_.buf.capacity());
  const std::size_t want = rcv_.buf.size() + rcv_.reasm.charge() + len + reassembler::block_overhead;
  if (want > limit) {
    const std::size_t target = limit > rcv_.buf.size() + len + reassembler::block_overhead
                                   ? limit - rcv_.buf.size() - len - reassembler::block_overhead
                                   : 0;
    mem_.note_pruned(rcv_.reasm.prune_after(take_end, target));
    if (rcv_.buf.size() + rcv_.reasm.charge() + len + reassembler::block_overhead > limit) return rx_verdict::ooo_memory;
  }
  const std::optional<sack_block> repeated = first_overlap(rcv_.reasm.blocks(), text_start, take_end);
  switch (rcv_.reasm.add(text_start, text)) {
    case reassembler::add_result::full:
      return rx_verdict::reassembly_full;
    case reassembler::add_result::duplicate:
      note_duplicate(text_start, take_end);  // RFC 2883 §4.1.2: a duplicate held range
      break;
    case reassembler::add_result::added:
      if (repeated) note_duplicate(repeated->left, repeated->right);  // new bytes, and some held ones again
      break;
  }
  return v;
}

// §3.10.7.4 eighth: the FIN bit, processed only once everything before it was taken. An
// out-of-order FIN (all of its segment's text held) is remembered and processed when RCV.NXT
// reaches it — on this segment or a later one that fills the gap.
void connection::check_fin(instant now, const tcp_repr& seg, bool all_text_taken) {
  const bool our_fin_acked = snd_.fin_queued && snd_.una == fin_seq() + seq_len{1};
  const seq_num fin_at = seg.seq + seq_len{static_cast<std::uint32_t>(seg.payload.size()) + (seg.syn() ? 1u : 0u)};
  if (seg.fin() && fin_at.after(rcv_.nxt)) [[unlikely]] {
    if (all_text_taken && !rcv_.fin_received) rcv_.reasm.hold_fin(fin_at);
    queue_ack();  // RFC 5681 §4.2: out of order, a duplicate ACK asks for the gap
  }
  const bool fin_now = (seg.fin() && all_text_taken && fin_at == rcv_.nxt) || rcv_.reasm.held_fin() == rcv_.nxt;
  if (!fin_now || rcv_.fin_received) {
    if (state_ == tcp_state::fin_wait_1 && our_fin_acked) enter_fin_wait_2(now);  // see check_ack
    return;
  }
  rcv_.reasm.clear();
  rcv_.nxt += seq_len{1};  // a FIN takes one sequence number
  rcv_.fin_received = true;
  queue_ack();
  push_event(tcp_event{tcp_event_kind::peer_closed, close_reason::none});
  switch (state_) {
    case tcp_state::syn_received:
    case tcp_state::established:
      set_state(tcp_state::close_wait);
      break;
    case tcp_state::fin_wait_1:
      // Our FIN acknowledged (possibly by this very segment): TIME-WAIT; otherwise a
      // simultaneous close: CLOSING.
      if (our_fin_acked) {
        enter_time_wait(now);
      } else {
        set_state(tcp_state::closing);
      }
      break;
    case tcp_state::fin_wait_2:
      enter_time_wait(now);
      break;
    case tcp_state::close_wait:
    case tcp_state::closing:
    case tcp_state::last_ack:
    case tcp_state::time_wait:
    case tcp_state::closed:
    case tcp_state::listen:
    case tcp_state::syn_sent:
      break;
  }
}

// RFC 9293 §3.10.7.3 fourth: the text of a SYN received in SYN-SENT waits in rcv_.buf (at RCV.NXT,
// not yet content) for ESTABLISHED; what lies beyond the window we offer is trimmed.
void connection::hold_syn_text(const tcp_repr& syn) {
  if (syn.payload.empty() || user_closed_) return;
  const std::size_t len = std::min<std::size_t>(syn.payload.size(), recv_window());
  if (!rcv_.buf.write_at(rcv_.buf.size(), syn.payload.first(len))) return;
  rcv_.syn_text = static_cast<std::uint32_t>(len);
}

// SYN-RECEIVED -> ESTABLISHED: the held SYN text becomes readable and RCV.NXT moves past it.
// Its ACK may wait like any in-order text (RFC 5681 §4.2).
void connection::take_syn_text(instant now) {
  if (rcv_.syn_text == 0) return;
  if (!user_closed_) rcv_.buf.commit(rcv_.syn_text);  // an orphan discards what it gets
  rcv_.nxt += seq_len{rcv_.syn_text};
  const std::size_t len = rcv_.syn_text;
  rcv_.syn_text = 0;
  queue_delayed_ack(now, len);
}

void connection::take_peer_options(instant now, const tcp_repr& syn) {
  agreed_options offer = syn_offer(syn);
  // RFC 9293 §3.7.1 (MUST-15): without an MSS option the peer takes 536 over IPv4, 1220 over IPv6.
  if (!syn.options.mss && tuple_.remote_addr.is_v6()) offer.mss = 1220;
  // ECN: a SYN-ACK answers what our SYN asked; a SYN (in LISTEN, or crossing ours in a
  // simultaneous open, as FreeBSD takes it) asks us.
  apply_options(negotiate(*cfg_, offer, syn.ack.has_value()));
  // RFC 7323 §3.2: TS.Recent starts at the SYN's TSval.
  if (ts_ok_) {
    ts_recent_ = syn.options.timestamps->tsval;
    ts_recent_at_ = now;
  }
}

// What negotiate() agreed, taken into the TCB (the SYN's, or a cookie's).
void connection::apply_options(const agreed_options& a) {
  // RFC 9293 §3.7.1 (MUST-15, MUST-16): never more than we can send (full_send_mss, which
  // also floors it so a hostile tiny MSS cannot make us send 1-byte segments).
  peer_mss_ = a.mss;
  snd_.mss = full_send_mss();
  sack_ok_ = a.sack_permitted;
  ts_ok_ = a.timestamps;
  ecn_.ok = a.ecn;  // RFC 3168 §6.1.1
  // RFC 7323 §2.2: scaling is on only if both SYNs carry the option; shifts above 14 are
  // used as 14 (§2.3). Without it we do not scale the window we announce either.
  if (a.wscale) {
    peer_wscale_ok_ = true;
    snd_.wscale = std::min<std::uint8_t>(*a.wscale, 14);
  } else {
    peer_wscale_ok_ = false;
    snd_.wscale = 0;
    rcv_.wscale = 0;
  }
}

}  // namespace synack
