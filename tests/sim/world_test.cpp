// The simulated world: exact virtual-time arithmetic for latency and bandwidth, seeded
// impairments, routing, timers and idle detection — with fake nodes, not the TCP stack.
#include "synack/io/sim/world.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "sim/fake_nodes.hpp"

namespace synack::sim {
namespace {

using test::addr;
using test::echo_node;
using test::make_packet;
using test::scripted_node;

constexpr instant at_ms(std::int64_t ms) { return instant{ms * 1000}; }

// Only a timer: fires once at `deadline`, or keeps a stale deadline forever if `sticky`.
class timer_node : public node {
 public:
  explicit timer_node(std::optional<instant> deadline, bool sticky = false)
      : deadline_(deadline), sticky_(sticky) {}
  void on_packet(instant /*now*/, bytes /*packet*/) override {}
  void on_timeout(instant now) override {
    fired.push_back(now);
    if (!sticky_) {
      deadline_.reset();
    }
  }
  std::optional<std::size_t> poll_transmit(instant /*now*/, mutable_bytes /*out*/) override {
    return std::nullopt;
  }
  [[nodiscard]] std::optional<instant> next_deadline() const override { return deadline_; }
  std::vector<instant> fired;

 private:
  std::optional<instant> deadline_;
  bool sticky_;
};

// Transmits forever without a pause: a broken node.
class firehose_node : public node {
 public:
  void on_packet(instant /*now*/, bytes /*packet*/) override {}
  void on_timeout(instant /*now*/) override {}
  std::optional<std::size_t> poll_transmit(instant /*now*/, mutable_bytes out) override {
    const auto p = make_packet(addr(1), addr(2), 0, 40);
    std::copy(p.begin(), p.end(), out.begin());
    return p.size();
  }
  [[nodiscard]] std::optional<instant> next_deadline() const override { return std::nullopt; }
};

// Two scripted nodes A (10.0.0.1) and B (10.0.0.2) on one link.
struct pair_world {
  explicit pair_world(link_config ab, link_config ba, std::uint64_t seed = 1) : w(seed) {
    ia = w.add_node(a, addr(1), "a");
    ib = w.add_node(b, addr(2), "b");
    l = w.add_link(ia, ib, ab, ba);
  }
  explicit pair_world(link_config both, std::uint64_t seed = 1) : pair_world(both, both, seed) {}

  // N packets from A to B, `gap` apart starting at `first`.
  void a_sends(std::uint32_t n, instant first, duration gap, std::size_t size = 100) {
    for (std::uint32_t i = 0; i < n; ++i) {
      a.send_at(first + gap * i, make_packet(addr(1), addr(2), i, size));
    }
  }
  void drain() {
    while (w.step()) {
    }
  }

  world w;
  scripted_node a;
  scripted_node b;
  node_id ia = 0;
  node_id ib = 0;
  link_id l = 0;
};

TEST(World, StartsAtZeroAndAnEmptyWorldIsIdle) {
  world w;
  EXPECT_EQ(w.now(), instant{0});
  EXPECT_FALSE(w.step());
  EXPECT_EQ(w.now(), instant{0});
  EXPECT_EQ(w.node_count(), 0U);
}

TEST(World, NamesNodes) {
  world w;
  scripted_node a;
  const node_id id = w.add_node(a, addr(1), "alice");
  EXPECT_EQ(w.name(id), "alice");
  EXPECT_EQ(w.node_count(), 1U);
}

TEST(World, LatencyDelaysDeliveryExactly) {
  pair_world p{link_config{.latency = 10ms}};
  p.a_sends(1, at_ms(0), 0ms);
  EXPECT_TRUE(p.w.step());  // t=0: sent; time stays at the instant processed
  EXPECT_EQ(p.w.now(), at_ms(0));
  EXPECT_TRUE(p.b.rx.empty());
  EXPECT_TRUE(p.w.step());  // jumps to the arrival and delivers
  EXPECT_EQ(p.w.now(), at_ms(10));
  EXPECT_FALSE(p.w.step());  // nothing is pending
  ASSERT_EQ(p.b.rx.size(), 1U);
  EXPECT_EQ(p.b.rx[0].at, at_ms(10));
  EXPECT_TRUE(p.b.rx[0].valid);
  EXPECT_EQ(p.b.rx[0].src, addr(1));
  EXPECT_EQ(p.w.stats(p.l, true).delivered, 1U);
  EXPECT_EQ(p.w.stats(p.l, true).bytes_delivered, 100U);
  EXPECT_EQ(p.w.stats(p.l, false).sent, 0U);
}

TEST(World, ZeroLatencyDeliversAtTheSameInstant) {
  pair_world p{link_config{}};
  p.a_sends(3, at_ms(7), 0ms);
  p.drain();
  ASSERT_EQ(p.b.rx.size(), 3U);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(p.b.rx[i].at, at_ms(7));
    EXPECT_EQ(p.b.rx[i].seq, i);  // ties in send order
  }
}

TEST(World, EchoRoundTripAddsBothDirectionsLatency) {
  world w;
  scripted_node a;
  echo_node b;
  const node_id ia = w.add_node(a, addr(1), "a");
  const node_id ib = w.add_node(b, addr(2), "b");
  w.add_link(ia, ib, link_config{.latency = 3ms}, link_config{.latency = 7ms});
  a.send_at(at_ms(1000), make_packet(addr(1), addr(2), 42));
  while (w.step()) {
  }
  ASSERT_EQ(b.arrivals.size(), 1U);
  EXPECT_EQ(b.arrivals[0], at_ms(1003));
  ASSERT_EQ(a.rx.size(), 1U);
  EXPECT_EQ(a.rx[0].at, at_ms(1010));
  EXPECT_EQ(a.rx[0].seq, 42U);
  EXPECT_EQ(a.rx[0].src, addr(2));
  EXPECT_TRUE(a.rx[0].valid);
}

TEST(World, BandwidthSerialisesPacketsFifo) {
  // 1000 bytes at 1 Mbit/s take 8 ms on the wire.
  pair_world p{link_config{.latency = 2ms, .bandwidth_bps = 1'000'000}};
  p.a_sends(3, at_ms(0), 0ms, 1000);                                 // busy until 24 ms
  p.a.send_at(at_ms(10), make_packet(addr(1), addr(2), 3, 1000));   // waits until 24 ms
  p.a.send_at(at_ms(50), make_packet(addr(1), addr(2), 4, 1000));   // link idle again
  p.drain();
  ASSERT_EQ(p.b.rx.size(), 5U);
  const std::vector<instant> expected{at_ms(10), at_ms(18), at_ms(26), at_ms(34), at_ms(60)};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(p.b.rx[i].at, expected[i]) << "packet " << i;
    EXPECT_EQ(p.b.rx[i].seq, i);
  }
}

TEST(World, SerialisationRoundsUpToWholeMicroseconds) {
  // 100 bytes = 800 bits at 3 Mbit/s = 266.67 us, rounded up to 267 us.
  pair_world p{link_config{.bandwidth_bps = 3'000'000}};
  p.a_sends(2, at_ms(0), 0ms);
  p.drain();
  ASSERT_EQ(p.b.rx.size(), 2U);
  EXPECT_EQ(p.b.rx[0].at, instant{267});
  EXPECT_EQ(p.b.rx[1].at, instant{534});
}

TEST(World, DirectionsAreImpairedIndependently) {
  pair_world p{link_config{.latency = 1ms}, link_config{.latency = 9ms, .loss = 1.0}};
  p.a_sends(1, at_ms(0), 0ms);
  p.b.send_at(at_ms(0), make_packet(addr(2), addr(1), 0));
  p.drain();
  EXPECT_EQ(p.b.rx.size(), 1U);
  EXPECT_TRUE(p.a.rx.empty());
  EXPECT_EQ(p.w.stats(p.l, true).lost, 0U);
  EXPECT_EQ(p.w.stats(p.l, false).lost, 1U);
  EXPECT_EQ(p.w.stats(p.l, false).sent, 1U);
}

TEST(World, LossRateMatchesProbability) {
  pair_world p{link_config{.latency = 1ms, .loss = 0.1}, 1234};
  constexpr std::uint32_t n = 10'000;
  p.a_sends(n, at_ms(0), 100us);
  p.drain();
  const link_stats& s = p.w.stats(p.l, true);
  EXPECT_EQ(s.sent, n);
  EXPECT_EQ(s.lost + s.delivered, n);
  EXPECT_EQ(p.b.rx.size(), s.delivered);
  // Binomial(10000, 0.1): mean 1000, standard deviation 30.
  EXPECT_GT(s.lost, 850U);
  EXPECT_LT(s.lost, 1150U);
}

// Every observer event, as plain values, for comparing runs.
using trace = std::vector<std::tuple<std::int64_t, packet_fate, node_id, std::vector<std::byte>>>;

trace impaired_run(std::uint64_t seed) {
  pair_world p{link_config{.latency = 5ms,
                           .bandwidth_bps = 10'000'000,
                           .queue_limit_bytes = 3000,
                           .loss = 0.1,
                           .duplicate = 0.1,
                           .reorder = 0.2,
                           .reorder_delay = 3ms,
                           .corrupt = 0.1},
               seed};
  trace t;
  p.w.set_observer([&t](const packet_event& e) {
    t.emplace_back(e.at.us, e.fate, e.from, std::vector<std::byte>(e.packet.begin(), e.packet.end()));
  });
  p.a_sends(500, at_ms(0), 200us, 500);
  p.drain();
  return t;
}

TEST(World, SameSeedGivesIdenticalTrace) {
  const trace first = impaired_run(7);
  const trace second = impaired_run(7);
  EXPECT_GT(first.size(), 1000U);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, impaired_run(8));
}

TEST(World, ObserverSeesEveryFateMatchingStats) {
  pair_world p{link_config{.latency = 1ms,
                           .bandwidth_bps = 10'000'000,
                           .queue_limit_bytes = 2000,
                           .mtu = 1400,
                           .loss = 0.1,
                           .duplicate = 0.1,
                           .corrupt = 0.1},
               99};
  std::map<packet_fate, std::uint64_t> seen;
  p.w.set_observer([&seen](const packet_event& e) {
    EXPECT_EQ(e.from, 0U);
    EXPECT_EQ(e.to, 1U);
    ++seen[e.fate];
  });
  p.a_sends(2000, at_ms(0), 100us, 600);
  p.a.send_at(at_ms(1000), make_packet(addr(1), addr(2), 9999, 1401));
  p.drain();
  const link_stats& s = p.w.stats(p.l, true);
  EXPECT_EQ(seen[packet_fate::sent], s.sent);
  EXPECT_EQ(seen[packet_fate::lost], s.lost);
  EXPECT_EQ(seen[packet_fate::queue_drop], s.queue_drops);
  EXPECT_EQ(seen[packet_fate::too_big], s.too_big);
  EXPECT_EQ(seen[packet_fate::duplicated], s.duplicated);
  EXPECT_EQ(seen[packet_fate::corrupted], s.corrupted);
  EXPECT_EQ(seen[packet_fate::delivered], s.delivered);
  EXPECT_EQ(s.too_big, 1U);
  EXPECT_GT(s.queue_drops, 0U);
  EXPECT_EQ(s.sent, s.lost + s.queue_drops + s.too_big + s.delivered - s.duplicated);
}

TEST(World, DuplicateArrivesAtTheSameTimeAfterTheOriginal) {
  pair_world p{link_config{.latency = 4ms, .duplicate = 1.0}};
  p.a_sends(5, at_ms(0), 1ms);
  p.drain();
  ASSERT_EQ(p.b.rx.size(), 10U);
  for (std::uint32_t i = 0; i < 5; ++i) {
    EXPECT_EQ(p.b.rx[2 * i].seq, i);
    EXPECT_EQ(p.b.rx[2 * i + 1].seq, i);
    EXPECT_EQ(p.b.rx[2 * i].at, at_ms(4 + i));
    EXPECT_EQ(p.b.rx[2 * i + 1].at, at_ms(4 + i));
  }
  EXPECT_EQ(p.w.stats(p.l, true).duplicated, 5U);
  EXPECT_EQ(p.w.stats(p.l, true).delivered, 10U);
  EXPECT_EQ(p.w.stats(p.l, true).sent, 5U);
}

TEST(World, DuplicationRateMatchesProbability) {
  pair_world p{link_config{.latency = 1ms, .duplicate = 0.25}, 5};
  p.a_sends(4000, at_ms(0), 100us);
  p.drain();
  const link_stats& s = p.w.stats(p.l, true);
  EXPECT_EQ(p.b.rx.size(), 4000U + s.duplicated);
  EXPECT_GT(s.duplicated, 850U);  // mean 1000, standard deviation 27
  EXPECT_LT(s.duplicated, 1150U);
}

TEST(World, ReorderHoldsSomePacketsBack) {
  pair_world p{link_config{.latency = 5ms, .reorder = 0.3, .reorder_delay = 10ms}, 3};
  constexpr std::uint32_t n = 200;
  p.a_sends(n, at_ms(0), 1ms);
  p.drain();
  ASSERT_EQ(p.b.rx.size(), n);
  std::uint64_t held = 0;
  std::vector<std::uint32_t> order;
  for (const auto& r : p.b.rx) {
    const instant sent = at_ms(r.seq);
    ASSERT_TRUE(r.at == sent + 5ms || r.at == sent + 15ms) << "seq " << r.seq;
    held += r.at == sent + 15ms ? 1U : 0U;
    order.push_back(r.seq);
  }
  EXPECT_EQ(held, p.w.stats(p.l, true).reordered);
  EXPECT_GT(held, 30U);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
  std::sort(order.begin(), order.end());
  for (std::uint32_t i = 0; i < n; ++i) {
    EXPECT_EQ(order[i], i);
  }
}

std::size_t differing_bits(const std::vector<std::byte>& x, const std::vector<std::byte>& y) {
  std::size_t bits = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    bits += static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(x[i] ^ y[i])));
  }
  return bits;
}

TEST(World, CorruptionFlipsExactlyOneBitThatChecksumsCatch) {
  pair_world p{link_config{.latency = 1ms, .corrupt = 1.0}, 11};
  constexpr std::uint32_t n = 50;
  p.a_sends(n, at_ms(0), 1ms);
  p.drain();
  ASSERT_EQ(p.b.rx.size(), n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto original = make_packet(addr(1), addr(2), i);
    EXPECT_FALSE(p.b.rx[i].valid);
    ASSERT_EQ(p.b.rx[i].data.size(), original.size());
    EXPECT_EQ(differing_bits(p.b.rx[i].data, original), 1U);
  }
  EXPECT_EQ(p.w.stats(p.l, true).corrupted, n);
}

TEST(World, CorruptionHitsOnlyOneOfTwoCopies) {
  pair_world p{link_config{.duplicate = 1.0, .corrupt = 1.0}, 12};
  p.a_sends(20, at_ms(0), 1ms);
  p.drain();
  ASSERT_EQ(p.b.rx.size(), 40U);
  for (std::size_t i = 0; i < 40; i += 2) {
    EXPECT_NE(p.b.rx[i].valid, p.b.rx[i + 1].valid) << "pair " << i / 2;
  }
  EXPECT_EQ(p.w.stats(p.l, true).corrupted, 20U);
}

TEST(World, CorruptedCountMatchesReceiverChecksumFailures) {
  pair_world p{link_config{.latency = 1ms, .corrupt = 0.2}, 13};
  p.a_sends(1000, at_ms(0), 100us, 300);
  p.drain();
  const auto bad = std::count_if(p.b.rx.begin(), p.b.rx.end(), [](const auto& r) { return !r.valid; });
  EXPECT_EQ(static_cast<std::uint64_t>(bad), p.w.stats(p.l, true).corrupted);
  EXPECT_GT(bad, 150);
  EXPECT_LT(bad, 250);
}

TEST(World, QueueLimitTailDrops) {
  // 1000-byte packets at 1 Mbit/s: 8 ms each. The first goes straight onto the wire; three
  // more fit the 3000-byte queue; the other six are dropped at the tail.
  pair_world p{link_config{.latency = 5ms, .bandwidth_bps = 1'000'000, .queue_limit_bytes = 3000}};
  p.a_sends(10, at_ms(0), 0ms, 1000);
  p.a_sends(2, at_ms(100), 0ms, 1000);  // the queue has drained by then
  p.drain();
  const link_stats& s = p.w.stats(p.l, true);
  EXPECT_EQ(s.queue_drops, 6U);
  ASSERT_EQ(p.b.rx.size(), 6U);
  const std::vector<instant> expected{at_ms(13), at_ms(21), at_ms(29), at_ms(37), at_ms(113), at_ms(121)};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(p.b.rx[i].at, expected[i]) << "packet " << i;
  }
  EXPECT_EQ(p.b.rx[3].seq, 3U);  // the survivors are the head of the burst
}

TEST(World, QueueFreesAsPacketsStartSerialising) {
  // Room for one waiting packet: sending one every 8 ms keeps pace, so nothing is dropped.
  pair_world p{link_config{.bandwidth_bps = 1'000'000, .queue_limit_bytes = 1000}};
  p.a_sends(2, at_ms(0), 0ms, 1000);
  p.a_sends(5, at_ms(8), 8ms, 1000);
  p.drain();
  EXPECT_EQ(p.w.stats(p.l, true).queue_drops, 0U);
  EXPECT_EQ(p.b.rx.size(), 7U);
}

TEST(World, PacketsLargerThanMtuAreDropped) {
  pair_world p{link_config{.mtu = 576}};
  p.a.send_at(at_ms(0), make_packet(addr(1), addr(2), 0, 577));
  p.a.send_at(at_ms(0), make_packet(addr(1), addr(2), 1, 576));
  p.drain();
  ASSERT_EQ(p.b.rx.size(), 1U);
  EXPECT_EQ(p.b.rx[0].seq, 1U);
  EXPECT_EQ(p.w.stats(p.l, true).too_big, 1U);
  EXPECT_EQ(p.w.stats(p.l, true).sent, 2U);
}

TEST(World, RoutesByDestinationAmongThreeNodes) {
  world w;
  scripted_node a;
  scripted_node b;
  scripted_node c;
  scripted_node lonely;
  const node_id ia = w.add_node(a, addr(1), "a");
  const node_id ib = w.add_node(b, addr(2), "b");
  const node_id ic = w.add_node(c, addr(3), "c");
  w.add_node(lonely, addr(4), "lonely");
  const link_id ab = w.add_link(ia, ib, link_config{.latency = 1ms});
  const link_id ac = w.add_link(ia, ic, link_config{.latency = 2ms});
  w.add_link(ib, ic, link_config{.latency = 3ms});

  a.send_at(at_ms(0), make_packet(addr(1), addr(3), 1));   // to c, on a's second link
  a.send_at(at_ms(0), make_packet(addr(1), addr(2), 2));   // to b
  a.send_at(at_ms(0), make_packet(addr(1), addr(9), 3));   // unknown: default route, to b
  c.send_at(at_ms(0), make_packet(addr(3), addr(2), 4));   // c to b on their own link
  std::vector<std::byte> runt(10);                          // too short to route by address
  a.send_at(at_ms(0), runt);
  lonely.send_at(at_ms(0), make_packet(addr(4), addr(1), 5));
  while (w.step()) {
  }

  ASSERT_EQ(c.rx.size(), 1U);
  EXPECT_EQ(c.rx[0].seq, 1U);
  EXPECT_EQ(c.rx[0].at, at_ms(2));
  ASSERT_EQ(b.rx.size(), 4U);
  EXPECT_EQ(b.rx[0].seq, 2U);
  EXPECT_EQ(b.rx[1].seq, 3U);
  EXPECT_EQ(b.rx[2].data.size(), 10U);  // the runt, via the default route
  EXPECT_EQ(b.rx[3].seq, 4U);
  EXPECT_EQ(b.rx[3].at, at_ms(3));
  EXPECT_EQ(w.stats(ab, true).sent, 3U);
  EXPECT_EQ(w.stats(ac, true).sent, 1U);
  EXPECT_TRUE(a.rx.empty());
  EXPECT_EQ(w.unroutable(), 1U);
}

TEST(World, TimeJumpsToTheEarliestDeadline) {
  world w;
  timer_node t{at_ms(5000)};
  w.add_node(t, addr(1), "timer");
  EXPECT_TRUE(w.step());  // nothing due at 0: jumps to the deadline and fires it
  EXPECT_EQ(w.now(), at_ms(5000));
  ASSERT_EQ(t.fired.size(), 1U);
  EXPECT_FALSE(w.step());
  EXPECT_EQ(w.now(), at_ms(5000));
  EXPECT_EQ(t.fired[0], at_ms(5000));
}

TEST(World, InterleavesDeadlinesAndArrivals) {
  pair_world p{link_config{.latency = 4000ms}};
  timer_node t3{at_ms(3000)};
  timer_node t5{at_ms(5000)};
  p.w.add_node(t3, addr(3), "t3");
  p.w.add_node(t5, addr(5), "t5");
  p.a_sends(1, at_ms(0), 0ms);
  std::vector<instant> times;
  while (p.w.step()) {
    times.push_back(p.w.now());
  }
  // t=0 (the send), then each event at its own instant.
  EXPECT_EQ(times, (std::vector<instant>{at_ms(0), at_ms(3000), at_ms(4000), at_ms(5000)}));
  EXPECT_EQ(t3.fired, std::vector<instant>{at_ms(3000)});
  EXPECT_EQ(t5.fired, std::vector<instant>{at_ms(5000)});
  ASSERT_EQ(p.b.rx.size(), 1U);
  EXPECT_EQ(p.b.rx[0].at, at_ms(4000));
}

TEST(World, StaleDeadlineDoesNotSpin) {
  world w;
  timer_node stuck{at_ms(0), /*sticky=*/true};
  w.add_node(stuck, addr(1), "stuck");
  EXPECT_FALSE(w.step());  // nothing in the future: idle
  EXPECT_EQ(stuck.fired.size(), 1U);
  w.run_until(at_ms(10'000));
  EXPECT_EQ(w.now(), at_ms(10'000));
  EXPECT_EQ(w.livelocks(), 0U);
}

TEST(World, IdleAfterEverythingIsDelivered) {
  pair_world p{link_config{.latency = 3ms}};
  p.a_sends(3, at_ms(0), 1ms);
  int steps = 0;
  while (p.w.step()) {
    ++steps;
  }
  EXPECT_EQ(steps, 6);  // 0 (first send), then jumps to 1, 2, 3, 4, 5 ms
  EXPECT_EQ(p.w.now(), at_ms(5));
  EXPECT_EQ(p.b.rx.size(), 3U);
  EXPECT_FALSE(p.w.step());
  EXPECT_EQ(p.w.now(), at_ms(5));
}

TEST(World, StepPicksUpWorkQueuedBetweenSteps) {
  pair_world p{link_config{.latency = 3ms}};
  p.w.run_until(at_ms(100));
  p.a.send_now(make_packet(addr(1), addr(2), 1));
  EXPECT_TRUE(p.w.step());  // sends at 100
  EXPECT_EQ(p.w.now(), at_ms(100));
  EXPECT_TRUE(p.w.step());  // delivers at 103
  EXPECT_EQ(p.w.now(), at_ms(103));
  p.drain();
  ASSERT_EQ(p.b.rx.size(), 1U);
  EXPECT_EQ(p.b.rx[0].at, at_ms(103));
}

TEST(World, RunUntilStopsAtTheGivenInstant) {
  pair_world p{link_config{.latency = 10ms}};
  p.a_sends(5, at_ms(0), 10ms);  // arrivals at 10, 20, 30, 40, 50 ms
  p.w.run_until(at_ms(25));
  EXPECT_EQ(p.w.now(), at_ms(25));
  EXPECT_EQ(p.b.rx.size(), 2U);
  p.w.run_until(at_ms(30));  // an event exactly at the limit is processed
  EXPECT_EQ(p.w.now(), at_ms(30));
  EXPECT_EQ(p.b.rx.size(), 3U);
  p.w.run_until(at_ms(1000));  // idle before the limit: time is still left at it
  EXPECT_EQ(p.w.now(), at_ms(1000));
  EXPECT_EQ(p.b.rx.size(), 5U);
}

TEST(World, RunWhileNotStopsWhenThePredicateHolds) {
  pair_world p{link_config{.latency = 10ms}};
  p.a_sends(10, at_ms(0), 1ms);
  EXPECT_TRUE(p.w.run_while_not([&] { return p.b.rx.size() >= 5; }, at_ms(1000)));
  EXPECT_EQ(p.w.now(), at_ms(14));
  EXPECT_EQ(p.b.rx.size(), 5U);
}

TEST(World, RunWhileNotGivesUpAtTheLimitOrWhenIdle) {
  pair_world p{link_config{.latency = 10ms}};
  p.a_sends(3, at_ms(0), 1ms);
  EXPECT_FALSE(p.w.run_while_not([&] { return p.b.rx.size() >= 3; }, at_ms(11)));
  EXPECT_EQ(p.w.now(), at_ms(11));
  EXPECT_EQ(p.b.rx.size(), 2U);
  EXPECT_FALSE(p.w.run_while_not([&] { return p.b.rx.size() >= 4; }, at_ms(1000)));  // idle
  EXPECT_EQ(p.b.rx.size(), 3U);
  EXPECT_EQ(p.w.now(), at_ms(12));
}

TEST(World, ZeroLatencyPingPongIsCutShortAsALivelock) {
  world w;
  echo_node a;
  echo_node b;
  const node_id ia = w.add_node(a, addr(1), "a");
  const node_id ib = w.add_node(b, addr(2), "b");
  const link_id l = w.add_link(ia, ib, link_config{});
  w.set_round_limit(10'000);  // the default, 1,000,000, is slow under sanitizers
  scripted_node starter;
  const node_id is = w.add_node(starter, addr(3), "starter");
  w.add_link(is, ia, link_config{});
  // a answers the starter; b must bounce everything it gets back to a, forever.
  starter.send_now(make_packet(addr(2), addr(1), 0));
  w.run_until(at_ms(1000));
  EXPECT_EQ(w.livelocks(), 1U);
  EXPECT_EQ(w.now(), instant{0});  // time does not advance past unfinished work
  // One hop per round: the starter's packet, then alternately a to b and b to a.
  EXPECT_EQ(w.stats(l, true).delivered + w.stats(l, false).delivered, 10'000U - 2U);
}

TEST(World, NonStopTransmitterIsCutShortAsALivelock) {
  world w;
  firehose_node f;
  scripted_node sink;
  const node_id i_f = w.add_node(f, addr(1), "firehose");
  const node_id is = w.add_node(sink, addr(2), "sink");
  const link_id l = w.add_link(i_f, is, link_config{.loss = 1.0});
  w.set_round_limit(10'000);
  EXPECT_TRUE(w.step());  // returns, with work still pending at this instant
  EXPECT_EQ(w.livelocks(), 1U);
  EXPECT_EQ(w.now(), instant{0});
  EXPECT_EQ(w.stats(l, true).sent, 10'000U);
}

}  // namespace
}  // namespace synack::sim
