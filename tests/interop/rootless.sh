#!/usr/bin/env bash
# The README's rootless path: `unshare -rn synack serve --tun ...` in a user and network
# namespace of one's own. There the kernel refuses the SIOCSIFTXQLEN ioctl (CAP_NET_ADMIN is
# checked against the initial namespace) while netlink works; synack must come up, answer ping
# and echo a line. With /dev/net/tun open to all users (stock Debian) it runs as an unprivileged
# user (nobody); where the device is root-only it runs as root mapped into the user namespace,
# which meets the same refusals. Without user namespaces it reports SKIPPED with the reason.
set -euo pipefail
SYNACK_BIN=$(realpath "${1:?usage: $0 PATH/TO/synack}")
SKIP=77
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in unshare setpriv ping socat timeout ip; do
  command -v "$t" >/dev/null || fail "$t not installed: run scripts/setup.sh"
done
[ -c /dev/net/tun ] || { echo "SKIPPED: /dev/net/tun does not exist (no TUN driver)"; exit $SKIP; }

as=()
who="root mapped into its own user namespace (/dev/net/tun is $(stat -c %a /dev/net/tun), not open to all users)"
if [ "$(id -u)" -eq 0 ] && [ "$(stat -c %a /dev/net/tun)" = 666 ]; then
  as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  who="user nobody (uid 65534)"
  if ! "${as[@]}" test -x "$SYNACK_BIN"; then
    as=()
    who="root mapped into its own user namespace (user nobody cannot reach $SYNACK_BIN)"
  fi
elif [ "$(id -u)" -ne 0 ]; then
  who="user $(id -un)"
fi
if ! "${as[@]}" unshare -rn true 2>"/tmp/synack-rootless.$$"; then
  why=$(cat "/tmp/synack-rootless.$$"); rm -f "/tmp/synack-rootless.$$"
  echo "SKIPPED: no user namespaces for $who here: $why"
  exit $SKIP
fi
rm -f "/tmp/synack-rootless.$$"
echo "rootless as $who"

inner=$(cat <<'INNER'
set -euo pipefail
ip link set lo up
err=$(mktemp)
trap 'rm -f "$err"' EXIT
timeout -k 2 60 "$SYNACK_BIN" serve --tun synackr0 --addr 10.77.0.2/24 --no-ctl echo 2>"$err" &
pid=$!
for _ in $(seq 100); do grep -q "synack serve: .* on " "$err" && break; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
grep -q "synack serve: .* on " "$err" || { echo "serve did not start: $(cat "$err")" >&2; exit 1; }
cat "$err"
ping -c 3 -i 0.2 -W 1 -q 10.77.0.2 | grep -q "3 received" || { echo "ping failed" >&2; exit 1; }
echo "ok: ping, 3 of 3 replies"
out=$(echo "hello, rootless" | timeout 10 socat -t 5 - TCP:10.77.0.2:7)
[ "$out" = "hello, rootless" ] || { echo "echo returned '$out'" >&2; exit 1; }
echo "ok: socat echo through synack in the user namespace"
kill $pid; wait $pid 2>/dev/null || true
INNER
)
cd /
"${as[@]}" env SYNACK_BIN="$SYNACK_BIN" unshare -rn bash -c "$inner" || fail "rootless serve as $who"
