#!/usr/bin/env bash
# RFC 3168 ECN against the kernel, with net.ipv4.tcp_ecn = 1 in this namespace (the kernel asks
# for ECN on its SYNs and accepts it on a peer's). Passive: socat -> `synack serve echo` (ECN
# passive, its default) — synack's SYN-ACK answers the kernel's ECN-setup SYN with ECE alone,
# `synack stat -i` shows the connection's "ecn". Active: `synack connect --ecn on` -> a kernel
# socat — its SYN carries ECE and CWR, the kernel's SYN-ACK ECE. In both captures (--pcap)
# synack's data goes ECT(0), its SYN-ACK / SYN and pure ACKs Not-ECT.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need socat tshark sysctl
sysctl -qw net.ipv4.tcp_ecn=1 2>/dev/null || skip "cannot set net.ipv4.tcp_ecn in this network namespace"
head -c 262144 /dev/urandom >"$WORK/in.bin"

# ecn_of PCAP FILTER: the distinct "ECN-field TCP-flags" pairs of the packets FILTER selects.
ecn_of() {
  tshark -r "$1" -Y "$2" -T fields -E separator=' ' -e ip.dsfield.ecn -e tcp.flags 2>/dev/null | sort -u | tr '\n' ' '
}
# check_setup PCAP ASKER: the SYN from ASKER Not-ECT with SYN, ECE and CWR (0x00c2), the SYN-ACK
# to it Not-ECT with SYN, ACK and ECE (0x0052).
check_setup() {
  local syn synack
  syn=$(ecn_of "$1" "ip.src == $2 && tcp.flags.syn == 1")
  [ "$syn" = "0 0x00c2 " ] || fail "$1: the SYN from $2: '$syn', want Not-ECT (0) with SYN, ECE, CWR (0x00c2)"
  synack=$(ecn_of "$1" "ip.dst == $2 && tcp.flags.syn == 1")
  [ "$synack" = "0 0x0052 " ] || fail "$1: the SYN-ACK to $2: '$synack', want Not-ECT (0) with SYN, ACK, ECE (0x0052)"
  echo "ok: $1: $2's ECN-setup SYN answered by an ECN-setup SYN-ACK, both Not-ECT"
}
# check_data PCAP: synack's data ECT(0) (2), its pure ACKs Not-ECT (0).
check_data() {
  local data acks
  data=$(tshark -r "$1" -Y "ip.src == $SYN_ADDR && tcp.len > 0" -T fields -e ip.dsfield.ecn 2>/dev/null | sort -u | tr '\n' ' ')
  [ "$data" = "2 " ] || fail "$1: synack's data segments carry ECN field(s) '$data', want ECT(0) (2) only"
  acks=$(tshark -r "$1" -Y "ip.src == $SYN_ADDR && tcp.len == 0 && tcp.flags.syn == 0" -T fields -e ip.dsfield.ecn 2>/dev/null |
    sort -u | tr '\n' ' ')
  [ "$acks" = "0 " ] || fail "$1: synack's pure ACKs carry ECN field(s) '$acks', want Not-ECT (0) only"
  echo "ok: $1: synack's data ECT(0), its pure ACKs Not-ECT"
}

# Passive: the kernel asks.
start_serve --pcap "$WORK/serve.pcap" echo
(cat "$WORK/in.bin"; sleep 1) | timeout 30 socat -t 5 - "TCP:$SYN_ADDR:7" >"$WORK/echo.out" &
SOCAT=$!
PIDS+=("$SOCAT")
sleep 0.5
synack_stat -i --state ESTABLISHED >"$WORK/stat.txt"
grep -q ' ecn' "$WORK/stat.txt" || fail "synack stat -i shows no ecn on the connection: $(cat "$WORK/stat.txt")"
echo "ok: synack stat -i: ecn negotiated"
wait "$SOCAT" || fail "socat exited $?"
same_file "$WORK/in.bin" "$WORK/echo.out" "echo with ECN"
stop_serve
check_setup "$WORK/serve.pcap" "$KERN_ADDR"
check_data "$WORK/serve.pcap"

# Active: synack asks (--ecn on).
make_tun
timeout 30 socat -u "TCP-LISTEN:5001,bind=$KERN_ADDR,reuseaddr" "OPEN:$WORK/up.out,creat,trunc" &
PIDS+=($!)
wait_listen 5001
timeout -k 5 30 "$SYNACK_BIN" connect --tun "$TUN" --addr "$SYN_ADDR/24" --no-configure --no-ctl --ecn on \
  --pcap "$WORK/connect.pcap" "$KERN_ADDR" 5001 <"$WORK/in.bin" 2>"$WORK/connect.err" ||
  fail "synack connect --ecn on exited $?: $(cat "$WORK/connect.err")"
for _ in $(seq 100); do
  [ "$(stat -c %s "$WORK/up.out" 2>/dev/null || echo 0)" -ge 262144 ] && break
  sleep 0.05
done
same_file "$WORK/in.bin" "$WORK/up.out" "upload with ECN"
check_setup "$WORK/connect.pcap" "$SYN_ADDR"
check_data "$WORK/connect.pcap"
