// RFC 9293 §3.8.3 (MUST-20, SHLD-9) through the host: a connection that retransmitted one
// segment R1 times unanswered gives negative advice to the IP layer (counted in
// r1_negative_advice, one operator notice a minute) and, if a user holds it, a
// retransmit_threshold event. Half-open connections advise too, without a user event.
#include <string>
#include <vector>

#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

// Polls everything the host sends at each of `seconds` (its retransmissions, RTO 1 s doubling),
// answering nothing; returns how many packets went out.
std::size_t silent_peer(stack_harness& t, std::initializer_list<int> seconds) {
  std::size_t n = 0;
  for (int sec : seconds) {
    while (t.poll(at_s(sec))) ++n;
  }
  return n;
}

void send_data(stack_harness& t, const conn_info& c, instant at) {
  const std::string data = "data";
  EXPECT_TRUE(t.h().send(c.h, std::as_bytes(std::span{data.data(), data.size()}), false).has_value());
  while (t.poll(at)) {
  }
}

TEST(r1_advice, third_retransmission__counted_logged_and_reported_to_the_user) {
  stack_harness t;
  log_lines log;
  t.h().set_log(&log);
  const conn_info c = t.establish_active(at_ms(0));
  (void)t.events();
  send_data(t, c, at_ms(0));
  // RTO 1 s: retransmissions at 1, 3 s — below R1.
  EXPECT_EQ(silent_peer(t, {1, 3}), 2u);
  auto ev = t.events();
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(t.ctr().r1_negative_advice, 0u);
  EXPECT_TRUE(log.lines.empty());
  // The third, at 7 s.
  EXPECT_EQ(silent_peer(t, {7}), 1u);
  ev = t.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, host_event::kind::connection);
  EXPECT_EQ(ev[0].conn, c.h);
  EXPECT_EQ(ev[0].ev.kind, tcp_event_kind::retransmit_threshold);
  EXPECT_EQ(t.ctr().r1_negative_advice, 1u);
  EXPECT_EQ(t.ctr().retrans_segs, 3u);
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0], "no answer from 192.0.2.2:80 after 3 retransmissions: the path may be down");
  EXPECT_EQ(t.h().state(c.h), tcp_state::established);  // still trying: R2 is 100 s
  EXPECT_EQ(t.h().find(c.h)->snapshot().rto_streak, 3u);
}

TEST(r1_advice, notices_are_limited_to_one_a_minute_the_counter_is_not) {
  stack_harness t;
  log_lines log;
  t.h().set_log(&log);
  const conn_info a = t.establish_active(at_ms(0));
  const conn_info b = t.establish_active(at_ms(0));
  send_data(t, a, at_ms(0));
  send_data(t, b, at_ms(0));
  EXPECT_EQ(silent_peer(t, {1, 3, 7}), 6u);
  EXPECT_EQ(t.ctr().r1_negative_advice, 2u);
  EXPECT_EQ(log.lines.size(), 1u);
  // Both are aborted; a third connection gets stuck more than a minute after the notice.
  ASSERT_TRUE(t.h().abort(at_s(7), a.h).has_value());
  ASSERT_TRUE(t.h().abort(at_s(7), b.h).has_value());
  while (t.poll(at_s(7))) {
  }
  const conn_info c = t.establish_active(at_s(70));
  send_data(t, c, at_s(70));
  EXPECT_EQ(silent_peer(t, {71, 73, 77}), 3u);
  EXPECT_EQ(t.ctr().r1_negative_advice, 3u);
  ASSERT_EQ(log.lines.size(), 2u);
}

TEST(r1_advice, half_open_connection__advice_counted_no_user_event) {
  stack_harness t;
  (void)t.listen();
  (void)t.syn_to_listener(at_ms(0));
  // SYN-ACK retransmitted at 1, 3, 7 s, never answered.
  EXPECT_EQ(silent_peer(t, {1, 3, 7}), 3u);
  EXPECT_EQ(t.ctr().retrans_segs, 3u);
  EXPECT_EQ(t.ctr().r1_negative_advice, 1u);
  EXPECT_TRUE(t.events().empty());
}

TEST(r1_advice, off_when_r1_is_zero) {
  host_config cfg = default_config();
  cfg.tcp.r1_retransmissions = 0;
  stack_harness t(cfg);
  const conn_info c = t.establish_active(at_ms(0));
  (void)t.events();
  send_data(t, c, at_ms(0));
  EXPECT_EQ(silent_peer(t, {1, 3, 7, 15, 31}), 5u);
  EXPECT_TRUE(t.events().empty());
  EXPECT_EQ(t.ctr().retrans_segs, 5u);
  EXPECT_EQ(t.ctr().r1_negative_advice, 0u);
}

}  // namespace
}  // namespace synack::stest
