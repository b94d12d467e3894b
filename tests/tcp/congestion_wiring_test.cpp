// Congestion control and loss recovery as a connection applies them, exact segments:
// RFC 5681 slow start and initial window, fast retransmit and NewReno fast recovery
// (RFC 6582), limited transmit (RFC 3042), RFC 6675 SACK recovery, the RTO's loss window,
// restart after idle; Nagle (RFC 9293 §3.7.4) and sender SWS avoidance (§3.8.6.2.1); the ACK
// of every second full-sized segment when segments arrive in a batch (SHLD-19).
// The peer announces MSS 1460, so SMSS = 1460 and IW = 3 x 1460 = 4380 (RFC 5681 eq. (1)).
#include <gtest/gtest.h>

#include <string>

#include "support/tcp_harness.hpp"
#include "tcp/full_segments.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;

tcp_config reno_cfg() {
  tcp_config cfg;
  cfg.congestion = congestion_kind::reno;
  return cfg;
}

// Expects full segment k at `at` (PSH on the last of a write of `last` segments).
void expect_segment(tcp_harness& h, instant at, int k, int last) {
  h.expect_recv(at, seg{.seq = h.l(off(k)), .ack = h.r(1), .flags = static_cast<std::uint8_t>(k == last ? psh : 0),
                        .payload = segment(k)});
}

TEST(congestion_wiring, initial_window__three_segments_then_slow_start) {
  tcp_harness h(reno_cfg());
  h.drive_to(s::established);
  EXPECT_EQ(h.conn().snapshot().cwnd, 3 * smss);
  ASSERT_EQ(h.write(segments(1, 10)), 10 * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(0), k, 10);
  h.expect_nothing(at_ms(0));  // RFC 5681 §3.1: no more than cwnd in flight
  // One segment ACKed: cwnd += SMSS (slow start), two in flight, so two more go.
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(off(2))});
  EXPECT_EQ(h.conn().snapshot().cwnd, 4 * smss);
  expect_segment(h, at_ms(10), 4, 10);
  expect_segment(h, at_ms(10), 5, 10);
  h.expect_nothing(at_ms(10));
  // A stretch ACK of two segments: cwnd += 2 SMSS, 6 x 1460 with 2 in flight: four more.
  h.send(at_ms(20), seg{.seq = h.r(1), .ack = h.l(off(4))});
  EXPECT_EQ(h.conn().snapshot().cwnd, 6 * smss);
  for (int k = 6; k <= 9; ++k) expect_segment(h, at_ms(20), k, 10);
  h.expect_nothing(at_ms(20));
}

TEST(congestion_wiring, lost_syn__initial_window_of_one_segment) {
  tcp_harness h(reno_cfg());
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  ASSERT_TRUE(h.poll(at_s(1)).has_value());  // the SYN again, after the initial RTO
  h.send(at_ms(1010), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .mss = 1460});
  ASSERT_EQ(h.conn().state(), s::established);
  EXPECT_EQ(h.conn().snapshot().cwnd, smss);  // RFC 5681 §3.1
}

TEST(congestion_wiring, selectable_per_connection__cubic_by_default) {
  tcp_harness cubic_h;
  cubic_h.drive_to(s::established);
  EXPECT_EQ(cubic_h.conn().snapshot().congestion, congestion_kind::cubic);
  tcp_harness reno_h(reno_cfg());
  reno_h.drive_to(s::established);
  EXPECT_EQ(reno_h.conn().snapshot().congestion, congestion_kind::reno);
}

// Segments 1-5 out, segment 2 lost: three duplicate ACKs for l(off(2)).
void lose_segment_two(tcp_harness& h) {
  h.drive_to(s::established);
  ASSERT_EQ(h.write(segments(1, 10)), 10 * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(0), k, 10);
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(off(2))});
  expect_segment(h, at_ms(10), 4, 10);
  expect_segment(h, at_ms(10), 5, 10);
}

TEST(congestion_wiring, limited_transmit_then_fast_retransmit_and_newreno_recovery) {
  tcp_harness h(reno_cfg());
  lose_segment_two(h);
  // 1st and 2nd duplicate ACKs: RFC 3042 sends one new segment each.
  h.send(at_ms(20), seg{.seq = h.r(1), .ack = h.l(off(2))});
  expect_segment(h, at_ms(20), 6, 10);
  h.expect_nothing(at_ms(20));
  h.send(at_ms(21), seg{.seq = h.r(1), .ack = h.l(off(2))});
  expect_segment(h, at_ms(21), 7, 10);
  h.expect_nothing(at_ms(21));
  // 3rd: fast retransmit of segment 2 (RFC 5681 §3.2 step 2); ssthresh = FlightSize / 2 =
  // 6 x 1460 / 2, cwnd = ssthresh + 3 SMSS; the flight of 6 segments fills it.
  h.send(at_ms(22), seg{.seq = h.r(1), .ack = h.l(off(2))});
  expect_segment(h, at_ms(22), 2, 10);
  h.expect_nothing(at_ms(22));
  EXPECT_EQ(h.conn().snapshot().ssthresh, 3 * smss);
  EXPECT_EQ(h.conn().snapshot().cwnd, 6 * smss);
  EXPECT_TRUE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().fast_retransmits(), 1u);
  // 4th: cwnd inflates by SMSS (step 4): one new segment.
  h.send(at_ms(23), seg{.seq = h.r(1), .ack = h.l(off(2))});
  expect_segment(h, at_ms(23), 8, 10);
  h.expect_nothing(at_ms(23));
  // A partial ACK (RFC 6582 §3.2 step 3): segment 3 is missing too, resent at once.
  h.send(at_ms(30), seg{.seq = h.r(1), .ack = h.l(off(3))});
  expect_segment(h, at_ms(30), 3, 10);
  // The full ACK (everything up to `recover`, the end of segment 7): recovery ends with
  // cwnd = ssthresh (option 2); segment 8 is in flight, so two more go.
  h.send(at_ms(40), seg{.seq = h.r(1), .ack = h.l(off(8))});
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().snapshot().cwnd, 3 * smss);
  expect_segment(h, at_ms(40), 9, 10);
  expect_segment(h, at_ms(40), 10, 10);
  h.expect_nothing(at_ms(40));
  EXPECT_EQ(h.conn().retransmissions(), 2u);
}

TEST(congestion_wiring, window_update_is_not_a_duplicate_ack) {
  tcp_harness h(reno_cfg());
  lose_segment_two(h);
  // Same ACK, but each announces a different window: RFC 5681 §2 (e) says not duplicates.
  for (std::uint16_t w = 60000; w < 60003; ++w) h.send(at_ms(20), seg{.seq = h.r(1), .ack = h.l(off(2)), .window = w});
  h.expect_nothing(at_ms(20));
  EXPECT_EQ(h.conn().fast_retransmits(), 0u);
}

TEST(congestion_wiring, timeout__loss_window_of_one_segment_and_go_back) {
  tcp_harness h(reno_cfg());
  h.drive_to(s::established);
  ASSERT_EQ(h.write(segments(1, 3)), 3 * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(0), k, 3);
  // RFC 5681 §3.1: cwnd = LW = 1 SMSS, ssthresh = max(FlightSize / 2, 2 SMSS).
  expect_segment(h, at_s(1), 1, 3);
  h.expect_nothing(at_s(1));
  EXPECT_EQ(h.conn().snapshot().cwnd, smss);
  EXPECT_EQ(h.conn().snapshot().ssthresh, 2 * smss);
  EXPECT_EQ(h.conn().timeouts(), 1u);
  // Its ACK: slow start again (+1 SMSS), the next two segments go back out.
  h.send(at_ms(1010), seg{.seq = h.r(1), .ack = h.l(off(2))});
  expect_segment(h, at_ms(1010), 2, 3);
  expect_segment(h, at_ms(1010), 3, 3);
  h.expect_nothing(at_ms(1010));
}

TEST(congestion_wiring, restart_after_idle__back_to_the_initial_window) {
  tcp_harness h(reno_cfg());
  h.drive_to(s::established);
  ASSERT_EQ(h.write(segments(1, 3)), 3 * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(0), k, 3);
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(off(4))});
  EXPECT_EQ(h.conn().snapshot().cwnd, 6 * smss);
  // Idle for longer than the RTO (1 s): RFC 5681 §4.1 restart window = IW.
  ASSERT_EQ(h.write(segments(4, 10)), 7 * smss);
  (void)h.poll(at_ms(10));  // segment 4 leaves before the idle period; take the rest back
  h.send(at_ms(20), seg{.seq = h.r(1), .ack = h.l(off(5))});
  for (int k = 5; k <= 10; ++k) (void)h.poll(at_ms(20));
  h.send(at_ms(30), seg{.seq = h.r(1), .ack = h.l(off(11))});
  ASSERT_EQ(h.write(std::string(10 * smss, 'z')), 10 * smss);
  int sent = 0;
  while (h.poll(at_s(3))) ++sent;
  EXPECT_EQ(sent, 3);
  EXPECT_EQ(h.conn().snapshot().cwnd, 3 * smss);
}

// SACK negotiated: RFC 6675 recovery.
void establish_with_sack(tcp_harness& h) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460, .sack_ok = true});
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(0), seg{.seq = h.r(1), .ack = h.l(1)});
  ASSERT_EQ(h.conn().state(), s::established);
  ASSERT_TRUE(h.conn().sack_permitted());
  h.drain_events();
}

TEST(congestion_wiring, sack_recovery__resends_only_the_hole) {
  tcp_config cfg = reno_cfg();
  cfg.rack = false;  // RFC 6675's IsLost and DupThresh (RACK, tests/tcp/rack_test.cpp, resends 2 at 20 ms)
  tcp_harness h(cfg);
  establish_with_sack(h);
  ASSERT_EQ(h.write(segments(1, 10)), 10 * smss);
  for (int k = 1; k <= 3; ++k) expect_segment(h, at_ms(0), k, 10);
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(off(2))});
  expect_segment(h, at_ms(10), 4, 10);
  expect_segment(h, at_ms(10), 5, 10);
  // Segment 2 lost; 3, 4, 5 arrive and are SACKed one by one.
  const auto sacked_to = [&](int k) { return sack_block{h.l(off(3)), h.l(off(k + 1))}; };
  h.send(at_ms(20), seg{.seq = h.r(1), .ack = h.l(off(2)), .sack = std::vector{sacked_to(3)}});
  expect_segment(h, at_ms(20), 6, 10);  // limited transmit
  h.send(at_ms(21), seg{.seq = h.r(1), .ack = h.l(off(2)), .sack = std::vector{sacked_to(4)}});
  expect_segment(h, at_ms(21), 7, 10);
  // Three segments SACKed above it: segment 2 IsLost (RFC 6675 §4): recovery, resend it.
  h.send(at_ms(22), seg{.seq = h.r(1), .ack = h.l(off(2)), .sack = std::vector{sacked_to(5)}});
  expect_segment(h, at_ms(22), 2, 10);
  EXPECT_TRUE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().fast_retransmits(), 1u);
  // cwnd = ssthresh = 3 SMSS; pipe = segments 6 and 7 plus the retransmission: nothing more.
  h.expect_nothing(at_ms(22));
  // Segments 6 and 7 SACKed: pipe falls to one segment; new data (NextSeg rule 2) goes out.
  h.send(at_ms(23), seg{.seq = h.r(1), .ack = h.l(off(2)), .sack = std::vector{sacked_to(7)}});
  expect_segment(h, at_ms(23), 8, 10);
  expect_segment(h, at_ms(23), 9, 10);
  h.expect_nothing(at_ms(23));
  // The retransmission arrives: a cumulative ACK past RecoveryPoint ends recovery. Nothing
  // SACKed was ever sent twice.
  h.send(at_ms(30), seg{.seq = h.r(1), .ack = h.l(off(8))});
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().retransmissions(), 1u);
}

TEST(congestion_wiring, nagle__small_writes_wait_for_the_ack) {
  tcp_harness h;
  h.drive_to(s::established);
  h.write("a");
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  h.write("b");
  h.write("c");
  h.expect_nothing(at_ms(30));  // RFC 9293 §3.7.4: unacknowledged data outstanding
  h.send(at_ms(40), seg{.seq = h.r(1), .ack = h.l(2)});
  h.expect_recv(at_ms(40), seg{.seq = h.l(2), .ack = h.r(1), .flags = psh, .payload = "bc"});
}

TEST(congestion_wiring, nagle__full_segments_are_not_held) {
  tcp_harness h;
  h.drive_to(s::established);
  h.write("a");
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  h.write(segment(2) + "z");
  h.expect_recv(at_ms(0), seg{.seq = h.l(2), .ack = h.r(1), .payload = segment(2)});
  h.expect_nothing(at_ms(0));  // the one-octet tail waits
}

// RFC 9293 §3.7.1 / §3.7.4: "full-sized" is the effective send MSS, less the options every data
// segment carries. With timestamps (12 octets) a full segment holds 1448 octets, and Nagle
// must not hold it as short; 1447 octets are short.
TEST(congestion_wiring, nagle__with_timestamps_a_full_segment_is_1448_octets) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = tcp_flag::syn, .mss = 1460, .ts = tcp_timestamps{1000, 0}});
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .ts = tcp_timestamps{1001, our_ts(0)}});
  ASSERT_TRUE(h.conn().timestamps_on());
  h.write("a");
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  const std::string full(1448, 'f');
  h.write(full);  // "a" is unacknowledged, but this is a full segment: it goes
  h.expect_recv(at_ms(1), seg{.seq = h.l(2), .ack = h.r(1), .flags = psh, .payload = full});
  h.write(std::string(1447, 's'));
  h.expect_nothing(at_ms(1));  // short: it waits for the ACK
}

TEST(congestion_wiring, no_delay__small_writes_go_at_once) {
  tcp_config cfg;
  cfg.no_delay = true;  // TCP_NODELAY (MUST-17)
  tcp_harness h(cfg);
  h.drive_to(s::established);
  h.write("a");
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  h.write("b");
  h.expect_recv(at_ms(0), seg{.seq = h.l(2), .ack = h.r(1), .flags = psh, .payload = "b"});
}

TEST(congestion_wiring, sender_sws__small_window_waits_for_the_override_timer) {
  tcp_harness h;
  h.drive_to(s::established);  // the peer offered 65535: MAX(SND.WND) / 2 = 32767
  h.send(at_ms(0), seg{.seq = h.r(1), .ack = h.l(1), .window = 1000});
  ASSERT_EQ(h.write(std::string(2000, 'x')), 2000u);
  // 1000 octets fit: less than an MSS, less than all queued, less than half the largest
  // window — silly (§3.8.6.2.1). Nothing is in flight, so the override timer (one RTO from
  // the poll that held it back) lets it go.
  h.expect_nothing(at_ms(0));
  h.expect_nothing(at_ms(999));
  h.expect_recv(at_s(1), seg{.seq = h.l(1), .ack = h.r(1), .payload = std::string(1000, 'x')});
}

TEST(congestion_wiring, batch_of_segments__an_ack_for_every_second_one) {
  tcp_harness h;
  h.drive_to(s::established);
  // Four full segments arrive before the connection is polled (one read of a batch).
  for (int k = 0; k < 4; ++k) {
    h.send(at_ms(0), seg{.seq = h.r(1 + static_cast<std::uint32_t>(k) * smss), .ack = h.l(1),
                         .payload = std::string(smss, 'p')});
  }
  // SHLD-19: one ACK per two full-sized segments, each cumulative and further than the last.
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1 + 2 * smss)});
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1 + 4 * smss)});
  h.expect_nothing(at_ms(0));
}

// Each ACK point announces the same right edge as the ACK of RCV.NXT: an earlier ACK offers
// the octets between it and RCV.NXT on top of the free buffer, so the window never appears to
// shrink (RFC 9293 §3.8.6). 16 KiB buffer, no window scaling: edge = IRS + 1 + 16384.
TEST(congestion_wiring, batch_of_segments__every_ack_point_keeps_the_right_edge) {
  tcp_config cfg;
  cfg.recv_buffer = 16 * 1024;
  tcp_harness h(cfg);
  h.drive_to(s::established);
  for (int k = 0; k < 4; ++k) {
    h.send(at_ms(0), seg{.seq = h.r(1 + static_cast<std::uint32_t>(k) * smss), .ack = h.l(1),
                         .payload = std::string(smss, 'p')});
  }
  const std::uint32_t unread = 4 * smss;
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1 + 2 * smss), .window = static_cast<std::uint16_t>(16384 - unread + 2 * smss)},
                true);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1 + 4 * smss), .window = static_cast<std::uint16_t>(16384 - unread)}, true);
  h.expect_nothing(at_ms(0));
}

}  // namespace
}  // namespace synack::test
