#!/usr/bin/env bash
# Issue #5 "Flood tests" 2: hping3 floods `synack serve http` with SYNs from random spoofed
# sources while curl (the kernel's TCP) keeps fetching a file; every fetch succeeds (SYN
# cookies, RFC 4987 §3.6), `synack stat` shows the cookies and the half-open count, and the
# server says "possible SYN flooding on port 80; sending cookies" once.
#
# Bounds: hping3 --flood ignores -c (checked: it sent 869,131 SYNs in 30 s with -c 200000), so
# the flood is ended by the test once three fetches went through, and by `timeout` at 30 s. Every packet stays in the test's own namespace: the
# SYN-ACKs to the spoofed sources go back into the TUN device, where the kernel, which has no
# route for them and does not forward, drops them.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need hping3 curl
mkdir -p "$WORK/www"
head -c 65536 /dev/urandom >"$WORK/www/file"
start_serve --syn-backlog 128 http "$WORK/www"
url="http://$SYN_ADDR/file"

timeout 10 curl -sf -o "$WORK/before" "$url" || fail "curl before the flood"
same_file "$WORK/www/file" "$WORK/before" "curl before the flood"

# The flood lasts until three fetches have gone through it, at most 30 s (an ASan build of
# synack answers far fewer SYNs a second, so its fetches take longer).
timeout -k 2 30 hping3 --flood --rand-source -S -p 80 "$SYN_ADDR" >"$WORK/hping.out" 2>&1 &
HPING_PID=$!
PIDS+=("$HPING_PID")
sleep 1

fetched=0
while kill -0 "$HPING_PID" 2>/dev/null && [ $fetched -lt 3 ]; do
  t0=$(now_ms)
  timeout 20 curl -sf -o "$WORK/during" "$url" || fail "curl during the flood (fetch $((fetched + 1)))"
  same_file "$WORK/www/file" "$WORK/during" "curl during the flood in $(($(now_ms) - t0)) ms"
  fetched=$((fetched + 1))
  if [ $fetched -eq 2 ]; then
    # Mid-flood: the SYN-flood view and the half-open connections.
    synack_stat --listeners >"$WORK/listeners.txt" 2>"$WORK/stat.err" || fail "synack stat --listeners: $(cat "$WORK/stat.err")"
    cat "$WORK/listeners.txt" | head -3
    # The half-open set churns under the flood (entries are freed and refilled); one listing
    # can catch it empty, so take up to five, 0.2 s apart: never above the bound, some non-empty.
    # (Seen once in ten runs: a listing of 0 right after the listener view showed 128.)
    best=0
    for _ in 1 2 3 4 5; do
      synack_stat --state SYN-RECEIVED >"$WORK/synrecv.txt" || fail "synack stat --state SYN-RECEIVED"
      half_open=$(grep -c '^SYN-RECEIVED' "$WORK/synrecv.txt" || true)
      [ "$half_open" -le 128 ] || fail "half-open count $half_open beyond --syn-backlog 128"
      [ "$half_open" -gt "$best" ] && best=$half_open
      [ "$best" -ge 1 ] && break
      sleep 0.2
    done
    echo "ok: synack stat --state SYN-RECEIVED lists $best half-open connections"
    [ "$best" -ge 1 ] || fail "half-open count 0 in five listings, want 1..128 (--syn-backlog)"
    row=$(grep -E '^[^ ]*:80 ' "$WORK/listeners.txt") || fail "no listener row for port 80"
    read -r _ synq synmax _ _ sent _ _ <<<"$row"
    [ "$synq" -le 128 ] || fail "listener SYN-Q $synq beyond --syn-backlog"
    [ "$synmax" -eq 128 ] || fail "listener SYN-max $synmax, want 128"
    [ "$sent" -gt 0 ] || fail "no cookies sent under the flood: $row"
    echo "ok: listener row: SYN-Q $synq of $synmax, $sent cookies sent"
  fi
  sleep 0.3
done
[ $fetched -ge 3 ] || fail "only $fetched fetches completed while the flood lasted"
kill -INT "$HPING_PID" 2>/dev/null || true
wait "$HPING_PID" 2>/dev/null || true
tail -3 "$WORK/hping.out" | grep -E 'packets transmitted' || true

json=$(synack_stat --json)
num() { echo "$json" | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2; }
sent=$(num syncookies_sent)
recv=$(num syncookies_recv)
failed=$(num syncookies_failed)
rx=$(num ip_in_receives)
echo "ok: $fetched fetches during the flood; $rx packets in; cookies sent $sent, recv $recv, failed $failed"
[ "$sent" -gt 1000 ] || fail "syncookies_sent $sent under a flood"
[ "$recv" -ge 1 ] || fail "no connection made from a cookie (curl's handshakes should be)"
n=$(grep -c 'possible SYN flooding on port 80; sending cookies' "$WORK/serve.err" || true)
[ "$n" -eq 1 ] || fail "the flood notice appeared $n times, want once: $(head -5 "$WORK/serve.err")"
echo "ok: serve said once: $(grep 'possible SYN flooding' "$WORK/serve.err")"

timeout 20 curl -sf -o "$WORK/after" "$url" || fail "curl after the flood"
same_file "$WORK/www/file" "$WORK/after" "curl after the flood"
stop_serve
