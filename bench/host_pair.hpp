#pragma once
// Two synack hosts wired back to back in memory: what one writes with poll_transmit the other
// reads with on_packet, at a virtual time the benchmark advances itself. No simulator, no
// latency, no loss: the cost measured is the stacks' own.
#include <array>
#include <cstddef>
#include <cstdint>

#include "synack/stack/host.hpp"

namespace synack::bench {

inline constexpr ipv4_addr client_addr = ipv4_addr::from_octets(10, 0, 0, 1);
inline constexpr ipv4_addr server_addr = ipv4_addr::from_octets(10, 0, 0, 2);
inline constexpr std::uint16_t server_port = 80;

inline host_config bench_config(ipv4_addr addr) {
  host_config c;
  c.addr = addr;
  return c;
}

struct host_pair {
  host client{bench_config(client_addr)};
  host server{bench_config(server_addr)};
  instant now = instant::zero();
  std::uint64_t segments = 0;  // packets moved between the hosts
  alignas(8) std::array<std::byte, 2048> buf{};

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
