#pragma once
// RFC 6675 sender scoreboard: which octets between SND.UNA and SND.MAX the receiver has
// SACKed (RFC 2018), kept as a bounded, sorted array of disjoint ranges, plus the loss
// recovery variables HighRxt, RescueRxt and RecoveryPoint. Sans-IO, no allocation.
//
// Conventions: every sequence number this class returns or stores is half-open, like the
// SACK option itself. Where RFC 6675 names an inclusive octet, the value here is one past it:
// high_rxt() == HighRxt + 1, rescue_rxt() == RescueRxt + 1, recovery_point() ==
// RecoveryPoint + 1 == HighData + 1 at entry; SND.UNA == HighACK + 1, SND.MAX == HighData + 1.
//
// Calling contract (the connection drives it; only when SACK was negotiated):
//   update(snd_una, snd_max, blocks)   on every ACK, after applying its cumulative ACK to
//                                      SND.UNA (pass an empty span if it carried no SACK).
//                                      Reports D-SACK (RFC 2883) and newly SACKed bytes.
//   enter_recovery()                   when congestion control enters fast recovery
//                                      (RFC 6675 §5 step 4): RecoveryPoint = HighData.
//     first_retransmission()           the segment of step 4.3 (starts at SND.UNA); send it
//                                      and report it with on_sent().
//   while cwnd - pipe() >= 1 SMSS:     RFC 6675 §5 step (C):
//     s = next_seg(sendable_new)       sendable_new: new bytes the user has queued and the
//                                      peer's window allows; send s, then on_sent(s).
//   exit_recovery()                    when the cumulative ACK passes RecoveryPoint.
//   on_rto(snd_una, snd_max, keep)     retransmission timeout (RFC 6675 §5.1): recovery ends;
//                                      every SACK is forgotten (the receiver may have reneged,
//                                      RFC 2018 §8) unless `keep` (RFC 8985 §6.3): then an ACK
//                                      whose cumulative ACK stops at SACKed octets is the
//                                      reneging test (update() reports it and forgets them).
//
// Bounds: at most `max_ranges` ranges are kept (the ones nearest SND.UNA); a range pushed
// out is counted in dropped_ranges(). At most `max_blocks_per_ack` blocks of one ACK are
// read; the rest are counted in excess_blocks().
#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "synack/wire/seq.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {

struct sack_scoreboard_config {
  std::uint32_t smss = 536;
  std::uint32_t max_ranges = 32;         // clamped to sack_scoreboard::capacity
  std::uint32_t max_blocks_per_ack = 4;  // tcp_options::max_sack_blocks
  std::uint32_t dup_thresh = 3;          // RFC 6675 DupThresh
  bool next_seg_rule_3 = true;           // RFC 6675 §4 NextSeg (3): resend unlost holes
};

struct sack_update {
  bool dsack = false;             // the first block was a D-SACK (RFC 2883 §4)
  sack_block dsack_block{};       // valid when dsack
  std::uint32_t newly_sacked = 0;  // bytes SACKed by this ACK that were not before
  std::uint32_t ignored = 0;       // blocks dropped as invalid (below SND.UNA, beyond SND.MAX, empty)
  // The cumulative ACK moved to octets SACKed before: the receiver dropped them (reneged, RFC
  // 2018 §8). Every SACK was forgotten.
  bool reneged = false;
};

// Which NextSeg rule (RFC 6675 §4) or recovery step chose a segment.
enum class seg_rule : std::uint8_t {
  first,      // §5 step 4.3: the first retransmission, at SND.UNA
  lost,       // rule (1): the first hole that IsLost
  new_data,   // rule (2): previously unsent data
  unlost,     // rule (3): a hole not yet deemed lost
  rescue,     // rule (4): the rescue retransmission at the end of the window
};

struct next_segment {
  seq_num seq;
  std::uint32_t len = 0;
  seg_rule rule = seg_rule::lost;
  friend bool operator==(const next_segment&, const next_segment&) = default;
};

class sack_scoreboard {
 public:
  static constexpr std::size_t capacity = 64;

  explicit sack_scoreboard(sack_scoreboard_config cfg = {});

  // --- inputs -----------------------------------------------------------------------------
  // New parameters (a connection learns its SMSS at the handshake); call reset() after.
  void configure(const sack_scoreboard_config& cfg);
  // The path MTU changed SMSS (RFC 1191): IsLost and the segment counts use the new size from
  // now on; what the scoreboard holds is kept.
  void set_smss(std::uint32_t smss) { cfg_.smss = std::max<std::uint32_t>(smss, 1); }
  // DupThresh raised by proven reordering (tcp_config::adaptive_dupthresh): IsLost uses it.
  void set_dup_thresh(std::uint32_t n) { cfg_.dup_thresh = std::max<std::uint32_t>(n, 1); }
  // Resets the scoreboard for a connection whose first unacknowledged octet is `snd_una`.
  void reset(seq_num snd_una);
  [[nodiscard]] sack_update update(seq_num snd_una, seq_num snd_max, std::span<const sack_block> blocks);
  void enter_recovery();
  void exit_recovery();
  void on_rto(seq_num snd_una, seq_num snd_max, bool keep = false);
  // The receiver reneged (found by the connection, e.g. SND.UNA's octet SACKed when the
  // timer fires): every SACKed range is forgotten, and counted in renegings().
  void renege() {
    count_ = 0;
    ++renegings_;
  }
  // Records that `s` (from next_seg() or first_retransmission()) was sent.
  void on_sent(const next_segment& s);

  // --- queries ----------------------------------------------------------------------------
  [[nodiscard]] bool is_lost(seq_num seq) const;
  [[nodiscard]] bool is_sacked(seq_num seq) const;
  // The first octet of [from, to) not SACKed, if any.
  [[nodiscard]] std::optional<seq_num> first_unsacked(seq_num from, seq_num to) const;
  // The lowest SACKed range that ends above `seq` (it holds `seq` or lies above it), if any.
  [[nodiscard]] std::optional<sack_block> sacked_from(seq_num seq) const;
  // SACKed octets below `seq`.
  [[nodiscard]] std::uint32_t sacked_below(seq_num seq) const;
  // RFC 6675 §4 NextSeg(). `is_lost_rule` false skips rule (1): another loss detector (RACK)
  // answers for the first hole, which then goes only by rules (3) and (4).
  [[nodiscard]] std::optional<next_segment> next_seg(std::uint32_t sendable_new, bool is_lost_rule = true) const;
  [[nodiscard]] std::optional<next_segment> first_retransmission() const;
  [[nodiscard]] std::uint32_t pipe() const;
  [[nodiscard]] std::uint32_t sacked_bytes() const;

  [[nodiscard]] seq_num snd_una() const { return una_; }
  [[nodiscard]] seq_num snd_max() const { return max_; }
  [[nodiscard]] seq_num high_rxt() const { return high_rxt_; }
  [[nodiscard]] std::optional<seq_num> rescue_rxt() const { return rescue_rxt_; }
  [[nodiscard]] std::optional<seq_num> recovery_point() const { return recovery_point_; }
  [[nodiscard]] bool in_recovery() const { return in_recovery_; }
  // One past the highest SACKed octet, if anything is SACKed.
  // Inline: an optional returned out of line is written to the stack and reread wider (a
  // store-forwarding stall on every ACK).
  [[nodiscard]] std::optional<seq_num> highest_sacked() const {
    if (count_ == 0) return std::nullopt;
    return ranges_[count_ - 1].right;
  }
  [[nodiscard]] std::size_t range_count() const { return count_; }
  [[nodiscard]] sack_block range(std::size_t i) const { return ranges_[i]; }

  // Counters (monotonic): ranges forgotten because of max_ranges, blocks ignored as
  // invalid, blocks beyond max_blocks_per_ack, D-SACKs seen.
  [[nodiscard]] std::uint64_t dropped_ranges() const { return dropped_ranges_; }
  [[nodiscard]] std::uint64_t ignored_blocks() const { return ignored_blocks_; }
  [[nodiscard]] std::uint64_t excess_blocks() const { return excess_blocks_; }
  [[nodiscard]] std::uint64_t dsacks() const { return dsacks_; }
  // ACKs that showed the receiver had dropped octets it SACKed (update()'s `reneged`).
  [[nodiscard]] std::uint32_t renegings() const { return renegings_; }

 private:
  [[nodiscard]] std::uint32_t off(seq_num s) const { return distance(una_, s).n; }
  void advance_una(seq_num snd_una);
  void insert(sack_block b);
  void erase(std::size_t i, std::size_t n);
  // SACKed octets and segments strictly above `seq` (the two tests of IsLost).
  struct above {
    std::uint32_t bytes = 0;
    std::uint32_t segments = 0;
  };
  [[nodiscard]] above sacked_above(seq_num seq) const;
  [[nodiscard]] bool lost_given(above a) const;
  // First unSACKed octet at or after `from` that lies below the highest SACKed octet, with
  // the end of its hole.
  [[nodiscard]] std::optional<sack_block> hole_from(seq_num from) const;

  sack_scoreboard_config cfg_;
  std::uint32_t renegings_ = 0;  // in the padding after cfg_: no room taken in the TCB
  // Sorted, disjoint, non-adjacent, in [una_, max_); `capacity` entries once the first SACK
  // block arrives (empty before: a connection without SACK losses carries none of it).
  std::vector<sack_block> ranges_;
  std::size_t count_ = 0;
  seq_num una_;
  seq_num max_;
  seq_num high_rxt_;
  std::optional<seq_num> rescue_rxt_;
  std::optional<seq_num> recovery_point_;
  bool in_recovery_ = false;
  std::uint64_t dropped_ranges_ = 0;
  std::uint64_t ignored_blocks_ = 0;
  std::uint64_t excess_blocks_ = 0;
  std::uint64_t dsacks_ = 0;
};

}  // namespace synack
