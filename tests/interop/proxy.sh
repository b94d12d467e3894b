#!/usr/bin/env bash
# `synack proxy --direct` (issue #15 step 2), all inside namespaces this test makes: a client
# namespace whose default route leads into this namespace, where an `ip rule` sends everything
# that comes from the client into synack's TUN device; synack terminates each connection
# (any-address) and relays it through a kernel socket bound to the veth link (--out-interface)
# of an "internet" namespace with kernel servers on 198.51.100.10 and 2001:db8:100::10.
# Checks: curl 0 B, 1 MiB, 16 MiB and 100 MiB (SHA-256 equal) over IPv4 and IPv6 (and wget 100 MiB
# over IPv4), a 16 MiB socat upload
# byte-exact, backpressure from a slow reader, upload backpressure (32 MiB from a fast client to a
# slow server: the client's Send-Q grows, synack's window closes and reopens, nothing piles up in
# between or in the proxy's memory, then byte-exact), a half-close (socat shuts its write side, then
# reads the whole echo), a refused port answered as the destination would (the client's SYN
# held until the upstream refused, then RST|ACK: curl's "connection refused"), resets carried
# both ways, an unreachable upstream (the SYN answered, after about 3 s of ARP, with ICMP host
# unreachable from the destination's address), and synack stat's "Proxy:" counters: the
# relayed bytes prove every byte went through synack, no session is left; during the slow
# download synack stat lists the connection with both ends (its upstream socket beside it).
# Then --out-mark with the whole-host rules (every unmarked packet into the TUN), a 16 MiB
# download through it. About 20 s.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need curl wget socat ss nsenter python3
mkdir -p "$WORK/www"
head -c 1048576 /dev/urandom >"$WORK/www/mib"
head -c $((16 * 1048576)) /dev/urandom >"$WORK/www/big"
: >"$WORK/www/zero"
head -c $((100 * 1048576)) /dev/urandom >"$WORK/www/huge"   # issue #15: 0 B..100 MiB byte-exact

proxy_topology

# Kernel servers in the internet namespace.
bg_inet http4 timeout 300 python3 -m http.server --bind "$SERVER" -d "$WORK/www" 8080 >/dev/null 2>"$WORK/http4.err"
[ $HAVE6 -eq 1 ] && bg_inet http6 timeout 300 python3 -m http.server --bind "$SERVER6" -d "$WORK/www" 8080 \
  >/dev/null 2>"$WORK/http6.err"
bg_inet upload timeout 300 socat -u "TCP-LISTEN:9000,bind=$SERVER,reuseaddr" "OPEN:$WORK/up.out,creat,trunc"
bg_inet echo timeout 300 socat "TCP-LISTEN:7000,bind=$SERVER,reuseaddr,fork" EXEC:cat
bg_inet reset timeout 300 socat -u "TCP-LISTEN:7001,bind=$SERVER,reuseaddr" "OPEN:$WORK/rst.out,creat,trunc"
# Port 7002 resets every connection after reading from it (SO_LINGER 0).
cat >"$WORK/rst_server.py" <<'PY'
import socket, struct, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 7002))
l.listen(8)
while True:
    c, _ = l.accept()
    c.recv(100)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
PY
bg_inet rstsrv timeout 300 python3 "$WORK/rst_server.py" "$SERVER"
inet_listening 8080 9000 7000 7001 7002

# The proxy. Its own sockets leave through o0; everything from the client goes into the TUN.
CTL=$WORK/proxy.sock
ADDRS=(--addr "$SYN_ADDR/24")
[ $HAVE6 -eq 1 ] && ADDRS+=(--addr fd00:77::2/64)
start_proxy "$WORK/proxy.err" "${ADDRS[@]}" --direct --out-interface o0 --ctl "$CTL" -v
route_client_into_tun

for f in zero mib big huge; do
  t0=$(now_ms)
  timeout 60 nsenter -t "$CLIENT_NS" -n curl -4 -sf -o "$WORK/curl.$f" "http://$SERVER:8080/$f" || fail "curl $f through the proxy"
  same_file "$WORK/www/$f" "$WORK/curl.$f" "curl http://$SERVER:8080/$f through synack proxy in $(($(now_ms) - t0)) ms"
done
t0=$(now_ms)
timeout 60 nsenter -t "$CLIENT_NS" -n wget -q -O "$WORK/wget.huge" "http://$SERVER:8080/huge" || fail "wget huge through the proxy"
same_file "$WORK/www/huge" "$WORK/wget.huge" "wget http://$SERVER:8080/huge through synack proxy in $(($(now_ms) - t0)) ms"
if [ $HAVE6 -eq 1 ]; then
  for f in zero mib big huge; do
    t0=$(now_ms)
    timeout 60 nsenter -t "$CLIENT_NS" -n curl -6 -sf -o "$WORK/curl6.$f" "http://[$SERVER6]:8080/$f" ||
      fail "curl -6 $f through the proxy"
    same_file "$WORK/www/$f" "$WORK/curl6.$f" "curl http://[$SERVER6]:8080/$f through synack proxy in $(($(now_ms) - t0)) ms"
  done
else
  echo "note: no IPv6 in this kernel, IPv6 checks skipped"
fi

# Backpressure: a client reading at 4 MB/s. The proxy's buffer toward it fills, so the proxy
# stops reading its upstream socket, whose receive queue (in this namespace) then holds bytes;
# a proxy that read on regardless would keep that queue empty (ESTABLISHED, or CLOSE-WAIT once the
# server sent everything). The download stays whole. The client's receive buffer is held to
# 1 MiB for this: with the kernel's default maximum (32 MiB since Linux 6.x) its window could
# take in the whole 16 MiB before the proxy's buffers ever filled (it did once, in CI).
rmem_saved=$(nsenter -t "$CLIENT_NS" -n sysctl -n net.ipv4.tcp_rmem)
nsenter -t "$CLIENT_NS" -n sysctl -qw net.ipv4.tcp_rmem="4096 131072 1048576"
t0=$(now_ms)
timeout 60 nsenter -t "$CLIENT_NS" -n curl -4 -sf --limit-rate 4M -o "$WORK/curl.slow" "http://$SERVER:8080/big" &
SLOW=$!
sleep 0.3
# While it runs, synack stat lists the proxied connection with both ends: the client's
# connection to the original destination, and the proxy's upstream socket leaving through o0.
synack_stat --sport 8080 >"$WORK/stat.slow" ||
  fail "synack stat during the transfer"
grep -E "^[A-Z12-]+ .* $SERVER:8080 +10\.99\.0\.2:[0-9]+ +.*upstream 198\.51\.100\.1:[0-9]+ -> $SERVER:8080 [A-Z12-]+$" \
  "$WORK/stat.slow" || fail "synack stat shows no proxied connection with both ends: $(cat "$WORK/stat.slow")"
max_recvq=0
for _ in $(seq 20); do
  sleep 0.1
  q=$(ss -Htn state connected "dport = :8080" | awk '{print $2}' | sort -n | tail -1)
  [ "${q:-0}" -gt "$max_recvq" ] && max_recvq=$q
done
wait "$SLOW" || fail "slow curl through the proxy"
nsenter -t "$CLIENT_NS" -n sysctl -qw net.ipv4.tcp_rmem="$rmem_saved"
same_file "$WORK/www/big" "$WORK/curl.slow" "curl --limit-rate 4M through synack proxy in $(($(now_ms) - t0)) ms"
[ "$max_recvq" -ge 65536 ] || fail "backpressure: the upstream socket's Recv-Q stayed at $max_recvq"
echo "ok: backpressure: the proxy stopped reading upstream (Recv-Q up to $max_recvq bytes) while the client was slow"

# Upload, byte-exact.
t0=$(now_ms)
timeout 60 nsenter -t "$CLIENT_NS" -n socat -u "OPEN:$WORK/www/big" "TCP4:$SERVER:9000" || fail "socat upload"
for _ in $(seq 100); do
  [ "$(stat -c %s "$WORK/up.out" 2>/dev/null || echo 0)" -ge $((16 * 1048576)) ] && break
  sleep 0.1
done
same_file "$WORK/www/big" "$WORK/up.out" "socat upload of 16 MiB through synack proxy in $(($(now_ms) - t0)) ms"

# Backpressure the other way: a client uploading 32 MiB as fast as it can to a server that
# reads 16 KiB every 20 ms (about 0.8 MB/s) into a 64 KiB receive buffer. The upstream socket
# fills, the proxy stops reading the synack connection, whose 256 KiB receive buffer fills and
# whose window closes: the client's own socket then holds megabytes (its Send-Q) and synack stat
# shows the connection's Recv-Q full, rcv_wnd under one MSS. The proxy must still resume as the
# server drains (the slow server gets bytes that were still in the client's socket then), and
# what the client has had acknowledged may run ahead of what the server read only by the
# buffers in between (synack's 256 KiB, the upstream socket's, the server's): a relay that
# buffered on its own would let the client's 32 MiB through at once. Its memory (VmRSS of the
# synack process) grows by no more than 24 MiB over the upload. Then the server reads at full speed and the upload completes.
head -c $((32 * 1048576)) /dev/urandom >"$WORK/www/up32"
cat >"$WORK/slow_server.py" <<'PY'
import os, socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)  # the kernel doubles it: 64 KiB
l.bind((sys.argv[1], 9001))
l.listen(1)
c, _ = l.accept()
with open(sys.argv[2], "wb", buffering=0) as out:  # its size: what the server has read
    while True:
        fast = os.path.exists(sys.argv[3])
        b = c.recv(1 << 20 if fast else 16384)
        if not b:
            break
        out.write(b)
        if not fast:
            time.sleep(0.02)
c.close()
PY
bg_inet slowsrv timeout 300 python3 "$WORK/slow_server.py" "$SERVER" "$WORK/up32.out" "$WORK/up32.fast"
inet_listening 9001
# synack, the child of the proxy's timeout: found by the PPid of every process (not through
# /proc/PID/task/TID/children, which kernels built without CONFIG_PROC_CHILDREN lack).
proxy_proc=
for st in /proc/[0-9]*/status; do
  if [ "$(awk '/^PPid:/ {print $2}' "$st" 2>/dev/null)" = "$PROXY_PID" ]; then
    proxy_proc=${st#/proc/}
    proxy_proc=${proxy_proc%/status}
    break
  fi
done
[ -n "$proxy_proc" ] || fail "no synack process under the proxy's timeout ($PROXY_PID)"
t0=$(now_ms)
# nsenter execs timeout, so this PID is timeout's: stopped at exit, it stops python3 too.
nsenter -t "$CLIENT_NS" -n timeout 90 python3 - "$SERVER" "$WORK/www/up32" <<'PY' &
import socket, sys
s = socket.create_connection((sys.argv[1], 9001), timeout=80)
s.sendall(open(sys.argv[2], "rb").read())
s.shutdown(socket.SHUT_WR)
while s.recv(65536):  # until the server closed: it has read everything
    pass
PY
FAST=$!
PIDS+=("$FAST")
up_rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/$proxy_proc/status")
up_rss=$up_rss0 up_middle=0 up_sendq=0 up_acked0=-1 up_stat=
up_sample() {  # sets up_acked (the client's bytes acknowledged by synack), up_q (its Send-Q)
  local ss got rss
  ss=$(in_client ss -Htin "dport = :9001")
  up_q=$(echo "$ss" | awk 'NR == 1 {print $3}')
  up_q=${up_q:-0}
  up_acked=$(echo "$ss" | grep -o 'bytes_acked:[0-9]*' | cut -d: -f2 || true)   # none before the handshake
  up_acked=${up_acked:-0}
  got=$(stat -c %s "$WORK/up32.out" 2>/dev/null || echo 0)
  [ $((up_acked - got)) -gt "$up_middle" ] && up_middle=$((up_acked - got))
  [ "$up_middle" -le $((12 * 1048576)) ] ||
    fail "upload backpressure: the client had $up_acked bytes acknowledged, the server read $got: the relay buffers"
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$proxy_proc/status")
  [ "$rss" -gt "$up_rss" ] && up_rss=$rss
  # Growth over the proxy's size before this upload (a sanitizer build starts far larger):
  # a relay that took the client's 32 MiB in would grow by about that much.
  [ $((up_rss - up_rss0)) -le $((24 * 1024)) ] ||
    fail "upload backpressure: synack proxy's VmRSS grew from $up_rss0 to $up_rss kB"
  [ "$up_q" -gt "$up_sendq" ] && up_sendq=$up_q
  return 0
}
# 1. The window closes: the client's Send-Q over 1 MiB while synack's receive buffer is full.
deadline=$(($(now_ms) + 20000))
while [ "$(now_ms)" -lt $deadline ]; do
  up_sample
  if [ "$up_q" -ge 1048576 ]; then
    up_stat=$(synack_stat -i -H --sport 9001)
    q=$(echo "$up_stat" | awk 'NR == 1 {print $2}')
    w=$(echo "$up_stat" | grep -o 'rcv_wnd:[0-9]*' | cut -d: -f2 || true)
    if [ "${q:-0}" -ge 131072 ] && [ "${w:-99999}" -lt 1448 ]; then
      up_acked0=$up_acked
      break
    fi
  fi
  kill -0 $FAST 2>/dev/null || fail "upload backpressure: the upload ended before the window closed"
  sleep 0.1
done
[ "$up_acked0" -ge 0 ] ||
  fail "upload backpressure: no closed window in 20 s (client Send-Q up to $up_sendq; synack stat: $up_stat)"
echo "ok: upload backpressure: client Send-Q $up_q bytes, synack: Recv-Q $q, rcv_wnd $w (32 MiB to a slow reader)"
# 2. And reopens as the slow server drains: the server, still slow, reads 1 MiB beyond all the
# client had had acknowledged when the window was closed; those bytes were still in the
# client's socket then, so the proxy read the client again (a relay that stopped for good at the
# first full upstream socket would leave the server waiting here).
read_slow=0
deadline=$(($(now_ms) + 20000))
while [ "$(now_ms)" -lt $deadline ]; do
  up_sample
  read_slow=$(stat -c %s "$WORK/up32.out")
  [ "$read_slow" -ge $((up_acked0 + 1048576)) ] && break
  kill -0 $FAST 2>/dev/null || fail "upload backpressure: the upload ended while the server was slow"
  sleep 0.1
done
[ "$read_slow" -ge $((up_acked0 + 1048576)) ] ||
  fail "upload backpressure: the proxy did not resume reading (the server read $read_slow in 20 s;" \
    "$up_acked0 acknowledged when the window was closed)"
# 3. The server reads at full speed: everything arrives.
touch "$WORK/up32.fast"
deadline=$(($(now_ms) + 20000))
while [ "$(now_ms)" -lt $deadline ]; do
  kill -0 $FAST 2>/dev/null || break
  sleep 0.1
done
kill -0 $FAST 2>/dev/null &&
  fail "upload backpressure: the upload did not finish in 20 s (the server read $(stat -c %s "$WORK/up32.out"))"
wait $FAST || fail "upload to the slow server through the proxy"
same_file "$WORK/www/up32" "$WORK/up32.out" "upload of 32 MiB to a slow reader through synack proxy in $(($(now_ms) - t0)) ms"
echo "ok: upload backpressure: the proxy resumed as the server drained (window closed at $up_acked0 acknowledged," \
  "the slow server read $read_slow); acknowledged ahead of read at most $up_middle bytes; VmRSS $up_rss0 kB before, at most $up_rss kB"

# Half-close: socat sends 1 MiB, shuts its write side (FIN through synack -> shutdown(SHUT_WR)
# upstream, so `cat` sees EOF), and must still read the whole echo (the upstream's EOF comes
# back as synack's FIN).
timeout 30 nsenter -t "$CLIENT_NS" -n socat -t 20 - "TCP4:$SERVER:7000" <"$WORK/www/mib" >"$WORK/echo.out" ||
  fail "socat half-close echo"
same_file "$WORK/www/mib" "$WORK/echo.out" "half-close: write, shutdown, read the whole echo"

# A refused port: the client's SYN is held until the upstream connect is refused, then
# answered with RST|ACK as the destination's closed port would (proxy.hpp): curl exit 7
# ("Couldn't connect", connection refused), at once.
rc=0
t0=$(now_ms)
timeout 20 nsenter -t "$CLIENT_NS" -n curl -4 -s -o /dev/null "http://$SERVER:9999/" || rc=$?
ms=$(($(now_ms) - t0))
[ $rc -eq 7 ] || fail "refused upstream port: curl exit $rc, want 7 (connection refused)"
[ $ms -lt 3000 ] || fail "refused upstream port: curl took $ms ms"
echo "ok: refused upstream port -> curl exit 7 (connection refused) in $ms ms"
[ "$(proxy_counter failed_refused)" -ge 1 ] || fail "failed_refused not counted: $(synack_stat | grep Proxy:)"
[ "$(proxy_counter syn_deferred_refused)" -ge 1 ] ||
  fail "syn_deferred_refused not counted: $(synack_stat | grep -A1 syncookies_sent)"
grep -q "upstream refused" "$WORK/proxy.err" || fail "no log line for the refused upstream"

# A client reset: the upstream socket sees a reset too (SO_LINGER 0) and the session ends.
in_client timeout 30 python3 - "$SERVER" <<'PY' || fail "client reset"
import socket, struct, sys, time
s = socket.create_connection((sys.argv[1], 7001), timeout=10)
s.sendall(b"x" * 1000)
time.sleep(0.5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
for _ in $(seq 100); do
  [ "$(proxy_counter resets_client)" -ge 1 ] && break
  sleep 0.05
done
[ "$(proxy_counter resets_client)" -ge 1 ] || fail "the client's reset was not carried: $(synack_stat | grep Proxy:)"
echo "ok: a client reset is carried upstream (resets_client $(proxy_counter resets_client))"

# An upstream reset reaches the client as a reset (ECONNRESET from the kernel -> RST).
in_client timeout 30 python3 - "$SERVER" <<'PY' || fail "upstream reset not carried to the client"
import socket, sys
s = socket.create_connection((sys.argv[1], 7002), timeout=10)
s.sendall(b"hello")
try:
    while s.recv(100):
        pass
except ConnectionResetError:
    sys.exit(0)
sys.exit("EOF instead of a reset")
PY
[ "$(proxy_counter resets_upstream)" -ge 1 ] || fail "resets_upstream not counted: $(synack_stat | grep Proxy:)"
echo "ok: an upstream reset is carried to the client (ECONNRESET)"

# An unreachable upstream (no such host on the link: ARP fails, EHOSTUNREACH in about 3 s):
# the client's SYN is answered with ICMP host unreachable from 198.51.100.99, so its connect
# fails ("No route to host": curl exit 7) instead of a reset after a handshake; the ICMP
# error is counted where synack stat shows the host's counters.
icmp0=$(proxy_counter icmp_out_errors)
rc=0
t0=$(now_ms)
timeout 30 nsenter -t "$CLIENT_NS" -n curl -4 -s --connect-timeout 15 -o /dev/null "http://198.51.100.99:8080/" || rc=$?
ms=$(($(now_ms) - t0))
case $rc in
  7 | 28) echo "ok: unreachable upstream -> curl exit $rc in $ms ms" ;;
  *) fail "unreachable upstream: curl exit $rc, want 7 or 28" ;;
esac
[ $ms -lt 10000 ] || fail "unreachable upstream: curl took $ms ms"
[ "$(proxy_counter failed_unreachable)" -ge 1 ] || fail "failed_unreachable not counted: $(synack_stat | grep Proxy:)"
[ "$(proxy_counter syn_deferred_unreachable)" -ge 1 ] ||
  fail "syn_deferred_unreachable not counted: $(synack_stat | grep -A1 syncookies_sent)"
[ "$(proxy_counter icmp_out_errors)" -gt "$icmp0" ] || fail "no ICMP error sent: $(synack_stat | grep -A1 Icmp:)"
echo "ok: the ICMP host unreachable was sent (icmp_out_errors $icmp0 -> $(proxy_counter icmp_out_errors))"

# Every session ended (no leak), and the relayed bytes: all of the above went through synack.
sessions_drained
synack_stat | grep "^Proxy:" || fail "synack stat has no Proxy: line"
down=$(proxy_counter bytes_down)
up=$(proxy_counter bytes_up)
want_down=$((217 * 1048576 + 1048576))
[ $HAVE6 -eq 1 ] && want_down=$((want_down + 117 * 1048576))
[ "$down" -ge "$want_down" ] || fail "bytes_down $down < $want_down: not everything went through synack"
[ "$up" -ge $((49 * 1048576)) ] || fail "bytes_up $up < 49 MiB: not everything went through synack"
echo "ok: synack stat: $(proxy_counter sessions_opened) sessions, bytes_up $up, bytes_down $down, none active"
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
for _ in $(seq 100); do
  ip link show "$TUN" >/dev/null 2>&1 || break
  sleep 0.05
done

# --out-mark, the whole-host way: everything without the mark goes into the TUN device (this
# namespace's own traffic too), the proxy's marked sockets use the main table. Were the mark
# missing, its upstream connects would loop back into synack and the download would fail.
ip rule del iif r0 lookup 100 priority 100
start_proxy "$WORK/proxy-mark.err" --addr "$SYN_ADDR/24" --direct --out-mark 81 --ctl "$CTL"
sysctl -qw "net.ipv4.conf.$TUN.rp_filter=0"
ip route add default dev "$TUN" table 100
ip rule add fwmark 81 lookup main priority 90
ip rule add iif "$TUN" lookup main priority 91   # synack's answers to the client: forwarded normally
ip rule add not fwmark 81 lookup 100 priority 101
t0=$(now_ms)
timeout 60 nsenter -t "$CLIENT_NS" -n curl -4 -sf -o "$WORK/curl.mark" "http://$SERVER:8080/big" ||
  fail "curl through synack proxy --out-mark: $(cat "$WORK/proxy-mark.err")"
same_file "$WORK/www/big" "$WORK/curl.mark" "curl through synack proxy --out-mark 81 in $(($(now_ms) - t0)) ms"
[ "$(proxy_counter bytes_down)" -ge $((16 * 1048576)) ] || fail "--out-mark: bytes_down $(proxy_counter bytes_down)"
echo "PASS"
