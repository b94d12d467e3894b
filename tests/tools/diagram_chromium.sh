#!/usr/bin/env bash
# The HTML page of `synack diagram --html` in headless Chromium (Debian's): it loads without
# errors (its script marks the body ready only after laying out; window errors are recorded),
# and the number of arrows in the DOM equals the number of TCP segments in the capture.
# Takes a screenshot (kept as $SYNACK_DIAGRAM_SCREENSHOT when set, e.g. by CI).
# Without chromium: SKIPPED (exit 77).
# Usage: diagram_chromium.sh SYNACK_BINARY
set -euo pipefail
here=$(dirname "$(realpath "$0")")
synack=$(realpath "$1")
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "SKIPPED: chromium is not installed (apt-get install chromium)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$synack" demo --loss 0.3 --seed 7 --pcap demo.pcap >/dev/null || true
fail=0
flags=(--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$tmp/profile" --virtual-time-budget=2000)

check_page() {  # PAGE EXPECTED_ARROWS SCREENSHOT
  local page=$1 expected=$2 shot=$3
  # An error handler ahead of the page's own script: any uncaught error is recorded in the DOM.
  sed -i 's|<script>|<script>window.addEventListener("error", e => { document.documentElement.dataset.errors = (document.documentElement.dataset.errors \|\| "") + e.message + ";"; });</script>\n<script>|' "$page"
  timeout 120 "$chromium" "${flags[@]}" --dump-dom "file://$tmp/$page" >dom.html 2>>chromium.log || {
    echo "FAIL: chromium exited $? on $page"; tail -20 chromium.log; fail=1; return; }
  grep -q 'data-errors=' dom.html && { echo "FAIL: $page: script errors: $(grep -o 'data-errors="[^"]*"' dom.html)"; fail=1; }
  grep -q 'data-ready="1"' dom.html || { echo "FAIL: $page: the page's script did not finish"; fail=1; }
  local arrows
  arrows=$(grep -o 'data-arrows="[0-9]*"' dom.html | tr -dc 0-9)
  if [ "$arrows" != "$expected" ]; then
    echo "FAIL: $page: $arrows arrows in the DOM, $expected segments in the capture"
    fail=1
  fi
  timeout 120 "$chromium" "${flags[@]}" --window-size=1400,1000 --screenshot="$tmp/$shot" "file://$tmp/$page" \
    >/dev/null 2>>chromium.log || { echo "FAIL: $page: screenshot"; fail=1; }
  [ -s "$shot" ] || { echo "FAIL: $page: no screenshot"; fail=1; return; }
  echo "ok: $page loaded, $arrows arrows for $expected segments, screenshot $(stat -c %s "$shot") bytes"
}

"$synack" diagram demo.pcap --html demo.html >/dev/null
expected=$(tshark -r demo.pcap -Y tcp 2>/dev/null | wc -l || true)
[ -n "$expected" ] && [ "$expected" -gt 0 ] || expected=$(grep -o 'data-segments="[0-9]*"' demo.html | head -1 | tr -dc 0-9)
check_page demo.html "$expected" screenshot.png
if [ -n "${SYNACK_DIAGRAM_SCREENSHOT:-}" ] && [ -s screenshot.png ]; then cp screenshot.png "$SYNACK_DIAGRAM_SCREENSHOT"; fi

# `synack demo --html`: drawn from the simulation's exact send and receive times, one arrow per
# packet sent (lost ones too), as many as its own --pcap of the same run holds.
"$synack" demo --loss 0.3 --seed 7 --pcap direct.pcap --html direct.html --svg direct.svg >/dev/null || true
check_page direct.html "$(tshark -r direct.pcap -Y tcp 2>/dev/null | wc -l)" direct.png
grep -q 'data-lost="1"' direct.svg || { echo "FAIL: demo --svg draws no lost segment"; fail=1; }

# Two connections in one capture: one page, a ladder each.
if command -v mergecap >/dev/null; then
  "$synack" demo --pcap plain.pcap >/dev/null
  mergecap -F pcap -w both.pcap plain.pcap demo.pcap 2>/dev/null
  "$synack" diagram both.pcap --html both.html >/dev/null
  grep -q 'data-connections="2"' both.html || { echo "FAIL: both.html does not hold 2 connections"; fail=1; }
  check_page both.html "$(tshark -r both.pcap -Y tcp 2>/dev/null | wc -l)" both.png
fi

# Two capture points (diagram_two_points.sh): sloped arrows, four lost segments drawn as
# arrows too.
source "$here/diagram_two_points.sh"
if command -v editcap >/dev/null && command -v mergecap >/dev/null; then
  diagram_two_points demo.pcap >/dev/null 2>&1
  "$synack" diagram near_a.pcap near_b.pcap --html two.html >/dev/null
  check_page two.html "$expected" two.png
  if [ -n "${SYNACK_DIAGRAM_SCREENSHOT:-}" ] && [ -s two.png ]; then cp two.png "${SYNACK_DIAGRAM_SCREENSHOT%.png}-two-points.png"; fi
fi
exit $fail
