#pragma once
// The sending half of a TCB (as gVisor's sender and quinn's per-connection sub-structures):
// the RFC 9293 §3.3.1 send variables, the send buffer, the RTT estimator, loss recovery
// (congestion control, SACK scoreboard, the retransmission owed) and the persist / SWS state.
// Plain data owned by `connection`; the rules that use it are the connection's output and
// recovery functions (connection_output.cpp, connection_recovery.cpp). Sans-IO.
#include <cstdint>
#include <optional>
#include <utility>

#include "synack/tcp/config.hpp"
#include "synack/tcp/congestion.hpp"
#include "synack/tcp/prr.hpp"
#include "synack/tcp/rack.hpp"
#include "synack/tcp/ring_buffer.hpp"
#include "synack/tcp/rtt_estimator.hpp"
#include "synack/tcp/sack_scoreboard.hpp"
#include "synack/util/time.hpp"
#include "synack/wire/seq.hpp"

namespace synack {

// The TCB send variables of RFC 9293 §3.3.1, named as there.
struct send_vars {
  seq_num una;  // oldest unacknowledged
  seq_num nxt;  // next to send
  seq_num max;  // highest nxt ever sent (nxt drops back on retransmission)
  std::uint32_t wnd = 0;  // peer's window, scaled
  std::uint32_t max_wnd = 0;  // largest window the peer offered (RFC 5961 §5 MAX.SND.WND)
  seq_num wl1;  // segment seq used for last window update
  seq_num wl2;  // segment ack used for last window update
  seq_num iss;
  std::uint8_t wscale = 0;  // shift applied to the peer's window field
  std::uint16_t mss = 536;  // effective send MSS (MUST-15/16)
};

// One episode of window reductions (a fast recovery, a timeout, or a timeout during a fast
// recovery) whose retransmissions may yet prove spurious (RFC 3708 §2 with D-SACK, RFC 3522
// with timestamps). The congestion controller keeps the window to restore; this keeps the
// evidence.
struct undo_episode {
  seq_num start;     // SND.UNA when the episode began
  seq_num end;       // SND.MAX at its latest reduction: undo waits until SND.UNA reaches it
  seq_num rtx_high;  // one past the highest octet retransmitted in the episode
  std::uint32_t retrans = 0;  // segments retransmitted in the episode
  std::uint32_t dsacked = 0;  // of them, reported as duplicates (RFC 3708 §2)
  // RFC 3522 §3.2: RetransmitTS, the TSval of the episode's first retransmission, and where
  // that segment began; `eifel` once the ACK for it echoed an older TSval.
  std::optional<std::uint32_t> rtx_ts;
  seq_num rtx_seq;
  bool eifel_checked = false;
  bool eifel = false;
  bool after_rto = false;  // the episode includes a timeout
  // RFC 5682 F-RTO after the episode's timeout (tcp_config::frto): the ACK awaited (step 2:
  // the first after the retransmission; step 3: the next, once new segments went), SND.MAX
  // when they went (§3.1's RecoveryPoint; with §2, what the ACK must not cover), and its
  // verdict: spurious, the evidence try_undo reads like Eifel's.
  enum class frto_step : std::uint8_t { off, first_ack, second_ack };
  frto_step frto = frto_step::off;
  seq_num frto_point;
  bool frto_spurious = false;
  seq_num fack;  // the highest octet SACKed during the episode (adaptive DupThresh on D-SACK)
};

// What an ACK's SACK blocks newly cover, read from the scoreboard before it takes them: the
// highest octet SACKed before (FACK) and the lowest octet this ACK SACKs that was not SACKed.
// F-RTO (RFC 5682 §3.1 step 3) and adaptive DupThresh read it.
struct sack_evidence {
  std::optional<seq_num> fack;
  std::optional<seq_num> lowest_new;
};

// Loss recovery in one object (RFC 5681 / 6582 / 3042 / 6675): the congestion controller, the
// scoreboard, the retransmission owed and the bounds on new data. Whether recovery is on is
// the controller's in_recovery(); the scoreboard's own flag is set and cleared only together
// with it (enter / exit / on_rto below), never elsewhere.
struct loss_recovery {
  congestion cc;
  sack_scoreboard sb;
  std::optional<next_segment> rtx;  // a retransmission owed now (fast retransmit, partial ACK)
  std::uint32_t lt_budget = 0;      // RFC 3042, RFC 5682 step 2b: new segments allowed beyond cwnd
  seq_num rtx_mark;  // one past the highest octet ever sent twice (any retransmission or probe)
  // After a PMTU reduction: what may be sent since (0: no bound), growing by two octets per
  // octet acknowledged, and what was sent against it, each segment charged at least one SMSS
  // so that short segments (small SACK holes) cannot add to the packet count.
  std::uint32_t pmtu_burst = 0;
  std::uint32_t pmtu_sent = 0;
  [[nodiscard]] std::uint32_t pmtu_room() const {  // only while pmtu_burst != 0
    return pmtu_burst > pmtu_sent ? pmtu_burst - pmtu_sent : 0;
  }
  // No retransmission may go until an ACK (or the RTO) lifts the PMTU bound.
  [[nodiscard]] bool pmtu_held(std::uint32_t mss) const { return pmtu_burst != 0 && pmtu_room() < mss; }
  std::uint64_t rtt_samples_seen = 0;  // rtt_estimator::samples() HyStart++ was last shown
  // RFC 8985 §7 Tail Loss Probe: TLP.end_seq (SND.NXT after the probe, until its episode
  // ends: at most one probe per flight) and TLP.is_retrans; `tlp_due` once the PTO fired.
  std::optional<seq_num> tlp_end;
  bool tlp_retrans = false;
  bool tlp_due = false;
  prr pr;  // RFC 6937 / 9937: the amount sent per ACK in fast recovery
  rack rk;  // RFC 8985 §6: the transmit record and time-based loss detection (tcp_config::rack)
  std::optional<undo_episode> undo;

  explicit loss_recovery(congestion_kind kind) : cc(kind, 536) {}
  // RFC 6675 §5 step (4) with SACK (the scoreboard picks the first hole), or RFC 5681 §3.2
  // step 2 (the segment at SND.UNA) without.
  void enter(bool sack, seq_num una, std::uint16_t mss) {
    lt_budget = 0;
    if (sack) {
      sb.enter_recovery();
      rtx = sb.first_retransmission();
    } else {
      rtx = next_segment{una, mss, seg_rule::first};
    }
  }
  void exit(bool sack) {
    if (sack) sb.exit_recovery();
    rtx.reset();
  }
  // RFC 5681 §3.1, RFC 6582 §3.2 step 4, RFC 6675 §5.1: recovery ends; SACK information is
  // not trusted across a timeout unless `keep_sacks` (RFC 8985 §6.3, tcp_config::rto_keeps_sack).
  void on_rto(instant now, bool sack, seq_num una, seq_num max, bool keep_sacks) {
    cc->on_rto(now, max, distance(una, max).n);
    if (sack) sb.on_rto(una, max, keep_sacks);
    rtx.reset();
    lt_budget = 0;
    tlp_end.reset();  // the probe's episode ends with the timeout
    tlp_due = false;
    // The timeout's window (one segment) is smaller than any PMTU burst; a bound left from a
    // reduction whose resend was lost would keep the retransmission itself from going.
    pmtu_burst = 0;
    pmtu_sent = 0;
    rk.on_rto(keep_sacks);
  }
  // RFC 6675: SACK-based recovery in progress.
  [[nodiscard]] bool sack_recovery(bool sack) const { return sack && sb.in_recovery(); }
};

struct sender : send_vars {
  explicit sender(const tcp_config& cfg)
      : buf(cfg.send_buffer), rtt(cfg.rto_initial, cfg.rto_min, cfg.rto_max), rec(cfg.congestion) {}

  ring_buffer buf;   // queued bytes, sent or not; buf[0] has sequence number buf_start
  seq_num buf_start;
  [[nodiscard]] seq_num data_end() const {  // sequence number after the last queued byte
    return buf_start + seq_len{static_cast<std::uint32_t>(buf.size())};
  }
  bool fin_queued = false;        // our FIN follows the data (shutdown/close called)
  std::optional<seq_num> up;      // SND.UP, once the user sent urgent data (RFC 9293 §3.8.5)

  // Retransmission timer (RFC 6298) and RTT sampling.
  rtt_estimator rtt;
  std::optional<std::pair<seq_num, instant>> rtt_probe;  // Karn: cleared on retransmit
  std::optional<instant> first_tx;  // first transmission of the oldest unacked segment (R2)
  std::uint32_t rto_streak = 0;     // RTO retransmissions of the oldest unacked segment (R1)
  instant progress_at{};  // when sending last made progress, or began to wait (user timeout)

  loss_recovery rec;

  // Persist and sender SWS avoidance (RFC 9293 §3.8.6).
  bool probe_due = false;     // §3.8.6.1: send one byte into a zero window
  bool sws_override = false;  // §3.8.6.2.1: the SWS override timer fired: send what fits
  seq_num sml;                // end of the last segment shorter than the MSS (Minshall)
  // MSG_MORE (Linux's tcp_push with TCP_NAGLE_CORK): the octets at the end of the queue written
  // with it since the last write without it. The push point (PSH, MUST-61) is where they
  // begin: data_end() - more_len. `more_hold` holds a short segment of them, as TCP_CORK
  // would, until the next write without MSG_MORE, an arriving ACK, push() or the persist timer.
  std::uint32_t more_len = 0;
  bool more_hold = false;
  // psh_burst_linux: segments of new data sent in this burst since the last PSH (the packet
  // Linux's TSO sizing would make, connection::linux_tso_segs).
  std::uint32_t linux_chunk = 0;
  // tcp_config::pacing: when the data sent so far would have left at the pacing rate.
  instant pace_next{};

  std::uint64_t retransmissions = 0;  // segments sent again (RetransSegs)
  std::uint64_t fast_retransmits = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t loss_probes = 0;       // tail loss probes sent (RFC 8985 §7.3)
  std::uint64_t probe_recoveries = 0;  // losses a probe repaired (RFC 8985 §7.4)
  std::uint64_t spurious_undos = 0;    // reductions undone: RFC 3708 D-SACK, RFC 3522 Eifel, F-RTO
  std::uint64_t frto_spurious = 0;     // timeouts RFC 5682 F-RTO found spurious
  std::uint64_t dupthresh_raises = 0;  // DupThresh raised by proven reordering (adaptive_dupthresh)
  // RFC 8985 §6 RACK: segments marked lost (rec.rk.losses()) and reo_wnd_mult increments on
  // D-SACK (rec.rk.reo_wnd_adaptations()) are kept by the detector itself.
};

}  // namespace synack
