// Pacing (tcp_config::pacing), exact segments on virtual time. SACK, no timestamps, Reno,
// RFC 6928's initial window of 10 segments; the handshake takes 100 ms, so SRTT = 100 ms and
// in slow start (ssthresh unset) the pacing rate is cwnd / SRTT x 2 = 14,600 octets per
// 100 ms x 2 = 292,000 octets per second: a segment of 1,460 every 5 ms. The burst allowed at
// once is two segments (1 ms at the rate is less), so segments 1-3 leave at 100 ms (the third
// starts the wait), then one every 5 ms.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "support/tcp_harness.hpp"
#include "synack/tcp/congestion.hpp"
#include "tcp/full_segments.hpp"
#include "tcp/sack_peer.hpp"

namespace synack::test {
namespace {

constexpr int total = 20;

tcp_config pacing_cfg(bool pacing) {
  tcp_config cfg;
  cfg.congestion = congestion_kind::reno;
  cfg.initial_window = initial_window_rule::rfc6928;
  cfg.tail_loss_probe = false;
  cfg.pacing = pacing;
  return cfg;
}

void expect_segment(tcp_harness& h, instant at, int k, test::source_loc loc = test::source_loc::current()) {
  expect_full_segment(h, at, k, total, loc);
}

TEST(pacing, spreads_the_window_over_the_round_trip_with_the_pacing_timer) {
  tcp_harness h(pacing_cfg(true));
  establish_sack(h);
  EXPECT_EQ(h.conn().pacing_rate(), 292'000u);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(100), k);
  h.expect_nothing(at_ms(100));
  EXPECT_FALSE(h.conn().has_pending_output()) << "held by the pacing timer, not by cwnd";
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::pacing);
  EXPECT_EQ(h.conn().next_deadline(), at_ms(105));
  h.expect_nothing(instant{104'999});
  // Each timeout lets one more go: 5 ms a segment, up to cwnd (10 in flight).
  for (int k = 4; k <= 10; ++k) {
    expect_segment(h, at_ms(100 + 5 * (k - 3)), k);
    h.expect_nothing(at_ms(100 + 5 * (k - 3)));
  }
  h.expect_nothing(at_ms(140));  // cwnd is full now: 10 segments in flight
}

// The window sent as above (1-3 at 100 ms, then 4-10 every 5 ms up to 135 ms).
void send_paced_window(tcp_harness& h) {
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(100), k);
  for (int k = 4; k <= 10; ++k) expect_segment(h, at_ms(100 + 5 * (k - 3)), k);
  h.expect_nothing(at_ms(140));
}

// In recovery cwnd falls to ssthresh while the flight is still the window before the loss: the
// rate is over the larger, as Linux's tcp_update_pacing_rate (max(cwnd, packets_out)). 2 and 3
// SACKed at 200 ms (sent at 100: RACK's round trip is 100 ms, as SRTT) let 11 go; RACK's reorder
// timer marks 1 lost at 225 ms and fast recovery resends it with cwnd = ssthresh = 5.5 segments
// and 11 in flight: 11 x 1,460 / 100 ms x 1.2 = 192,720 octets per second (over cwnd alone it
// was half that, 96,360, and what PRR or the pipe allowed waited for the pacing timer).
TEST(pacing, in_recovery_the_rate_is_over_the_flight_not_the_reduced_cwnd) {
  tcp_harness h(pacing_cfg(true));
  send_paced_window(h);
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 2, 4)}));
  EXPECT_EQ(drain(h, at_ms(200)), std::vector<int>{11});  // the SACKed two left the pipe
  h.expect_nothing(at_ms(224));
  EXPECT_EQ(drain(h, at_ms(225)), std::vector<int>{1});  // the retransmission
  ASSERT_TRUE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().snapshot().cwnd, 11 * smss / 2);
  EXPECT_EQ(h.conn().pacing_rate(), 192'720u);
}

// The round trip of the rate is RACK's, smoothed over every ACK that delivered data, SACK-only
// ACKs included (Linux's srtt takes their sack_rtt too); the RFC 6298 SRTT samples only ACKs
// that move SND.UNA. 2 and 3 are SACKed 50 ms after they left, 1 still missing: RACK's round
// trip is 50 ms (its first sample) while SRTT stays at the handshake's 100 ms, and in slow
// start the rate is max(cwnd, flight) x 2 over 50 ms.
TEST(pacing, the_round_trip_counts_sack_only_acks) {
  tcp_harness h(pacing_cfg(true));
  send_paced_window(h);
  h.send(at_ms(150), ack_with(h, 1, {sacked(h, 2, 4)}));
  EXPECT_EQ(drain(h, at_ms(150)), std::vector<int>{11});
  EXPECT_EQ(h.conn().rtt().srtt(), std::optional<duration>{100ms});
  const tcb_snapshot t = h.conn().snapshot();
  const std::uint64_t window = std::max<std::uint64_t>(t.cwnd, distance(t.snd.una, t.snd.max).n);
  EXPECT_EQ(window, 11u * smss);  // the flight: 1-11
  EXPECT_EQ(h.conn().pacing_rate(), window * 2 * 1'000'000 / 50'000);
}

// Then 1, held in the network, is acknowledged at 170 ms, before RACK's reorder timer (175 ms):
// delivered below the SACKed 2 and 3 and never resent, it was reordered (RACK.reordering_seen),
// and pacing steps aside for the rest of the connection: a paced window would be released
// slower than RACK's reordering window lets its ACKs return (config.hpp). cwnd 13 (slow start)
// less 4-11 in flight lets 12-16 go at once.
TEST(pacing, steps_aside_once_rack_has_seen_the_path_reorder) {
  tcp_harness h(pacing_cfg(true));
  send_paced_window(h);
  h.send(at_ms(150), ack_with(h, 1, {sacked(h, 2, 4)}));
  EXPECT_EQ(drain(h, at_ms(150)), std::vector<int>{11});
  EXPECT_GT(h.conn().pacing_rate(), 0u);
  h.send(at_ms(170), ack_with(h, 4));
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().pacing_rate(), 0u);
  EXPECT_EQ(drain(h, at_ms(170)), (std::vector<int>{12, 13, 14, 15, 16}));
  EXPECT_NE(h.conn().snapshot().next_timer, timer_kind::pacing);
}

// Off: the whole initial window at once, as the exact-segment tests of bursts expect.
TEST(pacing, off_sends_the_window_at_once) {
  tcp_harness h(pacing_cfg(false));
  establish_sack(h);
  EXPECT_EQ(h.conn().pacing_rate(), 0u);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 10; ++k) expect_segment(h, at_ms(100), k);
  h.expect_nothing(at_ms(100));
  EXPECT_NE(h.conn().snapshot().next_timer, timer_kind::pacing);
}

}  // namespace
}  // namespace synack::test
