// tun_link's choice of I/O path against the real kernel: io_uring by default, read()/write()
// when SYNACK_TUN_IO=readwrite, and a clean fall-back with a one-line notice when io_uring is
// refused (here by a seccomp filter answering EPERM to io_uring_setup, as container runtimes do).
// Each case runs in a forked child inside its own network namespace (unshare(CLONE_NEWNET)), so
// the TUN device, its addresses and the packets vanish with the child. Without the privilege to
// make a namespace (or without /dev/net/tun) the cases are skipped with the reason.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "synack/io/tun/tun_link.hpp"
#include "synack/runtime/event_loop.hpp"
#include "synack/wire/ipv4.hpp"

namespace synack {
namespace {

constexpr int skip_code = 77;
constexpr ipv4_addr kernel_ip = ipv4_addr::from_octets(10, 79, 0, 1);
constexpr ipv4_addr our_ip = ipv4_addr::from_octets(10, 79, 0, 2);
constexpr std::uint16_t udp_port = 9999;

// Failure inside the child: say why on stderr, exit non-zero (the parent shows the code).
[[noreturn]] void child_fail(int code, const std::string& why) {
  std::fprintf(stderr, "child: %s\n", why.c_str());
  std::_Exit(code);
}

std::unique_ptr<io::tun_link> open_tun(bool offload = false, unsigned queues = 1) {
  io::tun_config cfg;
  cfg.name = "synackt0";
  cfg.kernel_addr = kernel_ip;
  cfg.offload = offload;
  cfg.queues = queues;
  auto t = io::tun_link::open(cfg);
  if (!t) child_fail(10, "tun_link::open: " + t.error());
  return std::move(*t);
}

// Refuses io_uring_setup with EPERM for this process from now on (no other call is touched).
void refuse_io_uring() {
  std::array<sock_filter, 4> prog{{
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  }};
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
    child_fail(11, std::string{"seccomp: "} + std::strerror(errno));
  }
}

// A UDP datagram from us to the kernel's socket, written by hand (UDP checksum 0: none, RFC 768).
std::vector<std::byte> udp_packet(std::string_view text) {
  ipv4_repr ip;
  ip.src = our_ip;
  ip.dst = kernel_ip;
  ip.protocol = ip_proto::udp;
  ip.payload_len = static_cast<std::uint16_t>(8 + text.size());
  std::vector<std::byte> p(ipv4_repr::buffer_len() + ip.payload_len);
  ip.emit(mutable_bytes{p});
  auto* u = p.data() + ipv4_repr::buffer_len();
  const std::array<std::uint16_t, 4> hdr{htons(udp_port), htons(udp_port), htons(ip.payload_len), 0};
  std::memcpy(u, hdr.data(), 8);
  std::memcpy(u + 8, text.data(), text.size());
  return p;
}

// Both directions through the link: a datagram the kernel sends to our address arrives through
// receive(), and one we send() + submit() reaches the kernel's socket.
void exchange_udp(io::tun_link& tun) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(udp_port);
  a.sin_addr.s_addr = htonl(kernel_ip.value);
  if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) child_fail(12, "bind");  // NOLINT
  timeval tv{2, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  a.sin_addr.s_addr = htonl(our_ip.value);
  if (::sendto(s, "to-synack", 9, 0, reinterpret_cast<sockaddr*>(&a), sizeof a) != 9) {  // NOLINT
    child_fail(13, std::string{"sendto: "} + std::strerror(errno));
  }
  bool seen = false;
  for (int i = 0; i < 50 && !seen; ++i) {  // at most 5 s
    pollfd pfd{tun.fd(), POLLIN, 0};
    (void)::poll(&pfd, 1, 100);
    (void)tun.receive(runtime::clock_now(), 64, [&](bytes p, const rx_meta&) {
      const std::string_view body{reinterpret_cast<const char*>(p.data()), p.size()};  // NOLINT
      seen = seen || body.find("to-synack") != std::string_view::npos;
    });
  }
  if (!seen) child_fail(14, "the kernel's datagram did not arrive through receive()");
  const auto pkt = udp_packet("to-kernel");
  if (!tun.send(runtime::clock_now(), bytes{pkt})) child_fail(15, "send() refused the datagram");
  tun.submit();
  char buf[64]{};
  const ssize_t n = ::recv(s, buf, sizeof buf, 0);
  if (n != 9 || std::string_view{buf, 9} != "to-kernel") child_fail(16, "our datagram did not reach the kernel");
  ::close(s);
}

// Runs `body` in a forked child in a fresh network namespace; returns its exit code.
template <typename Body>
int in_netns(Body body) {
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) return skip_code;
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNET) != 0) std::_Exit(skip_code);
    body();
    std::_Exit(0);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Skips (with the reason) when the child could not make its namespace, else wants exit 0.
#define EXPECT_CHILD_OK(rc)                                                                   \
  if ((rc) == skip_code) GTEST_SKIP() << "needs /dev/net/tun and CAP_SYS_ADMIN (unshare -n): run as root"; \
  EXPECT_EQ((rc), 0) << "the child failed (its stderr above)"

TEST(TunLink, IoUringByDefaultMovesPacketsBothWays) {
  const int rc = in_netns([] {
    ::unsetenv("SYNACK_TUN_IO");
    auto tun = open_tun();
    if (std::string_view{tun->io_mode()} != "io_uring") {
      // This kernel (or build) has no io_uring multishot read: the notice must say so.
      if (tun->io_notice().empty()) child_fail(20, "read/write without a notice");
      std::fprintf(stderr, "note: %s\n", tun->io_notice().c_str());
    }
    exchange_udp(*tun);
  });
  EXPECT_CHILD_OK(rc);
}

TEST(TunLink, ReadWriteWhenAsked) {
  const int rc = in_netns([] {
    ::setenv("SYNACK_TUN_IO", "readwrite", 1);
    auto tun = open_tun();
    if (std::string_view{tun->io_mode()} != "read/write") child_fail(21, "SYNACK_TUN_IO=readwrite ignored");
    if (!tun->io_notice().empty()) child_fail(22, "a notice although read/write was asked for");
    exchange_udp(*tun);
  });
  EXPECT_CHILD_OK(rc);
}

TEST(TunLink, FallsBackWithANoticeWhenIoUringIsRefused) {
  const int rc = in_netns([] {
    ::unsetenv("SYNACK_TUN_IO");
    refuse_io_uring();
    auto tun = open_tun();
    if (std::string_view{tun->io_mode()} != "read/write") child_fail(23, "io_uring although refused");
    const std::string& n = tun->io_notice();
    if (n.find("read()/write()") == std::string::npos || n.find('\n') != std::string::npos) {
      child_fail(24, "notice is not one line naming read()/write(): '" + n + "'");
    }
    std::fprintf(stderr, "notice: %s\n", n.c_str());
    exchange_udp(*tun);
  });
  EXPECT_CHILD_OK(rc);
}

// The wake-up the event loop relies on: with the loop asleep on fd() (level-triggered, as the
// loop watches it), a packet the kernel writes into the device must make fd() readable, and
// receive() must then hand it over. The wait is bounded by 5 s only so that a broken kernel
// path fails instead of hanging; on a kernel that loses the wake-up, poll() times out.
void wakes_on_arrival(io::tun_link& tun) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(udp_port);
  a.sin_addr.s_addr = htonl(our_ip.value);
  for (int round = 0; round < 20; ++round) {
    // Nothing waits: receive() takes nothing and the descriptor is quiet.
    (void)tun.receive(runtime::clock_now(), 64, [](bytes, const rx_meta&) {});
    pollfd quiet{tun.fd(), POLLIN, 0};
    if (::poll(&quiet, 1, 0) != 0 && !tun.rx_pending()) {
      int got = 0;
      (void)tun.receive(runtime::clock_now(), 64, [&](bytes, const rx_meta&) { ++got; });
      if (got == 0) child_fail(30, "fd() readable with nothing to receive (the loop would spin)");
    }
    const std::string text = "wake-" + std::to_string(round);
    if (::sendto(s, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {  // NOLINT
      child_fail(31, std::string{"sendto: "} + std::strerror(errno));
    }
    pollfd pfd{tun.fd(), POLLIN, 0};
    if (!tun.rx_pending() && ::poll(&pfd, 1, 5000) != 1) {
      child_fail(32, "round " + std::to_string(round) + ": a packet arrived but fd() never became readable");
    }
    bool seen = false;
    (void)tun.receive(runtime::clock_now(), 64, [&](bytes p, const rx_meta&) {
      const std::string_view body{reinterpret_cast<const char*>(p.data()), p.size()};  // NOLINT
      seen = seen || body.find(text) != std::string_view::npos;
    });
    if (!seen) child_fail(33, "round " + std::to_string(round) + ": fd() readable but receive() missed the packet");
  }
  ::close(s);
}

TEST(TunLink, IoUringWakesOnEveryArrival) {
  const int rc = in_netns([] {
    ::unsetenv("SYNACK_TUN_IO");
    auto tun = open_tun();
    wakes_on_arrival(*tun);
  });
  EXPECT_CHILD_OK(rc);
}

TEST(TunLink, ReadWriteWakesOnEveryArrival) {
  const int rc = in_netns([] {
    ::setenv("SYNACK_TUN_IO", "readwrite", 1);
    auto tun = open_tun();
    wakes_on_arrival(*tun);
  });
  EXPECT_CHILD_OK(rc);
}

// Closing a link frees its device at once (the io_uring read is cancelled first), so the same
// name can be opened again straight away — as each interop test does after the previous serve.
TEST(TunLink, NameIsFreeAgainAfterClose) {
  const int rc = in_netns([] {
    ::unsetenv("SYNACK_TUN_IO");
    for (int i = 0; i < 5; ++i) {
      auto tun = open_tun();
      exchange_udp(*tun);
    }
  });
  EXPECT_CHILD_OK(rc);
}

// ---- offloads (virtio-net header, TSO) and multiple queues -----------------------------------

void set_io_mode(bool uring) {
  if (uring) {
    ::unsetenv("SYNACK_TUN_IO");
  } else {
    ::setenv("SYNACK_TUN_IO", "readwrite", 1);
  }
}

// A kernel TCP client sends `total` octets to synack (an echo server on the event loop over
// this link) and reads them back; returns when done or fails the child after 20 s.
void echo_through_host(io::tun_link& tun, std::size_t total) {
  host_config hc;
  hc.addr = our_ip;
  hc.tso_max = max_tso_payload;  // the loop keeps it to what the link offers
  runtime::event_loop loop(tun, hc);
  std::string pending;
  conn_handle conn{};
  auto flush = [&] {
    while (!pending.empty()) {
      auto n = loop.send(conn, std::as_bytes(std::span{pending.data(), pending.size()}));
      if (!n || *n == 0) break;
      pending.erase(0, *n);
    }
    loop.want_writable(conn, !pending.empty());
  };
  const auto l = loop.listen(7, 16, [&](conn_handle h) {
    conn = h;
    runtime::conn_callbacks cb;
    cb.on_readable = [&] {
      std::array<std::byte, 65536> buf{};
      for (;;) {
        auto n = loop.recv(conn, buf);
        if (!n || *n == 0) break;
        pending.append(reinterpret_cast<const char*>(buf.data()), *n);  // NOLINT
      }
      flush();
    };
    cb.on_writable = flush;
    loop.set_callbacks(h, cb);
  });
  if (!l) child_fail(40, "listen");
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(7);
  a.sin_addr.s_addr = htonl(our_ip.value);
  (void)::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);  // NOLINT: in progress
  const std::string out(total, 'k');
  std::size_t sent = 0;
  std::size_t got = 0;
  const instant deadline = runtime::clock_now() + std::chrono::seconds(20);
  std::array<char, 65536> in{};
  while (got < total) {
    if (runtime::clock_now() > deadline) {
      child_fail(41, "echo of " + std::to_string(total) + " octets: sent " + std::to_string(sent) + ", got back " +
                         std::to_string(got));
    }
    loop.run_once(std::chrono::milliseconds(1));
    if (sent < total) {
      const ssize_t n = ::send(s, out.data() + sent, total - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    for (;;) {
      const ssize_t n = ::recv(s, in.data(), in.size(), 0);
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) {
        if (in[static_cast<std::size_t>(i)] != 'k') child_fail(42, "echo corrupted");
      }
      got += static_cast<std::size_t>(n);
    }
  }
  ::close(s);
  const auto& c = loop.host().counters();
  if (c.in_errs != 0) child_fail(43, "the host counted " + std::to_string(c.in_errs) + " segments with errors");
}

// Offload on: both ways through super-packets (a kernel whose TUN refuses it says so); off:
// none, the device carries no virtio-net header.
void offload_case(bool uring, bool offload) {
  set_io_mode(uring);
  ::unsetenv("SYNACK_TUN_OFFLOAD");
  auto tun = open_tun(offload);
  if (offload && !tun->offload()) {
    if (tun->offload_notice().empty()) child_fail(50, "offload off without a notice");
    std::fprintf(stderr, "note: %s\n", tun->offload_notice().c_str());
  }
  if (!offload && (tun->offload() || tun->tso_max() != 0)) child_fail(51, "offload on although not asked for");
  exchange_udp(*tun);
  echo_through_host(*tun, std::size_t{8} << 20);
  const auto& st = tun->stats();
  std::fprintf(stderr, "%s offload %s: rx %llu packets (%llu super), tx %llu packets (%llu super)\n", tun->io_mode(),
               tun->offload() ? "on" : "off", static_cast<unsigned long long>(st.rx_packets),
               static_cast<unsigned long long>(st.rx_super_packets), static_cast<unsigned long long>(st.tx_packets),
               static_cast<unsigned long long>(st.tx_super_packets));
  if (tun->offload() && (st.rx_super_packets == 0 || st.tx_super_packets == 0)) {
    child_fail(52, "offload on but no super-packets moved");
  }
  if (!tun->offload() && (st.rx_super_packets != 0 || st.tx_super_packets != 0)) {
    child_fail(53, "super-packets without offload");
  }
}

TEST(TunLink, OffloadOnIoUring) {
  EXPECT_CHILD_OK(in_netns([] { offload_case(true, true); }));
}
TEST(TunLink, OffloadOnReadWrite) {
  EXPECT_CHILD_OK(in_netns([] { offload_case(false, true); }));
}
TEST(TunLink, OffloadOffIoUring) {
  EXPECT_CHILD_OK(in_netns([] { offload_case(true, false); }));
}
TEST(TunLink, OffloadOffReadWrite) {
  EXPECT_CHILD_OK(in_netns([] { offload_case(false, false); }));
}

TEST(TunLink, OffloadTurnedOffByTheEnvironment) {
  EXPECT_CHILD_OK(in_netns([] {
    ::setenv("SYNACK_TUN_OFFLOAD", "off", 1);
    auto tun = open_tun(true);
    if (tun->offload()) child_fail(54, "SYNACK_TUN_OFFLOAD=off ignored");
    exchange_udp(*tun);
  }));
}

// Two queues: datagrams of many flows, which the kernel spreads over the queues by flow hash,
// all arrive through receive(), and fd() (an epoll set over the queues) wakes for each queue.
void two_queues(bool uring) {
  set_io_mode(uring);
  auto tun = open_tun(true, 2);
  if (tun->queues() != 2) child_fail(60, "not two queues");
  exchange_udp(*tun);
  wakes_on_arrival(*tun);
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  constexpr int flows = 64;
  const std::uint64_t q0 = tun->queue_rx_packets(0);
  const std::uint64_t q1 = tun->queue_rx_packets(1);
  for (int i = 0; i < flows; ++i) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(20000 + i));
    a.sin_addr.s_addr = htonl(our_ip.value);
    const std::string text = "flow-" + std::to_string(i) + ";";
    (void)::sendto(s, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);  // NOLINT
  }
  int seen = 0;
  for (int i = 0; i < 50 && seen < flows; ++i) {
    pollfd pfd{tun->fd(), POLLIN, 0};
    (void)::poll(&pfd, 1, 100);
    (void)tun->receive(runtime::clock_now(), 64, [&](bytes p, const rx_meta&) {
      const std::string_view body{reinterpret_cast<const char*>(p.data()), p.size()};  // NOLINT
      if (body.find("flow-") != std::string_view::npos) ++seen;
    });
  }
  const std::uint64_t d0 = tun->queue_rx_packets(0) - q0;
  const std::uint64_t d1 = tun->queue_rx_packets(1) - q1;
  std::fprintf(stderr, "%s: %d flows, queue 0 got %llu, queue 1 got %llu\n", tun->io_mode(), flows,
               static_cast<unsigned long long>(d0), static_cast<unsigned long long>(d1));
  if (seen != flows) child_fail(61, std::to_string(seen) + " of " + std::to_string(flows) + " datagrams arrived");
  if (d0 == 0 || d1 == 0) child_fail(62, "the kernel used one queue only for 64 flows");
  ::close(s);
  echo_through_host(*tun, std::size_t{1} << 20);
}

TEST(TunLink, TwoQueuesIoUring) {
  EXPECT_CHILD_OK(in_netns([] { two_queues(true); }));
}
TEST(TunLink, TwoQueuesReadWrite) {
  EXPECT_CHILD_OK(in_netns([] { two_queues(false); }));
}

}  // namespace
}  // namespace synack
