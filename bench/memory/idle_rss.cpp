// idle_rss: memory per idle connection (issue #13's RSS figures; docs/performance.md).
//   idle_rss [--rack off] [N...]   (default: 1000 10000; --rack off: tcp_config::rack off)
// Two synack hosts back to back in memory (bench/host_pair.hpp) open N connections and leave
// them ESTABLISHED and idle; the process's resident set (/proc/self/statm) is read before and
// after, then again after each connection has carried one byte each way (the buffers have been
// touched). Printed per connection end (each connection has two: a client TCB and a server
// TCB), in KiB. Targets (issue #13): <= 2 KiB idle, <= 16 KiB after the exchange.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "memory_common.hpp"

namespace {

using namespace synack;
using namespace synack::bench;

struct figures {
  double idle_kib = 0;      // per connection end, established, no data yet
  double one_byte_kib = 0;  // per connection end, after one byte each way
};

figures measure(std::size_t n, bool rack) {
  host_config c = bench_config(client_addr);
  host_config s = bench_config(server_addr);
  c.tcp.rack = rack;
  s.tcp.rack = rack;
  host_pair p{c, s};
  const double before = rss_kib();
  const connection_set set = open_connections(p, n);
  const std::vector<conn_handle>& clients = set.clients;
  const std::vector<conn_handle>& servers = set.servers;
  const double idle = rss_kib();
  const std::byte one[1] = {std::byte{'x'}};
  std::byte got[16];
  for (std::size_t i = 0; i < n; ++i) {
    (void)p.client.send(clients[i], bytes{one, 1});
    if (i % 64 == 63) p.pump();
  }
  p.pump();
  for (auto h : servers) {
    (void)p.server.recv(h, mutable_bytes{got, sizeof got});
    (void)p.server.send(h, bytes{one, 1});
  }
  p.pump();
  for (auto h : clients) (void)p.client.recv(h, mutable_bytes{got, sizeof got});
  // Past the delayed-ACK timers: everything acknowledged, nothing in flight.
  p.now += std::chrono::seconds(1);
  p.pump();
  const double after = rss_kib();
  figures f;
  f.idle_kib = (idle - before) / static_cast<double>(2 * n);
  f.one_byte_kib = (after - before) / static_cast<double>(2 * n);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> ns;
  bool rack = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rack") == 0 && i + 1 < argc) {
      rack = std::strcmp(argv[++i], "off") != 0;
      continue;
    }
    ns.push_back(static_cast<std::size_t>(std::strtoul(argv[i], nullptr, 10)));
  }
  if (ns.empty()) ns = {1000, 10000};
  std::printf("RACK %s\n", rack ? "on" : "off");
  std::printf("%-12s %22s %26s\n", "connections", "idle KiB/conn-end", "after 1 byte KiB/conn-end");
  for (std::size_t n : ns) {
    const figures f = measure(n, rack);
    std::printf("%-12zu %22.2f %26.2f\n", n, f.idle_kib, f.one_byte_kib);
  }
  return 0;
}
