#!/usr/bin/env bash
# Offloads over TUN (virtio-net header, TSO/GSO both ways): with `--offload on` (the default)
# a 64 MiB upload (socat -> `synack serve echo`, echoed back, SHA-256 equal) must move through
# super-packets both ways (synack stat: rx_super_packets and tx_super_packets > 0); with
# `--offload off` through none, received runs coalesced by synack instead (rx_coalesced_runs
# > 0, GRO-like). The same transfer is timed both ways in this run, and the
# ratio printed; it must not fall below 0.5 (offload may not make synack slower; the floor is
# loose because CI machines are shared — docs/performance.md has the measured numbers).
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need socat
head -c 67108864 /dev/urandom >"$WORK/in.bin"

# echo_run MODE: one echo of in.bin; prints milliseconds; checks the super-packet counters.
echo_run() {
  local mode=$1 t0 t1 stat rx tx runs=
  start_serve --offload "$mode" echo
  grep -q "offload $mode" "$WORK/serve.err" || fail "serve start line does not say offload $mode: $(cat "$WORK/serve.err")"
  t0=$(now_ms)
  timeout 60 socat -b 262144 -t 20 - "TCP:$SYN_ADDR:7" <"$WORK/in.bin" >"$WORK/out.bin" || fail "socat ($mode)"
  t1=$(now_ms)
  same_file "$WORK/in.bin" "$WORK/out.bin" "echo with offload $mode in $((t1 - t0)) ms" >&2
  stat=$(synack_stat)
  rx=$(sed -n 's/.*rx_super_packets \([0-9]*\).*/\1/p' <<<"$stat")
  tx=$(sed -n 's/.*tx_super_packets \([0-9]*\).*/\1/p' <<<"$stat")
  [ -n "$rx" ] && [ -n "$tx" ] || fail "synack stat shows no super-packet counters: $stat"
  if [ "$mode" = on ]; then
    [ "$rx" -gt 0 ] && [ "$tx" -gt 0 ] || fail "offload on but super-packets rx $rx tx $tx: $stat"
  else
    [ "$rx" -eq 0 ] && [ "$tx" -eq 0 ] || fail "offload off but super-packets rx $rx tx $tx"
    runs=$(sed -n 's/.*rx_coalesced_runs \([0-9]*\).*/\1/p' <<<"$stat")
    [ "${runs:-0}" -gt 0 ] || fail "offload off but no received run coalesced: $stat"
  fi
  echo "ok: offload $mode: super-packets rx $rx tx $tx${runs:+, coalesced runs $runs}" >&2
  stop_serve
  rm -f "$WORK/out.bin"
  echo $((t1 - t0))
}

best_on=999999
best_off=999999
for _ in 1 2; do
  t=$(echo_run on)
  [ "$t" -lt "$best_on" ] && best_on=$t
  t=$(echo_run off)
  [ "$t" -lt "$best_off" ] && best_off=$t
done
ratio=$(awk -v on="$best_on" -v off="$best_off" 'BEGIN {printf "%.2f", off / (on > 0 ? on : 1)}')
echo "ok: 64 MiB echo, best of 2: offload on $best_on ms, off $best_off ms: offload on is ${ratio}x the speed of off"
awk -v r="$ratio" 'BEGIN {exit !(r >= 0.5)}' || fail "offload on is ${ratio}x the speed of offload off (want >= 0.5)"
