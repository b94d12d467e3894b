#!/usr/bin/env bash
# Retransmissions under reordering alone, synack against the Linux kernel as the yardstick
# (issue #12: "spurious retransmissions at 25 % reordering: 0 after the reordering window
# adapts"). One TUN device, the kernel's TCP on one side and `synack connect` on the other:
#
#   RTT      synack's fault injector (--delay): half the round trip added to every packet each
#            way (the kernels this runs on may have no netem: this one has none)
#   reorder  the same injector (--reorder/--reorder-delay): each packet, both directions, held
#            back with probability P by D ms more; no loss, no duplication
#
# Each transfer is N MiB, byte-exact, once with synack sending (`synack connect` up to a kernel
# socat) and once with the kernel sending (down from one), with the same congestion control on
# both sides (the kernel's through TCP_CONGESTION). Nothing is lost on this link, so every
# retransmission is spurious; the script checks that nothing was dropped (the TUN device's
# queue, synack's writes) and says so where something was. Per transfer it prints the
# time, goodput and retransmitted segments per MB of each sender: synack's from its summary
# (`-v`), the kernel's from the namespace's TcpRetransSegs (nstat), beside the D-SACKs the
# kernel received (TcpExtTCPDSACKRecv) or sent (TcpExtTCPDSACKOldSent + OfoSent), and what the
# receiver dropped (synack: the reasons of its summary; the kernel: TcpExtTCPOFODrop,
# TcpExtTCPRcvQDrop, TcpExtPAWSEstab), which makes some retransmissions needed after all.
#
#   bench/recovery/reorder_kernel.sh SYNACK_BIN
#
# Environment: SYNACK_REO_MIB (default 16), SYNACK_REO_RTTS (ms, default "1 20 100"),
# SYNACK_REO_CCS (default "cubic bbr"), SYNACK_REO_REORDER ("P:D", default "0.25:30"; "0:0" is
# the control: no reordering), SYNACK_REO_REPS (default 3; rounds, each every cell once),
# SYNACK_REO_OPTS (more options for synack, e.g. "--pacing off"), SYNACK_REO_DIRS (default
# "up down": synack sends, the kernel sends), SYNACK_REO_KERNEL_RCVBUF (SO_RCVBUF of the kernel's
# receiving socket, default 262144: the kernel doubles it, and offers about half its buffer as
# window, so its window is about synack's 256 KiB receive buffer; autotuned, its window stays
# near 64 KiB when every fourth segment leaves a hole for 30 ms, and the receiver, not the
# sender, sets the pace; 0 leaves it autotuned).
# Runs in a network namespace of its own (`unshare -n`); nothing leaves it. Needs root.
set -euo pipefail

SYNACK_BIN=$(realpath "${1:?usage: $0 SYNACK_BIN}")
MIB=${SYNACK_REO_MIB:-16}
RTTS=${SYNACK_REO_RTTS:-1 20 100}
CCS=${SYNACK_REO_CCS:-cubic bbr}
REORDER=${SYNACK_REO_REORDER:-0.25:30}
REPS=${SYNACK_REO_REPS:-3}
DIRS=${SYNACK_REO_DIRS:-up down}
RCVBUF=${SYNACK_REO_KERNEL_RCVBUF:-262144}
KRCV=""
[ "$RCVBUF" -gt 0 ] && KRCV=",rcvbuf=$RCVBUF"
# shellcheck disable=SC2206  # split on purpose
OPTS=(${SYNACK_REO_OPTS:-})
P=${REORDER%%:*}
D=${REORDER##*:}

if [ -z "${SYNACK_REO_IN_NETNS:-}" ]; then
  for t in unshare ip nstat socat ss timeout sha256sum; do
    command -v "$t" >/dev/null || { echo "reorder_kernel: $t not installed (scripts/setup.sh)" >&2; exit 1; }
  done
  unshare -n true 2>/dev/null || { echo "reorder_kernel: cannot create a network namespace: run as root" >&2; exit 1; }
  SYNACK_REO_IN_NETNS=1 exec unshare -n "$0" "$SYNACK_BIN"
fi

TUN=synackr0
KERN=10.77.0.1
SYN=10.77.0.2
. "$(dirname "$0")/../tun/netns.sh"  # bench_cleanup
WORK=$(mktemp -d /tmp/synack-reorder.XXXXXX)
PIDS=()
trap bench_cleanup EXIT
ip link set lo up
ip tuntap add dev "$TUN" mode tun
ip link set "$TUN" txqueuelen 10000
ip addr add "$KERN/24" dev "$TUN"
ip link set "$TUN" up
SIZE=$((MIB * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$WORK/data"
SUM=$(sha256sum "$WORK/data" | cut -d' ' -f1)

mib() { nstat -asz "$1" | awk -v n="$1" '$1 == n {print $2}'; }
kernel_rx_drops() { echo $(($(mib TcpExtTCPOFODrop) + $(mib TcpExtTCPRcvQDrop) + $(mib TcpExtPAWSEstab))); }
tun_drops() { ip -s link show "$TUN" | awk '/TX:/ {getline; print $4}'; }
now_ms() { date +%s%3N; }

# transfer DIR CC RTT SEED: one transfer; prints one result line.
transfer() {
  local dir=$1 cc=$2 rtt=$3 seed=$4 port out t0 t1 rc=0 k0 k1 ds0 ds1 dr0 dr1 td0 td1 srx half kd0 kd1
  port=$((5000 + RANDOM % 1000))
  half=$(awk -v r="$rtt" 'BEGIN {print r / 2}')
  out=$WORK/out
  rm -f "$out"
  if [ "$dir" = up ]; then
    timeout -k 5 600 socat -u "TCP-LISTEN:$port,bind=$KERN,reuseaddr,setsockopt-string=6:13:$cc$KRCV" "OPEN:$out,creat,trunc" &
  else
    timeout -k 5 600 socat -u "OPEN:$WORK/data" "TCP-LISTEN:$port,bind=$KERN,reuseaddr,setsockopt-string=6:13:$cc" &
  fi
  PIDS+=($!)
  for _ in $(seq 200); do [ -n "$(ss -Hltn "sport = :$port")" ] && break; sleep 0.02; done
  k0=$(mib TcpRetransSegs); dr0=$(mib TcpExtTCPDSACKRecv)
  ds0=$(($(mib TcpExtTCPDSACKOldSent) + $(mib TcpExtTCPDSACKOfoSent))); td0=$(tun_drops); kd0=$(kernel_rx_drops)
  t0=$(now_ms)
  if [ "$dir" = up ]; then
    timeout -k 5 600 "$SYNACK_BIN" connect --tun "$TUN" --addr "$SYN/24" --no-configure --no-ctl -v \
      --congestion "$cc" "${OPTS[@]}" --delay "$half" --reorder "$P" --reorder-delay "$D" --seed "$seed" "$KERN" "$port" \
      <"$WORK/data" >/dev/null 2>"$WORK/synack.err" || rc=$?
    wait "${PIDS[-1]}" 2>/dev/null || true
  else
    timeout -k 5 600 "$SYNACK_BIN" connect --tun "$TUN" --addr "$SYN/24" --no-configure --no-ctl -v \
      --congestion "$cc" "${OPTS[@]}" --delay "$half" --reorder "$P" --reorder-delay "$D" --seed "$seed" "$KERN" "$port" \
      </dev/null >"$out" 2>"$WORK/synack.err" || rc=$?
  fi
  t1=$(now_ms)
  k1=$(mib TcpRetransSegs); dr1=$(mib TcpExtTCPDSACKRecv)
  ds1=$(($(mib TcpExtTCPDSACKOldSent) + $(mib TcpExtTCPDSACKOfoSent))); td1=$(tun_drops); kd1=$(kernel_rx_drops)
  if [ "$rc" -ne 0 ] || [ "$(sha256sum "$out" | cut -d' ' -f1)" != "$SUM" ]; then
    echo "FAILED: $dir $cc rtt $rtt ms: exit $rc, $(stat -c %s "$out" 2>/dev/null || echo 0) of $SIZE bytes: $(tail -3 "$WORK/synack.err")" >&2
    return 1
  fi
  srx=$(sed -n 's/.*, \([0-9]*\) retransmitted segments.*/\1/p' "$WORK/synack.err" | tail -1)
  local sender rtx dsack rxdrop
  if [ "$dir" = up ]; then
    sender=synack; rtx=$srx; dsack=$((ds1 - ds0)); rxdrop="kernel drops $((kd1 - kd0))"
  else
    sender=kernel; rtx=$((k1 - k0)); dsack=$((dr1 - dr0))
    rxdrop="synack drops $(sed -n 's/.* \([0-9]*\) drops in host\( (\([^)]*\))\)\{0,1\}.*/\1 \3/p' "$WORK/synack.err" | tail -1)"
  fi
  awk -v s="$sender" -v cc="$cc" -v rtt="$rtt" -v ms=$((t1 - t0)) -v b="$SIZE" -v r="$rtx" -v d="$dsack" \
    -v drops="$((td1 - td0))" -v sdrop="$(sed -n 's/.*(\([0-9]*\) dropped).*/\1/p' "$WORK/synack.err" | tail -1)" \
    -v rxd="$rxdrop" \
    'BEGIN {printf "%-6s %-5s %4d ms %8d ms %8.1f Mbit/s %7d rtx %9.1f rtx/MB %7d dsack  %s%s\n", s, cc, rtt, ms,
            b * 8 / ms / 1000, r, r / (b / 1e6), d, rxd, (drops + sdrop > 0) ? "  LINK DROPS " drops "+" sdrop : ""}'
}

echo "== reordering ${P} held ${D} ms both directions, no loss; $MIB MiB per transfer; $REPS rounds; synack options: ${OPTS[*]:-none}"
echo "== Linux $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "== sender cc    rtt      time      goodput      retransmitted       D-SACKs (kernel: received / sent), receiver's drops"
for rep in $(seq "$REPS"); do
  for rtt in $RTTS; do
    for cc in $CCS; do
      for dir in $DIRS; do transfer "$dir" "$cc" "$rtt" $((rep * 100 + rtt)); done
    done
  done
done
echo "== done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
