// SACK information across a retransmission timeout (tcp_config::rto_keeps_sack, RFC 8985
// §6.3; RFC 6675 §5.1 with its reneging test), exact segments on virtual time. SACK, no
// timestamps, Reno, RFC 6928's initial window of 10 segments, RACK, F-RTO and the Tail Loss
// Probe off, so that the timeout (1 s after the first segment) is what repairs; the handshake
// takes 100 ms (sack_peer.hpp).
#include <gtest/gtest.h>

#include <vector>

#include "support/tcp_harness.hpp"
#include "tcp/full_segments.hpp"
#include "tcp/sack_peer.hpp"

namespace synack::test {
namespace {

constexpr int total = 40;

tcp_config rto_cfg(bool keep) {
  tcp_config cfg;
  cfg.pacing = false;  // each window leaves in one burst, as the exact segments below expect
  cfg.congestion = congestion_kind::reno;
  cfg.initial_window = initial_window_rule::rfc6928;
  cfg.tail_loss_probe = false;
  cfg.rack = false;
  cfg.frto = false;
  cfg.rto_keeps_sack = keep;
  return cfg;
}

// Segments 1-10 leave at 100 ms. The receiver got 3 and 5 only: two duplicate ACKs SACK them
// (limited transmit sends 11 and 12), fewer than DupThresh, so no fast retransmit. The timeout
// at 1.1 s resends segment 1 alone (cwnd 1 SMSS).
void sacked_three_and_five_then_timeout(tcp_harness& h) {
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  EXPECT_EQ(drain(h, at_ms(100)), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 3, 4)}));
  EXPECT_EQ(drain(h, at_ms(200)), (std::vector<int>{11}));
  h.send(at_ms(210), ack_with(h, 1, {sacked(h, 5, 6), sacked(h, 3, 4)}));
  EXPECT_EQ(drain(h, at_ms(210)), (std::vector<int>{12}));
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(drain(h, at_ms(1099)), std::vector<int>{});
  EXPECT_EQ(drain(h, at_ms(1100)), (std::vector<int>{1}));
  EXPECT_EQ(h.conn().timeouts(), 1u);
}

// Segment 1's ACK (still SACKing 3 and 5) lets two go in slow start: 2, then 4 — 3 is skipped,
// and as it does not count as in flight there is room for 4. The next ACK covers 1-5, and the
// resend goes on at 6, past 5.
TEST(rto_keeps_sack, the_resend_after_a_timeout_skips_what_the_receiver_sacked) {
  tcp_harness h(rto_cfg(true));
  sacked_three_and_five_then_timeout(h);
  h.send(at_ms(1200), ack_with(h, 2, {sacked(h, 5, 6), sacked(h, 3, 4)}));
  EXPECT_EQ(drain(h, at_ms(1200)), (std::vector<int>{2, 4}));
  h.send(at_ms(1300), ack_with(h, 6));
  const std::vector<int> next = drain(h, at_ms(1300));
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next.front(), 6);
  EXPECT_EQ(h.conn().retransmissions(), 3u + next.size());  // 1, 2, 4 and what follows from 6
  EXPECT_EQ(h.conn().snapshot().sack_renegings, 0u);
}

// RFC 2018 §8's rule (off): every SACK is forgotten on the timeout ("prior SACK information"),
// so with an ACK that carries none (its blocks lost with an earlier ACK's, say) 3 goes again;
// kept, it does not. SACKs that come after the timeout are new information either way.
TEST(rto_keeps_sack, switched_off__the_timeout_forgets_every_sack) {
  for (const bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "kept" : "forgotten");
    tcp_harness h(rto_cfg(keep));
    sacked_three_and_five_then_timeout(h);
    EXPECT_EQ(h.conn().snapshot().sacked, keep ? 2 * smss : 0u);
    h.send(at_ms(1200), ack_with(h, 2));
    EXPECT_EQ(drain(h, at_ms(1200)), keep ? (std::vector<int>{2, 4}) : (std::vector<int>{2, 3}));
  }
}

// The receiver reneged: its cumulative ACK stops at segment 3, which it had SACKed. Every SACK
// is forgotten at once (counted), and the resend goes on from SND.UNA with 3 and 4, where the
// kept SACKs would have skipped 3 and 5 (4 and 6) and left them to another timeout.
TEST(rto_keeps_sack, an_ack_that_stops_at_sacked_octets_is_reneging__they_go_again) {
  tcp_harness h(rto_cfg(true));
  sacked_three_and_five_then_timeout(h);
  h.send(at_ms(1200), ack_with(h, 3));
  EXPECT_EQ(h.conn().snapshot().sack_renegings, 1u);
  EXPECT_EQ(h.conn().snapshot().sacked, 0u);
  EXPECT_EQ(drain(h, at_ms(1200)), (std::vector<int>{3, 4}));
  h.send(at_ms(1300), ack_with(h, 5));
  const std::vector<int> next = drain(h, at_ms(1300));
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next.front(), 5) << "5 was SACKed before the reneging: it goes again too";
}

// A block at the cumulative ACK (segments 1-2 "SACKed" by an ACK of nothing) is no receiver's
// state: when the timer fires with SND.UNA's octet SACKed, every SACK goes (Linux's test in
// tcp_timeout_mark_lost) and segment 1 is resent, where skipping would send 3 and never 1.
TEST(rto_keeps_sack, a_timeout_with_snd_una_sacked_forgets_the_sacks) {
  tcp_harness h(rto_cfg(true));
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  EXPECT_EQ(drain(h, at_ms(100)), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 1, 3)}));
  (void)drain(h, at_ms(200));
  EXPECT_EQ(drain(h, at_ms(1100)), (std::vector<int>{1}));
  EXPECT_EQ(h.conn().snapshot().sack_renegings, 1u);
  EXPECT_EQ(h.conn().snapshot().sacked, 0u);
}

// Reneging found during a SACK recovery (not after a timeout): the segment at SND.UNA is owed
// at once, not left to the retransmission timer.
TEST(rto_keeps_sack, reneging_in_fast_recovery_resends_the_segment_at_snd_una) {
  tcp_harness h(rto_cfg(true));
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  EXPECT_EQ(drain(h, at_ms(100)), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  // 1 and 3 lost; 2 and 4-6 SACKed over three duplicate ACKs: fast retransmit of 1.
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 2, 3)}));
  h.send(at_ms(201), ack_with(h, 1, {sacked(h, 4, 5), sacked(h, 2, 3)}));
  h.send(at_ms(202), ack_with(h, 1, {sacked(h, 4, 7), sacked(h, 2, 3)}));
  const std::vector<int> sent = drain(h, at_ms(202));
  ASSERT_TRUE(h.conn().snapshot().in_recovery);
  ASSERT_FALSE(sent.empty());
  // The ACK of 1 stops at 2, which it SACKed before: reneged. 2 goes at once.
  h.send(at_ms(300), ack_with(h, 2));
  EXPECT_EQ(h.conn().snapshot().sack_renegings, 1u);
  const std::vector<int> again = drain(h, at_ms(300));
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again.front(), 2);
}

}  // namespace
}  // namespace synack::test
