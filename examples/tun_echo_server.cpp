// An echo server on a TUN device, over synack's TCP instead of the kernel's. The kernel gets
// 10.77.0.1/24 on the device, synack answers as 10.77.0.2: `nc 10.77.0.2 7` from the same
// machine (or namespace) talks to synack. Needs CAP_NET_ADMIN to create the device: run it as
// root, or in a private network namespace with `unshare -rn ./tun_echo_server`.
//
// The host is driven by hand: runtime::host_driver::run_once() is the whole I/O loop (read the
// device into the host, fire its timers, write what it sends, sleep until the next of those),
// and between turns the program uses the host's own API.
#include <algorithm>
#include <cstdio>
#include <string>

#include "synack/synack.hpp"

using namespace synack;

int main(int argc, char** argv) {
  io::tun_config tun_cfg;
  tun_cfg.name = argc > 1 ? argv[1] : "synack0";
  tun_cfg.kernel_addr = ipv4_addr::from_octets(10, 77, 0, 1);
  tun_cfg.prefix_len = 24;
  auto tun = io::tun_link::open(tun_cfg);
  if (!tun) {
    std::fprintf(stderr, "tun_echo_server: %s\n", tun.error().c_str());
    return 1;
  }

  host_config cfg;
  cfg.addr = ipv4_addr::from_octets(10, 77, 0, 2);
  cfg.prefix_len = 24;
  cfg.secret = runtime::random_secret();  // keys ISNs and ports: unpredictable on a real network
  host server{cfg};
  runtime::host_driver driver{server, **tun};

  const auto listener = server.listen(7, 128);
  if (!listener) return 1;
  std::printf("echo server on %s:7 (device %s)\n", cfg.addr.to_string().c_str(), (*tun)->ifname().c_str());
  std::fflush(stdout);

  // Echoes what a connection sent, as far as its send space allows (when space frees up, the
  // connection shows up in poll_ready() again); closes it at the peer's end or after a reset.
  std::byte buf[16384];
  auto serve = [&](conn_handle c) {
    for (;;) {
      const auto st = server.status(c);
      if (!st) return;  // closed already
      if (st->readable > 0 && st->send_free > 0) {
        const auto n = server.recv(c, mutable_bytes{buf, std::min(sizeof buf, st->send_free)});
        if (n && *n > 0) {
          (void)server.send(c, bytes{buf, *n});
          continue;
        }
      }
      if ((st->eof && st->readable == 0) || st->state == tcp_state::closed) {
        (void)server.close(runtime::clock_now(), c);  // our FIN follows the echoed bytes
      }
      return;
    }
  };

  for (;;) {
    // Wait (at most a second) for packets or a timer, and let the host handle them.
    (void)driver.run_once(std::chrono::seconds(1));
    // New connections (data may be waiting already), then those whose state changed.
    while (auto c = server.accept(*listener)) serve(*c);
    while (auto c = server.poll_ready()) serve(*c);
  }
}
