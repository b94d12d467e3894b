// F-RTO (RFC 5682) after a retransmission timeout, and DupThresh adapted to proven reordering
// without RACK (tcp_config::adaptive_dupthresh), exact segments on virtual time. No timestamps
// (with them Eifel decides, undo_test.cpp), Reno, no Tail Loss Probe; the handshake takes
// 100 ms (RTO: its 1 s floor).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/tcp_harness.hpp"
#include "synack/tcp/congestion.hpp"
#include "tcp/full_segments.hpp"
#include "tcp/sack_peer.hpp"

namespace synack::test {
namespace {

constexpr int total = 40;

tcp_config frto_cfg() {
  tcp_config cfg;
  cfg.pacing = false;  // each window leaves in one burst, as the exact segments below expect
  cfg.congestion = congestion_kind::reno;
  cfg.tail_loss_probe = false;  // the RTO, not a probe
  return cfg;
}

void expect_segment(tcp_harness& h, instant at, int k, test::source_loc loc = test::source_loc::current()) {
  expect_full_segment(h, at, k, total, loc);
}

// Segments 1-3 leave at 100 ms (RFC 5681's initial window); nothing is acknowledged within the
// RTO, so segment 1 goes again at 1.1 s with cwnd = 1 SMSS.
void three_out_then_rto(tcp_harness& h, bool sack) {
  establish_sack(h, sack);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(100), k);
  h.expect_nothing(at_ms(1099));
  expect_segment(h, at_ms(1100), 1);
  h.expect_nothing(at_ms(1100));
  ASSERT_EQ(h.conn().snapshot().cwnd, smss);
}

// RFC 5682 §2 step 2b: the ACK after the retransmission covers it but not segments 2-3, so two
// new segments go instead of 2 and 3 again (go-back-N would resend them).
void first_ack_sends_new_data(tcp_harness& h) {
  h.send(at_ms(1150), ack_with(h, 2));
  expect_segment(h, at_ms(1150), 4);
  expect_segment(h, at_ms(1150), 5);
  h.expect_nothing(at_ms(1150));
}

// The delayed ACKs of the originals: the second advances the window past data never resent
// (step 3b), so the timeout was spurious; the window comes back (RFC 4015, as Eifel's undo)
// and sending continues with new data.
TEST(frto, spurious_timeout__two_new_segments_then_undo) {
  tcp_harness h(frto_cfg());
  three_out_then_rto(h, false);
  first_ack_sends_new_data(h);
  h.send(at_ms(1160), ack_with(h, 4));
  EXPECT_EQ(h.conn().frto_spurious(), 1u);
  EXPECT_EQ(h.conn().spurious_undos(), 1u);
  EXPECT_EQ(h.conn().snapshot().cwnd, 3 * smss) << "the window before the timeout";
  EXPECT_EQ(h.conn().snapshot().ssthresh, congestion_control::max_window);
  expect_segment(h, at_ms(1160), 6);  // 4 and 5 are in flight: cwnd 3 lets one more go
  h.expect_nothing(at_ms(1160));
  EXPECT_EQ(h.conn().retransmissions(), 1u) << "segments 2 and 3 never went again";
}

// Step 3a: the second ACK is a duplicate (segment 4 arrived, 2 and 3 did not): the loss was
// real, go-back-N in slow start from SND.UNA with cwnd 2 SMSS, the reduction kept.
TEST(frto, genuine_loss__duplicate_ack_falls_back_to_slow_start_retransmission) {
  tcp_harness h(frto_cfg());
  three_out_then_rto(h, false);
  first_ack_sends_new_data(h);
  h.send(at_ms(1160), ack_with(h, 2));
  expect_segment(h, at_ms(1160), 2);
  expect_segment(h, at_ms(1160), 3);
  h.expect_nothing(at_ms(1160));
  EXPECT_EQ(h.conn().frto_spurious(), 0u);
  EXPECT_EQ(h.conn().spurious_undos(), 0u);
  EXPECT_EQ(h.conn().snapshot().cwnd, 2 * smss);
  EXPECT_EQ(h.conn().snapshot().ssthresh, 2 * smss);
  // Go-back-N goes on: the ACK of 2 and 3 lets 4 and 5 (and one more, slow start) follow.
  h.send(at_ms(1260), ack_with(h, 4));
  EXPECT_EQ(drain(h, at_ms(1260)), (std::vector<int>{4, 5, 6}));
}

TEST(frto, switched_off__go_back_n_after_the_first_ack) {
  tcp_config cfg = frto_cfg();
  cfg.frto = false;
  tcp_harness h(cfg);
  three_out_then_rto(h, false);
  h.send(at_ms(1150), ack_with(h, 2));
  expect_segment(h, at_ms(1150), 2);
  expect_segment(h, at_ms(1150), 3);
  h.expect_nothing(at_ms(1150));
}

// §3.1 with SACK: a duplicate ACK whose SACK shows segment 3 — sent before the new segments and
// never retransmitted — arrived is proof enough (§2 without SACK would call it a loss).
TEST(frto, sack__a_sack_of_an_original_below_the_new_segments_is_spurious) {
  tcp_harness h(frto_cfg());
  three_out_then_rto(h, true);
  first_ack_sends_new_data(h);
  h.send(at_ms(1160), ack_with(h, 2, {sacked(h, 3, 4)}));
  EXPECT_EQ(h.conn().frto_spurious(), 1u);
  EXPECT_EQ(h.conn().spurious_undos(), 1u);
  EXPECT_EQ(h.conn().snapshot().cwnd, 3 * smss);
  EXPECT_EQ(h.conn().snapshot().ssthresh, congestion_control::max_window);
}

// §3.1 step 2: with SACK the duplicate ACKs before the new one only update the scoreboard (§2
// would fall back at once). Step 3a: an ACK that SACKs only the new segments shows 2 lost.
TEST(frto, sack__duplicate_acks_wait__a_sack_of_only_new_segments_is_a_loss) {
  tcp_harness h(frto_cfg());
  three_out_then_rto(h, true);
  h.send(at_ms(1120), ack_with(h, 1, {sacked(h, 3, 4)}));
  h.expect_nothing(at_ms(1120));
  h.send(at_ms(1150), ack_with(h, 2, {sacked(h, 3, 4)}));
  expect_segment(h, at_ms(1150), 4);
  expect_segment(h, at_ms(1150), 5);
  h.expect_nothing(at_ms(1150));
  h.send(at_ms(1160), ack_with(h, 2, {sacked(h, 3, 5)}));
  EXPECT_EQ(h.conn().frto_spurious(), 0u);
  EXPECT_EQ(h.conn().spurious_undos(), 0u);
  const std::vector<int> go_back = drain(h, at_ms(1160));
  ASSERT_FALSE(go_back.empty());
  EXPECT_EQ(go_back.front(), 2) << "go-back-N from SND.UNA";
  EXPECT_EQ(h.conn().snapshot().ssthresh, 2 * smss);
}

// ---- Adaptive DupThresh (RACK off, SACK on): RFC 6928's initial window of 10 segments.

tcp_config dupthresh_cfg() {
  tcp_config cfg = frto_cfg();
  cfg.rack = false;
  cfg.initial_window = initial_window_rule::rfc6928;
  return cfg;
}

// Segments 1-10 at 100 ms. At 200 ms an ACK SACKs 3-4 (one duplicate ACK: limited transmit
// sends 11); at 210 ms the cumulative ACK covers 1-4: segments 1 and 2 were not lost but late,
// behind data up to the end of 4 — reordering of 4 segments, never retransmitted.
void reordering_of_four(tcp_harness& h) {
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  EXPECT_EQ(drain(h, at_ms(100)), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 3, 5)}));
  EXPECT_EQ(drain(h, at_ms(200)), (std::vector<int>{11}));
  h.send(at_ms(210), ack_with(h, 5));
  EXPECT_EQ(drain(h, at_ms(210)), (std::vector<int>{12, 13, 14, 15, 16, 17, 18}));
}

// With DupThresh 4, three duplicate ACKs (5 lost, 6-8 SACKed) are not enough: each sends one
// new segment (RFC 4653's extended limited transmit); the fourth starts fast retransmit, and the
// loss is repaired.
TEST(adaptive_dupthresh, proven_reordering_raises_it__three_dup_acks_no_longer_retransmit) {
  tcp_harness h(dupthresh_cfg());
  reordering_of_four(h);
  EXPECT_EQ(h.conn().snapshot().dupthresh, 4u);
  EXPECT_EQ(h.conn().snapshot().dupthresh_raises, 1u);
  h.send(at_ms(300), ack_with(h, 5, {sacked(h, 6, 7)}));
  EXPECT_EQ(drain(h, at_ms(300)), (std::vector<int>{19}));
  h.send(at_ms(301), ack_with(h, 5, {sacked(h, 6, 8)}));
  EXPECT_EQ(drain(h, at_ms(301)), (std::vector<int>{20}));
  h.send(at_ms(302), ack_with(h, 5, {sacked(h, 6, 9)}));
  EXPECT_EQ(drain(h, at_ms(302)), (std::vector<int>{21}));
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().fast_retransmits(), 0u);
  h.send(at_ms(303), ack_with(h, 5, {sacked(h, 6, 10)}));
  EXPECT_TRUE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().fast_retransmits(), 1u);
  const std::vector<int> repair = drain(h, at_ms(303));
  ASSERT_FALSE(repair.empty());
  EXPECT_EQ(repair.front(), 5);
  h.send(at_ms(400), ack_with(h, 22));
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().timeouts(), 0u);
}

TEST(adaptive_dupthresh, switched_off__the_third_dup_ack_retransmits) {
  tcp_config cfg = dupthresh_cfg();
  cfg.adaptive_dupthresh = false;
  tcp_harness h(cfg);
  reordering_of_four(h);
  EXPECT_EQ(h.conn().snapshot().dupthresh, 3u);
  h.send(at_ms(300), ack_with(h, 5, {sacked(h, 6, 7)}));
  h.send(at_ms(301), ack_with(h, 5, {sacked(h, 6, 8)}));
  h.send(at_ms(302), ack_with(h, 5, {sacked(h, 6, 9)}));
  EXPECT_EQ(h.conn().fast_retransmits(), 1u);
}

// A fast retransmission the original overtook: segment 1 retransmitted when 2-5 were SACKed,
// then its D-SACK (RFC 2883) proves the recovery spurious (undone): reordering reached the end
// of 5, DupThresh becomes 5.
TEST(adaptive_dupthresh, dsack_of_a_fast_retransmission_raises_it_to_the_extent) {
  tcp_harness h(dupthresh_cfg());
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  EXPECT_EQ(drain(h, at_ms(100)).size(), 10u);
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 2, 6)}));
  const std::vector<int> fast_rtx = drain(h, at_ms(200));
  ASSERT_FALSE(fast_rtx.empty());
  EXPECT_EQ(fast_rtx.front(), 1);
  EXPECT_EQ(h.conn().fast_retransmits(), 1u);
  h.send(at_ms(210), ack_with(h, 11));
  EXPECT_EQ(h.conn().snapshot().dupthresh, 3u) << "segment 1 was retransmitted: its ACK proves nothing";
  h.send(at_ms(220), ack_with(h, 11, {sacked(h, 1, 2)}));
  EXPECT_EQ(h.conn().snapshot().dupthresh, 5u);
  EXPECT_EQ(h.conn().spurious_undos(), 1u);
}

// RACK on: it replaces DupThresh, which stays 3.
TEST(adaptive_dupthresh, not_with_rack) {
  tcp_config cfg = dupthresh_cfg();
  cfg.rack = true;
  tcp_harness h(cfg);
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  (void)drain(h, at_ms(100));
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 3, 5)}));
  (void)drain(h, at_ms(200));
  h.send(at_ms(210), ack_with(h, 5));
  EXPECT_EQ(h.conn().snapshot().dupthresh_raises, 0u);
}

}  // namespace
}  // namespace synack::test
