// AF_INET6 sockets with Linux's semantics (issue #14; man 7 ipv6): a dual-stack listener that
// shows IPv4 peers as ::ffff:a.b.c.d, IPV6_V6ONLY, v4-mapped connect, getsockname /
// getpeername, and the errno values Linux gives for the wrong family.
#include "posix/posix_harness.hpp"

namespace synack::ptest {
namespace {

int int_opt(socket_table& t, int fd, int level, int name) { return net::get_int(t, fd, level, name); }

TEST(posix_ipv6, connect_and_accept_over_ipv6) {
  net6 n;
  const int l = *n.b.socket(af_inet6, sock_stream, 0);
  ASSERT_EQ(err(n.b.bind(l, in6(ipv6_addr{}, 80))), 0);
  ASSERT_EQ(err(n.b.listen(l, 4)), 0);
  EXPECT_EQ(*n.b.getsockname(l), in6(ipv6_addr{}, 80));
  const int c = *n.a.socket(af_inet6, sock_stream, 0);
  EXPECT_EQ(err(n.a.connect(n.now, c, in6(b6, 80))), EINPROGRESS);
  n.pump();
  EXPECT_EQ(err(n.a.connect(n.now, c, in6(b6, 80))), 0);
  auto acc = n.b.accept(l);
  ASSERT_TRUE(acc.has_value());
  const sock_addr me = *n.a.getsockname(c);
  EXPECT_EQ(me.family, af_inet6);
  EXPECT_EQ(me.addr, ip_addr{a6});
  EXPECT_EQ(acc->peer, in6(a6, me.port));
  EXPECT_EQ(*n.a.getpeername(c), in6(b6, 80));
  EXPECT_EQ(*n.b.getsockname(acc->fd), in6(b6, 80));
  ASSERT_EQ(*n.a.send(c, as_bytes("six")), 3u);
  n.pump();
  std::array<std::byte, 8> buf{};
  EXPECT_EQ(*n.b.recv(acc->fd, buf), 3u);
  // The packets were IPv6 with the MSS of an IPv6 link.
  const auto& first = n.a_sent.front();
  EXPECT_EQ(static_cast<int>(first[0]) >> 4, 6);
  EXPECT_EQ(int_opt(n.a, c, ipproto_tcp, 2 /* TCP_MAXSEG */), 1500 - 60 - 12);
}

TEST(posix_ipv6, dual_stack_listener_shows_ipv4_peers_as_v4_mapped) {
  net6 n;
  const int l = *n.b.socket(af_inet6, sock_stream, 0);
  ASSERT_EQ(err(n.b.bind(l, in6(ipv6_addr{}, 80))), 0);
  ASSERT_EQ(err(n.b.listen(l, 4)), 0);
  const int c = *n.a.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(err(n.a.connect(n.now, c, {b_ip, 80})), EINPROGRESS);
  n.pump();
  auto acc = n.b.accept(l);
  ASSERT_TRUE(acc.has_value());
  const std::uint16_t port = n.a.getsockname(c)->port;
  EXPECT_EQ(acc->peer, in6(ipv6_addr::v4_mapped(a_ip), port));
  EXPECT_EQ(acc->peer.addr.to_string(), "::ffff:10.0.0.1");
  EXPECT_EQ(*n.b.getsockname(acc->fd), in6(ipv6_addr::v4_mapped(b_ip), 80));
}

TEST(posix_ipv6, v6only_listener_refuses_ipv4_and_a_v4_socket_can_share_the_port) {
  net6 n;
  const int l6 = *n.b.socket(af_inet6, sock_stream, 0);
  const int one = 1;
  ASSERT_EQ(err(n.b.setsockopt(n.now, l6, ipproto_ipv6, ipv6_v6only, opt_bytes(one))), 0);
  EXPECT_EQ(int_opt(n.b, l6, ipproto_ipv6, ipv6_v6only), 1);
  ASSERT_EQ(err(n.b.bind(l6, in6(ipv6_addr{}, 80))), 0);
  EXPECT_EQ(err(n.b.setsockopt(n.now, l6, ipproto_ipv6, ipv6_v6only, opt_bytes(one))), EINVAL) << "after bind";
  ASSERT_EQ(err(n.b.listen(l6, 4)), 0);
  const int c = *n.a.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(err(n.a.connect(n.now, c, {b_ip, 80})), EINPROGRESS);
  n.pump();
  EXPECT_EQ(int_opt(n.a, c, sol_socket, so_error), ECONNREFUSED);
  // The IPv6 side still works.
  const int c6 = *n.a.socket(af_inet6, sock_stream, 0);
  EXPECT_EQ(err(n.a.connect(n.now, c6, in6(b6, 80))), EINPROGRESS);
  n.pump();
  EXPECT_TRUE(n.b.accept(l6).has_value());
  // A V6ONLY socket cannot bind or connect a v4-mapped address.
  const int s = *n.a.socket(af_inet6, sock_stream, 0);
  ASSERT_EQ(err(n.a.setsockopt(n.now, s, ipproto_ipv6, ipv6_v6only, opt_bytes(one))), 0);
  EXPECT_EQ(err(n.a.connect(n.now, s, in6(ipv6_addr::v4_mapped(b_ip), 80))), ENETUNREACH);
  EXPECT_EQ(err(n.a.bind(s, in6(ipv6_addr::v4_mapped(a_ip), 0))), EINVAL);
}

TEST(posix_ipv6, v4_mapped_connect_goes_over_ipv4) {
  net6 n;
  (void)n.b_listener();
  const int c = *n.a.socket(af_inet6, sock_stream, 0);
  EXPECT_EQ(err(n.a.connect(n.now, c, in6(ipv6_addr::v4_mapped(b_ip), 80))), EINPROGRESS);
  n.pump();
  EXPECT_EQ(err(n.a.connect(n.now, c, in6(ipv6_addr::v4_mapped(b_ip), 80))), 0);
  EXPECT_EQ(static_cast<int>(n.a_sent.front()[0]) >> 4, 4);
  EXPECT_EQ(n.a.getsockname(c)->addr, ip_addr{ipv6_addr::v4_mapped(a_ip)});
}

TEST(posix_ipv6, wrong_family_and_unknown_addresses) {
  net6 n;
  const int s6 = *n.a.socket(af_inet6, sock_stream, 0);
  const int s4 = *n.a.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(err(n.a.connect(n.now, s6, {b_ip, 80})), EAFNOSUPPORT);  // sockaddr_in on AF_INET6
  EXPECT_EQ(err(n.a.connect(n.now, s4, in6(b6, 80))), EAFNOSUPPORT);
  EXPECT_EQ(err(n.a.bind(s6, in6(*ipv6_addr::parse("2001:db8::99"), 0))), EADDRNOTAVAIL);
  EXPECT_EQ(err(n.a.connect(n.now, s6, in6(*ipv6_addr::parse("ff02::1"), 80))), ENETUNREACH);
  EXPECT_EQ(*n.a.getsockname(s6), in6(ipv6_addr{}, 0));  // unbound: [::]:0
  EXPECT_EQ(err(n.a.setsockopt(n.now, s4, ipproto_ipv6, ipv6_v6only, opt_bytes(1))), ENOPROTOOPT);
  // A host without IPv6 has no route to an IPv6 peer.
  net v4;
  const int s = *v4.a.socket(af_inet6, sock_stream, 0);
  EXPECT_EQ(err(v4.a.connect(v4.now, s, in6(b6, 80))), ENETUNREACH);
}

// Link-local addresses carry their link in sin6_scope_id (RFC 4007 §6), as Linux reports and
// checks it: the host's one link is host_config::link_index; 0 names no link (EINVAL); another
// index a link the host does not have (bind ENODEV, connect ENETUNREACH). Global addresses
// report 0 and ignore what the caller gives.
TEST(posix_ipv6, link_local_addresses_carry_the_scope_id_of_the_hosts_link) {
  const ipv6_addr la = *ipv6_addr::parse("fe80::1");
  const ipv6_addr lb = *ipv6_addr::parse("fe80::2");
  host_config ca = dual(a_ip, a6);
  host_config cb = dual(b_ip, b6);
  ca.addresses.push_back(host_address{la, 64});
  cb.addresses.push_back(host_address{lb, 64});
  ca.link_index = 7;
  cb.link_index = 9;
  net n(ca, cb);
  auto scoped = [](const ipv6_addr& a, std::uint16_t port, std::uint32_t scope) {
    return sock_addr{ip_addr{a}, port, af_inet6, scope};
  };
  const int l = *n.b.socket(af_inet6, sock_stream, 0);
  EXPECT_EQ(err(n.b.bind(l, scoped(lb, 80, 0))), EINVAL) << "a link-local bind needs its link";
  EXPECT_EQ(err(n.b.bind(l, scoped(lb, 80, 3))), ENODEV) << "no link 3 here";
  ASSERT_EQ(err(n.b.bind(l, scoped(lb, 80, 9))), 0);
  EXPECT_EQ(*n.b.getsockname(l), scoped(lb, 80, 9));
  ASSERT_EQ(err(n.b.listen(l, 4)), 0);

  const int c = *n.a.socket(af_inet6, sock_stream, 0);
  EXPECT_EQ(err(n.a.connect(n.now, c, scoped(lb, 80, 0))), EINVAL);
  EXPECT_EQ(err(n.a.connect(n.now, c, scoped(lb, 80, 9))), ENETUNREACH) << "9 is b's index, not a's";
  EXPECT_EQ(err(n.a.connect(n.now, c, scoped(lb, 80, 7))), EINPROGRESS);
  n.pump();
  EXPECT_EQ(err(n.a.connect(n.now, c, scoped(lb, 80, 7))), 0);
  // The link-local peer got the link-local source, and both ends report their own link.
  const sock_addr me = *n.a.getsockname(c);
  EXPECT_EQ(me, scoped(la, me.port, 7));
  EXPECT_EQ(*n.a.getpeername(c), scoped(lb, 80, 7));
  auto acc = n.b.accept(l);
  ASSERT_TRUE(acc.has_value());
  EXPECT_EQ(acc->peer, scoped(la, me.port, 9));
  EXPECT_EQ(*n.b.getsockname(acc->fd), scoped(lb, 80, 9));

  // A global address reports scope 0, whatever scope the caller gave.
  const int g = *n.a.socket(af_inet6, sock_stream, 0);
  EXPECT_EQ(err(n.a.bind(g, scoped(a6, 0, 42))), 0);
  EXPECT_EQ(n.a.getsockname(g)->scope_id, 0u);
}

}  // namespace
}  // namespace synack::ptest
