// Bulk transfer from one synack host to another in memory: bytes per second of payload that
// the receiving application reads.
//
// One round, as an event loop would run it: the sender fills its send buffer, every packet
// goes to the receiver, the receiver reads everything it has, every ACK and window update goes
// back. No loss, so no retransmission happens; the retransmission timer is still armed and
// cancelled as data is sent and acknowledged.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "alloc_counter.hpp"
#include "host_pair.hpp"

namespace synack::bench {
namespace {

class bulk_driver {
 public:
  bulk_driver(link_shape shape, bool ipv6) : pair_(shape, ipv6), src_(256 * 1024), sink_(256 * 1024) {
    for (std::size_t i = 0; i < src_.size(); ++i) src_[i] = static_cast<std::byte>(i * 7);
    host_pair& p = pair_;
    auto l = p.server.listen(server_port, 16);
    if (!l) return;
    auto c = p.client.connect(p.now, p.server_ip, server_port);
    if (!c) return;
    p.pump();
    auto s = p.server.accept(*l);
    if (!s) return;
    while (p.client.poll_event()) {
    }
    while (p.server.poll_event()) {
    }
    sender_ = *c;
    receiver_ = *s;
    ok_ = true;
  }

  // One round; returns the payload bytes the receiver read.
  std::size_t round() {
    host_pair& p = pair_;
    for (;;) {
      auto n = p.client.send(sender_, src_);
      if (!n || *n == 0) break;
    }
    p.move(p.client, p.server);
    std::size_t got = 0;
    for (;;) {
      auto n = p.server.recv(receiver_, sink_);
      if (!n || *n == 0) break;
      got += *n;
    }
    p.move(p.server, p.client);
    // A round that moved nothing waits for a timer: at the start of a 64 KiB-segment transfer
    // the sender knows only the SYN-ACK's unscaled 65535-octet window, one segment, which the
    // receiver ACKs when its delayed-ACK timer (40 ms) fires. Steady state never gets here.
    p.now += got == 0 ? duration{std::chrono::milliseconds(50)} : duration{1};
    host_pair::run_timers(p.client, p.now);
    host_pair::run_timers(p.server, p.now);
    return got;
  }

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::uint64_t segments() const { return pair_.segments; }
  [[nodiscard]] std::uint64_t retransmissions() const { return pair_.client.counters().retrans_segs; }

 private:
  host_pair pair_;
  std::vector<std::byte> src_;
  std::vector<std::byte> sink_;
  conn_handle sender_{};
  conn_handle receiver_{};
  bool ok_ = false;
};

// Arg 0: MSS 1460 (Ethernet); arg 1: 64 KiB segments (MSS 65455, as over loopback).
void bulk(benchmark::State& state, bool ipv6) {
  bulk_driver d(state.range(0) == 0 ? ethernet : jumbo, ipv6);
  if (!d.ok()) {
    state.SkipWithError("handshake failed");
    return;
  }
  std::uint64_t warm = 0;
  for (int i = 0; i < 200; ++i) warm += d.round();
  if (warm == 0) {
    state.SkipWithError("no data moved during warm-up");
    return;
  }
  arm_alloc_trap(std::getenv("SYNACK_BENCH_ALLOC_TRAP") != nullptr);
  const std::uint64_t allocs0 = allocations();
  const std::uint64_t segs0 = d.segments();
  const std::uint64_t retrans0 = d.retransmissions();
  std::uint64_t total = 0;
  for (auto _ : state) total += d.round();
  const auto allocs = static_cast<double>(allocations() - allocs0);
  arm_alloc_trap(false);
  const auto segs = static_cast<double>(d.segments() - segs0);
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
  state.counters["segs/s"] = benchmark::Counter(segs, benchmark::Counter::kIsRate);
  state.counters["allocs/seg"] = benchmark::Counter(segs > 0 ? allocs / segs : 0);
  state.counters["retrans"] = benchmark::Counter(static_cast<double>(d.retransmissions() - retrans0));
  if (total == 0) state.SkipWithError("no data moved");
}

void bm_synack_bulk(benchmark::State& state) { bulk(state, false); }
// Over IPv6 on the Ethernet-sized link (MSS 1440: 60 octets of headers), in the same run.
void bm_synack_bulk_ipv6(benchmark::State& state) { bulk(state, true); }

BENCHMARK(bm_synack_bulk)->ArgName("jumbo")->Arg(0)->Arg(1);
BENCHMARK(bm_synack_bulk_ipv6)->ArgName("jumbo")->Arg(0);

}  // namespace
}  // namespace synack::bench
