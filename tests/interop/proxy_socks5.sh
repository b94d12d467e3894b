#!/usr/bin/env bash
# `synack proxy --socks5` (issue #15), all inside namespaces this test makes, laid out as in
# proxy.sh: a client namespace whose traffic an `ip rule` sends into synack's TUN device here,
# and an "internet" namespace with a web server and two microsocks SOCKS5 servers (port 1080
# without authentication, 1081 with `-u user -P pass`), reached through the veth link o0
# (--out-interface). Checks: curl downloads 0 B, 1 MiB, 16 MiB and 100 MiB (and wget 100 MiB; SHA-256
# equal) through the
# server without authentication (and 1 MiB to an IPv6 destination: ATYP 4), a destination that
# speaks first (its banner relayed whole: the handshake reads no byte past the reply), a
# download that synack stat lists with both ends (upstream: the SOCKS5 server), a refused
# destination port fails curl at once (the server's REP 5 -> RST) and is counted as refused,
# the same 16 MiB with the right credentials, and with wrong ones a failed curl counted as an
# authentication failure; a server that never answers is cut by --connect-timeout, one that
# answers garbage is counted as malformed. synack stat's counters prove every byte went through
# synack and each handshake through the SOCKS5 server. About 15 s.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need curl wget ss nsenter python3 socat microsocks
mkdir -p "$WORK/www"
: >"$WORK/www/zero"
head -c 1048576 /dev/urandom >"$WORK/www/mib"
head -c $((16 * 1048576)) /dev/urandom >"$WORK/www/big"
head -c $((100 * 1048576)) /dev/urandom >"$WORK/www/huge"   # issue #15: 0 B..100 MiB byte-exact

# The namespaces and links of proxy.sh (lib.sh).
proxy_topology

bg_inet http4 timeout 120 python3 -m http.server --bind "$SERVER" -d "$WORK/www" 8080 >/dev/null 2>"$WORK/http4.err"
[ $HAVE6 -eq 1 ] && bg_inet http6 timeout 120 python3 -m http.server --bind "$SERVER6" -d "$WORK/www" 8080 \
  >/dev/null 2>"$WORK/http6.err"
bg_inet socks timeout 120 microsocks -i "$SERVER" -p 1080 >"$WORK/socks.out" 2>"$WORK/socks.err"
bg_inet socksauth timeout 120 microsocks -i "$SERVER" -p 1081 -u user -P pass >"$WORK/socksauth.out" \
  2>"$WORK/socksauth.err"
# A destination that speaks first: its banner may reach microsocks with the CONNECT reply.
bg_inet banner timeout 120 socat "TCP-LISTEN:7003,bind=$SERVER,reuseaddr,fork" SYSTEM:'echo synack-banner-7003'
# Not SOCKS5 servers: 1082 reads and never answers, 1083 answers like a web server and stays
# open. (No quotes or backslashes in the command: socat's address parser takes the quotes off
# and turns \r\n into line breaks, and the shell then printed "HTTP/1.0" and quit on a syntax
# error; socat, seeing its child gone, sometimes closed before relaying those bytes: a "closed
# during the handshake" instead of a malformed reply, about 1 connection in 60.)
bg_inet silent timeout 120 socat -u "TCP-LISTEN:1082,bind=$SERVER,reuseaddr,fork" OPEN:/dev/null
bg_inet garbage timeout 120 socat "TCP-LISTEN:1083,bind=$SERVER,reuseaddr,fork" \
  SYSTEM:'echo HTTP/1.0 400 Bad Request; sleep 5'
inet_listening 8080 7003 1080 1081 1082 1083

CTL=$WORK/proxy.sock
ADDRS=(--addr "$SYN_ADDR/24")
[ $HAVE6 -eq 1 ] && ADDRS+=(--addr fd00:77::2/64)
fetch() {  # fetch FILE WHAT [curl options]: a byte-exact download through the proxy
  local f=$1 what=$2 t0
  shift 2
  t0=$(now_ms)
  timeout 30 nsenter -t "$CLIENT_NS" -n curl -sf -o "$WORK/curl.$f" "$@" ||
    fail "curl $* through synack proxy ($what): $(tail -3 "$PROXY_ERR")"
  same_file "$WORK/www/$f" "$WORK/curl.$f" "curl $f through synack proxy, $what, in $(($(now_ms) - t0)) ms"
}
# 1. microsocks without authentication.
start_socks_proxy proxy --socks5 "$SERVER:1080"
for f in zero mib big huge; do fetch "$f" "SOCKS5 without auth" "http://$SERVER:8080/$f"; done
t0=$(now_ms)
timeout 30 nsenter -t "$CLIENT_NS" -n wget -q -O "$WORK/wget.huge" "http://$SERVER:8080/huge" ||
  fail "wget huge through synack proxy (SOCKS5): $(tail -3 "$PROXY_ERR")"
same_file "$WORK/www/huge" "$WORK/wget.huge" "wget huge through synack proxy, SOCKS5 without auth, in $(($(now_ms) - t0)) ms"
want_connected=5
if [ $HAVE6 -eq 1 ]; then
  fetch mib "SOCKS5 CONNECT to an IPv6 destination" -6 "http://[$SERVER6]:8080/mib"
  want_connected=6
else
  echo "note: no IPv6 in this kernel, the IPv6 destination is not checked"
fi
# The server speaks first: its banner, sent right after the CONNECT reply, is relayed whole
# (the handshake reads no byte past the reply).
banner=$(timeout 20 nsenter -t "$CLIENT_NS" -n socat -u "TCP4:$SERVER:7003" - 2>&1) || fail "banner: $banner"
[ "$banner" = "synack-banner-7003" ] || fail "the banner after the SOCKS5 reply came as '$banner'"
echo "ok: a destination that speaks first: its banner relayed whole"
want_connected=$((want_connected + 1))
# While a download runs, synack stat lists it with both ends: the client's connection to the
# original destination, and the proxy's socket to the SOCKS5 server ("via SOCKS5").
timeout 30 nsenter -t "$CLIENT_NS" -n curl -4 -sf --limit-rate 8M -o "$WORK/curl.slow" "http://$SERVER:8080/big" &
SLOW=$!
sleep 0.3
synack_stat --sport 8080 >"$WORK/stat.slow" || fail "synack stat during the download"
grep -E "^[A-Z12-]+ .* $SERVER:8080 +10\.99\.0\.2:[0-9]+ +.*upstream 198\.51\.100\.1:[0-9]+ -> $SERVER:1080 via SOCKS5 [A-Z12-]+$" \
  "$WORK/stat.slow" || fail "synack stat shows no proxied connection through SOCKS5: $(cat "$WORK/stat.slow")"
wait "$SLOW" || fail "slow curl through SOCKS5"
same_file "$WORK/www/big" "$WORK/curl.slow" "curl --limit-rate 8M through SOCKS5, listed with both ends by synack stat"
want_connected=$((want_connected + 1))
# A refused destination port: microsocks answers REP 5, synack answers the client's held SYN
# with RST|ACK at once: curl's "connection refused" (exit 7).
rc=0
t0=$(now_ms)
timeout 20 nsenter -t "$CLIENT_NS" -n curl -4 -s -o /dev/null "http://$SERVER:9999/" || rc=$?
[ $rc -eq 7 ] || fail "refused destination through SOCKS5: curl exit $rc, want 7 (connection refused)"
echo "ok: refused destination through SOCKS5 -> curl exit 7 in $(($(now_ms) - t0)) ms"
[ "$(proxy_counter syn_deferred_refused)" -ge 1 ] || fail "syn_deferred_refused not counted"
[ "$(proxy_counter failed_refused)" -ge 1 ] || fail "failed_refused not counted: $(synack_stat | grep -A1 Proxy:)"
[ "$(proxy_counter socks5_rejected)" -ge 1 ] || fail "socks5_rejected not counted: $(synack_stat | grep -A1 Proxy:)"
grep -q "upstream refused (SOCKS5 server: connection refused, REP 5)" "$PROXY_ERR" ||
  fail "no log line for the refused destination: $(tail -3 "$PROXY_ERR")"
sessions_drained
synack_stat | grep -A1 "^Proxy:"
[ "$(proxy_counter socks5_connected)" -eq "$want_connected" ] ||
  fail "socks5_connected $(proxy_counter socks5_connected), want $want_connected"
down=$(proxy_counter bytes_down)
[ "$down" -ge $((217 * 1048576)) ] || fail "bytes_down $down < 217 MiB: not everything went through synack"
echo "ok: synack stat: socks5_connected $want_connected, bytes_down $down, none active"
stop_proxy

# 2. microsocks with username/password, the right credentials.
start_socks_proxy proxyauth --socks5 "$SERVER:1081" --user user --password pass
grep -q "socks5 $SERVER:1081 (username/password)" "$PROXY_ERR" || fail "start line: $(cat "$PROXY_ERR")"
fetch big "SOCKS5 with username/password" "http://$SERVER:8080/big"
[ "$(proxy_counter socks5_connected)" -eq 1 ] || fail "socks5_connected $(proxy_counter socks5_connected), want 1"
[ "$(proxy_counter socks5_auth_failed)" -eq 0 ] || fail "socks5_auth_failed with the right credentials"
stop_proxy

# 3. Wrong credentials: the server rejects them, the client's connection is reset (not a hang).
start_socks_proxy proxybad --socks5 "$SERVER:1081" --user user --password wrong
rc=0
t0=$(now_ms)
timeout 20 nsenter -t "$CLIENT_NS" -n curl -4 -s -o /dev/null "http://$SERVER:8080/mib" || rc=$?
case $rc in
  7 | 52 | 56) echo "ok: wrong credentials -> curl exit $rc in $(($(now_ms) - t0)) ms" ;;
  *) fail "wrong credentials: curl exit $rc, want 7, 52 or 56" ;;
esac
[ "$(proxy_counter socks5_auth_failed)" -eq 1 ] ||
  fail "socks5_auth_failed $(proxy_counter socks5_auth_failed), want 1: $(synack_stat | grep -A1 Proxy:)"
[ "$(proxy_counter socks5_connected)" -eq 0 ] || fail "socks5_connected with wrong credentials"
grep -q "upstream auth failed (SOCKS5 server: authentication rejected)" "$PROXY_ERR" ||
  fail "no log line for the rejected credentials: $(tail -3 "$PROXY_ERR")"
sessions_drained
echo "ok: wrong credentials counted: $(synack_stat | grep -A1 '^Proxy:' | tail -1)"
stop_proxy

# 4. A server that takes the greeting and never answers: --connect-timeout bounds the handshake.
start_socks_proxy proxysilent --socks5 "$SERVER:1082" --connect-timeout 1
rc=0
t0=$(now_ms)
timeout 20 nsenter -t "$CLIENT_NS" -n curl -4 -s -o /dev/null "http://$SERVER:8080/mib" || rc=$?
ms=$(($(now_ms) - t0))
case $rc in
  7 | 52 | 56) echo "ok: silent SOCKS5 server -> curl exit $rc in $ms ms" ;;
  *) fail "silent SOCKS5 server: curl exit $rc, want 7, 52 or 56" ;;
esac
[ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ] || fail "silent SOCKS5 server: curl ended after $ms ms, want about 1 s"
[ "$(proxy_counter failed_timeout)" -eq 1 ] || fail "failed_timeout $(proxy_counter failed_timeout), want 1"
sessions_drained
stop_proxy

# 5. A server that answers something else than SOCKS5: a malformed reply, the client reset.
start_socks_proxy proxygarbage --socks5 "$SERVER:1083"
rc=0
timeout 20 nsenter -t "$CLIENT_NS" -n curl -4 -s -o /dev/null "http://$SERVER:8080/mib" || rc=$?
case $rc in
  7 | 52 | 56) echo "ok: a web server as SOCKS5 server -> curl exit $rc" ;;
  *) fail "garbage from the SOCKS5 server: curl exit $rc, want 7, 52 or 56" ;;
esac
[ "$(proxy_counter socks5_malformed)" -eq 1 ] || fail "socks5_malformed $(proxy_counter socks5_malformed), want 1"
grep -q "upstream SOCKS5 error (SOCKS5 server: malformed reply)" "$PROXY_ERR" ||
  fail "no log line for the malformed reply: $(tail -3 "$PROXY_ERR")"
sessions_drained
stop_proxy
echo "PASS"
