#pragma once
// RFC 8985 §6 RACK: time-based loss detection. A segment is lost once a segment sent after it
// was delivered (cumulatively acknowledged or SACKed) and a reordering window has passed since
// then: now >= Segment.xmit_ts + RACK.rtt + RACK.reo_wnd. Unlike RFC 6675's DupThresh this
// sees a lost retransmission (its new xmit_ts is compared with segments sent after it), a loss
// at the tail of a short flight, and lets reordering shorter than the window go unpunished.
//
// The transmit record: one entry per range of sequence numbers sent at one instant (a segment,
// or several adjacent new segments sent at the same instant, merged), sorted by sequence number,
// at most `capacity` of them. A full record makes room by merging two adjacent entries into a
// coarser one (coarsen(): two SACKed ones, else the two in the same state whose merged entry
// spans the least time), so a paced flight larger than the record stays covered, each entry
// about RTT / capacity wide. A coarse entry is judged conservatively: lost only once its newest
// part would be (§6.2 step 5 on its newest xmit_ts), and when delivered it advances RACK.xmit_ts
// and RACK.rtt as its oldest part would (an RTT longer by at most its span); a never-resent
// entry below a delivered never-resent one was sent before it (new data leaves in sequence
// order), so a hole inside a coarse entry is found by a SACK of its upper part. Only a segment for
// which no pair can be merged is not tracked (counted in overflows()); RFC 6675's rules (the
// scoreboard's IsLost) answer for it. Sans-IO: time comes in as `now`.
//
// Memory follows the flight (issue #13): the record is allocated when the first segment is
// recorded (a connection that never sends carries none of it), first_storage entries, doubled
// when full up to `capacity` (a few copies per connection, none per segment once grown). When
// everything is acknowledged a record grown past first_storage is freed: a bulk flight's 14 KiB
// does not stay with the idle connection, while request/response traffic keeps its first
// entries instead of allocating per flight. storage() is what it holds allocated.
//
// Calling contract (the connection drives it; only when SACK was negotiated):
//   on_sent(now, seq, end, rtx, snap)  for every data segment sent (rtx: sent before), with
//                                   the delivery-rate snapshot BBR takes (tcp/delivery_rate.hpp).
//   on_rtt_sample(rtt)              an RFC 6298 / RFC 7323 sample (RACK.min_RTT, §6.2 step 1).
//   on_ack(now, una, sb, dsack, snd_max, echoed_before)
//                                   on every ACK, after the scoreboard's update: §6.2 steps 2-4;
//                                   and the newest segment it delivered, for the rate sample.
// BBR keeps the record (without RACK's loss detection) even without SACK: its entries carry
// the per-segment snapshots of delivery rate estimation.
//   detect_loss_at(now, srtt, in_recovery) -> the deadline of the reorder timer (max(): none)
//                                   (§6.2 step 5); lost_pending() segments await a resend.
//   on_recovery_exit()              fast recovery ended (§6.2 step 4: reo_wnd_persist).
//   on_rto(keep_sacked)             a retransmission timeout: every lost mark is forgotten,
//                                   and every SACKed one unless keep_sacked (RFC 8985 §6.3).
//   forget_sacks()                  the receiver reneged: no segment is SACKed any more.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "synack/tcp/delivery_rate.hpp"
#include "synack/tcp/sack_scoreboard.hpp"
#include "synack/util/time.hpp"
#include "synack/wire/seq.hpp"

namespace synack {

struct rack_segment {
  seq_num seq;
  seq_num end;                 // one past the last sequence number (the FIN counts one)
  instant xmit_ts{};           // Segment.xmit_ts: the latest transmission
  bool retransmitted = false;  // Segment.retransmitted
  bool sacked = false;         // delivered, selectively
  bool lost = false;           // Segment.lost: marked lost and not sent again since
  // Marked lost, then sent again: the original left the network, only the retransmission
  // is in flight (pipe counts it once, as Linux's lost_out + retrans_out do).
  bool resent_lost = false;
  // A coarse entry (adjacent entries merged when the record was full, rack::coarsen): its
  // parts were sent within [xmit_ts - span_us, xmit_ts], xmit_ts being the newest part's.
  // 0 for an entry sent at one instant. (In what was padding: the entry stays 56 octets.)
  std::uint32_t span_us = 0;
  delivery_snapshot snap;  // the connection's delivery state at xmit_ts (BBR's rate samples)
};

class rack {
 public:
  static constexpr std::uint32_t reo_wnd_persist_recoveries = 16;  // §6.2 step 4
  // Entries the record is first allocated with (448 octets: an entry is 56 with BBR's delivery
  // snapshot, 24 before it; request/response flights fit).
  static constexpr std::size_t first_storage = 8;

  // Capacity of the transmit record (the most it grows to) and DupThresh (§6.2 step 4).
  void configure(std::size_t capacity, std::uint32_t dup_thresh, std::uint32_t smss);
  void set_smss(std::uint32_t smss) { smss_ = std::max<std::uint32_t>(smss, 1); }
  void reset(seq_num una);

  void on_sent(instant now, seq_num seq, seq_num end, bool retransmission, const delivery_snapshot& snap = {});
  void on_rtt_sample(duration rtt) { min_rtt_ = min_rtt_ ? std::min(*min_rtt_, rtt) : rtt; }
  // A non-owning callable: does the ACK's TSecr predate a segment sent at `t`? (§6.2 step 2;
  // always false without timestamps.) It must outlive the call it is passed to.
  class echo_fn {
   public:
    template <class F>
    echo_fn(const F& f)  // NOLINT(google-explicit-constructor): a function reference
        : obj_(&f), call_([](const void* o, instant t) { return (*static_cast<const F*>(o))(t); }) {}
    bool operator()(instant t) const { return call_(obj_, t); }

   private:
    const void* obj_;
    bool (*call_)(const void*, instant);
  };
  // `newest` (if given): the segment this ACK delivered with the largest P.delivered (the
  // latest sent among equals), for delivery rate estimation; unchanged if it delivered none.
  void on_ack(instant now, seq_num una, const sack_scoreboard& sb, bool dsack, seq_num snd_max, echo_fn echoed_before,
              std::optional<delivered_segment>* newest = nullptr);
  // instant::max() when no timer is due (a plain value: an optional returned out of line is
  // written to the stack and reread wider on every ACK).
  [[nodiscard]] instant detect_loss_at(instant now, std::optional<duration> srtt, bool in_recovery);
  // An ACK that found the record idle() with no recovery (connection::nothing_to_recover):
  // RACK.min_RTT takes the latest sample and reo_wnd follows, as detect_loss_at would compute
  // them, with no segment to mark and no timer (the receiving side of a transfer: every segment).
  void on_idle_ack(std::optional<duration> rtt, std::optional<duration> srtt) {
    if (rtt) on_rtt_sample(*rtt);
    reo_wnd_ = !reordering_seen_ && dup_thresh_ == 0 ? duration{0} : reo_wnd_from_rtt(srtt);
  }
  void on_recovery_exit();
  // A fast recovery whose retransmissions all proved spurious (connection::try_undo): what
  // started it was reordering. Sets RACK.reordering_seen (DEVIATION, see connection::try_undo).
  void on_reordering_proven() { reordering_seen_ = true; }
  void on_rto(bool keep_sacked = false);
  void forget_sacks();

  // The first segment marked lost and not sent again since, from SND.UNA up.
  [[nodiscard]] std::optional<rack_segment> first_lost() const;
  [[nodiscard]] std::size_t lost_pending() const { return lost_pending_; }
  // Whether `seq` lies in a recorded segment (else RFC 6675 answers for it).
  [[nodiscard]] bool tracks(seq_num seq) const;
  // Octets of segments marked lost and not yet sent again, as the scoreboard's pipe() counts
  // them (once if not IsLost, once more below HighRxt), and of those marked lost and sent
  // again since, the original's count (once if not IsLost: the retransmission below HighRxt
  // stays): RACK's pipe is pipe() less this.
  [[nodiscard]] std::uint32_t lost_in_pipe(const sack_scoreboard& sb) const;
  // RACK.reo_wnd as detect_loss_at last computed it.
  [[nodiscard]] duration reo_wnd() const { return reo_wnd_; }
  [[nodiscard]] std::uint32_t reo_wnd_mult() const { return reo_wnd_mult_; }
  [[nodiscard]] bool reordering_seen() const { return reordering_seen_; }
  [[nodiscard]] std::optional<duration> min_rtt() const { return min_rtt_; }
  // RACK.rtt smoothed over ACKs (RFC 6298's gain of 1/8): one sample per ACK that delivered a
  // segment unambiguously, cumulatively or selectively, as Linux's srtt takes one from a
  // SACK-only ACK too (tcp_ack_update_rtt's sack_rtt). The RFC 6298 / RFC 7323 SRTT samples
  // only ACKs that move SND.UNA, and under reordering or loss those are mostly the ones a late
  // or resent segment released, which echo its early TSval: 25 % of segments held 30 ms on a
  // 20 ms path gave an SRTT of 45-50 ms against a mean of about 28 ms over all segments. The
  // pacing rate is taken over this one (connection::pacing_rate). nullopt before a sample.
  [[nodiscard]] std::optional<duration> smoothed_rtt() const {
    return smoothed_rtt_us_ > 0 ? std::optional<duration>{duration{smoothed_rtt_us_}} : std::nullopt;
  }
  [[nodiscard]] std::size_t size() const { return segs_.size(); }
  // Nothing recorded, nothing lost awaiting a resend, no D-SACK round open: an ACK that
  // delivers nothing and carries no SACK block changes nothing here.
  [[nodiscard]] bool idle() const { return segs_.empty() && lost_pending_ == 0 && !dsack_round_; }
  // Octets of transmit record allocated now (0 before the first segment, and once a grown
  // record was emptied).
  [[nodiscard]] std::size_t storage() const { return segs_.capacity() * sizeof(rack_segment); }

  // Counters (monotonic): segments marked lost, reo_wnd_mult increments on D-SACK (§6.2
  // step 4), segments not recorded because the record was full.
  [[nodiscard]] std::uint64_t losses() const { return losses_; }
  [[nodiscard]] std::uint64_t reo_wnd_adaptations() const { return adaptations_; }
  [[nodiscard]] std::uint64_t overflows() const { return overflows_; }

 private:
  [[nodiscard]] duration compute_reo_wnd(std::optional<duration> srtt, bool in_recovery) const;
  // §6.2 step 4's window once reordering or too few SACKed segments leave it open.
  [[nodiscard]] duration reo_wnd_from_rtt(std::optional<duration> srtt) const {
    if (!min_rtt_) return srtt ? *srtt / 4 : duration{0};
    const duration d = reo_wnd_mult_ * *min_rtt_ / 4;
    return srtt ? std::min(d, *srtt) : d;
  }
  // Splits the entry holding `at` strictly inside it, coarsening elsewhere if the record is
  // full (never across `keep` nor an edge of sb's ranges, when given); false if it cannot.
  bool split_at(seq_num at, seq_num keep, const sack_scoreboard* sb = nullptr);
  // Merges two adjacent entries of a full record into one, not across `keep` nor an edge of
  // sb's ranges (boundaries this ACK or retransmission needs); false if no pair can be.
  bool coarsen(seq_num keep, const sack_scoreboard* sb);
  // Room for one more entry (the caller checked size() < capacity_): allocates the record or
  // doubles it, never past capacity_.
  void make_room();
  void drop_acked(seq_num una);
  void set_lost(rack_segment& s, bool lost);

  std::vector<rack_segment> segs_;  // sorted by seq, disjoint; allocated as the flight needs
  std::size_t capacity_ = 256;
  std::uint32_t dup_thresh_ = 3;
  std::uint32_t smss_ = 536;
  seq_num una_;
  // RACK.xmit_ts, RACK.end_seq (of the most recently sent segment delivered), RACK.rtt.
  std::optional<instant> rack_xmit_ts_;
  seq_num rack_end_seq_;
  // smoothed_rtt() in microseconds (0: no sample yet); 32 bits fill the padding after
  // rack_end_seq_, so the TCB stays within its bound (issue #13).
  std::uint32_t smoothed_rtt_us_ = 0;
  duration rack_rtt_{};
  std::optional<duration> min_rtt_;  // RACK.min_RTT
  seq_num fack_;                      // RACK.fack
  bool reordering_seen_ = false;      // RACK.reordering_seen
  // The segment RACK.xmit_ts came from was never resent: every never-resent segment below
  // RACK.end_seq was sent before it, whatever coarse entries' times say (detect_loss_at).
  bool rack_xmit_original_ = false;
  std::optional<seq_num> dsack_round_;  // RACK.dsack_round
  std::uint32_t reo_wnd_mult_ = 1;      // RACK.reo_wnd_mult
  std::uint32_t reo_wnd_persist_ = reo_wnd_persist_recoveries;  // RACK.reo_wnd_persist
  duration reo_wnd_{};
  std::size_t lost_pending_ = 0;
  std::uint64_t losses_ = 0;
  std::uint64_t adaptations_ = 0;
  std::uint64_t overflows_ = 0;
};

}  // namespace synack
