#!/usr/bin/env bash
# Latency over TUN, per TUN I/O mode, with the floors measured in the same run:
#   ping RTT      `ping` to `synack serve echo` against ping to tun_latency's reflector (a
#                 trivial program that reads an ICMP echo request from its TUN device and writes
#                 the reply back: the floor for any stack over TUN) and to the kernel over veth
#   1 in flight   tun_latency rr: one connection, 16-byte request/response, one at a time
#                 (like `ab -c 1`), to synack's echo against the kernel's echo over veth
#
#   bench/tun/latency.sh SYNACK_BIN TUN_LOAD_BIN TUN_LATENCY_BIN
#
# Namespaces as in run.sh (this script re-runs itself under `unshare -n`; a second namespace
# holds the veth peer and the kernel's echo server); nothing leaves them. Needs root.
# Environment: SYNACK_TUN_LAT_PINGS (default 200), SYNACK_TUN_LAT_RR (round trips, default
#              20000), SYNACK_TUN_LAT_REPS (default 3; medians are the best of the runs).
set -euo pipefail

SYNACK_BIN=$(realpath "${1:?usage: $0 SYNACK_BIN TUN_LOAD_BIN TUN_LATENCY_BIN}")
LOAD_BIN=$(realpath "${2:?usage: $0 SYNACK_BIN TUN_LOAD_BIN TUN_LATENCY_BIN}")
LAT_BIN=$(realpath "${3:?usage: $0 SYNACK_BIN TUN_LOAD_BIN TUN_LATENCY_BIN}")
PINGS=${SYNACK_TUN_LAT_PINGS:-200}
RR=${SYNACK_TUN_LAT_RR:-20000}
REPS=${SYNACK_TUN_LAT_REPS:-3}

if [ -z "${SYNACK_TUN_LAT_IN_NETNS:-}" ]; then
  for t in unshare nsenter ip ethtool ping timeout; do
    command -v "$t" >/dev/null || { echo "latency: $t not installed (scripts/setup.sh)" >&2; exit 1; }
  done
  unshare -n true 2>/dev/null || { echo "latency: cannot create a network namespace: run as root" >&2; exit 1; }
  SYNACK_TUN_LAT_IN_NETNS=1 exec unshare -n "$0" "$SYNACK_BIN" "$LOAD_BIN" "$LAT_BIN"
fi

SYN=10.77.0.2   # synack behind synack0
REF=10.79.0.2   # the reflector behind synackr
VA=10.78.0.1
VB=10.78.0.2
. "$(dirname "$0")/netns.sh"
bench_netns_init synack-lat
nsenter --net="/proc/$HOLD/ns/net" timeout -k 5 3600 "$LOAD_BIN" server 7 echo >/dev/null &
PIDS+=($!)

timeout -k 5 3600 "$LAT_BIN" reflect synackr 10.79.0.1/24 >"$WORK/reflect.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q reflecting "$WORK/reflect.out" && break; sleep 0.05; done

median_ping() {  # median_ping ADDR: median RTT in microseconds of $PINGS pings
  ping -c "$PINGS" -i 0.002 -W 1 "$1" 2>&1 | sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -g |
    awk '{v[NR] = $1} END {if (NR == 0) {print "nan"; exit} printf "%.1f\n", v[int((NR + 1) / 2)] * 1000}'
}
rr() {  # rr ADDR: "RATE MEDIAN_US"
  timeout -k 5 300 "$LAT_BIN" rr "$1" 7 "$RR" | awk '/rr_rate/ {r = $3} /rr_median/ {m = $3} END {print r, m}'
}

declare -A best
keep_min() { if [ -z "${best[$1]:-}" ] || awk -v a="$2" -v b="${best[$1]}" 'BEGIN {exit !(a < b)}'; then best[$1]=$2; fi; }
keep_max() { if [ -z "${best[$1]:-}" ] || awk -v a="$2" -v b="${best[$1]}" 'BEGIN {exit !(a > b)}'; then best[$1]=$2; fi; }

echo "== latency over TUN: $PINGS pings, $RR round trips, best of $REPS; Linux $(uname -r)"
echo "== $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
modes=(io_uring readwrite)
for rep in $(seq "$REPS"); do
  echo "-- run $rep of $REPS"
  v=$(median_ping "$REF"); echo "  reflector ping: $v us"; keep_min ping_reflect "$v"
  v=$(median_ping "$VB"); echo "  veth ping: $v us"; keep_min ping_veth "$v"
  read -r rate med < <(rr "$VB"); echo "  veth rr: $rate/s (median $med us)"; keep_max rr_veth "$rate"
  for mode in "${modes[@]}"; do
    if [ "$mode" = readwrite ]; then export SYNACK_TUN_IO=readwrite; else unset SYNACK_TUN_IO; fi
    timeout -k 5 3600 "$SYNACK_BIN" serve --tun synack0 --addr "$SYN/24" --no-ctl echo 2>"$WORK/serve.err" &
    sp=$!
    PIDS+=("$sp")
    for _ in $(seq 100); do grep -q "synack serve: .* on " "$WORK/serve.err" && break; sleep 0.05; done
    grep -q "($([ "$mode" = readwrite ] && echo read/write || echo io_uring)," "$WORK/serve.err" ||
      { echo "latency: serve is not in mode $mode: $(cat "$WORK/serve.err")" >&2; exit 1; }
    v=$(median_ping "$SYN"); echo "  synack $mode ping: $v us"; keep_min "ping_$mode" "$v"
    read -r rate med < <(rr "$SYN"); echo "  synack $mode rr: $rate/s (median $med us)"; keep_max "rr_$mode" "$rate"
    kill "$sp"; wait "$sp" 2>/dev/null || true
    while ip link show synack0 >/dev/null 2>&1; do sleep 0.05; done
  done
  unset SYNACK_TUN_IO
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
echo
echo "== Linux $(uname -r); best of $REPS"
{
  printf 'measurement\tmode\tsynack\tfloor / peer\tratio\ttarget\n'
  for mode in "${modes[@]}"; do
    printf 'ping RTT median (us)\t%s\t%s\treflector %s\t%s\t<= 1.5\n' "$mode" "${best[ping_$mode]}" "${best[ping_reflect]}" \
      "$(ratio "${best[ping_$mode]}" "${best[ping_reflect]}")"
    printf '1-in-flight req/s\t%s\t%s\tkernel over veth %s\t%s\t>= 0.5\n' "$mode" "${best[rr_$mode]}" "${best[rr_veth]}" \
      "$(ratio "${best[rr_$mode]}" "${best[rr_veth]}")"
  done
  printf 'ping RTT median (us)\tkernel over veth\t%s\t-\t-\t-\n' "${best[ping_veth]}"
} | column -t -s $'\t'
