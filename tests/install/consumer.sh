#!/usr/bin/env bash
# synack as another project uses it: install the current build into a temporary prefix, check
# what is there, build examples/ against it with find_package(synack) and run the simulator
# example, compile and link one example with `pkg-config --cflags --libs synack`, and run the
# installed tool. Fails on anything missing.
#   consumer.sh BUILD_DIR SOURCE_DIR CXX BUILD_TYPE VERSION [CXXFLAGS]
# CXXFLAGS: what the build's objects need from a program that links them (the sanitizer
# flags of the asan preset).
set -euo pipefail
build=${1:?usage: consumer.sh BUILD_DIR SOURCE_DIR CXX BUILD_TYPE VERSION [CXXFLAGS]}
src=${2:?}
cxx=${3:?}
build_type=${4-}
version=${5:?}
flags=${6:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/synack-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "install"; }

# Where GNUInstallDirs put things (lib or lib64 or lib/<triplet>).
config=$(find "$prefix" -name synackConfig.cmake -print -quit)
[ -n "$config" ] || fail "no synackConfig.cmake installed"
libdir=$(cd "$(dirname "$config")/../.." && pwd)
for f in "$prefix/bin/synack" "$prefix/include/synack/synack.hpp" "$prefix/include/synack/runtime/host_driver.hpp" \
         "$libdir/cmake/synack/synackConfigVersion.cmake" "$libdir/cmake/synack/synackTargets.cmake" \
         "$libdir/pkgconfig/synack.pc" "$prefix/share/doc/synack/LICENSE"; do
  [ -e "$f" ] || fail "not installed: ${f#"$prefix"/}"
done
for l in wire tcp stack posix pkt io runtime; do
  [ -e "$libdir/libsynack_$l.a" ] || fail "not installed: libsynack_$l.a"
done
# Build-only pieces stay out of the package.
if grep -q synack_warnings "$libdir"/cmake/synack/*.cmake; then fail "synack_warnings leaked into the package"; fi
cmp -s "$src/LICENSE" "$prefix/share/doc/synack/LICENSE" || fail "installed LICENSE differs"
grep -q "BSD 2-Clause License" "$prefix/share/doc/synack/LICENSE" || fail "LICENSE is not BSD-2-Clause"
# Every public header, and nothing from src/.
n_src=$(cd "$src/include" && find synack -name '*.hpp' | wc -l)
n_inst=$(cd "$prefix/include" && find synack -name '*.hpp' | wc -l)
[ "$n_src" -eq "$n_inst" ] || fail "$n_inst headers installed, $n_src in include/"

echo "== the installed tool"
out=$("$prefix/bin/synack" --version)
[ "$out" = "synack $version" ] || fail "synack --version printed '$out', wanted 'synack $version'"
echo "$out"

echo "== examples/ with find_package(synack)"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S "$src/examples" -B "$tmp/examples" "${gen[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_CXX_FLAGS="$flags" \
      >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; fail "configure examples"; }
grep -q "synack_DIR:PATH=$libdir/cmake/synack" "$tmp/examples/CMakeCache.txt" || fail "examples did not find the installed package"
cmake --build "$tmp/examples" -j2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "build examples"; }
for e in sim_two_hosts tun_echo_server blocking_client; do
  [ -x "$tmp/examples/$e" ] || fail "example $e not built"
done
out=$("$tmp/examples/sim_two_hosts" 7)
echo "$out"
[[ $out == "seed 7: echoed 100000 bytes intact in "* ]] || fail "sim_two_hosts: unexpected output"

echo "== one example with pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pc=$(pkg-config --cflags --libs synack) || fail "pkg-config synack"
echo "pkg-config --cflags --libs synack: $pc"
[ "$(pkg-config --modversion synack)" = "$version" ] || fail "synack.pc has another version"
# shellcheck disable=SC2086  # flags are words
"$cxx" -std=c++20 $flags "$src/examples/sim_two_hosts.cpp" -o "$tmp/sim_pc" $pc || fail "compile with pkg-config"
out=$("$tmp/sim_pc" 3)
echo "$out"
[[ $out == "seed 3: echoed 100000 bytes intact in "* ]] || fail "pkg-config build: unexpected output"
echo "install consumer: ok"
