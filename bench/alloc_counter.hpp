#pragma once
// A counting global allocator for the bench binary (alloc_counter.cpp replaces operator
// new/delete). Benchmarks read the count before and after their timed loop, after a warm-up,
// to report heap allocations per segment in steady state (DESIGN.md §1: none expected).
#include <cstddef>
#include <cstdint>

namespace synack::bench {

// Calls of any global operator new since the program started.
[[nodiscard]] std::uint64_t allocations();

// While armed, every operator new also calls alloc_trap(bytes) — a breakpoint target:
//   gdb -ex 'break synack::bench::alloc_trap' -ex run --args synack_bench --benchmark_filter=...
// Armed by the benchmarks after warm-up when SYNACK_BENCH_ALLOC_TRAP is set in the environment.
void arm_alloc_trap(bool on);
void alloc_trap(std::size_t bytes);

}  // namespace synack::bench
