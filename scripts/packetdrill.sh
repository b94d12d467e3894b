#!/usr/bin/env bash
# Runs packetdrill scripts against synack through its plug-in (libsynack_packetdrill.so):
#   scripts/packetdrill.sh [-v] [--kernel] PACKETDRILL_BIN SCRIPT.pkt...
# With --kernel, against this machine's Linux TCP instead (packetdrill's own TUN device, cubic
# as the namespace's congestion control): the yardstick the plug-in's results are read against.
# Each script runs from its own directory (Google's scripts call ../common/defaults.sh) in its
# own network namespace (unshare -n) with lo up and a dummy tun0 (defaults.sh runs tc on it;
# with --so_filename packetdrill makes no TUN device), bounded by `timeout` (in .so mode
# packetdrill has no sniff timeout: a packet the stack never sends would hang it).
# Prints "PASS script" or "FAIL script" per script, packetdrill's output for failures (all of
# it with -v), and exits 1 if any failed. Needs the privilege to make a namespace (root).
# Environment: SYNACK_PD_PLUGIN (default: build/default/libsynack_packetdrill.so),
# SYNACK_PD_FLAGS (--so_flags, default "linux sysctl"), SYNACK_PD_TIMEOUT (s, default 20),
# SYNACK_PD_PRELOAD (a library preloaded into packetdrill: the sanitizer runtime for a
# plug-in built with ASan/UBSan; leak checking is then off, packetdrill does not free its own).
# The plug-in itself is preloaded too (after that runtime): packetdrill reads TCP_INFO for a
# script's `%{ }%` block with the real getsockopt() on the socket's descriptor, which the
# preloaded plug-in answers for its own descriptors (src/packetdrill/preload.cpp).
set -uo pipefail
verbose=0
kernel=0
while [ $# -gt 0 ]; do
  case "$1" in
    -v) verbose=1 ;;
    --kernel) kernel=1 ;;
    *) break ;;
  esac
  shift
done
if [ $# -lt 2 ]; then
  echo "usage: $0 [-v] [--kernel] PACKETDRILL_BIN SCRIPT.pkt..." >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
pd=$(readlink -f "$1")
shift
plugin=$(readlink -f "${SYNACK_PD_PLUGIN:-$root/build/default/libsynack_packetdrill.so}")
flags=${SYNACK_PD_FLAGS:-linux sysctl}
limit=${SYNACK_PD_TIMEOUT:-20}
[ -x "$pd" ] || { echo "packetdrill.sh: $pd is not an executable" >&2; exit 2; }
[ $kernel -eq 1 ] || [ -f "$plugin" ] || { echo "packetdrill.sh: no plug-in at $plugin (build synack_packetdrill)" >&2; exit 2; }

# Google's run_all.py arguments for SYNACK_PD_FAMILY (ipv4, the default; ipv6;
# ipv4-mapped-ipv6), the three variants it runs every script in (TFO_COOKIE: the Fast Open
# cookie Linux gives the remote address under defaults.sh's net.ipv4.tcp_fastopen_key, which
# the fastopen/server scripts send). The plug-in learns an IPv6 local address from its flags.
case "${SYNACK_PD_FAMILY:-ipv4}" in
  ipv4 | ipv4-mapped-ipv6)
    level=SOL_IP type=IP_RECVERR
    [ "${SYNACK_PD_FAMILY:-ipv4}" = ipv4 ] || level=SOL_IPV6 type=IPV6_RECVERR
    args=(--ip_version="${SYNACK_PD_FAMILY:-ipv4}" --local_ip=192.168.0.1 --gateway_ip=192.168.0.1
          --netmask_ip=255.255.0.0 --remote_ip=192.0.2.1 --send_omit_free -D TFO_COOKIE=3021b9d889017eeb
          -D CODE=host_unreachable -D CMSG_LEVEL_IP=$level -D CMSG_TYPE_RECVERR=$type) ;;
  ipv6)
    args=(--ip_version=ipv6 --mtu=1520 --local_ip=fd3d:0a0b:17d6::1 --gateway_ip=fd3d:0a0b:17d6:8888::1
          --remote_ip=fd3d:fa7b:d17d::1 --send_omit_free -D TFO_COOKIE=c1d1e9742a47a9bc
          -D CMSG_LEVEL_IP=SOL_IPV6 -D CMSG_TYPE_RECVERR=IPV6_RECVERR)
    flags="$flags local_ip=fd3d:a0b:17d6::1 mtu=1520" ;;
  *) echo "packetdrill.sh: SYNACK_PD_FAMILY is ipv4, ipv6 or ipv4-mapped-ipv6" >&2; exit 2 ;;
esac
[ $kernel -eq 1 ] || args+=("--so_filename=$plugin" "--so_flags=$flags")
export SYNACK_PD_KERNEL=$kernel SYNACK_PD_SO=$plugin

# The scripts run from a copy of their grandparent directory (gtests/net for
# gtests/net/tcp/blocking/x.pkt): the tree may be read-only, its helpers not executable, and
# git symlinks (tcp/common/defaults.sh) checked out as files holding the target's path.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
declare -A staged
stage_tree() {  # $1: a directory; sets `copy` to its copy (made once)
  local src=$1
  if [ -z "${staged[$src]:-}" ]; then
    local dst
    dst="$stage/$(printf '%s' "$src" | md5sum | cut -c1-8)"
    mkdir -p "$dst" && cp -r "$src/." "$dst/" && chmod -R u+w "$dst"
    find "$dst" -type f \( -name '*.sh' -o -name '*.py' \) -size -200c | while read -r f; do
      target=$(head -c 200 "$f")
      if [[ "$target" != *$'\n'* && "$target" != *' '* && -e "$(dirname "$f")/$target" ]]; then
        ln -sf "$target" "$f"
      fi
    done
    # A link left as a file holding a path that leads nowhere would run itself (a shell
    # script whose one line is its own relative path): make it fail instead.
    find "$dst" -type f \( -name '*.sh' -o -name '*.py' \) -size -200c | while read -r f; do
      target=$(head -c 200 "$f")
      [[ "$target" != *$'\n'* && "$target" != *' '* && "$target" == */* ]] && printf 'echo "broken link: %s" >&2; exit 1\n' "$target" >"$f"
    done
    find "$dst" -type f \( -name '*.sh' -o -name '*.py' \) -exec chmod +x {} +
    staged[$src]=$dst
  fi
  copy=${staged[$src]}
}

failed=0
for script in "$@"; do
  if [ ! -f "$script" ]; then
    echo "FAIL $script (no such script)"
    failed=1
    continue
  fi
  sdir=$(cd "$(dirname "$script")" && pwd)
  # The tree above the scripts' `tcp` folder (gtests/net: tcp/common/defaults.sh points to
  # ../../common/defaults.sh), whatever their depth (tcp/fastopen/server/opt34/x.pkt).
  top=$(dirname "$(dirname "$sdir")")
  d=$sdir
  while [ "$d" != / ]; do
    if [ "$(basename "$d")" = tcp ]; then top=$(dirname "$d"); break; fi
    d=$(dirname "$d")
  done
  stage_tree "$top"
  dir="$copy/${sdir#"$top"/}"
  name=$(basename "$script")
  # packetdrill runs as a child of the namespace's shell, which then removes the
  # /tmp/sysctl_restore_<pid>.sh that Google's common/set_sysctls.py writes for it (the
  # sysctls it changes belong to the namespace; the file would be left in /tmp).
  out=$(cd "$dir" && timeout -k 2 "$limit" unshare -n bash -c '
      run() { "$@" & p=$!; wait "$p"; rc=$?; rm -f "/tmp/sysctl_restore_$p.sh"; exit "$rc"; }
      ip link set lo up &&
      if [ "$SYNACK_PD_KERNEL" = 1 ]; then
        sysctl -qw net.ipv4.tcp_congestion_control=cubic 2>/dev/null
        run "$0" "$@"
      fi &&
      ip tuntap add dev tun0 mode tun && ip link set tun0 up &&
      if [ -n "${SYNACK_PD_PRELOAD:-}" ]; then
        run env LD_PRELOAD="$SYNACK_PD_PRELOAD $SYNACK_PD_SO" ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 "$0" "$@"
      fi
      run env LD_PRELOAD="$SYNACK_PD_SO" "$0" "$@"' "$pd" "${args[@]}" "$name" 2>&1)
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "PASS $script"
    [ $verbose -eq 1 ] && [ -n "$out" ] && echo "$out" | sed 's/^/    /'
  else
    failed=1
    [ $rc -eq 124 ] && out="$out
(timed out after ${limit} s)"
    echo "FAIL $script"
    echo "$out" | sed 's/^/    /' | tail -n "$([ $verbose -eq 1 ] && echo 1000 || echo 8)"
  fi
done
exit $failed
