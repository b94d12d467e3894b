#!/usr/bin/env bash
# IPv6 over TUN against the kernel (issue #14), in the test's own namespace: ping -6; curl -6
# and wget -6 -> `synack serve http` (1 MiB and 16 MiB, SHA-256 equal) with curl -4 on the same
# dual-stack listener; synack stat showing [v6]:port rows; socat -> `synack serve echo` over
# IPv6, byte-exact; `synack connect` to a kernel socat over IPv6 both ways; the MSS of an IPv6
# link (ss -ti: 1440 less timestamps) and synack's answer to a 1280-octet route (1220); a
# router in front of a 1280-octet link whose Packet Too Big lowers synack's MSS mid-download.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need ping curl wget socat ss
[ -e /proc/sys/net/ipv6 ] || skip "the kernel has no IPv6"
SYN6=fd00:77::2
KERN6=fd00:77::1
mkdir -p "$WORK/www"
head -c 1048576 /dev/urandom >"$WORK/www/mib"
head -c $((16 * 1048576)) /dev/urandom >"$WORK/www/big"

start_serve --addr "$SYN6/64" -v http "$WORK/www"
grep -q "kernel side $KERN6" "$WORK/serve.err" || grep -q "$KERN6" <(ip -6 addr show dev "$TUN") ||
  fail "the kernel side has no $KERN6: $(ip -6 addr show dev "$TUN")"
ping -6 -c 3 -i 0.2 -W 1 "$SYN6" >"$WORK/ping.out" || fail "ping -6: $(cat "$WORK/ping.out")"
grep -q "3 received" "$WORK/ping.out" || fail "ping -6: $(tail -2 "$WORK/ping.out")"
echo "ok: ping -6, 3 of 3 replies"
for f in mib big; do
  timeout 60 curl -6 -sf -o "$WORK/curl.$f" "http://[$SYN6]/$f" || fail "curl -6 $f"
  same_file "$WORK/www/$f" "$WORK/curl.$f" "curl -6 $f"
  timeout 60 wget -6 -q -O "$WORK/wget.$f" "http://[$SYN6]/$f" || fail "wget -6 $f"
  same_file "$WORK/www/$f" "$WORK/wget.$f" "wget -6 $f"
done
timeout 60 curl -4 -sf -o "$WORK/curl4.mib" "http://$SYN_ADDR/mib" || fail "curl -4 on the dual-stack listener"
same_file "$WORK/www/mib" "$WORK/curl4.mib" "curl -4 on the same (dual-stack) listener"
grep -qE "^\[$KERN6\]:[0-9]+ \"GET /mib\" 200 1048576$" "$WORK/serve.err" || fail "access log: $(tail -5 "$WORK/serve.err")"
echo "ok: the access log shows the IPv6 peer as [v6]:port"

# A download held open by a slow reader: both ends in synack stat and in ss, MSS 1440.
curl -6 -s --limit-rate 500K -o /dev/null "http://[$SYN6]/big" &
PIDS+=($!)
for _ in $(seq 50); do
  synack_stat -H --state ESTABLISHED | grep -q "\[$KERN6\]" && break
  sleep 0.1
done
row=$(synack_stat -H --state ESTABLISHED)
grep -qE "\[$SYN6\]:80 +\[$KERN6\]:[0-9]+" <<<"$row" || fail "synack stat: $row"
echo "ok: synack stat: $(grep -oE "\[$SYN6\]:80 +\[$KERN6\]:[0-9]+" <<<"$row" | head -1)"
synack_stat -H --state LISTEN | grep -qF '[::]:80' || fail "stat LISTEN row: $(synack_stat -H --state LISTEN)"
# synack announced 1500 - 40 - 20 = 1440; the kernel's mss is that less its 12 octets of
# timestamps (1428) when they are on.
ss -Hti state established dst "[$SYN6]" | grep -qE ' mss:(1440|1428) ' || fail "ss -ti: $(ss -Hti state established dst "[$SYN6]")"
echo "ok: ss -ti shows the kernel's MSS to synack over IPv6: $(ss -Hti state established dst "[$SYN6]" | grep -oE ' mss:[0-9]+' | head -1)"
kill "${PIDS[-1]}" 2>/dev/null || true

# A 1280-octet route: the kernel announces 1220 and synack's segments fit it.
ip -6 route replace "$SYN6/128" dev "$TUN" mtu 1280
timeout 60 curl -6 -sf -o "$WORK/curl.small" "http://[$SYN6]/mib" || fail "curl -6 over a 1280 route"
same_file "$WORK/www/mib" "$WORK/curl.small" "curl -6 over a 1280-octet route"
ip -6 route del "$SYN6/128" dev "$TUN"

# Packet Too Big from a real router (RFC 8201): a client in a namespace of its own (made here,
# it dies with its `sleep`) behind a veth link whose router side has MTU 1280. This namespace's
# kernel forwards between the TUN and the link. The client announces 1440, so synack's full
# segments (1500 octets) cannot pass the router, which answers each with ICMPv6 Packet Too Big
# (MTU 1280, never rate-limited by Linux's default icmp ratemask); synack must lower the
# connection's MSS to 1220 and resend, and the download must arrive whole.
CLIENT6=fd00:78::2
ROUTER6=fd00:78::1
unshare -n sleep 300 &
CLIENT_NS=$!
PIDS+=("$CLIENT_NS")
for _ in $(seq 100); do
  [ "$(readlink "/proc/$CLIENT_NS/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
  sleep 0.02
done
in_client() { nsenter -t "$CLIENT_NS" -n "$@"; }
ip link add r0 type veth peer name c0
ip link set c0 netns "$CLIENT_NS"
ip link set r0 mtu 1280 up
ip -6 addr add "$ROUTER6/64" dev r0 nodad
sysctl -qw net.ipv6.conf.all.forwarding=1
in_client ip link set lo up
in_client ip link set c0 up
in_client ip -6 addr add "$CLIENT6/64" dev c0 nodad
in_client ip -6 route add default via "$ROUTER6" dev c0
json=$(synack_stat --json)
before=$(echo "$json" | grep -o '"pmtu_reductions":[0-9]*' | head -1 | cut -d: -f2)
timeout 60 nsenter -t "$CLIENT_NS" -n curl -6 -sf -o "$WORK/curl.ptb" "http://[$SYN6]/big" ||
  fail "curl -6 through a 1280-octet router"
same_file "$WORK/www/big" "$WORK/curl.ptb" "curl -6 through a router with a 1280-octet link (Packet Too Big)"
json=$(synack_stat --json)
after=$(echo "$json" | grep -o '"pmtu_reductions":[0-9]*' | head -1 | cut -d: -f2)
matched=$(echo "$json" | grep -o '"icmp_in_errors_matched":[0-9]*' | head -1 | cut -d: -f2)
[ "$after" -gt "$before" ] || fail "no Packet Too Big lowered an MSS (pmtu_reductions $before -> $after)"
# The router's own count of Packet Too Big sent (Icmp6OutPktTooBigs) says it really answered.
ptb_out=$(awk '$1 == "Icmp6OutPktTooBigs" {print $2}' /proc/net/snmp6)
[ "${ptb_out:-0}" -gt 0 ] || fail "the router sent no Packet Too Big"
echo "ok: the router sent $ptb_out Packet Too Big; synack matched $matched ICMP errors, lowered the MSS $((after - before)) time(s)"
ip link del r0
stop_serve

# Echo over IPv6: socat half-closes first and reads the echo to the end.
start_serve --addr "$SYN6/64" echo
head -c 1048576 /dev/urandom >"$WORK/in.bin"
timeout 30 socat -t 20 - "TCP6:[$SYN6]:7" <"$WORK/in.bin" >"$WORK/echo.out" || fail "socat TCP6 echo"
same_file "$WORK/in.bin" "$WORK/echo.out" "socat echo over IPv6"
stop_serve

# synack connect -> kernel socat over IPv6, both ways.
make_tun
ip -6 addr add "$KERN6/64" dev "$TUN" nodad
CONNECT=("$SYNACK_BIN" connect --tun "$TUN" --addr "$SYN6/64" --no-configure --no-ctl)
timeout 60 socat -u "TCP6-LISTEN:5001,bind=[$KERN6],reuseaddr" "OPEN:$WORK/up.out,creat,trunc" &
PIDS+=($!)
wait_listen 5001
timeout -k 5 60 "${CONNECT[@]}" "$KERN6" 5001 <"$WORK/www/big" 2>"$WORK/connect-up.err" ||
  fail "synack connect (upload) exited $?: $(cat "$WORK/connect-up.err")"
for _ in $(seq 100); do
  [ "$(stat -c %s "$WORK/up.out" 2>/dev/null || echo 0)" -ge $((16 * 1048576)) ] && break
  sleep 0.1
done
same_file "$WORK/www/big" "$WORK/up.out" "upload synack -> kernel over IPv6"
timeout 60 socat -u "OPEN:$WORK/www/big" "TCP6-LISTEN:5002,bind=[$KERN6],reuseaddr" &
PIDS+=($!)
wait_listen 5002
timeout -k 5 60 "${CONNECT[@]}" "$KERN6" 5002 </dev/null >"$WORK/down.out" 2>"$WORK/connect-down.err" ||
  fail "synack connect (download) exited $?: $(cat "$WORK/connect-down.err")"
same_file "$WORK/www/big" "$WORK/down.out" "download kernel -> synack over IPv6"
rc=0
timeout 20 "${CONNECT[@]}" "$KERN6" 5999 </dev/null 2>"$WORK/refused.err" || rc=$?
[ "$rc" -eq 3 ] || fail "closed IPv6 port: exit $rc, want 3 (refused): $(cat "$WORK/refused.err")"
echo "ok: closed IPv6 port -> exit 3"
echo "PASS"
