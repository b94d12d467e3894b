#!/usr/bin/env bash
# `synack connect` -> kernel socat servers: 100 MiB each direction (SHA-256 equal, timed);
# synack half-closes first on upload and then holds the TIME-WAIT (synack stat, via --linger);
# a closed port gives exit code 3 (refused), an address nobody answers exit code 5 (timeout).
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
  "$KERN_ADDR" 5001 <"$WORK/up.bin" 2>"$WORK/connect-up.err" &
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
timeout 20 "${CONNECT[@]}" --no-ctl --connect-timeout 1 10.77.0.99 5999 </dev/null 2>"$WORK/timeout.err" || rc=$?
[ "$rc" -eq 5 ] || fail "silent address: exit $rc, want 5 (timeout): $(cat "$WORK/timeout.err")"
echo "ok: silent address -> exit 5 ($(cat "$WORK/timeout.err"))"
