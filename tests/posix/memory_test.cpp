// The host's memory budget as a socket sees it (tcp/memory_budget.hpp).
#include "posix_harness.hpp"

namespace synack::ptest {
namespace {

// Beyond the hard limit send() takes nothing: EAGAIN, as Linux's tcp_sendmsg answers a
// non-blocking socket when tcp_mem is exhausted (sk_stream_wait_memory; ENOBUFS is not what
// a stream socket returns for it). Reading gives the memory back and send() works again.
TEST(posix_memory, hard_limit_send_is_eagain_until_memory_is_freed) {
  host_config cb = config_for(b_ip);
  cb.memory = memory_limits{1000, 2000, 3000};
  net n{config_for(a_ip), cb};
  const int l = n.b_listener();
  const auto [c, s] = n.connected(l);
  const std::string data(4000, 'x');  // unread by b: its receive ring grows past the hard limit
  EXPECT_EQ(*n.a.write(c, as_bytes(data)), 4000u);
  n.pump();
  ASSERT_EQ(n.hb.memory().level, memory_level::hard);
  EXPECT_EQ(err(n.b.write(s, as_bytes("y"))), EAGAIN);
  EXPECT_EQ(n.hb.counters().memory.send_refused, 1u);
  EXPECT_EQ(net::read_some(n.b, s), data);  // drained under pressure: the ring is released
  EXPECT_EQ(n.hb.memory().level, memory_level::normal);
  EXPECT_EQ(*n.b.write(s, as_bytes("y")), 1u);
}

}  // namespace
}  // namespace synack::ptest
