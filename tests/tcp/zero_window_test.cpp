// RFC 9293 §3.8.6.1 zero-window probing: the persist timer (SHLD-29), one-octet probes beyond
// the window (MUST-35, MUST-36), their exponential backoff (SHLD-30), and a connection that
// stays open for as long as the peer answers them (MUST-37).
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ESTABLISHED (RTO 1 s), the peer closes its window, the user queues "hello".
void close_window_and_write(tcp_harness& h) {
  h.drive_to(s::established);
  h.send(at_ms(0), seg{.seq = h.r(1), .ack = h.l(1), .window = 0});
  EXPECT_EQ(h.conn().snd().wnd, 0u);
  EXPECT_EQ(h.write("hello"), 5u);
}

// The peer refuses the probe: ACK of SND.UNA with a zero window.
void refuse(tcp_harness& h, instant at) { h.send(at, seg{.seq = h.r(1), .ack = h.l(1), .window = 0}); }

TEST(zero_window, no_data_into_zero_window__first_probe_exactly_at_rto_one_octet) {
  tcp_harness h;
  close_window_and_write(h);
  EXPECT_TRUE(h.conn().has_pending_output());  // the persist timer is to be armed
  h.expect_nothing(at_ms(0));
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::persist);
  EXPECT_EQ(h.conn().next_deadline(), at_s(1));
  EXPECT_FALSE(h.conn().has_pending_output());
  h.expect_nothing(at_ms(999));
  h.expect_recv(at_s(1), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
  h.expect_nothing(at_s(1));
  EXPECT_EQ(h.conn().snd().nxt, h.l(2));
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::retransmit);  // the probe is in flight
}

TEST(zero_window, refused_probes_back_off_1_2_4_s_capped_at_rto_max) {
  tcp_harness h;
  close_window_and_write(h);
  h.expect_nothing(at_ms(0));
  // 1, 2, 4, 8, 16, 32 s, then capped at rto_max = 60 s; each probe refused.
  for (int t : {1, 3, 7, 15, 31, 63, 123, 183, 243}) {
    h.expect_nothing(at_ms(t * 1000 - 1));
    h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
    h.expect_nothing(at_s(t));
    refuse(h, at_s(t));
  }
  EXPECT_EQ(h.conn().snapshot().rto, seconds(60));
  h.expect_state(s::established);  // 242 s of probing, well past R2 = 100 s (MUST-37)
  h.expect_no_event();
}

TEST(zero_window, backoff_capped_at_configured_rto_max) {
  tcp_config cfg;
  cfg.rto_max = seconds(4);
  tcp_harness h(cfg);
  close_window_and_write(h);
  h.expect_nothing(at_ms(0));
  for (int t : {1, 3, 7, 11, 15, 19}) {
    h.expect_nothing(at_ms(t * 1000 - 1));
    h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
    refuse(h, at_s(t));
  }
}

TEST(zero_window, answered_probes_keep_the_connection_open_for_an_hour) {
  tcp_harness h;
  close_window_and_write(h);
  h.expect_nothing(at_ms(0));
  instant prev = at_ms(0);
  duration interval = seconds(1);
  int probes = 0;
  while (prev < at_s(3600)) {
    const auto d = h.conn().next_deadline();
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d - prev, interval);
    h.expect_recv(*d, seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
    refuse(h, *d);
    prev = *d;
    interval = std::min<duration>(interval * 2, seconds(60));
    ++probes;
  }
  EXPECT_EQ(probes, 6 + 59);  // 1..32 s, then one a minute up to 3,663 s
  h.expect_state(s::established);
  h.expect_no_event();
}

TEST(zero_window, silent_peer__r2_counts_from_its_last_ack) {
  tcp_harness h;  // data_r2 = 100 s
  close_window_and_write(h);
  h.expect_nothing(at_ms(0));
  for (int t : {1, 3, 7, 15, 31, 63}) {
    h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
    refuse(h, at_s(t));
  }
  // The peer goes silent after 63 s: 123 s is 60 s later (< R2), 183 s is 120 s (>= R2).
  h.expect_recv(at_s(123), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
  h.expect_nothing(at_ms(182999));
  h.expect_state(s::established);
  h.expect_nothing(at_s(183));
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});
}

TEST(zero_window, window_opens_before_the_probe__data_flows_persist_cancelled) {
  tcp_harness h;
  close_window_and_write(h);
  h.expect_nothing(at_ms(0));
  ASSERT_TRUE(h.conn().snapshot().next_timer == timer_kind::persist);
  h.send(at_ms(500), seg{.seq = h.r(1), .ack = h.l(1), .window = 1000});
  h.expect_recv(at_ms(500), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
  h.expect_nothing(at_ms(500));
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::retransmit);
  EXPECT_EQ(h.conn().next_deadline(), at_ms(1500));
  h.send(at_ms(600), seg{.seq = h.r(1), .ack = h.l(6), .window = 1000});
  EXPECT_FALSE(h.conn().next_deadline().has_value());
  h.expect_nothing(at_s(10));
}

TEST(zero_window, window_opens_after_a_refused_probe__resend_from_snd_una) {
  tcp_harness h;
  close_window_and_write(h);
  h.expect_nothing(at_ms(0));
  h.expect_recv(at_s(1), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
  refuse(h, at_s(1));
  // The window update: the refused probe octet goes again at once, with the rest.
  h.send(at_ms(2000), seg{.seq = h.r(1), .ack = h.l(1), .window = 1000});
  h.expect_recv(at_ms(2000), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
  h.expect_nothing(at_ms(2000));
  h.send(at_ms(2100), seg{.seq = h.r(1), .ack = h.l(6), .window = 1000});
  EXPECT_FALSE(h.conn().next_deadline().has_value());
  h.expect_state(s::established);
}

TEST(zero_window, lost_window_update__recovered_by_the_probe) {
  tcp_harness h;
  close_window_and_write(h);
  h.expect_nothing(at_ms(0));
  // The peer read its buffer and sent a window update at 200 ms, which was lost. The probe
  // finds the window open: the peer takes the octet and announces its window.
  h.expect_recv(at_s(1), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
  h.send(at_ms(1010), seg{.seq = h.r(1), .ack = h.l(2), .window = 1000});
  h.expect_recv(at_ms(1010), seg{.seq = h.l(2), .ack = h.r(1), .flags = psh, .payload = "ello"});
  h.send(at_ms(1020), seg{.seq = h.r(1), .ack = h.l(6), .window = 1000});
  EXPECT_FALSE(h.conn().next_deadline().has_value());
  EXPECT_EQ(h.conn().send_queued(), 0u);
}

TEST(zero_window, probe_taken_window_still_zero__persist_rearmed_at_rto) {
  tcp_harness h;
  close_window_and_write(h);
  h.expect_nothing(at_ms(0));
  h.expect_recv(at_s(1), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
  h.send(at_ms(1010), seg{.seq = h.r(1), .ack = h.l(2), .window = 0});  // took it, full again
  h.expect_nothing(at_ms(1010));
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::persist);
  const duration rto = h.conn().snapshot().rto;
  EXPECT_EQ(h.conn().next_deadline(), at_ms(1010) + rto);
  h.expect_recv(at_ms(1010) + rto, seg{.seq = h.l(2), .ack = h.r(1), .payload = "e"});
}

TEST(zero_window, retransmit_timeout_into_a_zero_window_sends_a_one_octet_probe) {
  tcp_harness h;
  h.drive_to(s::established);
  EXPECT_EQ(h.write("hello"), 5u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
  // The peer took "he" and its buffer is full; "llo" is in flight beyond the window.
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(3), .window = 0});
  h.expect_nothing(at_ms(10));
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::retransmit);
  const auto d = h.conn().next_deadline();
  ASSERT_TRUE(d.has_value());
  h.expect_recv(*d, seg{.seq = h.l(3), .ack = h.r(1), .payload = "l"});
  h.expect_nothing(*d);
}

TEST(zero_window, everything_acked_with_zero_window__retransmit_off_persist_on) {
  tcp_harness h;
  h.drive_to(s::established);
  EXPECT_EQ(h.write("hello"), 5u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(6), .window = 0});
  EXPECT_EQ(h.write("more"), 4u);
  h.expect_nothing(at_ms(10));
  EXPECT_FALSE(h.conn().snapshot().next_timer == timer_kind::retransmit);
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::persist);
}

}  // namespace
}  // namespace synack::test

namespace synack::test {
namespace {

// RFC 5482 user timeout (TCP_USER_TIMEOUT): answered probes no longer hold the connection for
// ever; it closes once the data has waited that long. The probes go at 1, 3, 7, 15, 31 s.
TEST(zero_window, user_timeout__closes_a_connection_held_by_answered_probes) {
  tcp_config cfg;
  cfg.user_timeout = std::chrono::seconds(20);
  tcp_harness h(cfg);
  h.drive_to(tcp_state::established);
  h.send(at_ms(0), seg{.seq = h.r(1), .ack = h.l(1), .window = 0});
  ASSERT_EQ(h.write("hello"), 5u);
  h.expect_nothing(at_ms(0));  // the persist timer starts: the wait began at 0
  for (const int t : {1, 3, 7, 15}) {
    h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
    h.send(at_s(t), seg{.seq = h.r(1), .ack = h.l(1), .window = 0});  // answered, still closed
    h.expect_state(tcp_state::established);
  }
  h.drain_events();
  h.expect_nothing(at_s(31));  // the next probe is due at 31 s, past the 20 s user timeout
  h.expect_state(tcp_state::closed);
  EXPECT_EQ(h.conn().reason(), close_reason::timeout);
}

TEST(zero_window, user_timeout__data_unacknowledged_that_long_closes) {
  tcp_config cfg;
  cfg.user_timeout = std::chrono::seconds(5);
  tcp_harness h(cfg);
  h.drive_to(tcp_state::established);
  ASSERT_EQ(h.write("x"), 1u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = tcp_flag::psh, .payload = "x"});
  h.expect_recv(at_s(1), seg{.seq = h.l(1), .ack = h.r(1), .flags = tcp_flag::psh, .payload = "x"});
  h.expect_recv(at_s(3), seg{.seq = h.l(1), .ack = h.r(1), .flags = tcp_flag::psh, .payload = "x"});
  h.expect_nothing(at_s(7));  // the RTO at 7 s finds the data 7 s old: past 5 s, closed (not R2's 100 s)
  h.expect_state(tcp_state::closed);
  EXPECT_EQ(h.conn().reason(), close_reason::timeout);
}

}  // namespace
}  // namespace synack::test
