#!/usr/bin/env bash
# Sets everything up, builds the synack tool and runs `synack demo` (extra arguments go to it).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target synack >/dev/null
exec ./build/default/synack demo "$@"
