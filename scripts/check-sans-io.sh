#!/usr/bin/env bash
# The sans-IO rule (DESIGN.md §1): wire/, tcp/, stack/, posix/ and pkt/ read no clock, make no syscalls,
# start no threads and read no environment. Fails listing each violation.
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=(include/synack/wire include/synack/tcp include/synack/stack include/synack/util include/synack/posix
      include/synack/pkt src/wire src/tcp src/stack src/util src/posix src/pkt)
pattern='steady_clock|system_clock|high_resolution_clock|::now\(|<thread>|<mutex>|<sys/|<unistd\.h>|<fcntl\.h>|std::rand\(|random_device|\bgetenv\(|<iostream>|<fstream>|<cstdio>'
existing=()
for d in "${dirs[@]}"; do [ -d "$d" ] && existing+=("$d"); done
if hits=$(grep -rnE "$pattern" "${existing[@]}"); then
  echo "sans-IO violations (DESIGN.md §1):"
  echo "$hits"
  exit 1
fi
echo "sans-IO check: ${#existing[@]} directories clean"
