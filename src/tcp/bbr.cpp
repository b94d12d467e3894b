// BBR v1, draft-cardwell-iccrg-bbr-congestion-control-00 (see congestion.hpp). Written from
// the draft's text and constants; section numbers are the draft's.
#include <algorithm>

#include "synack/tcp/congestion.hpp"

namespace synack {

namespace {

// §4.1.1: 1 % below the estimated bandwidth, so that the queue a pacing rate at BtlBw would
// build from small estimation errors drains.
constexpr std::uint64_t pacing_margin_percent = 1;
// §4.3.2.2: STARTUP ends after 3 rounds without 25 % growth of BtlBw.
constexpr std::uint32_t full_bw_thresh_percent = 125;
constexpr std::uint8_t full_bw_rounds = 3;

// DEVIATION(RFC 9937 PRR, tcp_config::prr; RFC 9406 HyStart++, tcp_config::hystart): off
// with BBR, whatever the configuration says.
congestion_config without_prr(congestion_config cfg) {
  cfg.prr = false;      // BBR decides how much is sent in recovery (packet conservation), not PRR
  cfg.hystart = false;  // STARTUP ends by the full-pipe test, not by HyStart++
  return cfg;
}

std::uint64_t scale(std::uint64_t v, double gain) { return static_cast<std::uint64_t>(static_cast<double>(v) * gain); }

}  // namespace

bbr::bbr(std::uint32_t mss, congestion_config cfg) : congestion_control(mss, without_prr(cfg)) {}

double bbr::pacing_gain() const {
  switch (mode_) {
    case mode::startup: return high_gain;
    case mode::drain: return 1.0 / high_gain;
    case mode::probe_bw: return cycle_gain_percent[cycle_index_] / 100.0;
    case mode::probe_rtt: return 1.0;
  }
  return 1.0;
}

double bbr::cwnd_gain() const {
  switch (mode_) {
    case mode::startup:
    case mode::drain: return high_gain;
    case mode::probe_bw: return 2.0;
    case mode::probe_rtt: return 1.0;
  }
  return 1.0;
}

// §4.2.3.2 BBRInflight: gain x BtlBw x RTprop; the initial window until both are known.
std::uint64_t bbr::inflight_for(double gain) const {
  if (!rtprop() || btlbw() == 0) return initial_window();
  const std::uint64_t bdp = btlbw() * rtprop_us_ / 1'000'000;
  return scale(bdp, gain);
}

// §4.2.2 BBRSetSendQuantum.
std::uint32_t bbr::send_quantum() const {
  const std::uint64_t rate = pacing_rate();
  if (rate < 1'200'000 / 8) return mss_;
  if (rate < 24'000'000 / 8) return 2 * mss_;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(rate / 1000, 64 * 1024));
}

// §4.2.3.2 BBRUpdateTargetCwnd with the quantization budget: room for three send quanta of
// ACK aggregation and offload, two more segments in the probing phase of PROBE_BW (so that
// it can reach its 1.25 x BDP), never below BBRMinPipeCwnd.
std::uint64_t bbr::target_cwnd() const {
  std::uint64_t t = inflight_for(cwnd_gain());
  if (rtprop() && btlbw() != 0) t += 3ULL * send_quantum();
  if (mode_ == mode::probe_bw && cycle_index_ == 0) t += 2ULL * mss_;
  return std::max<std::uint64_t>(t, std::uint64_t{min_pipe_segments} * mss_);
}

// §4.2.3.4 BBRSaveCwnd.
void bbr::save_cwnd() {
  if (!in_loss_ && mode_ != mode::probe_rtt) {
    prior_cwnd_ = cwnd_;
  } else {
    prior_cwnd_ = std::max(prior_cwnd_, cwnd_);
  }
}

std::uint32_t bbr::loss_ssthresh(instant /*now*/, std::uint32_t /*flight*/, bool timeout) {
  save_cwnd();
  loss_entered_ = true;
  loss_timeout_ = timeout;
  return cwnd_;
}

// §4.2.3.4: on entering fast recovery, cwnd = inflight + max(delivered, 1 SMSS) and packet
// conservation for one round (the round restarts now); on the RTO the shared machinery set
// cwnd to 1 SMSS. When the episode ends (SND.UNA past `recover`, or an undo), the saved
// window comes back: BBRRestoreCwnd.
void bbr::track_recovery(seq_num una, std::uint32_t delivered, std::uint32_t inflight) {
  if (loss_entered_) {
    loss_entered_ = false;
    in_loss_ = true;
    if (!loss_timeout_ && in_recovery()) {
      set_cwnd(std::uint64_t{inflight} + std::max(delivered, mss_));
      packet_conservation_ = true;
      next_round_delivered_ = static_cast<std::uint32_t>(dr_.delivered());
    }
    return;
  }
  if (!in_loss_ || in_recovery()) return;
  if (const auto r = recover(); r && !una.after(*r)) return;  // the timeout's repair goes on
  in_loss_ = false;
  packet_conservation_ = false;
  set_cwnd(std::max(cwnd_, prior_cwnd_));
}

delivery_snapshot bbr::on_send(instant now, std::uint32_t flight) {
  // §4.2.4 BBRHandleRestartFromIdle: sending again after an application-limited idle period.
  // DEVIATION(draft §4.2.4, which also paces at 1.0 x BtlBw in PROBE_BW then): the restart only
  // keeps this ACK's expired RTprop from starting PROBE_RTT (check_probe_rtt).
  if (flight == 0 && dr_.app_limited()) idle_restart_ = true;
  return dr_.on_send(now, flight);
}

// §4.1.1.3 BBRUpdateRound: a round trip ends when a segment sent after the last round began
// is delivered.
void bbr::update_round(const rate_sample& rs) {
  round_start_ = false;
  const auto since = static_cast<std::int32_t>(static_cast<std::uint32_t>(rs.prior_delivered) - next_round_delivered_);
  if (rs.newly_delivered == 0 || rs.delivered == 0 || since < 0) return;
  next_round_delivered_ = static_cast<std::uint32_t>(dr_.delivered());
  ++round_count_;
  round_start_ = true;
  packet_conservation_ = false;  // §4.2.3.4: conservation lasts one round
}

// §4.1.1.4 BBRUpdateBtlBw: the windowed maximum over BtlBwFilterLen rounds. An
// application-limited sample only counts if it raises the estimate. The maximum keeps three
// samples, each the largest measured since the one before it (Kathleen Nichols' windowed
// extremum): when the best grows older than the window the next takes its place.
void bbr::update_btlbw(const rate_sample& rs) {
  update_round(rs);
  if (!rs.valid || (rs.app_limited && rs.rate < btlbw())) return;
  const auto v = static_cast<std::uint32_t>(std::min<std::uint64_t>(rs.rate, UINT32_MAX));
  const auto now = static_cast<std::uint8_t>(round_count_);
  const auto age = [now](std::uint8_t r) { return static_cast<std::uint8_t>(now - r); };
  if (v >= bw_[0] || age(bw_round_[2]) >= btlbw_filter_rounds) {
    bw_[0] = bw_[1] = bw_[2] = v;
    bw_round_[0] = bw_round_[1] = bw_round_[2] = now;
    return;
  }
  if (v >= bw_[1]) {
    bw_[1] = bw_[2] = v;
    bw_round_[1] = bw_round_[2] = now;
  } else if (v >= bw_[2]) {
    bw_[2] = v;
    bw_round_[2] = now;
  }
  if (age(bw_round_[0]) >= btlbw_filter_rounds) {  // the best expired: the next ones move up
    bw_[0] = bw_[1];
    bw_round_[0] = bw_round_[1];
    bw_[1] = bw_[2];
    bw_round_[1] = bw_round_[2];
    bw_[2] = v;
    bw_round_[2] = now;
    if (age(bw_round_[0]) >= btlbw_filter_rounds) {
      bw_[0] = bw_[1];
      bw_round_[0] = bw_round_[1];
      bw_[1] = bw_[2];
      bw_round_[1] = bw_round_[2];
    }
  }
}

// §4.3.4.3 BBRIsNextCyclePhase / BBRAdvanceCyclePhase.
void bbr::check_cycle_phase(instant now, std::uint32_t prior_inflight, std::uint32_t lost) {
  if (mode_ != mode::probe_bw) return;
  const bool full_length = !rtprop() || now - mode_stamp_ > *rtprop();
  const double gain = pacing_gain();
  bool next = full_length;
  if (gain > 1.0) {
    next = full_length && (lost > 0 || prior_inflight >= inflight_for(gain));
  } else if (gain < 1.0) {
    next = full_length || prior_inflight <= inflight_for(1.0);
  }
  if (!next) return;
  cycle_index_ = static_cast<std::uint8_t>((cycle_index_ + 1) % gain_cycle_len);
  mode_stamp_ = now;
}

// §4.3.2.2 BBRCheckFullPipe: once per round, not application-limited.
void bbr::check_full_pipe(const rate_sample& rs) {
  if (filled_pipe_ || !round_start_ || rs.app_limited) return;
  if (std::uint64_t{btlbw()} * 100 >= std::uint64_t{full_bw_} * full_bw_thresh_percent) {
    full_bw_ = static_cast<std::uint32_t>(btlbw());
    full_bw_count_ = 0;
    return;
  }
  if (++full_bw_count_ >= full_bw_rounds) filled_pipe_ = true;
}

// §4.3.3 DRAIN: entered once the pipe is full, left when the queue STARTUP built is gone.
void bbr::check_drain(instant now, std::uint32_t inflight) {
  if (mode_ == mode::startup && filled_pipe_) mode_ = mode::drain;
  if (mode_ == mode::drain && inflight <= inflight_for(1.0)) enter_probe_bw(now);
}

// §4.3.4.2 BBREnterProbeBW: a random phase but the draining one (0.75) first. Sans-IO: the
// random number comes from a linear congruential sequence seeded by congestion_config::bbr_seed.
void bbr::enter_probe_bw(instant now) {
  mode_ = mode::probe_bw;
  seed_ = static_cast<std::uint16_t>(seed_ * 25173u + 13849u);
  const std::uint32_t r = (seed_ >> 8) % (gain_cycle_len - 1);  // 0 .. 6
  cycle_index_ = static_cast<std::uint8_t>((gain_cycle_len - 1 - r + 1) % gain_cycle_len);  // then advanced
  mode_stamp_ = now;
}

// §4.1.2.3 BBRUpdateRTprop: the windowed minimum over 10 s.
void bbr::update_rtprop(instant now, const rate_sample& rs) {
  rtprop_expired_ = rtprop() && now > rtprop_stamp_ + rtprop_filter_len;
  if (!rs.rtt || rs.rtt->count() < 0) return;
  const auto us = static_cast<std::uint32_t>(std::min<std::int64_t>(rs.rtt->count(), UINT32_MAX - 1));
  if (us <= rtprop_us_ || rtprop_expired_) {
    rtprop_us_ = us;
    rtprop_stamp_ = now;
  }
}

// §4.3.5 PROBE_RTT: RTprop was not refreshed for 10 s; hold cwnd at 4 segments for 200 ms and
// a round trip, then go back.
void bbr::check_probe_rtt(instant now, std::uint32_t inflight) {
  if (mode_ != mode::probe_rtt && rtprop_expired_ && !idle_restart_) {
    save_cwnd();
    mode_ = mode::probe_rtt;
    probe_rtt_timing_ = false;
  }
  if (mode_ == mode::probe_rtt) {
    dr_.on_app_limited(inflight);  // the samples of PROBE_RTT say nothing about BtlBw
    if (!probe_rtt_timing_ && inflight <= min_pipe_segments * mss_) {
      mode_stamp_ = now + probe_rtt_duration;
      probe_rtt_timing_ = true;
      probe_rtt_round_done_ = false;
      next_round_delivered_ = static_cast<std::uint32_t>(dr_.delivered());
    } else if (probe_rtt_timing_) {
      if (round_start_) probe_rtt_round_done_ = true;
      if (probe_rtt_round_done_ && now > mode_stamp_) {
        rtprop_stamp_ = now;
        set_cwnd(std::max(cwnd_, prior_cwnd_));  // BBRRestoreCwnd
        if (filled_pipe_) {
          enter_probe_bw(now);
        } else {
          mode_ = mode::startup;
        }
      }
    }
  }
  idle_restart_ = false;
}

std::uint64_t bbr::pacing_rate() const {
  const std::uint64_t rtt_us = rtprop() ? std::max<std::uint32_t>(rtprop_us_, 1) : 1000;
  const std::uint64_t initial = scale(std::uint64_t{initial_window()} * 1'000'000 / rtt_us, high_gain);
  if (btlbw() == 0) return initial;
  const std::uint64_t rate = scale(btlbw(), pacing_gain()) * (100 - pacing_margin_percent) / 100;
  return filled_pipe_ ? std::max<std::uint64_t>(rate, 1) : std::max(rate, initial);
}

// §4.2.3.5 BBRSetCwnd with §4.2.3.4 BBRModulateCwndForRecovery and §4.2.3.5
// BBRModulateCwndForProbeRTT.
void bbr::update_cwnd(std::uint32_t delivered, std::uint32_t inflight, std::uint32_t lost) {
  std::uint64_t w = cwnd_;
  if (lost > 0) w = std::max<std::uint64_t>(w - std::min<std::uint64_t>(w, lost), mss_);
  if (packet_conservation_) {
    w = std::max<std::uint64_t>(w, std::uint64_t{inflight} + delivered);
  } else {
    const std::uint64_t target = target_cwnd();
    if (filled_pipe_) {
      w = std::min(w + delivered, target);
    } else if (w < target || dr_.delivered() < initial_window()) {
      w += delivered;
    }
    w = std::max<std::uint64_t>(w, std::uint64_t{min_pipe_segments} * mss_);
  }
  if (mode_ == mode::probe_rtt) w = std::min<std::uint64_t>(w, std::uint64_t{min_pipe_segments} * mss_);
  set_cwnd(w);
}

// §4.2: BBRUpdateModelAndState, then BBRUpdateControlParameters, for one ACK.
void bbr::on_rate_sample(instant now, seq_num una, std::uint32_t delivered, const std::optional<delivered_segment>& newest,
                         std::uint32_t inflight, std::uint32_t lost) {
  const rate_sample rs = dr_.on_ack(now, delivered, newest, rtprop());
  track_recovery(una, delivered, inflight);
  update_btlbw(rs);
  check_cycle_phase(now, inflight + delivered, lost);  // prior_inflight: before this ACK
  check_full_pipe(rs);
  check_drain(now, inflight);
  update_rtprop(now, rs);
  check_probe_rtt(now, inflight);
  update_cwnd(delivered, inflight, lost);
}

}  // namespace synack
