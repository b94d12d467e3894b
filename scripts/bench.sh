#!/usr/bin/env bash
# Builds the `release` preset (g++ -O3, tests off) and runs synack_bench: open-close cycles and
# bulk transfer for synack and, when liblwip-dev is installed, for lwIP in the same run; and the
# SYN-flood absorption rate (SYNs answered with cookies per second, synack only); then the
# memory per idle connection (bench/memory/idle_rss: 1,000 and 10,000 connections) and under
# buffer attacks (bench/memory/attack_rss: out-of-order segments, zero-window holders); and loss
# recovery features off and on over 40 seeded impaired transfers (bench/recovery/recovery_seeds),
# and issue #12's loss x reordering x RTT x bottleneck matrix (bench/recovery/recovery_matrix).
# About two minutes. Prints Google Benchmark's table (mean, median, stddev, cv of 3 repetitions),
# then a summary of medians with the synack/lwIP ratios. docs/performance.md explains it all.
#
#   scripts/bench.sh [--json FILE] [synack_bench options ...]
#   scripts/bench.sh --tun        the TUN benchmarks instead (scripts/bench-tun.sh; needs root)
#   scripts/bench.sh --proxy      `synack proxy` against redsocks instead (scripts/bench-proxy.sh; root)
#
# --json FILE  where to write Google Benchmark's JSON (default build/release/bench.json)
# Environment: SYNACK_BENCH_MIN_TIME (seconds per repetition, default 2),
#              SYNACK_BENCH_REPETITIONS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--tun" ]; then
  shift
  exec scripts/bench-tun.sh "$@"
fi
if [ "${1:-}" = "--proxy" ]; then
  shift
  exec scripts/bench-proxy.sh "$@"
fi
json=build/release/bench.json
if [ "${1:-}" = "--json" ]; then
  json=$2
  shift 2
fi
min_time=${SYNACK_BENCH_MIN_TIME:-2}
reps=${SYNACK_BENCH_REPETITIONS:-3}

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target synack_bench idle_rss attack_rss recovery_seeds recovery_matrix

echo "== $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(g++ --version | head -1)"
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine adds noise)"
build/release/bench/synack_bench \
  --benchmark_min_time="$min_time" \
  --benchmark_repetitions="$reps" \
  --benchmark_display_aggregates_only=true \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="$json" --benchmark_out_format=json \
  "$@"
echo "== JSON: $json"
echo
echo "== memory per idle connection end (kernel $(uname -r); targets: <= 2 KiB idle, <= 16 KiB after 1 byte)"
# Each count in a process of its own: in one process the second reuses heap the first freed.
build/release/bench/idle_rss 1000
build/release/bench/idle_rss 10000 | tail -1
echo
echo "== memory under buffer attacks (issue #13 cases 4 and 5; kernel $(uname -r))"
build/release/bench/attack_rss ooo 200 zero 500
echo
echo "== loss recovery over seeds (virtual time: the same on every machine)"
for f in tlp prr undo prr+undo rack rack+prr; do build/release/bench/recovery_seeds 40 "$f"; done
echo "== the recovery matrix: goodput against the response functions, spurious retransmissions (virtual time)"
build/release/bench/recovery_matrix

if ! command -v jq >/dev/null 2>&1; then
  echo "== (install jq for the summary of medians and synack/lwIP ratios)"
  exit 0
fi
echo
echo "== medians of $reps repetitions; ratio = synack / lwIP"
jq -r '
  [.benchmarks[] | select(.aggregate_name == "median")] as $agg
  | (if ($agg | length) > 0 then $agg else [.benchmarks[] | select(.run_type == "iteration")] end) as $m
  | def med($name; $key): ($m[] | select(.run_name == $name) | .[$key]) // null;
    def fmt($v): if $v == null then "-" elif $v >= 1e9 then "\($v / 1e9 * 100 | round / 100) G"
                 elif $v >= 1e6 then "\($v / 1e6 * 100 | round / 100) M"
                 elif $v >= 1e3 then "\($v / 1e3 * 10 | round / 10) k"
                 elif $v > 0 and $v < 0.01 then "\($v)" else "\($v * 1000 | round / 1000)" end;
    def row($title; $s; $l; $key):
      med($s; $key) as $a | med($l; $key) as $b
      | "\($title)\t\(fmt($a))\t\(fmt($b))\t\(if $a != null and $b != null and $b != 0
                                             then "\($a / $b * 100 | round / 100)" else "-" end)";
  "benchmark\tsynack\tlwIP\tratio",
  row("open-close cycles/s, <=16 TIME-WAIT"; "bm_synack_open_close/tw:16"; "bm_lwip_open_close/tw:16"; "cycles/s"),
  row("open-close cycles/s, <=4096 TIME-WAIT"; "bm_synack_open_close/tw:4096"; "bm_lwip_open_close/tw:4096"; "cycles/s"),
  row("bulk bytes/s, MSS 1460"; "bm_synack_bulk/jumbo:0"; "bm_lwip_bulk"; "bytes/s"),
  row("bulk segments/s, MSS 1460"; "bm_synack_bulk/jumbo:0"; "bm_lwip_bulk"; "segs/s"),
  row("bulk bytes/s, 64 KiB segments"; "bm_synack_bulk/jumbo:1"; "none"; "bytes/s"),
  row("open-close allocations/segment"; "bm_synack_open_close/tw:16"; "none"; "allocs/seg"),
  row("open-close allocations/cycle"; "bm_synack_open_close/tw:16"; "none"; "allocs/cycle"),
  row("bulk allocations/segment, MSS 1460"; "bm_synack_bulk/jumbo:0"; "none"; "allocs/seg"),
  row("bulk allocations/segment, 64 KiB"; "bm_synack_bulk/jumbo:1"; "none"; "allocs/seg"),
  row("IPv6 open-close cycles/s (ratio: IPv6 / IPv4)"; "bm_synack_open_close_ipv6/tw:16"; "bm_synack_open_close/tw:16"; "cycles/s"),
  row("IPv6 bulk bytes/s, MSS 1440 (ratio: IPv6 / IPv4)"; "bm_synack_bulk_ipv6/jumbo:0"; "bm_synack_bulk/jumbo:0"; "bytes/s"),
  row("IPv6 bulk segments/s (ratio: IPv6 / IPv4)"; "bm_synack_bulk_ipv6/jumbo:0"; "bm_synack_bulk/jumbo:0"; "segs/s"),
  row("SYN flood: SYNs/s answered with cookies"; "bm_synack_syn_flood/always:0"; "none"; "syns/s"),
  row("SYN flood allocations/SYN"; "bm_synack_syn_flood/always:0"; "none"; "allocs/syn")
' "$json" | column -t -s $'\t'
