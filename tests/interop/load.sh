#!/usr/bin/env bash
# 500 concurrent connections (held open together) and 10,000 short sequential connections from
# the kernel to `synack serve echo`; afterwards `synack stat` shows no connection left and the
# counters add up, and `ss` shows what RFC 9293 §3.6 predicts on the kernel's side: it closed
# first every time, so it holds exactly one TIME-WAIT per connection and nothing else.
. "$(dirname "$0")/lib.sh"
interop_init "$@"
need python3 ss
CONC=500
SEQ=10000
start_serve --backlog 1024 echo
# The kernel's 10,500 TIME-WAITs (60 s each) fit its ephemeral range (28,232 ports).
coproc LOAD { timeout -k 5 150 python3 "$(dirname "$0")/load.py" "$SYN_ADDR" 7 "$CONC" "$SEQ" 2>&1; }
PIDS+=("$LOAD_PID")
read -r -t 60 line <&"${LOAD[0]}" || fail "load: no answer from the concurrent phase"
echo "$line"
case "$line" in ok:*) ;; *) fail "load: $line" ;; esac
est=$(synack_stat --state ESTABLISHED | grep -c '^ESTABLISHED' || true)
[ "$est" -eq "$CONC" ] || fail "synack stat shows $est ESTABLISHED, want $CONC"
echo "ok: synack stat shows $est ESTABLISHED"
echo go >&"${LOAD[1]}"
read -r -t 130 line <&"${LOAD[0]}" || fail "load: sequential phase did not finish"
echo "$line"
case "$line" in ok:*) ;; *) fail "load: $line" ;; esac
sleep 0.5
left=$(synack_stat | grep -cE '^(SYN|ESTAB|FIN|CLOSE|CLOSING|LAST|TIME)' || true)
[ "$left" -eq 0 ] || fail "$left connections left in synack after the load: $(synack_stat | head -20)"
opens=$(synack_stat --json | grep -o '"passive_opens":[0-9]*' | cut -d: -f2)
[ "$opens" -eq $((CONC + SEQ)) ] || fail "passive_opens $opens, want $((CONC + SEQ))"
estab=$(synack_stat --json | grep -o '"curr_estab":[0-9]*' | cut -d: -f2)
[ "$estab" -eq 0 ] || fail "curr_estab $estab after every connection closed"
echo "ok: no leak: only the listener left in synack stat, $opens passive opens, curr_estab 0"
tw=$(ss -Htan state time-wait dst "$SYN_ADDR" | wc -l)
[ "$tw" -eq $((CONC + SEQ)) ] || fail "ss shows $tw TIME-WAIT toward synack, want $((CONC + SEQ)) (the kernel closed first)"
other=$(ss -Htan exclude time-wait dst "$SYN_ADDR" | wc -l)
[ "$other" -eq 0 ] || fail "ss shows $other kernel sockets toward synack not in TIME-WAIT: $(ss -Htan exclude time-wait dst "$SYN_ADDR" | head)"
echo "ok: ss: $tw TIME-WAIT toward synack (one per connection, the kernel closed first), no other state"
stop_serve
