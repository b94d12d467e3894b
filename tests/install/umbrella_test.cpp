// The umbrella header alone is enough to use every installed layer: this file includes nothing
// else of synack, and links synack::synack only.
#include "synack/synack.hpp"

#include <gtest/gtest.h>

namespace synack {
namespace {

TEST(umbrella, one_header_reaches_every_layer) {
  // wire
  const auto a = ipv4_addr::parse("10.0.0.1");
  const auto b = ipv4_addr::parse("10.0.0.2");
  ASSERT_TRUE(a && b);
  // stack + io/sim: a handshake between two hosts on the simulator
  host_config ca;
  ca.addr = *a;
  host_config cb;
  cb.addr = *b;
  host ha{ca};
  host hb{cb};
  sim::node_adapter<host> na{ha};
  sim::node_adapter<host> nb{hb};
  sim::world w{7};
  w.add_link(w.add_node(na, *a, "a"), w.add_node(nb, *b, "b"), sim::link_config{});
  ASSERT_TRUE(hb.listen(80, 1).has_value());
  const auto c = ha.connect(w.now(), *b, 80);
  ASSERT_TRUE(c.has_value());
  w.run_until(w.now() + std::chrono::milliseconds(10));
  EXPECT_EQ(ha.state(*c), tcp_state::established);
  // posix
  posix::socket_table t{ha};
  const auto fd = t.socket(posix::af_inet, posix::sock_stream, 0);
  ASSERT_TRUE(fd.has_value());
  EXPECT_EQ(*fd, 3);
  // pkt
  const auto r = pkt::run_text("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", pkt::run_options{});
  EXPECT_EQ(r.what, pkt::verdict::pass) << r.message;
  // io + runtime: the one-call driver over an in-memory link
  auto [l1, l2] = io::memory_link::make_pair();
  host hc{ca};
  runtime::host_driver d{hc, *l1};
  ASSERT_TRUE(hc.connect(instant::zero(), *b, 80).has_value());
  EXPECT_EQ(d.turn(instant::zero()).sent, 1u);
  EXPECT_EQ(l2->pending(), 1u);
}

}  // namespace
}  // namespace synack
