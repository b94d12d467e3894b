#!/usr/bin/env bash
# curl and wget (kernel) -> `synack serve http DIR`: 0 B, 1 B, 1 MiB and 100 MiB files, SHA-256
# equal; 404; HEAD; keep-alive (two requests, one connection); with "Connection: close" synack
# closes first and holds the TIME-WAIT (synack stat), the kernel none (ss); Range (206, 416),
# a percent-encoded path, HTTP/1.0 keep-alive granted aloud, and -v's access log; `synack stat`
# -i, -H, -s and filters on a live download, against what `ss -ti` says from the kernel's side.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need curl wget ss
mkdir -p "$WORK/www"
: >"$WORK/www/zero"
printf x >"$WORK/www/one"
printf 0123456789 >"$WORK/www/ten ten.txt"
head -c 1048576 /dev/urandom >"$WORK/www/mib"
head -c 104857600 /dev/urandom >"$WORK/www/big"
start_serve --msl 30 -v http "$WORK/www"
url="http://$SYN_ADDR"

# synack closes first on "Connection: close".
timeout 10 curl -sf -H 'Connection: close' -o "$WORK/close.out" "$url/one" || fail "curl Connection: close"
sleep 0.2
tw_synack=$(synack_stat --state TIME-WAIT | grep -c '^TIME-WAIT' || true)
tw_kernel=$(ss -Htan state time-wait dst "$SYN_ADDR" | wc -l)
[ "$tw_synack" -eq 1 ] || fail "synack closed first but synack stat shows $tw_synack TIME-WAIT: $(synack_stat)"
[ "$tw_kernel" -eq 0 ] || fail "the kernel closed second but ss shows $tw_kernel TIME-WAIT"
echo "ok: synack closed first: synack stat shows TIME-WAIT, ss none"
synack_stat --json --state TIME-WAIT | grep -q '"state":"TIME-WAIT"' || fail "stat --json"
echo "ok: synack stat --json"

for f in zero one mib big; do
  t0=$(now_ms)
  timeout 60 curl -sf -o "$WORK/curl.$f" "$url/$f" || fail "curl $f"
  t1=$(now_ms)
  same_file "$WORK/www/$f" "$WORK/curl.$f" "curl $f in $((t1 - t0)) ms"
  t0=$(now_ms)
  timeout 60 wget -q -O "$WORK/wget.$f" "$url/$f" || fail "wget $f"
  t1=$(now_ms)
  same_file "$WORK/www/$f" "$WORK/wget.$f" "wget $f in $((t1 - t0)) ms"
  rm -f "$WORK/curl.$f" "$WORK/wget.$f"
done

code=$(timeout 10 curl -s -o /dev/null -w '%{http_code}' "$url/missing") || true
[ "$code" = 404 ] || fail "missing file: HTTP $code, want 404"
echo "ok: 404"
len=$(timeout 10 curl -sI "$url/mib" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-length"{print $2}')
[ "$len" = 1048576 ] || fail "HEAD: Content-Length '$len'"
echo "ok: HEAD Content-Length $len"
conns=$(timeout 20 curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$url/mib" "$url/one" | awk '{s += $1} END {print s}')
[ "$conns" = 1 ] || fail "keep-alive: two requests took $conns connections"
echo "ok: keep-alive, two requests on one connection"
part=$(timeout 10 curl -sf -r 2-4 "$url/ten%20ten.txt") || fail "curl -r 2-4 of a percent-encoded path"
[ "$part" = 234 ] || fail "Range 2-4 gave '$part', want 234"
code=$(timeout 10 curl -s -o /dev/null -w '%{http_code}' -r 20- "$url/ten%20ten.txt") || true
[ "$code" = 416 ] || fail "Range 20- of 10 bytes: HTTP $code, want 416"
echo "ok: Range 206 and 416 on a percent-encoded path"
hdr=$(timeout 10 curl -s -0 -H 'Connection: keep-alive' -D - -o /dev/null "$url/one" | tr -d '\r')
grep -qi '^Connection: keep-alive$' <<<"$hdr" || fail "HTTP/1.0 keep-alive not granted aloud: $hdr"
conns=$(timeout 20 curl -s -0 -H 'Connection: keep-alive' -o /dev/null -o /dev/null -w '%{num_connects}\n' "$url/one" "$url/one" | awk '{s += $1} END {print s}')
[ "$conns" = 1 ] || fail "HTTP/1.0 keep-alive: two requests took $conns connections"
echo "ok: HTTP/1.0 keep-alive (header, one connection)"
grep -qE '^10\.77\.0\.[0-9]+:[0-9]+ "GET /ten%20ten.txt" 206 3$' "$WORK/serve.err" || fail "access log: $(tail -5 "$WORK/serve.err")"
echo "ok: access log"

# synack stat for ss users, on a download held open by a slow reader: -i, filters, -H, -s.
curl -s --limit-rate 1M -o /dev/null "$url/big" &
slow=$!
PIDS+=("$slow")
for _ in $(seq 50); do
  synack_stat -H --state ESTABLISHED --sport 80 | grep -q ESTABLISHED && break
  sleep 0.1
done
sleep 0.5
info=$(synack_stat -i --state ESTABLISHED --sport 80 --dst "$KERN_ADDR")
grep -qE '^	 cubic .*rtt:[0-9.]+/[0-9.]+ .*mss:[0-9]+ .*cwnd:[0-9]+ .*bytes_sent:[1-9][0-9]* ' <<<"$info" || fail "stat -i: $info"
rows=$(synack_stat -H --state ESTABLISHED,TIME-WAIT --dport 1 | wc -l)
[ "$rows" -eq 0 ] || fail "stat --dport 1 listed $rows rows"
synack_stat -s | grep -qE '^  ESTABLISHED +[1-9]' || fail "stat -s: $(synack_stat -s)"
synack_stat --json --state ESTABLISHED | grep -q '"internals":{"congestion":"cubic","srtt_us":[0-9]' || fail "stat --json internals"
# --watch with --delta: the second round lists the counters the download moved, with rates.
delta=$(synack_stat -H --state ESTABLISHED --watch 1 --count 2 --delta)  # curl --limit-rate reads in bursts: a whole second sees some
grep -qE '^out_segs +[1-9][0-9]* +[0-9.]+/s$' <<<"$delta" || fail "stat --watch --delta: $delta"
# What ss -ti says of the same connection from the kernel's side: it received what synack sent
# (less what is in flight), so synack's bytes_acked never exceeds the kernel's bytes_received.
acked=$(grep -o 'bytes_acked:[0-9]*' <<<"$info" | cut -d: -f2)
krcv=$(ss -Htin state established dst "$SYN_ADDR" | grep -o 'bytes_received:[0-9]*' | head -1 | cut -d: -f2)
[ -n "$krcv" ] && [ "$acked" -le "$krcv" ] || fail "synack bytes_acked $acked, kernel bytes_received '$krcv'"
kill "$slow" 2>/dev/null || true
wait "$slow" 2>/dev/null || true
echo "ok: stat -i/-H/-s/filters/json internals (synack acked $acked, kernel received $krcv)"
stop_serve
