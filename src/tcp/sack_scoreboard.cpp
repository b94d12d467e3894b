#include "synack/tcp/sack_scoreboard.hpp"

#include <algorithm>

namespace synack {

sack_scoreboard::sack_scoreboard(sack_scoreboard_config cfg) { configure(cfg); }

void sack_scoreboard::configure(const sack_scoreboard_config& cfg) {
  cfg_ = cfg;
  cfg_.smss = std::max<std::uint32_t>(cfg_.smss, 1);
  cfg_.max_ranges = std::clamp<std::uint32_t>(cfg_.max_ranges, 1, capacity);
  cfg_.dup_thresh = std::max<std::uint32_t>(cfg_.dup_thresh, 1);
}

void sack_scoreboard::reset(seq_num snd_una) {
  count_ = 0;
  una_ = max_ = high_rxt_ = snd_una;
  rescue_rxt_.reset();
  recovery_point_.reset();
  in_recovery_ = false;
}

// --- ranges -------------------------------------------------------------------------------

void sack_scoreboard::erase(std::size_t i, std::size_t n) {
  std::copy(ranges_.begin() + static_cast<std::ptrdiff_t>(i + n),
            ranges_.begin() + static_cast<std::ptrdiff_t>(count_), ranges_.begin() + static_cast<std::ptrdiff_t>(i));
  count_ -= n;
}

// The cumulative ACK moved: forget SACKed octets it now covers.
void sack_scoreboard::advance_una(seq_num snd_una) {
  if (!snd_una.after(una_)) return;
  std::size_t gone = 0;
  while (gone < count_ && ranges_[gone].right.before_eq(snd_una)) ++gone;
  erase(0, gone);
  if (count_ > 0 && ranges_[0].left.before(snd_una)) ranges_[0].left = snd_una;
  una_ = snd_una;
  max_ = seq_max(max_, una_);
  high_rxt_ = seq_max(high_rxt_, una_);
}

// Adds [b.left, b.right), already clipped to [una_, max_), merging overlapping and adjacent
// ranges. When the array is full the range farthest from SND.UNA is forgotten: loss
// detection and NextSeg look at the lowest holes first.
void sack_scoreboard::insert(sack_block b) {
  if (ranges_.empty()) ranges_.resize(capacity);  // once per connection
  const std::uint32_t a = off(b.left);
  const std::uint32_t e = off(b.right);
  std::size_t i = 0;
  while (i < count_ && off(ranges_[i].right) < a) ++i;
  std::size_t j = i;
  while (j < count_ && off(ranges_[j].left) <= e) ++j;
  if (j > i) {
    const std::uint32_t lo = std::min(a, off(ranges_[i].left));
    const std::uint32_t hi = std::max(e, off(ranges_[j - 1].right));
    ranges_[i] = sack_block{una_ + seq_len{lo}, una_ + seq_len{hi}};
    erase(i + 1, j - i - 1);
    return;
  }
  if (count_ == cfg_.max_ranges) {
    ++dropped_ranges_;
    if (i == count_) return;  // the new range is the farthest one
    --count_;
  }
  std::copy_backward(ranges_.begin() + static_cast<std::ptrdiff_t>(i),
                     ranges_.begin() + static_cast<std::ptrdiff_t>(count_),
                     ranges_.begin() + static_cast<std::ptrdiff_t>(count_ + 1));
  ranges_[i] = b;
  ++count_;
}

// RFC 6675 §5 (on every ACK): update the scoreboard from the SACK blocks. RFC 2883 §4: the
// first block is a D-SACK if it lies below the cumulative ACK or inside another block of
// the same option; it reports a duplicate, not new data, and is not added.
sack_update sack_scoreboard::update(seq_num snd_una, seq_num snd_max, std::span<const sack_block> blocks) {
  sack_update r;
  max_ = seq_max(max_, snd_max);
  const bool moved = snd_una.after(una_);
  advance_una(snd_una);
  // RFC 6675 §5.1's test for reneging (Linux's tcp_check_sack_reneging): a receiver holding
  // the octets it SACKed acknowledges past them once the cumulative ACK reaches them, so an
  // ACK that stops at (or inside) a SACKed range shows they were dropped. None of the ranges
  // is trusted after that; this ACK's own blocks are.
  if (moved && count_ > 0 && ranges_[0].left == una_) {
    r.reneged = true;
    renege();
  }
  const std::uint32_t before = sacked_bytes();
  const std::size_t n = std::min<std::size_t>(blocks.size(), cfg_.max_blocks_per_ack);
  excess_blocks_ += blocks.size() - n;
  for (std::size_t i = 0; i < n; ++i) {
    sack_block b = blocks[i];
    if (!b.left.before(b.right)) {
      ++r.ignored;
      continue;
    }
    if (i == 0) {
      bool dsack = b.left.before(una_);
      for (std::size_t k = 1; k < n && !dsack; ++k) {
        dsack = b.left.after_eq(blocks[k].left) && b.right.before_eq(blocks[k].right) &&
                blocks[k].left.before(blocks[k].right);
      }
      if (dsack) {
        r.dsack = true;
        r.dsack_block = b;
        ++dsacks_;
        continue;
      }
    }
    if (b.right.after(max_) || b.right.before_eq(una_)) {  // beyond SND.MAX or fully ACKed
      ++r.ignored;
      continue;
    }
    b.left = seq_max(b.left, una_);
    insert(b);
  }
  ignored_blocks_ += r.ignored;
  const std::uint32_t after = sacked_bytes();
  r.newly_sacked = after > before ? after - before : 0;
  return r;
}

// --- recovery -----------------------------------------------------------------------------

// RFC 6675 §5 step (4.1): RecoveryPoint = HighData. Nothing is retransmitted yet.
void sack_scoreboard::enter_recovery() {
  in_recovery_ = true;
  recovery_point_ = max_;
  high_rxt_ = una_;
}

void sack_scoreboard::exit_recovery() {
  in_recovery_ = false;
  high_rxt_ = una_;
}

// RFC 6675 §5.1: RecoveryPoint = HighData, loss recovery ends. SACK information is
// expunged as RFC 2018 §8 requires ("ignore prior SACK information"), or, with `keep`, kept as
// RFC 8985 §6.3 does, the reneging test in update() standing guard.
void sack_scoreboard::on_rto(seq_num snd_una, seq_num snd_max, bool keep) {
  max_ = seq_max(max_, snd_max);
  advance_una(snd_una);
  if (!keep) count_ = 0;
  recovery_point_ = max_;
  in_recovery_ = false;
  high_rxt_ = una_;
}

void sack_scoreboard::on_sent(const next_segment& s) {
  const seq_num end = s.seq + seq_len{s.len};
  switch (s.rule) {
    case seg_rule::first:  // §5 step (4.3): HighRxt and RescueRxt = end of that segment
      high_rxt_ = seq_max(high_rxt_, end);
      rescue_rxt_ = end;
      break;
    case seg_rule::lost:  // §5 (C.3): HighRxt = highest retransmitted octet
    case seg_rule::unlost:
      high_rxt_ = seq_max(high_rxt_, end);
      break;
    case seg_rule::new_data:  // §5 (C.2): HighData grows
      max_ = seq_max(max_, end);
      break;
    case seg_rule::rescue:  // §4 rule (4): RescueRxt = RecoveryPoint, HighRxt unchanged
      rescue_rxt_ = recovery_point_.value_or(max_);
      break;
  }
}

// --- queries ------------------------------------------------------------------------------

std::uint32_t sack_scoreboard::sacked_bytes() const {
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < count_; ++i) n += distance(ranges_[i].left, ranges_[i].right).n;
  return n;
}

bool sack_scoreboard::is_sacked(seq_num seq) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (seq.in_window(ranges_[i].left, distance(ranges_[i].left, ranges_[i].right).n)) return true;
  }
  return false;
}

std::optional<seq_num> sack_scoreboard::first_unsacked(seq_num from, seq_num to) const {
  seq_num x = from;
  for (std::size_t i = 0; i < count_ && x.before(to); ++i) {
    if (ranges_[i].right.before_eq(x)) continue;
    if (ranges_[i].left.after(x)) break;  // sorted: x lies in the gap below this range
    x = ranges_[i].right;
  }
  if (!x.before(to)) return std::nullopt;
  return x;
}

std::optional<sack_block> sack_scoreboard::sacked_from(seq_num seq) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (ranges_[i].right.after(seq)) return ranges_[i];
  }
  return std::nullopt;
}

std::uint32_t sack_scoreboard::sacked_below(seq_num seq) const {
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < count_ && ranges_[i].left.before(seq); ++i) {
    n += distance(ranges_[i].left, seq_min(ranges_[i].right, seq)).n;
  }
  return n;
}

// Segments are not visible in a range, so a range counts as ceil(bytes / SMSS) segments:
// exact for full-sized segments, and at least one per discontiguous range.
sack_scoreboard::above sack_scoreboard::sacked_above(seq_num seq) const {
  above a;
  const seq_num from = seq.next();  // "sequence numbers greater than SeqNum"
  for (std::size_t i = 0; i < count_; ++i) {
    if (!ranges_[i].right.after(from)) continue;
    const std::uint32_t len = distance(seq_max(ranges_[i].left, from), ranges_[i].right).n;
    a.bytes += len;
    a.segments += (len + cfg_.smss - 1) / cfg_.smss;
  }
  return a;
}

// RFC 6675 §4 IsLost: DupThresh SACKed segments above, or more than (DupThresh - 1) * SMSS
// SACKed bytes above.
bool sack_scoreboard::lost_given(above a) const {
  return a.segments >= cfg_.dup_thresh ||
         std::uint64_t{a.bytes} > std::uint64_t{cfg_.dup_thresh - 1} * cfg_.smss;
}

bool sack_scoreboard::is_lost(seq_num seq) const { return lost_given(sacked_above(seq)); }

std::optional<sack_block> sack_scoreboard::hole_from(seq_num from) const {
  seq_num cur = seq_max(from, una_);
  for (std::size_t i = 0; i < count_; ++i) {
    if (cur.before(ranges_[i].left)) return sack_block{cur, ranges_[i].left};
    cur = seq_max(cur, ranges_[i].right);
  }
  return std::nullopt;  // anything left is above the highest SACKed octet (rule 1.b)
}

std::optional<next_segment> sack_scoreboard::first_retransmission() const {
  if (una_ == max_) return std::nullopt;
  const seq_num end = count_ > 0 ? ranges_[0].left : max_;
  return next_segment{una_, std::min(cfg_.smss, distance(una_, end).n), seg_rule::first};
}

// RFC 6675 §4 NextSeg().
std::optional<next_segment> sack_scoreboard::next_seg(std::uint32_t sendable_new, bool is_lost_rule) const {
  // (1.a) S2 > HighRxt, (1.b) S2 below the highest SACKed octet; the first such hole is
  // the only candidate because IsLost can only become false further up.
  const std::optional<sack_block> hole = hole_from(high_rxt_);
  const auto in_hole = [&](seg_rule rule) {
    return next_segment{hole->left, std::min(cfg_.smss, distance(hole->left, hole->right).n), rule};
  };
  if (is_lost_rule && hole && is_lost(hole->left)) return in_hole(seg_rule::lost);  // rule (1)
  if (sendable_new > 0) return next_segment{max_, std::min(cfg_.smss, sendable_new), seg_rule::new_data};  // (2)
  if (cfg_.next_seg_rule_3 && hole) return in_hole(seg_rule::unlost);  // rule (3)
  // Rule (4): one rescue retransmission per recovery, of the highest unSACKed octet, if
  // HighACK > RescueRxt (una_ > rescue_rxt_ in half-open terms).
  if (!in_recovery_ || (rescue_rxt_ && !una_.after(*rescue_rxt_))) return std::nullopt;
  seq_num end = max_;
  seq_num start = count_ > 0 ? ranges_[count_ - 1].right : una_;
  if (count_ > 0 && ranges_[count_ - 1].right == max_) {
    end = ranges_[count_ - 1].left;
    start = count_ > 1 ? ranges_[count_ - 2].right : una_;
  }
  if (!start.before(end)) return std::nullopt;
  const std::uint32_t len = std::min(cfg_.smss, distance(start, end).n);
  return next_segment{end - seq_len{len}, len, seg_rule::rescue};
}

// RFC 6675 §4 SetPipe: every unSACKed octet in [SND.UNA, SND.MAX) counts once if it is not
// deemed lost, and once more if it was retransmitted (below HighRxt). IsLost is constant
// inside a hole, so holes are walked from the top, accumulating the SACKed data above.
std::uint32_t sack_scoreboard::pipe() const {
  std::uint64_t pipe = 0;
  above a;
  const auto add_hole = [&](seq_num lo, seq_num hi) {
    if (!lo.before(hi)) return;
    if (!lost_given(a)) pipe += distance(lo, hi).n;
    if (high_rxt_.after(lo)) pipe += distance(lo, seq_min(hi, high_rxt_)).n;
  };
  add_hole(count_ > 0 ? ranges_[count_ - 1].right : una_, max_);
  for (std::size_t k = count_; k-- > 0;) {
    const std::uint32_t len = distance(ranges_[k].left, ranges_[k].right).n;
    a.bytes += len;
    a.segments += (len + cfg_.smss - 1) / cfg_.smss;
    add_hole(k > 0 ? ranges_[k - 1].right : una_, ranges_[k].left);
  }
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(pipe, UINT32_MAX));
}

}  // namespace synack
