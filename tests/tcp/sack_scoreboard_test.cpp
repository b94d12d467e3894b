// RFC 6675 sender scoreboard (with RFC 2018 SACK and RFC 2883 D-SACK). SMSS is 1000 and
// segment n starts at base + n*1000, with base just below 2^32: segment 4 straddles the wrap.
#include "synack/tcp/sack_scoreboard.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace synack {
namespace {

constexpr seq_num base{0xFFFFF000u};
constexpr std::uint32_t smss = 1000;

constexpr seq_num at(std::uint32_t n, std::uint32_t plus = 0) { return base + seq_len{n * smss + plus}; }
constexpr sack_block blk(std::uint32_t a, std::uint32_t b) { return sack_block{at(a), at(b)}; }

// A scoreboard with segments [0, n) outstanding.
sack_scoreboard board(std::uint32_t n = 10, sack_scoreboard_config cfg = {.smss = smss}) {
  sack_scoreboard sb(cfg);
  sb.reset(at(0));
  (void)sb.update(at(0), at(n), {});
  return sb;
}

sack_update sack(sack_scoreboard& sb, std::vector<sack_block> blocks, seq_num una = at(0)) {
  return sb.update(una, sb.snd_max(), blocks);
}

std::vector<sack_block> ranges(const sack_scoreboard& sb) {
  std::vector<sack_block> v;
  for (std::size_t i = 0; i < sb.range_count(); ++i) v.push_back(sb.range(i));
  return v;
}

TEST(sack_scoreboard, base_straddles_the_wrap) {
  EXPECT_EQ(at(4).raw, 0xFFFFFFA0u);
  EXPECT_EQ(at(5).raw, 0x388u);
}

TEST(sack_scoreboard, first_unsacked_skips_sacked_ranges) {
  auto sb = board();
  (void)sack(sb, {blk(2, 4), blk(5, 7)});
  EXPECT_EQ(sb.first_unsacked(at(0), at(10)), at(0));
  EXPECT_EQ(sb.first_unsacked(at(2), at(10)), at(4));
  EXPECT_EQ(sb.first_unsacked(at(3, 500), at(10)), at(4));
  EXPECT_EQ(sb.first_unsacked(at(5), at(10)), at(7));
  EXPECT_EQ(sb.first_unsacked(at(2), at(4)), std::nullopt) << "all SACKed";
  EXPECT_EQ(sb.first_unsacked(at(5), at(7)), std::nullopt);
  EXPECT_EQ(sb.first_unsacked(at(4), at(4)), std::nullopt) << "empty range";
}

TEST(sack_scoreboard, empty_scoreboard) {
  sack_scoreboard sb = board();
  EXPECT_EQ(sb.sacked_bytes(), 0u);
  EXPECT_EQ(sb.pipe(), 10000u);  // nothing lost, nothing retransmitted
  EXPECT_FALSE(sb.is_lost(at(0)));
  EXPECT_FALSE(sb.highest_sacked().has_value());
  EXPECT_EQ(sb.next_seg(0), std::nullopt);
  EXPECT_EQ(sb.next_seg(500), (next_segment{at(10), 500, seg_rule::new_data}));
  EXPECT_EQ(sb.next_seg(5000), (next_segment{at(10), 1000, seg_rule::new_data}));
}

TEST(sack_scoreboard, merges_overlapping_and_adjacent_blocks) {
  sack_scoreboard sb = board();
  EXPECT_EQ(sack(sb, {blk(2, 3)}).newly_sacked, 1000u);
  EXPECT_EQ(sack(sb, {blk(5, 6), blk(2, 3)}).newly_sacked, 1000u);  // repeated block adds nothing
  EXPECT_EQ(ranges(sb), (std::vector{blk(2, 3), blk(5, 6)}));
  EXPECT_EQ(sack(sb, {blk(3, 4)}).newly_sacked, 1000u);  // adjacent: joins [2,3)
  EXPECT_EQ(ranges(sb), (std::vector{blk(2, 4), blk(5, 6)}));
  EXPECT_EQ(sack(sb, {sack_block{at(3, 500), at(7)}}).newly_sacked, 2000u);  // bridges both
  EXPECT_EQ(ranges(sb), (std::vector{blk(2, 7)}));
  EXPECT_EQ(sb.sacked_bytes(), 5000u);
  EXPECT_EQ(sb.highest_sacked(), std::optional{at(7)});
  EXPECT_TRUE(sb.is_sacked(at(4)));  // across the wrap
  EXPECT_TRUE(sb.is_sacked(at(6, 999)));
  EXPECT_FALSE(sb.is_sacked(at(7)));
  EXPECT_FALSE(sb.is_sacked(at(1, 999)));
}

TEST(sack_scoreboard, ignores_blocks_below_snd_una_beyond_snd_max_or_empty) {
  sack_scoreboard sb = board();
  (void)sb.update(at(2), sb.snd_max(), {});
  const sack_update u = sack(sb, {blk(4, 5), blk(0, 1), blk(9, 11), sack_block{at(6), at(6)}, }, at(2));
  EXPECT_FALSE(u.dsack);
  EXPECT_EQ(u.ignored, 3u);
  EXPECT_EQ(sb.ignored_blocks(), 3u);
  EXPECT_EQ(ranges(sb), (std::vector{blk(4, 5)}));
  // A block straddling SND.UNA is clipped to it (only the first block could be a D-SACK).
  (void)sack(sb, {blk(6, 7), blk(1, 3)}, at(2));
  EXPECT_EQ(ranges(sb), (std::vector{blk(2, 3), blk(4, 5), blk(6, 7)}));
}

TEST(sack_scoreboard, cumulative_ack_trims_and_drops_ranges) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(2, 4), blk(5, 7)});
  (void)sb.update(at(4), sb.snd_max(), {});
  EXPECT_EQ(ranges(sb), (std::vector{blk(5, 7)}));
  EXPECT_EQ(sb.sacked_bytes(), 2000u);
  (void)sb.update(at(7), sb.snd_max(), {});
  EXPECT_EQ(sb.range_count(), 0u);
  EXPECT_EQ(sb.snd_una(), at(7));
  EXPECT_EQ(sb.pipe(), 3000u);
}

TEST(sack_scoreboard, dsack_below_the_cumulative_ack) {
  sack_scoreboard sb = board();
  const sack_update u = sb.update(at(3), sb.snd_max(), std::vector{blk(1, 2), blk(5, 6)});
  EXPECT_TRUE(u.dsack);
  EXPECT_EQ(u.dsack_block, blk(1, 2));
  EXPECT_EQ(u.ignored, 0u);
  EXPECT_EQ(sb.dsacks(), 1u);
  EXPECT_EQ(ranges(sb), (std::vector{blk(5, 6)}));
}

TEST(sack_scoreboard, dsack_inside_the_second_block) {
  sack_scoreboard sb = board();
  const sack_update u = sack(sb, {blk(5, 6), blk(4, 8)});
  EXPECT_TRUE(u.dsack);
  EXPECT_EQ(u.dsack_block, blk(5, 6));
  EXPECT_EQ(ranges(sb), (std::vector{blk(4, 8)}));
  EXPECT_EQ(u.newly_sacked, 4000u);
  // Not a D-SACK: the first block is above the ACK and inside no other block.
  const sack_update v = sack(sb, {blk(8, 9), blk(4, 8)});
  EXPECT_FALSE(v.dsack);
  EXPECT_EQ(sb.dsacks(), 1u);
  // Only the first block can be a D-SACK.
  EXPECT_FALSE(sack(sb, {blk(2, 3), blk(5, 6), blk(5, 6)}).dsack);
}

TEST(sack_scoreboard, bounded_ranges_keep_the_lowest_and_count_drops) {
  sack_scoreboard sb = board(20, {.smss = smss, .max_ranges = 3});
  (void)sack(sb, {blk(2, 3), blk(4, 5), blk(6, 7), blk(8, 9)});
  EXPECT_EQ(ranges(sb), (std::vector{blk(2, 3), blk(4, 5), blk(6, 7)}));
  EXPECT_EQ(sb.dropped_ranges(), 1u);
  (void)sack(sb, {blk(0, 1)});  // a lower range pushes out the highest
  EXPECT_EQ(ranges(sb), (std::vector{blk(0, 1), blk(2, 3), blk(4, 5)}));
  EXPECT_EQ(sb.dropped_ranges(), 2u);
  (void)sack(sb, {blk(1, 2)});  // merging never drops
  EXPECT_EQ(ranges(sb), (std::vector{blk(0, 3), blk(4, 5)}));
  EXPECT_EQ(sb.dropped_ranges(), 2u);
}

TEST(sack_scoreboard, bounded_blocks_per_ack) {
  sack_scoreboard sb = board(20, {.smss = smss, .max_blocks_per_ack = 2});
  (void)sack(sb, {blk(2, 3), blk(4, 5), blk(6, 7)});
  EXPECT_EQ(ranges(sb), (std::vector{blk(2, 3), blk(4, 5)}));
  EXPECT_EQ(sb.excess_blocks(), 1u);
}

// RFC 6675 §4 IsLost.
TEST(sack_scoreboard, is_lost_needs_three_segments_above) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 2), blk(3, 4)});
  EXPECT_FALSE(sb.is_lost(at(0)));  // 2 segments, 2000 bytes: not more than 2*SMSS
  (void)sack(sb, {blk(5, 6)});
  EXPECT_TRUE(sb.is_lost(at(0)));   // DupThresh (3) segments above
  EXPECT_FALSE(sb.is_lost(at(2)));  // only [3,4) and [5,6) above
  EXPECT_FALSE(sb.is_lost(at(9)));
}

// A path MTU change (RFC 1191) makes SMSS larger or smaller: IsLost counts in the new size,
// the held SACK ranges stay.
TEST(sack_scoreboard, set_smss_changes_the_is_lost_threshold_and_keeps_the_ranges) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 2), blk(3, 4)});
  EXPECT_FALSE(sb.is_lost(at(0)));  // 2000 bytes above: not more than 2 * 1000
  sb.set_smss(500);
  EXPECT_TRUE(sb.is_lost(at(0)));   // 2000 bytes above > 2 * 500
  EXPECT_EQ(ranges(sb), (std::vector<sack_block>{blk(1, 2), blk(3, 4)}));
  sb.set_smss(1000);
  EXPECT_FALSE(sb.is_lost(at(0)));
}

TEST(sack_scoreboard, is_lost_by_bytes_above) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 3)});
  EXPECT_FALSE(sb.is_lost(at(0)));  // exactly (DupThresh - 1) * SMSS
  (void)sack(sb, {sack_block{at(3), at(3, 1)}});
  EXPECT_TRUE(sb.is_lost(at(0)));   // more than (DupThresh - 1) * SMSS
  // "Greater than SeqNum": octets above a point inside a range count partially.
  EXPECT_FALSE(sb.is_lost(at(1)));
}

TEST(sack_scoreboard, is_lost_counts_small_discontiguous_segments) {
  sack_scoreboard sb = board();
  (void)sack(sb, {sack_block{at(1), at(1, 100)}, sack_block{at(2), at(2, 100)}});
  EXPECT_FALSE(sb.is_lost(at(0)));
  (void)sack(sb, {sack_block{at(3), at(3, 100)}});
  EXPECT_TRUE(sb.is_lost(at(0)));  // three SACKed segments, though only 300 bytes
}

TEST(sack_scoreboard, dup_thresh_is_configurable) {
  sack_scoreboard sb = board(10, {.smss = smss, .dup_thresh = 2});
  (void)sack(sb, {blk(1, 2), blk(3, 4)});
  EXPECT_TRUE(sb.is_lost(at(0)));
  EXPECT_FALSE(sb.is_lost(at(2)));
}

// RFC 6675 §4 NextSeg rule (1): lost holes in order, above HighRxt, below the highest SACK.
TEST(sack_scoreboard, next_seg_rule_1_retransmits_lost_holes_in_order) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 2), blk(3, 4), blk(5, 6), blk(7, 8)});
  sb.enter_recovery();
  EXPECT_EQ(sb.recovery_point(), std::optional{at(10)});
  const auto a = sb.next_seg(5000);  // rule (1) beats new data
  ASSERT_EQ(a, (next_segment{at(0), 1000, seg_rule::lost}));
  sb.on_sent(*a);
  EXPECT_EQ(sb.high_rxt(), at(1));
  const auto b = sb.next_seg(5000);
  ASSERT_EQ(b, (next_segment{at(2), 1000, seg_rule::lost}));
  sb.on_sent(*b);
  EXPECT_EQ(sb.high_rxt(), at(3));
  EXPECT_FALSE(sb.is_lost(at(4)));
  // Rule (2): new data when the next hole is not lost.
  const auto c = sb.next_seg(5000);
  ASSERT_EQ(c, (next_segment{at(10), 1000, seg_rule::new_data}));
  sb.on_sent(*c);
  EXPECT_EQ(sb.snd_max(), at(11));
  // Rule (3): with no new data, the first hole above HighRxt even if not lost.
  const auto d = sb.next_seg(0);
  ASSERT_EQ(d, (next_segment{at(4), 1000, seg_rule::unlost}));
  sb.on_sent(*d);
  EXPECT_EQ(sb.high_rxt(), at(5));
  EXPECT_EQ(sb.next_seg(0), (next_segment{at(6), 1000, seg_rule::unlost}));
}

// With rule (1) off (RACK answers for the hole, connection::take_retransmission), a hole IsLost
// calls lost goes only by the other rules: new data first, else rule (3).
TEST(sack_scoreboard, next_seg_without_rule_1_sends_new_data_or_the_hole_as_unlost) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 2), blk(3, 4), blk(5, 6), blk(7, 8)});
  sb.enter_recovery();
  ASSERT_TRUE(sb.is_lost(at(0)));
  EXPECT_EQ(sb.next_seg(5000, false), (next_segment{at(10), 1000, seg_rule::new_data}));
  EXPECT_EQ(sb.next_seg(0, false), (next_segment{at(0), 1000, seg_rule::unlost}));
  EXPECT_EQ(sb.next_seg(0), (next_segment{at(0), 1000, seg_rule::lost}));
}

TEST(sack_scoreboard, next_seg_splits_large_holes_and_clips_short_ones) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(3, 6)});
  sb.enter_recovery();
  for (std::uint32_t n = 0; n < 3; ++n) {
    const auto s = sb.next_seg(0);
    ASSERT_EQ(s, (next_segment{at(n), 1000, seg_rule::lost})) << n;
    sb.on_sent(*s);
  }
  sack_scoreboard sb2 = board();
  (void)sack(sb2, {sack_block{at(0, 300), at(5)}});
  sb2.enter_recovery();
  EXPECT_EQ(sb2.next_seg(0), (next_segment{at(0), 300, seg_rule::lost}));  // never into SACKed data
}

TEST(sack_scoreboard, next_seg_rule_3_can_be_disabled) {
  sack_scoreboard sb = board(10, {.smss = smss, .next_seg_rule_3 = false});
  (void)sack(sb, {blk(1, 2)});
  EXPECT_EQ(sb.next_seg(0), std::nullopt);  // not in recovery: no rescue either
}

// Rule (4): one rescue retransmission per recovery, of the highest unSACKed data.
TEST(sack_scoreboard, next_seg_rule_4_rescue_retransmission) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 2)});
  sb.enter_recovery();
  const auto first = sb.first_retransmission();
  ASSERT_EQ(first, (next_segment{at(0), 1000, seg_rule::first}));
  sb.on_sent(*first);  // §5 (4.3): HighRxt = RescueRxt = end of that segment
  EXPECT_EQ(sb.high_rxt(), at(1));
  EXPECT_EQ(sb.rescue_rxt(), std::optional{at(1)});
  EXPECT_EQ(sb.next_seg(0), std::nullopt);  // HighACK is not above RescueRxt yet
  // A partial ACK moves HighACK past RescueRxt.
  (void)sb.update(at(2), sb.snd_max(), {});
  const auto r = sb.next_seg(0);
  ASSERT_EQ(r, (next_segment{at(9), 1000, seg_rule::rescue}));
  sb.on_sent(*r);
  EXPECT_EQ(sb.rescue_rxt(), std::optional{at(10)});  // RescueRxt = RecoveryPoint
  EXPECT_EQ(sb.high_rxt(), at(2));                    // HighRxt unchanged (it follows SND.UNA)
  (void)sb.update(at(3), sb.snd_max(), {});
  EXPECT_EQ(sb.next_seg(0), std::nullopt);  // only one per recovery
}

TEST(sack_scoreboard, rescue_below_a_sack_that_reaches_snd_max) {
  sack_scoreboard sb = board(10, {.smss = smss, .next_seg_rule_3 = false});
  (void)sack(sb, {blk(8, 10)});
  sb.enter_recovery();
  EXPECT_FALSE(sb.is_lost(at(0)));
  EXPECT_EQ(sb.next_seg(0), (next_segment{at(7), 1000, seg_rule::rescue}));
  // With rule (3), the unlost hole comes first.
  sack_scoreboard sb3 = board();
  (void)sack(sb3, {blk(8, 10)});
  sb3.enter_recovery();
  EXPECT_EQ(sb3.next_seg(0), (next_segment{at(0), 1000, seg_rule::unlost}));
}

TEST(sack_scoreboard, no_rescue_outside_recovery_or_when_all_sacked) {
  sack_scoreboard sb = board(3);
  EXPECT_EQ(sb.next_seg(0), std::nullopt);
  (void)sb.update(at(1), sb.snd_max(), std::vector{blk(1, 3)});
  sb.enter_recovery();
  // Everything outstanding ([1,3)) is SACKed: nothing to retransmit.
  EXPECT_EQ(sb.next_seg(0), std::nullopt);
  EXPECT_EQ(sb.pipe(), 0u);
}

// RFC 6675 §4 SetPipe.
TEST(sack_scoreboard, pipe_counts_unlost_and_retransmitted_octets) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 2), blk(3, 4), blk(5, 6), blk(7, 8)});
  // Holes: [0,1) lost, [2,3) lost, [4,5) [6,7) [8,10) not lost.
  EXPECT_EQ(sb.pipe(), 4000u);
  sb.enter_recovery();
  sb.on_sent(*sb.next_seg(0));  // [0,1)
  EXPECT_EQ(sb.pipe(), 5000u);
  sb.on_sent(*sb.next_seg(0));  // [2,3)
  EXPECT_EQ(sb.pipe(), 6000u);
  sb.on_sent(*sb.next_seg(0));  // [4,5) by rule 3: not lost and retransmitted counts twice
  EXPECT_EQ(sb.pipe(), 7000u);
  EXPECT_EQ(sb.sacked_bytes(), 4000u);
  // A cumulative ACK through [0,4) leaves [4,5) (x2), [6,7), [8,10).
  (void)sb.update(at(4), sb.snd_max(), {});
  EXPECT_EQ(sb.pipe(), 5000u);
}

TEST(sack_scoreboard, exit_recovery_resets_high_rxt) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 4)});
  sb.enter_recovery();
  sb.on_sent(*sb.next_seg(0));
  EXPECT_TRUE(sb.in_recovery());
  EXPECT_EQ(sb.high_rxt(), at(1));
  sb.exit_recovery();
  EXPECT_FALSE(sb.in_recovery());
  EXPECT_EQ(sb.high_rxt(), at(0));
}

// RFC 6675 §5.1: on RTO, loss recovery ends, RecoveryPoint = HighData, SACKs are expunged.
TEST(sack_scoreboard, rto_clears_the_scoreboard) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 2), blk(3, 4), blk(5, 6)});
  sb.enter_recovery();
  sb.on_sent(*sb.next_seg(0));
  (void)sb.update(at(0), at(12), {});  // two more segments sent meanwhile
  sb.on_rto(at(0), at(12));
  EXPECT_EQ(sb.range_count(), 0u);
  EXPECT_EQ(sb.sacked_bytes(), 0u);
  EXPECT_FALSE(sb.in_recovery());
  EXPECT_EQ(sb.recovery_point(), std::optional{at(12)});
  EXPECT_EQ(sb.high_rxt(), at(0));
  EXPECT_FALSE(sb.is_lost(at(0)));
  EXPECT_EQ(sb.pipe(), 12000u);
}

// RFC 8985 §6.3 (tcp_config::rto_keeps_sack): the ranges stay, recovery ends all the same.
TEST(sack_scoreboard, rto_keeping_the_sacks_ends_recovery_only) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 2), blk(3, 4), blk(5, 6)});
  sb.enter_recovery();
  sb.on_sent(*sb.next_seg(0));
  sb.on_rto(at(0), at(10), true);
  EXPECT_EQ(ranges(sb), (std::vector<sack_block>{blk(1, 2), blk(3, 4), blk(5, 6)}));
  EXPECT_FALSE(sb.in_recovery());
  EXPECT_EQ(sb.high_rxt(), at(0));
  EXPECT_EQ(sb.sacked_below(at(4)), 2000u);
  EXPECT_EQ(sb.sacked_below(at(3, 500)), 1500u);
  EXPECT_EQ(sb.sacked_below(at(1)), 0u);
  EXPECT_EQ(sb.sacked_from(at(0)), std::optional{blk(1, 2)});
  EXPECT_EQ(sb.sacked_from(at(3, 10)), std::optional{blk(3, 4)});
  EXPECT_EQ(sb.sacked_from(at(4)), std::optional{blk(5, 6)});
  EXPECT_FALSE(sb.sacked_from(at(6)).has_value());
}

// RFC 6675 §5.1's reneging test: a cumulative ACK that stops at (or inside) a SACKed range
// shows the receiver dropped it. Every range goes; the ACK's own blocks are taken.
TEST(sack_scoreboard, an_ack_stopping_at_a_sacked_range_is_reneging) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(2, 3), blk(5, 7)});
  const sack_update ok = sack(sb, {blk(5, 7)}, at(1));  // ACK moved below the first range
  EXPECT_FALSE(ok.reneged);
  EXPECT_EQ(sb.range_count(), 2u);
  const sack_update r = sack(sb, {blk(8, 9)}, at(2));  // stops where 2 was SACKed
  EXPECT_TRUE(r.reneged);
  EXPECT_EQ(ranges(sb), (std::vector<sack_block>{blk(8, 9)}));
  EXPECT_EQ(sb.renegings(), 1u);
  // Inside a range: reneging too. Past a range: not.
  sack_scoreboard in = board();
  (void)sack(in, {blk(2, 4)});
  EXPECT_TRUE(sack(in, {}, at(3)).reneged);
  sack_scoreboard past = board();
  (void)sack(past, {blk(2, 4)});
  EXPECT_FALSE(sack(past, {}, at(4)).reneged);
  EXPECT_EQ(past.range_count(), 0u);
  // The same ACK again (SND.UNA did not move) is not a new finding.
  EXPECT_FALSE(sack(sb, {blk(8, 9)}, at(2)).reneged);
}

TEST(sack_scoreboard, reset_forgets_everything) {
  sack_scoreboard sb = board();
  (void)sack(sb, {blk(1, 2)});
  sb.enter_recovery();
  sb.reset(at(20));
  EXPECT_EQ(sb.range_count(), 0u);
  EXPECT_EQ(sb.snd_una(), at(20));
  EXPECT_EQ(sb.snd_max(), at(20));
  EXPECT_FALSE(sb.in_recovery());
  EXPECT_FALSE(sb.recovery_point().has_value());
  EXPECT_FALSE(sb.rescue_rxt().has_value());
}

}  // namespace
}  // namespace synack
