#!/usr/bin/env bash
# --pcap: a capture of ping, HTTP transfers and a 404 that tshark reads with no malformed
# packet and no bad IPv4/TCP/ICMP checksum. Fault injection smoke test (the TCP core has no
# reassembly yet, so impairments stay light): echo through --duplicate and --loss, byte-exact.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need tshark curl socat ping
mkdir -p "$WORK/www"
head -c 1048576 /dev/urandom >"$WORK/www/mib"
start_serve --pcap "$WORK/http.pcap" http "$WORK/www"
ping -c 2 -i 0.2 -W 1 "$SYN_ADDR" >/dev/null || fail "ping"
for _ in 1 2; do timeout 30 curl -sf -o "$WORK/mib.out" "http://$SYN_ADDR/mib" || fail "curl"; done
timeout 10 curl -s -o /dev/null "http://$SYN_ADDR/missing" || true
same_file "$WORK/www/mib" "$WORK/mib.out" "curl through pcap(tun)"
stop_serve

check_capture() {  # check_capture FILE
  local opts=(-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE)  # ICMP is always checked
  local n bad
  n=$(tshark -r "$1" "${opts[@]}" 2>/dev/null | wc -l)
  [ "$n" -gt 100 ] || fail "$1: only $n packets captured"
  # Status 0 is "Bad" (1 Good, 2 Unverified) in this tshark's checksum status fields.
  local filter='tcp.checksum.status == 0 || ip.checksum.status == 0 || icmp.checksum.status == 0 || _ws.malformed || _ws.expert.severity == error'
  tshark -r "$1" "${opts[@]}" -Y "$filter" >"$WORK/bad.txt" 2>"$WORK/tshark.err" || fail "tshark: $(cat "$WORK/tshark.err")"
  bad=$(wc -l <"$WORK/bad.txt")
  [ "$bad" -eq 0 ] || fail "$1: $bad bad packets: $(head "$WORK/bad.txt")"
  good=$(tshark -r "$1" "${opts[@]}" -Y 'tcp.checksum.status == 1' 2>/dev/null | wc -l)
  [ "$good" -gt 0 ] || fail "$1: no verified TCP checksum (is checksum checking on?)"
  echo "ok: $1: $n packets, $good TCP checksums verified good, none bad or malformed"
}
check_capture "$WORK/http.pcap"
tshark -r "$WORK/http.pcap" -Y 'icmp.type == 0' 2>/dev/null | grep -q . || fail "no echo reply in the capture"

# Faults: duplicates are harmless to TCP; light loss costs retransmissions only.
head -c 65536 /dev/urandom >"$WORK/echo.in"
start_serve --duplicate 0.1 --seed 7 --pcap "$WORK/dup.pcap" echo
timeout 60 socat -t 30 - "TCP:$SYN_ADDR:7" <"$WORK/echo.in" >"$WORK/echo.dup" || fail "socat through --duplicate"
same_file "$WORK/echo.in" "$WORK/echo.dup" "echo through faults --duplicate 0.1"
stop_serve
check_capture "$WORK/dup.pcap"
head -c 16384 "$WORK/echo.in" >"$WORK/echo.small"
start_serve --loss 0.02 --seed 3 echo
timeout 90 socat -t 60 - "TCP:$SYN_ADDR:7" <"$WORK/echo.small" >"$WORK/echo.loss" || fail "socat through --loss"
same_file "$WORK/echo.small" "$WORK/echo.loss" "echo through faults --loss 0.02"
stop_serve
