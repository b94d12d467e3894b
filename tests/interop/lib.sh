# Shared by the interop tests (sourced). Each test runs inside its own network namespace,
# made here with `unshare -n`; the TUN device, its addresses and every packet stay inside it and
# vanish with it. Without the privilege to make one, the test exits 77 (ctest: SKIPPED) and says
# why. Every client runs under `timeout`; the EXIT trap kills what the test started.
#
# Usage at the top of a test:   . "$(dirname "$0")/lib.sh"; interop_init "$@"
# Environment: SYNACK_BIN (the synack binary; ctest passes it as $1).
set -euo pipefail

SKIP=77
SYN_ADDR=10.77.0.2
KERN_ADDR=10.77.0.1
TUN=synack0

skip() {
  echo "SKIPPED: $*"
  exit "$SKIP"
}
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
need() {
  # A missing tool is a setup bug (scripts/setup.sh installs every one), not a reason to skip.
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || fail "$t not installed: run scripts/setup.sh"; done
}

interop_init() {
  SYNACK_BIN=${SYNACK_BIN:-${1:-}}
  [ -n "$SYNACK_BIN" ] && [ -x "$SYNACK_BIN" ] || fail "usage: $0 PATH/TO/synack"
  export SYNACK_BIN
  if [ -z "${SYNACK_IN_NETNS:-}" ]; then
    need unshare ip timeout sha256sum
    [ -c /dev/net/tun ] || skip "/dev/net/tun does not exist (no TUN driver)"
    unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n needs CAP_SYS_ADMIN; run as root)"
    # Re-run this script inside a fresh namespace; the namespace dies with its last process.
    SYNACK_IN_NETNS=1 exec unshare -n "$0" "$SYNACK_BIN"
  fi
  ip link set lo up
  WORK=$(mktemp -d /tmp/synack-interop.XXXXXX)
  PIDS=()
  trap interop_cleanup EXIT
}

interop_cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 20); do
    alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ] && [ $rc -ne $SKIP ] && [ -d "$WORK" ]; then
    for f in "$WORK"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
  fi
  rm -rf "$WORK"
  exit $rc
}

# Runs `synack serve ARGS...` in the background on $TUN with $SYN_ADDR/24, waits until it
# listens. Sets SERVE_PID and CTL (its control socket).
start_serve() {
  CTL=$WORK/serve.sock
  timeout -k 5 600 "$SYNACK_BIN" serve --tun "$TUN" --addr "$SYN_ADDR/24" --ctl "$CTL" "$@" 2>"$WORK/serve.err" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  for _ in $(seq 100); do
    grep -q "synack serve: .* on " "$WORK/serve.err" 2>/dev/null && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || fail "synack serve exited: $(cat "$WORK/serve.err")"
    sleep 0.05
  done
  fail "synack serve did not start"
}

# Stops serve (SIGTERM: it flushes its capture and removes its control socket).
# Waits (up to 5 s) until the TUN device is gone, so the next serve can take the same name
# (TUNSETIFF on a name whose device still exists fails with EBUSY).
stop_serve() {
  kill "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" 2>/dev/null || true
  for _ in $(seq 100); do
    ip link show "$TUN" >/dev/null 2>&1 || return 0
    sleep 0.05
  done
  fail "$TUN still exists 5 s after synack serve exited"
}

# A TUN interface owned by the kernel side, for tests where synack connects out.
make_tun() {
  ip tuntap add dev "$TUN" mode tun
  ip addr add "$KERN_ADDR/24" dev "$TUN"
  ip link set "$TUN" up
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

same_file() {  # same_file EXPECTED ACTUAL WHAT
  [ "$(sha "$1")" = "$(sha "$2")" ] || fail "$3: SHA-256 differs ($(stat -c %s "$2") of $(stat -c %s "$1") bytes)"
  echo "ok: $3 ($(stat -c %s "$2") bytes, SHA-256 equal)"
}

# Milliseconds since the epoch (for timings).
now_ms() { date +%s%3N; }

synack_stat() { timeout 10 "$SYNACK_BIN" stat --ctl "$CTL" "$@"; }

# Waits (up to 10 s) until a kernel socket listens on PORT.
wait_listen() {
  for _ in $(seq 200); do
    [ -n "$(ss -Hltn "sport = :$1")" ] && return 0
    sleep 0.05
  done
  fail "nothing listens on port $1"
}
