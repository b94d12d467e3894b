#!/usr/bin/env bash
# Sets everything up, builds with the default preset (g++, -Werror) and runs every test.
# This is the README's test command, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/check-sans-io.sh
cmake --preset default
cmake --build --preset default -j "$(nproc)"
ctest --preset default
