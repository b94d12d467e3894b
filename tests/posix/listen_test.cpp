// bind(), listen() and accept(): EADDRINUSE, EINVAL, EADDRNOTAVAIL, EAGAIN, SO_REUSEADDR
// against a live listener and against TIME-WAIT (inet_csk_bind_conflict), autobind.
#include "posix/posix_harness.hpp"

namespace synack::ptest {
namespace {

TEST(posix_bind, errors) {
  net n;
  const int x = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(err(n.b.bind(x, {b_ip, 80, 10})), EAFNOSUPPORT);
  EXPECT_EQ(err(n.b.bind(x, {a_ip, 80})), EADDRNOTAVAIL) << "not this host's address";
  EXPECT_EQ(err(n.b.bind(x, {ipv4_addr{}, 80})), 0) << "INADDR_ANY";
  EXPECT_EQ(err(n.b.bind(x, {b_ip, 81})), EINVAL) << "already bound";
  EXPECT_EQ(*n.b.getsockname(x), (sock_addr{ipv4_addr{}, 80}));
  const int y = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(err(n.b.bind(y, {b_ip, 80})), EADDRINUSE);
  EXPECT_EQ(err(n.b.bind(y, {b_ip, 0})), 0) << "port 0: an ephemeral one";
  EXPECT_GE(n.b.getsockname(y)->port, 32768);
}

TEST(posix_bind, reuseaddr_shares_a_port_but_not_two_listeners) {
  net n;
  const int x = *n.b.socket(af_inet, sock_stream, 0);
  const int y = *n.b.socket(af_inet, sock_stream, 0);
  for (int fd : {x, y}) {
    EXPECT_EQ(net::set_int(n.b, n.now, fd, sol_socket, so_reuseaddr, 1), 0);
  }
  EXPECT_EQ(err(n.b.bind(x, {b_ip, 80})), 0);
  EXPECT_EQ(err(n.b.bind(y, {b_ip, 80})), 0) << "both asked for SO_REUSEADDR, neither listens";
  EXPECT_EQ(err(n.b.listen(x, 4)), 0);
  EXPECT_EQ(err(n.b.listen(y, 4)), EADDRINUSE);
  const int z = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::set_int(n.b, n.now, z, sol_socket, so_reuseaddr, 1), 0);
  EXPECT_EQ(err(n.b.bind(z, {b_ip, 80})), EADDRINUSE) << "x listens now";
}

// The server closes first, so its side of the connection holds TIME-WAIT on port 80 after the
// listener is gone.
void leave_time_wait_on_b(net& n, bool listener_reuse) {
  const int l = *n.b.socket(af_inet, sock_stream, 0);
  if (listener_reuse) {
    EXPECT_EQ(net::set_int(n.b, n.now, l, sol_socket, so_reuseaddr, 1), 0);
  }
  ASSERT_EQ(err(n.b.bind(l, {b_ip, 80})), 0);
  ASSERT_EQ(err(n.b.listen(l, 4)), 0);
  auto [c, s] = n.connected(l);
  EXPECT_EQ(err(n.b.close(n.now, s)), 0);
  n.pump();
  EXPECT_EQ(*n.a.recv(c, {}), 0u);
  EXPECT_EQ(err(n.a.close(n.now, c)), 0);
  n.pump();
  EXPECT_EQ(err(n.b.close(n.now, l)), 0);
  ASSERT_EQ(n.hb.time_wait_count(), 1u);
}

TEST(posix_bind, reuseaddr_binds_over_time_wait) {
  net n;
  leave_time_wait_on_b(n, true);
  const int x = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(err(n.b.bind(x, {b_ip, 80})), EADDRINUSE) << "TIME-WAIT holds the port";
  EXPECT_EQ(net::set_int(n.b, n.now, x, sol_socket, so_reuseaddr, 1), 0);
  EXPECT_EQ(err(n.b.bind(x, {b_ip, 80})), 0);
  EXPECT_EQ(err(n.b.listen(x, 4)), 0);
  auto [c, s] = n.connected(x);
  EXPECT_GE(c, 0);
  EXPECT_GE(s, 0);
}

TEST(posix_bind, reuseaddr_needs_it_on_both_sides) {
  net n;
  leave_time_wait_on_b(n, false);
  const int x = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::set_int(n.b, n.now, x, sol_socket, so_reuseaddr, 1), 0);
  EXPECT_EQ(err(n.b.bind(x, {b_ip, 80})), EADDRINUSE) << "the TIME-WAIT socket had no SO_REUSEADDR";
  n.run_for(std::chrono::seconds(61));  // 2 x MSL
  EXPECT_EQ(err(n.b.bind(x, {b_ip, 80})), 0);
}

// UDP's ports are a space of their own: a datagram socket on port 80 neither holds TCP's port
// 80 nor lends its SO_REUSEADDR to TCP's TIME-WAIT there.
TEST(posix_bind, a_datagram_socket_leaves_tcp_ports_alone) {
  net n;
  leave_time_wait_on_b(n, false);
  const int u = *n.b.socket(af_inet, sock_dgram, 0);
  ASSERT_EQ(err(n.b.bind(u, {b_ip, 80})), 0);
  EXPECT_EQ(net::set_int(n.b, n.now, u, sol_socket, so_reuseaddr, 1), 0);
  const int x = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::set_int(n.b, n.now, x, sol_socket, so_reuseaddr, 1), 0);
  EXPECT_EQ(err(n.b.bind(x, {b_ip, 80})), EADDRINUSE) << "the TIME-WAIT socket had no SO_REUSEADDR";
  n.run_for(std::chrono::seconds(61));  // 2 x MSL
  EXPECT_EQ(err(n.b.bind(x, {b_ip, 80})), 0) << "the datagram socket holds no TCP port";
}

TEST(posix_listen, accept_states_and_poll) {
  net n;
  const int l = *n.b.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.b.accept(l)), EINVAL) << "not listening";
  EXPECT_EQ(err(n.b.listen(l, 4)), 0) << "autobind";
  const std::uint16_t port = n.b.getsockname(l)->port;
  EXPECT_GE(port, 32768);
  EXPECT_EQ(err(n.b.listen(l, 8)), 0) << "listen again is fine";
  EXPECT_EQ(net::get_int(n.b, l, sol_socket, so_acceptconn), 1);
  EXPECT_EQ(revents(n.b, l), 0);
  EXPECT_EQ(err(n.b.accept(l)), EAGAIN);
  std::array<std::byte, 4> b{};
  EXPECT_EQ(err(n.b.recv(l, b)), ENOTCONN);
  EXPECT_EQ(err(n.b.send(l, as_bytes("x"))), EPIPE);
  EXPECT_EQ(err(n.b.connect(n.now, l, {a_ip, 80})), EISCONN);
  EXPECT_EQ(err(n.b.bind(l, {b_ip, 80})), EINVAL);
  const int c = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, c, {b_ip, port})), EINPROGRESS);
  n.pump();
  EXPECT_EQ(revents(n.b, l), in);
  auto s = n.b.accept(l);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*n.b.nonblocking(s->fd), false) << "accept4 without SOCK_NONBLOCK";
  EXPECT_EQ(revents(n.b, s->fd), out);
  EXPECT_EQ(revents(n.b, l), 0);
  EXPECT_EQ(err(n.b.shutdown(n.now, l, shut_wr)), 0) << "SHUT_WR on a listener does nothing";
  EXPECT_EQ(net::get_int(n.b, l, sol_socket, so_acceptconn), 1);
  EXPECT_EQ(err(n.b.shutdown(n.now, l, shut_rd)), 0) << "SHUT_RD stops listening";
  EXPECT_EQ(err(n.b.accept(l)), EINVAL);
  EXPECT_EQ(revents(n.b, l), out | pollhup);
  const int c2 = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, c2, {b_ip, port})), EINPROGRESS);
  n.pump();
  EXPECT_EQ(net::get_int(n.a, c2, sol_socket, so_error), ECONNREFUSED);
}

TEST(posix_listen, backlog_zero_holds_one) {
  net n;
  const int l = n.b_listener(80, 0);
  int ok = 0;
  for (int i = 0; i < 3; ++i) {
    const int c = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
    EXPECT_EQ(err(n.a.connect(n.now, c, {b_ip, 80})), EINPROGRESS);
    n.pump();
    if (net::get_int(n.a, c, sol_socket, so_error) == 0 && revents(n.a, c) == out) ++ok;
  }
  EXPECT_TRUE(n.b.accept(l).has_value());
  EXPECT_EQ(err(n.b.accept(l)), EAGAIN) << "Linux queues backlog + 1 = 1";
  EXPECT_EQ(ok, 1) << "the other SYNs were dropped: the accept queue was full";
}

TEST(posix_listen, accepted_socket_inherits_options) {
  net n;
  const int l = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_nodelay, 1), 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, sol_socket, so_keepalive, 1), 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_keepidle, 30), 0);
  ASSERT_EQ(err(n.b.bind(l, {b_ip, 80})), 0);
  ASSERT_EQ(err(n.b.listen(l, 4)), 0);
  auto [c, s] = n.connected(l);
  EXPECT_EQ(net::get_int(n.b, s, ipproto_tcp, tcp_nodelay), 1);
  EXPECT_EQ(net::get_int(n.b, s, sol_socket, so_keepalive), 1);
  EXPECT_EQ(net::get_int(n.b, s, ipproto_tcp, tcp_keepidle), 30);
  const connection* k = n.hb.find(*n.b.connection_of(s));
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->config().no_delay);
  EXPECT_TRUE(k->config().keepalive);
  EXPECT_EQ(k->config().keepalive_idle, std::chrono::seconds(30));
  EXPECT_FALSE(n.ha.find(*n.a.connection_of(c))->config().keepalive);
}

}  // namespace
}  // namespace synack::ptest
