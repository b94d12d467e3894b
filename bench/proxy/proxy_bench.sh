#!/usr/bin/env bash
# `synack proxy` (issue #15) against the kernel's own transparent-proxy path, in one run:
#
#   synack-socks5   client -> synack proxy --socks5 (TUN) -> microsocks -> server
#   redsocks        client -> iptables REDIRECT -> redsocks -> the same microsocks -> server
#   synack-direct   client -> synack proxy --direct (TUN) -> server
#   kernel-route    client -> the kernel forwards (no proxy at all): the ceiling of this setup
#
#   bench/proxy/proxy_bench.sh SYNACK_BIN
#
# Measures, per path: the resident memory (VmRSS of /proc/PID/status) of the proxy process
# (synack; redsocks) and of microsocks for N idle proxied connections (established through the
# proxy to the server, then after 1 byte each way), total and per connection, each N on a fresh
# proxy; single-stream download and upload of BYTES; connections per second (COUNT short
# connections, PARALLEL in flight: connect, 16-byte request, its echo, close). Prints every
# figure, the synack / redsocks ratios, `uname -r`, nproc and the load average.
#
# Namespaces (all made here; every address lives inside them, nothing leaves): this script
# re-runs itself under `unshare -n` (the proxy's namespace P: synack's TUN device, redsocks, the
# iptables rule); a client namespace C (10.99.0.2, default route via P) and an upstream
# namespace U (198.51.100.10: microsocks and the servers of proxy_load.py), each held by one
# `unshare -n sleep`. In P an `ip rule` sends what comes from C into synack's TUN device (with
# --out-interface o0 for synack's own sockets, as tests/interop/proxy.sh); for redsocks the
# rule `iptables -t nat -A PREROUTING -i r0 -p tcp -j REDIRECT` is added instead and IPv4
# forwarding is turned off, so nothing reaches U except through redsocks. redsocks runs with
# its default `splice = true` (2 pipes per connection) unless the descriptors would not fit.
#
# Environment: SYNACK_PROXY_BENCH_CONNS (idle connection counts, default "1000"; "1000 10000"
#              for both of the issue's; "" for none), SYNACK_PROXY_BENCH_BYTES (default 256 MiB),
#              SYNACK_PROXY_BENCH_RATE_CONNS (default 5000), SYNACK_PROXY_BENCH_PARALLEL (64),
#              SYNACK_PROXY_BENCH_REPS (throughput and rate runs per path, best kept; default 2),
#              SYNACK_PROXY_BENCH_PROXY_ARGS (more options for synack proxy, e.g. "--buffer 4
#              --offload off", to see where its memory goes),
#              SYNACK_PROXY_BENCH_PATHS (default "synack-socks5 redsocks synack-direct kernel-route"),
#              SYNACK_PROXY_BENCH_SOCKS (the SOCKS5 server of both socks paths: "microsocks", the
#              default, or "dante": dante-server's danted, whose relay is not the bottleneck
#              microsocks' 1 KiB loop is; its memory is the PSS of its processes, summed).
# Needs root, redsocks, iptables, microsocks or danted, python3 (scripts/setup.sh). About 2.5 minutes with
# the defaults at load 10; a 10,000-connection round adds about 40 s per path.
set -euo pipefail

SYNACK_BIN=$(realpath "${1:?usage: $0 SYNACK_BIN}")
HERE=$(cd "$(dirname "$0")" && pwd)
LOAD="$HERE/proxy_load.py"
CONNS=${SYNACK_PROXY_BENCH_CONNS-1000}  # set and empty: no memory round
BYTES=${SYNACK_PROXY_BENCH_BYTES:-268435456}
RATE_CONNS=${SYNACK_PROXY_BENCH_RATE_CONNS:-5000}
PARALLEL=${SYNACK_PROXY_BENCH_PARALLEL:-64}
REPS=${SYNACK_PROXY_BENCH_REPS:-2}
read -ra PROXY_ARGS <<<"${SYNACK_PROXY_BENCH_PROXY_ARGS:-}"
PATHS=${SYNACK_PROXY_BENCH_PATHS:-synack-socks5 redsocks synack-direct kernel-route}
SOCKS=${SYNACK_PROXY_BENCH_SOCKS:-microsocks}

die() {
  echo "proxy-bench: $*" >&2
  exit 1
}

if [ -z "${SYNACK_PROXY_BENCH_IN_NETNS:-}" ]; then
  case "$SOCKS" in microsocks | dante) ;; *) die "SYNACK_PROXY_BENCH_SOCKS: microsocks or dante, not '$SOCKS'" ;; esac
  for t in unshare nsenter ip ss iptables redsocks "${SOCKS/dante/danted}" python3 timeout; do
    command -v "$t" >/dev/null || die "$t not installed (scripts/setup.sh)"
  done
  [ -c /dev/net/tun ] || die "no /dev/net/tun"
  unshare -n true 2>/dev/null || die "cannot create a network namespace: run as root"
  SYNACK_PROXY_BENCH_IN_NETNS=1 exec unshare -n "$0" "$SYNACK_BIN"
fi

# redsocks and microsocks hold 2 sockets per connection: raise the limit on open files as far as
# we may (without CAP_SYS_RESOURCE only up to the hard limit); a relay that would need more is
# measured with as many connections as fit, and says so.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)

SERVER=198.51.100.10
ECHO_PORT=7
BULK_PORT=5001
SOCKS_PORT=1080
REDSOCKS_PORT=12345
WORK=$(mktemp -d /tmp/synack-proxy-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

new_ns() {  # a namespace held by one process; sets NS_PID
  unshare -n sleep 100000 &
  NS_PID=$!
  PIDS+=("$NS_PID")
  for _ in $(seq 100); do
    [ "$(readlink "/proc/$NS_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] && return 0
    sleep 0.02
  done
  die "no namespace for sleep $NS_PID"
}
new_ns
CNS=$NS_PID
new_ns
UNS=$NS_PID
inc() { nsenter --net="/proc/$CNS/ns/net" "$@"; }
inu() { nsenter --net="/proc/$UNS/ns/net" "$@"; }

ip link set lo up
ip link add r0 type veth peer name c0 netns "$CNS"
ip link add o0 type veth peer name i0 netns "$UNS"
ip addr add 10.99.0.1/24 dev r0
ip addr add 198.51.100.1/24 dev o0
ip link set r0 up
ip link set o0 up
inc ip link set lo up
inc ip addr add 10.99.0.2/24 dev c0
inc ip link set c0 up
inc ip route add default via 10.99.0.1
inu ip link set lo up
inu ip addr add "$SERVER/24" dev i0
inu ip link set i0 up
inu ip route add default via 198.51.100.1   # only kernel-route's answers go this way
# Room for the TIME-WAITs of the rate runs in every namespace.
for ns in "" inc inu; do
  $ns sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1
done
for c in all default r0 o0; do sysctl -qw "net.ipv4.conf.$c.rp_filter=0"; done
ip rule add iif r0 lookup 100 priority 100

# The servers in U (nsenter execs them: $! is the process itself).
nsenter --net="/proc/$UNS/ns/net" python3 "$LOAD" server "$SERVER" "$ECHO_PORT" "$BULK_PORT" "$WORK/held" >/dev/null 2>"$WORK/server.err" &
PIDS+=($!)
wait_listen() {  # wait_listen NSCMD PORT
  for _ in $(seq 200); do
    [ -n "$($1 ss -Hltn "sport = :$2")" ] && return 0
    sleep 0.05
  done
  die "nothing listens on port $2: $(cat "$WORK"/*.err 2>/dev/null)"
}
wait_listen inu "$ECHO_PORT"
wait_listen inu "$BULK_PORT"

# One path up at a time: start_path PATH / stop_path. Sets MAIN_PID (the proxy process whose
# memory is measured; none for kernel-route) and SOCKS_PID (microsocks or danted, socks paths only).
MAIN_PID=
SOCKS_PID=
start_socks() {
  if [ "$SOCKS" = dante ]; then
    # No authentication, CONNECT only, out from the server's own address.
    printf 'logoutput: %s\ninternal: %s port = %s\nexternal: %s\nclientmethod: none\nsocksmethod: none\nuser.privileged: root\nuser.unprivileged: nobody\nclient pass { from: 0/0 to: 0/0 }\nsocks pass { from: 0/0 to: 0/0 command: connect }\n' \
      "$WORK/danted.log" "$SERVER" "$SOCKS_PORT" "$SERVER" >"$WORK/danted.conf"
    nsenter --net="/proc/$UNS/ns/net" danted -f "$WORK/danted.conf" -p "$WORK/danted.pid" -N 1 >/dev/null 2>"$WORK/socks.err" &
    SOCKS_PID=$!
    PIDS+=("$SOCKS_PID")
    wait_listen inu "$SOCKS_PORT"
    [ "$(cat "/proc/$SOCKS_PID/comm")" = danted ] || die "pid $SOCKS_PID is $(cat "/proc/$SOCKS_PID/comm"), not danted"
    return
  fi
  nsenter --net="/proc/$UNS/ns/net" microsocks -i "$SERVER" -p "$SOCKS_PORT" >/dev/null 2>"$WORK/socks.err" &
  SOCKS_PID=$!
  PIDS+=("$SOCKS_PID")
  wait_listen inu "$SOCKS_PORT"
  [ "$(cat "/proc/$SOCKS_PID/comm")" = microsocks ] || die "pid $SOCKS_PID is $(cat "/proc/$SOCKS_PID/comm"), not microsocks"
}
start_synack() {  # start_synack --socks5 HOST:PORT | --direct
  sysctl -qw net.ipv4.ip_forward=1
  local t0
  t0=$(date +%s%3N)
  "$SYNACK_BIN" proxy --tun synack0 --addr 10.77.0.2/24 "$@" --out-interface o0 --ctl "$WORK/proxy.sock" \
    --backlog 4096 "${PROXY_ARGS[@]}" 2>"$WORK/proxy.err" &
  MAIN_PID=$!
  PIDS+=("$MAIN_PID")
  # Up to 60 s by the clock (not by a count of polls, which stretches under load): on the loaded
  # shared machine a start was seen to take more than 10 s. Ready when its line is in the log and
  # its control socket exists; a failure says what was seen, to trace it.
  local started=no ms g=1
  while :; do
    g=0
    grep -aq "synack proxy: .* via" "$WORK/proxy.err" 2>/dev/null || g=$?
    if [ "$g" = 0 ] && [ -S "$WORK/proxy.sock" ]; then
      started=yes
      break
    fi
    kill -0 "$MAIN_PID" 2>/dev/null || die "synack proxy exited: $(cat "$WORK/proxy.err")"
    [ $(($(date +%s%3N) - t0)) -lt 60000 ] || break
    sleep 0.05
  done
  ms=$(($(date +%s%3N) - t0))
  [ "$started" = yes ] || die "synack proxy did not start in $ms ms (grep rc $g; log $(stat -c %s "$WORK/proxy.err" 2>/dev/null || echo missing) B; control socket $([ -S "$WORK/proxy.sock" ] && echo present || echo absent); process $(tr '\0' ' ' <"/proc/$MAIN_PID/cmdline" 2>/dev/null | cut -c1-60), state $(awk '/^State/{print $2}' "/proc/$MAIN_PID/status" 2>/dev/null), wchan $(cat "/proc/$MAIN_PID/wchan" 2>/dev/null); load $(load)): $(cat "$WORK/proxy.err")"
  [ "$ms" -lt 2000 ] || echo "   (synack proxy took $ms ms to start; load $(load))"
  sysctl -qw net.ipv4.conf.synack0.rp_filter=0
  ip route add default dev synack0 table 100
}
SPLICE=true   # redsocks 0.5's default: each connection relayed through 2 pipes (splice(2))
start_redsocks() {
  cat >"$WORK/redsocks.conf" <<EOF
base {
  log_debug = off;
  log_info = off;
  log = stderr;
  daemon = off;
  redirector = iptables;
  rlimit_nofile = $NOFILE;
  redsocks_conn_max = $(((NOFILE - 100) / 2));
}
redsocks {
  local_ip = 0.0.0.0;
  local_port = $REDSOCKS_PORT;
  ip = $SERVER;
  port = $SOCKS_PORT;
  type = socks5;
  listenq = 4096;
  splice = $SPLICE;
}
EOF
  sysctl -qw net.ipv4.ip_forward=0
  iptables -t nat -A PREROUTING -i r0 -p tcp -j REDIRECT --to-ports "$REDSOCKS_PORT"
  redsocks -c "$WORK/redsocks.conf" 2>"$WORK/redsocks.err" &
  MAIN_PID=$!
  PIDS+=("$MAIN_PID")
  wait_listen "" "$REDSOCKS_PORT"
}
start_path() {
  MAIN_PID=
  SOCKS_PID=
  case $1 in
    synack-socks5) start_socks && start_synack --socks5 "$SERVER:$SOCKS_PORT" ;;
    synack-direct) start_synack --direct ;;
    redsocks) start_socks && start_redsocks ;;
    kernel-route) sysctl -qw net.ipv4.ip_forward=1 ;;
    *) die "unknown path $1" ;;
  esac
}
stop_pid() {
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
stop_path() {
  stop_pid "$MAIN_PID"
  stop_pid "$SOCKS_PID"
  iptables -t nat -F PREROUTING
  for _ in $(seq 100); do
    ip link show synack0 >/dev/null 2>&1 || break
    sleep 0.05
  done
  ! ip link show synack0 >/dev/null 2>&1 || die "synack0 still exists 5 s after synack proxy exited"
  MAIN_PID=
  SOCKS_PID=
}

rss_kib() { [ -n "$1" ] && awk '/^VmRSS:/ {print $2}' "/proc/$1/status" || echo 0; }
# The SOCKS5 server's memory: microsocks' VmRSS; danted's processes (it forks children that
# share most of their pages) summed by PSS, each shared page divided among its sharers.
socks_rss() {
  [ -n "$SOCKS_PID" ] || { echo 0; return; }
  [ "$SOCKS" = dante ] || { rss_kib "$SOCKS_PID"; return; }
  local total=0 p
  for p in "$SOCKS_PID" $(pgrep -P "$SOCKS_PID" || true); do
    total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
established() { $1 ss -Htn state established ${2:+"$2"} | wc -l; }
wait_for() {  # wait_for FILE SECONDS PID: until FILE exists; dies if PID exits first
  local i
  for ((i = 0; i < $2 * 20; i++)); do
    [ -e "$1" ] && return 0
    kill -0 "$3" 2>/dev/null || die "the client exited: $(cat "$WORK/hold.out" "$WORK/hold.err" 2>/dev/null)"
    sleep 0.05
  done
  die "no $1 after $2 s"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
calc() { awk "BEGIN { printf \"%.2f\", ($1) }"; }
echo "== synack proxy against iptables REDIRECT -> redsocks (bench/proxy/proxy_bench.sh)"
echo "== kernel $(uname -r), $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), load average $(load)"
echo "== synack proxy ${PROXY_ARGS[*]:-(default options)}; $(redsocks -v 2>&1 | head -1 || true); $SOCKS $(dpkg-query -W -f='${Version}' "${SOCKS/dante/dante-server}" 2>/dev/null || echo '?')"
declare -A R

# 1. Memory for N idle proxied connections, each N on a fresh proxy.
for want in $CONNS; do
  for path in $PATHS; do
    [ "$path" = kernel-route ] && continue
    n=$want
    SPLICE=true
    if [ "$path" = redsocks ] && [ $((6 * n + 100)) -gt "$NOFILE" ]; then
      SPLICE=false
      echo "   (redsocks with splice = false: with splice it holds 6 descriptors per connection, RLIMIT_NOFILE is $NOFILE)"
    fi
    if [ "$path" != synack-direct ] && [ $((2 * n + 200)) -gt "$NOFILE" ]; then
      n=$(((NOFILE - 200) / 2))
      echo "   ($path: $n connections, not $want: a relay holds 2 sockets per connection, RLIMIT_NOFILE is $NOFILE)"
    fi
    start_path "$path"
    sleep 0.5
    base=$(rss_kib "$MAIN_PID")
    sbase=$(socks_rss)
    d=$WORK/hold.$path.$n
    mkdir -p "$d"
    inc python3 "$LOAD" hold "$SERVER" "$ECHO_PORT" "$n" "$d" "$WORK/held" >"$WORK/hold.out" 2>"$WORK/hold.err" &
    hold=$!
    wait_for "$d/connected" 300 "$hold"
    # Established through to the server: it holds every one of them.
    for _ in $(seq 600); do
      [ "$(established inu "sport = :$ECHO_PORT")" -ge "$n" ] && break
      sleep 0.1
    done
    up=$(established inu "sport = :$ECHO_PORT")
    [ "$up" -ge "$n" ] || die "$path: the server holds $up of $n connections"
    sleep 1
    idle=$(rss_kib "$MAIN_PID")
    sidle=$(socks_rss)
    ksocks=$(established "" "")
    fds=$(find "/proc/$MAIN_PID/fd" -mindepth 1 | wc -l)
    touch "$d/exchange"
    wait_for "$d/exchanged" 300 "$hold"
    sleep 1
    after=$(rss_kib "$MAIN_PID")
    safter=$(socks_rss)
    touch "$d/release"
    wait "$hold" || die "$path: the client failed: $(cat "$WORK/hold.err")"
    for _ in $(seq 600); do
      [ "$(cat "$WORK/held")" = 0 ] && break
      sleep 0.1
    done
    R[rss$want.$path]=$(calc "($after - $base) / $n")
    R[tot$want.$path]=$(calc "$after / 1024")
    printf '%-14s %6d idle connections: RSS %7d KiB before, %7d idle (+%s KiB/conn), %7d after 1 byte each way (+%s KiB/conn, total %s MiB); %s +%d KiB idle, +%d after; %d kernel TCP sockets in the proxy namespace, %d descriptors in the proxy; load %s\n' \
      "$path" "$n" "$base" "$idle" "$(calc "($idle - $base) / $n")" "$after" "$(calc "($after - $base) / $n")" \
      "$(calc "$after / 1024")" "$SOCKS" "$((sidle - sbase))" "$((safter - sbase))" "$ksocks" "$fds" "$(load)"
    stop_path
  done
  if [ -n "${R[rss$want.synack-socks5]:-}" ] && [ -n "${R[rss$want.redsocks]:-}" ]; then
    echo "== $want connections: RSS per connection synack-socks5 / redsocks = $(calc "${R[rss$want.synack-socks5]} / ${R[rss$want.redsocks]}")"
  fi
done

# 2. Throughput both ways and connections per second; paths interleaved, REPS rounds.
best() {  # best KEY VALUE: keeps the maximum
  local k=$1 v=$2
  if [ -z "${R[$k]:-}" ] || [ "$(calc "$v > ${R[$k]}")" = 1.00 ]; then R[$k]=$v; fi
  R[all.$k]="${R[all.$k]:-}${R[all.$k]:+ }$v"
}
SPLICE=true
for ((rep = 1; rep <= REPS; rep++)); do
  for path in $PATHS; do
    start_path "$path"
    down=$(inc timeout 300 python3 "$LOAD" bulk "$SERVER" "$BULK_PORT" d "$BYTES") || die "$path: download failed"
    upl=$(inc timeout 300 python3 "$LOAD" bulk "$SERVER" "$BULK_PORT" u "$BYTES") || die "$path: upload failed"
    rate=$(inc timeout 300 python3 "$LOAD" cps "$SERVER" "$ECHO_PORT" "$RATE_CONNS" "$PARALLEL") ||
      die "$path: connection rate failed"
    if [ "${path#synack}" != "$path" ]; then
      # Every byte went through synack (its counters), none left behind.
      bd=$(timeout 10 "$SYNACK_BIN" stat --ctl "$WORK/proxy.sock" --json | grep -o '"bytes_down":[0-9]*' | head -1 | cut -d: -f2)
      [ "$bd" -ge "$BYTES" ] || die "$path: synack relayed only $bd bytes down"
    fi
    best "down.$path" "${down#* }"
    best "up.$path" "${upl#* }"
    best "cps.$path" "${rate% *}"
    printf '%-14s run %d: download %s Gbit/s, upload %s Gbit/s, %s connections/s (%s failed); load %s\n' \
      "$path" "$rep" "${down#* }" "${upl#* }" "${rate% *}" "${rate#* }" "$(load)"
    stop_path
  done
done

echo
echo "== best of $REPS; $((BYTES / 1048576)) MiB per transfer, $RATE_CONNS connections per rate run ($PARALLEL in flight)"
printf '%-32s' "measurement"
for path in $PATHS; do printf '%16s' "$path"; done
printf '%18s%18s\n' "socks5/redsocks" "direct/redsocks"
row() {  # row TITLE KEY
  printf '%-32s' "$1"
  for path in $PATHS; do printf '%16s' "${R[$2.$path]:--}"; done
  local p
  for p in synack-socks5 synack-direct; do
    if [ -n "${R[$2.$p]:-}" ] && [ -n "${R[$2.redsocks]:-}" ]; then
      printf '%18s' "$(calc "${R[$2.$p]} / ${R[$2.redsocks]}")"
    else
      printf '%18s' -
    fi
  done
  echo
}
row "download (Gbit/s)" down
row "upload (Gbit/s)" up
row "connections/s" cps
for n in $CONNS; do
  row "RSS MiB total, $n idle + 1 B" "tot$n"
  row "RSS KiB/conn, $n idle + 1 B" "rss$n"
done
for k in down up cps; do
  for path in $PATHS; do echo "   runs $k $path: ${R[all.$k.$path]:-}"; done
done
echo "== load average at the end: $(load)"
