#!/usr/bin/env bash
# Builds the `release` preset's `synack` and `tun_load` and runs bench/tun/run.sh: kernel ->
# synack and synack -> kernel throughput over TUN and connections per second, each next to
# kernel <-> kernel over a veth pair (offloads off) in the same run; then bench/tun/latency.sh
# (ping RTT and 1-in-flight request/response per TUN I/O mode, with their floors). Needs root (it makes its
# own network namespaces). A few minutes; docs/performance.md ("Over TUN") explains it.
#
#   scripts/bench-tun.sh          (also: scripts/bench.sh --tun)
# Environment: SYNACK_TUN_BENCH_BYTES, _CONNS, _PARALLEL, _REPS (see bench/tun/run.sh);
#              SYNACK_TUN_IO=readwrite measures the TUN link through read()/write() (io_uring is the
#              default where the kernel has multishot read).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target synack tun_load tun_latency
bench/tun/run.sh build/release/synack build/release/bench/tun_load
# Latency per TUN I/O mode: ping against a trivial TUN reflector, 1-in-flight request/response
# against the kernel over veth (bench/tun/latency.sh).
exec bench/tun/latency.sh build/release/synack build/release/bench/tun_load build/release/bench/tun_latency
