#!/usr/bin/env bash
# Builds the `release` preset's `synack` and `tun_load` and runs bench/tun/run.sh: kernel ->
# synack and synack -> kernel throughput over TUN and connections per second, each next to
# kernel <-> kernel over a veth pair (offloads off) in the same run. Needs root (it makes its
# own network namespaces). A few minutes; docs/performance.md ("Over TUN") explains it.
#
#   scripts/bench-tun.sh          (also: scripts/bench.sh --tun)
# Environment: SYNACK_TUN_BENCH_BYTES, _CONNS, _PARALLEL, _REPS (see bench/tun/run.sh);
#              SYNACK_TUN_IO=readwrite measures the TUN link through read()/write() (io_uring is the
#              default where the kernel has multishot read).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target synack tun_load
exec bench/tun/run.sh build/release/synack build/release/bench/tun_load
