// SOCK_DGRAM sockets with Linux's semantics (man 7 udp, socket_dgram.cpp): datagrams both ways
// over IPv4 and IPv6 with their sources, the implicit ephemeral bind, connect's filter and its
// AF_UNSPEC dissolution, MSG_PEEK / MSG_TRUNC, EDESTADDRREQ, EMSGSIZE, the receive queue's
// bound and its drop counters, poll, ICMP port unreachable as ECONNREFUSED, and misuse.
#include "posix/posix_harness.hpp"

namespace synack::ptest {
namespace {

int udp(socket_table& t, int domain = af_inet) {
  auto fd = t.socket(domain, sock_dgram | sock_nonblock, 0);
  EXPECT_TRUE(fd.has_value());
  return fd ? *fd : -1;
}

// One datagram: its text and source (text "errno N" on an error).
struct got {
  std::string text;
  std::optional<sock_addr> from;
  int msg_flags = 0;
  std::size_t len = 0;
};
got recv_one(socket_table& t, int fd, std::size_t max = 2048, int flags = 0) {
  std::string s(max, '\0');
  auto r = t.recvfrom(fd, std::as_writable_bytes(std::span{s.data(), s.size()}), flags);
  if (!r) return got{"errno " + std::to_string(r.error()), std::nullopt, 0, 0};
  s.resize(std::min(r->len, max));
  return got{s, r->from, r->msg_flags, r->len};
}

std::size_t sent(const sys_result<std::size_t>& r) { return r ? *r : 0; }

TEST(posix_udp, datagrams_both_ways_over_ipv4_with_their_sources) {
  net n;
  const int s = udp(n.b);
  ASSERT_EQ(err(n.b.bind(s, {b_ip, 5353})), 0);
  EXPECT_EQ(revents(n.b, s), out) << "nothing queued yet";
  EXPECT_EQ(recv_one(n.b, s).text, "errno " + std::to_string(EAGAIN));
  const int c = udp(n.a);
  EXPECT_EQ(*n.a.getsockname(c), (sock_addr{ip_addr{}, 0, af_inet})) << "unbound";
  EXPECT_EQ(sent(n.a.sendto(n.now, c, as_bytes("ping"), 0, sock_addr{b_ip, 5353})), 4u);
  const sock_addr me = *n.a.getsockname(c);  // the implicit bind: an ephemeral port
  EXPECT_EQ(me.addr, ip_addr{});
  EXPECT_GE(me.port, n.ha.config().ephemeral_first);
  EXPECT_LE(me.port, n.ha.config().ephemeral_last);
  n.pump();
  EXPECT_EQ(revents(n.b, s), in | out);
  const got g = recv_one(n.b, s);
  EXPECT_EQ(g.text, "ping");
  EXPECT_EQ(g.from, (sock_addr{a_ip, me.port, af_inet}));
  EXPECT_EQ(revents(n.b, s), out);
  EXPECT_EQ(sent(n.b.sendto(n.now, s, as_bytes("pong!"), 0, g.from)), 5u);
  EXPECT_EQ(err(n.b.sendto(n.now, s, bytes{}, 0, g.from)), 0) << "an empty datagram is one too";
  n.pump();
  const got r = recv_one(n.a, c);
  EXPECT_EQ(r.text, "pong!");
  EXPECT_EQ(r.from, (sock_addr{b_ip, 5353, af_inet}));
  const got e = recv_one(n.a, c);
  EXPECT_EQ(e.text, "");
  EXPECT_EQ(e.from, (sock_addr{b_ip, 5353, af_inet}));
  EXPECT_EQ(recv_one(n.a, c).text, "errno " + std::to_string(EAGAIN));
}

TEST(posix_udp, datagrams_both_ways_over_ipv6_and_a_dual_stack_socket_sees_ipv4_as_v4_mapped) {
  net6 n;
  const int s = udp(n.b, af_inet6);
  ASSERT_EQ(err(n.b.bind(s, in6(ipv6_addr{}, 53))), 0);
  const int c6 = udp(n.a, af_inet6);
  EXPECT_EQ(sent(n.a.sendto(n.now, c6, as_bytes("six"), 0, in6(b6, 53))), 3u);
  const int c4 = udp(n.a, af_inet);
  EXPECT_EQ(sent(n.a.sendto(n.now, c4, as_bytes("four"), 0, sock_addr{b_ip, 53})), 4u);
  n.pump();
  const std::uint16_t p6 = n.a.getsockname(c6)->port;
  const std::uint16_t p4 = n.a.getsockname(c4)->port;
  const got g6 = recv_one(n.b, s);
  EXPECT_EQ(g6.text, "six");
  EXPECT_EQ(g6.from, in6(a6, p6));
  const got g4 = recv_one(n.b, s);
  EXPECT_EQ(g4.text, "four");
  EXPECT_EQ(g4.from, in6(ipv6_addr::v4_mapped(a_ip), p4));
  // Replies to both: the v4-mapped one leaves over IPv4.
  EXPECT_EQ(sent(n.b.sendto(n.now, s, as_bytes("re6"), 0, g6.from)), 3u);
  EXPECT_EQ(sent(n.b.sendto(n.now, s, as_bytes("re4"), 0, g4.from)), 3u);
  n.pump();
  EXPECT_EQ(recv_one(n.a, c6).from, in6(b6, 53));
  const got r4 = recv_one(n.a, c4);
  EXPECT_EQ(r4.text, "re4");
  EXPECT_EQ(r4.from, (sock_addr{b_ip, 53, af_inet}));
  // The dual-stack socket holds the IPv4 port too; a V6ONLY one leaves it to an AF_INET socket.
  const int x4 = udp(n.b, af_inet);
  EXPECT_EQ(err(n.b.bind(x4, {ip_addr{}, 53})), EADDRINUSE);
  const int v6 = udp(n.b, af_inet6);
  EXPECT_EQ(net::set_int(n.b, n.now, v6, ipproto_ipv6, ipv6_v6only, 1), 0);
  ASSERT_EQ(err(n.b.bind(v6, in6(ipv6_addr{}, 54))), 0);
  EXPECT_EQ(err(n.b.bind(x4, {ip_addr{}, 54})), 0);
  EXPECT_EQ(err(n.a.sendto(n.now, c6, as_bytes("x"), 0, sock_addr{ip_addr{ipv6_addr::v4_mapped(b_ip)}, 54, af_inet6})), 0);
  n.pump();
  EXPECT_EQ(recv_one(n.b, v6).text, "errno " + std::to_string(EAGAIN)) << "IPv4 does not reach a V6ONLY socket";
  EXPECT_EQ(recv_one(n.b, x4).text, "x");
  EXPECT_EQ(err(n.b.sendto(n.now, v6, as_bytes("x"), 0, sock_addr{ip_addr{ipv6_addr::v4_mapped(a_ip)}, 9, af_inet6})),
            ENETUNREACH);
}

TEST(posix_udp, bind_ephemeral_in_use_and_a_port_space_of_its_own) {
  net n;
  const int s = udp(n.b);
  ASSERT_EQ(err(n.b.bind(s, {ip_addr{}, 0})), 0);
  const sock_addr me = *n.b.getsockname(s);
  EXPECT_GE(me.port, n.hb.config().ephemeral_first);
  EXPECT_LE(me.port, n.hb.config().ephemeral_last);
  EXPECT_EQ(err(n.b.bind(s, {ip_addr{}, 7000})), EINVAL) << "already bound";
  const int t = udp(n.b);
  EXPECT_EQ(err(n.b.bind(t, {b_ip, me.port})), EADDRINUSE) << "the wildcard holds every address";
  EXPECT_EQ(net::set_int(n.b, n.now, t, sol_socket, so_reuseaddr, 1), 0);
  EXPECT_EQ(err(n.b.bind(t, {b_ip, me.port})), EADDRINUSE) << "DEVIATION: SO_REUSEADDR shares no port";
  EXPECT_EQ(err(n.b.bind(t, {ipv4_addr::from_octets(10, 0, 0, 9), 7000})), EADDRNOTAVAIL);
  // TCP's ports are another space.
  const int tcp = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(err(n.b.bind(tcp, {ip_addr{}, me.port})), 0);
  const int u2 = udp(n.b);
  EXPECT_EQ(err(n.b.bind(u2, {ip_addr{}, 80})), 0);
  const int l = n.b_listener(80);
  EXPECT_EQ(n.b.getsockname(l)->port, 80);
}

TEST(posix_udp, connect_filters_sources_and_af_unspec_dissolves_it) {
  net n;
  const int s = udp(n.b);
  ASSERT_EQ(err(n.b.bind(s, {ip_addr{}, 4000})), 0);
  const int x = udp(n.a);
  const int y = udp(n.a);
  ASSERT_EQ(err(n.a.bind(x, {ip_addr{}, 1111})), 0);
  ASSERT_EQ(err(n.a.bind(y, {ip_addr{}, 2222})), 0);
  EXPECT_EQ(err(n.b.getpeername(s)), ENOTCONN);
  ASSERT_EQ(err(n.b.connect(n.now, s, {a_ip, 1111})), 0);
  EXPECT_EQ(*n.b.getpeername(s), (sock_addr{a_ip, 1111, af_inet}));
  EXPECT_EQ(*n.b.getsockname(s), (sock_addr{b_ip, 4000, af_inet})) << "connect fixed the source";
  EXPECT_EQ(sent(n.a.sendto(n.now, y, as_bytes("from y"), 0, sock_addr{b_ip, 4000})), 6u);
  EXPECT_EQ(sent(n.a.sendto(n.now, x, as_bytes("from x"), 0, sock_addr{b_ip, 4000})), 6u);
  n.pump();
  EXPECT_EQ(recv_one(n.b, s).text, "from x");
  EXPECT_EQ(recv_one(n.b, s).text, "errno " + std::to_string(EAGAIN)) << "y's datagram was not taken";
  EXPECT_EQ(n.hb.counters().udp_no_ports, 1u);
  // send() goes to the peer; sendto() elsewhere is allowed on a connected socket.
  EXPECT_EQ(sent(n.b.send(s, as_bytes("to x"))), 4u);
  EXPECT_EQ(sent(n.b.sendto(n.now, s, as_bytes("to y"), 0, sock_addr{a_ip, 2222})), 4u);
  n.pump();
  EXPECT_EQ(recv_one(n.a, x).text, "to x");
  const got gy = recv_one(n.a, y);
  EXPECT_EQ(gy.text, "to y");
  EXPECT_EQ(gy.from, (sock_addr{b_ip, 4000, af_inet}));
  // Connecting again moves the association.
  ASSERT_EQ(err(n.b.connect(n.now, s, {a_ip, 2222})), 0);
  EXPECT_EQ(*n.b.getpeername(s), (sock_addr{a_ip, 2222, af_inet}));
  // AF_UNSPEC: unconnected, every source taken again, the bound port kept.
  ASSERT_EQ(err(n.b.connect(n.now, s, sock_addr{ip_addr{}, 0, af_unspec})), 0);
  EXPECT_EQ(err(n.b.getpeername(s)), ENOTCONN);
  EXPECT_EQ(*n.b.getsockname(s), (sock_addr{ip_addr{}, 4000, af_inet}));
  EXPECT_EQ(err(n.b.send(s, as_bytes("?"))), EDESTADDRREQ);
  EXPECT_EQ(sent(n.a.sendto(n.now, y, as_bytes("y again"), 0, sock_addr{b_ip, 4000})), 7u);
  n.pump();
  EXPECT_EQ(recv_one(n.b, s).text, "y again");
}

TEST(posix_udp, disconnect_releases_a_port_bind_did_not_name) {
  net n;
  const int c = udp(n.a);
  ASSERT_EQ(err(n.a.connect(n.now, c, {b_ip, 9})), 0);  // the implicit bind
  const sock_addr me = *n.a.getsockname(c);
  EXPECT_EQ(me.addr, ip_addr{a_ip});
  EXPECT_NE(me.port, 0);
  ASSERT_EQ(err(n.a.connect(n.now, c, sock_addr{ip_addr{}, 0, af_unspec})), 0);
  EXPECT_EQ(*n.a.getsockname(c), (sock_addr{ip_addr{}, 0, af_inet})) << "__udp_disconnect: no SOCK_BINDPORT_LOCK";
  const int other = udp(n.a);
  EXPECT_EQ(err(n.a.bind(other, {ip_addr{}, me.port})), 0) << "the port is free";
}

TEST(posix_udp, peek_trunc_and_scatter_gather) {
  net n;
  const int s = udp(n.b);
  ASSERT_EQ(err(n.b.bind(s, {ip_addr{}, 7})), 0);
  const int c = udp(n.a);
  ASSERT_EQ(err(n.a.connect(n.now, c, {b_ip, 7})), 0);
  const std::array<bytes, 3> iov{as_bytes("0123"), as_bytes(""), as_bytes("456789")};
  EXPECT_EQ(sent(n.a.sendmsg(n.now, c, iov, 0, std::nullopt)), 10u) << "one datagram of the three buffers";
  EXPECT_EQ(sent(n.a.send(c, as_bytes("next"))), 4u);
  n.pump();
  EXPECT_EQ(*n.b.ioctl(s, siocinq), 10) << "the next datagram's length";
  const got p = recv_one(n.b, s, 4, msg_peek);
  EXPECT_EQ(p.text, "0123");
  EXPECT_EQ(p.len, 4u);
  EXPECT_EQ(p.msg_flags, msg_trunc);
  EXPECT_EQ(recv_one(n.b, s, 4, msg_peek | msg_trunc).len, 10u) << "MSG_TRUNC: the real length";
  // Scattered over two buffers: 3 + 5 octets, the last two cut off and the datagram gone.
  std::array<std::byte, 3> b1{};
  std::array<std::byte, 5> b2{};
  const std::array<mutable_bytes, 2> rv{mutable_bytes{b1}, mutable_bytes{b2}};
  auto r = n.b.recvmsg(s, rv, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->len, 8u);
  EXPECT_EQ(r->msg_flags, msg_trunc);
  EXPECT_EQ(std::memcmp(b1.data(), "012", 3), 0);
  EXPECT_EQ(std::memcmp(b2.data(), "34567", 5), 0);
  const got nx = recv_one(n.b, s, 16);
  EXPECT_EQ(nx.text, "next");
  EXPECT_EQ(nx.msg_flags, 0);
  EXPECT_EQ(*n.b.ioctl(s, siocinq), 0);
}

TEST(posix_udp, edestaddrreq_emsgsize_and_eopnotsupp) {
  net6 n;
  const int c = udp(n.a);
  EXPECT_EQ(err(n.a.send(c, as_bytes("x"))), EDESTADDRREQ);
  EXPECT_EQ(err(n.a.sendto(n.now, c, as_bytes("x"), 0, sock_addr{b_ip, 0})), EINVAL) << "port 0";
  EXPECT_EQ(err(n.a.sendto(n.now, c, as_bytes("x"), msg_more, sock_addr{b_ip, 9})), EOPNOTSUPP) << "DEVIATION: no cork";
  EXPECT_EQ(err(n.a.sendto(n.now, c, as_bytes("x"), msg_oob, sock_addr{b_ip, 9})), EOPNOTSUPP);
  // No fragmentation: 1500 - 20 - 8 over IPv4, 1500 - 40 - 8 over IPv6.
  const std::string v4max(1472, 'a');
  const std::string v6max(1452, 'b');
  EXPECT_EQ(sent(n.a.sendto(n.now, c, as_bytes(v4max), 0, sock_addr{b_ip, 9})), 1472u);
  EXPECT_EQ(err(n.a.sendto(n.now, c, as_bytes(v4max + "a"), 0, sock_addr{b_ip, 9})), EMSGSIZE);
  const int c6 = udp(n.a, af_inet6);
  EXPECT_EQ(sent(n.a.sendto(n.now, c6, as_bytes(v6max), 0, in6(b6, 9))), 1452u);
  EXPECT_EQ(err(n.a.sendto(n.now, c6, as_bytes(v6max + "b"), 0, in6(b6, 9))), EMSGSIZE);
  EXPECT_EQ(sent(n.a.sendto(n.now, c6, as_bytes(v4max), 0, sock_addr{b_ip, 9, af_inet})), 1472u)
      << "an AF_INET address on a dual-stack socket goes over IPv4";
  EXPECT_EQ(err(n.a.sendto(n.now, c6, as_bytes("x"), 0, sock_addr{ip_addr{}, 9, 1})), EINVAL) << "AF_UNIX";
  EXPECT_EQ(err(n.a.sendto(n.now, c, as_bytes("x"), 0, in6(b6, 9))), EAFNOSUPPORT);
  EXPECT_EQ(err(n.a.sendto(n.now, c, as_bytes("x"), 0, sock_addr{ipv4_addr::from_octets(224, 0, 0, 1), 9})), ENETUNREACH)
      << "DEVIATION: no multicast";
}

TEST(posix_udp, a_full_receive_queue_drops_and_counts) {
  net n;
  const int s = udp(n.b);
  ASSERT_EQ(err(n.b.bind(s, {ip_addr{}, 7})), 0);
  EXPECT_EQ(net::get_int(n.b, s, sol_socket, so_rcvbuf), 212992) << "rmem_default";
  EXPECT_EQ(net::set_int(n.b, n.now, s, sol_socket, so_rcvbuf, 1), 0);
  EXPECT_EQ(net::get_int(n.b, s, sol_socket, so_rcvbuf), 2304) << "SOCK_MIN_RCVBUF";
  const int c = udp(n.a);
  ASSERT_EQ(err(n.a.connect(n.now, c, {b_ip, 7})), 0);
  const std::string d(1000, 'd');
  // Each is charged 1000 + 576: taken while what is queued is at most 2304, so two are.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(sent(n.a.send(c, as_bytes(d))), 1000u);
  n.pump();
  EXPECT_EQ(*n.b.drops(s), 3u);
  EXPECT_EQ(n.b.rcvbuf_errors(), 3u);
  EXPECT_EQ(recv_one(n.b, s).len, 1000u);
  EXPECT_EQ(recv_one(n.b, s).len, 1000u);
  EXPECT_EQ(recv_one(n.b, s).text, "errno " + std::to_string(EAGAIN));
  // Room again once read.
  EXPECT_EQ(sent(n.a.send(c, as_bytes("again"))), 5u);
  n.pump();
  EXPECT_EQ(recv_one(n.b, s).text, "again");
  EXPECT_EQ(*n.b.drops(s), 3u);
  EXPECT_EQ(*n.a.drops(c), 0u);
  EXPECT_EQ(err(n.b.drops(99)), EBADF);
}

TEST(posix_udp, a_full_transmit_queue_is_eagain_and_not_writable) {
  host_config ca = config_for(a_ip);
  ca.udp_tx_queue = 2;
  net n{ca, config_for(b_ip)};
  const int c = udp(n.a);
  ASSERT_EQ(err(n.a.connect(n.now, c, {b_ip, 9})), 0);
  EXPECT_EQ(revents(n.a, c), out);
  EXPECT_EQ(sent(n.a.send(c, as_bytes("1"))), 1u);
  EXPECT_EQ(sent(n.a.send(c, as_bytes("2"))), 1u);
  EXPECT_EQ(err(n.a.send(c, as_bytes("3"))), EAGAIN);
  EXPECT_EQ(revents(n.a, c), 0);
  n.drop_a_to_b = true;
  n.pump();  // the link takes them
  EXPECT_EQ(revents(n.a, c), out);
  EXPECT_EQ(sent(n.a.send(c, as_bytes("3"))), 1u);
}

TEST(posix_udp, port_unreachable_refuses_a_connected_socket_once) {
  net n;
  const int c = udp(n.a);
  ASSERT_EQ(err(n.a.connect(n.now, c, {b_ip, 9})), 0);  // nobody is bound there
  EXPECT_EQ(sent(n.a.send(c, as_bytes("anyone?"))), 7u);
  n.pump();
  EXPECT_EQ(n.ha.counters().icmp_in_errors_matched, 1u);
  EXPECT_EQ(revents(n.a, c), out | pollerr);
  EXPECT_EQ(recv_one(n.a, c).text, "errno " + std::to_string(ECONNREFUSED));
  EXPECT_EQ(recv_one(n.a, c).text, "errno " + std::to_string(EAGAIN)) << "reported once";
  EXPECT_EQ(revents(n.a, c), out);
  // The next send reports it too, and SO_ERROR reads (and clears) it.
  EXPECT_EQ(sent(n.a.send(c, as_bytes("again"))), 5u);
  n.pump();
  EXPECT_EQ(err(n.a.send(c, as_bytes("x"))), ECONNREFUSED);
  EXPECT_EQ(sent(n.a.send(c, as_bytes("x"))), 1u);
  n.pump();
  EXPECT_EQ(net::get_int(n.a, c, sol_socket, so_error), ECONNREFUSED);
  EXPECT_EQ(net::get_int(n.a, c, sol_socket, so_error), 0);
  // An unconnected socket hears nothing of it (no IP_RECVERR).
  const int u = udp(n.a);
  EXPECT_EQ(sent(n.a.sendto(n.now, u, as_bytes("x"), 0, sock_addr{b_ip, 9})), 1u);
  n.pump();
  EXPECT_EQ(n.ha.counters().icmp_in_errors_matched, 4u);
  EXPECT_EQ(revents(n.a, u), out);
  EXPECT_EQ(net::get_int(n.a, u, sol_socket, so_error), 0);
}

TEST(posix_udp, port_unreachable_over_ipv6) {
  net6 n;
  const int c = udp(n.a, af_inet6);
  ASSERT_EQ(err(n.a.connect(n.now, c, in6(b6, 9))), 0);
  EXPECT_EQ(sent(n.a.send(c, as_bytes("anyone?"))), 7u);
  n.pump();
  EXPECT_EQ(revents(n.a, c), out | pollerr);
  EXPECT_EQ(err(n.a.send(c, as_bytes("x"))), ECONNREFUSED);
}

TEST(posix_udp, close_frees_the_port) {
  net n;
  const int s = udp(n.b);
  ASSERT_EQ(err(n.b.bind(s, {ip_addr{}, 6000})), 0);
  const int t = udp(n.b);
  EXPECT_EQ(err(n.b.bind(t, {ip_addr{}, 6000})), EADDRINUSE);
  ASSERT_EQ(err(n.b.close(n.now, s)), 0);
  EXPECT_EQ(err(n.b.bind(t, {ip_addr{}, 6000})), 0);
  EXPECT_EQ(err(n.b.close(n.now, t)), 0);
  EXPECT_EQ(n.b.open_count(), 0u);
  // Nobody on the port any more: a datagram is answered with port unreachable.
  const int c = udp(n.a);
  EXPECT_EQ(sent(n.a.sendto(n.now, c, as_bytes("x"), 0, sock_addr{b_ip, 6000})), 1u);
  n.pump();
  EXPECT_EQ(n.hb.counters().udp_no_ports, 1u);
}

TEST(posix_udp, shutdown_records_and_reports) {
  net n;
  const int u = udp(n.a);
  EXPECT_EQ(err(n.a.shutdown(n.now, u, shut_rdwr)), ENOTCONN) << "unconnected";
  EXPECT_EQ(revents(n.a, u), in | out | pollrdhup | pollhup) << "recorded all the same";
  const int s = udp(n.b);
  ASSERT_EQ(err(n.b.bind(s, {ip_addr{}, 7})), 0);
  const int c = *n.a.socket(af_inet, sock_dgram, ipproto_udp);  // a blocking one
  ASSERT_EQ(err(n.a.connect(n.now, c, {b_ip, 7})), 0);
  EXPECT_EQ(err(n.a.shutdown(n.now, c, shut_rd)), 0);
  EXPECT_EQ(recv_one(n.a, c).len, 0u) << "a reader that would wait gets 0";
  EXPECT_EQ(recv_one(n.a, c, 16, msg_dontwait).text, "errno " + std::to_string(EAGAIN));
  EXPECT_EQ(err(n.a.shutdown(n.now, c, shut_wr)), 0);
  EXPECT_EQ(err(n.a.send(c, as_bytes("x"))), EPIPE);
  EXPECT_EQ(err(n.a.shutdown(n.now, c, 3)), EINVAL);
}

TEST(posix_udp, misuse_and_options_answer_as_linux) {
  net6 n;
  EXPECT_EQ(err(n.a.socket(af_inet, sock_dgram, ipproto_tcp)), EPROTONOSUPPORT);
  EXPECT_EQ(err(n.a.socket(af_inet, sock_stream, ipproto_udp)), EPROTONOSUPPORT);
  EXPECT_EQ(err(n.a.socket(af_inet, 3 /* SOCK_RAW */, 0)), ESOCKTNOSUPPORT);
  const int u = udp(n.a);
  const int u6 = udp(n.a, af_inet6);
  EXPECT_EQ(err(n.a.listen(u, 4)), EOPNOTSUPP);
  EXPECT_EQ(err(n.a.accept(u)), EOPNOTSUPP);
  EXPECT_EQ(net::get_int(n.a, u, sol_socket, so_type), sock_dgram);
  EXPECT_EQ(net::get_int(n.a, u, sol_socket, so_acceptconn), 0);
  EXPECT_EQ(net::get_int(n.a, u, sol_socket, so_sndbuf), 212992);
  EXPECT_EQ(net::set_int(n.a, n.now, u, sol_socket, so_reuseaddr, 1), 0);
  EXPECT_EQ(net::get_int(n.a, u, sol_socket, so_reuseaddr), 1);
  EXPECT_EQ(net::set_int(n.a, n.now, u, ipproto_tcp, tcp_nodelay, 1), ENOPROTOOPT);
  EXPECT_EQ(net::set_int(n.a, n.now, u6, ipproto_tcp, tcp_nodelay, 1), ENOPROTOOPT);
  int v = 0;
  EXPECT_EQ(err(n.a.getsockopt(u, ipproto_tcp, tcp_nodelay, std::as_writable_bytes(std::span{&v, 1}))), EOPNOTSUPP);
  EXPECT_EQ(err(n.a.getsockopt(u6, ipproto_tcp, tcp_nodelay, std::as_writable_bytes(std::span{&v, 1}))), ENOPROTOOPT);
  tcp_info_data ti;
  EXPECT_EQ(err(n.a.getsockopt(u, ipproto_tcp, tcp_info, std::as_writable_bytes(std::span{&ti, 1}))), EOPNOTSUPP);
  EXPECT_EQ(net::set_int(n.a, n.now, u, sol_synack, synack_any_address, 1), ENOPROTOOPT) << "TCP's";
  EXPECT_EQ(err(n.a.connect(n.now, u, in6(b6, 9))), EAFNOSUPPORT);
  EXPECT_EQ(err(n.a.connect(n.now, u, {b_ip, 0})), EINVAL) << "DEVIATION: port 0";
  EXPECT_EQ(err(n.a.connect(n.now, u6, sock_addr{b_ip, 9, af_inet})), 0) << "ip6_datagram_connect takes AF_INET";
  EXPECT_EQ(*n.a.getpeername(u6), in6(ipv6_addr::v4_mapped(b_ip), 9));
  EXPECT_EQ(*n.a.getsockname(u6), in6(ipv6_addr::v4_mapped(a_ip), n.a.getsockname(u6)->port));
  EXPECT_EQ(err(n.a.recv(42, mutable_bytes{})), EBADF);
}

}  // namespace
}  // namespace synack::ptest
