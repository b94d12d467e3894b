# Shared by the interop tests (sourced). Each test runs inside its own network namespace,
# made here with `unshare -n`; the TUN device, its addresses and every packet stay inside it and
# vanish with it. Without the privilege to make one, the test exits 77 (ctest: SKIPPED) and says
# why. Every client runs under `timeout`; the EXIT trap kills what the test started.
#
# Usage at the top of a test:   . "$(dirname "$0")/lib.sh"; interop_init "$@"
# Environment: SYNACK_BIN (the synack binary; ctest passes it as $1).
set -euo pipefail

SKIP=77
SYN_ADDR=10.77.0.2
KERN_ADDR=10.77.0.1
TUN=synack0

skip() {
  echo "SKIPPED: $*"
  exit "$SKIP"
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
need() {
  # A missing tool is a setup bug (scripts/setup.sh installs every one), not a reason to skip.
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || fail "$t not installed: run scripts/setup.sh"; done
}

interop_init() {
  SYNACK_BIN=${SYNACK_BIN:-${1:-}}
  [ -n "$SYNACK_BIN" ] && [ -x "$SYNACK_BIN" ] || fail "usage: $0 PATH/TO/synack"
  export SYNACK_BIN
  if [ -z "${SYNACK_IN_NETNS:-}" ]; then
    need unshare ip timeout sha256sum
    [ -c /dev/net/tun ] || skip "/dev/net/tun does not exist (no TUN driver)"
    unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n needs CAP_SYS_ADMIN; run as root)"
    # Re-run this script inside a fresh namespace; the namespace dies with its last process.
    SYNACK_IN_NETNS=1 exec unshare -n "$0" "$SYNACK_BIN"
  fi
  ip link set lo up
  WORK=$(mktemp -d /tmp/synack-interop.XXXXXX)
  PIDS=()
  trap interop_cleanup EXIT
}

interop_cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 20); do
    alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ] && [ $rc -ne $SKIP ] && [ -d "$WORK" ]; then
    for f in "$WORK"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}

# Runs `synack serve ARGS...` in the background on $TUN with $SYN_ADDR/24, waits until it
# listens. Sets SERVE_PID and CTL (its control socket).
start_serve() {
  CTL=$WORK/serve.sock
  timeout -k 5 600 "$SYNACK_BIN" serve --tun "$TUN" --addr "$SYN_ADDR/24" --ctl "$CTL" "$@" 2>"$WORK/serve.err" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  for _ in $(seq 100); do
    grep -q "synack serve: .* on " "$WORK/serve.err" 2>/dev/null && { wait_route "$SYN_ADDR"; return 0; }
    kill -0 "$SERVE_PID" 2>/dev/null || fail "synack serve exited: $(cat "$WORK/serve.err")"
    sleep 0.05
  done
  fail "synack serve did not start"
}

# wait_route ADDR: waits (up to 5 s) until the kernel routes ADDR through $TUN. serve has
# configured the device before it says it listens, yet 3 times in about 100 starts on a loaded
# machine a client's connect right after that failed with "Network is unreachable" (a serve of
# the same device name had just exited; 2026-12-06); not reproduced in 120 more starts. Says so
# when it waits.
wait_route() {
  local i
  for i in $(seq 100); do
    if ip route get "$1" 2>/dev/null | grep -q " dev $TUN "; then
      [ "$i" -gt 1 ] && echo "note: the route to $1 through $TUN appeared $(((i - 1) * 50)) ms after serve started" >&2
      return 0
    fi
    sleep 0.05
  done
  fail "no route to $1 through $TUN 5 s after serve started: $(ip route 2>&1); $(ip -br link 2>&1)"
}

# Stops serve (SIGTERM: it flushes its capture and removes its control socket).
# Waits (up to 5 s) until the TUN device is gone, so the next serve can take the same name
# (TUNSETIFF on a name whose device still exists fails with EBUSY).
stop_serve() { stop_tun_owner "$SERVE_PID" "synack serve"; }
# stop_tun_owner PID NAME: SIGTERM to the synack process that owns $TUN, then waits (up to 5 s)
# until the device is gone.
stop_tun_owner() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  for _ in $(seq 100); do
    ip link show "$TUN" >/dev/null 2>&1 || return 0
    sleep 0.05
  done
  fail "$TUN still exists 5 s after $2 exited"
}

# A TUN interface owned by the kernel side, for tests where synack connects out.
make_tun() {
  ip tuntap add dev "$TUN" mode tun
  ip addr add "$KERN_ADDR/24" dev "$TUN"
  ip link set "$TUN" up
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

same_file() {  # same_file EXPECTED ACTUAL WHAT
  [ "$(sha "$1")" = "$(sha "$2")" ] || fail "$3: SHA-256 differs ($(stat -c %s "$2") of $(stat -c %s "$1") bytes)"
  echo "ok: $3 ($(stat -c %s "$2") bytes, SHA-256 equal)"
}

# Milliseconds since the epoch (for timings).
now_ms() { date +%s%3N; }

synack_stat() { timeout 10 "$SYNACK_BIN" stat --ctl "$CTL" "$@"; }

# Waits (up to 10 s) until a kernel socket listens on PORT.
wait_listen() {
  for _ in $(seq 200); do
    [ -n "$(ss -Hltn "sport = :$1")" ] && return 0
    sleep 0.05
  done
  fail "nothing listens on port $1"
}

# ---- `synack proxy` tests (proxy*.sh) ----------------------------------------------------------

# A namespace of its own that dies with its `sleep`; sets NS_PID.
new_ns() {
  unshare -n sleep 300 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do
    [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.02
  done
  NS_PID=$pid
}

# The proxy's topology: a client namespace (c0, 10.99.0.2, fd00:99::2; default route into this
# namespace's r0) and an "internet" namespace (i0, $SERVER and $SERVER6; this namespace's o0 is
# 198.51.100.1). Sets CLIENT_NS, INET_NS, SERVER, SERVER6 and HAVE6 (1 with IPv6 in the kernel).
proxy_topology() {
  HAVE6=0
  [ -e /proc/sys/net/ipv6 ] && HAVE6=1
  SERVER=198.51.100.10
  SERVER6=2001:db8:100::10
  new_ns
  CLIENT_NS=$NS_PID
  new_ns
  INET_NS=$NS_PID
  ip link add r0 type veth peer name c0
  ip link set c0 netns "$CLIENT_NS"
  ip link add o0 type veth peer name i0
  ip link set i0 netns "$INET_NS"
  ip link set r0 up
  ip link set o0 up
  ip addr add 10.99.0.1/24 dev r0
  ip addr add 198.51.100.1/24 dev o0
  in_client ip link set lo up
  in_client ip link set c0 up
  in_client ip addr add 10.99.0.2/24 dev c0
  in_client ip route add default via 10.99.0.1
  in_inet ip link set lo up
  in_inet ip link set i0 up
  in_inet ip addr add "$SERVER/24" dev i0
  if [ $HAVE6 -eq 1 ]; then
    ip -6 addr add fd00:99::1/64 dev r0 nodad
    ip -6 addr add 2001:db8:100::1/64 dev o0 nodad
    in_client ip -6 addr add fd00:99::2/64 dev c0 nodad
    in_client ip -6 route add default via fd00:99::1
    in_inet ip -6 addr add "$SERVER6/64" dev i0 nodad
  fi
}
in_client() { nsenter -t "$CLIENT_NS" -n "$@"; }
in_inet() { nsenter -t "$INET_NS" -n "$@"; }

# bg_inet NAME CMD...: a server in the internet namespace, in the background. nsenter forks
# here, so the process to stop at exit is the one inside (its PID comes back through a file),
# not nsenter.
bg_inet() {
  local pidfile=$WORK/$1.pid
  shift
  nsenter -t "$INET_NS" -n bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" &
  PIDS+=($!)
  for _ in $(seq 100); do
    [ -s "$pidfile" ] && break
    sleep 0.02
  done
  PIDS+=("$(cat "$pidfile")")
}

# start_proxy ERRFILE ARGS...: `synack proxy --tun $TUN ARGS...` in the background, stderr to
# ERRFILE, until it says it relays (up to 30 s: bench/proxy/proxy_bench.sh once saw a start take
# more than 10 s on the loaded shared machine). Sets PROXY_PID.
start_proxy() {
  local err=$1
  shift
  timeout -k 5 600 "$SYNACK_BIN" proxy --tun "$TUN" "$@" 2>"$err" &
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  for _ in $(seq 600); do
    grep -q "synack proxy: .* via" "$err" 2>/dev/null && return 0
    kill -0 "$PROXY_PID" 2>/dev/null || fail "synack proxy exited: $(cat "$err")"
    sleep 0.05
  done
  fail "synack proxy did not start"
}

# inet_listening PORT...: waits (up to 10 s each) until a server of the internet namespace
# listens on every PORT of $SERVER.
inet_listening() {
  local port
  for port in "$@"; do
    for _ in $(seq 200); do
      [ -n "$(in_inet ss -Hltn "sport = :$port")" ] && break
      sleep 0.05
    done
    [ -n "$(in_inet ss -Hltn "sport = :$port")" ] || fail "nothing listens on $SERVER:$port"
  done
}

# sessions_drained [SECONDS]: waits (5 s by default) until the proxy has no TCP session left.
sessions_drained() {
  for _ in $(seq $((${1:-5} * 20))); do
    [ "$(proxy_counter sessions_active)" -eq 0 ] && return 0
    sleep 0.05
  done
  fail "sessions left active: $(synack_stat | grep -A1 Proxy:)"
}

stop_proxy() { stop_tun_owner "$PROXY_PID" "synack proxy"; }
# start_socks_proxy NAME ARGS...: synack proxy (start_proxy) with stderr in $WORK/NAME.err
# (PROXY_ERR), the addresses in ADDRS, control socket $CTL, its own sockets leaving through o0,
# and the client's traffic routed into its TUN device (the rule once, the routes at each start:
# they go with the device when it stops).
start_socks_proxy() {
  PROXY_ERR=$WORK/$1.err
  shift
  start_proxy "$PROXY_ERR" "${ADDRS[@]}" --out-interface o0 --ctl "$CTL" -v "$@"
  if [ -z "${ROUTED:-}" ]; then
    route_client_into_tun
    ROUTED=1
  else
    route_tun_table
  fi
}

# Everything the client namespace sends (through r0) goes into the TUN device (table 100).
route_client_into_tun() {
  sysctl -qw net.ipv4.ip_forward=1
  # Replies come out of the TUN from the servers' addresses, whose route is o0: no strict
  # reverse-path filter on them.
  for c in all default r0 o0; do sysctl -qw "net.ipv4.conf.$c.rp_filter=0"; done
  ip rule add iif r0 lookup 100 priority 100
  if [ $HAVE6 -eq 1 ]; then
    sysctl -qw net.ipv6.conf.all.forwarding=1
    ip -6 rule add iif r0 lookup 100 priority 100
  fi
  route_tun_table
}
# Table 100's routes into the TUN device (they go with the device: again after a restart).
route_tun_table() {
  sysctl -qw "net.ipv4.conf.$TUN.rp_filter=0"
  ip route add default dev "$TUN" table 100
  if [ $HAVE6 -eq 1 ]; then ip -6 route add default dev "$TUN" table 100; fi
}

# The first counter of that name in `synack stat --json` (the TCP relay's come before the
# "udp" object's; udp_counter reads that object).
proxy_counter() { synack_stat --json | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2; }
udp_counter() { synack_stat --json | grep -o '"udp":{[^}]*}' | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }

# UDP peers for the proxy's UDP tests (proxy_udp.sh, proxy_socks5_udp.sh): in the internet
# namespace a DNS server (a python3 stdlib one written here: A records for one name) and a UDP
# echo server on $SERVER (and $SERVER6), listening when this returns; `client MODE ...` runs
# the client side in the client namespace. Sets PY and SERVERS.
udp_peers() {
  local srv tag port
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
}
# dns_and_echo WHAT: through the proxy to every address in SERVERS, a DNS query answered
# (192.0.2.53), one answered NXDOMAIN, and 100 datagrams of 1..1400 bytes echoed intact.
dns_and_echo() {
  local srv got t0
  for srv in "${SERVERS[@]}"; do
    got=$(client dns "$srv" proxy.synack.test) || fail "DNS query to $srv through the proxy ($1): $got"
    [ "$got" = "192.0.2.53" ] || fail "DNS answer from $srv ($1): '$got', want 192.0.2.53"
    echo "ok: DNS A proxy.synack.test via $srv through synack proxy ($1): $got"
    got=$(client dns "$srv" other.synack.test) || fail "DNS query (NXDOMAIN) to $srv through the proxy ($1)"
    [ "$got" = "NXDOMAIN" ] || fail "DNS answer for another name from $srv ($1): '$got', want NXDOMAIN"
    echo "ok: DNS other.synack.test via $srv ($1): NXDOMAIN"
    t0=$(now_ms)
    got=$(client echo "$srv" 100) || fail "UDP echo via $srv through the proxy ($1): $got"
    echo "ok: UDP echo via $srv ($1): $got in $(($(now_ms) - t0)) ms"
  done
}
