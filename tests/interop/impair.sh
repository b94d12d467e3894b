#!/usr/bin/env bash
# The transfers of http.sh, echo_ping.sh and connect.sh through an impaired link on synack's
# side: 5 % loss, 5 % reordering (held back 5 ms) and 5 % duplication, both directions, fixed
# seeds. Each stays byte-exact (SHA-256 equal): curl from `synack serve http`, socat through
# `synack serve echo` (both directions at once), `synack connect` up to and down from a kernel
# socat. Each transfer is timed and bounded by `timeout`.
#
# Size per transfer: SYNACK_IMPAIR_MIB (default 100, the issue's size). ctest runs it smaller
# (see CMakeLists.txt); 100 MiB takes about a minute per transfer where synack sends.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need curl socat ss
MIB=${SYNACK_IMPAIR_MIB:-100}
SIZE=$((MIB * 1024 * 1024))
LIMIT=$((60 + 12 * MIB))  # seconds per transfer
# SYNACK_IMPAIR_OPTS: more options for synack's side, e.g. "--rack off" or "--prr on" to compare.
# shellcheck disable=SC2206  # split on purpose
IMPAIR=(--loss 0.05 --reorder 0.05 --duplicate 0.05 ${SYNACK_IMPAIR_OPTS:-})
# SYNACK_IMPAIR_KERNEL_CC: the congestion control of the kernel's sockets in the `synack connect`
# transfers (TCP_CONGESTION through socat), e.g. "cubic" to compare like with like; the
# namespace's default (net.ipv4.tcp_congestion_control, inherited from the host) otherwise.
KERNEL_CC=${SYNACK_IMPAIR_KERNEL_CC:-}
KOPT=""
[ -n "$KERNEL_CC" ] && KOPT=",setsockopt-string=6:13:$KERNEL_CC"
echo "impairment ${IMPAIR[*]}, $MIB MiB per transfer, each bounded by $LIMIT s;" \
  "kernel congestion control ${KERNEL_CC:-$(sysctl -n net.ipv4.tcp_congestion_control) (default)}"
mkdir -p "$WORK/www"
head -c "$SIZE" /dev/urandom >"$WORK/www/big"
head -c "$SIZE" /dev/urandom >"$WORK/echo.in"

timed() {  # timed WHAT EXPECTED ACTUAL STDIN STDOUT CMD...: CMD under timeout, then the check
  local what=$1 expected=$2 actual=$3 in=$4 out=$5 t0 t1 rc=0
  shift 5
  t0=$(now_ms)
  timeout -k 5 "$LIMIT" "$@" <"$in" >"$out" || rc=$?
  t1=$(now_ms)
  [ "$rc" -eq 0 ] || fail "$what: exit $rc after $((t1 - t0)) ms (124: over the $LIMIT s bound)"
  same_file "$expected" "$actual" "$what in $((t1 - t0)) ms"
}

start_serve "${IMPAIR[@]}" --seed 11 http "$WORK/www"
timed "curl $MIB MiB from synack serve http through faults" "$WORK/www/big" "$WORK/curl.out" /dev/null /dev/null \
  curl -sf -o "$WORK/curl.out" "http://$SYN_ADDR/big"
stop_serve
rm -f "$WORK/curl.out"

start_serve "${IMPAIR[@]}" --seed 12 echo
timed "socat echo $MIB MiB through faults" "$WORK/echo.in" "$WORK/echo.out" "$WORK/echo.in" "$WORK/echo.out" \
  socat -t "$LIMIT" -T "$LIMIT" - "TCP:$SYN_ADDR:7"
stop_serve
rm -f "$WORK/echo.out"

# synack connect: the kernel owns the TUN device here.
make_tun
CONNECT=("$SYNACK_BIN" connect --tun "$TUN" --addr "$SYN_ADDR/24" --no-configure --no-ctl "${IMPAIR[@]}")
timeout -k 5 "$LIMIT" socat -u "TCP-LISTEN:5001,bind=$KERN_ADDR,reuseaddr$KOPT" "OPEN:$WORK/up.out,creat,trunc" &
PIDS+=($!)
wait_listen 5001
timed "synack connect $MIB MiB up through faults" "$WORK/echo.in" "$WORK/up.out" "$WORK/echo.in" /dev/null \
  "${CONNECT[@]}" --seed 13 "$KERN_ADDR" 5001
rm -f "$WORK/up.out"
timeout -k 5 "$LIMIT" socat -u "OPEN:$WORK/www/big" "TCP-LISTEN:5002,bind=$KERN_ADDR,reuseaddr$KOPT" &
PIDS+=($!)
wait_listen 5002
timed "synack connect $MIB MiB down through faults" "$WORK/www/big" "$WORK/down.out" /dev/null "$WORK/down.out" \
  "${CONNECT[@]}" --seed 14 "$KERN_ADDR" 5002
