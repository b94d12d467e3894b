// BBR wired into the connection (tcp_config::congestion = bbr), exact segments on virtual time:
// the transmit record's delivery-rate snapshots (SACKed and cumulatively acknowledged), pacing
// at BBR's rate whatever tcp_config::pacing says, and no window cut for an isolated loss. No
// timestamps; the handshake takes 100 ms; RFC 5681's initial window of 3 segments of 1,460.
#include <gtest/gtest.h>

#include <vector>

#include "support/tcp_harness.hpp"
#include "synack/tcp/congestion.hpp"
#include "tcp/full_segments.hpp"
#include "tcp/sack_peer.hpp"

namespace synack::test {
namespace {

tcp_config bbr_cfg(congestion_kind kind = congestion_kind::bbr) {
  tcp_config cfg;
  cfg.congestion = kind;
  cfg.tail_loss_probe = false;
  return cfg;
}

// Three segments at 100 ms (the initial pacing rate, 2.885 x 4,380 octets per ms, lets them go
// at once).
void send_initial_window(tcp_harness& h, int total, bool sack = true) {
  establish_sack(h, sack);
  ASSERT_EQ(h.write(segments(1, total)), static_cast<std::size_t>(total) * smss);
  for (int k = 1; k <= 3; ++k) expect_full_segment(h, at_ms(100), k, total);
  h.expect_nothing(at_ms(100));
}

TEST(bbr_connection, a_sack_only_ack_gives_a_delivery_rate_sample) {
  tcp_harness h(bbr_cfg());
  send_initial_window(h, 3);
  const auto s0 = h.conn().snapshot().bbr;
  ASSERT_TRUE(s0.has_value());
  EXPECT_EQ(s0->mode, bbr::mode::startup);
  EXPECT_EQ(s0->btlbw, 0u);
  // 2 and 3 SACKed at 200 ms, nothing acknowledged cumulatively: 2,920 octets delivered over
  // the 100 ms since the first was sent (nothing was in flight then).
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 2, 4)}));
  const auto s1 = h.conn().snapshot().bbr;
  ASSERT_TRUE(s1.has_value());
  EXPECT_EQ(s1->btlbw, 29'200u);
  EXPECT_EQ(s1->min_rtt, 100ms);
  EXPECT_EQ(s1->mode, bbr::mode::startup);
}

TEST(bbr_connection, without_sack_the_cumulative_ack_gives_the_sample) {
  tcp_harness h(bbr_cfg());
  send_initial_window(h, 3, false);
  h.send(at_ms(200), ack_with(h, 4));
  const auto s = h.conn().snapshot().bbr;
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->btlbw, 43'800u);  // 4,380 octets over 100 ms
  EXPECT_EQ(s->min_rtt, 100ms);
}

TEST(bbr_connection, paces_at_its_rate_whatever_tcp_config_pacing_says) {
  tcp_config cfg = bbr_cfg();
  cfg.pacing = false;
  tcp_harness h(cfg);
  constexpr int total = 20;
  send_initial_window(h, total);
  // All three acknowledged at 200 ms: BtlBw 43,800 octets/s, RTprop 100 ms; in STARTUP the rate
  // is at least the initial 2.885 x 4,380 octets / 100 ms = 126,362 octets/s (truncated), and
  // cwnd grew by the 4,380 delivered to 8,760 (six segments).
  h.send(at_ms(200), ack_with(h, 4));
  EXPECT_EQ(h.conn().pacing_rate(), 126'362u);
  EXPECT_EQ(h.conn().snapshot().cwnd, 6 * smss);
  // A segment leaves every 1,460 / 126,362 s = 11,554 us; a burst of two (1 ms at the rate is
  // less) goes at once, so three leave at 200 ms (the third starts the wait), then one when the
  // pacing timer fires, up to cwnd.
  for (int k = 4; k <= 6; ++k) expect_full_segment(h, at_ms(200), k, total);
  h.expect_nothing(at_ms(200));
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::pacing);
  for (int k = 7; k <= 9; ++k) {
    const instant t = instant{200'000 + (k - 6) * 11'554};
    EXPECT_EQ(h.conn().next_deadline(), t) << k;
    h.expect_nothing(t - 1us);
    expect_full_segment(h, t, k, total);
    h.expect_nothing(t);
  }
  h.expect_nothing(at_ms(260));  // six segments in flight: cwnd is full
  // CUBIC with the same configuration does not pace.
  tcp_config unpaced = bbr_cfg(congestion_kind::cubic);
  unpaced.pacing = false;
  tcp_harness c(unpaced);
  send_initial_window(c, total);
  c.send(at_ms(200), ack_with(c, 4));
  EXPECT_EQ(c.conn().pacing_rate(), 0u);
}

// RACK marks 1 lost at 225 ms and recovery resends it (sack_peer.hpp). CUBIC's window falls to
// beta x 3 segments; BBR keeps its window (its model says nothing changed) and restores it
// when recovery ends.
TEST(bbr_connection, an_isolated_loss_does_not_cut_the_window) {
  for (const congestion_kind kind : {congestion_kind::bbr, congestion_kind::cubic}) {
    tcp_harness h(bbr_cfg(kind));
    sack_of_two_and_three_resends_one(h);
    EXPECT_TRUE(h.conn().snapshot().in_recovery);
    h.send(at_ms(325), ack_with(h, 4));
    EXPECT_FALSE(h.conn().snapshot().in_recovery);
    if (kind == congestion_kind::bbr) {
      EXPECT_GE(h.conn().snapshot().cwnd, 3 * smss) << "no multiplicative decrease";
    } else {
      EXPECT_EQ(h.conn().snapshot().cwnd, 3 * smss * 7 / 10) << "CUBIC: beta_cubic x cwnd";
    }
  }
}

}  // namespace
}  // namespace synack::test
