#!/usr/bin/env bash
# How long `synack proxy` takes to start: from exec to its start line ("synack proxy: ... via
# ..."), the line tests and bench/proxy/proxy_bench.sh wait for before they route into its TUN
# device.
#
#   bench/proxy/proxy_start.sh SYNACK_BIN [COUNT]      (root; default COUNT 20)
#
# Runs in a network namespace of its own (`unshare -n`: the TUN device and its addresses live
# and die there, nothing is sent); each start is `synack proxy --direct`, killed once its line
# is there. Prints each time in milliseconds, the median and the largest, `uname -r` and the
# load average.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 SYNACK_BIN [COUNT]" >&2; exit 2; }
bin=$(realpath "$1")
count=${2:-20}
if [ -z "${SYNACK_PROXY_START_IN_NETNS:-}" ]; then
  [ "$(id -u)" -eq 0 ] || { echo "SKIPPED: needs root (a TUN device in a namespace of its own)" >&2; exit 0; }
  exec env SYNACK_PROXY_START_IN_NETNS=1 unshare -n "$0" "$bin" "$count"
fi
ip link set lo up
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
times=()
for _ in $(seq "$count"); do
  t0=$(date +%s%3N)
  "$bin" proxy --tun synack0 --addr 10.77.0.2/24 --direct --ctl "$work/ctl.sock" 2>"$work/err" &
  pid=$!
  for _ in $(seq 3000); do
    grep -q "synack proxy: .* via" "$work/err" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "synack proxy exited: $(cat "$work/err")" >&2; exit 1; }
    sleep 0.01
  done
  grep -q "synack proxy: .* via" "$work/err" || { echo "no start line in 30 s: $(cat "$work/err")" >&2; exit 1; }
  times+=($(($(date +%s%3N) - t0)))
  kill "$pid"
  wait "$pid" 2>/dev/null || true
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "starts (ms): ${times[*]}"
echo "median $(echo "$sorted" | sed -n "$(((count + 1) / 2))p") ms, largest $(echo "$sorted" | tail -1) ms; kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
