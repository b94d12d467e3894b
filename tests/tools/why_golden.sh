#!/bin/sh
# `synack demo --why TOPIC --lang LANG` against its golden output in tests/tools/golden/, for
# every topic of `synack demo --list` in both languages. The runs are pure functions of the
# code (simulated, virtual time), so the output is exact. The facts the text claims are
# checked on the runs themselves by tests/tools/why_test.cpp.
#
# Regenerate after a deliberate change, and review the diff like code:
#   SYNACK_UPDATE_GOLDEN=1 tests/tools/why_golden.sh build/default/synack
set -eu
synack=$1
dir=$(dirname "$0")/golden
topics=$("$synack" demo --list | cut -d' ' -f1)
[ -n "$topics" ] || { echo "no topics from $synack demo --list"; exit 1; }
fail=0
for topic in $topics; do
  for lang in en zh; do
    golden="$dir/why-$topic.$lang.txt"
    out=$("$synack" demo --why "$topic" --lang "$lang") || { echo "FAIL: $topic $lang exits $?"; fail=1; continue; }
    if [ "${SYNACK_UPDATE_GOLDEN:-}" = 1 ]; then
      printf '%s\n' "$out" > "$golden"
      echo "wrote $golden"
    elif ! printf '%s\n' "$out" | diff -u "$golden" - ; then
      echo "FAIL: $topic $lang differs from $golden"
      fail=1
    else
      echo "ok: $topic $lang"
    fi
  done
done
exit $fail
