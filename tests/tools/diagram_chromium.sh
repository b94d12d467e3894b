#!/usr/bin/env bash
# The HTML page of `synack diagram --html` in headless Chromium (Debian's): it loads without
# errors (its script marks the body ready only after laying out; window errors are recorded),
# and the number of arrows in the DOM equals the number of TCP segments in the capture.
# Takes a screenshot (kept as $SYNACK_DIAGRAM_SCREENSHOT when set, e.g. by CI).
# Without chromium: SKIPPED (exit 77).
# Usage: diagram_chromium.sh SYNACK_BINARY
set -euo pipefail
synack=$(realpath "$1")
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "SKIPPED: chromium is not installed (apt-get install chromium)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
"$synack" demo --loss 0.3 --seed 7 --pcap demo.pcap >/dev/null || true
"$synack" diagram demo.pcap --html demo.html >/dev/null
expected=$(tshark -r demo.pcap -Y tcp 2>/dev/null | wc -l || true)
[ -n "$expected" ] && [ "$expected" -gt 0 ] || expected=$(grep -o 'data-segments="[0-9]*"' demo.html | head -1 | tr -dc 0-9)
# An error handler ahead of the page's own script: any uncaught error is recorded in the DOM.
sed -i 's|<script>|<script>window.addEventListener("error", e => { document.documentElement.dataset.errors = (document.documentElement.dataset.errors \|\| "") + e.message + ";"; });</script>\n<script>|' demo.html
flags=(--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$tmp/profile" --virtual-time-budget=2000)
timeout 120 "$chromium" "${flags[@]}" --dump-dom "file://$tmp/demo.html" >dom.html 2>chromium.log || {
  echo "FAIL: chromium exited $?"; tail -20 chromium.log; exit 1; }
fail=0
grep -q 'data-errors=' dom.html && { echo "FAIL: script errors: $(grep -o 'data-errors="[^"]*"' dom.html)"; fail=1; }
grep -q 'data-ready="1"' dom.html || { echo "FAIL: the page's script did not finish"; fail=1; }
arrows=$(grep -o 'data-arrows="[0-9]*"' dom.html | tr -dc 0-9)
if [ "$arrows" != "$expected" ]; then
  echo "FAIL: $arrows arrows in the DOM, $expected segments in the capture"
  fail=1
fi
timeout 120 "$chromium" "${flags[@]}" --window-size=1400,1000 --screenshot="$tmp/screenshot.png" "file://$tmp/demo.html" \
  >/dev/null 2>>chromium.log || { echo "FAIL: screenshot"; fail=1; }
[ -s screenshot.png ] || { echo "FAIL: no screenshot"; fail=1; }
if [ -n "${SYNACK_DIAGRAM_SCREENSHOT:-}" ] && [ -s screenshot.png ]; then cp screenshot.png "$SYNACK_DIAGRAM_SCREENSHOT"; fi
[ $fail = 0 ] && echo "ok: page loaded, $arrows arrows for $expected segments, screenshot $(stat -c %s screenshot.png) bytes"
exit $fail
