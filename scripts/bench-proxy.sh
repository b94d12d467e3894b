#!/usr/bin/env bash
# Builds the `release` preset's `synack` and runs bench/proxy/proxy_bench.sh: `synack proxy`
# (--socks5 and --direct) against the kernel's path, iptables REDIRECT -> redsocks -> the same
# microsocks, in one run: RSS for idle proxied connections, single-stream download and upload,
# connections per second, with the synack / redsocks ratios (issue #15). Needs root (it makes
# its own network namespaces). About 2.5 minutes; docs/performance.md ("Proxy (issue #15)")
# explains it.
#
#   scripts/bench-proxy.sh        (also: scripts/bench.sh --proxy)
#   SYNACK_PROXY_BENCH_CONNS="1000 10000" scripts/bench-proxy.sh    both of the issue's sizes
# Environment: SYNACK_BIN (a synack binary to measure instead of building `release`), and the
#              SYNACK_PROXY_BENCH_* variables of bench/proxy/proxy_bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SYNACK_BIN:-}" ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target synack
  SYNACK_BIN=build/release/synack
fi
exec bench/proxy/proxy_bench.sh "$SYNACK_BIN"
