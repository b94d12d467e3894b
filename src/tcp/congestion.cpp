#include "synack/tcp/congestion.hpp"

#include <algorithm>
#include <cmath>

namespace synack {

namespace {

// RFC 5681 §3.1 (equation 1): IW by SMSS. RFC 6928 §2: min(10*MSS, max(2*MSS, 14600)).
std::uint32_t initial_window_for(std::uint32_t mss, initial_window_rule rule) {
  switch (rule) {
    case initial_window_rule::rfc5681:
      if (mss > 2190) return 2 * mss;
      if (mss > 1095) return 3 * mss;
      return 4 * mss;
    case initial_window_rule::rfc6928:
      return std::min(10 * mss, std::max(2 * mss, 14600u));
  }
  return 2 * mss;
}

}  // namespace

congestion_control::congestion_control(std::uint32_t mss, congestion_config cfg)
    : mss_(std::max<std::uint32_t>(mss, 1)),
      cwnd_(initial_window_for(mss_, cfg.iw)),
      cfg_(cfg),
      iw_(cwnd_) {
  cfg_.abc_limit_segments = std::max<std::uint32_t>(cfg_.abc_limit_segments, 1);
  cfg_.dup_thresh = std::max<std::uint32_t>(cfg_.dup_thresh, 1);
}

void congestion_control::set_cwnd(std::uint64_t bytes) {
  cwnd_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, max_window));
}

// A smaller SMSS (Fragmentation Needed) keeps the window's packet count, not its bytes, so a
// lowered path MTU — forged or not — never lets more packets into the network than before
// (issue #13: a 28-octet MSS with cwnd's bytes kept meant thousands of segments). A larger one
// (the PMTU raise) keeps the bytes, within the new floors.
void congestion_control::set_mss(std::uint32_t mss) {
  mss = std::max<std::uint32_t>(mss, 1);
  if (mss == mss_) return;
  const std::uint32_t old = mss_;
  mss_ = mss;
  iw_ = initial_window_for(mss, cfg_.iw);
  auto same_packets = [&](std::uint32_t bytes) {
    const std::uint64_t packets = (std::uint64_t{bytes} + old - 1) / old;
    return std::min<std::uint64_t>(bytes, packets * mss);
  };
  if (mss < old) {
    set_cwnd(std::max<std::uint64_t>(same_packets(cwnd_), mss));
    if (ssthresh_ < max_window) ssthresh_ = static_cast<std::uint32_t>(std::max<std::uint64_t>(same_packets(ssthresh_), 2ULL * mss));
  } else {
    set_cwnd(std::max(cwnd_, mss));
    if (ssthresh_ < max_window) ssthresh_ = std::max(ssthresh_, std::min(2 * mss, max_window));
  }
  mss_changed(old);
}

ack_outcome congestion_control::on_ack(instant now, seq_num ack, std::uint32_t bytes_acked,
                                       std::optional<duration> srtt, std::uint32_t flight) {
  dup_acks_ = 0;
  rto_backoff_ = false;  // new data was ACKed: the next RTO is a new loss event
  if (in_recovery_) return in_recovery_ack(ack, bytes_acked, flight);
  if (model_window()) return ack_outcome::advanced;  // BBR: on_rate_sample sets the window
  if (in_slow_start()) {
    slow_start(bytes_acked);
  } else {
    grow_ca(now, bytes_acked, srtt);
  }
  return ack_outcome::advanced;
}

// RFC 5681 §3.1 slow start with RFC 3465 byte counting: cwnd += min(N, L). The increase
// stops at ssthresh; beyond it congestion avoidance takes over (RFC 5681: either may be
// used when cwnd == ssthresh; we choose congestion avoidance).
void congestion_control::slow_start(std::uint32_t bytes_acked) {
  const std::uint32_t limit = (after_rto_ ? 1 : cfg_.abc_limit_segments) * mss_;  // RFC 3465 §2.2, §2.3
  std::uint32_t add = std::min(bytes_acked, limit);
  if (hystart_active()) add = hs_.growth(add);  // CSS: cwnd += min(N, L*SMSS) / CSS_GROWTH_DIVISOR
  const std::uint64_t next = std::uint64_t{cwnd_} + add;
  set_cwnd(std::min<std::uint64_t>(next, ssthresh_));
  if (!in_slow_start()) after_rto_ = false;
}

// DEVIATION(RFC 5681 §3.1 equation (4), RFC 9438 §4.6): the FlightSize a loss reduces from is
// loss_flight(), the largest flight of this round trip or the last, not the flight once the ACK
// that signalled the loss was applied. A receiver that ACKs every segment at once over a path
// of a few microseconds (the kernel over TUN) answers a whole burst before the sender reads any
// ACK: applied one by one, those ACKs drain the flight to a segment or two by the time the SACK
// showing the loss is read, and every loss then set ssthresh to the 2*SMSS floor (over TUN with
// 5 % loss the window never left 2-3 segments, docs/performance.md). Linux bases ssthresh on
// cwnd for the same reason; RFC 9438 §4.6 allows cwnd when its growth is bounded by the flight,
// which the largest flight actually sent is.
void congestion_control::on_round_sample(seq_num ack, seq_num snd_nxt, std::optional<duration> rtt) {
  if (!round_end_ || !ack.before(*round_end_)) {  // a round trip ended: loss_flight() moves on
    last_round_flight_ = round_flight_;
    round_flight_ = ack.before(snd_nxt) ? distance(ack, snd_nxt).n : 0;  // what the new round starts with
    round_end_ = snd_nxt;
  }
  if (!hystart_active() || in_recovery_) return;
  if (hs_.on_ack(ack, snd_nxt, rtt) == hystart::phase::done) {
    // RFC 9406 §4.2: after CSS_ROUNDS rounds of CSS, "enter congestion avoidance by setting
    // the ssthresh to the current cwnd".
    ssthresh_ = std::max(cwnd_, 2 * mss_);
    window_reset();
  }
}

// RFC 6582 §3.2 step 3: full and partial acknowledgments.
ack_outcome congestion_control::in_recovery_ack(seq_num ack, std::uint32_t bytes_acked, std::uint32_t flight) {
  if (!recover_ || ack.after(*recover_)) {
    // Full acknowledgment: deflate and leave fast recovery.
    in_recovery_ = false;
    partial_seen_ = false;
    if (model_window()) {
      // BBR restores its own window (on_rate_sample)
    } else if (style_ == recovery_style::newreno && cfg_.deflate_to_flight) {
      set_cwnd(std::min<std::uint64_t>(ssthresh_, std::uint64_t{std::max(flight, mss_)} + mss_));  // option (1)
    } else {
      set_cwnd(ssthresh_);  // option (2); RFC 6675 keeps cwnd = ssthresh throughout
    }
    window_reset();
    return ack_outcome::recovery_exit;
  }
  if (style_ == recovery_style::newreno && !cfg_.prr && !model_window()) {
    // Partial window deflation: remove what was ACKed, add back one SMSS if at least one
    // SMSS was ACKed (the retransmitted segment has left the network).
    std::uint64_t w = cwnd_ > bytes_acked ? cwnd_ - bytes_acked : 0;
    if (bytes_acked >= mss_) w += mss_;
    set_cwnd(std::max<std::uint64_t>(w, mss_));
  }
  const bool first = !partial_seen_;
  partial_seen_ = true;
  return first ? ack_outcome::partial_ack_first : ack_outcome::partial_ack;
}

dup_ack_action congestion_control::on_dup_ack(instant now, seq_num ack, seq_num snd_max, std::uint32_t flight,
                                              recovery_style style) {
  if (dup_acks_ < UINT32_MAX) ++dup_acks_;
  if (in_recovery_) {
    // RFC 5681 §3.2 step 4: each further duplicate ACK inflates cwnd by SMSS (NewReno).
    // RFC 6675 does not inflate: the scoreboard's pipe shrinks instead.
    // With PRR the caller sets the window on every ACK instead.
    if (style_ == recovery_style::newreno && !cfg_.prr && !model_window()) set_cwnd(std::uint64_t{cwnd_} + mss_);
    return dup_ack_action::in_recovery;
  }
  if (dup_acks_ < cfg_.dup_thresh) return dup_ack_action::limited_transmit;  // RFC 3042
  if (dup_acks_ == cfg_.dup_thresh && enter_recovery(now, ack, snd_max, flight, style)) {
    return dup_ack_action::fast_retransmit;
  }
  return dup_ack_action::none;
}

// RFC 5681 §3.2 steps 2-3 with RFC 6582 §3.2 step 2's guard; RFC 6675 §5 steps 4.1-4.2.
bool congestion_control::enter_recovery(instant now, seq_num ack, seq_num snd_max, std::uint32_t flight,
                                        recovery_style style) {
  if (in_recovery_) return false;
  // RFC 6582: fast retransmit only if the ACK covers more than `recover`; otherwise the
  // duplicate ACKs are from a window whose loss was already handled.
  if (recover_ && !ack.after(*recover_)) return false;
  recover_ = snd_max - seq_len{1};
  undo_.reset();  // a new episode: ACK > recover, so the last one's retransmissions are all answered
  save_undo_point();
  ssthresh_ = std::max(loss_ssthresh(now, loss_flight(flight), false), 2 * mss_);  // equation (4) / RFC 9438 §4.6
  style_ = style;
  if (model_window()) {
    // BBR: packet conservation from the next ACK on (bbr::on_rate_sample)
  } else if (style == recovery_style::newreno && !cfg_.prr) {
    set_cwnd(std::uint64_t{ssthresh_} + std::uint64_t{cfg_.dup_thresh} * mss_);  // step 3: ssthresh + 3*SMSS
  } else {
    set_cwnd(ssthresh_);  // RFC 6675 §5 step 4.2: cwnd = ssthresh
  }
  in_recovery_ = true;
  partial_seen_ = false;
  after_rto_ = false;
  window_reset();
  return true;
}

void congestion_control::on_probe_repaired_loss(instant now, std::uint32_t flight) {
  if (model_window()) return;  // BBR does not reduce on a loss (nor on ECN: BBR v1 ignores it)
  ssthresh_ = std::max(loss_ssthresh(now, loss_flight(flight), false), 2 * mss_);
  set_cwnd(ssthresh_);
  after_rto_ = false;
  window_reset();
}

// RFC 5681 §3.1: on a timeout cwnd = LW = 1 SMSS and ssthresh = max(FlightSize/2, 2*SMSS),
// except that ssthresh is held when the segment already timed out once. RFC 6582 §3.2
// step 4: recover = highest sequence number sent, and fast recovery ends.
void congestion_control::on_rto(instant now, seq_num snd_max, std::uint32_t flight) {
  if (!undo_continues_on_rto()) undo_.reset();  // a timeout of its own: a new episode
  save_undo_point();
  recover_ = snd_max - seq_len{1};
  in_recovery_ = false;
  partial_seen_ = false;
  dup_acks_ = 0;
  if (!rto_backoff_) ssthresh_ = std::max(loss_ssthresh(now, loss_flight(flight), true), 2 * mss_);
  rto_backoff_ = true;
  after_rto_ = true;
  set_cwnd(mss_);
  window_reset();
}

// The first reduction of an episode keeps what it reduces; a timeout in the middle of fast
// recovery, or a repeated one, belongs to the same episode.
void congestion_control::save_undo_point() {
  if (undo_) return;
  undo_ = undo_point{cwnd_, ssthresh_};
  save_growth_state();
}

// RFC 3708 §2 / RFC 4015 §2: the retransmissions were spurious, so was the congestion signal.
bool congestion_control::undo() {
  if (!undo_) return false;
  set_cwnd(std::max(cwnd_, undo_->cwnd));
  ssthresh_ = std::max(ssthresh_, undo_->ssthresh);
  undo_.reset();
  in_recovery_ = false;
  partial_seen_ = false;
  rto_backoff_ = false;
  after_rto_ = false;
  restore_growth_state();
  window_reset();
  return true;
}

// RFC 5681 §4.1: "if the TCP has not sent data in an interval exceeding the retransmission
// timeout", cwnd = min(cwnd, RW) with RW = min(IW, cwnd) before transmitting again.
bool congestion_control::on_idle_restart(instant now, duration rto) {
  if (model_window() || !last_send_ || now - *last_send_ <= rto) return false;
  set_cwnd(std::min(iw_, cwnd_));
  window_reset();
  return true;
}

// RFC 5681 §3.1: after a lost SYN or SYN-ACK the initial window MUST be one segment.
void congestion_control::on_syn_retransmitted() {
  set_cwnd(mss_);
  window_reset();
}

std::uint32_t congestion_control::limited_transmit_segments(std::uint32_t flight) const {
  if (in_recovery_ || dup_acks_ == 0 || dup_acks_ > lt_limit_ || dup_acks_ >= cfg_.dup_thresh) return 0;
  const std::uint64_t limit = std::uint64_t{cwnd_} + std::uint64_t{dup_acks_} * mss_;
  if (flight >= limit) return 0;
  return static_cast<std::uint32_t>((limit - flight) / mss_);
}

// --- reno ---------------------------------------------------------------------------------

// RFC 5681 §3.1 congestion avoidance by byte counting (RFC 3465 §2.1): one SMSS per cwnd of
// acknowledged bytes, at most once per ACK.
void reno::grow_ca(instant /*now*/, std::uint32_t bytes_acked, std::optional<duration> /*srtt*/) {
  ca_acked_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{ca_acked_} + bytes_acked, max_window));
  if (ca_acked_ >= cwnd_) {
    ca_acked_ -= cwnd_;
    set_cwnd(std::uint64_t{cwnd_} + mss_);
    ca_acked_ = std::min(ca_acked_, cwnd_ - 1);
  }
}

// RFC 5681 equation (4), before the 2*SMSS floor: FlightSize / 2.
std::uint32_t reno::loss_ssthresh(instant /*now*/, std::uint32_t flight, bool /*timeout*/) {
  ca_acked_ = 0;
  return flight / 2;
}

// --- cubic --------------------------------------------------------------------------------

// RFC 9438 §4.6 and §4.7 (also used on a timeout, §4.8).
std::uint32_t cubic::loss_ssthresh(instant /*now*/, std::uint32_t flight, bool timeout) {
  const double cw = static_cast<double>(cwnd_) / mss_;
  // §4.7 fast convergence: a W_max lower than the last one means another flow joined;
  // release bandwidth by remembering a lower plateau.
  if (fast_convergence_ && have_w_max_ && cw < w_max_) {
    w_max_ = cw * (1.0 + beta) / 2.0;
  } else {
    w_max_ = cw;
  }
  cwnd_prior_ = cw;
  have_w_max_ = true;
  after_timeout_ = timeout;
  t_epoch_.reset();
  // §4.6: ssthresh = flight_size * beta_cubic (the caller floors it at 2 SMSS), with the
  // flight no larger than cwnd (§4.6 names cwnd as the alternative, and Linux uses it). The
  // flight (SND.NXT - SND.UNA, and loss_flight() the largest of a round) counts SACKed octets
  // and holes too: in a run of recoveries it stayed far above what cwnd let into the network,
  // and the reduction from it left cwnd where it was (the recovery matrix's 10 Mbit/s
  // bottleneck at 1 % loss dropped a quarter of all packets at its queue that way,
  // docs/performance.md "The recovery matrix").
  return static_cast<std::uint32_t>(static_cast<double>(std::min(flight, cwnd_)) * beta);
}

// §4.2: at the start of a congestion avoidance stage remember t_epoch and cwnd_epoch and
// compute K. After a timeout (§4.8), or with no congestion event yet (§4.10), K = 0 and
// W_max = cwnd_epoch. §4.3: W_est starts at cwnd_epoch.
// W_max, W_est and cwnd_prior are in segments of the old SMSS: the same bytes, new segments.
// The epoch starts over at the next ACK in congestion avoidance (its cwnd_exact_ is re-read
// from the byte window then).
// W_max and the estimates are in segments: a smaller SMSS keeps them (as cwnd keeps its
// packets); a larger one keeps their bytes.
void cubic::mss_changed(std::uint32_t old_mss) {
  const double f = old_mss < mss_ ? static_cast<double>(old_mss) / mss_ : 1.0;
  w_max_ *= f;
  w_est_ *= f;
  cwnd_prior_ *= f;
  t_epoch_.reset();
}

void cubic::restore_growth_state() {
  have_w_max_ = saved_.have_w_max;
  w_max_ = saved_.w_max;
  cwnd_prior_ = saved_.cwnd_prior;
  after_timeout_ = false;
}

void cubic::start_epoch(instant now) {
  t_epoch_ = now;
  cwnd_exact_ = static_cast<double>(cwnd_) / mss_;
  if (!have_w_max_ || after_timeout_) {
    w_max_ = cwnd_exact_;
    k_ = 0;
    if (!have_w_max_) cwnd_prior_ = cwnd_exact_;
    have_w_max_ = true;
    after_timeout_ = false;
  } else {
    k_ = std::cbrt((w_max_ - cwnd_exact_) / c);  // Figure 2
  }
  w_est_ = cwnd_exact_;
}

// §4.3-§4.5 per ACK. The RFC states the increments per ACK of one segment; an ACK covering
// several segments applies them segments_acked times (Figure 4 does the same for W_est).
void cubic::grow_ca(instant now, std::uint32_t bytes_acked, std::optional<duration> srtt) {
  if (srtt) last_srtt_ = *srtt;
  if (!t_epoch_) start_epoch(now);
  const double segs = static_cast<double>(bytes_acked) / mss_;
  const double t = static_cast<double>((now - *t_epoch_).count()) / 1e6;
  double cw = cwnd_exact_;
  if (reno_friendly_) {
    // §4.3: alpha_cubic until W_est reaches cwnd_prior, then Reno's 1.
    const double a = w_est_ >= cwnd_prior_ ? 1.0 : alpha;
    w_est_ += a * segs / cw;
  }
  if (reno_friendly_ && w_cubic(t) < w_est_) {
    cw = std::max(cw, w_est_);  // Reno-friendly region: cwnd = W_est
  } else {
    // §4.4 concave / §4.5 convex: target = W_cubic(t + RTT), clamped to [cwnd, 1.5*cwnd].
    const double rtt = static_cast<double>(last_srtt_.count()) / 1e6;
    const double target = std::clamp(w_cubic(t + rtt), cw, 1.5 * cw);
    cw += (target - cw) / cw * segs;
  }
  cwnd_exact_ = std::min(cw, static_cast<double>(max_window) / mss_);
  set_cwnd(static_cast<std::uint64_t>(cwnd_exact_ * mss_));
}

congestion::congestion(congestion_kind kind, std::uint32_t mss, congestion_config cfg)
    : impl_(std::in_place_type<cubic>, mss, cfg) {
  if (kind != congestion_kind::cubic) reset(kind, mss, cfg);
}

// Every connection builds its controller twice (at creation, then with the effective MSS at
// the handshake): emplace, not assignment from a temporary, keeps that off the open-close
// path's profile (docs/performance.md).
void congestion::reset(congestion_kind kind, std::uint32_t mss, congestion_config cfg) {
  switch (kind) {
    case congestion_kind::reno:
      impl_.emplace<reno>(mss, cfg);
      return;
    case congestion_kind::cubic:
      impl_.emplace<cubic>(mss, cfg);
      return;
    case congestion_kind::bbr:
      impl_.emplace<bbr>(mss, cfg);
      return;
  }
}

}  // namespace synack
