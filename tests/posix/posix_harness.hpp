#pragma once
// Two hosts back to back in memory, each with its own socket table, on virtual time: the test
// plays an application on each side and asserts the errno of every call. Packets can be
// dropped per direction (a silent peer) and every packet `a` sends is kept for exact checks.
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "synack/posix/socket_table.hpp"
#include "synack/wire/icmp.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::ptest {

using namespace synack::posix;  // NOLINT: tests read like C

inline constexpr ipv4_addr a_ip = ipv4_addr::from_octets(10, 0, 0, 1);
inline constexpr ipv4_addr b_ip = ipv4_addr::from_octets(10, 0, 0, 2);

inline host_config config_for(ipv4_addr addr) {
  host_config c;
  c.addr = addr;
  return c;
}

// errno of a call, 0 for success.
template <class T>
int err(const sys_result<T>& r) {
  return r.has_value() ? 0 : r.error();
}

inline bytes as_bytes(std::string_view s) { return std::as_bytes(std::span{s.data(), s.size()}); }
template <class T>
bytes opt_bytes(const T& v) {
  return bytes{reinterpret_cast<const std::byte*>(&v), sizeof v};
}

struct net {
  net() = default;
  net(const host_config& ca, const host_config& cb) : ha{ca}, hb{cb} {}
  host ha{config_for(a_ip)};
  host hb{config_for(b_ip)};
  socket_table a{ha};
  socket_table b{hb};
  instant now = instant::zero();
  bool drop_a_to_b = false;
  bool drop_b_to_a = false;
  std::vector<std::vector<std::byte>> a_sent;  // every IPv4 packet `a` emitted
  alignas(8) std::array<std::byte, 2048> buf{};

  bool move(host& from, host& to, bool drop, bool log) {
    bool moved = false;
    while (auto n = from.poll_transmit(now, buf)) {
      moved = true;
      if (log) a_sent.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
      if (!drop) to.on_packet(now, bytes{buf.data(), *n});
    }
    return moved;
  }
  static bool run_timers(host& h, instant at) {
    const auto d = h.next_deadline();
    if (!d || *d > at) return false;
    h.on_timeout(at);
    return true;
  }
  // Until both hosts are quiet at `now`. Host events are nobody's business here.
  void pump() {
    for (int i = 0; i < 100000; ++i) {
      bool busy = move(ha, hb, drop_a_to_b, true);
      busy = move(hb, ha, drop_b_to_a, false) || busy;
      busy = run_timers(ha, now) || busy;
      busy = run_timers(hb, now) || busy;
      while (ha.poll_event()) {
      }
      while (hb.poll_event()) {
      }
      if (!busy) return;
    }
    ADD_FAILURE() << "hosts never went quiet";
  }
  // Moves virtual time to `t`, each timer at its own deadline.
  void run_until(instant t) {
    pump();
    for (int i = 0; i < 100000; ++i) {
      std::optional<instant> d = ha.next_deadline();
      if (auto e = hb.next_deadline(); e && (!d || *e < *d)) d = e;
      if (!d || *d > t) break;
      now = std::max(now, *d);
      pump();
    }
    now = t;
    pump();
  }
  void run_for(duration d) { run_until(now + d); }

  // TCP segments `a` sent, parsed.
  std::vector<tcp_repr> a_segments() const {
    std::vector<tcp_repr> out;
    for (const auto& p : a_sent) {
      auto ip = ipv4_view::parse(p);
      if (!ip || ip->protocol() != ip_proto::tcp) continue;
      auto v = tcp_view::parse(ip->payload());
      tcp_repr r;
      if (v && !tcp_repr::parse(*v, ip->src(), ip->dst(), r)) out.push_back(r);
    }
    return out;
  }

  // ---- fixtures ----------------------------------------------------------------------------
  int b_listener(std::uint16_t port = 80, int backlog = 8) {
    auto fd = b.socket(af_inet, sock_stream, 0);
    EXPECT_TRUE(fd.has_value());
    EXPECT_EQ(err(b.bind(*fd, {b_ip, port})), 0);
    EXPECT_EQ(err(b.listen(*fd, backlog)), 0);
    return *fd;
  }
  // A connected pair: a's client fd and b's accepted fd (after the handshake, first connect
  // call EINPROGRESS, second 0).
  std::pair<int, int> connected(int listener, std::uint16_t port = 80) {
    auto c = a.socket(af_inet, sock_stream | sock_nonblock, 0);
    EXPECT_TRUE(c.has_value());
    EXPECT_EQ(err(a.connect(now, *c, {b_ip, port})), EINPROGRESS);
    pump();
    EXPECT_EQ(err(a.connect(now, *c, {b_ip, port})), 0);
    auto s = b.accept(listener, sock_nonblock);
    EXPECT_TRUE(s.has_value());
    return {*c, s ? s->fd : -1};
  }
  static std::string read_some(socket_table& t, int fd, std::size_t max = 65536) {
    std::string s(max, '\0');
    auto n = t.recv(fd, std::as_writable_bytes(std::span{s.data(), s.size()}));
    s.resize(n ? *n : 0);
    return s;
  }
  static int get_int(socket_table& t, int fd, int level, int name) {
    int v = -12345;
    auto n = t.getsockopt(fd, level, name, std::as_writable_bytes(std::span{&v, 1}));
    EXPECT_TRUE(n.has_value()) << "getsockopt " << level << "/" << name << ": errno " << err(n);
    return v;
  }
  static int set_int(socket_table& t, instant at, int fd, int level, int name, int v) {
    return err(t.setsockopt(at, fd, level, name, opt_bytes(v)));
  }
};

// Two dual-stack hosts: a_ip and 2001:db8::1, b_ip and 2001:db8::2.
inline const ipv6_addr a6 = *ipv6_addr::parse("2001:db8::1");
inline const ipv6_addr b6 = *ipv6_addr::parse("2001:db8::2");

inline host_config dual(ipv4_addr v4, const ipv6_addr& v6) {
  host_config c = config_for(v4);
  c.addresses = {host_address{v6, 64}};
  return c;
}

struct net6 : net {
  net6() : net(dual(a_ip, a6), dual(b_ip, b6)) {}
};

// An AF_INET6 sockaddr (an IPv4 address as ::ffff:a.b.c.d).
inline sock_addr in6(const ip_addr& a, std::uint16_t port) { return sock_addr{ip_addr{a.v6()}, port, af_inet6}; }

// poll revents with every event asked for.
inline short revents(socket_table& t, int fd) {
  poll_fd p{fd, static_cast<short>(pollin | pollout | pollrdhup | pollpri | pollrdnorm | pollwrnorm), 0};
  (void)t.poll(std::span{&p, 1});
  return p.revents;
}
inline constexpr short in = pollin | pollrdnorm;
inline constexpr short out = pollout | pollwrnorm;

}  // namespace synack::ptest
