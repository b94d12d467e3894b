#!/usr/bin/env bash
# Throughput and connections per second between the kernel's TCP and synack over TUN, next to
# kernel <-> kernel over a veth pair, measured in the same run with the same client (tun_load).
#
#   bench/tun/run.sh SYNACK_BIN TUN_LOAD_BIN
#
# Everything happens in network namespaces made here: this script re-runs itself under
# `unshare -n` (namespace A: the kernel client, synack's TUN device, one end of the veth pair);
# a second namespace B (`unshare -n sleep`, held by one process) has the other veth end and the
# kernel servers. Nothing leaves them; they vanish with their processes. Needs root.
#
# Rows (each the best of SYNACK_TUN_BENCH_REPS runs, default 3):
#   kernel -> synack   tun_load send BYTES to `synack serve --offload off discard` vs the kernel's
#                      discard over veth with offloads off
#   synack -> kernel   tun_load recv BYTES from `synack serve --offload off chargen` vs the kernel's
#                      chargen over veth with offloads off
#   ... offload on     the same two with `--offload on` (virtio-net header: TSO/GSO super-packets
#                      and checksum offload both ways) vs a second veth pair with the kernel's
#                      default offloads on (TSO, GSO, GRO, checksum): the fair comparison
#   synack connect     `head -c BYTES /dev/zero | synack connect` to a kernel discard
#                      vs `head -c BYTES /dev/zero | socat` over veth
#   conn/s             tun_load cps: COUNT short connections to `synack serve echo` vs the kernel's
#                      echo over veth (connect, 16-byte request, echo, client half-closes first)
# The first veth pair has every offload off (TSO, GSO, GRO, checksum, scatter-gather), so the
# kernel moves MTU-sized packets and checksums in software, as synack with --offload off does;
# the second keeps the defaults (offloads on). MTU 1500 on every link.
#
# Environment: SYNACK_TUN_BENCH_BYTES (default 1 GiB), SYNACK_TUN_BENCH_CONNS (default 30000),
#              SYNACK_TUN_BENCH_PARALLEL (connections in flight, default 64),
#              SYNACK_TUN_BENCH_REPS (default 3).
set -euo pipefail

SYNACK_BIN=$(realpath "${1:?usage: $0 SYNACK_BIN TUN_LOAD_BIN}")
LOAD_BIN=$(realpath "${2:?usage: $0 SYNACK_BIN TUN_LOAD_BIN}")
BYTES=${SYNACK_TUN_BENCH_BYTES:-1073741824}
CONNS=${SYNACK_TUN_BENCH_CONNS:-30000}
PARALLEL=${SYNACK_TUN_BENCH_PARALLEL:-64}
REPS=${SYNACK_TUN_BENCH_REPS:-3}

if [ -z "${SYNACK_TUN_BENCH_IN_NETNS:-}" ]; then
  for t in unshare nsenter ip ethtool socat timeout; do
    command -v "$t" >/dev/null || { echo "bench-tun: $t not installed (scripts/setup.sh)" >&2; exit 1; }
  done
  [ -c /dev/net/tun ] || { echo "bench-tun: no /dev/net/tun" >&2; exit 1; }
  unshare -n true 2>/dev/null || { echo "bench-tun: cannot create a network namespace: run as root" >&2; exit 1; }
  SYNACK_TUN_BENCH_IN_NETNS=1 exec unshare -n "$0" "$SYNACK_BIN" "$LOAD_BIN"
fi

SYN=10.77.0.2      # synack, behind the TUN device synack0 in A
VA=10.78.0.1       # veth end in A (the client's side), offloads off
VB=10.78.0.2       # veth end in B (the kernel servers), offloads off
OA=10.79.0.1       # second veth pair, offloads on: A's end
OB=10.79.0.2       # and B's
. "$(dirname "$0")/netns.sh"
bench_netns_init synack-bench-tun
# Room for the client's TIME-WAITs: each run uses its own source address and up to 64k ports.
sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
offloads=(tso off gso off gro off tx off rx off sg off)
ethtool -K vb0 "${offloads[@]}" >/dev/null 2>&1
inb ethtool -K vb1 "${offloads[@]}" >/dev/null 2>&1
ip link add vo0 type veth peer name vo1 netns "$HOLD"
ip addr add "$OA/24" dev vo0
ip link set vo0 up
inb ip addr add "$OB/24" dev vo1
inb ip link set vo1 up

# Kernel servers in B, single-threaded like synack.
for svc in discard:9 chargen:19 echo:7; do
  # nsenter execs (no fork), so $! is the server's `timeout` and the cleanup reaches it.
  nsenter --net="/proc/$HOLD/ns/net" timeout -k 5 3600 "$LOAD_BIN" server "${svc#*:}" "${svc%%:*}" >/dev/null &
  PIDS+=($!)
done

# `synack serve SERVICE` on synack0 for one measurement; the TUN device goes with the process.
SERVE_PID=
serve() {  # serve SERVICE [ON|OFF]: offload off unless said
  timeout -k 5 3600 "$SYNACK_BIN" serve --tun synack0 --addr "$SYN/24" --no-ctl --backlog 4096 \
    --offload "${2:-off}" "$1" 2>"$WORK/serve.err" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  for _ in $(seq 100); do
    grep -q "synack serve: .* on " "$WORK/serve.err" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench-tun: synack serve $1 did not start: $(cat "$WORK/serve.err")" >&2
  exit 1
}
unserve() {
  kill "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  sleep 0.2  # the device is gone before the next one is made
}

# One source address per connection-rate run (the last run's TIME-WAITs keep their ports).
add_src() {  # add_src DEV ADDR
  ip addr add "$2/24" dev "$1"
  echo "$2"
}

result() { awk '/^RESULT/ {print $3}' "$1"; }

run_load() {  # run_load ARGS...: tun_load bounded in time; prints its result
  timeout -k 5 300 "$LOAD_BIN" "$@" >"$WORK/load.out" 2>"$WORK/load.err" || {
    echo "bench-tun: tun_load $* failed: $(cat "$WORK/load.err")" >&2
    return 1
  }
  result "$WORK/load.out"
}

declare -A best
keep() {  # keep KEY VALUE: the best of the runs
  local k=$1 v=$2
  [ -n "$v" ] || exit 1
  echo "  $k: $v"
  if [ -z "${best[$k]:-}" ] || awk -v a="$v" -v b="${best[$k]}" 'BEGIN {exit !(a > b)}'; then best[$k]=$v; fi
}

pipe_gbps() {  # pipe_gbps CMD...: Gbit/s of `head -c BYTES /dev/zero | CMD`
  local t0 t1
  t0=$(date +%s%N)
  head -c "$BYTES" /dev/zero | timeout -k 5 300 "$@" >/dev/null 2>"$WORK/pipe.err" || {
    echo "bench-tun: $* failed: $(cat "$WORK/pipe.err")" >&2
    return 1
  }
  t1=$(date +%s%N)
  awk -v b="$BYTES" -v ns=$((t1 - t0)) 'BEGIN {printf "%.3f\n", b * 8 / ns}'
}

echo "== bench-tun: $BYTES bytes per transfer, $CONNS connections per rate run ($PARALLEL in flight), best of $REPS"
echo "== $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== Linux $(uname -r); TUN I/O: ${SYNACK_TUN_IO:-default (io_uring where the kernel has it)}"
for rep in $(seq "$REPS"); do
  echo "-- run $rep of $REPS (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  serve discard
  keep tun_k2s "$(run_load send "$SYN" 9 "$BYTES")"
  unserve
  keep veth_k2s "$(run_load send "$VB" 9 "$BYTES")"

  serve chargen
  keep tun_s2k "$(run_load recv "$SYN" 19 "$BYTES")"
  unserve
  keep veth_s2k "$(run_load recv "$VB" 19 "$BYTES")"

  serve discard on
  grep -q "offload on" "$WORK/serve.err" || echo "bench-tun: offload refused: $(cat "$WORK/serve.err")" >&2
  keep tun_k2s_on "$(run_load send "$SYN" 9 "$BYTES")"
  unserve
  keep veth_k2s_on "$(run_load send "$OB" 9 "$BYTES")"

  serve chargen on
  keep tun_s2k_on "$(run_load recv "$SYN" 19 "$BYTES")"
  unserve
  keep veth_s2k_on "$(run_load recv "$OB" 19 "$BYTES")"

  # synack connect on its own TUN (kernel side .1) to a kernel discard server in A.
  # Below the ephemeral range (the connection-rate client's TIME-WAITs hold ports above 1024),
  # and a fresh one per run.
  port=$((900 + rep))
  timeout -k 5 600 "$LOAD_BIN" server "$port" discard >/dev/null &
  KSRV=$!
  PIDS+=("$KSRV")
  sleep 0.2
  keep tun_connect "$(pipe_gbps "$SYNACK_BIN" connect --tun synack0 --addr "$SYN/24" --no-ctl --offload off 10.77.0.1 "$port")"
  kill "$KSRV"
  wait "$KSRV" 2>/dev/null || true
  sleep 0.2
  keep veth_connect "$(pipe_gbps socat -u -b 262144 - "TCP:$VB:9")"

  serve echo
  src=$(add_src synack0 "10.77.0.$((10 + rep))")
  keep tun_cps "$(run_load cps "$SYN" 7 "$CONNS" "$PARALLEL" "$src")"
  unserve
  src=$(add_src vb0 "10.78.0.$((10 + rep))")
  keep veth_cps "$(run_load cps "$VB" 7 "$CONNS" "$PARALLEL" "$src")"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
echo
echo "== best of $REPS; ratio = synack / kernel; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
{
  printf 'measurement\tsynack over TUN\tkernel over veth\tratio\n'
  printf 'kernel -> synack (Gbit/s)\t%s\t%s\t%s\n' "${best[tun_k2s]}" "${best[veth_k2s]}" "$(ratio "${best[tun_k2s]}" "${best[veth_k2s]}")"
  printf 'synack -> kernel (Gbit/s)\t%s\t%s\t%s\n' "${best[tun_s2k]}" "${best[veth_s2k]}" "$(ratio "${best[tun_s2k]}" "${best[veth_s2k]}")"
  printf 'kernel -> synack, offload on / veth offloads on (Gbit/s)\t%s\t%s\t%s\n' "${best[tun_k2s_on]}" \
    "${best[veth_k2s_on]}" "$(ratio "${best[tun_k2s_on]}" "${best[veth_k2s_on]}")"
  printf 'synack -> kernel, offload on / veth offloads on (Gbit/s)\t%s\t%s\t%s\n' "${best[tun_s2k_on]}" \
    "${best[veth_s2k_on]}" "$(ratio "${best[tun_s2k_on]}" "${best[veth_s2k_on]}")"
  printf 'synack connect | socat -> kernel (Gbit/s)\t%s\t%s\t%s\n' "${best[tun_connect]}" "${best[veth_connect]}" \
    "$(ratio "${best[tun_connect]}" "${best[veth_connect]}")"
  printf 'connections/s (kernel client)\t%s\t%s\t%s\n' "${best[tun_cps]}" "${best[veth_cps]}" "$(ratio "${best[tun_cps]}" "${best[veth_cps]}")"
} | column -t -s $'\t'
