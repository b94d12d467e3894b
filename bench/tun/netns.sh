# Shared by bench/tun/run.sh and bench/tun/latency.sh (sourced, already inside `unshare -n`:
# namespace A). bench_netns_init NAME makes WORK (a temporary folder), PIDS (killed and waited
# for on exit), brings lo up, holds a second namespace B with one process (HOLD; `inb CMD`
# runs CMD there) and joins A and B with the veth pair vb0 ($VA/24) - vb1 ($VB/24).
# Nothing leaves the two namespaces; both vanish with their processes.
# bench/recovery/reorder_kernel.sh uses bench_cleanup alone (one namespace, no veth).

bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}

inb() { nsenter --net="/proc/$HOLD/ns/net" "$@"; }

bench_netns_init() {  # bench_netns_init NAME
  WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
  ip link set lo up
  unshare -n sleep 100000 &
  HOLD=$!
  PIDS+=("$HOLD")
  sleep 0.1
  ip link add vb0 type veth peer name vb1 netns "$HOLD"
  ip addr add "$VA/24" dev vb0
  ip link set vb0 up
  inb ip link set lo up
  inb ip addr add "$VB/24" dev vb1
  inb ip link set vb1 up
}
