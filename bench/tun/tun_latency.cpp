// tun_latency: the latency rows of bench/tun/latency.sh. No synack code is linked.
//
//   tun_latency rr HOST PORT COUNT          one connection, one request in flight (like
//                                           `ab -c 1`): COUNT round trips of 16 bytes to an echo
//                                           server; prints the rate and the median round trip
//   tun_latency reflect IFNAME ADDR/PREFIX  the floor for any stack over TUN: creates IFNAME,
//                                           gives the kernel's side ADDR/PREFIX, and answers
//                                           every ICMP echo request read from the device by
//                                           writing the reply back (blocking read()/write(),
//                                           nothing else), until SIGTERM
//
// Results go to stdout as "RESULT <what> <value> <unit>" lines. rr stops with exit status 1 if
// a round trip takes longer than 10 s.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "tun_latency: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

int run_rr(const char* host, int port, long count) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    std::fprintf(stderr, "tun_latency: bad IPv4 address %s\n", host);
    return 2;
  }
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) die("socket");
  timeval tv{10, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect");  // NOLINT
  const int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::array<char, 16> msg{'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::vector<double> rtt_us;
  rtt_us.reserve(static_cast<std::size_t>(count));
  const auto t0 = clock_type::now();
  for (long i = 0; i < count; ++i) {
    const auto t = clock_type::now();
    if (::write(s, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) die("write");
    std::size_t got = 0;
    std::array<char, 64> buf{};
    while (got < msg.size()) {
      const ssize_t n = ::read(s, buf.data(), buf.size());
      if (n <= 0) die(n == 0 ? "read: early EOF" : "read");
      got += static_cast<std::size_t>(n);
    }
    rtt_us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t).count());
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  ::close(s);
  std::sort(rtt_us.begin(), rtt_us.end());
  const double median = rtt_us.empty() ? 0 : rtt_us[rtt_us.size() / 2];
  std::printf("RESULT rr_rate %.0f req/s\nRESULT rr_median %.1f us\n", static_cast<double>(count) / secs, median);
  return 0;
}

std::uint16_t fold(std::uint32_t sum) {
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

// RFC 1071 sum of a byte range (big-endian 16-bit words).
std::uint32_t sum16(const unsigned char* p, std::size_t n) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) s += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if ((n & 1) != 0) s += static_cast<std::uint32_t>(p[n - 1] << 8);
  return s;
}

// An IPv4 ICMP echo request turned into its reply in place; false for anything else.
bool make_reply(unsigned char* p, std::size_t n) {
  if (n < 28 || (p[0] >> 4) != 4 || p[9] != 1) return false;
  const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0f) * 4;
  if (ihl < 20 || n < ihl + 8 || p[ihl] != 8) return false;
  std::array<unsigned char, 4> src{};
  std::memcpy(src.data(), p + 12, 4);
  std::memmove(p + 12, p + 16, 4);
  std::memcpy(p + 16, src.data(), 4);
  p[ihl] = 0;  // echo reply
  p[ihl + 2] = p[ihl + 3] = 0;
  const std::uint16_t c = fold(sum16(p + ihl, n - ihl));
  p[ihl + 2] = static_cast<unsigned char>(c >> 8);
  p[ihl + 3] = static_cast<unsigned char>(c & 0xff);
  return true;  // the IPv4 header checksum is unchanged: its words were only swapped
}

int run_reflect(const char* ifname, const char* prefix) {
  const std::string pfx{prefix};
  const auto slash = pfx.find('/');
  in_addr addr{};
  if (slash == std::string::npos || ::inet_pton(AF_INET, pfx.substr(0, slash).c_str(), &addr) != 1) {
    std::fprintf(stderr, "tun_latency: want ADDR/PREFIX, got %s\n", prefix);
    return 2;
  }
  const int len = std::atoi(pfx.c_str() + slash + 1);
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) die("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) die("TUNSETIFF");
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr = addr;
  std::memcpy(&ifr.ifr_addr, &sin, sizeof sin);
  if (::ioctl(s, SIOCSIFADDR, &ifr) < 0) die("SIOCSIFADDR");
  sin.sin_addr.s_addr = htonl(len == 0 ? 0 : ~std::uint32_t{0} << (32 - len));
  std::memcpy(&ifr.ifr_netmask, &sin, sizeof sin);
  if (::ioctl(s, SIOCSIFNETMASK, &ifr) < 0) die("SIOCSIFNETMASK");
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die("SIOCGIFFLAGS");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die("SIOCSIFFLAGS");
  ::close(s);
  std::printf("reflecting ICMP echo on %s\n", ifname);
  std::fflush(stdout);
  std::array<unsigned char, 65536> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("read");
    if (make_reply(buf.data(), static_cast<std::size_t>(n))) (void)!::write(fd, buf.data(), static_cast<std::size_t>(n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "rr" && argc == 5) return run_rr(argv[2], std::atoi(argv[3]), std::atol(argv[4]));
  if (mode == "reflect" && argc == 4) return run_reflect(argv[2], argv[3]);
  std::fprintf(stderr, "usage: tun_latency rr HOST PORT COUNT | reflect IFNAME ADDR/PREFIX\n");
  return 2;
}
