#!/usr/bin/env bash
# `synack connect` -> kernel socat servers: 100 MiB each direction (SHA-256 equal, timed);
# synack half-closes first on upload and then holds the TIME-WAIT (synack stat, via --linger);
# a closed port gives exit code 3 (refused), an address nobody answers exit code 5 (timeout);
# a simultaneous close (both FINs in flight at once) leaves both sides in TIME-WAIT; the upload
# runs with --progress and -v (the final progress line and the summary's byte count checked).
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need socat ss
make_tun
SIZE=$((100 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$WORK/up.bin"
head -c "$SIZE" /dev/urandom >"$WORK/down.bin"
CONNECT=("$SYNACK_BIN" connect --tun "$TUN" --addr "$SYN_ADDR/24" --no-configure)

# Upload: stdin -> synack -> kernel. socat -u writes what it receives to a file.
timeout 90 socat -u "TCP-LISTEN:5001,bind=$KERN_ADDR,reuseaddr" "OPEN:$WORK/up.out,creat,trunc" &
PIDS+=($!)
wait_listen 5001
CTL=$WORK/connect.sock
t0=$(now_ms)
timeout -k 5 90 "$SYNACK_BIN" connect --tun "$TUN" --addr "$SYN_ADDR/24" --no-configure --ctl "$CTL" --linger 3 \
  --progress -v "$KERN_ADDR" 5001 <"$WORK/up.bin" 2>"$WORK/connect-up.err" &
CPID=$!
PIDS+=("$CPID")
for _ in $(seq 900); do
  [ "$(stat -c %s "$WORK/up.out" 2>/dev/null || echo 0)" -ge "$SIZE" ] && break
  sleep 0.1
done
t1=$(now_ms)
sleep 0.5
tw=$(synack_stat --state TIME-WAIT | grep -c '^TIME-WAIT' || true)
[ "$tw" -eq 1 ] || fail "synack closed first but synack stat shows $tw TIME-WAIT: $(synack_stat)"
[ "$(ss -Htan state time-wait | wc -l)" -eq 0 ] || fail "the kernel closed second but holds a TIME-WAIT"
echo "ok: synack closed first: TIME-WAIT in synack stat, none in ss"
wait "$CPID" || fail "synack connect (upload) exited $?: $(cat "$WORK/connect-up.err")"
same_file "$WORK/up.bin" "$WORK/up.out" "upload synack -> kernel in $((t1 - t0)) ms"
tr '\r' '\n' <"$WORK/connect-up.err" | grep -qE '^100.0 MiB sent, 0 B received, .*/s, .* s, 100 %' ||
  fail "--progress: no final line with 100 MiB and 100 %: $(tr '\r' '\n' <"$WORK/connect-up.err" | tail -3)"
grep -q "synack connect: sent $SIZE bytes, received 0 bytes in " "$WORK/connect-up.err" ||
  fail "-v summary: $(grep 'synack connect: sent' "$WORK/connect-up.err")"
echo "ok: --progress and the -v summary ($(grep -o 'sent [0-9]* bytes.*' "$WORK/connect-up.err"))"

# Download: kernel -> synack -> stdout; the kernel closes first after the file.
timeout 90 socat -u "OPEN:$WORK/down.bin" "TCP-LISTEN:5002,bind=$KERN_ADDR,reuseaddr" &
PIDS+=($!)
wait_listen 5002
t0=$(now_ms)
timeout -k 5 90 "${CONNECT[@]}" --no-ctl "$KERN_ADDR" 5002 </dev/null >"$WORK/down.out" 2>"$WORK/connect-down.err" ||
  fail "synack connect (download) exited $?: $(cat "$WORK/connect-down.err")"
t1=$(now_ms)
same_file "$WORK/down.bin" "$WORK/down.out" "download kernel -> synack in $((t1 - t0)) ms"

rc=0
timeout 20 "${CONNECT[@]}" --no-ctl "$KERN_ADDR" 5999 </dev/null 2>"$WORK/refused.err" || rc=$?
[ "$rc" -eq 3 ] || fail "closed port: exit $rc, want 3 (refused): $(cat "$WORK/refused.err")"
echo "ok: closed port -> exit 3 ($(cat "$WORK/refused.err"))"
rc=0
# SYNs at 0, 1, 3 and 7 s: the third retransmission reaches R1 (RFC 9293 §3.8.3, SHLD-9), which
# connect reports and keeps trying; the 8 s connect timeout then ends it.
timeout 20 "${CONNECT[@]}" --no-ctl --connect-timeout 8 10.77.0.99 5999 </dev/null 2>"$WORK/timeout.err" || rc=$?
[ "$rc" -eq 5 ] || fail "silent address: exit $rc, want 5 (timeout): $(cat "$WORK/timeout.err")"
grep -q "no answer after 3 retransmissions; still trying" "$WORK/timeout.err" ||
  fail "silent address: no R1 warning before the timeout: $(cat "$WORK/timeout.err")"
echo "ok: silent address -> R1 warning, then exit 5 ($(tr '\n' ' ' <"$WORK/timeout.err"))"

# Simultaneous close (RFC 9293 §3.6 case 2, Figure 13). Every packet is held 200 ms each way on
# synack's side (--reorder 1 --reorder-delay 200), so the kernel's FIN, sent as soon as socat
# accepts, is still in flight when synack's FIN leaves (its stdin ends ~600 ms after start,
# ~200 ms after the handshake): each side gets a FIN that does not acknowledge its own, goes
# through CLOSING, and both end in TIME-WAIT.
timeout 20 socat -u OPEN:/dev/null "TCP-LISTEN:5003,bind=$KERN_ADDR,reuseaddr" &
PIDS+=($!)
wait_listen 5003
CTL=$WORK/simul.sock
{ sleep 0.6; } | timeout -k 5 20 "${CONNECT[@]}" --ctl "$CTL" --linger 2 --reorder 1 --reorder-delay 200 --seed 1 \
  --pcap "$WORK/simul.pcap" --svg "$WORK/simul.svg" --html "$WORK/simul.html" "$KERN_ADDR" 5003 2>"$WORK/simul.err" &
CPID=$!
PIDS+=("$CPID")
for _ in $(seq 40); do
  [ "$(synack_stat --state TIME-WAIT 2>/dev/null | grep -c '^TIME-WAIT' || true)" -eq 1 ] && break
  sleep 0.1
done
tw=$(synack_stat --state TIME-WAIT | grep -c '^TIME-WAIT' || true)
[ "$tw" -eq 1 ] || fail "simultaneous close: synack stat shows $tw TIME-WAIT: $(synack_stat)"
for _ in $(seq 20); do
  [ "$(ss -Htan state time-wait "sport = :5003" | wc -l)" -eq 1 ] && break
  sleep 0.1
done
[ "$(ss -Htan state time-wait "sport = :5003" | wc -l)" -eq 1 ] ||
  fail "simultaneous close: the kernel does not hold TIME-WAIT: $(ss -tan)"
wait "$CPID" || fail "simultaneous close: synack connect exited $?: $(cat "$WORK/simul.err")"
echo "ok: simultaneous close: TIME-WAIT on both sides (synack stat and ss), exit 0"

# The same run drawn (`connect --pcap --svg --html`, and `synack diagram` of its capture): synack's
# side goes through CLOSING to TIME-WAIT, and each file has one arrow per captured segment.
segs=$(tshark -r "$WORK/simul.pcap" -Y tcp 2>/dev/null | wc -l)
[ "$segs" -gt 0 ] || fail "simultaneous close: the capture holds no segment"
for f in simul.svg simul.html; do
  grep -q "data-segments=\"$segs\"" "$WORK/$f" || fail "connect --${f#simul.}: $(grep -o 'data-segments="[0-9]*"' "$WORK/$f" | head -1), want $segs"
done
ladder=$("$SYNACK_BIN" diagram "$WORK/simul.pcap" --width 160 --ascii)
a_states=$(echo "$ladder" | awk 'NR > 3 && /^ *[0-9]/ && $2 ~ /^[A-Z]+(-[A-Z0-9]+)*$/ { print $2 }' | tr '\n' ' ')
[ "$a_states" = "SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT " ] ||
  fail "simultaneous close: the ladder shows synack's states as '$a_states':
$ladder"
echo "ok: simultaneous close drawn: $segs segments in the SVG and the HTML, synack's side $a_states"
