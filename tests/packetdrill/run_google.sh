#!/usr/bin/env bash
# ctest packetdrill.google (IPv4) and packetdrill.google_ipv6: Google's packetdrill scripts
# against synack's plug-in.
#   run_google.sh BUILD_DIR SOURCE_DIR [ipv4|ipv6|ipv4-mapped-ipv6]
# Builds packetdrill from ../shared/tools/packetdrill (relative to the project root; read-only,
# so the sources are copied into BUILD_DIR first), runs the scripts listed in
# tests/packetdrill/google-expected.tsv through scripts/packetdrill.sh in the family given (as
# run_all.py's variants: its addresses and -D values), and compares: an expected PASS that fails
# fails the test; a script that passes though expected to fail is printed (update the file).
# In IPv6, tests/packetdrill/google-expected-ipv6.tsv overrides the verdicts of the scripts that
# differ there (each with its reason); IPv4-mapped IPv6 shares IPv4's. Exit 77 (SKIPPED) with the reason when packetdrill's sources,
# bison/flex or the privilege to make a network namespace are missing.
set -uo pipefail
build=$(readlink -f "$1")
src=$(readlink -f "$2")
pd_src="$src/../shared/tools/packetdrill"
expected="$src/tests/packetdrill/google-expected.tsv"
family=${3:-ipv4}
case "$family" in ipv4 | ipv6 | ipv4-mapped-ipv6) ;; *) echo "family: ipv4, ipv6 or ipv4-mapped-ipv6"; exit 2 ;; esac
export SYNACK_PD_FAMILY=$family
skip() {
  echo "SKIPPED: $*"
  exit 77
}
[ -d "$pd_src/gtests/net/packetdrill" ] || skip "no packetdrill sources at $pd_src"
command -v bison >/dev/null && command -v flex >/dev/null || skip "bison and flex are needed to build packetdrill (scripts/setup.sh)"
unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n needs root)"
[ -f "$build/libsynack_packetdrill.so" ] || { echo "no $build/libsynack_packetdrill.so"; exit 1; }
# A plug-in built with ASan/UBSan (the asan preset) runs under the sanitizers too: packetdrill
# is not built with them, so their shared runtime is preloaded into it, and packetdrill's copy
# loads the plug-in without RTLD_DEEPBIND (the sanitizer runtime refuses that flag). The
# output is captured before grep reads it: `nm | grep -q` under pipefail fails on SIGPIPE.
syms=$(nm -D "$build/libsynack_packetdrill.so" 2>/dev/null)
preload=
if grep -qE "__(asan|ubsan)_" <<<"$syms"; then
  cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
  preload=$("${cxx:-clang++}" -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)
  [ -f "$preload" ] || skip "the plug-in is built with sanitizers and their shared runtime (libclang_rt.asan-x86_64.so) is not installed"
fi

# packetdrill itself, built once per build directory (about 10 s).
pd="$build/packetdrill-src/packetdrill"
if [ ! -x "$pd" ] || { [ -n "$preload" ] && grep -q RTLD_DEEPBIND "$build/packetdrill-src/so_testing.c"; }; then
  rm -rf "$build/packetdrill-src"
  cp -r "$pd_src/gtests/net/packetdrill" "$build/packetdrill-src" && chmod -R u+w "$build/packetdrill-src"
  [ -n "$preload" ] && sed -i 's/RTLD_DEEPBIND/0/' "$build/packetdrill-src/so_testing.c"
  if ! (cd "$build/packetdrill-src" && ./configure >/dev/null && make -j2 packetdrill >build.log 2>&1); then
    tail -20 "$build/packetdrill-src/build.log"
    echo "packetdrill did not build"
    exit 1
  fi
fi

declare -A want
scripts=()
while IFS=$'\t' read -r script verdict _; do
  [[ -z "$script" || "$script" == \#* ]] && continue
  want[$script]=$verdict
  scripts+=("$pd_src/gtests/net/tcp/$script")
done <"$expected"
if [ "$family" = ipv6 ]; then
  while IFS=$'\t' read -r script verdict _; do
    [[ -z "$script" || "$script" == \#* ]] && continue
    [ -n "${want[$script]:-}" ] || { echo "google-expected-ipv6.tsv: $script is not in google-expected.tsv"; exit 1; }
    want[$script]=$verdict
  done <"$src/tests/packetdrill/google-expected-ipv6.tsv"
fi

out=$(SYNACK_PD_PRELOAD="$preload" SYNACK_PD_PLUGIN="$build/libsynack_packetdrill.so" SYNACK_PD_TIMEOUT="${SYNACK_PD_TIMEOUT:-15}" \
      "$src/scripts/packetdrill.sh" ${preload:+-v} "$pd" "${scripts[@]}" 2>&1)
regressions=0
passes=0
while read -r verdict path; do
  [[ "$verdict" == PASS || "$verdict" == FAIL ]] || continue
  script=${path#"$pd_src/gtests/net/tcp/"}
  [ "$verdict" = PASS ] && passes=$((passes + 1))
  if [ "${want[$script]}" = PASS ] && [ "$verdict" = FAIL ]; then
    echo "REGRESSION ($family): $script was expected to pass"
    regressions=$((regressions + 1))
  elif [ "${want[$script]}" = FAIL ] && [ "$verdict" = PASS ]; then
    echo "NEWLY PASSING ($family): $script (update tests/packetdrill/google-expected$([ "$family" = ipv6 ] && echo -ipv6).tsv)"
  fi
done <<<"$out"
echo "$passes of ${#scripts[@]} Google scripts pass against synack in $family${preload:+ (under ASan/UBSan)}"
# The yardstick, in the same run: the same scripts against this machine's kernel (its timing
# varies with load, so it is reported, not checked).
if [ -z "$preload" ]; then
  kout=$(SYNACK_PD_TIMEOUT="${SYNACK_PD_TIMEOUT:-15}" "$src/scripts/packetdrill.sh" --kernel "$pd" "${scripts[@]}" 2>&1)
  kpasses=$(grep -c '^PASS ' <<<"$kout")
  both=0
  while read -r verdict path; do
    [ "$verdict" = PASS ] && grep -qxF "PASS $path" <<<"$out" && both=$((both + 1))
  done <<<"$kout"
  echo "$kpasses of ${#scripts[@]} pass against Linux $(uname -r) in $family in the same run; synack passes $both of those $kpasses" \
       "($(awk -v a="$passes" -v b="$kpasses" 'BEGIN { printf "%.2f", b ? a / b : 0 }') x Linux's count)"
  grep '^FAIL ' <<<"$kout" | sed 's/^FAIL /  Linux fails: /; s|'"$pd_src/gtests/net/tcp/"'||'
  # Issue #11's yardstick: the folders it names (not fastopen/ or zerocopy/, added later).
  core='/(blocking|close|shutdown|fast_retransmit|limited_transmit|nagle|mss|ts_recent|user_timeout|syscall_bad_arg)/'
  cs=$(grep -cE "^PASS .*$core" <<<"$out")
  ck=$(grep -cE "^PASS .*$core" <<<"$kout")
  cn=$(printf '%s\n' "${scripts[@]}" | grep -cE "$core")
  echo "the issue's folders ($cn scripts): synack $cs, Linux $ck" \
       "($(awk -v a="$cs" -v b="$ck" 'BEGIN { printf "%.2f", b ? a / b : 0 }') x Linux's count)"
fi
# Under the sanitizers a report fails the test whatever the script's verdict.
if [ -n "$preload" ] && grep -qE "ERROR: AddressSanitizer|runtime error:" <<<"$out"; then
  grep -E -A12 "ERROR: AddressSanitizer|runtime error:" <<<"$out" | head -60
  echo "sanitizer report in the plug-in"
  exit 1
fi
if [ $regressions -gt 0 ]; then
  echo "$out"
  exit 1
fi
exit 0
