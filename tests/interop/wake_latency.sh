#!/usr/bin/env bash
# The check that would have caught the lost wake-ups of the io_uring path: in one run, the
# default TUN I/O mode's median round-trip time against read()/write()'s (SYNACK_TUN_IO=readwrite),
# for ICMP echo (ping) and for a 16-byte TCP request/response on one connection (rr.py, one
# request in flight). A mode that waits for an unrelated timer shows 10-20 ms against 0.1-0.3 ms.
# Fails if the default is more than 2x worse than readwrite; 0.2 ms is allowed on top of the
# ratio for scheduling noise at these sub-millisecond times. Prints every figure.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need ping python3 awk sort
N_PING=40
N_RR=400

median_ping_us() {  # ping N times, median RTT in microseconds
  ping -c "$N_PING" -i 0.01 -W 1 "$SYN_ADDR" >"$WORK/ping.out" 2>&1 || fail "ping: $(tail -2 "$WORK/ping.out")"
  sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$WORK/ping.out" | sort -g |
    awk '{v[NR] = $1} END {if (NR == 0) exit 1; m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m * 1000}'
}

declare -A med
for mode in default readwrite; do
  if [ "$mode" = readwrite ]; then export SYNACK_TUN_IO=readwrite; else unset SYNACK_TUN_IO; fi
  start_serve echo
  grep -o "via $TUN ([^,]*" "$WORK/serve.err" | sed "s/^/$mode: /"
  med[ping_$mode]=$(median_ping_us)
  out=$(timeout 60 python3 "$(dirname "$0")/rr.py" "$SYN_ADDR" 7 "$N_RR") || fail "rr.py ($mode) failed"
  med[rr_$mode]=$(echo "$out" | awk '{print $2}')
  echo "$mode: ping median ${med[ping_$mode]} us; request/response median ${med[rr_$mode]} us, $(echo "$out" | awk '{print $4}')/s"
  stop_serve
done
unset SYNACK_TUN_IO

check() {  # check WHAT DEFAULT READWRITE
  local ratio
  ratio=$(awk -v a="$2" -v b="$3" 'BEGIN {printf "%.2f", a / b}')
  if awk -v a="$2" -v b="$3" 'BEGIN {exit !(a > 2 * b + 200)}'; then
    fail "$1: the default mode's median is $2 us against readwrite's $3 us (${ratio}x; more than 2x + 0.2 ms): lost wake-ups?"
  fi
  echo "ok: $1 default/readwrite = ${ratio}x ($2 / $3 us)"
}
check "ping" "${med[ping_default]}" "${med[ping_readwrite]}"
check "request/response" "${med[rr_default]}" "${med[rr_readwrite]}"
