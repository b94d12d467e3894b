// RACK time-based loss detection (RFC 8985 §6), exact segments on virtual time. SACK, no
// timestamps, Reno, RFC 6928's initial window of 10 segments, no Tail Loss Probe (its PTO would
// interleave); the handshake takes 100 ms, so SRTT = min_RTT = 100 ms and RACK.reo_wnd is
// min_RTT / 4 = 25 ms while fewer than DupThresh segments are SACKed and no reordering was seen.
#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "support/tcp_harness.hpp"
#include "synack/tcp/congestion.hpp"
#include "synack/tcp/rack.hpp"
#include "tcp/full_segments.hpp"
#include "tcp/sack_peer.hpp"

namespace synack::test {
namespace {

constexpr int total = 40;

tcp_config rack_cfg() {
  tcp_config cfg;
  cfg.pacing = false;  // each window leaves in one burst, as the exact segments below expect
  cfg.prr = true;
  cfg.congestion = congestion_kind::reno;
  cfg.initial_window = initial_window_rule::rfc6928;
  cfg.tail_loss_probe = false;
  return cfg;
}

void expect_segment(tcp_harness& h, instant at, int k, test::source_loc loc = test::source_loc::current()) {
  expect_full_segment(h, at, k, total, loc);
}

// Segments 1-10 leave at 100 ms; at 200 ms an ACK SACKs segment 2 only: 1 is missing. The
// first duplicate ACK lets limited transmit (RFC 3042) send segment 11.
void sack_of_segment_two(tcp_harness& h) {
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 10; ++k) expect_segment(h, at_ms(100), k);
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 2, 3)}));
  expect_segment(h, at_ms(200), 11);
  h.expect_nothing(at_ms(200));
}

// (1) Segment 2, sent with 1, was delivered 100 ms after: 1 is lost once RACK.rtt (100 ms) +
// reo_wnd (25 ms) passed since it was sent, at 225 ms — the reorder timer, since the SACK
// came before that. One SACKed segment is far from DupThresh: RFC 6675 would still wait.
TEST(rack, a_loss_before_a_sacked_segment_is_resent_when_the_reorder_timer_fires) {
  tcp_harness h(rack_cfg());
  sack_of_segment_two(h);
  EXPECT_EQ(h.conn().next_deadline(), at_ms(225));
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::rack_reorder);
  h.expect_nothing(at_ms(224));
  EXPECT_EQ(h.conn().retransmissions(), 0u);
  expect_segment(h, at_ms(225), 1);
  h.expect_nothing(at_ms(225));
  EXPECT_TRUE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().rack_losses(), 1u);
  EXPECT_EQ(h.conn().retransmissions(), 1u);
  EXPECT_EQ(h.conn().timeouts(), 0u);
}

// (2) Segment 1 arrives 10 ms after segment 2: within reo_wnd, so nothing is resent, and the
// reordering is seen (RACK.reordering_seen) from then on.
TEST(rack, reordering_shorter_than_the_window_is_not_retransmitted) {
  tcp_harness h(rack_cfg());
  sack_of_segment_two(h);
  h.send(at_ms(210), ack_with(h, 3));  // 1 came late: 1 and 2 acknowledged
  EXPECT_FALSE(drain(h, at_ms(210)).empty()) << "new data: the ACK advanced";
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  h.expect_nothing(at_ms(299));
  EXPECT_EQ(h.conn().retransmissions(), 0u);
  EXPECT_EQ(h.conn().rack_losses(), 0u);
  EXPECT_EQ(h.conn().snapshot().reo_wnd, std::chrono::milliseconds(25));
}

// (3) The same reordering, 30 ms this time: 1 is resent at 225 ms, spuriously — the original
// arrives at 230 ms, then the retransmission, which the receiver reports as a D-SACK. RACK
// doubles reo_wnd (reo_wnd_mult 2, RFC 8985 §6.2 step 4) and the undo restores cwnd. A later
// reordering of 40 ms, as long as would have been resent before, is waited out.
void spurious_resend_of_one(tcp_harness& h) {
  sack_of_segment_two(h);
  expect_segment(h, at_ms(225), 1);
  h.send(at_ms(230), ack_with(h, 12));  // the original of 1: everything acknowledged
  (void)drain(h, at_ms(230));
  h.send(at_ms(235), ack_with(h, 12, {sacked(h, 1, 2)}));  // the retransmission: a D-SACK
}

TEST(rack, a_dsack_grows_the_window_and_the_same_reordering_is_then_waited_out) {
  tcp_harness h(rack_cfg());
  spurious_resend_of_one(h);
  EXPECT_EQ(h.conn().reo_wnd_adaptations(), 1u);
  EXPECT_EQ(h.conn().snapshot().reo_wnd_mult, 2u);
  EXPECT_EQ(h.conn().spurious_undos(), 1u);
  const std::vector<int> sent = drain(h, at_ms(235));
  ASSERT_GE(sent.size(), 2u);
  const std::uint64_t rtx = h.conn().retransmissions();
  // Segments 12 .. are in flight, sent at 230 and 235 ms. The first of them is delayed 40 ms;
  // the ACK of the second comes first, 100 ms after it was sent.
  h.send(at_ms(335), ack_with(h, 12, {sacked(h, 13, 14)}));
  EXPECT_EQ(h.conn().snapshot().reo_wnd, std::chrono::milliseconds(50));
  (void)drain(h, at_ms(335));
  h.send(at_ms(370), ack_with(h, 14));  // 40 ms later than it would have been: 12 arrives
  (void)drain(h, at_ms(370));
  h.expect_nothing(at_ms(420));
  EXPECT_EQ(h.conn().retransmissions(), rtx) << "not resent: reo_wnd is 50 ms now";
  EXPECT_EQ(h.conn().rack_losses(), 1u);
}

// (3b) As (3), but the next reordering comes with DupThresh segments SACKed. No original was
// ever delivered below RACK.fack unresent (segment 1 was resent before it arrived), so RFC 8985
// §6.2 step 3 alone never sees reordering, and reo_wnd would be 0 here: segment 12 resent at
// 335 ms, spuriously again. The undo proved the first recovery was reordering (DEVIATION in
// connection::try_undo): reo_wnd is 50 ms and 12, 40 ms late, is waited out.
TEST(rack, an_undone_recovery_counts_as_reordering_seen) {
  tcp_harness h(rack_cfg());
  spurious_resend_of_one(h);
  ASSERT_EQ(h.conn().spurious_undos(), 1u);
  (void)drain(h, at_ms(235));
  const std::uint64_t rtx = h.conn().retransmissions();
  // 12-16 left at 230 ms; 13-15 arrive, 12 is held.
  h.send(at_ms(335), ack_with(h, 12, {sacked(h, 13, 16)}));
  EXPECT_EQ(h.conn().snapshot().reo_wnd, std::chrono::milliseconds(50));
  (void)drain(h, at_ms(335));
  h.send(at_ms(370), ack_with(h, 17));  // 12 arrives, 40 ms after 13
  (void)drain(h, at_ms(370));
  h.expect_nothing(at_ms(420));
  EXPECT_EQ(h.conn().retransmissions(), rtx) << "12 not resent";
  EXPECT_EQ(h.conn().rack_losses(), 1u);
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
}

// (4) A lost retransmission, which RFC 6675 cannot see (NextSeg() never resends below
// HighRxt): three segments SACKed at once make segment 1 lost at 200 ms (reo_wnd 0 at
// DupThresh), and it goes again; that retransmission is lost too. Segments sent after it are
// SACKed at 400 ms: it is lost again, resent at once, with no RTO.
TEST(rack, a_lost_retransmission_is_found_without_a_timeout) {
  tcp_harness h(rack_cfg());
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 10; ++k) expect_segment(h, at_ms(100), k);
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 2, 5)}));
  expect_segment(h, at_ms(200), 1);
  EXPECT_EQ(h.conn().rack_losses(), 1u);
  (void)drain(h, at_ms(200));
  h.send(at_ms(300), ack_with(h, 1, {sacked(h, 2, 11)}));  // the rest of the first flight
  const std::vector<int> fresh = drain(h, at_ms(300));
  ASSERT_FALSE(fresh.empty());
  EXPECT_GE(fresh.front(), 11) << "new data, segment 1 is not presumed lost yet";
  const int last = fresh.back();
  h.send(at_ms(400), ack_with(h, 1, {sacked(h, 2, last + 1)}));
  expect_segment(h, at_ms(400), 1);
  EXPECT_EQ(h.conn().rack_losses(), 2u);
  EXPECT_EQ(h.conn().timeouts(), 0u);
  EXPECT_EQ(h.conn().retransmissions(), 2u);
}

// (4b) A resent loss counts once in pipe (the retransmission; the original left the network),
// so new data follows it in a window of two segments and shows RACK when it is lost again.
// Three segments in flight, 2 and 3 SACKed at 200 ms: below DupThresh, so 1 is not IsLost for
// RFC 6675, and the reorder timer marks it lost at 225 ms. RFC 6675 recovery (no PRR): cwnd =
// ssthresh = max(FlightSize 3 / 2, 2) = 2 segments. With the original counted in pipe beside
// its retransmission, segment 4 would wait and only the RTO (1 s) would find the second loss.
TEST(rack, a_resent_loss_counts_once_in_pipe_so_new_data_follows_it) {
  tcp_config cfg = rack_cfg();
  cfg.prr = false;
  tcp_harness h(cfg);
  sack_of_two_and_three_resends_one(h);
  h.expect_nothing(at_ms(225));
  EXPECT_EQ(h.conn().snapshot().cwnd, 2 * smss);
  ASSERT_EQ(h.write(segment(4)), smss);
  expect_full_segment(h, at_ms(225), 4, 4);  // pipe = the retransmission only
  h.expect_nothing(at_ms(225));
  // The retransmission is lost; 4 is SACKed 100 ms after it left: 1, sent before it, is lost
  // again (reo_wnd 0 in recovery) and resent at once.
  h.send(at_ms(325), ack_with(h, 1, {sacked(h, 2, 5)}));
  expect_full_segment(h, at_ms(325), 1, 4);
  h.expect_nothing(at_ms(325));
  EXPECT_EQ(h.conn().rack_losses(), 2u);
  EXPECT_EQ(h.conn().retransmissions(), 2u);
  EXPECT_EQ(h.conn().timeouts(), 0u);
  h.send(at_ms(425), ack_with(h, 5));
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().timeouts(), 0u);
}

// (5) tcp_config::rack = false: RFC 6675 as before — one SACKed segment starts nothing; the
// third duplicate ACK (three segments SACKed) does.
TEST(rack, switched_off__rfc6675_dupthresh_as_before) {
  tcp_config cfg = rack_cfg();
  cfg.rack = false;
  tcp_harness h(cfg);
  sack_of_segment_two(h);
  EXPECT_FALSE(h.conn().snapshot().rack);
  EXPECT_NE(h.conn().snapshot().next_timer, timer_kind::rack_reorder);
  h.expect_nothing(at_ms(300));
  h.send(at_ms(300), ack_with(h, 1, {sacked(h, 2, 4)}));
  expect_segment(h, at_ms(300), 12);  // limited transmit: the second duplicate ACK
  h.expect_nothing(at_ms(300));
  h.send(at_ms(301), ack_with(h, 1, {sacked(h, 2, 5)}));
  expect_segment(h, at_ms(301), 1);  // IsLost(1): three segments SACKed above it
  EXPECT_EQ(h.conn().rack_losses(), 0u);
  EXPECT_EQ(h.conn().retransmissions(), 1u);
}

// The transmit record itself: adjacent new segments sent at one instant share an entry; a
// full record merges two adjacent entries in the same state (tests/tcp/rack_coarse_test.cpp); a
// retransmission splits an entry at its edges; what no merge can make room for is counted and
// left to RFC 6675.
TEST(rack_record, merges_one_instant__coarsens__splits_on_retransmission__counts_overflow) {
  rack r;
  r.configure(2, 3, 1000);
  const seq_num base{4294967000u};  // just below the wrap
  r.reset(base);
  r.on_sent(at_ms(0), base, base + seq_len{1000}, false);
  r.on_sent(at_ms(0), base + seq_len{1000}, base + seq_len{2000}, false);
  EXPECT_EQ(r.size(), 1u);
  r.on_sent(at_ms(1), base + seq_len{2000}, base + seq_len{3000}, false);
  EXPECT_EQ(r.size(), 2u);
  r.on_sent(at_ms(2), base + seq_len{3000}, base + seq_len{4000}, false);  // full: the first two merge
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.overflows(), 0u);
  EXPECT_TRUE(r.tracks(base + seq_len{3500}));
  r.on_sent(at_ms(3), base, base + seq_len{1000}, true);  // split, room made by merging the rest
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.overflows(), 0u);
  // A retransmitted entry beside a never-resent one: no pair to merge.
  r.on_sent(at_ms(5), base + seq_len{4000}, base + seq_len{5000}, false);
  EXPECT_EQ(r.overflows(), 1u);
  EXPECT_TRUE(r.tracks(base + seq_len{3500}));
  EXPECT_FALSE(r.tracks(base + seq_len{4500}));
}

// Memory follows the flight (issue #13): no record before the first segment, first_storage
// entries then, doubled as the flight needs them up to the capacity; a grown record goes when
// everything is acknowledged, a small one stays for the next flight.
TEST(rack_record, is_allocated_by_the_flight_and_a_grown_one_freed_when_all_is_acknowledged) {
  rack r;
  r.configure(20, 3, 1000);
  const seq_num base{4294967000u};  // just below the wrap
  r.reset(base);
  EXPECT_EQ(r.storage(), 0u);
  const auto end_of = [&](int k) { return base + seq_len{static_cast<std::uint32_t>(1000 * k)}; };
  const auto never = [](instant) { return false; };
  const sack_scoreboard sb;
  r.on_sent(at_ms(0), base, end_of(1), false);
  EXPECT_EQ(r.storage(), rack::first_storage * sizeof(rack_segment));
  r.on_ack(at_ms(100), end_of(1), sb, false, end_of(1), never);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.storage(), rack::first_storage * sizeof(rack_segment)) << "a small record stays";
  for (int k = 1; k <= 25; ++k) r.on_sent(at_ms(100 + k), end_of(k), end_of(k + 1), false);  // one instant each
  EXPECT_EQ(r.size(), 20u) << "segments 1-10 merged in pairs to hold 21-25";
  EXPECT_EQ(r.overflows(), 0u);
  EXPECT_EQ(r.storage(), 20 * sizeof(rack_segment)) << "8, 16, then the capacity: never past it";
  r.on_ack(at_ms(300), end_of(10), sb, false, end_of(26), never);
  EXPECT_EQ(r.size(), 15u);
  EXPECT_EQ(r.storage(), 20 * sizeof(rack_segment));
  r.on_ack(at_ms(301), end_of(26), sb, false, end_of(26), never);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.storage(), 0u) << "everything acknowledged: the grown record is freed";
  r.on_sent(at_ms(400), end_of(26), end_of(27), false);
  EXPECT_EQ(r.storage(), rack::first_storage * sizeof(rack_segment));
  EXPECT_TRUE(r.tracks(end_of(26)));
}

// RFC 8985 §6.2 step 4 returns reo_wnd_mult to 1 after 16 recoveries without a D-SACK. Here
// reordering the window absorbed (a segment never resent delivered below the highest
// delivered) also renews the 16: it is proof that the reordering goes on, where a D-SACK
// cannot come because nothing was resent (DEVIATION in src/tcp/rack.cpp). Without it the
// window shrank back every 16 recoveries and the same reordering was resent again (the
// recovery matrix's 25 % reordering rows, docs/performance.md).
TEST(rack_record, absorbed_reordering_keeps_the_grown_window) {
  rack r;
  r.configure(64, 3, 1000);
  const seq_num base{1000};
  r.reset(base);
  const auto end_of = [&](int k) { return base + seq_len{static_cast<std::uint32_t>(1000 * k)}; };
  const auto never = [](instant) { return false; };
  sack_scoreboard sb;
  for (int k = 0; k < 4; ++k) r.on_sent(at_ms(k), end_of(k), end_of(k + 1), false);  // four entries
  (void)sb.update(base, end_of(4), {});
  r.on_ack(at_ms(100), base, sb, true, end_of(4), never);  // a D-SACK: the window grows
  ASSERT_EQ(r.reo_wnd_mult(), 2u);
  for (int i = 0; i < 15; ++i) r.on_recovery_exit();
  ASSERT_EQ(r.reo_wnd_mult(), 2u);
  // Segment 3 is SACKed, then segment 1 (never resent) arrives: reordering, absorbed.
  const sack_block third{end_of(2), end_of(3)};
  (void)sb.update(base, end_of(4), std::span<const sack_block>(&third, 1));
  r.on_ack(at_ms(110), base, sb, false, end_of(4), never);
  (void)sb.update(end_of(1), end_of(4), std::span<const sack_block>(&third, 1));
  r.on_ack(at_ms(111), end_of(1), sb, false, end_of(4), never);
  EXPECT_TRUE(r.reordering_seen());
  for (int i = 0; i < 15; ++i) r.on_recovery_exit();
  EXPECT_EQ(r.reo_wnd_mult(), 2u) << "renewed by the reordering: 15 exits since";
  r.on_recovery_exit();
  EXPECT_EQ(r.reo_wnd_mult(), 1u) << "16 exits with neither a D-SACK nor reordering";
}

// A FIN alone, sent with nothing else in flight, is not recorded: no segment can follow it
// whose delivery would mark it lost, so a connection that only opens and closes allocates no
// record (bench/open_close: 0 allocations per cycle). TLP and the RTO answer for its loss.
TEST(rack, a_lone_fin_allocates_no_transmit_record) {
  tcp_harness h(rack_cfg());
  establish_sack(h);
  ASSERT_TRUE(h.conn().close(at_ms(100)).has_value());
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .flags = tcp_flag::fin});
  EXPECT_EQ(h.conn().snapshot().rack_storage, 0u);
  EXPECT_EQ(h.send(at_ms(110), seg{.seq = h.r(1), .ack = h.l(2)}), rx_verdict::accepted);
  EXPECT_EQ(h.conn().state(), tcp_state::fin_wait_2);

  // With data in flight the record is there (and a FIN after the data is not alone: the rule
  // above does not apply to it).
  tcp_harness h2(rack_cfg());
  establish_sack(h2);
  ASSERT_EQ(h2.write(segments(1, 1)), smss);
  h2.expect_recv(at_ms(100), seg{.seq = h2.l(1), .ack = h2.r(1), .flags = tcp_flag::psh, .payload = segment(1)});
  ASSERT_TRUE(h2.conn().close(at_ms(101)).has_value());
  h2.expect_recv(at_ms(101), seg{.seq = h2.l(1 + smss), .ack = h2.r(1), .flags = tcp_flag::fin});
  EXPECT_EQ(h2.conn().snapshot().rack_storage, rack::first_storage * sizeof(rack_segment));
}

// The same through a connection: an idle connection holds no transmit record; data in flight
// brings one, which the exchange's end does not take away (it stays small).
TEST(rack, an_idle_connection_holds_no_transmit_record_until_data_is_in_flight) {
  tcp_harness h(rack_cfg());
  establish_sack(h);
  ASSERT_TRUE(h.conn().snapshot().rack);
  EXPECT_EQ(h.conn().snapshot().rack_storage, 0u);
  ASSERT_EQ(h.write(segments(1, 1)), smss);
  EXPECT_EQ(h.conn().snapshot().rack_storage, 0u) << "queued, not yet sent";
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .flags = tcp_flag::psh, .payload = segment(1)});
  EXPECT_EQ(h.conn().snapshot().rack_storage, rack::first_storage * sizeof(rack_segment));
  h.send(at_ms(200), ack_with(h, 2));
  EXPECT_EQ(h.conn().snd().una, h.conn().snd().max);
  EXPECT_EQ(h.conn().snapshot().rack_storage, rack::first_storage * sizeof(rack_segment));

  tcp_config off = rack_cfg();
  off.rack = false;
  tcp_harness h2(off);
  establish_sack(h2);
  ASSERT_EQ(h2.write(segments(1, 1)), smss);
  h2.expect_recv(at_ms(100), seg{.seq = h2.l(1), .ack = h2.r(1), .flags = tcp_flag::psh, .payload = segment(1)});
  EXPECT_EQ(h2.conn().snapshot().rack_storage, 0u) << "RACK off: no record";
}


// (6) In recovery, a hole RACK is still waiting for is not resent because DupThresh segments
// above it were SACKed (RFC 6675's IsLost, NextSeg() rule (1)): with RACK on, RACK alone says
// what is lost (DEVIATION in connection::take_retransmission). Reordering was seen (1 came
// 10 ms late), so reo_wnd stays min_RTT / 4 = 25 ms in recovery. Segment 3 is lost: the ACK at
// 211 ms SACKs 4-11, 11 sent at 200 ms, so 3 is long overdue and recovery resends it. Segment
// 12 (sent at 210 ms) is held 15 ms: at 311 ms the ACK SACKs 13-16 (sent at 210-211 ms) above
// it — four segments, IsLost(12) — but RACK waits until 210 + RACK.rtt 100 + 25 = 335 ms, and
// 12's own SACK comes at 325 ms. Before, 12 went again at 311 ms, a spurious retransmission
// (issue #12's recovery matrix: 270 of the 348 late ones at 100 ms RTT, 25 % held 30 ms).
TEST(rack, in_recovery_a_reordered_hole_waits_for_rack_not_dupthresh) {
  tcp_harness h(rack_cfg());
  sack_of_segment_two(h);
  h.send(at_ms(210), ack_with(h, 3));  // 1 came late: 1 and 2 acknowledged, reordering seen
  ASSERT_EQ(drain(h, at_ms(210)), (std::vector<int>{12, 13, 14}));
  h.send(at_ms(211), ack_with(h, 3, {sacked(h, 4, 12)}));  // 4-11: 3 is lost
  ASSERT_EQ(drain(h, at_ms(211)), (std::vector<int>{3, 15, 16}));
  ASSERT_TRUE(h.conn().snapshot().in_recovery);
  ASSERT_EQ(h.conn().snapshot().reo_wnd, std::chrono::milliseconds(25));
  h.send(at_ms(311), ack_with(h, 3, {sacked(h, 13, 17), sacked(h, 4, 12)}));  // 12 held back
  const std::vector<int> at311 = drain(h, at_ms(311));
  EXPECT_EQ(std::count(at311.begin(), at311.end(), 12), 0) << "12 is not resent by DupThresh";
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::rack_reorder);
  EXPECT_EQ(h.conn().next_deadline(), at_ms(335));
  h.send(at_ms(325), ack_with(h, 3, {sacked(h, 4, 17)}));  // 12 arrives, 15 ms late
  (void)drain(h, at_ms(325));
  h.expect_nothing(at_ms(340));
  EXPECT_EQ(h.conn().retransmissions(), 1u) << "segment 3 only";
  EXPECT_EQ(h.conn().rack_losses(), 1u);
}

}  // namespace
}  // namespace synack::test
