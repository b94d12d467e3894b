#!/usr/bin/env bash
# `synack proxy --direct` under load (issue #15), in the namespaces of proxy.sh (lib.sh's
# proxy_topology: a client namespace routed into synack's TUN device here, an "internet"
# namespace with the kernel servers), all made by this test:
#
# 1. 1,000 concurrent connections (proxy_conns.py) to an epoll echo server
#    (bench/proxy/proxy_load.py): all open at once, each echoes its own message byte-exact;
#    meanwhile `synack stat` counts 1,000 sessions active and lists every one with both ends
#    (the client's connection and the proxy's upstream socket); then all are half-closed and
#    closed, and every session ends with nothing failed or reset.
# 2. A SYN flood from spoofed sources (hping3 --rand-source) at arbitrary destinations
#    (--rand-dest 198.18.x.x, a new port each packet) while curl fetches a file 20 times
#    through the proxy. Each flood SYN is held (defer_syn) while the proxy connects upstream;
#    198.18.0.0/15 is routed to the internet namespace, which drops it silently (a blackhole
#    route), so those connects hang until --connect-timeout, as toward addresses that never
#    answer. Nothing leaves the test's namespaces: the flood ends in the blackhole, the proxy's
#    answers to the spoofed sources in this namespace (no route back). Checks: every fetch
#    byte-exact, the held SYNs and the proxy's upstream sockets never beyond the bound
#    (--backlog), the overflow counted, and every session gone once the connects timed out.
# About 15 s.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need curl ss nsenter python3 hping3
HERE=$(cd "$(dirname "$0")" && pwd)
ECHO_SERVER=$HERE/../../bench/proxy/proxy_load.py
CONNS=${SYNACK_PROXY_LOAD_CONNS:-1000}
BACKLOG=1024          # the proxy's held SYNs per family (any_address_options::max_pending_syns)
FLOOD=${SYNACK_PROXY_FLOOD_SYNS:-30000}
FETCHES=20
# The proxy holds a kernel socket per session, the server and the client one per connection:
# raise the limit on open files as far as we may (without CAP_SYS_RESOURCE, the hard limit).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((CONNS + BACKLOG + 200)) ] ||
  skip "RLIMIT_NOFILE $(ulimit -n) (hard $(ulimit -Hn)) is too low for $CONNS connections and $BACKLOG held SYNs"
mkdir -p "$WORK/www"
head -c 262144 /dev/urandom >"$WORK/www/file"

proxy_topology
bg_inet echo timeout 120 python3 "$ECHO_SERVER" server "$SERVER" 7 5001 "$WORK/held"
bg_inet http timeout 120 python3 -m http.server --bind "$SERVER" -d "$WORK/www" 8080 >/dev/null 2>"$WORK/http.err"
inet_listening 7 8080

CTL=$WORK/proxy.sock
ADDRS=(--addr "$SYN_ADDR/24")
[ $HAVE6 -eq 1 ] && ADDRS+=(--addr fd00:77::2/64)
start_proxy "$WORK/proxy.err" "${ADDRS[@]}" --direct --out-interface o0 --ctl "$CTL" \
  --backlog "$BACKLOG" --connect-timeout 4
route_client_into_tun
num() { echo "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }

# ---- 1. CONNS concurrent connections ---------------------------------------------------------
t0=$(now_ms)
coproc CLIENT { in_client timeout -k 5 60 python3 "$HERE/proxy_conns.py" "$SERVER" 7 "$CONNS" 2>&1; }
PIDS+=("$CLIENT_PID")
read -r -t 50 line <&"${CLIENT[0]}" || fail "the client did not open its $CONNS connections"
echo "$line"
case "$line" in ok:*) ;; *) fail "client: $line" ;; esac
json=$(synack_stat --json)
active=$(num "$json" sessions_active)
[ "$active" -eq "$CONNS" ] || fail "sessions_active $active while $CONNS connections are open"
held=$(in_inet ss -Htn state established "sport = :7" | wc -l)
[ "$held" -eq "$CONNS" ] || fail "the server holds $held connections, want $CONNS"
echo "ok: synack stat: sessions_active $active; the server holds $held connections"
# Both ends of each proxied connection in the listing: client -> original destination (synack's
# side, ESTABLISHED) and the proxy's upstream socket (its local address on o0 -> the server).
synack_stat --state ESTABLISHED >"$WORK/stat.txt"
rows=$(grep -c "^ESTABLISHED .* $SERVER:7 .*10\.99\.0\.2:[0-9]* .*upstream 198\.51\.100\.1:[0-9]* -> $SERVER:7 ESTABLISHED" \
  "$WORK/stat.txt" || true)
[ "$rows" -eq "$CONNS" ] || fail "synack stat lists $rows proxied connections with both ends, want $CONNS: $(head -5 "$WORK/stat.txt")"
echo "ok: synack stat lists $rows proxied connections with both ends, e.g."
grep -m1 "upstream" "$WORK/stat.txt"
# The same in the JSON (parsed): every connection from the client with its "upstream" object.
echo "$json" | python3 -c '
import json, sys
n = int(sys.argv[1])
conns = [c for c in json.load(sys.stdin)["connections"] if c["peer_addr"] == "10.99.0.2"]
good = [c for c in conns if c["state"] == "ESTABLISHED" and c["local_addr"] == "198.51.100.10"
        and c["upstream"] is not None and c["upstream"]["phase"] == "relaying"
        and c["upstream"]["local_addr"] == "198.51.100.1" and c["upstream"]["peer_addr"] == "198.51.100.10"
        and c["upstream"]["peer_port"] == 7 and c["upstream"]["kernel_state"] == "ESTABLISHED"
        and c["upstream"]["relayed_up"] == c["upstream"]["relayed_down"] > 0]
if len(good) != n:
    sys.exit(f"synack stat --json: {len(good)} of {len(conns)} client connections with their upstream side, want {n}")
example = json.dumps(good[0]["upstream"])
print(f"ok: synack stat --json: {n} connections with their upstream object, e.g. {example}")
' "$CONNS" || fail "synack stat --json"
echo go >&"${CLIENT[1]}"
read -r -t 40 line <&"${CLIENT[0]}" || fail "the client did not close its connections"
echo "$line"
case "$line" in ok:*) ;; *) fail "client: $line" ;; esac
sessions_drained 10
json=$(synack_stat --json)
[ "$(num "$json" sessions_opened)" -eq "$CONNS" ] || fail "sessions_opened $(num "$json" sessions_opened), want $CONNS"
for c in failed_refused failed_unreachable failed_timeout failed_other resets_client resets_upstream; do
  [ "$(num "$json" $c)" -eq 0 ] || fail "$c $(num "$json" $c) after $CONNS clean connections"
done
up=$(num "$json" bytes_up)
down=$(num "$json" bytes_down)
[ "$up" -eq "$down" ] && [ "$up" -gt $((CONNS * 30)) ] || fail "bytes_up $up, bytes_down $down"
echo "ok: $CONNS sessions opened and ended in $(($(now_ms) - t0)) ms, none failed or reset; bytes_up $up = bytes_down $down"

# ---- 2. SYN flood at arbitrary destinations --------------------------------------------------
# The flood's destinations: from the proxy's sockets to the internet namespace, dropped there.
ip route add 198.18.0.0/15 via "$SERVER" dev o0
in_inet sysctl -qw net.ipv4.ip_forward=1   # forwarding, so the blackhole route drops silently
in_inet ip route add blackhole 198.18.0.0/15
base=$(synack_stat --json)
# FLOOD SYNs, at most about 10,000 a second (hping3 -c bounds it without --flood; about 4 s here),
# from random sources to random 198.18.x.x addresses, each to the next port.
timeout -k 2 40 nsenter -t "$CLIENT_NS" -n hping3 -q -S --rand-source --rand-dest -I c0 -p ++1024 -i u100 \
  -c "$FLOOD" 198.18.x.x >"$WORK/hping.out" 2>&1 &
HPING_PID=$!
PIDS+=("$HPING_PID")
# The bound, sampled every 0.1 s while the flood lasts: the proxy's sessions and held SYNs, and
# its upstream sockets still connecting (SYN-SENT in this namespace's kernel).
(
  while kill -0 "$HPING_PID" 2>/dev/null; do
    j=$(synack_stat --json)
    echo "$(num "$j" sessions_active) $(ss -Htn state syn-sent | wc -l) $(num "$j" syns_held)"
    sleep 0.1
  done
) >"$WORK/samples" 2>/dev/null &
SAMPLER=$!
PIDS+=("$SAMPLER")
sleep 1
t0=$(now_ms)
slowest=0
for i in $(seq "$FETCHES"); do
  t1=$(now_ms)
  kill -0 "$HPING_PID" 2>/dev/null || fail "the flood ended before fetch $i (make it longer: SYNACK_PROXY_FLOOD_SYNS)"
  timeout 20 nsenter -t "$CLIENT_NS" -n curl -sf -o "$WORK/fetch.$i" "http://$SERVER:8080/file" ||
    fail "fetch $i of $FETCHES during the flood failed after $(($(now_ms) - t1)) ms: $(synack_stat | grep -A1 -E '^ +syn_deferred')"
  [ "$(sha "$WORK/www/file")" = "$(sha "$WORK/fetch.$i")" ] || fail "fetch $i during the flood differs"
  ms=$(($(now_ms) - t1))
  [ $ms -gt $slowest ] && slowest=$ms
  sleep 0.05
done
fetch_ms=$(($(now_ms) - t0))
flooding=0
kill -0 "$HPING_PID" 2>/dev/null && flooding=1
wait "$HPING_PID" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
during=$(synack_stat --json)
grep -E 'packets transmitted' "$WORK/hping.out" || true
[ $flooding -eq 1 ] || fail "the flood ended before the last fetch"
echo "ok: $FETCHES fetches of 256 KiB byte-exact during the flood in $fetch_ms ms (slowest $slowest ms)"
delta() { echo $(($(num "$during" "$1") - $(num "$base" "$1"))); }
echo "counters over the flood: syn_deferred $(delta syn_deferred) syn_deferred_overflow $(delta syn_deferred_overflow)" \
  "syn_deferred_accepted $(delta syn_deferred_accepted) syn_deferred_unreachable $(delta syn_deferred_unreachable)" \
  "syn_deferred_expired $(delta syn_deferred_expired) sessions_opened $(delta sessions_opened)" \
  "failed_timeout $(delta failed_timeout) ip_in_receives $(delta ip_in_receives) rx_packets $(delta rx_packets)"
max_active=$(sort -n -k1 "$WORK/samples" | tail -1 | cut -d' ' -f1)
max_synsent=$(sort -n -k2 "$WORK/samples" | tail -1 | cut -d' ' -f2)
max_held=$(sort -n -k3 "$WORK/samples" | tail -1 | cut -d' ' -f3)
echo "samples: $(wc -l <"$WORK/samples") while flooding; sessions_active at most $max_active, syns_held at most" \
  "$max_held, upstream SYN-SENT at most $max_synsent"
[ "$(delta syn_deferred)" -ge $((2 * BACKLOG)) ] || fail "only $(delta syn_deferred) SYNs held under the flood"
[ "$(delta syn_deferred_overflow)" -ge 1 ] || fail "the held set never overflowed: no bound tested"
[ "$(delta syn_deferred_accepted)" -ge "$FETCHES" ] || fail "fewer SYNs accepted than fetches"
[ "${max_held:-0}" -le "$BACKLOG" ] || fail "syns_held reached $max_held, beyond the bound $BACKLOG"
[ "${max_active:-0}" -le $((BACKLOG + FETCHES)) ] || fail "sessions_active reached $max_active, beyond the bound $BACKLOG"
[ "${max_synsent:-0}" -le $((BACKLOG + FETCHES)) ] ||
  fail "$max_synsent upstream sockets in SYN-SENT, beyond the bound $BACKLOG"
[ "${max_active:-0}" -ge $((BACKLOG / 2)) ] || fail "sessions_active at most $max_active: the flood did not fill the held set"
echo "ok: bounded by --backlog $BACKLOG: upstream connects for held flood SYNs at most $max_synsent at once"

# Every flood session ends (its connect timeout, 4 s), no socket is left, and the proxy relays.
sessions_drained 10
json=$(synack_stat --json)
[ "$(ss -Htn state syn-sent | wc -l)" -eq 0 ] || fail "upstream sockets left in SYN-SENT"
[ "$(num "$json" syns_held)" -eq 0 ] || fail "syns_held $(num "$json" syns_held) after the flood"
echo "ok: after the flood: no session active, no upstream socket left (failed_timeout $(num "$json" failed_timeout))"
timeout 20 nsenter -t "$CLIENT_NS" -n curl -sf -o "$WORK/after" "http://$SERVER:8080/file" || fail "curl after the flood"
same_file "$WORK/www/file" "$WORK/after" "curl after the flood"
kill -0 "$PROXY_PID" || fail "synack proxy died"
echo "PASS"
