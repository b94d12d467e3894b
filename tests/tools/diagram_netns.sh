#!/usr/bin/env bash
# `synack diagram` on kernel-to-kernel traffic: inside a network namespace of its own (only
# loopback, nothing leaves it), tcpdump (or tshark) captures a socat exchange with a half-close,
# then a refused connection, a stalled receiver, and the same exchange over IPv6 (::1). The ladder must show the RFC's states in the RFC's order. ISNs,
# times and timestamps differ per run, so the check is on the states, not a whole golden file.
# Without the privilege to make a namespace, or without the tools: SKIPPED (exit 77).
# Usage: diagram_netns.sh SYNACK_BINARY
set -euo pipefail
synack=$(realpath "$1")
skip() { echo "SKIPPED: $*"; exit 77; }
command -v socat >/dev/null || skip "socat is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"
if command -v tcpdump >/dev/null; then
  capture=(tcpdump -i lo -U -w)
elif command -v tshark >/dev/null; then
  capture=(tshark -q -i lo -w)
else
  skip "neither tcpdump nor tshark is installed"
fi
if [ "${SYNACK_IN_NETNS:-}" != 1 ]; then
  unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n needs CAP_SYS_ADMIN)"
  exec env SYNACK_IN_NETNS=1 unshare -n "$0" "$@"
fi
ip link set lo up
tmp=$(mktemp -d)
chmod 755 "$tmp"
pcap=$tmp/kernel.pcap
cleanup() { [ -n "${cap_pid:-}" ] && kill "$cap_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
"${capture[@]}" "$pcap" 'tcp port 7777 or tcp port 7778 or tcp port 7779 or tcp port 7780' >"$tmp/capture.log" 2>&1 &
cap_pid=$!
for _ in $(seq 50); do grep -qi "listening\|capturing" "$tmp/capture.log" && break; sleep 0.1; done
sleep 0.5
# Until something listens on PORT (at most 5 s): a loaded machine starts socat late.
wait_listen() { for _ in $(seq 100); do [ -n "$(ss -Hltn "sport = :$1")" ] && return 0; sleep 0.05; done; return 1; }
# The server answers after the client has half-closed (socat shuts its write side on EOF).
socat -T 5 TCP-LISTEN:7777,bind=127.0.0.1,reuseaddr SYSTEM:'cat; echo done' &
srv=$!
wait_listen 7777 || echo "note: socat did not listen on 7777 within 5 s"
printf 'hello from the kernel\n' | socat -t 2 - TCP:127.0.0.1:7777 >"$tmp/reply"
wait "$srv" || true
socat - TCP:127.0.0.1:7778 </dev/null 2>/dev/null || true  # refused: RST
# A receiver that reads nothing for 1.5 s with a small buffer: its window closes, the sender's
# persist timer probes it.
python3 - <<'PY'
import socket, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
srv.bind(("127.0.0.1", 7779))
srv.listen(1)
def client():
    c = socket.create_connection(("127.0.0.1", 7779))
    c.sendall(b"x" * 200000)
    c.close()
t = threading.Thread(target=client)
t.start()
conn, _ = srv.accept()
time.sleep(1.5)
while conn.recv(65536):
    pass
conn.close()
t.join()
PY
# IPv6: the same half-closed exchange over ::1 (when the namespace has IPv6).
v6=0
if socat -T 5 TCP6-LISTEN:7780,bind=[::1],reuseaddr SYSTEM:'cat; echo done' 2>"$tmp/v6.err" & then
  srv6=$!
  wait_listen 7780 || echo "note: socat did not listen on [::1]:7780 within 5 s"
  if printf 'hello over IPv6\n' | socat -t 2 - TCP6:[::1]:7780 >"$tmp/reply6" 2>>"$tmp/v6.err"; then v6=1; fi
  wait "$srv6" || true
fi
sleep 1
kill -INT "$cap_pid"
wait "$cap_pid" 2>/dev/null || true
cap_pid=
fail=0
"$synack" diagram "$pcap" --list
out=$("$synack" diagram "$pcap" --conn 1 --width 160 --ascii)
echo "$out"
# The states each end passes through, in order (each printed where it changes).
states_of() {  # column: 2 (A) or last (B)
  echo "$out" | awk -v side="$1" 'NR > 3 && /^ *[0-9]/ {
      if (side == "a") { if ($2 ~ /^[A-Z]+(-[A-Z0-9]+)*$/ && $2 != "SYN" ) print $2 }
      else { n = split($0, f, " "); if (f[n] ~ /^[A-Z]+(-[A-Z0-9]+)*$/ && f[n] != "LISTEN") print f[n] } }' | tr '\n' ' '
}
a=$(states_of a)
b=$(states_of b)
expect_a="SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT "
expect_b="SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED "
[ "$a" = "$expect_a" ] || { echo "FAIL: client states: '$a', expected '$expect_a'"; fail=1; }
[ "$b" = "$expect_b" ] || { echo "FAIL: server states: '$b', expected '$expect_b'"; fail=1; }
echo "$out" | grep -Eq "mss=65495 ws=[0-9]+ sackOK ts=" || { echo "FAIL: SYN options not shown"; fail=1; }
refused=$("$synack" diagram "$pcap" --conn 2 --width 120 --ascii)
echo "$refused"
echo "$refused" | grep -q "\[reset\]" || { echo "FAIL: the refusal's reset is not marked"; fail=1; }
[ "$(echo "$refused" | tail -1 | awk '{print $2}')" = CLOSED ] || { echo "FAIL: client not CLOSED after RST"; fail=1; }
stalled=$("$synack" diagram "$pcap" --conn 3 --width 200 --ascii)
echo "$stalled" | head -30
echo "$stalled" | grep -q "\[zero-window\]" || { echo "FAIL: no zero window marked"; fail=1; }
echo "$stalled" | grep -q "\[window-probe\]" || { echo "FAIL: no window probe marked"; fail=1; }
# Linux probes with SND.UNA - 1 and no data: a probe, never a retransmission nor a keep-alive.
echo "$stalled" | grep "\[window-probe\]" | grep -q "retransmission\|keep-alive" && { echo "FAIL: a probe taken for something else"; fail=1; }
if [ $v6 = 1 ]; then
  "$synack" diagram "$pcap" --list | grep -q "\[::1\]:7780" || { echo "FAIL: the IPv6 connection is not listed"; fail=1; }
  v6out=$("$synack" diagram "$pcap" --tuple '[::1]:7780,*' --width 160 --ascii)
  echo "$v6out"
  out=$v6out
  a=$(states_of a)
  b=$(states_of b)
  [ "$a" = "$expect_a" ] || { echo "FAIL: IPv6 client states: '$a', expected '$expect_a'"; fail=1; }
  [ "$b" = "$expect_b" ] || { echo "FAIL: IPv6 server states: '$b', expected '$expect_b'"; fail=1; }
  # MSS over ::1: the loopback MTU minus 60 (IPv6 and TCP headers), not 40.
  echo "$v6out" | grep -Eq "mss=65476 ws=[0-9]+ sackOK ts=" || { echo "FAIL: IPv6 SYN options not shown"; fail=1; }
elif [ -e /proc/sys/net/ipv6 ] && [ "$(cat /proc/sys/net/ipv6/conf/lo/disable_ipv6 2>/dev/null)" = 0 ]; then
  echo "FAIL: IPv6 is on in this namespace but the exchange over ::1 failed: $(cat "$tmp/v6.err")"
  fail=1
else
  echo "note: this kernel has IPv6 off or absent; the IPv6 ladder is not checked"
fi
[ $fail = 0 ] && echo "ok: kernel-to-kernel ladders"
exit $fail
