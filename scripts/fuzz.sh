#!/usr/bin/env bash
# Long fuzzing campaign for one target: scripts/fuzz.sh TARGET [SECONDS] [extra libFuzzer flags]
#   TARGET   ipv4_fuzz | tcp_fuzz | icmp_fuzz | ipv6_fuzz | icmpv6_fuzz | stack_fuzz | socks5_fuzz
#   SECONDS  how long (default 600)
# Builds the `fuzz` preset (clang 14, libFuzzer, ASan + UBSan), then fuzzes from the checked-in
# seed corpus (fuzz/corpus/TARGET) and past campaigns' minimised corpus (fuzz/minimised/TARGET),
# both read only, into a campaign corpus kept between runs in
# build/fuzz/campaign/TARGET. A crash lands in build/fuzz/campaign/artifacts/; to make it a
# regression test, copy it to fuzz/regressions/TARGET/<what-broke> and fix the bug:
# tests/security replays every file there in every preset (see README "Fuzzing").
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS] [libFuzzer flags...]}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
case "$target" in
  ipv4_fuzz|tcp_fuzz|icmp_fuzz|ipv6_fuzz|icmpv6_fuzz|stack_fuzz|socks5_fuzz) ;;
  *) echo "unknown target $target (ipv4_fuzz tcp_fuzz icmp_fuzz ipv6_fuzz icmpv6_fuzz stack_fuzz socks5_fuzz)" >&2; exit 2 ;;
esac
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "$target"
campaign=build/fuzz/campaign
mkdir -p "$campaign/$target" "$campaign/artifacts"
exec "build/fuzz/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$campaign/artifacts/$target-" "$@" \
  "$campaign/$target" "fuzz/corpus/$target" $( [ -d "fuzz/minimised/$target" ] && echo "fuzz/minimised/$target")
