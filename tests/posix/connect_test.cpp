// socket() and connect() in each state, with the errno Linux returns (man 2 connect; the
// kernel's __inet_stream_connect): EINPROGRESS, EALREADY, the one 0 after the handshake,
// EISCONN; refusal by RST seen through SO_ERROR or through the next connect; timeouts; ICMP.
#include "posix/posix_harness.hpp"

namespace synack::ptest {
namespace {

TEST(posix_socket, arguments_and_descriptor_numbers) {
  net n;
  EXPECT_EQ(err(n.a.socket(1, sock_stream, 0)), EAFNOSUPPORT);  // AF_UNIX: not an internet socket
  EXPECT_EQ(err(n.a.socket(af_inet, 5, 0)), ESOCKTNOSUPPORT);     // SOCK_SEQPACKET
  EXPECT_EQ(err(n.a.socket(af_inet, sock_stream, 17)), EPROTONOSUPPORT);
  auto x = n.a.socket(af_inet, sock_stream, ipproto_tcp);
  auto y = n.a.socket(af_inet, sock_stream | sock_nonblock | sock_cloexec, 0);
  ASSERT_TRUE(x && y);
  EXPECT_EQ(*x, 3);  // after stdin, stdout, stderr
  EXPECT_EQ(*y, 4);
  EXPECT_EQ(*n.a.nonblocking(*x), false);
  EXPECT_EQ(*n.a.nonblocking(*y), true);
  EXPECT_EQ(err(n.a.close(n.now, *x)), 0);
  EXPECT_EQ(err(n.a.close(n.now, *x)), EBADF);
  EXPECT_EQ(*n.a.socket(af_inet, sock_stream, 0), 3);  // the lowest free number again
  EXPECT_EQ(err(n.a.connect(n.now, 99, {b_ip, 80})), EBADF);
  EXPECT_EQ(err(n.a.recv(2, {})), EBADF);
}

TEST(posix_socket, table_full_is_emfile) {
  host h{config_for(a_ip)};
  socket_table t{h, 3, 2};
  EXPECT_TRUE(t.socket(af_inet, sock_stream, 0).has_value());
  EXPECT_TRUE(t.socket(af_inet, sock_stream, 0).has_value());
  EXPECT_EQ(err(t.socket(af_inet, sock_stream, 0)), EMFILE);
}

TEST(posix_socket, fresh_socket_answers) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream, 0);
  std::array<std::byte, 4> b{};
  EXPECT_EQ(err(n.a.recv(fd, b)), ENOTCONN);
  EXPECT_EQ(err(n.a.send(fd, as_bytes("x"))), EPIPE);
  EXPECT_EQ(err(n.a.accept(fd)), EINVAL);
  EXPECT_EQ(err(n.a.getpeername(fd)), ENOTCONN);
  EXPECT_EQ(*n.a.getsockname(fd), (sock_addr{}));
  EXPECT_EQ(revents(n.a, fd), out | pollhup);  // tcp_poll: CLOSE is a hang-up, writable
  EXPECT_EQ(err(n.a.shutdown(n.now, fd, shut_rdwr)), ENOTCONN);
  EXPECT_EQ(revents(n.a, fd), in | out | pollhup | pollrdhup) << "shutdown records its bits even so";
  EXPECT_EQ(err(n.a.shutdown(n.now, fd, 3)), EINVAL);
  EXPECT_TRUE(n.a_sent.empty());
}

TEST(posix_connect, inprogress_already_then_zero_then_isconn) {
  net n;
  const int l = n.b_listener();
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  EXPECT_EQ(revents(n.a, fd), 0) << "SYN-SENT: neither readable nor writable";
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EALREADY);
  std::array<std::byte, 4> b{};
  EXPECT_EQ(err(n.a.recv(fd, b)), EAGAIN);
  EXPECT_EQ(err(n.a.send(fd, as_bytes("x"))), EAGAIN);
  EXPECT_EQ(err(n.a.getpeername(fd)), ENOTCONN);
  n.pump();
  EXPECT_EQ(revents(n.a, fd), out);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_error), 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), 0) << "the first call after completion succeeds";
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EISCONN);
  EXPECT_EQ(err(n.a.bind(fd, {a_ip, 0})), EINVAL);
  EXPECT_EQ(err(n.a.listen(fd, 1)), EINVAL);
  auto peer = n.a.getpeername(fd);
  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(*peer, (sock_addr{b_ip, 80}));
  auto me = n.a.getsockname(fd);
  ASSERT_TRUE(me.has_value());
  EXPECT_EQ(me->addr, a_ip);
  EXPECT_GE(me->port, 32768);
  auto acc = n.b.accept(l);
  ASSERT_TRUE(acc.has_value());
  EXPECT_EQ(acc->peer, (sock_addr{a_ip, me->port}));
  EXPECT_EQ(*n.b.getpeername(acc->fd), (sock_addr{a_ip, me->port}));
}

TEST(posix_connect, refused_seen_through_so_error) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 81})), EINPROGRESS);
  n.pump();  // b answers the SYN with RST: no listener
  EXPECT_EQ(revents(n.a, fd), in | out | pollerr | pollhup | pollrdhup);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_error), ECONNREFUSED);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_error), 0) << "SO_ERROR clears it";
  EXPECT_EQ(revents(n.a, fd), in | out | pollhup | pollrdhup);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 81})), ECONNABORTED) << "the error was already taken";
  std::array<std::byte, 4> b{};
  EXPECT_EQ(err(n.a.recv(fd, b)), ENOTCONN);
  EXPECT_EQ(err(n.a.send(fd, as_bytes("x"))), EPIPE);
}

TEST(posix_connect, refused_seen_through_the_next_connect_which_may_then_retry) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 81})), EINPROGRESS);
  n.pump();
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 81})), ECONNREFUSED);
  EXPECT_EQ(revents(n.a, fd), out | pollhup) << "disconnected: a fresh socket again";
  const int l = n.b_listener(81);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 81})), EINPROGRESS) << "a new attempt";
  n.pump();
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 81})), 0);
  EXPECT_TRUE(n.b.accept(l).has_value());
}

TEST(posix_connect, refused_then_recv_and_send) {
  net n;
  const int r = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  const int s = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, r, {b_ip, 81})), EINPROGRESS);
  EXPECT_EQ(err(n.a.connect(n.now, s, {b_ip, 81})), EINPROGRESS);
  n.pump();
  std::array<std::byte, 4> b{};
  EXPECT_EQ(err(n.a.recv(r, b)), ECONNREFUSED);
  EXPECT_EQ(*n.a.recv(r, b), 0u) << "then end of stream (RCV_SHUTDOWN)";
  EXPECT_EQ(err(n.a.send(r, as_bytes("x"))), EPIPE);
  EXPECT_EQ(err(n.a.send(s, as_bytes("x"))), ECONNREFUSED);
  EXPECT_EQ(err(n.a.send(s, as_bytes("x"))), EPIPE);
  EXPECT_EQ(err(n.a.shutdown(n.now, s, shut_wr)), ENOTCONN);
  EXPECT_EQ(err(n.a.getpeername(s)), ENOTCONN);
}

TEST(posix_connect, silent_peer_times_out) {
  net n;
  n.drop_a_to_b = true;
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  n.run_for(std::chrono::seconds(170));
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EALREADY);
  n.run_for(std::chrono::seconds(20));  // past syn_r2 = 180 s (MUST-23)
  EXPECT_EQ(revents(n.a, fd) & pollerr, pollerr);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), ETIMEDOUT);
  EXPECT_GE(n.a_segments().size(), 7u) << "SYN and its retransmissions";
}

// An ICMP error from a router between the hosts, quoting the first packet `a` sent.
std::vector<std::byte> icmp_about_first(const net& n, std::uint8_t code) {
  const auto& syn = n.a_sent.at(0);
  icmpv4_repr m;
  m.type = icmp_type::dest_unreachable;
  m.code = code;
  m.data = bytes{syn}.first(28);
  std::vector<std::byte> p(20 + m.buffer_len());
  ipv4_repr ip;
  ip.src = ipv4_addr::from_octets(10, 0, 0, 254);
  ip.dst = a_ip;
  ip.protocol = ip_proto::icmp;
  ip.payload_len = static_cast<std::uint16_t>(m.buffer_len());
  ip.emit(p);
  m.emit(mutable_bytes{p}.subspan(20));
  return p;
}

// a's SYN never reaches b; a router answers it with destination unreachable `code`.
int connect_and_unreachable(net& n, std::uint8_t code) {
  n.drop_a_to_b = true;
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  n.pump();
  n.ha.on_packet(n.now, icmp_about_first(n, code));
  return fd;
}

TEST(posix_connect, soft_icmp_error_replaces_etimedout) {
  net n;
  const int fd = connect_and_unreachable(n, icmp_unreach_code::host);
  EXPECT_EQ(revents(n.a, fd), 0) << "MUST-56: a soft error does not end the attempt";
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_error), 0) << "nor is it reported yet";
  n.run_for(std::chrono::seconds(200));
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_error), EHOSTUNREACH);
}

TEST(posix_connect, net_unreachable_soft_error) {
  net n;
  const int fd = connect_and_unreachable(n, icmp_unreach_code::net);
  n.run_for(std::chrono::seconds(200));
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), ENETUNREACH);
}

TEST(posix_connect, hard_icmp_errors_end_the_attempt_at_once) {
  const std::pair<std::uint8_t, int> cases[] = {
      {icmp_unreach_code::port, ECONNREFUSED}, {icmp_unreach_code::protocol, ENOPROTOOPT},
      {9, ENETUNREACH}, {10, EHOSTUNREACH}, {13, EHOSTUNREACH}};
  for (const auto& [code, want] : cases) {
    net n;
    const int fd = connect_and_unreachable(n, code);
    EXPECT_EQ(revents(n.a, fd) & pollerr, pollerr) << "code " << int{code};
    EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_error), want) << "code " << int{code};
  }
}

TEST(posix_connect, shutdown_while_connecting_disconnects_with_econnreset) {
  net n;
  n.drop_a_to_b = true;
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  n.pump();
  EXPECT_EQ(err(n.a.shutdown(n.now, fd, shut_wr)), 0);
  n.pump();
  EXPECT_EQ(n.a_segments().size(), 1u) << "no RST before synchronization";
  EXPECT_EQ(n.ha.connection_count(), 0u);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_error), ECONNRESET);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS) << "disconnected: SS_UNCONNECTED";
}

TEST(posix_connect, bad_destinations) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80, 10})), EAFNOSUPPORT);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {ipv4_addr::from_octets(224, 0, 0, 1), 80})), ENETUNREACH);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {ipv4_addr::from_octets(255, 255, 255, 255), 80})), ENETUNREACH);
  EXPECT_TRUE(n.a_sent.empty());
}

TEST(posix_connect, from_a_bound_port_and_address_not_available) {
  net n;
  const int l = n.b_listener();
  const int x = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  ASSERT_EQ(err(n.a.bind(x, {a_ip, 5000})), 0);
  EXPECT_EQ(err(n.a.connect(n.now, x, {b_ip, 80})), EINPROGRESS);
  n.pump();
  EXPECT_EQ(n.a.getsockname(x)->port, 5000);
  EXPECT_EQ(n.b.accept(l)->peer.port, 5000);
  // A second socket on the same port (both SO_REUSEADDR) to the same destination: the 4-tuple
  // is taken (__inet_hash_connect).
  const int y = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  const int z = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(net::set_int(n.a, n.now, z, sol_socket, so_reuseaddr, 1), 0);
  EXPECT_EQ(err(n.a.bind(z, {a_ip, 5000})), EADDRINUSE) << "x did not ask for SO_REUSEADDR";
  (void)y;
}

}  // namespace
}  // namespace synack::ptest
