#!/usr/bin/env bash
# `synack proxy --direct`'s UDP relay (issue #15), in proxy.sh's namespaces (lib.sh:
# proxy_topology): a client namespace routed into synack's TUN device, an "internet" namespace
# with a DNS server (a python3 stdlib one written here: A records for one name) and a UDP echo
# server. Checks over IPv4 and IPv6: a DNS query through the proxy gets the right answer (and
# NXDOMAIN for another name); 100 datagrams of 1..1400 bytes come back intact; more clients
# than --udp-sessions evict the least recently active sessions; a closed upstream port (ICMP
# port unreachable to the proxy's socket) is counted and passed on to the client (a connected
# socket's ECONNREFUSED); idle sessions expire after --udp-timeout
# and are counted; synack stat's "Proxy UDP:" line and "udp" object. Then --no-udp: no answer,
# "udp":null. About 15 s.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need ss nsenter python3
proxy_topology
# The interpreter itself, not a version manager's shim (which costs a start-up per call).
PY=$(python3 -c 'import sys; print(sys.executable)')

# The DNS server: answers A queries for proxy.synack.test with 192.0.2.53, NXDOMAIN otherwise.
cat >"$WORK/dns_server.py" <<'PY'
import socket, struct, sys
NAME, ANSWER = "proxy.synack.test", bytes([192, 0, 2, 53])
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
def qname(msg):
    labels, i = [], 12
    while msg[i]:
        labels.append(msg[i + 1:i + 1 + msg[i]].decode())
        i += 1 + msg[i]
    return ".".join(labels), i + 1
while True:
    msg, peer = s.recvfrom(512)
    if len(msg) < 17:
        continue
    qid, = struct.unpack("!H", msg[:2])
    name, end = qname(msg)
    qtype, = struct.unpack("!H", msg[end:end + 2])
    question = msg[12:end + 4]
    found = name.lower() == NAME
    answers = b""
    if found and qtype == 1:  # A, class IN, TTL 60, the name as a pointer to the question
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + ANSWER
    flags = 0x8180 if found else 0x8183  # response, recursion desired + available; rcode 3 NXDOMAIN
    header = struct.pack("!HHHHHH", qid, flags, 1, 1 if answers else 0, 0, 0)
    s.sendto(header + question + answers, peer)
PY
# The echo server: every datagram back to its sender.
cat >"$WORK/echo_server.py" <<'PY'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7007))
while True:
    msg, peer = s.recvfrom(65535)
    s.sendto(msg, peer)
PY
# The client's side. `dns SERVER NAME` prints the A records (or NXDOMAIN); `echo SERVER N`
# sends N datagrams of random sizes up to 1400 bytes one by one and checks each comes back
# whole; `clients SERVER N` sends one datagram from each of N sockets (N sessions);
# `silent SERVER PORT` sends twice and expects no answer; `refused SERVER PORT` expects
# ECONNREFUSED on a connected socket (an ICMP port unreachable came back).
cat >"$WORK/client.py" <<'PY'
import os, random, socket, struct, sys
mode, server = sys.argv[1], sys.argv[2]
fam = socket.AF_INET6 if ":" in server else socket.AF_INET
def sock():
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(3)
    return s
if mode == "dns":
    s = sock()
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in sys.argv[3].split(".")) + b"\0"
    q += struct.pack("!HH", 1, 1)
    s.sendto(q, (server, 53))
    r, peer = s.recvfrom(512)
    assert peer[0] == server and peer[1] == 53, peer
    rid, flags, _, an = struct.unpack("!HHHH", r[:8])
    assert rid == qid, "wrong id"
    if flags & 0xF == 3:
        print("NXDOMAIN")
        sys.exit(0)
    i = len(q)
    for _ in range(an):
        _, rtype, _, _, rdlen = struct.unpack("!HHHIH", r[i:i + 12])
        if rtype == 1:
            print(socket.inet_ntoa(r[i + 12:i + 12 + rdlen]))
        i += 12 + rdlen
elif mode == "echo":
    s = sock()
    n = int(sys.argv[3])
    for k in range(n):
        size = 1400 if k == 0 else 1 if k == 1 else random.randint(1, 1400)
        msg = os.urandom(size)
        s.sendto(msg, (server, 7007))
        r, peer = s.recvfrom(65535)
        assert r == msg, f"datagram {k}: {len(r)} bytes back, {size} sent (or different bytes)"
        assert peer[0] == server and peer[1] == 7007, peer
    print(f"{n} datagrams echoed intact")
elif mode == "clients":
    for k in range(int(sys.argv[3])):
        s = sock()
        s.sendto(b"client %d" % k, (server, 7007))
        assert s.recvfrom(100)[0] == b"client %d" % k
        s.close()
elif mode == "refused":
    s = sock()
    s.connect((server, int(sys.argv[3])))
    s.send(b"anyone?")
    try:
        s.recv(100)
        sys.exit("an answer from a closed port")
    except ConnectionRefusedError:
        print("ECONNREFUSED")
    except socket.timeout:
        sys.exit("no port unreachable came back")
elif mode == "silent":
    s = sock()
    s.settimeout(0.5)
    for _ in range(2):
        s.sendto(b"anyone?", (server, int(sys.argv[3])))
        try:
            s.recvfrom(100)
            sys.exit("an answer from a closed port")
        except (socket.timeout, ConnectionRefusedError):
            pass
PY
client() { timeout 30 nsenter -t "$CLIENT_NS" -n "$PY" "$WORK/client.py" "$@"; }

SERVERS=("$SERVER")
[ $HAVE6 -eq 1 ] && SERVERS+=("$SERVER6")
for srv in "${SERVERS[@]}"; do
  tag=$(echo "$srv" | tr -c '0-9a-z\n' _)
  bg_inet "dns$tag" timeout 300 "$PY" "$WORK/dns_server.py" "$srv"
  bg_inet "echo$tag" timeout 300 "$PY" "$WORK/echo_server.py" "$srv"
done
for port in 53 7007; do
  for _ in $(seq 200); do
    [ "$(in_inet ss -Hlun "sport = :$port" | wc -l)" -ge ${#SERVERS[@]} ] && break
    sleep 0.05
  done
  [ "$(in_inet ss -Hlun "sport = :$port" | wc -l)" -ge ${#SERVERS[@]} ] || fail "no UDP server on port $port"
done

CTL=$WORK/proxy.sock
ADDRS=(--addr "$SYN_ADDR/24")
[ $HAVE6 -eq 1 ] && ADDRS+=(--addr fd00:77::2/64)
start_proxy "$WORK/proxy.err" "${ADDRS[@]}" --direct --out-interface o0 --ctl "$CTL" -v \
  --udp-timeout 2 --udp-sessions 4
route_client_into_tun

for srv in "${SERVERS[@]}"; do
  got=$(client dns "$srv" proxy.synack.test) || fail "DNS query to $srv through the proxy: $got"
  [ "$got" = "192.0.2.53" ] || fail "DNS answer from $srv: '$got', want 192.0.2.53"
  echo "ok: DNS A proxy.synack.test via $srv through synack proxy: $got"
  got=$(client dns "$srv" other.synack.test) || fail "DNS query (NXDOMAIN) to $srv through the proxy"
  [ "$got" = "NXDOMAIN" ] || fail "DNS answer for another name from $srv: '$got', want NXDOMAIN"
  echo "ok: DNS other.synack.test via $srv: NXDOMAIN"
  t0=$(now_ms)
  got=$(client echo "$srv" 100) || fail "UDP echo via $srv through the proxy: $got"
  echo "ok: UDP echo via $srv: $got in $(($(now_ms) - t0)) ms"
done
[ $HAVE6 -eq 1 ] || echo "note: no IPv6 in this kernel, IPv6 checks skipped"
synack_stat | grep "^Proxy UDP:" || fail "synack stat has no Proxy UDP: line"
up=$(udp_counter datagrams_up)
down=$(udp_counter datagrams_down)
want=$((102 * ${#SERVERS[@]}))
[ "$up" -ge "$want" ] && [ "$down" -ge "$want" ] ||
  fail "datagrams_up $up / datagrams_down $down < $want: not everything went through synack"
[ "$(udp_counter sessions_active)" -le 4 ] || fail "more sessions than --udp-sessions 4: $(synack_stat | grep 'Proxy UDP')"

# Six clients at once through a table of 4: the least recently active ones are evicted.
ev0=$(udp_counter sessions_evicted)
client clients "$SERVER" 6 || fail "six UDP clients through the proxy"
ev=$(udp_counter sessions_evicted)
[ "$ev" -ge $((ev0 + 2)) ] || fail "sessions_evicted $ev0 -> $ev after 6 clients with --udp-sessions 4"
echo "ok: --udp-sessions 4 with 6 new clients: sessions_evicted $ev0 -> $ev"

# A closed port upstream: the destination's ICMP port unreachable reaches the proxy's socket
# (ECONNREFUSED), is counted, and passed on: the client's connected socket is refused too.
for srv in "${SERVERS[@]}"; do
  client refused "$srv" 9 >/dev/null || fail "closed upstream UDP port on $srv: no ECONNREFUSED at the client"
done
[ "$(udp_counter upstream_errors)" -ge ${#SERVERS[@]} ] ||
  fail "upstream_errors not counted: $(synack_stat | grep 'Proxy UDP')"
[ "$(udp_counter unreachable_sent)" -ge ${#SERVERS[@]} ] ||
  fail "unreachable_sent not counted: $(synack_stat | grep 'Proxy UDP')"
echo "ok: a closed upstream port is refused at the client too (upstream_errors $(udp_counter upstream_errors)," \
  "unreachable_sent $(udp_counter unreachable_sent))"

# Idle sessions expire after --udp-timeout 2 (the loop's timer), each counted.
t0=$(now_ms)
for _ in $(seq 100); do
  [ "$(udp_counter sessions_active)" -eq 0 ] && break
  sleep 0.05
done
[ "$(udp_counter sessions_active)" -eq 0 ] || fail "sessions still active: $(synack_stat | grep 'Proxy UDP')"
opened=$(udp_counter sessions_opened)
expired=$(udp_counter sessions_expired)
evicted=$(udp_counter sessions_evicted)
[ "$expired" -ge 1 ] && [ $((expired + evicted)) -eq "$opened" ] ||
  fail "opened $opened != expired $expired + evicted $evicted"
grep -q "udp .* expired (idle)" "$WORK/proxy.err" || fail "no log line for an expired session"
echo "ok: every session ended within $(($(now_ms) - t0)) ms: opened $opened, expired $expired, evicted $evicted"
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
for _ in $(seq 100); do
  ip link show "$TUN" >/dev/null 2>&1 || break
  sleep 0.05
done

# --no-udp: the datagrams are not relayed (no answer), and stat says "udp":null.
start_proxy "$WORK/proxy-noudp.err" "${ADDRS[@]}" --direct --out-interface o0 --ctl "$CTL" --no-udp
ip route replace default dev "$TUN" table 100
[ $HAVE6 -eq 1 ] && ip -6 route replace default dev "$TUN" table 100
client silent "$SERVER" 7007 || fail "--no-udp: a datagram was echoed"
synack_stat --json | grep -q '"udp":null' || fail "--no-udp: no \"udp\":null in synack stat --json"
echo "ok: --no-udp relays no datagram"
echo "PASS"
