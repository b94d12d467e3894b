// Tail Loss Probe (RFC 8985 §7), exact segments on virtual time. The handshake takes 100 ms,
// so SRTT = 100 ms and the RTO is its 1 s floor; the PTO is 2 x SRTT = 200 ms, plus the
// worst-case delayed ACK (200 ms) when one segment is in flight. SACK is negotiated (TLP is
// used with SACK only), timestamps are not: full segments carry 1460 octets, IW = 3 of them.
#include <gtest/gtest.h>

#include <string>

#include "support/tcp_harness.hpp"
#include "tcp/full_segments.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;


void establish(tcp_harness& h, bool sack = true) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460, .sack_ok = sack});
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(100), seg{.seq = h.r(1), .ack = h.l(1)});  // the SYN-ACK's RTT sample: 100 ms
  ASSERT_EQ(h.conn().state(), s::established);
  ASSERT_EQ(h.conn().sack_permitted(), sack);
  h.drain_events();
}

void expect_segment(tcp_harness& h, instant at, int k, int last, test::source_loc loc = test::source_loc::current()) {
  h.expect_recv(at, seg{.seq = h.l(off(k)), .ack = h.r(1), .flags = static_cast<std::uint8_t>(k == last ? psh : 0),
                        .payload = segment(k)},
                false, loc);
}

TEST(tail_loss_probe, the_last_segment_again_at_two_srtt__then_the_rto_as_before) {
  tcp_harness h;
  establish(h);
  ASSERT_EQ(h.write(segments(1, 3)), 3 * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(100), k, 3);
  h.expect_nothing(at_ms(299));
  expect_segment(h, at_ms(300), 3, 3);  // the probe: the highest segment sent, once
  EXPECT_EQ(h.conn().loss_probes(), 1u);
  EXPECT_EQ(h.conn().retransmissions(), 1u);
  h.expect_nothing(at_ms(1099));  // one probe per flight; the RTO keeps its deadline
  expect_segment(h, at_ms(1100), 1, 3);
  EXPECT_EQ(h.conn().loss_probes(), 1u);
}

TEST(tail_loss_probe, new_data_when_the_window_allows__cwnd_does_not_hold_it) {
  tcp_harness h;
  establish(h);
  ASSERT_EQ(h.write(segments(1, 4)), 4 * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(100), k, 4);
  h.expect_nothing(at_ms(299));  // cwnd (3 segments) holds segment 4
  expect_segment(h, at_ms(300), 4, 4);
  EXPECT_EQ(h.conn().loss_probes(), 1u);
  EXPECT_EQ(h.conn().retransmissions(), 0u);
  h.expect_nothing(at_ms(1099));
}

TEST(tail_loss_probe, one_segment_in_flight_allows_for_a_delayed_ack) {
  tcp_harness h;
  establish(h);
  ASSERT_EQ(h.write("x"), 1u);
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
  h.expect_nothing(at_ms(499));  // 2 x SRTT + 200 ms
  h.expect_recv(at_ms(500), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
}

TEST(tail_loss_probe, an_ack_of_new_data_restarts_it__all_acknowledged_stops_it) {
  tcp_harness h;
  establish(h);
  ASSERT_EQ(h.write(segments(1, 3)), 3 * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(100), k, 3);
  h.send(at_ms(250), seg{.seq = h.r(1), .ack = h.l(off(2))});  // 150 ms: SRTT grows a little
  const auto probe_at = h.conn().next_deadline();
  ASSERT_TRUE(probe_at.has_value());
  EXPECT_GT(*probe_at, at_ms(450)) << "restarted from the ACK";
  h.send(at_ms(260), seg{.seq = h.r(1), .ack = h.l(off(4))});
  h.expect_nothing(at_ms(3000));
  EXPECT_EQ(h.conn().loss_probes(), 0u);
}

TEST(tail_loss_probe, a_loss_the_probe_repaired_reduces_cwnd) {
  tcp_harness h;
  establish(h);
  ASSERT_EQ(h.write(segments(1, 3)), 3 * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(100), k, 3);
  h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(off(3))});  // 1 and 2 arrive, 3 is lost
  const std::uint32_t cwnd = h.conn().snapshot().cwnd;
  EXPECT_EQ(cwnd, 5 * smss) << "slow start: two segments acknowledged";
  expect_segment(h, at_ms(600), 3, 3);  // one segment in flight: 2 x 100 ms + 200 ms
  h.send(at_ms(700), seg{.seq = h.r(1), .ack = h.l(off(4))});  // the probe's ACK, no D-SACK
  ASSERT_EQ(h.write(segment(4)), smss);
  expect_segment(h, at_ms(700), 4, 4);
  h.send(at_ms(800), seg{.seq = h.r(1), .ack = h.l(off(5))});  // beyond the probe: it repaired a loss
  EXPECT_EQ(h.conn().probe_recoveries(), 1u);
  EXPECT_LT(h.conn().snapshot().cwnd, cwnd) << "the response of fast recovery (RFC 8985 §7.4.2)";
}

TEST(tail_loss_probe, a_dsack_of_the_probe_means_no_loss__cwnd_kept) {
  tcp_harness h;
  establish(h);
  ASSERT_EQ(h.write(segments(1, 3)), 3 * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(100), k, 3);
  h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(off(3))});
  expect_segment(h, at_ms(600), 3, 3);
  h.send(at_ms(650), seg{.seq = h.r(1), .ack = h.l(off(4))});  // the original, late
  const std::uint32_t cwnd = h.conn().snapshot().cwnd;
  // The probe arrives as a duplicate: its ACK carries a D-SACK of it (RFC 2883).
  h.send(at_ms(700), seg{.seq = h.r(1), .ack = h.l(off(4)), .sack = std::vector{sack_block{h.l(off(3)), h.l(off(4))}}});
  ASSERT_EQ(h.write(segment(4)), smss);
  expect_segment(h, at_ms(700), 4, 4);
  h.send(at_ms(800), seg{.seq = h.r(1), .ack = h.l(off(5))});
  EXPECT_EQ(h.conn().probe_recoveries(), 0u);
  EXPECT_GE(h.conn().snapshot().cwnd, cwnd);
}

TEST(tail_loss_probe, not_without_sack_nor_when_switched_off) {
  for (const bool sack : {false, true}) {
    tcp_config cfg;
    cfg.tail_loss_probe = sack ? false : true;
    tcp_harness h(cfg);
    establish(h, sack);
    ASSERT_EQ(h.write(segments(1, 3)), 3 * smss);
    for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(100), k, 3);
    h.expect_nothing(at_ms(1099));
    expect_segment(h, at_ms(1100), 1, 3);  // the RTO
    EXPECT_EQ(h.conn().loss_probes(), 0u);
  }
}

// A lone FIN, sent after all the data was acknowledged, has the probe timer armed for it (TLP
// may resend a FIN). The ACK of only that FIN ends every loss-recovery duty: no probe is left
// armed, nothing more goes, and the window does not grow, for no data was delivered (RFC 5681
// §3.1 counts data octets; the FIN's sequence number is not one).
TEST(tail_loss_probe, the_ack_of_a_lone_fin_disarms_the_probe_and_leaves_cwnd) {
  tcp_harness h;
  establish(h);
  ASSERT_EQ(h.write(segments(1, 2)), 2 * smss);
  for (int k = 1; k <= 2; ++k) expect_segment(h, at_ms(100), k, 2);
  h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(off(3))});
  const std::uint32_t cwnd = h.conn().snapshot().cwnd;
  ASSERT_TRUE(h.conn().close(at_ms(200)).has_value());
  h.expect_recv(at_ms(200), seg{.seq = h.l(off(3)), .ack = h.r(1), .flags = fin | ack});
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::loss_probe);
  h.send(at_ms(300), seg{.seq = h.r(1), .ack = h.l(off(3)) + seq_len{1}});
  h.expect_state(s::fin_wait_2);
  EXPECT_EQ(h.conn().snapshot().cwnd, cwnd);
  EXPECT_NE(h.conn().snapshot().next_timer, timer_kind::loss_probe);
  h.expect_nothing(at_ms(5000));
  EXPECT_EQ(h.conn().loss_probes(), 0u);
  EXPECT_EQ(h.conn().retransmissions(), 0u);
}

}  // namespace
}  // namespace synack::test
