#pragma once
// Shared by the loss-recovery tests (PRR, undo, RACK, F-RTO): a passive open with SACK (or,
// `sack` false, without) and no timestamps whose handshake takes 100 ms (SRTT 100 ms, RTO at its
// 1 s floor), the expectation of full segment k of a write of `last` segments
// (full_segments.hpp; PSH on the last), the peer's ACKs and what the sender sends.
#include <utility>
#include <vector>

#include "support/tcp_harness.hpp"
#include "tcp/full_segments.hpp"

namespace synack::test {

inline void establish_sack(tcp_harness& h, bool sack = true) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = tcp_flag::syn, .mss = 1460, .sack_ok = sack});
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(100), seg{.seq = h.r(1), .ack = h.l(1)});
  ASSERT_EQ(h.conn().state(), tcp_state::established);
  ASSERT_EQ(h.conn().sack_permitted(), sack);
  h.drain_events();
}

// The peer's ACK of segments before `acked_to` (1-based), with SACK blocks if any.
inline seg ack_with(tcp_harness& h, int acked_to, std::vector<sack_block> blocks = {}) {
  seg a{.seq = h.r(1), .ack = h.l(off(acked_to))};
  if (!blocks.empty()) a.sack = std::move(blocks);
  return a;
}

// SACK of segments [from, to) (1-based, `to` exclusive).
inline sack_block sacked(tcp_harness& h, int from, int to) { return sack_block{h.l(off(from)), h.l(off(to))}; }

// Everything the connection sends at `at`, as 1-based segment numbers.
inline std::vector<int> drain(tcp_harness& h, instant at) {
  std::vector<int> out;
  while (auto r = h.poll(at)) {
    if (r->payload.empty()) continue;
    out.push_back(static_cast<int>(distance(h.l(1), r->seq).n / smss) + 1);
  }
  return out;
}

inline void expect_full_segment(tcp_harness& h, instant at, int k, int last,
                                test::source_loc loc = test::source_loc::current()) {
  h.expect_recv(at, seg{.seq = h.l(off(k)), .ack = h.r(1), .flags = static_cast<std::uint8_t>(k == last ? tcp_flag::psh : 0),
                        .payload = segment(k)},
                false, loc);
}

// Three segments in flight, 2 and 3 SACKed at 200 ms: below DupThresh, so RACK's reorder timer
// (reo_wnd = min_RTT / 4 = 25 ms) marks 1 lost at 225 ms and recovery resends it.
inline void sack_of_two_and_three_resends_one(tcp_harness& h) {
  establish_sack(h);
  ASSERT_EQ(h.write(segments(1, 3)), 3 * smss);
  for (int k = 1; k <= 3; ++k) expect_full_segment(h, at_ms(100), k, 3);
  h.send(at_ms(200), ack_with(h, 1, {sacked(h, 2, 4)}));
  h.expect_nothing(at_ms(224));
  expect_full_segment(h, at_ms(225), 1, 3);
}

}  // namespace synack::test
