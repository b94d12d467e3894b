// A blocking TCP client written as against BSD sockets, over synack's TCP on a TUN device:
// socket, connect, send, shutdown, recv until end of stream, close. Each blocking call runs
// synack's event loop until it can return, as the kernel puts a caller to sleep.
//
// Start a server on the kernel's side of the device first, e.g.
//   nc -l 10.77.0.1 8080            (or any server the kernel's address reaches)
// then `./blocking_client [device] [server-address] [port]` (defaults: synack0 10.77.0.1 8080).
// Needs CAP_NET_ADMIN to create the device: root, or `unshare -rn` with the server inside.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "synack/synack.hpp"

using namespace synack;

int main(int argc, char** argv) {
  const char* device = argc > 1 ? argv[1] : "synack0";
  const auto server = ipv4_addr::parse(argc > 2 ? argv[2] : "10.77.0.1");
  const auto port = static_cast<std::uint16_t>(argc > 3 ? std::atoi(argv[3]) : 8080);
  if (!server) return 2;

  io::tun_config tun_cfg;
  tun_cfg.name = device;
  tun_cfg.kernel_addr = ipv4_addr::from_octets(10, 77, 0, 1);
  tun_cfg.prefix_len = 24;
  auto tun = io::tun_link::open(tun_cfg);
  if (!tun) {
    std::fprintf(stderr, "blocking_client: %s\n", tun.error().c_str());
    return 1;
  }

  // A host at 10.77.0.2 on the device, its event loop, and BSD-style descriptors over it.
  host_config cfg;
  cfg.addr = ipv4_addr::from_octets(10, 77, 0, 2);
  cfg.prefix_len = 24;
  runtime::event_loop loop{**tun, cfg};  // fills cfg.secret from getrandom()
  posix::socket_table table{loop.host()};
  runtime::blocking_sockets sockets{loop, table};

  const auto sock = table.socket(posix::af_inet, posix::sock_stream, 0);
  if (!sock) return 1;
  const int fd = *sock;
  // Errors are errno values, as the kernel's calls return them.
  if (auto r = sockets.connect(fd, {*server, port}); !r) {
    std::fprintf(stderr, "connect: %s\n", std::strerror(r.error()));
    return 1;
  }
  const std::string request = "hello from synack\n";
  if (auto r = sockets.send(fd, bytes{reinterpret_cast<const std::byte*>(request.data()), request.size()}); !r) {
    std::fprintf(stderr, "send: %s\n", std::strerror(r.error()));
    return 1;
  }
  (void)sockets.shutdown(fd, posix::shut_wr);  // our FIN: the server sees end of stream

  // Everything the server answers, until it closes.
  std::byte buf[4096];
  for (;;) {
    auto n = sockets.recv(fd, buf);
    if (!n) {
      std::fprintf(stderr, "recv: %s\n", std::strerror(n.error()));
      return 1;
    }
    if (*n == 0) break;
    std::fwrite(buf, 1, *n, stdout);
  }
  (void)sockets.close(fd);
  return 0;
}
