// HyStart++ (RFC 9406) end to end on the simulator: a 10 Mbit/s bottleneck, 40 ms round
// trip (a bandwidth-delay product of 50 KB), a deep tail-drop queue (2.5 to 10 times the BDP)
// and a sender free to grow (1 MiB buffers). Classic slow start doubles cwnd until the queue
// overflows and loses a large part of a window; HyStart++ sees each round's minimum RTT rise
// as the queue fills and slows down (Conservative Slow Start), so it loses less. The same
// link, the option alone differs (the simulator is deterministic without loss).
//
// A queue shallower than the BDP gives no such signal before it overflows (each round's
// minimum RTT is taken before the queue builds): there HyStart++ cannot help, and
// docs/performance.md records what it does.
#include <gtest/gtest.h>

#include <cstdio>

#include "transfer_matrix.hpp"

namespace synack {
namespace {

using namespace std::chrono_literals;

transfer_outcome run(bool hystart_on, std::size_t queue) {
  transfer_config c = base_config(40);
  c.c2s = link(20ms);
  c.s2c = c.c2s;
  for (sim::link_config* l : {&c.c2s, &c.s2c}) {
    l->bandwidth_bps = 10'000'000;
    l->queue_limit_bytes = queue;
  }
  c.bytes_c2s = 4'000'000;
  set_buffers(c, 1024 * kib);
  c.client_tcp.hystart = hystart_on;
  c.server_tcp.hystart = hystart_on;
  transfer_outcome o = run_transfer(c);
  EXPECT_EQ(check_outcome(c, o), "") << describe(c);
  return o;
}

TEST(hystart_scenario, loses_less_than_classic_slow_start_over_a_deep_queue) {
  for (const std::size_t queue : {128 * kib, 256 * kib, 512 * kib}) {
    const transfer_outcome off = run(false, queue);
    const transfer_outcome on = run(true, queue);
    const std::uint64_t rtx_off = off.client.counters.retrans_segs;
    const std::uint64_t rtx_on = on.client.counters.retrans_segs;
    const std::uint64_t drops_off = off.c2s.queue_drops;
    const std::uint64_t drops_on = on.c2s.queue_drops;
    // The figures docs/performance.md records.
    std::printf("[ hystart  ] queue %zu KiB: queue drops %llu -> %llu, retransmissions %llu -> %llu, %.3f s -> %.3f s\n",
                queue / kib, static_cast<unsigned long long>(drops_off), static_cast<unsigned long long>(drops_on),
                static_cast<unsigned long long>(rtx_off), static_cast<unsigned long long>(rtx_on),
                off.transfer_seconds(), on.transfer_seconds());
    SCOPED_TRACE(::testing::Message() << "queue " << queue / kib << " KiB");
    EXPECT_GT(drops_off, 0u) << "the scenario must make classic slow start overflow the queue";
    EXPECT_LT(drops_on, drops_off);
    EXPECT_LT(rtx_on, rtx_off);
    // Not slower for it: the link stays full (within 5%).
    EXPECT_LE(on.transfer_seconds(), off.transfer_seconds() * 1.05);
  }
}

}  // namespace
}  // namespace synack
