#!/usr/bin/env bash
# `synack diagram` on captures this test makes with `synack demo --pcap` (virtual time, seeded:
# the same bytes every run): the ladder must equal the golden file. Also the CLI's answers
# to bad input. UPDATE_GOLDEN=1 rewrites the golden files.
# Usage: diagram_golden.sh SYNACK_BINARY SOURCE_DIR
set -euo pipefail
here=$(dirname "$(realpath "$0")")
synack=$(realpath "$1")
golden=$(realpath "$2")/tests/tools/golden
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

check() {  # NAME COMMAND...: the command's stdout must equal golden/NAME
  local name=$1
  shift
  (cd "$tmp" && "$@") >"$tmp/$name" 2>"$tmp/$name.err" || { echo "FAIL: $name: exit $?"; cat "$tmp/$name.err"; fail=1; return; }
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    cp "$tmp/$name" "$golden/$name"
  elif ! diff -u "$golden/$name" "$tmp/$name"; then
    echo "FAIL: $name differs from the golden output"
    fail=1
  else
    echo "ok: $name"
  fi
}

"$synack" demo --pcap "$tmp/demo.pcap" >/dev/null
"$synack" demo --simultaneous-close --pcap "$tmp/simclose.pcap" >/dev/null
"$synack" demo --simultaneous-open --pcap "$tmp/simopen.pcap" >/dev/null
"$synack" demo --loss 0.3 --seed 7 --pcap "$tmp/lossy.pcap" >/dev/null || true

check diagram_demo_80.txt "$synack" diagram demo.pcap --width 80
check diagram_demo_ascii_140.txt "$synack" diagram demo.pcap --width 140 --ascii
check diagram_demo_absolute.txt "$synack" diagram demo.pcap --width 100 --absolute-seq --ascii
check diagram_simclose.txt "$synack" diagram simclose.pcap --width 100
check diagram_simopen.txt "$synack" diagram simopen.pcap --width 100
check diagram_lossy.txt "$synack" diagram lossy.pcap --width 100
check diagram_list.txt "$synack" diagram demo.pcap --list
check diagram_tuple.txt "$synack" diagram demo.pcap --tuple '*:7,*' --width 80 --ascii
# Over IPv6: the demo's own ladder, and synack diagram of its capture (the same segments as the
# IPv4 run but MSS 1440), the tuple filter with a bracketed IPv6 address.
check demo_ipv6.txt "$synack" demo --ipv6 --pcap ipv6.pcap
check diagram_demo_ipv6.txt "$synack" diagram ipv6.pcap --width 100 --tuple '[2001:db8::2]:7,*'
grep -q 'mss=1440' "$tmp/demo_ipv6.txt" || { echo "FAIL: demo --ipv6 does not announce MSS 1440"; fail=1; }

# Two capture points (diagram_two_points.sh): sloped arrows, four segments lost.
source "$here/diagram_two_points.sh"
if command -v tshark >/dev/null && command -v editcap >/dev/null && command -v mergecap >/dev/null; then
  (cd "$tmp" && diagram_two_points lossy.pcap) >/dev/null 2>&1
  check diagram_two_points.txt "$synack" diagram near_a.pcap near_b.pcap --width 100
  # The files in the other order: the capture near A is found by the transit times.
  (cd "$tmp" && "$synack" diagram near_b.pcap near_a.pcap --width 100 | tail -n +2) >"$tmp/swapped"
  tail -n +2 "$golden/diagram_two_points.txt" | diff -u - "$tmp/swapped" ||
    { echo "FAIL: two points given B first"; fail=1; }
  lost=$(grep -c '✗' "$tmp/diagram_two_points.txt" || true)
  [ "$lost" = 4 ] || { echo "FAIL: $lost lost segments drawn, 4 expected"; fail=1; }
else
  echo "SKIPPED: two capture points (needs tshark, editcap, mergecap)"
fi

# The SVG: one arrow (line) per segment.
(cd "$tmp" && "$synack" diagram demo.pcap --svg demo.svg >/dev/null)
segs=$(tshark -r "$tmp/demo.pcap" -Y tcp 2>/dev/null | wc -l || true)
lines=$(grep -c 'class="ln"' "$tmp/demo.svg")
python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$tmp/demo.svg" ||
  { echo "FAIL: the SVG is not well-formed XML"; fail=1; }
if command -v tshark >/dev/null && [ "$segs" != "$lines" ]; then
  echo "FAIL: the SVG has $lines arrows, tshark counts $segs TCP segments"
  fail=1
else
  echo "ok: SVG arrows $lines"
fi

# Bad input: a clear message and exit 1, never a crash.
expect_error() {  # PATTERN COMMAND...
  local pattern=$1 rc=0
  shift
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [ "$rc" -ne 1 ] && [ "$rc" -ne 2 ] || ! grep -q -- "$pattern" "$tmp/err"; then
    echo "FAIL: '$*' exited $rc; stderr:"
    cat "$tmp/err"
    fail=1
  else
    echo "ok: $* -> $(head -1 "$tmp/err")"
  fi
}
printf 'not a capture file, just text\n' >"$tmp/garbage.pcap"
expect_error "garbage.pcap" "$synack" diagram "$tmp/garbage.pcap"
: >"$tmp/empty.pcap"
expect_error "empty.pcap" "$synack" diagram "$tmp/empty.pcap"
expect_error "--conn 5" "$synack" diagram "$tmp/demo.pcap" --conn 5
expect_error "matches" "$synack" diagram "$tmp/demo.pcap" --tuple '1.2.3.4:5,*'
head -c 300 "$tmp/demo.pcap" >"$tmp/cut.pcap"
rc=0
"$synack" diagram "$tmp/cut.pcap" --width 80 >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -ne 0 ] || ! grep -q "middle of a record" "$tmp/err"; then
  echo "FAIL: a cut capture: exit $rc"; cat "$tmp/err"; fail=1
else
  echo "ok: cut capture -> $(cat "$tmp/err")"
fi
exit $fail
