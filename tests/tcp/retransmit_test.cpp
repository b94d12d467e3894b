// RFC 6298 retransmission timer (initial RTO, backoff, maximum, Karn) and RFC 9293 §3.8.3
// R2 limits (MUST-20, MUST-23) for SYNs and data.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(retransmit, syn__initial_rto_1s_doubling_to_rto_max__r2_at_least_3_minutes) {
  tcp_harness h;
  EXPECT_EQ(h.cfg().rto_initial, seconds(1));    // RFC 6298 §2.1
  EXPECT_GE(h.cfg().syn_r2, seconds(180));       // MUST-23
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .mss = 1460});
  // 1, 2, 4, 8, 16, 32 s, then capped at rto_max = 60 s.
  for (int t : {1, 3, 7, 15, 31, 63, 123}) {
    h.expect_nothing(at_ms(t * 1000 - 1));
    h.expect_recv(at_s(t), seg{.seq = local_iss, .flags = syn, .mss = 1460});
    h.expect_nothing(at_s(t));
  }
  EXPECT_EQ(h.conn().retransmissions(), 7u);
  EXPECT_EQ(h.conn().snapshot().rto, seconds(60));
  h.expect_nothing(at_ms(182999));
  h.expect_state(s::syn_sent);
  // R1 (MUST-20) was reached at the third SYN retransmission (7 s), once.
  h.expect_event(tcp_event{tcp_event_kind::retransmit_threshold, close_reason::none});
  h.expect_no_event();
  // 183 s since the first SYN >= R2 (180 s): no eighth SYN, the connection fails.
  h.expect_nothing(at_s(183));
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});
  EXPECT_EQ(h.conn().reason(), close_reason::timeout);
  std::string_view x = "x";
  EXPECT_EQ(h.conn().send(std::as_bytes(std::span{x.data(), x.size()})).error(), tcp_error::timed_out);
  EXPECT_FALSE(h.conn().next_deadline().has_value());
}

// RFC 5482 user timeout on an active open, as Linux since 5.4 (tcp_write_timeout): SYNs at 0,
// 1, 3 s; the timer at 7 s finds the first SYN 7 s old, past 5 s, and gives up there rather
// than at R2's 183 s.
TEST(retransmit, syn__user_timeout_ends_the_attempt_before_r2) {
  tcp_config cfg;
  cfg.user_timeout = seconds(5);
  tcp_harness h(cfg);
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn});
  h.expect_recv(at_s(1), seg{.seq = local_iss, .flags = syn});
  h.expect_recv(at_s(3), seg{.seq = local_iss, .flags = syn});
  h.expect_nothing(at_ms(6999));
  h.expect_state(s::syn_sent);
  h.expect_nothing(at_s(7));
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});
}

// A passive open's SYN-ACK keeps R2: Linux's request socks do not look at the user timeout.
TEST(retransmit, synack__user_timeout_does_not_apply) {
  tcp_config cfg;
  cfg.user_timeout = seconds(5);
  tcp_harness h(cfg);
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  for (int t : {1, 3, 7, 15}) h.expect_recv(at_s(t), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  h.expect_state(s::syn_received);
}

TEST(retransmit, backoff_capped_at_configured_rto_max) {
  tcp_config cfg;
  cfg.rto_max = seconds(4);
  tcp_harness h(cfg);
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn});
  for (int t : {1, 3, 7, 11, 15, 19}) {
    h.expect_nothing(at_ms(t * 1000 - 1));
    h.expect_recv(at_s(t), seg{.seq = local_iss, .flags = syn});
  }
}

TEST(retransmit, data__backoff_then_data_r2_timeout) {
  tcp_harness h;
  EXPECT_GE(h.cfg().data_r2, seconds(100));  // MUST-20 (R2 at least 100 s)
  h.drive_to(s::established);
  EXPECT_EQ(h.write("data"), 4u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "data"});
  for (int t : {1, 3, 7, 15, 31, 63}) {
    h.expect_nothing(at_ms(t * 1000 - 1));
    h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "data"});
  }
  EXPECT_EQ(h.conn().retransmissions(), 6u);
  h.expect_nothing(at_ms(122999));
  h.expect_state(s::established);
  h.expect_nothing(at_s(123));  // 123 s >= 100 s since the first transmission
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::retransmit_threshold, close_reason::none});  // R1 (at 7 s)
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});
}

TEST(retransmit, data_r2__measured_from_the_first_transmission) {
  tcp_config cfg;
  cfg.data_r2 = seconds(5);
  tcp_harness h(cfg);
  h.drive_to(s::established);
  h.write("x");
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
  h.expect_recv(at_s(1), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
  h.expect_recv(at_s(3), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
  h.expect_nothing(at_ms(6999));
  h.expect_state(s::established);
  h.expect_nothing(at_s(7));
  h.expect_state(s::closed);
  EXPECT_EQ(h.conn().reason(), close_reason::timeout);
}

// Segments that each go out at once, whatever is unacknowledged (TCP_NODELAY): the tests of
// this file watch the retransmission timer, not Nagle's algorithm (congestion_wiring_test.cpp).
tcp_config no_delay() {
  tcp_config cfg;
  cfg.no_delay = true;
  return cfg;
}

TEST(retransmit, data__goes_back_to_snd_una_and_repacketizes) {
  tcp_harness h(no_delay());
  h.drive_to(s::established);
  h.write("a");
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  h.write("b");
  h.expect_recv(at_ms(500), seg{.seq = h.l(2), .ack = h.r(1), .flags = psh, .payload = "b"});
  // RFC 6298 §5.1: the timer runs from the first segment; a later send does not restart it.
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(1000)});
  h.expect_recv(at_ms(1000), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "ab"});
  h.expect_nothing(at_ms(1000));
  h.send(at_ms(1100), seg{.seq = h.r(1), .ack = h.l(3)});
  EXPECT_FALSE(h.conn().next_deadline().has_value());  // §5.2: all acknowledged
  h.expect_nothing(at_s(10));
}

TEST(retransmit, duplicate_ack__does_not_restart_the_timer) {
  tcp_harness h;
  h.drive_to(s::established);
  h.write("a");
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  h.send(at_ms(500), seg{.seq = h.r(1), .ack = h.l(1)});
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(1000)});
  h.expect_recv(at_ms(1000), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
}

// drive_to() completes the handshake within one instant: the SYN-ACK gives a first RTT
// sample of 0, so SRTT = RTTVAR = 0 and the RTO sits at rto_min (RFC 6298 §2.2).
tcp_config rto_min_200ms() {
  tcp_config cfg;
  cfg.rto_min = milliseconds(200);
  return cfg;
}

TEST(retransmit, handshake_sample__rto_at_rto_min) {
  tcp_harness h(rto_min_200ms());
  h.drive_to(s::established);
  EXPECT_EQ(h.conn().snapshot().rto, milliseconds(200));
  h.write("a");
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  h.expect_nothing(at_ms(199));
  h.expect_recv(at_ms(200), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
}

TEST(retransmit, partial_ack__timer_restarted_with_the_sampled_rto) {
  tcp_config cfg = no_delay();
  cfg.rto_min = milliseconds(100);
  tcp_harness h(cfg);
  // A passive handshake whose ACK takes 100 ms: first sample, SRTT 100, RTTVAR 50,
  // RTO = 100 + 4 x 50 = 300 ms (RFC 6298 §2.2).
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  h.send(at_ms(100), seg{.seq = h.r(1), .ack = h.l(1)});
  EXPECT_EQ(h.conn().snapshot().rto, milliseconds(300));
  const std::string a(1460, 'a');
  const std::string b(540, 'b');
  h.write(a + b);
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .payload = a});
  h.expect_recv(at_ms(100), seg{.seq = h.l(1461), .ack = h.r(1), .flags = psh, .payload = b});
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(400)});
  // Second sample 100 ms (§2.3): RTTVAR 3/4 x 50 + 1/4 x 0 = 37.5, SRTT 100, RTO 250 ms;
  // the timer restarts from this ACK (§5.3), not from the first transmission.
  h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(1461)});
  EXPECT_EQ(h.conn().snapshot().rto, milliseconds(250));
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(450)});
  h.expect_nothing(at_ms(449));
  h.expect_recv(at_ms(450), seg{.seq = h.l(1461), .ack = h.r(1), .flags = psh, .payload = b});
}

TEST(retransmit, karn__no_rtt_sample_from_a_retransmitted_segment) {
  tcp_harness h(rto_min_200ms());
  h.drive_to(s::established);
  h.write("a");
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  h.expect_recv(at_ms(200), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  // The ACK may be for either transmission: no sample, and the backed-off RTO (400 ms) is
  // kept for the next segment. (A sample of 100 ms would give 200 ms, one of 300 ms 337.5.)
  h.send(at_ms(300), seg{.seq = h.r(1), .ack = h.l(2)});
  EXPECT_EQ(h.conn().snapshot().rto, milliseconds(400));
  EXPECT_FALSE(h.conn().next_deadline().has_value());
  h.write("b");
  h.expect_recv(at_ms(1000), seg{.seq = h.l(2), .ack = h.r(1), .flags = psh, .payload = "b"});
  h.expect_nothing(at_ms(1399));
  h.expect_recv(at_ms(1400), seg{.seq = h.l(2), .ack = h.r(1), .flags = psh, .payload = "b"});
  h.send(at_ms(1500), seg{.seq = h.r(1), .ack = h.l(3)});
  EXPECT_EQ(h.conn().snapshot().rto, milliseconds(800));  // backed off again, still no sample
  // A segment sent once gives a valid sample (100 ms) and the RTO collapses:
  // RTTVAR 25 ms, SRTT 12.5 ms, RTO 112.5 ms -> rto_min 200 ms.
  h.write("c");
  h.expect_recv(at_ms(2000), seg{.seq = h.l(3), .ack = h.r(1), .flags = psh, .payload = "c"});
  h.send(at_ms(2100), seg{.seq = h.r(1), .ack = h.l(4)});
  EXPECT_EQ(h.conn().snapshot().rto, milliseconds(200));
  h.write("d");
  h.expect_recv(at_ms(3000), seg{.seq = h.l(4), .ack = h.r(1), .flags = psh, .payload = "d"});
  h.expect_nothing(at_ms(3199));
  h.expect_recv(at_ms(3200), seg{.seq = h.l(4), .ack = h.r(1), .flags = psh, .payload = "d"});
}

TEST(retransmit, rto_min_floors_the_computed_rto) {
  tcp_harness h;  // rto_min 1 s
  h.drive_to(s::established);
  h.write("a");
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(2)});  // 10 ms + 4 x 5 ms = 30 ms
  EXPECT_EQ(h.conn().snapshot().rto, seconds(1));
}

TEST(retransmit, syn_timed_out_once__data_rto_reinitialized_to_3s_active) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn});
  h.expect_recv(at_ms(1000), seg{.seq = local_iss, .flags = syn});
  h.send(at_ms(1100), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .mss = 1460});
  h.expect_recv(at_ms(1100), seg{.seq = h.l(1), .ack = h.r(1)});
  // RFC 6298 §5.7: the SYN timed out with RTO < 3 s, so data starts with RTO = 3 s.
  EXPECT_EQ(h.conn().snapshot().rto, seconds(3));
  h.write("x");
  h.expect_recv(at_ms(2000), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
  h.expect_nothing(at_ms(4999));
  h.expect_recv(at_ms(5000), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
}

TEST(retransmit, synack_timed_out_once__data_rto_reinitialized_to_3s_passive) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  h.expect_recv(at_ms(1000), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  h.send(at_ms(1100), seg{.seq = h.r(1), .ack = h.l(1)});
  h.expect_state(s::established);
  EXPECT_EQ(h.conn().snapshot().rto, seconds(3));
}

TEST(retransmit, syn_timed_out_three_times__backed_off_rto_kept) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  for (int t : {0, 1000, 3000, 7000}) h.expect_recv(at_ms(t), seg{.seq = local_iss, .flags = syn});
  h.send(at_ms(7100), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .mss = 1460});
  EXPECT_EQ(h.conn().snapshot().rto, seconds(8));  // not lowered to 3 s (§5.7 only raises)
}

TEST(retransmit, handshake_without_timeout__rtt_sampled_from_the_syn) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn});
  h.send(at_ms(400), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .mss = 1460});
  // 400 ms + 4 x 200 ms = 1.2 s.
  EXPECT_EQ(h.conn().snapshot().rto, milliseconds(1200));
}

TEST(retransmit, bare_ack_while_going_back__carries_the_highest_sequence_sent) {
  tcp_harness h(no_delay());
  h.drive_to(s::established);
  const std::string a(1460, 'a');
  const std::string b(540, 'b');
  h.write(a + b);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .payload = a});
  h.expect_recv(at_ms(0), seg{.seq = h.l(1461), .ack = h.r(1), .flags = psh, .payload = b});
  h.expect_recv(at_ms(1000), seg{.seq = h.l(1), .ack = h.r(1), .payload = a});
  // The peer holds all 2000 bytes (its ACKs were lost), its buffer is full: window 0 and a
  // byte of data. Our ACK must be at its RCV.NXT = l(2001) (the RFC's SND.NXT), or a
  // zero-window receiver finds it unacceptable.
  h.send(at_ms(1010), seg{.seq = h.r(1), .ack = h.l(1), .window = 0, .payload = "x"});
  h.expect_nothing(at_ms(1010));  // delayed ACK (RFC 9293 §3.8.6.3)
  h.expect_recv(at_ms(1050), seg{.seq = h.l(2001), .ack = h.r(2), .window = 65535}, true);
  h.expect_nothing(at_ms(1050));
}

}  // namespace
}  // namespace synack::test
