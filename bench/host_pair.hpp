#pragma once
// Two synack hosts wired back to back in memory: what one writes with poll_transmit the other
// reads with on_packet, at a virtual time the benchmark advances itself. No simulator, no
// latency, no loss: the cost measured is the stacks' own.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "synack/stack/host.hpp"

namespace synack::bench {

inline constexpr ipv4_addr client_addr = ipv4_addr::from_octets(10, 0, 0, 1);
inline constexpr ipv4_addr server_addr = ipv4_addr::from_octets(10, 0, 0, 2);
inline constexpr std::uint16_t server_port = 80;
// Over IPv6 (the issue #14 comparison): each host also has one of these.
inline constexpr ipv6_addr client_addr6 = ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});
inline constexpr ipv6_addr server_addr6 = ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 2});

// The link's shape: the default Ethernet-sized one, or 64 KiB segments as over loopback.
struct link_shape {
  std::uint16_t mtu = 1500;
  std::uint16_t mss = 1460;
  std::size_t buffer = 256 * 1024;  // send and receive buffers
};
inline constexpr link_shape ethernet{};
// IPv4's largest datagram: 65535 octets = 20 (IP) + 20 (TCP) + 40 (options, at most) + 65455.
inline constexpr link_shape jumbo{65535, 65455, 4 * 1024 * 1024};

// The family of the connections: `ipv6` gives the host its IPv6 address too (connections then
// go to the server's, `host_pair::server_ip`).
inline host_config bench_config(ipv4_addr addr, link_shape shape = ethernet, bool ipv6 = false) {
  host_config c;
  c.addr = addr;
  if (ipv6) c.addresses = {host_address{addr == client_addr ? client_addr6 : server_addr6, 64}};
  c.mtu = shape.mtu;
  c.tcp.mss = shape.mss;
  c.tcp.send_buffer = shape.buffer;
  c.tcp.recv_buffer = shape.buffer;
  return c;
}

struct host_pair {
  explicit host_pair(link_shape shape = ethernet, bool ipv6 = false)
      : client{bench_config(client_addr, shape, ipv6)}, server{bench_config(server_addr, shape, ipv6)},
        server_ip(ipv6 ? ip_addr{server_addr6} : ip_addr{server_addr}), buf(client.max_packet_len()) {}
  // With configurations of their own (bench/memory/attack_rss: a budget, small windows).
  host_pair(const host_config& c, const host_config& s)
      : client{c}, server{s}, server_ip(server_addr), buf(std::max(client.max_packet_len(), server.max_packet_len())) {}
  host client;
  host server;
  ip_addr server_ip;  // where the client connects
  instant now = instant::zero();
  std::uint64_t segments = 0;  // packets moved between the hosts
  std::vector<std::byte> buf;  // one packet, allocated once

  // Moves every packet `from` has queued to `to`; true if any moved.
  bool move(host& from, host& to) {
    bool moved = false;
    while (auto n = from.poll_transmit(now, buf)) {
      to.on_packet(now, bytes{buf.data(), *n});
      ++segments;
      moved = true;
    }
    return moved;
  }

  // As an event loop does after every input: run whatever timer is due.
  static bool run_timers(host& h, instant at) {
    const auto d = h.next_deadline();
    if (!d || *d > at) return false;
    h.on_timeout(at);
    return true;
  }

  // Until both hosts are quiet: packets both ways, then due timers.
  void pump() {
    for (;;) {
      bool busy = move(client, server);
      busy = move(server, client) || busy;
      busy = run_timers(client, now) || busy;
      busy = run_timers(server, now) || busy;
      if (!busy) return;
    }
  }
};

}  // namespace synack::bench
