// Undo of spurious retransmissions, exact segments on virtual time: D-SACK (RFC 2883 §4.2,
// RFC 3708 §2) after a fast retransmit that reordering caused, and timestamps (Eifel, RFC 3522)
// after a timeout that a delay caused; the window goes back as RFC 4015 responds. Reno, SACK,
// RFC 6928's initial window of 10 segments; the handshake takes 100 ms (RTO: its 1 s floor).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/tcp_harness.hpp"
#include "synack/tcp/congestion.hpp"
#include "tcp/full_segments.hpp"
#include "tcp/sack_peer.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;

constexpr int total = 40;

tcp_config undo_cfg() {
  tcp_config cfg;
  cfg.pacing = false;  // each window leaves in one burst, as the exact segments below expect
  cfg.prr = true;  // the exact segments below were written with PRR's counts
  cfg.congestion = congestion_kind::reno;
  cfg.initial_window = initial_window_rule::rfc6928;
  cfg.tail_loss_probe = false;  // the RTO, not a probe, in the timeout tests
  return cfg;
}

void establish(tcp_harness& h) { establish_sack(h); }

void expect_segment(tcp_harness& h, instant at, int k, test::source_loc loc = test::source_loc::current()) {
  expect_full_segment(h, at, k, total, loc);
}

// Segments 1-10 sent; segment 1 is delayed, 2-4 arrive first: fast retransmit of 1.
void reorder_first_segment(tcp_harness& h) {
  establish(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 10; ++k) expect_segment(h, at_ms(100), k);
  h.send(at_ms(200), ack_with(h, 1, {sack_block{h.l(off(2)), h.l(off(5))}}));
  expect_segment(h, at_ms(200), 1);
  ASSERT_TRUE(h.conn().snapshot().in_recovery);
  ASSERT_EQ(h.conn().snapshot().ssthresh, 5 * smss);
}

TEST(undo, dsack_of_the_only_retransmission__cwnd_and_ssthresh_restored) {
  tcp_harness h(undo_cfg());
  reorder_first_segment(h);
  // The original of 1 arrives late: everything is acknowledged, recovery ends at ssthresh.
  h.send(at_ms(205), ack_with(h, 11));
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().snapshot().cwnd, 5 * smss);
  for (int k = 11; k <= 15; ++k) expect_segment(h, at_ms(205), k);
  h.expect_nothing(at_ms(205));
  // Then the retransmission: the receiver reports it with a D-SACK (RFC 2883 §4.2). It was
  // the episode's only retransmission, so the reduction was spurious (RFC 3708 §2).
  h.send(at_ms(210), ack_with(h, 11, {sack_block{h.l(off(1)), h.l(off(2))}}));
  EXPECT_EQ(h.conn().spurious_undos(), 1u);
  EXPECT_EQ(h.conn().snapshot().cwnd, 10 * smss) << "the window before the reduction";
  EXPECT_EQ(h.conn().snapshot().ssthresh, congestion_control::max_window) << "slow start again, as before";
  for (int k = 16; k <= 20; ++k) expect_segment(h, at_ms(210), k);
  h.expect_nothing(at_ms(210));
}

TEST(undo, dsack_before_the_recovery_ends__undone_when_it_ends) {
  tcp_harness h(undo_cfg());
  reorder_first_segment(h);
  // The retransmission arrives first (a partial ACK: 5-10 are still on their way), then the
  // original, which is the duplicate now.
  h.send(at_ms(205), ack_with(h, 5));
  h.send(at_ms(206), ack_with(h, 5, {sack_block{h.l(off(1)), h.l(off(2))}}));
  EXPECT_TRUE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().spurious_undos(), 0u) << "the rest of the episode may still be lost";
  h.send(at_ms(210), ack_with(h, 11));
  EXPECT_EQ(h.conn().spurious_undos(), 1u);
  EXPECT_EQ(h.conn().snapshot().cwnd, 10 * smss);
}

TEST(undo, a_real_loss_is_not_undone) {
  tcp_harness h(undo_cfg());
  reorder_first_segment(h);
  h.send(at_ms(205), ack_with(h, 11));  // the retransmission repaired the hole; no D-SACK
  h.send(at_ms(300), ack_with(h, 16));
  EXPECT_EQ(h.conn().spurious_undos(), 0u);
  EXPECT_EQ(h.conn().snapshot().ssthresh, 5 * smss);
  // A D-SACK of something the episode did not retransmit (a duplicate the network made).
  h.send(at_ms(301), ack_with(h, 16, {sack_block{h.l(off(3)), h.l(off(4))}}));
  EXPECT_EQ(h.conn().spurious_undos(), 0u);
}

TEST(undo, switched_off__the_reduction_stays) {
  tcp_config cfg = undo_cfg();
  cfg.undo_spurious = false;
  tcp_harness h(cfg);
  reorder_first_segment(h);
  h.send(at_ms(205), ack_with(h, 11));
  h.send(at_ms(210), ack_with(h, 11, {sack_block{h.l(off(1)), h.l(off(2))}}));
  EXPECT_EQ(h.conn().spurious_undos(), 0u);
  EXPECT_EQ(h.conn().snapshot().cwnd, 5 * smss);
}

// ---- Eifel (RFC 3522): timestamps on every segment, so a full segment carries 1448 octets.

constexpr std::uint32_t ts_smss = 1448;
std::string chunk(int k) { return std::string(ts_smss, static_cast<char>('a' + k - 1)); }
std::uint32_t ts_off(int k) { return 1 + static_cast<std::uint32_t>(k - 1) * ts_smss; }

void establish_ts(tcp_harness& h) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460, .sack_ok = true, .ts = tcp_timestamps{1000, 0}});
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(100), seg{.seq = h.r(1), .ack = h.l(1), .ts = tcp_timestamps{1100, our_ts(0)}});
  ASSERT_EQ(h.conn().state(), s::established);
  ASSERT_TRUE(h.conn().timestamps_on());
  h.drain_events();
}

void expect_chunk(tcp_harness& h, instant at, int k, std::uint32_t ms, std::uint32_t ecr = 1100,
                  test::source_loc loc = test::source_loc::current()) {
  h.expect_recv(at, seg{.seq = h.l(ts_off(k)), .ack = h.r(1), .payload = chunk(k), .ts = tcp_timestamps{our_ts(ms), ecr}},
                false, loc);
}

tcp_config eifel_cfg() {
  tcp_config cfg = undo_cfg();
  cfg.initial_window = initial_window_rule::rfc5681;
  return cfg;
}

// Three segments out (IW 3 x 1460 octets by RFC 5681); none is acknowledged for longer than
// the RTO, so segment 1 goes again at 1.1 s.
void three_out_then_rto(tcp_harness& h) {
  establish_ts(h);
  std::string data;
  for (int k = 1; k <= 5; ++k) data += chunk(k);
  ASSERT_EQ(h.write(data), data.size());
  for (int k = 1; k <= 3; ++k) expect_chunk(h, at_ms(100), k, 100);
  h.expect_nothing(at_ms(1099));
  expect_chunk(h, at_ms(1100), 1, 1100);  // the RTO
}

// The ACK that follows echoes the original's TSval: the original arrived, the timeout was
// spurious (RFC 3522 §3.2). RFC 4015: the window comes back and sending resumes with new
// data, not with segments 2 and 3 again.
TEST(undo, eifel__spurious_timeout_undone_and_new_data_follows) {
  tcp_harness h(eifel_cfg());
  three_out_then_rto(h);
  EXPECT_EQ(h.conn().snapshot().cwnd, 1460u);
  h.send(at_ms(1150), seg{.seq = h.r(1), .ack = h.l(ts_off(2)), .ts = tcp_timestamps{1150, our_ts(100)}});
  EXPECT_EQ(h.conn().spurious_undos(), 1u);
  EXPECT_EQ(h.conn().snapshot().cwnd, 3 * 1460u);
  EXPECT_EQ(h.conn().snapshot().ssthresh, congestion_control::max_window);
  expect_chunk(h, at_ms(1150), 4, 1150, 1150);  // segments 2 and 3 are in flight: new data
  h.expect_nothing(at_ms(1150));
}

// After the undo a loss among the segments still in flight starts a fast recovery at once:
// 3 and 4 are SACKed, RACK finds 2 lost. RFC 6582's `recover` from the timeout (SND.MAX then,
// the end of 3) no longer holds it back, or only the next, backed-off, timeout would resend 2.
TEST(undo, eifel__after_the_undo_a_loss_rack_finds_starts_fast_recovery) {
  tcp_harness h(eifel_cfg());
  three_out_then_rto(h);
  h.send(at_ms(1150), seg{.seq = h.r(1), .ack = h.l(ts_off(2)), .ts = tcp_timestamps{1150, our_ts(100)}});
  ASSERT_EQ(h.conn().spurious_undos(), 1u);
  expect_chunk(h, at_ms(1150), 4, 1150, 1150);
  h.send(at_ms(1200), seg{.seq = h.r(1), .ack = h.l(ts_off(2)), .sack = {{sack_block{h.l(ts_off(3)), h.l(ts_off(5))}}},
                          .ts = tcp_timestamps{1200, our_ts(1150)}});
  EXPECT_TRUE(h.conn().snapshot().in_recovery);
  expect_chunk(h, at_ms(1200), 2, 1200, 1200);
  EXPECT_EQ(h.conn().timeouts(), 1u);
}

TEST(undo, eifel__an_echo_of_the_retransmission_is_a_real_loss) {
  tcp_harness h(eifel_cfg());
  three_out_then_rto(h);
  h.send(at_ms(1150), seg{.seq = h.r(1), .ack = h.l(ts_off(2)), .ts = tcp_timestamps{1150, our_ts(1100)}});
  EXPECT_EQ(h.conn().spurious_undos(), 0u);
  EXPECT_EQ(h.conn().snapshot().cwnd, 1460u + ts_smss) << "slow start after the RTO: + the octets acknowledged";
  expect_chunk(h, at_ms(1150), 2, 1150, 1150);  // go-back-N continues
}

}  // namespace
}  // namespace synack::test
