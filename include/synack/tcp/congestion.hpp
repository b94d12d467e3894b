#pragma once
// Sender congestion control: RFC 5681 slow start / congestion avoidance, RFC 6582 NewReno
// fast retransmit and fast recovery, RFC 3042 limited transmit, and two window-growth
// algorithms: `reno` (RFC 5681 AIMD) and `cubic` (RFC 9438, the default); and `bbr`
// (draft-cardwell-iccrg-bbr-congestion-control-00, BBR v1), which sets cwnd and a pacing rate
// from a model of the path (bottleneck bandwidth and round-trip propagation time) instead.
//
// One object per connection; no allocation (the factory returns a value holding a variant).
// Sans-IO: time arrives as `now`; nothing here reads a clock. All windows are in bytes.
//
// Calling contract (the connection drives these; "flight" is FlightSize, SND.MAX - SND.UNA
// in bytes, measured *after* the ACK being reported has been applied):
//
//   on_transmit(now, flight)             every time a segment carrying data (or FIN) is sent,
//                                        with the flight (SND.MAX - SND.UNA) after it.
//   on_idle_restart(now, rto)            before sending new data while nothing is in flight;
//                                        RFC 5681 §4.1 restart window if idle > RTO.
//   on_ack(now, ack, acked, srtt, flight) for every ACK that advances SND.UNA (acked = bytes
//                                        newly acknowledged). The result says whether it was a
//                                        NewReno partial ACK (retransmit the first unacked
//                                        segment; on partial_ack_first also restart the RTO
//                                        timer, RFC 6582 §3.2 step 3) or ended recovery.
//   on_dup_ack(now, ack, snd_max, flight, style)  for every duplicate ACK (RFC 5681 §2
//                                        definition, decided by the caller). The result says
//                                        whether to send new data by limited transmit
//                                        (limited_transmit_segments()), to fast-retransmit
//                                        the segment at SND.UNA, or (in recovery) to send
//                                        what the inflated cwnd allows.
//   enter_recovery(now, ack, snd_max, flight, style)  SACK senders only: RFC 6675 §5 may
//                                        enter recovery before the 3rd duplicate ACK when
//                                        the scoreboard says IsLost(HighACK + 1).
//   on_rto(now, snd_max, flight)         when the retransmission timer expires.
//   on_syn_retransmitted()               before any data, if the SYN or SYN-ACK was resent.
//
// The sender may have at most cwnd() bytes in flight (RFC 5681 §3.1) — with SACK recovery
// (recovery_style::sack) compare cwnd() against the scoreboard's pipe() instead (RFC 6675).
//
// Choices (see the .cpp for the RFC text each follows):
//  - Initial window: RFC 5681 §3.1 (2..4 segments by SMSS) by default; RFC 6928's
//    min(10*MSS, max(2*MSS, 14600)) with initial_window_rule::rfc6928.
//  - Slow start uses appropriate byte counting (RFC 3465 §2.2) with L = 2*SMSS (the limit
//    RFC 5681 §3.1 allows via RFC 3465), L = 1*SMSS in the slow start that follows an RTO
//    (RFC 3465 §2.3). Congestion avoidance counts bytes: cwnd += SMSS once a full cwnd of
//    bytes has been acknowledged (RFC 5681 §3.1, RFC 3465 §2.1).
//  - Full ACK deflation (RFC 6582 §3.2 step 3): option (2), cwnd = ssthresh, by default;
//    option (1) with congestion_config::deflate_to_flight.
//  - cwnd grows on every ACK even when the sender is application-limited (no RFC 7661).
//  - The FlightSize a loss halves (RFC 5681 equation (4), RFC 9438 §4.6) is the largest flight
//    of this round trip or the last one (loss_flight()), not what is left once the ACKs that
//    arrived with the loss signal were applied; see the DEVIATION in the .cpp.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "synack/tcp/delivery_rate.hpp"
#include "synack/tcp/hystart.hpp"
#include "synack/util/time.hpp"
#include "synack/wire/seq.hpp"

namespace synack {

enum class congestion_kind : std::uint8_t { reno, cubic, bbr };
inline constexpr congestion_kind default_congestion_kind = congestion_kind::cubic;
[[nodiscard]] constexpr std::string_view to_string(congestion_kind k) {
  switch (k) {
    case congestion_kind::reno: return "reno";
    case congestion_kind::cubic: return "cubic";
    case congestion_kind::bbr: return "bbr";
  }
  return "?";
}
enum class initial_window_rule : std::uint8_t { rfc5681, rfc6928 };
// How the window behaves in fast recovery: NewReno inflation (RFC 5681 §3.2, RFC 6582) or
// SACK-based loss recovery where cwnd = ssthresh is compared against pipe (RFC 6675 §5).
enum class recovery_style : std::uint8_t { newreno, sack };

enum class dup_ack_action : std::uint8_t {
  none,              // nothing to do (e.g. RFC 6582 forbids a second fast retransmit)
  limited_transmit,  // 1st/2nd dup ACK: may send limited_transmit_segments() new segments
  fast_retransmit,   // recovery entered now: retransmit the segment at SND.UNA
  in_recovery,       // further dup ACK in recovery: send what cwnd (or cwnd - pipe) allows
};

enum class ack_outcome : std::uint8_t {
  advanced,           // ordinary new ACK (slow start / congestion avoidance applied)
  partial_ack_first,  // first partial ACK of this recovery: retransmit SND.UNA, restart RTO
  partial_ack,        // later partial ACK: retransmit the segment at SND.UNA
  recovery_exit,      // full ACK (ACK > recover): recovery is over
};

struct congestion_config {
  initial_window_rule iw = initial_window_rule::rfc5681;
  std::uint32_t abc_limit_segments = 2;  // RFC 3465 L, in SMSS
  bool deflate_to_flight = false;        // RFC 6582 §3.2 step 3 option (1) instead of (2)
  std::uint32_t dup_thresh = 3;          // RFC 5681 §3.2 / RFC 6675 DupThresh
  // RFC 6937 / RFC 9937 Proportional Rate Reduction: the caller sets the window on every ACK
  // of recovery (set_recovery_window); NewReno's inflation and partial deflation are off.
  bool prr = false;
  // RFC 9406 HyStart++ in the initial slow start (on_round_sample feeds it).
  bool hystart = false;
  // CUBIC only (RFC 9438)
  bool cubic_fast_convergence = true;  // §4.7
  bool cubic_reno_friendly = true;     // §4.3
};

// The shared RFC 5681 / 6582 / 3042 machinery. The window-growth algorithm is a subclass.
class congestion_control {
 public:
  static constexpr std::uint32_t max_window = 1u << 30;  // largest scaled window (RFC 7323)

  congestion_control(std::uint32_t mss, congestion_config cfg);
  virtual ~congestion_control() = default;
  congestion_control(const congestion_control&) = default;
  congestion_control& operator=(const congestion_control&) = default;

  // --- inputs -----------------------------------------------------------------------------
  [[nodiscard]] ack_outcome on_ack(instant now, seq_num ack, std::uint32_t bytes_acked,
                                   std::optional<duration> srtt, std::uint32_t flight);
  [[nodiscard]] dup_ack_action on_dup_ack(instant now, seq_num ack, seq_num snd_max, std::uint32_t flight,
                                          recovery_style style);
  // Enters fast recovery unless RFC 6582 §3.2 step 2 forbids it (ACK does not cover more
  // than `recover`) or recovery is already in progress. Returns whether it entered.
  bool enter_recovery(instant now, seq_num ack, seq_num snd_max, std::uint32_t flight, recovery_style style);
  void on_rto(instant now, seq_num snd_max, std::uint32_t flight);
  // PRR (congestion_config::prr): the window for this ACK of fast recovery, pipe + sndcnt.
  void set_recovery_window(std::uint32_t window) {
    if (in_recovery_) set_cwnd(window);
  }
  // Undo (RFC 3708 §2 / RFC 3522 with RFC 4015's response): the window reductions since the
  // last forget_undo() were for retransmissions found spurious. cwnd and ssthresh go back to
  // their values before the first of them (never lower than now); the window-growth state
  // too. Returns whether there was a reduction to undo.
  bool undo();
  [[nodiscard]] bool has_undo_point() const { return undo_.has_value(); }
  // Whether an RTO now would extend the current reduction episode (it fires during fast
  // recovery, or again before new data was acknowledged) rather than start a new one.
  [[nodiscard]] bool undo_continues_on_rto() const { return in_recovery_ || rto_backoff_; }
  [[nodiscard]] bool prr_enabled() const { return cfg_.prr; }
  // RFC 5681 §3.2 / RFC 6675 DupThresh, which adaptive reordering (tcp_config::
  // adaptive_dupthresh) may raise; never below 1.
  [[nodiscard]] std::uint32_t dup_thresh() const { return cfg_.dup_thresh; }
  void set_dup_thresh(std::uint32_t n) {
    cfg_.dup_thresh = std::max<std::uint32_t>(n, 1);
    lt_limit_ = std::max<std::uint32_t>(cfg_.dup_thresh - 1, 2);
  }
  // RFC 5682 §2 step 3b: after a timeout F-RTO found spurious, `recover` = SND.UNA, so that a
  // loss among the data sent since may start fast recovery.
  void set_recover(seq_num una) { recover_ = una; }
  // RFC 8985 §7.4.2: a tail loss probe repaired a loss. The response fast recovery would have
  // had (ssthresh from the loss, cwnd = ssthresh), entered and left at once: nothing is left
  // to retransmit.
  void on_probe_repaired_loss(instant now, std::uint32_t flight);
  // RFC 3168 §6.1.2: an ECN-Echo. The response to a loss without its retransmission, the
  // same reduction as a probe's repair; the caller keeps it to once per window of data and
  // out of fast recovery. The congestion was real, so no earlier reduction is undone past it.
  void on_ecn_echo(instant now, std::uint32_t flight) {
    undo_.reset();
    on_probe_repaired_loss(now, flight);
  }
  // HyStart++ (congestion_config::hystart) and loss_flight()'s rounds: for every ACK of new
  // data, before on_ack, the ACK, SND.NXT and the RTT sample the ACK gave. In the initial slow start it may switch growth to
  // Conservative Slow Start, back, or end slow start (ssthresh = cwnd).
  void on_round_sample(seq_num ack, seq_num snd_nxt, std::optional<duration> rtt);
  [[nodiscard]] const hystart& hystart_state() const { return hs_; }
  void on_transmit(instant now, std::uint32_t flight) {
    last_send_ = now;
    round_flight_ = std::max(round_flight_, flight);
  }
  // The FlightSize a congestion event reduces from: the largest of `flight` (now) and the
  // flights reached in this round trip and the last one (rounds end when SND.UNA passes the
  // SND.NXT on_round_sample saw when the round began).
  [[nodiscard]] std::uint32_t loss_flight(std::uint32_t flight) const {
    return std::max({flight, round_flight_, last_round_flight_});
  }
  // Returns whether cwnd was reduced to the restart window.
  bool on_idle_restart(instant now, duration rto);
  void on_syn_retransmitted();
  // RFC 5681 §2: SMSS is what the path takes (RFC 1191 / RFC 8201 path MTU). When it changes,
  // cwnd and ssthresh keep their bytes (RFC 5681 counts bytes), within the floors the new SMSS
  // sets (cwnd >= 1 SMSS, ssthresh >= 2 SMSS); growth and the initial and loss windows use the
  // new SMSS from now on.
  void set_mss(std::uint32_t mss);

  // --- queries ----------------------------------------------------------------------------
  [[nodiscard]] std::uint32_t cwnd() const { return cwnd_; }
  [[nodiscard]] std::uint32_t ssthresh() const { return ssthresh_; }
  [[nodiscard]] bool in_slow_start() const { return cwnd_ < ssthresh_; }
  [[nodiscard]] bool in_recovery() const { return in_recovery_; }
  [[nodiscard]] std::uint32_t dup_acks() const { return dup_acks_; }
  // RFC 6582 `recover`: the highest sequence number sent when recovery (or the last RTO)
  // began, i.e. SND.MAX - 1 then. Unset until the first loss (RFC 6582 initialises it to
  // ISS; no ACK can be at or below ISS, so "unset" is equivalent).
  [[nodiscard]] std::optional<seq_num> recover() const { return recover_; }
  [[nodiscard]] std::uint32_t mss() const { return mss_; }
  [[nodiscard]] std::uint32_t initial_window() const { return iw_; }
  // RFC 3042: new full-sized segments that may be sent now, after the 1st or 2nd duplicate
  // ACK, keeping FlightSize <= cwnd + dup_acks * SMSS (at most cwnd + 2*SMSS). With a DupThresh
  // raised above 3 (adaptive reordering), on every duplicate ACK below it (RFC 4653 §3.1's
  // extended limited transmit: one new segment per duplicate ACK). 0 otherwise.
  [[nodiscard]] std::uint32_t limited_transmit_segments(std::uint32_t flight) const;
  [[nodiscard]] virtual congestion_kind kind() const = 0;

 protected:
  // Congestion avoidance growth for one ACK (cwnd >= ssthresh, not in recovery).
  virtual void grow_ca(instant now, std::uint32_t bytes_acked, std::optional<duration> srtt) = 0;
  // Multiplicative decrease on a congestion event: returns the new ssthresh, before the
  // 2*SMSS floor is applied. Called with cwnd() still at its pre-loss value.
  virtual std::uint32_t loss_ssthresh(instant now, std::uint32_t flight, bool timeout) = 0;
  // cwnd was changed outside congestion avoidance (recovery end, idle restart, RTO).
  virtual void window_reset() {}
  // SMSS changed from `old_mss` to mss_ (state kept in segments is re-expressed).
  virtual void mss_changed(std::uint32_t old_mss) { (void)old_mss; }
  // Undo: keep the window-growth state before a reduction; put it back.
  virtual void save_growth_state() {}
  virtual void restore_growth_state() {}
  // The window comes from a model (BBR), not from ACK clocking and loss: the shared machinery
  // keeps recovery's state (in_recovery(), recover(), duplicate ACKs) but leaves cwnd alone on
  // ACKs, in recovery, on a probe's repair, an ECN-Echo and an idle restart. The RTO still sets
  // cwnd to 1 SMSS and undo() still restores it.
  [[nodiscard]] virtual bool model_window() const { return false; }

  void set_cwnd(std::uint64_t bytes);
  std::uint32_t mss_;
  std::uint32_t cwnd_;

 private:
  void slow_start(std::uint32_t bytes_acked);
  // HyStart++ applies: on, and still the initial slow start (RFC 9406 §4.3).
  [[nodiscard]] bool hystart_active() const { return cfg_.hystart && ssthresh_ == max_window && !after_rto_; }
  void save_undo_point();
  struct undo_point {
    std::uint32_t cwnd;
    std::uint32_t ssthresh;
  };
  std::optional<undo_point> undo_;
  ack_outcome in_recovery_ack(seq_num ack, std::uint32_t bytes_acked, std::uint32_t flight);

  congestion_config cfg_;
  std::uint32_t iw_;
  std::uint32_t ssthresh_ = max_window;  // RFC 5681 §3.1: "arbitrarily high"
  std::uint32_t dup_acks_ = 0;
  std::uint32_t lt_limit_ = 2;  // duplicate ACKs that may each send new data (RFC 3042, RFC 4653)
  std::optional<seq_num> recover_;
  bool in_recovery_ = false;
  recovery_style style_ = recovery_style::newreno;
  bool partial_seen_ = false;  // a partial ACK already arrived in this recovery
  bool rto_backoff_ = false;   // an RTO fired and no new data was ACKed since
  bool after_rto_ = false;     // slow start following an RTO (RFC 3465 §2.3: L = 1*SMSS)
  std::optional<instant> last_send_;
  // loss_flight(): the largest flight sent in the current round, in the previous one, and
  // where the current round ends.
  std::uint32_t round_flight_ = 0;
  std::uint32_t last_round_flight_ = 0;
  std::optional<seq_num> round_end_;
  hystart hs_;
};

// RFC 5681: AIMD, cwnd += 1 SMSS per cwnd of acknowledged bytes, ssthresh = FlightSize / 2.
class reno final : public congestion_control {
 public:
  explicit reno(std::uint32_t mss, congestion_config cfg = {}) : congestion_control(mss, cfg) {}
  [[nodiscard]] congestion_kind kind() const override { return congestion_kind::reno; }

 protected:
  void grow_ca(instant now, std::uint32_t bytes_acked, std::optional<duration> srtt) override;
  std::uint32_t loss_ssthresh(instant now, std::uint32_t flight, bool timeout) override;
  void window_reset() override { ca_acked_ = 0; }

 private:
  std::uint32_t ca_acked_ = 0;  // bytes acknowledged toward the next +SMSS
};

// RFC 9438 CUBIC. Windows in the formulas are in segments (doubles), t in seconds.
class cubic final : public congestion_control {
 public:
  static constexpr double c = 0.4;           // §5.1
  static constexpr double beta = 0.7;        // §4.6 beta_cubic
  static constexpr double alpha = 3.0 * (1.0 - beta) / (1.0 + beta);  // §4.3 alpha_cubic

  explicit cubic(std::uint32_t mss, congestion_config cfg = {})
      : congestion_control(mss, cfg), fast_convergence_(cfg.cubic_fast_convergence),
        reno_friendly_(cfg.cubic_reno_friendly) {}
  [[nodiscard]] congestion_kind kind() const override { return congestion_kind::cubic; }

  // State of the current congestion avoidance stage, for tests and `synack stat`.
  [[nodiscard]] double w_max() const { return w_max_; }          // segments
  [[nodiscard]] double k() const { return k_; }                  // seconds
  [[nodiscard]] double w_est() const { return w_est_; }          // segments
  [[nodiscard]] double cwnd_prior() const { return cwnd_prior_; }  // segments
  [[nodiscard]] std::optional<instant> epoch_start() const { return t_epoch_; }
  // Figure 1: W_cubic(t) = C*(t-K)^3 + W_max, in segments.
  [[nodiscard]] double w_cubic(double t) const { return c * (t - k_) * (t - k_) * (t - k_) + w_max_; }

 protected:
  void grow_ca(instant now, std::uint32_t bytes_acked, std::optional<duration> srtt) override;
  std::uint32_t loss_ssthresh(instant now, std::uint32_t flight, bool timeout) override;
  void window_reset() override { t_epoch_.reset(); }
  void mss_changed(std::uint32_t old_mss) override;
  void save_growth_state() override { saved_ = growth_state{have_w_max_, w_max_, cwnd_prior_}; }
  void restore_growth_state() override;

 private:
  void start_epoch(instant now);

  bool fast_convergence_;
  bool reno_friendly_;
  bool have_w_max_ = false;  // a congestion event has happened
  bool after_timeout_ = false;
  double w_max_ = 0;
  double k_ = 0;
  double w_est_ = 0;
  double cwnd_prior_ = 0;
  double cwnd_exact_ = 0;  // cwnd in segments with its fraction, during an epoch
  std::optional<instant> t_epoch_;
  duration last_srtt_{0};
  struct growth_state {
    bool have_w_max = false;
    double w_max = 0;
    double cwnd_prior = 0;
  };
  growth_state saved_;  // before the reduction an undo reverses
};

// BBR v1 (draft-cardwell-iccrg-bbr-congestion-control-00): cwnd and the pacing rate follow a
// model of the path, BtlBw (a windowed maximum of the delivery rate over 10 round trips) and
// RTprop (a windowed minimum of the RTT over 10 s), through four states: STARTUP (gain
// 2/ln 2), DRAIN, PROBE_BW (the eight-phase pacing-gain cycle) and PROBE_RTT. Loss alone does
// not reduce the window: fast recovery conserves packets for a round and then restores the
// window it had. The connection feeds it a rate sample on every ACK (on_rate_sample) and paces
// at pacing_rate() whatever tcp_config::pacing says; PRR is off (BBR decides how much goes,
// RACK / the SACK scoreboard what). Sans-IO; the randomness of the PROBE_BW start phase is a
// deterministic function of congestion_config::bbr_seed.
class bbr final : public congestion_control {
 public:
  enum class mode : std::uint8_t { startup, drain, probe_bw, probe_rtt };
  static constexpr double high_gain = 2.885;                // 2/ln(2), §4.3.2.1
  static constexpr std::uint32_t btlbw_filter_rounds = 10;  // BtlBwFilterLen
  static constexpr duration rtprop_filter_len = std::chrono::seconds(10);
  static constexpr duration probe_rtt_duration = std::chrono::milliseconds(200);
  static constexpr std::uint32_t min_pipe_segments = 4;     // BBRMinPipeCwnd
  static constexpr std::uint32_t gain_cycle_len = 8;
  // §4.3.4.4: the pacing gains of PROBE_BW's phases, in percent.
  static constexpr std::uint8_t cycle_gain_percent[gain_cycle_len] = {125, 75, 100, 100, 100, 100, 100, 100};

  explicit bbr(std::uint32_t mss, congestion_config cfg = {});
  // The seed of the deterministic choice of PROBE_BW's first phase (sans-IO: the connection
  // passes a value from the host's injected randomness, its ISS).
  void set_seed(std::uint32_t seed) { seed_ = static_cast<std::uint16_t>(seed ^ (seed >> 16)); }
  [[nodiscard]] congestion_kind kind() const override { return congestion_kind::bbr; }

  // The connection's delivery-rate state (the snapshot for a segment about to be sent, the
  // application-limited mark).
  // on_send: before a data segment leaves (flight: before it), the snapshot to record with it.
  [[nodiscard]] delivery_snapshot on_send(instant now, std::uint32_t flight);
  [[nodiscard]] const delivery_rate& rates() const { return dr_; }
  // Every ACK (new, duplicate or SACK-only), after the connection's recovery processing:
  // `delivered` octets newly delivered (cumulatively or SACKed), `newest` the snapshot of the
  // newest segment delivered, `inflight` what is in the network now (RFC 6675 pipe in SACK
  // recovery), `lost` octets newly marked lost, `una` SND.UNA after the ACK.
  void on_rate_sample(instant now, seq_num una, std::uint32_t delivered, const std::optional<delivered_segment>& newest,
                      std::uint32_t inflight, std::uint32_t lost);
  // §4.3.3: the sender has nothing to send and cwnd is not full.
  void on_app_limited(std::uint32_t inflight) {
    if (inflight < cwnd_) dr_.on_app_limited(inflight);
  }
  // Octets per second data leaves at (BBR.pacing_rate, §4.2.1 BBRSetPacingRate):
  // pacing_gain x BtlBw less a 1 % margin. Before the pipe is full never below the initial
  // rate, high_gain x InitialCwnd / RTprop (1 ms before an RTT sample). DEVIATION(draft §4.2.1,
  // which keeps the largest rate set before the pipe is full): computed from the model each
  // time, the initial rate as its floor (a stored rate would push the TCB past its bound).
  [[nodiscard]] std::uint64_t pacing_rate() const;
  [[nodiscard]] mode state() const { return mode_; }
  [[nodiscard]] std::uint64_t btlbw() const { return bw_[0]; }  // octets per second
  [[nodiscard]] std::optional<duration> rtprop() const {
    return rtprop_us_ == UINT32_MAX ? std::nullopt : std::optional<duration>{duration{rtprop_us_}};
  }
  [[nodiscard]] bool filled_pipe() const { return filled_pipe_; }
  [[nodiscard]] std::uint32_t round_count() const { return round_count_; }
  [[nodiscard]] std::uint32_t cycle_index() const { return cycle_index_; }
  [[nodiscard]] double pacing_gain() const;
  [[nodiscard]] double cwnd_gain() const;
  [[nodiscard]] bool packet_conservation() const { return packet_conservation_; }
  // BBRInflight(gain): gain x BDP in octets (the initial window before an RTprop is known).
  [[nodiscard]] std::uint64_t inflight_for(double gain) const;
  // BBR.target_cwnd: cwnd_gain x BDP plus the quantization budget.
  [[nodiscard]] std::uint64_t target_cwnd() const;
  [[nodiscard]] std::uint32_t send_quantum() const;

 protected:
  void grow_ca(instant, std::uint32_t, std::optional<duration>) override {}
  // A loss (fast recovery or the RTO) does not lower the model; it only saves the window to
  // restore when recovery ends (BBRSaveCwnd). ssthresh, which BBR does not use, stays cwnd.
  std::uint32_t loss_ssthresh(instant now, std::uint32_t flight, bool timeout) override;
  [[nodiscard]] bool model_window() const override { return true; }

 private:
  void update_round(const rate_sample& rs);
  void update_btlbw(const rate_sample& rs);
  void check_cycle_phase(instant now, std::uint32_t prior_inflight, std::uint32_t lost);
  void check_full_pipe(const rate_sample& rs);
  void check_drain(instant now, std::uint32_t inflight);
  void update_rtprop(instant now, const rate_sample& rs);
  void check_probe_rtt(instant now, std::uint32_t inflight);
  void enter_probe_bw(instant now);
  void update_cwnd(std::uint32_t delivered, std::uint32_t inflight, std::uint32_t lost);
  void save_cwnd();
  void track_recovery(seq_num una, std::uint32_t delivered, std::uint32_t inflight);

  delivery_rate dr_;
  // BBR.next_round_delivered, modulo 2^32 (compared as a signed difference: a round is far
  // shorter than 2 GiB), to keep the TCB within its bound (tests/stack/memory_budget_test.cpp).
  std::uint32_t next_round_delivered_ = 0;
  instant rtprop_stamp_{};
  instant mode_stamp_{};  // BBR.cycle_stamp in PROBE_BW, BBR.probe_rtt_done_stamp in PROBE_RTT
  std::uint32_t bw_[3] = {0, 0, 0};  // BtlBw's windowed maximum: best, second, third (octets/s)
  std::uint8_t bw_round_[3] = {0, 0, 0};  // the round (mod 256) each was measured in
  mode mode_ = mode::startup;
  std::uint8_t cycle_index_ = 0;
  std::uint8_t full_bw_count_ = 0;
  std::uint16_t seed_ = 0;  // a 16-bit linear congruential sequence (enter_probe_bw)
  std::uint32_t rtprop_us_ = UINT32_MAX;  // BBR.RTprop (UINT32_MAX: none yet)
  std::uint32_t round_count_ = 0;  // BBR.round_count
  std::uint32_t full_bw_ = 0;      // BBR.full_bw: BtlBw at the last 25 % growth
  std::uint32_t prior_cwnd_ = 0;   // BBR.prior_cwnd (BBRSaveCwnd)
  bool filled_pipe_ = false;          // BBR.filled_pipe
  bool round_start_ = false;          // BBR.round_start: this ACK began a round
  bool packet_conservation_ = false;  // BBR.packet_conservation
  bool probe_rtt_round_done_ = false;  // BBR.probe_rtt_round_done
  bool probe_rtt_timing_ = false;  // PROBE_RTT's 200 ms began (probe_rtt_done_stamp set)
  bool idle_restart_ = false;
  bool in_loss_ = false;  // fast recovery or a timeout's repair under way (restore on its end)
  bool loss_entered_ = false;  // loss_ssthresh ran: the next ACK starts the episode's handling
  bool loss_timeout_ = false;  // the episode began with the RTO (no packet conservation)
  bool rtprop_expired_ = false;
};

[[nodiscard]] constexpr std::string_view to_string(bbr::mode m) {
  switch (m) {
    case bbr::mode::startup: return "STARTUP";
    case bbr::mode::drain: return "DRAIN";
    case bbr::mode::probe_bw: return "PROBE_BW";
    case bbr::mode::probe_rtt: return "PROBE_RTT";
  }
  return "?";
}

// What `synack stat -i` shows of BBR (as cubic shows its window): the mode, BtlBw, RTprop and
// the gains now.
struct bbr_summary {
  bbr::mode mode = bbr::mode::startup;
  std::uint64_t btlbw = 0;             // octets per second
  std::optional<duration> min_rtt;     // RTprop
  double pacing_gain = 0;
  double cwnd_gain = 0;
};

// One connection's congestion controller, held by value.
class congestion {
 public:
  // The controller of `kind`, built in place (no temporary).
  congestion(congestion_kind kind, std::uint32_t mss, congestion_config cfg = {});
  // Replaces the controller in place (a connection learns its MSS at the handshake).
  void reset(congestion_kind kind, std::uint32_t mss, congestion_config cfg = {});
  congestion_control& get() {
    return std::visit([](auto& a) -> congestion_control& { return a; }, impl_);
  }
  [[nodiscard]] const congestion_control& get() const {
    return std::visit([](const auto& a) -> const congestion_control& { return a; }, impl_);
  }
  congestion_control* operator->() { return &get(); }
  const congestion_control* operator->() const { return &get(); }
  congestion_control& operator*() { return get(); }
  const congestion_control& operator*() const { return get(); }
  // The BBR controller, if this is one.
  bbr* as_bbr() { return std::get_if<bbr>(&impl_); }
  [[nodiscard]] const bbr* as_bbr() const { return std::get_if<bbr>(&impl_); }
  [[nodiscard]] std::optional<bbr_summary> bbr_state() const {
    const bbr* b = as_bbr();
    if (b == nullptr) return std::nullopt;
    return bbr_summary{b->state(), b->btlbw(), b->rtprop(), b->pacing_gain(), b->cwnd_gain()};
  }

 private:
  std::variant<reno, cubic, bbr> impl_;
};


}  // namespace synack
