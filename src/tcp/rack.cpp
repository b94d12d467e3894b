// RFC 8985 §6 RACK time-based loss detection (see rack.hpp for the calling contract).
#include "synack/tcp/rack.hpp"

namespace synack {

namespace {

// RFC 8985 §6.2 RACK_sent_after: t1/seq1 was sent after t2/seq2 (the later end sequence
// number breaks a tie of transmit times).
bool sent_after(instant t1, seq_num seq1, instant t2, seq_num seq2) {
  return t1 > t2 || (t1 == t2 && seq1.after(seq2));
}

std::uint32_t len_of(const rack_segment& s) { return distance(s.seq, s.end).n; }

// The transmission of an entry's oldest part (xmit_ts for one sent at one instant): when a
// coarse entry is delivered, the part delivered was sent no earlier than this.
instant oldest_ts(const rack_segment& s) { return s.xmit_ts - duration{s.span_us}; }

// Neither SACKed, marked lost nor sent again: a plain original in flight.
bool plain(const rack_segment& s) { return !s.retransmitted && !s.sacked && !s.lost && !s.resent_lost; }

}  // namespace

void rack::configure(std::size_t capacity, std::uint32_t dup_thresh, std::uint32_t smss) {
  capacity_ = std::max<std::size_t>(capacity, 1);
  dup_thresh_ = std::max<std::uint32_t>(dup_thresh, 1);
  set_smss(smss);
}

void rack::reset(seq_num una) {
  segs_.clear();
  una_ = una;
  fack_ = una;
  rack_xmit_ts_.reset();
  rack_xmit_original_ = false;
  rack_rtt_ = {};
  lost_pending_ = 0;
  dsack_round_.reset();
}

void rack::set_lost(rack_segment& s, bool lost) {
  if (s.lost == lost) return;
  s.lost = lost;
  if (lost) {
    ++lost_pending_;
  } else {
    --lost_pending_;
  }
}

bool rack::split_at(seq_num at, seq_num keep, const sack_scoreboard* sb) {
  for (std::size_t i = 0; i < segs_.size(); ++i) {
    if (!segs_[i].seq.before(at)) return true;  // sorted: nothing further holds it
    if (!at.before(segs_[i].end)) continue;
    if (segs_.size() >= capacity_) {
      if (!coarsen(keep, sb)) {
        ++overflows_;
        return false;
      }
      return split_at(at, keep, sb);  // entries moved; `at` is still strictly inside one
    }
    rack_segment& s = segs_[i];
    rack_segment upper = s;  // both halves keep xmit_ts and span_us: still bounds of their parts
    upper.seq = at;
    s.end = at;
    if (upper.lost) ++lost_pending_;  // both halves stay marked
    make_room();                      // `s` is not used past this point
    segs_.insert(segs_.begin() + static_cast<std::ptrdiff_t>(i) + 1, upper);
    return true;
  }
  return true;
}

// Issue #12: a paced flight sends each segment at an instant of its own, so a flight larger
// than the record (1,600 segments at 1 Gbit/s x 20 ms against 256 entries) left most of it
// untracked, and a hole RACK tracked waited for the RTO while what was SACKed above it went
// unseen. Merging the pair whose merged entry spans the least time keeps the entries about
// equally wide (RTT / capacity each over a paced flight). Two SACKed entries merge first (they
// are never judged lost again); otherwise two in the same state (never resent; resent; marked
// lost), so that the retransmissions of a large loss are covered too. The merged entry's
// xmit_ts is the newer's (loss is judged on the newest part), span_us reaches back to the
// older's oldest part (a delivery advances RACK.xmit_ts no further than that; a retransmission's
// ACK is ambiguous as its newest part's would be), and it keeps the newer's delivery snapshot,
// the one taken with that xmit_ts (a rate sample from a part of it counts from the newest part:
// fewer octets over the same interval, never a higher rate). Never across `keep` nor an edge
// of sb's ranges: those are boundaries the caller is making.
bool rack::coarsen(seq_num keep, const sack_scoreboard* sb) {
  std::size_t best = segs_.size();
  duration best_span = duration::max();
  std::size_t j = 0;  // sb's ranges, walked beside the boundaries (both ascend)
  for (std::size_t i = 0; i + 1 < segs_.size(); ++i) {
    const rack_segment& a = segs_[i];
    const rack_segment& b = segs_[i + 1];
    if (a.end != b.seq || a.end == keep) continue;
    if (sb != nullptr) {
      while (j < sb->range_count() && sb->range(j).right.before(a.end)) ++j;
      if (j < sb->range_count() && (sb->range(j).left == a.end || sb->range(j).right == a.end)) continue;
    }
    // span_us holds at most 2^32 - 1 us (71 minutes): a pair further apart is not merged.
    const duration span = std::max(a.xmit_ts, b.xmit_ts) - std::min(oldest_ts(a), oldest_ts(b));
    if (span > duration{UINT32_MAX}) continue;
    if (a.sacked && b.sacked && a.resent_lost == b.resent_lost) {
      best = i;
      break;
    }
    if (a.sacked || b.sacked || a.lost != b.lost || a.retransmitted != b.retransmitted || a.resent_lost != b.resent_lost) continue;
    if (span < best_span) {
      best = i;
      best_span = span;
    }
  }
  if (best == segs_.size()) return false;
  rack_segment& a = segs_[best];
  const rack_segment& b = segs_[best + 1];
  const instant oldest = std::min(oldest_ts(a), oldest_ts(b));
  if (b.xmit_ts >= a.xmit_ts) {
    a.xmit_ts = b.xmit_ts;
    a.snap = b.snap;
  }
  a.span_us = static_cast<std::uint32_t>((a.xmit_ts - oldest).count());
  a.end = b.end;
  a.retransmitted = a.retransmitted || b.retransmitted;
  if (b.lost) --lost_pending_;  // two marked entries become one
  segs_.erase(segs_.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  return true;
}

void rack::make_room() {
  if (segs_.size() < segs_.capacity()) return;
  segs_.reserve(std::min(capacity_, std::max(first_storage, 2 * segs_.capacity())));
}

// Records a transmission. New data is appended (merged into the last entry when it follows
// it, was sent at the same instant and nothing happened to it since); a retransmission gives
// the entries it covers a new xmit_ts (split at its edges first).
void rack::on_sent(instant now, seq_num seq, seq_num end, bool retransmission, const delivery_snapshot& snap) {
  if (!seq.before(end)) return;
  if (retransmission) {
    split_at(seq, end);
    split_at(end, seq);
    for (rack_segment& s : segs_) {
      if (!s.seq.before(end)) break;
      if (!s.end.after(seq)) continue;
      s.xmit_ts = now;
      s.span_us = 0;
      s.snap = snap;
      s.retransmitted = true;
      if (s.lost) s.resent_lost = true;
      set_lost(s, false);
    }
    return;
  }
  if (!segs_.empty()) {
    rack_segment& last = segs_.back();
    if (seq.before(last.end)) return;  // not new after all: nothing to append
    if (last.end == seq && last.xmit_ts == now && !last.retransmitted && !last.sacked && !last.lost &&
        last.snap.delivered == snap.delivered && last.snap.first_sent_time == snap.first_sent_time) {
      last.end = end;
      return;
    }
  }
  if (segs_.size() >= capacity_ && !coarsen(seq, nullptr)) {
    ++overflows_;  // untracked: RFC 6675's rules answer for it
    return;
  }
  make_room();
  segs_.push_back(rack_segment{seq, end, now, false, false, false, false, 0, snap});
}

void rack::drop_acked(seq_num una) {
  std::size_t n = 0;
  while (n < segs_.size() && segs_[n].end.before_eq(una)) {
    set_lost(segs_[n], false);
    ++n;
  }
  segs_.erase(segs_.begin(), segs_.begin() + static_cast<std::ptrdiff_t>(n));
  // Everything acknowledged: a record grown past its first entries goes (move-assigned:
  // clear() would keep the storage); the next flight allocates it again.
  if (segs_.empty() && segs_.capacity() > first_storage) segs_ = std::vector<rack_segment>{};
  if (!segs_.empty() && segs_.front().seq.before(una)) segs_.front().seq = una;
}

// RFC 8985 §6.2 steps 2-4 for one ACK: the segments it newly delivered, cumulatively or
// selectively, in sequence order (which is RACK_detect_reordering's ascending end_seq order;
// RACK_update's ascending xmit_ts order only decides which RACK.rtt is kept last: the one of
// the most recently sent, taken here directly).
void rack::on_ack(instant now, seq_num una, const sack_scoreboard& sb, bool dsack, seq_num snd_max,
                  echo_fn echoed_before, std::optional<delivered_segment>* newest) {
  split_at(una, una, &sb);
  for (std::size_t k = 0; k < sb.range_count(); ++k) {
    split_at(sb.range(k).left, una, &sb);
    split_at(sb.range(k).right, una, &sb);
  }
  const rack_segment* best = nullptr;
  std::size_t j = 0;
  for (rack_segment& s : segs_) {
    const bool cumulative = s.end.before_eq(una);
    bool selective = false;
    if (!cumulative && !s.sacked) {
      while (j < sb.range_count() && sb.range(j).right.before_eq(s.seq)) ++j;
      selective = j < sb.range_count() && !s.seq.before(sb.range(j).left) && s.end.before_eq(sb.range(j).right);
    }
    if (!(cumulative && !s.sacked) && !selective) continue;  // not delivered, or delivered before
    if (newest != nullptr && (!*newest || s.snap.delivered > (*newest)->snap.delivered ||
                              (s.snap.delivered == (*newest)->snap.delivered && s.xmit_ts >= (*newest)->sent_time))) {
      *newest = delivered_segment{s.snap, s.xmit_ts, s.retransmitted};
    }
    // Step 3 (RACK_detect_reordering): delivered below the highest delivered, never resent.
    if (s.end.after(fack_)) {
      fack_ = s.end;
    } else if (s.end.before(fack_) && !s.retransmitted) {
      reordering_seen_ = true;
      // DEVIATION(RFC 8985 §6.2 step 4, which renews reo_wnd_persist on a D-SACK only):
      // reordering the grown window absorbed renews it too. Nothing was resent, so no D-SACK
      // can come, yet the reordering goes on; without this the multiplier fell back to 1
      // every 16 recoveries and the same reordering was resent again (docs/performance.md
      // "The recovery matrix").
      if (reo_wnd_mult_ > 1) reo_wnd_persist_ = reo_wnd_persist_recoveries;
    }
    // Step 2 (RACK_update): a retransmission's ACK may be the original's: not if the echoed
    // timestamp predates the retransmission, or the RTT would be below the minimum.
    // DEVIATION(RFC 8985 §6.2 step 2): such a segment is skipped ("continue"), where the
    // pseudocode's "Return" would also skip the segments after it.
    // A coarse entry counts as sent when its oldest part was (oldest_ts): its delivered part
    // may be that one, and a later RACK.xmit_ts could mark lost what was sent after it.
    const bool ambiguous = s.retransmitted && (echoed_before(s.xmit_ts) || (min_rtt_ && now - s.xmit_ts < *min_rtt_));
    if (!ambiguous && (best == nullptr || sent_after(oldest_ts(s), s.end, oldest_ts(*best), best->end))) best = &s;
    if (selective) {
      s.sacked = true;
      set_lost(s, false);
    }
  }
  if (best != nullptr) {
    rack_rtt_ = now - oldest_ts(*best);
    // 1 us to 1 hour, so that 0 stays "no sample" (virtual time may deliver at once).
    const std::uint64_t sample = static_cast<std::uint64_t>(std::clamp<duration::rep>(rack_rtt_.count(), 1, 3'600'000'000));
    smoothed_rtt_us_ = static_cast<std::uint32_t>(smoothed_rtt_us_ == 0 ? sample : (7 * std::uint64_t{smoothed_rtt_us_} + sample) / 8);
    if (!rack_xmit_ts_ || sent_after(oldest_ts(*best), best->end, *rack_xmit_ts_, rack_end_seq_)) {
      rack_xmit_ts_ = oldest_ts(*best);
      rack_xmit_original_ = !best->retransmitted;
      rack_end_seq_ = best->end;
    }
  }
  // Step 4 (RACK_update_reo_wnd), D-SACK part: one increment per round that sees a D-SACK.
  if (dsack_round_ && !una.before(*dsack_round_)) dsack_round_.reset();
  if (!dsack_round_ && dsack) {
    dsack_round_ = snd_max;
    reo_wnd_mult_ = std::min<std::uint32_t>(reo_wnd_mult_ + 1, 1024);
    reo_wnd_persist_ = reo_wnd_persist_recoveries;
    ++adaptations_;
  }
  drop_acked(una);
  una_ = una;
  if (fack_.before(una)) fack_ = una;
}

// Step 4: after 16 recoveries without a D-SACK the multiplier returns to 1.
void rack::on_recovery_exit() {
  if (reo_wnd_persist_ > 0) --reo_wnd_persist_;
  if (reo_wnd_persist_ == 0) reo_wnd_mult_ = 1;
}

// Step 4: RACK.reo_wnd. Without reordering seen, 0 in recovery or once DupThresh segments are
// SACKed (RACK then acts as DupThresh would); otherwise a quarter of min_RTT per multiple,
// never above SRTT.
duration rack::compute_reo_wnd(std::optional<duration> srtt, bool in_recovery) const {
  if (!reordering_seen_) {
    if (in_recovery) return duration{0};
    std::uint32_t segs_sacked = 0;  // RACK.segs_sacked
    for (const rack_segment& s : segs_) {
      if (s.sacked) segs_sacked += (len_of(s) + smss_ - 1) / smss_;
    }
    if (segs_sacked >= dup_thresh_) return duration{0};
  }
  return reo_wnd_from_rtt(srtt);
}

// Step 5 (RACK_detect_loss): every segment sent before the most recently sent delivered one is
// lost once RACK.rtt + RACK.reo_wnd passed since it was sent (a coarse entry: its newest part).
// Returns when the next one will be due (the reorder timer). DEVIATION(RFC 8985 §6.2 step 5):
// the timer is armed for the earliest such segment, not the latest (the RFC's max()): each
// expiry marks what is due and re-arms, so a segment is marked when its own time comes instead
// of with the last of them.
instant rack::detect_loss_at(instant now, std::optional<duration> srtt, bool in_recovery) {
  reo_wnd_ = compute_reo_wnd(srtt, in_recovery);
  if (!rack_xmit_ts_) return instant::max();
  instant timer = instant::max();
  for (rack_segment& s : segs_) {
    if (s.sacked || s.lost) continue;
    // Coarse entries: RACK.xmit_ts is the delivered entry's oldest part and s.xmit_ts its
    // newest, so a part of one entry SACKed would never make sent_after() true for the part
    // below it. Both never resent: the lower was sent first (sequence order), and the due
    // time below stays no earlier than RFC 8985's with the parts' own times.
    const bool before = sent_after(*rack_xmit_ts_, rack_end_seq_, s.xmit_ts, s.end) ||
                        (rack_xmit_original_ && plain(s) && s.end.before(rack_end_seq_));
    if (!before) continue;
    const instant due = s.xmit_ts + rack_rtt_ + reo_wnd_;
    if (due <= now) {
      set_lost(s, true);
      losses_ += std::max<std::uint32_t>(1, (len_of(s) + smss_ - 1) / smss_);
    } else {
      timer = std::min(timer, due);
    }
  }
  return timer;
}

void rack::on_rto(bool keep_sacked) {
  for (rack_segment& s : segs_) {
    // SACK information is not trusted across a timeout (RFC 6675 §5.1), unless kept (RFC
    // 8985 §6.3, tcp_config::rto_keeps_sack).
    if (!keep_sacked) s.sacked = false;
    s.lost = false;
    s.resent_lost = false;
  }
  lost_pending_ = 0;
}

void rack::forget_sacks() {
  for (rack_segment& s : segs_) s.sacked = false;
}

std::optional<rack_segment> rack::first_lost() const {
  if (lost_pending_ == 0) return std::nullopt;
  for (const rack_segment& s : segs_) {
    if (s.lost) return s;
  }
  return std::nullopt;
}

bool rack::tracks(seq_num seq) const {
  for (const rack_segment& s : segs_) {
    if (seq.before(s.seq)) return false;
    if (seq.before(s.end)) return true;
  }
  return false;
}

// RFC 8985 §6 with RFC 6675's pipe: a segment RACK marked lost is not in flight. Once sent
// again the retransmission is (below HighRxt), the original still is not, though IsLost (fewer
// than DupThresh segments SACKed above it) may call it in flight: without this a lost segment
// and its retransmission held two segments of a two-segment window, so no new data could go
// behind the retransmission to show RACK that it was lost too, and only the RTO found it.
std::uint32_t rack::lost_in_pipe(const sack_scoreboard& sb) const {
  std::uint64_t n = 0;
  for (const rack_segment& s : segs_) {
    if (s.sacked || (!s.lost && !s.resent_lost)) continue;
    const bool below_high_rxt = sb.high_rxt().after(s.seq);
    if (!sb.is_lost(s.seq) && (s.lost || below_high_rxt)) n += len_of(s);
    if (s.lost && below_high_rxt) n += distance(s.seq, seq_min(s.end, sb.high_rxt())).n;
  }
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(n, UINT32_MAX));
}

}  // namespace synack
