// Pacing (tcp_config::pacing), exact segments on virtual time. SACK, no timestamps, Reno,
// RFC 6928's initial window of 10 segments; the handshake takes 100 ms, so SRTT = 100 ms and
// in slow start (ssthresh unset) the pacing rate is cwnd / SRTT x 2 = 14,600 octets per
// 100 ms x 2 = 292,000 octets per second: a segment of 1,460 every 5 ms. The burst allowed at
// once is two segments (1 ms at the rate is less), so segments 1-3 leave at 100 ms (the third
// starts the wait), then one every 5 ms.
#include <gtest/gtest.h>

#include <string>

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

// Off (the default): the whole initial window at once, as every other test expects.
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
