// SYN-flood absorption: spoofed SYNs per second that one core answers with SYN cookies
// (RFC 4987 §3.6) — host::on_packet of the SYN, then host::poll_transmit of the cookie
// SYN-ACK. Issue #5's target: at least 2,000,000 per second per core.
//
// The listener's SYN queue (256) is already full of half-open entries from spoofed sources
// that never answer, as in a real flood, so every SYN takes the cookie path of the default
// mode (on overflow). The SYNs come from a pool of 65,536 packets with random sources, ports
// and sequence numbers (and an MSS option), built before timing; each carries a valid TCP
// checksum that the host verifies. Virtual time advances 1 µs per SYN, so the half-open
// entries' SYN-ACK retransmissions (and their expiry) are part of the run, as in a real flood.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "alloc_counter.hpp"
#include "host_pair.hpp"
#include "synack/util/rng.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::bench {
namespace {

constexpr std::size_t pool_size = 65536;

std::vector<std::vector<std::byte>> spoofed_syns(std::uint64_t seed) {
  rng r(seed);
  std::vector<std::vector<std::byte>> pool;
  pool.reserve(pool_size);
  tcp_repr syn;
  syn.dst_port = server_port;
  syn.flags = tcp_flag::syn;
  syn.window = 29200;
  syn.options.mss = 1460;
  for (std::size_t i = 0; i < pool_size; ++i) {
    ipv4_addr src{};
    do {
      src = ipv4_addr{r.next_u32()};
    } while ((src.value >> 24) == 0 || (src.value >> 24) == 10 || (src.value >> 24) >= 224);
    syn.src_port = static_cast<std::uint16_t>(1024 + r.below(64511));
    syn.seq = seq_num{r.next_u32()};
    std::vector<std::byte> p(ipv4_repr::buffer_len() + syn.buffer_len());
    (void)emit_tcp_datagram(p, ipv4_repr{.src = src, .dst = server_addr}, syn);
    pool.push_back(std::move(p));
  }
  return pool;
}

void bm_synack_syn_flood(benchmark::State& state) {
  host_config cfg = bench_config(server_addr);
  cfg.syncookies = state.range(0) == 0 ? syncookies_mode::on_overflow : syncookies_mode::always;
  host server(cfg);
  if (!server.listen(server_port, 1024)) {
    state.SkipWithError("listen failed");
    return;
  }
  const auto pool = spoofed_syns(1);
  alignas(8) std::array<std::byte, 2048> out{};
  instant now = instant::zero();
  std::uint64_t answered = 0;
  std::size_t next = 0;
  auto one = [&] {
    if (const auto d = server.next_deadline(); d && *d <= now) server.on_timeout(now);
    server.on_packet(now, pool[next]);
    next = (next + 1) % pool.size();
    while (auto n = server.poll_transmit(now, out)) {
      benchmark::DoNotOptimize(out.data());
      ++answered;
    }
    now += duration{1};
  };
  // Warm-up: fill the SYN queue with spoofed half-open entries, grow every queue.
  for (std::size_t i = 0; i < 4 * cfg.syn_backlog + 10000; ++i) one();
  const std::uint64_t cookies0 = server.counters().syncookies_sent;
  const std::uint64_t answered0 = answered;
  arm_alloc_trap(std::getenv("SYNACK_BENCH_ALLOC_TRAP") != nullptr);
  const std::uint64_t allocs0 = allocations();
  std::uint64_t syns = 0;
  for (auto _ : state) {
    one();
    ++syns;
  }
  const auto allocs = static_cast<double>(allocations() - allocs0);
  arm_alloc_trap(false);
  const auto n = static_cast<double>(syns);
  state.counters["syns/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["cookies/syn"] =
      benchmark::Counter(n > 0 ? static_cast<double>(server.counters().syncookies_sent - cookies0) / n : 0);
  state.counters["out/syn"] = benchmark::Counter(n > 0 ? static_cast<double>(answered - answered0) / n : 0);
  state.counters["allocs/syn"] = benchmark::Counter(n > 0 ? allocs / n : 0);
  if (server.connection_count() > cfg.syn_backlog) state.SkipWithError("SYN flood made TCBs beyond the SYN queue");
}

// 0: the default mode (cookies once the SYN queue is full); 1: cookies for every SYN.
BENCHMARK(bm_synack_syn_flood)->ArgName("always")->Arg(0)->Arg(1);

}  // namespace
}  // namespace synack::bench
