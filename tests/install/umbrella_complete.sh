#!/usr/bin/env bash
# Every public header is in the umbrella header include/synack/synack.hpp: a header added under
# include/synack/ without its line there fails here.
set -euo pipefail
root=${1:?usage: umbrella_complete.sh SOURCE_DIR}
umbrella="$root/include/synack/synack.hpp"
missing=0
checked=0
while IFS= read -r h; do
  rel=${h#"$root/include/"}
  [ "$rel" = synack/synack.hpp ] && continue
  checked=$((checked + 1))
  if ! grep -qxF "#include \"$rel\"" "$umbrella"; then
    echo "missing from include/synack/synack.hpp: #include \"$rel\""
    missing=$((missing + 1))
  fi
done < <(find "$root/include/synack" -name '*.hpp' | sort)
[ "$checked" -gt 0 ] || { echo "no headers found under $root/include/synack"; exit 1; }
[ "$missing" -eq 0 ] || exit 1
echo "umbrella header: all $checked public headers included"
