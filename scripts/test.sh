#!/usr/bin/env bash
# Sets everything up, then builds and runs every test twice: with g++ (preset `default`,
# -Werror) and with clang 14 under AddressSanitizer and UndefinedBehaviorSanitizer (preset
# `asan`, -Werror); then builds the libFuzzer targets (preset `fuzz`) and runs each for 15 s
# from the seed corpus (ctest label `fuzz`). This is the README's test command, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/check-sans-io.sh
jobs=$(nproc)
for preset in default asan; do
  echo "== $preset: configure, build, test"
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset"
done
echo "== fuzz: configure, build, run each target briefly"
cmake --preset fuzz
cmake --build --preset fuzz -j "$jobs"
ctest --preset fuzz
