// Full open-and-close cycles per second between two synack hosts in memory.
//
// One cycle: the client connects (SYN, SYN-ACK, ACK), the server accepts, the client closes
// (FIN, ACK), the server sees end-of-stream and closes (FIN, ACK). The client is left in
// TIME-WAIT, as a compact record. Every `sweep` cycles virtual time jumps past 2 x MSL and
// the records expire, so at most `sweep` of them exist and the ephemeral ports never run out
// (sweep < 28,232 ports of the default range). The sweep's cost is part of the measurement.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "alloc_counter.hpp"
#include "host_pair.hpp"

namespace synack::bench {
namespace {

class open_close_driver {
 public:
  open_close_driver(std::size_t sweep, bool ipv6) : pair_(ethernet, ipv6), sweep_(sweep) {
    auto l = pair_.server.listen(server_port, 1024);
    if (l) listener_ = *l;
    ok_ = l.has_value();
  }

  // One cycle; false if anything went other than planned.
  bool cycle() {
    host_pair& p = pair_;
    auto c = p.client.connect(p.now, p.server_ip, server_port);
    if (!c) return false;
    p.pump();
    conn_handle s{};
    bool accepted = false;
    while (auto e = p.server.poll_event()) {
      if (e->what == host_event::kind::accept_ready) {
        auto a = p.server.accept(listener_);
        if (!a) return false;
        s = *a;
        accepted = true;
      }
    }
    while (p.client.poll_event()) {
    }
    if (!accepted) return false;
    if (!p.client.close(p.now, *c)) return false;
    p.pump();
    bool peer_closed = false;
    while (auto e = p.server.poll_event()) {
      peer_closed = peer_closed || (e->what == host_event::kind::connection && e->ev.kind == tcp_event_kind::peer_closed);
    }
    if (!peer_closed) return false;
    if (!p.server.close(p.now, s)) return false;
    p.pump();
    while (p.client.poll_event()) {
    }
    while (p.server.poll_event()) {
    }
    p.now += duration{1};
    if (++cycles_ % sweep_ == 0) {
      p.now += 2 * p.client.config().tcp.msl + duration{1};
      p.pump();
    }
    return true;
  }

  // Every connection gone, at most `sweep` TIME-WAIT records, all on the client.
  [[nodiscard]] bool clean() const {
    return ok_ && pair_.client.connection_count() == 0 && pair_.server.connection_count() == 0 &&
           pair_.server.time_wait_count() == 0 && pair_.client.time_wait_count() <= sweep_;
  }
  [[nodiscard]] std::uint64_t segments() const { return pair_.segments; }

 private:
  host_pair pair_;
  listener_handle listener_{};
  std::size_t sweep_;
  std::uint64_t cycles_ = 0;
  bool ok_ = false;
};

void open_close(benchmark::State& state, bool ipv6) {
  const auto sweep = static_cast<std::size_t>(state.range(0));
  open_close_driver d(sweep, ipv6);
  // Warm-up: fill every table, heap and free list to its steady size (three sweeps).
  for (std::size_t i = 0; i < 3 * sweep + 1000; ++i) {
    if (!d.cycle()) {
      state.SkipWithError("warm-up cycle failed");
      return;
    }
  }
  if (!d.clean()) {
    state.SkipWithError("hosts not clean after warm-up");
    return;
  }
  arm_alloc_trap(std::getenv("SYNACK_BENCH_ALLOC_TRAP") != nullptr);
  const std::uint64_t allocs0 = allocations();
  const std::uint64_t segs0 = d.segments();
  std::uint64_t cycles = 0;
  for (auto _ : state) {
    if (!d.cycle()) {
      state.SkipWithError("cycle failed");
      break;
    }
    ++cycles;
  }
  const auto allocs = static_cast<double>(allocations() - allocs0);
  arm_alloc_trap(false);
  const auto segs = static_cast<double>(d.segments() - segs0);
  const auto n = static_cast<double>(cycles);
  state.counters["cycles/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["segs/cycle"] = benchmark::Counter(n > 0 ? segs / n : 0);
  state.counters["allocs/cycle"] = benchmark::Counter(n > 0 ? allocs / n : 0);
  state.counters["allocs/seg"] = benchmark::Counter(segs > 0 ? allocs / segs : 0);
  if (!d.clean()) state.SkipWithError("hosts not clean after the run");
}

void bm_synack_open_close(benchmark::State& state) { open_close(state, false); }
// The same over IPv6, in the same run (issue #14: within 10% of IPv4).
void bm_synack_open_close_ipv6(benchmark::State& state) { open_close(state, true); }

// The argument is the TIME-WAIT sweep period in cycles (records held at most).
BENCHMARK(bm_synack_open_close)->ArgName("tw")->Arg(16)->Arg(4096);
BENCHMARK(bm_synack_open_close_ipv6)->ArgName("tw")->Arg(16);

}  // namespace
}  // namespace synack::bench
