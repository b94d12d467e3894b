// Zero-copy receive and send by handle (host::recv_view, recv_consume, send_reserve,
// send_commit): what they make due reaches the wire as recv's and send's does (the window
// update, the data), and a handle that is not the user's is refused. Their memory budget
// bookkeeping: memory_budget_test.cpp.
#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

std::string str(bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

host_config no_delayed_ack() {
  host_config c = default_config();
  c.tcp.delayed_ack = false;
  c.tcp.recv_buffer = 65535;  // no window scaling with this peer: the window field is the free buffer
  return c;
}

TEST(host_zero_copy, recv_consume_sends_the_window_update) {
  stack_harness t(no_delayed_ack());
  const listener_handle l = t.listen();
  const conn_info c = t.establish_passive(at_ms(0), l);
  t.send(at_ms(1), seg{.seq = c.r(1), .ack = c.l(1), .payload = std::string(1460, 'a'), .peer = c.peer});
  t.expect_tcp(at_ms(1), seg{.seq = c.l(1), .ack = c.r(1461), .window = 65535 - 1460, .peer = c.peer}, true);
  auto v = t.h().recv_view(c.h);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(str(v->first) + str(v->second), std::string(1460, 'a'));
  ASSERT_TRUE(t.h().recv_consume(c.h, 1460).has_value());
  EXPECT_EQ(t.h().status(c.h)->readable, 0u);
  t.expect_tcp(at_ms(2), seg{.seq = c.l(1), .ack = c.r(1461), .window = 65535, .peer = c.peer}, true);
  t.expect_nothing(at_ms(2));
}

TEST(host_zero_copy, send_commit_queues_the_data_for_transmission) {
  stack_harness t(no_delayed_ack());
  const listener_handle l = t.listen();
  const conn_info c = t.establish_passive(at_ms(0), l);
  auto sp = t.h().send_reserve(c.h, 100);
  ASSERT_TRUE(sp.has_value());
  ASSERT_EQ(sp->size(), 100u);
  const std::string hello = "hello";
  ASSERT_EQ(copy_in(*sp, std::as_bytes(std::span{hello.data(), hello.size()})), 5u);
  ASSERT_TRUE(t.h().send_commit(c.h, 5).has_value());
  EXPECT_EQ(t.h().status(c.h)->send_queued, 5u);
  t.expect_tcp(at_ms(1), seg{.seq = c.l(1), .ack = c.r(1), .flags = tcp_flag::psh, .payload = "hello", .peer = c.peer});
  t.expect_nothing(at_ms(1));
}

TEST(host_zero_copy, a_handle_not_the_users_is_not_connected) {
  stack_harness t(no_delayed_ack());
  const listener_handle l = t.listen();
  const conn_info c = t.establish_passive(at_ms(0), l);
  ASSERT_TRUE(t.h().abort(at_ms(1), c.h).has_value());  // released: the handle is stale
  EXPECT_EQ(t.h().recv_view(c.h).error(), tcp_error::not_connected);
  EXPECT_EQ(t.h().recv_consume(c.h, 1).error(), tcp_error::not_connected);
  EXPECT_EQ(t.h().send_reserve(c.h, 1).error(), tcp_error::not_connected);
  EXPECT_EQ(t.h().send_commit(c.h, 1).error(), tcp_error::not_connected);
}

}  // namespace
}  // namespace synack::stest
