#!/usr/bin/env bash
# `synack proxy --direct`'s UDP relay (issue #15), in proxy.sh's namespaces (lib.sh:
# proxy_topology): a client namespace routed into synack's TUN device, an "internet" namespace
# with a DNS server (a python3 stdlib one: A records for one name) and a UDP echo server
# (lib.sh: udp_peers). Checks over IPv4 and IPv6: a DNS query through the proxy gets the right answer (and
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
udp_peers

CTL=$WORK/proxy.sock
ADDRS=(--addr "$SYN_ADDR/24")
[ $HAVE6 -eq 1 ] && ADDRS+=(--addr fd00:77::2/64)
start_proxy "$WORK/proxy.err" "${ADDRS[@]}" --direct --out-interface o0 --ctl "$CTL" -v \
  --udp-timeout 2 --udp-sessions 4
route_client_into_tun

dns_and_echo direct
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
stop_proxy

# --no-udp: the datagrams are not relayed (no answer), and stat says "udp":null.
start_proxy "$WORK/proxy-noudp.err" "${ADDRS[@]}" --direct --out-interface o0 --ctl "$CTL" --no-udp
ip route replace default dev "$TUN" table 100
[ $HAVE6 -eq 1 ] && ip -6 route replace default dev "$TUN" table 100
client silent "$SERVER" 7007 || fail "--no-udp: a datagram was echoed"
synack_stat --json | grep -q '"udp":null' || fail "--no-udp: no \"udp\":null in synack stat --json"
echo "ok: --no-udp relays no datagram"
echo "PASS"
