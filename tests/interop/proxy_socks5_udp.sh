#!/usr/bin/env bash
# `synack proxy --socks5`'s UDP: each session a SOCKS5 UDP ASSOCIATE (RFC 1928 §4, §7) of
# dante's danted (microsocks has none), all inside namespaces this test makes, laid out as in
# proxy_udp.sh (lib.sh: proxy_topology, udp_peers): the client namespace routed into synack's
# TUN device; in the "internet" namespace danted on $SERVER:1080 and [$SERVER6]:1080 (no
# authentication), the DNS server and the UDP echo server. Checks: DNS (an A record and
# NXDOMAIN) and 100 datagrams of 1..1400 bytes echoed byte-exact, to IPv4 and IPv6 destinations,
# through the server over IPv4 and then over IPv6 (the first datagram of each session waits
# while its association is set up), each session with its own association (danted logs it);
# idle sessions expire and their control connections close; stopping danted closes the control
# connections and ends the sessions at once (socks5_udp_closed), and a datagram after its
# restart makes a new association; a server without UDP ASSOCIATE (microsocks) is counted as a
# failed association; a hostile relay (a python3 one written here) whose fragments, malformed
# headers and datagrams from elsewhere are dropped and counted, its good datagram delivered.
# About 10 s.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need ss nsenter python3 danted microsocks
proxy_topology
udp_peers

# danted: no authentication, CONNECT and UDP ASSOCIATE for anyone, out through i0. Its pid file
# and log stay in $WORK.
{
  echo "logoutput: $WORK/danted.log"
  echo "internal: $SERVER port = 1080"
  [ $HAVE6 -eq 1 ] && echo "internal: $SERVER6 port = 1080"
  echo "external: i0"
  echo "clientmethod: none"
  echo "socksmethod: none"
  echo "user.privileged: root"
  echo "user.unprivileged: nobody"
  echo "client pass { from: 0/0 to: 0/0 }"
  # "command:" takes the rest of its line: one keyword a line.
  printf 'socks pass {\n  from: 0/0 to: 0/0\n  log: connect disconnect error\n  command: connect udpassociate udpreply\n}\n'
} >"$WORK/danted.conf"
DANTED_RUNS=0
start_danted() {
  DANTED_RUNS=$((DANTED_RUNS + 1))
  bg_inet "danted$DANTED_RUNS" timeout 300 danted -f "$WORK/danted.conf" -p "$WORK/danted-own.pid" -N 1 \
    2>>"$WORK/danted.err"
  DANTED_PID=${PIDS[-1]}
  for _ in $(seq 200); do
    [ "$(in_inet ss -Hltn "sport = :1080" | wc -l)" -ge 1 ] && return 0
    sleep 0.05
  done
  fail "danted does not listen: $(tail -n 5 "$WORK/danted.log" "$WORK/danted.err")"
}
start_danted
# A SOCKS5 server whose relay answers each datagram with every kind of bad datagram first (a
# fragment, RSV not zero, a truncated header, one from another UDP socket, one naming another
# source), then the good one: its data reversed, from the destination named in the header.
cat >"$WORK/hostile_relay.py" <<'PY'
import socket, struct, sys
host = sys.argv[1]
tcp = socket.socket()
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind((host, 1082))
tcp.listen(4)
relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
relay.bind((host, 0))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
other.bind((host, 0))
conn, _ = tcp.accept()
conn.recv(3)                       # VER NMETHODS METHOD
conn.sendall(b"\5\0")
conn.recv(10)                      # UDP ASSOCIATE, ATYP 1
conn.sendall(b"\5\0\0\1" + socket.inet_aton(host) + struct.pack("!H", relay.getsockname()[1]))
while True:
    msg, peer = relay.recvfrom(65535)
    head, data = msg[:10], msg[10:]
    relay.sendto(b"\0\0\1" + head[3:] + data, peer)                        # FRAG 1
    relay.sendto(b"\0\1\0" + head[3:] + data, peer)                        # RSV not zero
    relay.sendto(head[:7], peer)                                             # truncated
    other.sendto(head + data, peer)                                          # not from the relay
    relay.sendto(head[:4] + socket.inet_aton("192.0.2.99") + head[8:] + data, peer)  # another source
    relay.sendto(head + data[::-1], peer)
PY
bg_inet hostile timeout 300 "$PY" "$WORK/hostile_relay.py" "$SERVER"
# microsocks answers UDP ASSOCIATE with a failure (or a close): no association.
bg_inet microsocks timeout 300 microsocks -i "$SERVER" -p 1081 >/dev/null 2>"$WORK/microsocks.err"

CTL=$WORK/proxy.sock
ADDRS=(--addr "$SYN_ADDR/24")
[ $HAVE6 -eq 1 ] && ADDRS+=(--addr fd00:77::2/64)
socks5_udp() { proxy_counter "socks5_udp_$1"; }
# The control connections danted holds open (established TCP to port 1080).
control_conns() { in_inet ss -Htn state established "sport = :1080" | wc -l; }
no_control_conns() { [ "$(control_conns)" -eq 0 ]; }
danted_gone() { [ -z "$(in_inet ss -Hltn 'sport = :1080')" ]; }
failed_counted() { [ "$(socks5_udp failed)" -ge 1 ]; }
wait_for() {  # wait_for SECONDS CONDITION...: polls every 50 ms
  local n=$(($1 * 20))
  shift
  for _ in $(seq "$n"); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}
no_sessions() { [ "$(udp_counter sessions_active)" -eq 0 ]; }

# 1. The server over IPv4, destinations of both families; sessions idle out after 2 s.
start_socks_proxy proxy --socks5 "$SERVER:1080" --udp-timeout 2
grep -q "socks5 $SERVER:1080" "$PROXY_ERR" && ! grep -q "no UDP" "$PROXY_ERR" || fail "start line: $(cat "$PROXY_ERR")"
dns_and_echo "SOCKS5 server over IPv4"
[ $HAVE6 -eq 1 ] || echo "note: no IPv6 in this kernel, IPv6 checks skipped"
synack_stat | grep -A2 "^Proxy:"
synack_stat | grep "^Proxy UDP:"
want=$((102 * ${#SERVERS[@]}))
up=$(udp_counter datagrams_up)
down=$(udp_counter datagrams_down)
[ "$up" -ge "$want" ] && [ "$down" -ge "$want" ] || fail "datagrams_up $up / datagrams_down $down < $want"
assoc=$(socks5_udp associations)
opened=$(udp_counter sessions_opened)
[ "$assoc" -eq "$opened" ] && [ "$assoc" -ge $((3 * ${#SERVERS[@]})) ] ||
  fail "socks5_udp_associations $assoc for $opened sessions"
for c in failed closed dropped_frag malformed foreign; do
  [ "$(socks5_udp "$c")" -eq 0 ] || fail "socks5_udp_$c $(socks5_udp "$c"), want 0"
done
grep -q "udp .* associated, relay $SERVER:" "$PROXY_ERR" || fail "no association logged: $(tail -3 "$PROXY_ERR")"
grep -q "udpassociate" "$WORK/danted.log" || fail "danted logged no UDP association: $(tail -3 "$WORK/danted.log")"
echo "ok: every session through its own association: $assoc associations, $up datagrams up, $down down"
# Idle sessions expire and close their control connections.
wait_for 10 no_sessions || fail "sessions still active: $(synack_stat | grep 'Proxy UDP')"
wait_for 5 no_control_conns || fail "control connections left open at danted: $(in_inet ss -tn)"
[ "$(udp_counter sessions_expired)" -eq "$opened" ] || fail "sessions_expired $(udp_counter sessions_expired) of $opened"
echo "ok: idle sessions expired ($opened) and their control connections closed"
stop_proxy

# 2. The control connection's end ends the session: danted stopped (a long --udp-timeout, so
# that no expiry explains it), then a datagram after its restart makes a new association.
start_socks_proxy proxy-close --socks5 "$SERVER:1080" --udp-timeout 60
client echo "$SERVER" 3 >/dev/null || fail "echo before danted stops"
[ "$(udp_counter sessions_active)" -eq 1 ] && [ "$(control_conns)" -eq 1 ] ||
  fail "want 1 session and 1 control connection: $(synack_stat | grep 'Proxy UDP'), $(control_conns)"
t0=$(now_ms)
kill "$DANTED_PID"
wait_for 10 no_sessions || fail "the session outlived its control connection: $(synack_stat | grep -A2 '^Proxy')"
[ "$(socks5_udp closed)" -eq 1 ] || fail "socks5_udp_closed $(socks5_udp closed), want 1"
[ "$(udp_counter sessions_expired)" -eq 0 ] || fail "a session expired instead"
grep -q "ended (SOCKS5 control connection closed)" "$PROXY_ERR" || fail "no log line: $(tail -3 "$PROXY_ERR")"
echo "ok: danted stopped: the session ended in $(($(now_ms) - t0)) ms (socks5_udp_closed 1)"
wait_for 10 danted_gone || fail "danted still listens"
start_danted
client echo "$SERVER" 5 >/dev/null || fail "echo after danted's restart"
[ "$(socks5_udp associations)" -eq 2 ] || fail "socks5_udp_associations $(socks5_udp associations), want 2"
echo "ok: a datagram after danted's restart: a new association"
stop_proxy

# 3. The server over IPv6.
if [ $HAVE6 -eq 1 ]; then
  start_socks_proxy proxy6 --socks5 "[$SERVER6]:1080"
  dns_and_echo "SOCKS5 server over IPv6"
  grep -q "udp .* associated, relay \[$SERVER6\]:" "$PROXY_ERR" || fail "no IPv6 relay: $(tail -3 "$PROXY_ERR")"
  [ "$(socks5_udp associations)" -ge 6 ] || fail "socks5_udp_associations $(socks5_udp associations)"
  stop_proxy
fi

# 4. A hostile relay: only its good datagram reaches the client; the others are counted.
start_socks_proxy proxy-hostile --socks5 "$SERVER:1082"
got=$(timeout 10 nsenter -t "$CLIENT_NS" -n "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"synack", (sys.argv[1], 7007))
print(s.recvfrom(100)[0].decode())
s.settimeout(0.5)
try:
    print("and more:", s.recvfrom(100)[0])
except socket.timeout:
    pass' "$SERVER") || fail "no datagram back through the hostile relay: $(tail -n 3 "$PROXY_ERR")"
[ "$got" = "kcanys" ] || fail "through the hostile relay came '$got', want only 'kcanys'"
[ "$(socks5_udp dropped_frag)" -eq 1 ] && [ "$(socks5_udp malformed)" -eq 2 ] && [ "$(socks5_udp foreign)" -eq 2 ] ||
  fail "hostile relay counters: $(synack_stat | grep socks5_udp_)"
[ "$(udp_counter datagrams_down)" -eq 1 ] || fail "datagrams_down $(udp_counter datagrams_down), want 1"
echo "ok: a hostile relay: only its good datagram delivered;$(synack_stat | grep -o ' socks5_udp_dropped.*')"
stop_proxy

# 5. A server without UDP ASSOCIATE: the association fails, counted; the datagram is dropped.
start_socks_proxy proxy-nope --socks5 "$SERVER:1081"
client silent "$SERVER" 7007 || fail "an answer without an association"
wait_for 5 failed_counted || fail "socks5_udp_failed $(socks5_udp failed), want >= 1"
[ "$(socks5_udp associations)" -eq 0 ] || fail "an association with microsocks"
grep -q "SOCKS5 UDP ASSOCIATE failed" "$PROXY_ERR" || fail "no log line: $(tail -3 "$PROXY_ERR")"
echo "ok: no UDP ASSOCIATE at the server: $(grep -m1 'ASSOCIATE failed' "$PROXY_ERR")"
stop_proxy
echo "PASS"
