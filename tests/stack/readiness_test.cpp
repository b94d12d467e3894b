// Readiness as data (host::poll_ready, host::status): the host reports an edge when the user of
// a connection has something new to act on — bytes or the peer's FIN to read, send space freed,
// a state change — once per handle until polled, and never for the user's own recv or send.
#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

std::vector<conn_handle> ready(host& h) {
  std::vector<conn_handle> out;
  while (auto r = h.poll_ready()) out.push_back(*r);
  return out;
}

TEST(readiness, accepted_connection_is_an_edge_and_data_another) {
  stack_harness t;
  const listener_handle l = t.listen(80, 4);
  const conn_info c = t.establish_passive(at_ms(0), l);
  EXPECT_EQ(ready(t.h()), std::vector<conn_handle>{c.h});  // accepted: a new user to tell
  EXPECT_TRUE(ready(t.h()).empty());

  t.send(at_ms(10), seg{.seq = c.r(1), .ack = c.l(1), .flags = tcp_flag::psh, .payload = "hello"});
  t.send(at_ms(11), seg{.seq = c.r(6), .ack = c.l(1), .flags = tcp_flag::psh, .payload = "world"});
  EXPECT_EQ(ready(t.h()), std::vector<conn_handle>{c.h});  // two segments, one edge
  auto st = t.h().status(c.h);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, tcp_state::established);
  EXPECT_EQ(st->readable, 10u);
  EXPECT_FALSE(st->eof);
  EXPECT_EQ(st->tuple, c.tuple());

  EXPECT_EQ(t.read_all(c.h), "helloworld");  // the user's own read: no edge
  EXPECT_TRUE(ready(t.h()).empty());
  EXPECT_EQ(t.h().status(c.h)->readable, 0u);
}

TEST(readiness, fin_and_close_are_edges_with_their_reason) {
  stack_harness t;
  const listener_handle l = t.listen(80, 4);
  const conn_info c = t.establish_passive(at_ms(0), l);
  (void)ready(t.h());
  t.send(at_ms(10), seg{.seq = c.r(1), .ack = c.l(1), .flags = tcp_flag::fin});
  EXPECT_EQ(ready(t.h()), std::vector<conn_handle>{c.h});
  EXPECT_TRUE(t.h().status(c.h)->eof);
  EXPECT_EQ(t.h().status(c.h)->state, tcp_state::close_wait);

  t.send(at_ms(20), seg{.seq = c.r(2), .flags = tcp_flag::rst});
  EXPECT_EQ(ready(t.h()), std::vector<conn_handle>{c.h});
  const auto st = t.h().status(c.h);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->ended());
  EXPECT_EQ(st->reason, close_reason::reset);
}

TEST(readiness, acknowledged_data_frees_space_as_an_edge_and_writable_is_linux_rule) {
  stack_harness t;
  const listener_handle l = t.listen(80, 4);
  const conn_info c = t.establish_passive(at_ms(0), l);
  (void)ready(t.h());
  const std::size_t free0 = t.h().status(c.h)->send_free;
  EXPECT_TRUE(t.h().status(c.h)->writable());
  EXPECT_EQ(t.write(c.h, "0123456789"), 10u);
  EXPECT_TRUE(ready(t.h()).empty());  // the user's own send
  auto sent = t.expect_tcp(at_ms(10), seg{.seq = c.l(1), .ack = c.r(1), .flags = tcp_flag::psh, .payload = "0123456789"});
  ASSERT_TRUE(sent);
  EXPECT_EQ(t.h().status(c.h)->send_free, free0 - 10);
  t.send(at_ms(20), seg{.seq = c.r(1), .ack = c.l(11)});
  EXPECT_EQ(ready(t.h()), std::vector<conn_handle>{c.h});
  EXPECT_EQ(t.h().status(c.h)->send_free, free0);

  conn_status s;
  s.send_free = 100;
  s.send_queued = 300;
  EXPECT_FALSE(s.writable());  // less than half of what is queued
  s.send_queued = 200;
  EXPECT_TRUE(s.writable());
  s.send_free = 0;
  s.send_queued = 0;
  EXPECT_FALSE(s.writable());
}

TEST(readiness, stale_handles_are_skipped_and_report_no_status) {
  stack_harness t;
  const listener_handle l = t.listen(80, 4);
  const conn_info c = t.establish_passive(at_ms(0), l);
  t.send(at_ms(10), seg{.seq = c.r(1), .ack = c.l(1), .flags = tcp_flag::psh, .payload = "x"});
  ASSERT_TRUE(t.h().abort(at_ms(20), c.h).has_value());  // released with an edge queued
  EXPECT_TRUE(ready(t.h()).empty());
  EXPECT_FALSE(t.h().status(c.h).has_value());
}

// A host whose user never polls readiness (it reads events instead, as the benchmarks do) must
// not grow the queue with every connection its slots serve: an entry left by a released handle
// stands for the slot, and reports the slot's next connection once it has an edge of its own.
TEST(readiness, a_reused_slot_is_queued_once_whoever_polls) {
  stack_harness t;
  const listener_handle l = t.listen(80, 4);
  for (std::uint16_t i = 0; i < 100; ++i) {
    const conn_info c = t.establish_passive(at_ms(i), l, static_cast<std::uint16_t>(peer_port + i));
    ASSERT_TRUE(t.h().abort(at_ms(i), c.h).has_value());  // released with its edge queued
    const auto rst = t.poll(at_ms(i));
    ASSERT_TRUE(rst && rst->tcp && rst->tcp->rst());
  }
  EXPECT_EQ(t.h().ready_queue_len(), 1u);  // one slot, served 100 times
  EXPECT_TRUE(ready(t.h()).empty());       // nobody to report
  EXPECT_EQ(t.h().ready_queue_len(), 0u);

  const conn_info a = t.establish_passive(at_ms(200), l, 4000);
  ASSERT_TRUE(t.h().abort(at_ms(201), a.h).has_value());
  ASSERT_TRUE(t.poll(at_ms(201)));  // its RST
  const conn_info b = t.establish_passive(at_ms(202), l, 4001);  // the same slot, a new handle
  EXPECT_EQ(t.h().ready_queue_len(), 1u);
  EXPECT_EQ(ready(t.h()), std::vector<conn_handle>{b.h});  // b's accept, once, by b's handle
  EXPECT_TRUE(ready(t.h()).empty());
}

}  // namespace
}  // namespace synack::stest
