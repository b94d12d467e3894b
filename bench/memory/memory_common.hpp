#pragma once
// What the memory benchmarks share: the process's resident set, and N connections opened
// between the two hosts of a host_pair.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "../host_pair.hpp"

namespace synack::bench {

// Resident set of this process (/proc/self/statm), KiB.
inline double rss_kib() {
  std::ifstream f("/proc/self/statm");
  long size = 0;
  long resident = 0;
  f >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1024.0;
}

struct connection_set {
  std::vector<conn_handle> clients;
  std::vector<conn_handle> servers;  // accepted, in no particular order
};

// N connections client -> server, ESTABLISHED and accepted; exits on failure.
inline connection_set open_connections(host_pair& p, std::size_t n) {
  connection_set s;
  s.clients.reserve(n);
  s.servers.reserve(n);
  auto l = p.server.listen(server_port, n + 16);
  if (!l) std::abort();
  for (std::size_t i = 0; i < n; ++i) {
    auto c = p.client.connect(p.now, server_addr, server_port);
    if (!c) {
      std::fprintf(stderr, "connect %zu: %s\n", i, std::string(to_string(c.error())).c_str());
      std::exit(1);
    }
    s.clients.push_back(*c);
    if (i % 64 == 63) p.pump();
  }
  p.pump();
  while (auto a = p.server.accept(*l)) s.servers.push_back(*a);
  if (s.servers.size() != n) {
    std::fprintf(stderr, "accepted %zu of %zu\n", s.servers.size(), n);
    std::exit(1);
  }
  return s;
}

}  // namespace synack::bench
