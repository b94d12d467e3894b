#!/usr/bin/env bash
# Kernel ping -> synack ICMP echo; socat and nc -> `synack serve echo`, byte-exact both ways,
# the kernel half-closing first; then TIME-WAIT sits on the kernel side (it closed first),
# not in synack's table. At exit serve draws its four connections (--svg/--html from a
# temporary capture): four SVG files and one page, each connection's ends in the kernel's
# half-close order.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need ping socat nc ss
export TMPDIR=$WORK/tmp  # where serve puts its temporary capture
mkdir -p "$TMPDIR"
start_serve --svg "$WORK/echo.svg" --html "$WORK/echo.html" echo

ping -c 3 -i 0.2 -W 1 "$SYN_ADDR" >"$WORK/ping.out" || fail "ping: $(cat "$WORK/ping.out")"
grep -q "3 received" "$WORK/ping.out" || fail "ping: $(tail -2 "$WORK/ping.out")"
echo "ok: ping, 3 of 3 replies"

head -c 1048576 /dev/urandom >"$WORK/in.bin"
printf 'hello, synack\n' >"$WORK/in.txt"
for f in in.txt in.bin; do
  # socat shuts down its sending side at EOF of stdin (the kernel half-closes first), then
  # reads the echo to the end.
  timeout 30 socat -t 20 - "TCP:$SYN_ADDR:7" <"$WORK/$f" >"$WORK/socat.$f" || fail "socat $f"
  same_file "$WORK/$f" "$WORK/socat.$f" "socat echo $f"
  # netcat-openbsd: -N shuts the socket down at EOF of stdin.
  timeout 30 nc -N "$SYN_ADDR" 7 <"$WORK/$f" >"$WORK/nc.$f" || fail "nc $f"
  same_file "$WORK/$f" "$WORK/nc.$f" "nc echo $f"
done

tw_kernel=$(ss -Htan state time-wait dst "$SYN_ADDR" | wc -l)
[ "$tw_kernel" -ge 4 ] || fail "kernel closed first but ss shows $tw_kernel TIME-WAIT sockets (want 4)"
echo "ok: ss shows $tw_kernel TIME-WAIT on the kernel side (it closed first)"
tw_synack=$(synack_stat --state TIME-WAIT | grep -c '^TIME-WAIT' || true)
[ "$tw_synack" -eq 0 ] || fail "synack closed second but holds $tw_synack TIME-WAIT"
left=$(synack_stat | grep -cE '^(SYN|ESTAB|FIN|CLOSE|CLOSING|LAST)' || true)
[ "$left" -eq 0 ] || fail "connections left in synack: $(synack_stat)"
echo "ok: synack stat shows no TIME-WAIT and no connection left (it closed second)"
stop_serve
for i in 1 2 3 4; do
  [ -s "$WORK/echo-$i.svg" ] || fail "serve --svg: no $WORK/echo-$i.svg: $(tail -5 "$WORK/serve.err")"
  # The kernel (A) closes first: it ends in TIME-WAIT, synack (B) in CLOSED after LAST-ACK.
  grep -q '>TIME-WAIT<' "$WORK/echo-$i.svg" || fail "echo-$i.svg: the kernel's TIME-WAIT is not drawn"
  grep -q '>LAST-ACK<' "$WORK/echo-$i.svg" || fail "echo-$i.svg: synack's LAST-ACK is not drawn"
done
[ ! -e "$WORK/echo-5.svg" ] || fail "serve --svg drew more than the 4 connections"
grep -q 'data-connections="4"' "$WORK/echo.html" || fail "serve --html: $(grep -o 'data-connections="[0-9]*"' "$WORK/echo.html")"
ls "$TMPDIR"/synack-ladder-*.pcap 2>/dev/null | grep -q . && fail "the temporary capture was left behind"
echo "ok: serve --svg/--html drew 4 connections at exit (kernel TIME-WAIT, synack LAST-ACK)"
