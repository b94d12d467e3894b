#!/usr/bin/env bash
# Sets everything up, builds the synack tool and runs `synack demo` (extra arguments go to it).
# Says what it is doing on stderr: the first build takes minutes; later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'demo.sh: %s\n' "$*" >&2; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
say "checking the packages (scripts/setup.sh) ..."
if ! ./scripts/setup.sh >"$log" 2>&1; then
  cat "$log" >&2
  say "setup failed"
  exit 1
fi
cmake --preset default >"$log" 2>&1 || { cat "$log" >&2; say "cmake configure failed"; exit 1; }
if [ -x build/default/synack ]; then
  say "building synack (changed files only) ..."
else
  say "building synack for the first time (a few minutes on 2 cores) ..."
fi
t0=$(date +%s)
set +e
# ninja's progress lines ([12/80] ...) as a one-line counter when stderr is a terminal.
if [ -t 2 ]; then
  cmake --build --preset default -j "$(nproc)" --target synack 2>&1 | tee "$log" |
    while IFS= read -r line; do
      [[ "$line" =~ ^\[([0-9]+)/([0-9]+)\] ]] && printf '\rdemo.sh: [%s/%s] compiling ' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" >&2
    done
  rc=${PIPESTATUS[0]}
  printf '\r\033[K' >&2
else
  cmake --build --preset default -j "$(nproc)" --target synack >"$log" 2>&1
  rc=$?
fi
set -e
if [ "$rc" -ne 0 ]; then
  tail -40 "$log" >&2
  say "the build failed"
  exit 1
fi
say "built in $(($(date +%s) - t0)) s; running synack demo $*"
# exec replaces this shell, so its EXIT trap would never remove the log: remove it first.
rm -f "$log"
trap - EXIT
exec ./build/default/synack demo "$@"
