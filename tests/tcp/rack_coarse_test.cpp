// RACK's transmit record when a flight outgrows it (issue #12, pacing): a full record merges
// two adjacent entries into a coarser one instead of leaving new segments untracked. Exact
// sequence numbers on virtual time: the record driven directly (rack.hpp's calling contract;
// segments of 1,000 octets, segment k is [end_of(k), end_of(k + 1)), sent at k ms unless said),
// then exact segments through a connection (tests/tcp/sack_peer.hpp's handshake).
#include <gtest/gtest.h>

#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "support/tcp_harness.hpp"
#include "synack/tcp/congestion.hpp"
#include "synack/tcp/rack.hpp"
#include "synack/tcp/sack_scoreboard.hpp"
#include "tcp/full_segments.hpp"
#include "tcp/sack_peer.hpp"

namespace synack::test {
namespace {

using std::chrono::milliseconds;

const seq_num base{4294960000u};  // just below the wrap: the flight crosses it
seq_num end_of(int k) { return base + seq_len{static_cast<std::uint32_t>(1000 * k)}; }
const auto never = [](instant) { return false; };

rack make_record(std::size_t capacity) {
  rack r;
  r.configure(capacity, 3, 1000);
  r.reset(base);
  return r;
}

// SACK blocks (left, right) as segment numbers, applied to the scoreboard with SND.UNA at una.
void sack(sack_scoreboard& sb, int una, int snd_max, std::vector<std::pair<int, int>> blocks) {
  std::vector<sack_block> b;
  for (auto [l, r] : blocks) b.push_back(sack_block{end_of(l), end_of(r)});
  (void)sb.update(end_of(una), end_of(snd_max), std::span<const sack_block>(b));
}

// A paced flight, one segment per millisecond, is three times the record: every segment is
// still tracked, in four entries (before: four tracked, eight counted as overflows and left to
// RFC 6675's IsLost).
TEST(rack_coarse, a_full_record_coarsens_and_a_paced_flight_stays_covered) {
  rack r = make_record(4);
  for (int k = 0; k < 12; ++k) r.on_sent(at_ms(k), end_of(k), end_of(k + 1), false);
  EXPECT_EQ(r.size(), 4u);
  EXPECT_EQ(r.overflows(), 0u);
  for (int k = 0; k < 12; ++k) EXPECT_TRUE(r.tracks(end_of(k) + seq_len{500})) << "segment " << k;
  EXPECT_FALSE(r.tracks(end_of(12)));
}

// Segments 0 and 1 (sent at 0 and 10 ms) share an entry once segment 2 (20 ms) finds the record
// full. Segment 2 is SACKed at 120 ms: RACK.rtt 100 ms, reo_wnd min_RTT / 4 = 25 ms. Segment 0
// alone would be due at 0 + 125 ms; the entry is judged on its newest part, segment 1: lost at
// 10 + 125 = 135 ms, not before. (Before: segment 2 was not tracked, its SACK told RACK
// nothing, and no reorder timer was armed.)
TEST(rack_coarse, a_coarse_entry_is_lost_no_earlier_than_its_newest_part) {
  rack r = make_record(2);
  r.on_rtt_sample(milliseconds(100));
  for (int k = 0; k < 3; ++k) r.on_sent(at_ms(10 * k), end_of(k), end_of(k + 1), false);
  ASSERT_EQ(r.size(), 2u);
  sack_scoreboard sb;
  sb.reset(base);
  sack(sb, 0, 3, {{2, 3}});
  r.on_ack(at_ms(120), end_of(0), sb, false, end_of(3), never);
  EXPECT_EQ(r.detect_loss_at(at_ms(120), milliseconds(100), false), at_ms(135));
  EXPECT_EQ(r.reo_wnd(), milliseconds(25));
  EXPECT_EQ(r.detect_loss_at(at_ms(134), milliseconds(100), false), at_ms(135));
  EXPECT_EQ(r.lost_pending(), 0u);
  EXPECT_EQ(r.detect_loss_at(at_ms(135), milliseconds(100), false), instant::max());
  ASSERT_EQ(r.lost_pending(), 1u);
  const auto lost = r.first_lost();
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->seq, end_of(0));
  EXPECT_EQ(lost->end, end_of(2));
  EXPECT_EQ(r.losses(), 2u) << "two segments' worth";
}

// A delivered coarse entry advances RACK.xmit_ts only to its oldest part: what it delivered
// may be that part. Segment 0 is resent at 55 ms, between segment 1 (50 ms) and segment 2
// (60 ms), which then share an entry. Their SACK at 160 ms does not make the retransmission
// lost (with them as separate entries, segment 2's SACK did: 55 + 100 <= 160); segment 3's SACK,
// sent at 61 ms, then does: due 55 + RACK.rtt (170 - 61) = 164 ms.
TEST(rack_coarse, a_delivered_coarse_entry_counts_as_sent_when_its_oldest_part_was) {
  rack r = make_record(3);
  r.on_sent(at_ms(0), end_of(0), end_of(1), false);
  r.on_sent(at_ms(50), end_of(1), end_of(2), false);
  r.on_sent(at_ms(55), end_of(0), end_of(1), true);
  r.on_sent(at_ms(60), end_of(2), end_of(3), false);
  r.on_sent(at_ms(61), end_of(3), end_of(4), false);  // full: segments 1 and 2 merge
  ASSERT_EQ(r.size(), 3u);
  ASSERT_EQ(r.overflows(), 0u);
  sack_scoreboard sb;
  sb.reset(base);
  sack(sb, 0, 4, {{1, 3}});
  r.on_ack(at_ms(160), end_of(0), sb, false, end_of(4), never);
  EXPECT_EQ(r.detect_loss_at(at_ms(160), milliseconds(100), true), instant::max());
  EXPECT_EQ(r.lost_pending(), 0u);
  sack(sb, 0, 4, {{1, 4}});
  r.on_ack(at_ms(170), end_of(0), sb, false, end_of(4), never);
  EXPECT_EQ(r.detect_loss_at(at_ms(170), milliseconds(100), true), instant::max());
  ASSERT_EQ(r.lost_pending(), 1u);
  EXPECT_EQ(r.first_lost()->seq, end_of(0));
  EXPECT_EQ(r.first_lost()->end, end_of(1));
}

// The shallow-queue stall in small (docs/performance.md, "Pacing under reordering"): segment 0
// is dropped, 1-3 arrive, 4-11 are thrown away by the receiver. The record of four holds
// segments 0-3 in one coarse entry; the SACK of 1-3 splits it (room made by merging two
// entries above), and segment 0, below them and never resent, is found: due at its entry's
// newest time, 3 ms, + RACK.rtt 100 ms (from the SACKed part's oldest, 0 ms) = 103 ms, not at
// 97 ms as with its own times. Its retransmission's delivery at 203 ms then finds 4-11 lost
// (before: untracked, with nothing SACKed above them for IsLost, they waited for the RTO).
TEST(rack_coarse, a_hole_in_a_coarse_entry_and_the_untracked_tail_are_found) {
  rack r = make_record(4);
  for (int k = 0; k < 12; ++k) r.on_sent(at_ms(k), end_of(k), end_of(k + 1), false);
  sack_scoreboard sb;
  sb.reset(base);
  sack(sb, 0, 12, {{1, 4}});
  r.on_ack(at_ms(100), end_of(0), sb, false, end_of(12), never);
  EXPECT_EQ(r.overflows(), 0u);
  EXPECT_EQ(r.detect_loss_at(at_ms(100), milliseconds(100), true), at_ms(103));
  EXPECT_EQ(r.lost_pending(), 0u);
  EXPECT_EQ(r.detect_loss_at(at_ms(103), milliseconds(100), true), instant::max());
  ASSERT_EQ(r.lost_pending(), 1u);
  EXPECT_EQ(r.first_lost()->seq, end_of(0));
  EXPECT_EQ(r.first_lost()->end, end_of(1)) << "the SACKed part is not marked";
  r.on_sent(at_ms(103), end_of(0), end_of(1), true);
  EXPECT_EQ(r.lost_pending(), 0u);

  sack(sb, 4, 12, {});
  r.on_ack(at_ms(203), end_of(4), sb, false, end_of(12), never);
  EXPECT_EQ(r.detect_loss_at(at_ms(203), milliseconds(100), true), instant::max());
  EXPECT_EQ(r.losses(), 1u + 8u) << "segment 0, then 4-11";
  const auto lost = r.first_lost();
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->seq, end_of(4));
  for (int k = 4; k < 12; ++k) EXPECT_TRUE(r.tracks(end_of(k))) << "segment " << k;
}

// BBR's delivery snapshot: a coarse entry keeps its newest part's, the one taken with its
// xmit_ts. Segments 0-3 carry P.delivered 100, 200, 300, 400; with a record of two, 0-2 end in
// one entry sent (newest) at 20 ms, and their cumulative ACK gives that snapshot as the newest
// delivered segment. (Before: 2 and 3 were not recorded, and the newest was segment 1's.)
TEST(rack_coarse, a_coarse_entry_keeps_its_newest_parts_delivery_snapshot) {
  rack r = make_record(2);
  for (int k = 0; k < 4; ++k) {
    delivery_snapshot snap;
    snap.delivered = static_cast<std::uint64_t>(100 * (k + 1));
    r.on_sent(at_ms(10 * k), end_of(k), end_of(k + 1), false, snap);
  }
  sack_scoreboard sb;
  sb.reset(base);
  sack(sb, 3, 4, {});
  std::optional<delivered_segment> newest;
  r.on_ack(at_ms(120), end_of(3), sb, false, end_of(4), never, &newest);
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(newest->snap.delivered, 300u);
  EXPECT_EQ(newest->sent_time, at_ms(20));
  EXPECT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.tracks(end_of(3)));
}

// Through a connection: pacing on, a record of four entries (tcp_config::rack_segments), the
// rest as tests/tcp/pacing_test.cpp (SRTT 100 ms; segments 1-3 leave at 100 ms, then one every
// 5 ms up to 10 at 135 ms). Coarsened as they go, the four entries end as [1, 5) sent 100-105
// ms, [5, 7) 110-115, [7, 10) 120-130 and 10 (135). The ACK at 200 ms SACKs 2 and 3: the splits
// it needs merge [1, 5) with [5, 7), so segment 1 is in an entry whose newest part left at
// 115 ms, and is lost at 115 + RACK.rtt 100 (from 2's entry's oldest part, 100 ms) + reo_wnd
// 25 = 240 ms (15 ms later than with its own time). The peer holds nothing else: its ACK at
// 341 ms of 1's retransmission (RACK.rtt 101 ms) marks 4-11 lost at once, and PRR resends them
// as the ACKs of the retransmissions come, no timeout. (Before: 7-11 were not tracked, and the
// SACK at 200 ms could not split the full record, so RACK saw nothing delivered and the
// connection waited for the RTO at 1,341 ms.)
TEST(rack_coarse, through_a_connection_a_paced_flight_beyond_the_record_is_resent_without_a_timeout) {
  tcp_config cfg;
  cfg.prr = true;
  cfg.congestion = congestion_kind::reno;
  cfg.initial_window = initial_window_rule::rfc6928;
  cfg.tail_loss_probe = false;
  cfg.pacing = true;
  cfg.rack_segments = 4;
  tcp_harness h(cfg);
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, 20)), 20 * smss);
  ASSERT_EQ(drain(h, at_ms(100)), (std::vector<int>{1, 2, 3}));
  for (int k = 4; k <= 10; ++k) ASSERT_EQ(drain(h, at_ms(100 + 5 * (k - 3))), std::vector<int>{k});
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 2, 4)}));
  EXPECT_EQ(drain(h, at_ms(200)), std::vector<int>{11});
  EXPECT_EQ(h.conn().next_deadline(), at_ms(240));
  h.expect_nothing(at_ms(239));
  EXPECT_EQ(drain(h, at_ms(240)), std::vector<int>{1});
  h.send(at_ms(341), ack_with(h, 4));
  EXPECT_EQ(h.conn().rack_losses(), 9u) << "1, then 4-11";
  EXPECT_EQ(drain(h, at_ms(341)), (std::vector<int>{4, 5}));
  h.send(at_ms(441), ack_with(h, 6));
  EXPECT_EQ(drain(h, at_ms(441)), (std::vector<int>{6, 7, 8}));
  h.send(at_ms(541), ack_with(h, 9));
  EXPECT_EQ(drain(h, at_ms(541)), (std::vector<int>{9, 10, 11}));
  EXPECT_EQ(h.conn().retransmissions(), 9u);
  EXPECT_EQ(h.conn().timeouts(), 0u);
  EXPECT_EQ(h.conn().snapshot().rack_overflows, 0u);
}

}  // namespace
}  // namespace synack::test
