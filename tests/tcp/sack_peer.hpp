#pragma once
// Shared by the loss-recovery tests (PRR, undo): a passive open with SACK and no timestamps
// whose handshake takes 100 ms (SRTT 100 ms, RTO at its 1 s floor), and the expectation of
// full segment k of a write of `last` segments (full_segments.hpp; PSH on the last).
#include "support/tcp_harness.hpp"
#include "tcp/full_segments.hpp"

namespace synack::test {

inline void establish_sack(tcp_harness& h) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = tcp_flag::syn, .mss = 1460, .sack_ok = true});
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(100), seg{.seq = h.r(1), .ack = h.l(1)});
  ASSERT_EQ(h.conn().state(), tcp_state::established);
  ASSERT_TRUE(h.conn().sack_permitted());
  h.drain_events();
}

inline void expect_full_segment(tcp_harness& h, instant at, int k, int last,
                                test::source_loc loc = test::source_loc::current()) {
  h.expect_recv(at, seg{.seq = h.l(off(k)), .ack = h.r(1), .flags = static_cast<std::uint8_t>(k == last ? tcp_flag::psh : 0),
                        .payload = segment(k)},
                false, loc);
}

}  // namespace synack::test
