#!/bin/sh
# Rewrites tests/conformance/freebsd-expected.tsv from a run of `synack pkt --relaxed` over the
# FreeBSD suite folders the ctest entry pkt_freebsd_conformance checks, with its knob
# (docs/conformance.md).
# Usage: tools/update-conformance-expectations.sh [path/to/synack]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
synack=${1:-$src/build/default/synack}
exec "$synack" pkt --relaxed --quiet --knob time_wait_reopen=0 \
  --root "$src/../shared/conformance/freebsd-tcp-testsuite" \
  --expect "$src/tests/conformance/freebsd-expected.tsv" --update-expectations \
  state-event-engine snippets snd-syn rcv-data-segments socket-api rcv-icmp
