// The loss probe in fast recovery (tcp_config::recovery_probe; DEVIATION from RFC 8985 §7.2,
// which probes only outside recovery). Exact segments on virtual time: SACK, no timestamps, the
// handshake takes 100 ms (SRTT 100 ms, RTO its 1 s floor, PTO 2 x SRTT = 200 ms), RFC 6928's
// initial window, Reno, RFC 6675's window in recovery (no PRR).
#include <gtest/gtest.h>

#include "support/tcp_harness.hpp"
#include "tcp/full_segments.hpp"
#include "tcp/sack_peer.hpp"

namespace synack::test {
namespace {

tcp_config probe_cfg(bool in_recovery) {
  tcp_config cfg;
  cfg.congestion = congestion_kind::reno;
  cfg.initial_window = initial_window_rule::rfc6928;
  cfg.recovery_probe = in_recovery;
  return cfg;
}

// Three segments in flight, 2 and 3 SACKed at 200 ms; the reorder timer marks 1 lost at 225 ms
// and recovery (cwnd = ssthresh = 2 segments) sends 1 again and then 4: the whole flight is the
// retransmission and one new segment. Both are lost (or their ACKs are): nothing comes back.
void two_segments_left_in_recovery(tcp_harness& h) {
  sack_of_two_and_three_resends_one(h);
  ASSERT_TRUE(h.conn().snapshot().in_recovery);
  ASSERT_EQ(h.conn().snapshot().cwnd, 2 * smss);
  ASSERT_EQ(h.write(segment(4)), smss);
  expect_full_segment(h, at_ms(225), 4, 4);
  h.expect_nothing(at_ms(225));
}

// The PTO after the last segment sent (225 + 200 ms) sends 4 again; its SACK shows RACK the
// retransmission of 1, sent before it, lost: 1 goes a third time, no timeout, and the probe
// does not reduce the window again.
TEST(recovery_probe, a_stalled_recovery_probes_at_two_srtt_and_rack_finds_the_lost_retransmission) {
  tcp_harness h(probe_cfg(true));
  two_segments_left_in_recovery(h);
  h.expect_nothing(at_ms(424));
  expect_full_segment(h, at_ms(425), 4, 4);  // the probe: the last segment again
  h.expect_nothing(at_ms(425));
  EXPECT_EQ(h.conn().loss_probes(), 1u);
  h.send(at_ms(525), ack_with(h, 1, {sacked(h, 2, 5)}));
  expect_full_segment(h, at_ms(525), 1, 4);
  h.expect_nothing(at_ms(525));
  EXPECT_EQ(h.conn().rack_losses(), 2u);
  EXPECT_EQ(h.conn().timeouts(), 0u);
  h.send(at_ms(625), ack_with(h, 5));
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().snapshot().cwnd, 2 * smss) << "ssthresh: one reduction, not a second for the probe";
  EXPECT_EQ(h.conn().probe_recoveries(), 0u);
  EXPECT_EQ(h.conn().timeouts(), 0u);
}

// Switched off: RFC 8985 §7.2, no probe in recovery; the RTO (1 s after the first flight left)
// finds the loss.
TEST(recovery_probe, switched_off__the_rto_finds_it) {
  tcp_harness h(probe_cfg(false));
  two_segments_left_in_recovery(h);
  h.expect_nothing(at_ms(1099));
  expect_full_segment(h, at_ms(1100), 1, 4);
  EXPECT_EQ(h.conn().timeouts(), 1u);
  EXPECT_EQ(h.conn().loss_probes(), 0u);
}

// One probe per flight in recovery too: when the probe's ACK does not come either, the RTO.
TEST(recovery_probe, one_probe__then_the_rto) {
  tcp_harness h(probe_cfg(true));
  two_segments_left_in_recovery(h);
  expect_full_segment(h, at_ms(425), 4, 4);
  h.expect_nothing(at_ms(1099));
  expect_full_segment(h, at_ms(1100), 1, 4);
  EXPECT_EQ(h.conn().loss_probes(), 1u);
  EXPECT_EQ(h.conn().timeouts(), 1u);
}

}  // namespace
}  // namespace synack::test
