// Two synack hosts on the simulator: a client sends 100,000 bytes over a lossy 10 ms link, the
// server echoes them, the client checks they came back intact. No privileges, no device, no
// wall clock: the hosts are sans-IO and the simulated world jumps virtual time from event to
// event, so a run is a pure function of its seed (the first argument; default 1).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "synack/synack.hpp"

using namespace synack;

int main(int argc, char** argv) {
  const std::uint64_t seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1;

  // Two hosts. A host is only TCP/IP state: it never reads a clock or touches a device; time
  // and packets are handed to it.
  host_config client_cfg;
  client_cfg.addr = ipv4_addr::from_octets(10, 0, 0, 1);
  host_config server_cfg;
  server_cfg.addr = ipv4_addr::from_octets(10, 0, 0, 2);
  host client{client_cfg};
  host server{server_cfg};

  // The world carries their packets: one link, 10 ms each way, 2% of packets lost.
  sim::world world{seed};
  sim::node_adapter<host> client_node{client};
  sim::node_adapter<host> server_node{server};
  sim::link_config wire;
  wire.latency = std::chrono::milliseconds(10);
  wire.loss = 0.02;
  world.add_link(world.add_node(client_node, client_cfg.addr, "client"),
                 world.add_node(server_node, server_cfg.addr, "server"), wire);

  const auto listener = server.listen(7, 8);
  const auto conn = client.connect(world.now(), server_cfg.addr, 7);
  if (!listener || !conn) return 1;

  std::string message;
  while (message.size() < 100'000) message += "synack " + std::to_string(message.size()) + "\n";
  message.resize(100'000);
  const bytes out{reinterpret_cast<const std::byte*>(message.data()), message.size()};

  // The applications run between the world's steps (one step: everything due at one instant).
  std::optional<conn_handle> accepted;
  std::size_t written = 0;
  std::string echoed;
  std::byte buf[4096];
  while (echoed.size() < message.size() && world.step()) {
    // Server: accept, then echo what came, no more than its send buffer takes now.
    if (!accepted) {
      if (auto a = server.accept(*listener)) accepted = *a;
    }
    if (accepted) {
      const auto st = server.status(*accepted);
      const std::size_t room = st ? std::min(sizeof buf, st->send_free) : 0;
      if (auto n = server.recv(*accepted, mutable_bytes{buf, room}); n && *n > 0) {
        (void)server.send(*accepted, bytes{buf, *n});
      }
    }
    // Client: write what its send buffer takes, read what came back.
    if (written < out.size()) {
      if (auto n = client.send(*conn, out.subspan(written))) written += *n;
    }
    while (auto n = client.recv(*conn, buf)) {
      if (*n == 0) break;
      echoed.append(reinterpret_cast<const char*>(buf), *n);
    }
  }

  const instant done_at = world.now();

  // Close both ends; the world runs on while the four-way close completes.
  (void)client.close(world.now(), *conn);
  if (accepted) (void)server.close(world.now(), *accepted);
  world.run_until(world.now() + std::chrono::seconds(5));

  const bool intact = echoed == message;
  std::printf("seed %llu: %s %zu bytes %s in %.3f s of virtual time, %llu segments retransmitted\n",
              static_cast<unsigned long long>(seed), intact ? "echoed" : "FAILED:", echoed.size(),
              intact ? "intact" : "differ", done_at.seconds(),
              static_cast<unsigned long long>(client.counters().retrans_segs));
  return intact ? 0 : 1;
}
