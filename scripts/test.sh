#!/usr/bin/env bash
# Sets everything up, then builds and runs every test twice: with g++ (preset `default`) and
# with clang 14 (preset `clang`), both with -Werror. This is the README's test command, and
# what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/check-sans-io.sh
jobs=$(nproc)
for preset in default clang; do
  echo "== $preset: configure, build, test"
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset"
done
