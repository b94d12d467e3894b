#!/usr/bin/env bash
# ctest cli.usage: the command line as a new user meets it. --help and --version exit 0; every
# usage error (unknown subcommand, missing or out-of-range option, bad address, missing
# directory) exits 2 with a message naming what is wrong, before any TUN device is made (none
# of these needs privilege: they must fail before trying).
#   usage.sh SYNACK_BINARY
set -uo pipefail
synack=$1
failures=0
check() {  # check WANT_RC WANT_TEXT ARGS...
  local want=$1 text=$2 out rc
  shift 2
  out=$("$synack" "$@" 2>&1 </dev/null)
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: synack $* exited $rc, want $want: $out"
    failures=$((failures + 1))
  elif ! grep -qF -- "$text" <<<"$out"; then
    echo "FAIL: synack $*: output lacks '$text': $out"
    failures=$((failures + 1))
  else
    echo "ok: synack $* -> $rc"
  fi
}
check 0 "synack 0." --version
check 0 "Subcommands:" --help
check 2 "A subcommand is required"
check 2 "unknown command 'bogus' (one of: demo, serve, connect, proxy, stat, pkt" bogus
check 2 "--udp-timeout: 0 is out of range: 0.1 to 86400" proxy --direct --udp-timeout 0
check 2 "--udp-sessions: 0 is out of range: 1 to 1048576" proxy --direct --udp-sessions 0
check 2 "--no-udp excludes --udp-timeout" proxy --addr 10.77.0.2/24 --direct --no-udp --udp-timeout 5
check 2 "--loss: 2 is out of range: 0 to 0.9" demo --loss 2
check 2 "--latency-ms: -1 is out of range: 0 to 10000" demo --latency-ms -1
check 2 "--loss: 1.5 is out of range: 0 to 1" serve --addr 10.0.0.2/24 --loss 1.5 echo
check 2 "--queues: 17 is out of range: 1 to 16" serve --addr 10.0.0.2/24 --queues 17 echo
check 2 "--rto-min: 'x' is not a number" connect --addr 10.0.0.2/24 --rto-min x 10.0.0.1 7
check 2 "--buffer: 2 is out of range: 4 to 16384" connect --addr 10.0.0.2/24 --buffer 2 10.0.0.1 7
check 2 "--delay: -1 is out of range: 0 to 10000" serve --addr 10.0.0.2/24 --delay -1 echo
check 2 "--addr is required" connect 10.0.0.1 7
check 2 "HOST must be an IPv4 or IPv6 address, got '1.2.3'" connect --addr 10.0.0.2/24 1.2.3 7
check 2 "http needs a directory" serve --addr 10.0.0.2/24 http
check 2 "is not a directory" serve --addr 10.0.0.2/24 http /nonexistent/dir
check 2 "only http takes a directory" serve --addr 10.0.0.2/24 echo /tmp
check 2 "gopher not in {echo,discard,chargen,http}" serve --addr 10.0.0.2/24 gopher
check 2 "unknown state 'FOO'" stat --state FOO
check 2 "--listeners and --state do not go together" stat --listeners --state LISTEN
check 2 "choose the upstream: --direct or --socks5 HOST:PORT" proxy --addr 10.0.0.2/24
check 2 "--direct and --socks5 exclude each other" proxy --addr 10.0.0.2/24 --direct --socks5 10.0.0.1:1080
check 2 "--user and --password are for --socks5 only" proxy --addr 10.0.0.2/24 --direct --user u --password p
check 2 "--user and --password go together" proxy --addr 10.0.0.2/24 --socks5 10.0.0.1:1080 --user u
check 2 "the user name must be 1 to 255 bytes" proxy --addr 10.0.0.2/24 --socks5 10.0.0.1:1080 --user "$(printf 'u%.0s' {1..256})" --password p
check 2 "'10.0.0.1' is not HOST:PORT" proxy --addr 10.0.0.2/24 --socks5 10.0.0.1
check 2 "is not HOST:PORT with a port from 1 to 65535" proxy --addr 10.0.0.2/24 --socks5 10.0.0.1:65536
check 2 "an IPv6 address goes in brackets" proxy --addr 10.0.0.2/24 --socks5 2001:db8::1:1080
check 2 "maybe not in {off,on,passive}" connect --addr 10.0.0.2/24 --ecn maybe 10.0.0.1 7
[ $failures -eq 0 ] || { echo "$failures failures"; exit 1; }
