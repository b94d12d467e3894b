// setsockopt / getsockopt round trips with Linux's values, limits and errors (socket(7),
// tcp(7)), and the options reaching the connection: TCP_MAXSEG on the SYN, TCP_NODELAY and
// keep-alives on a live connection.
#include "posix/posix_harness.hpp"

namespace synack::ptest {
namespace {

TEST(posix_options, defaults) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_rcvbuf), 2 * 256 * 1024) << "twice the buffer, as Linux";
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_sndbuf), 2 * 256 * 1024);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_reuseaddr), 0);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_keepalive), 0);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_error), 0);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_type), sock_stream);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_acceptconn), 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_nodelay), 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_maxseg), 536);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_keepidle), 7200);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_keepintvl), 75);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_keepcnt), 9);
  linger_opt lg{9, 9};
  auto len = n.a.getsockopt(fd, sol_socket, so_linger, std::as_writable_bytes(std::span{&lg, 1}));
  ASSERT_TRUE(len.has_value());
  EXPECT_EQ(*len, sizeof(linger_opt));
  EXPECT_EQ(lg.l_onoff, 0);
  EXPECT_EQ(lg.l_linger, 0);
}

TEST(posix_options, round_trips_and_limits) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream, 0);
  auto set = [&](int level, int name, int v) { return net::set_int(n.a, n.now, fd, level, name, v); };
  auto get = [&](int level, int name) { return net::get_int(n.a, fd, level, name); };
  EXPECT_EQ(set(sol_socket, so_rcvbuf, 1000), 0);
  EXPECT_EQ(get(sol_socket, so_rcvbuf), 2304) << "SOCK_MIN_RCVBUF";
  EXPECT_EQ(set(sol_socket, so_rcvbuf, 100000), 0);
  EXPECT_EQ(get(sol_socket, so_rcvbuf), 200000);
  EXPECT_EQ(set(sol_socket, so_rcvbuf, 1 << 30), 0);
  EXPECT_EQ(get(sol_socket, so_rcvbuf), 2 * 212992) << "rmem_max";
  EXPECT_EQ(set(sol_socket, so_rcvbuf, -1), 0);
  EXPECT_EQ(get(sol_socket, so_rcvbuf), 2 * 212992) << "negative is huge as unsigned";
  EXPECT_EQ(set(sol_socket, so_sndbuf, 1000), 0);
  EXPECT_EQ(get(sol_socket, so_sndbuf), 4608) << "SOCK_MIN_SNDBUF";
  EXPECT_EQ(set(sol_socket, so_keepalive, 5), 0);
  EXPECT_EQ(get(sol_socket, so_keepalive), 1);
  EXPECT_EQ(set(sol_socket, so_reuseaddr, 3), 0);
  EXPECT_EQ(get(sol_socket, so_reuseaddr), 1);
  EXPECT_EQ(set(ipproto_tcp, tcp_nodelay, 7), 0);
  EXPECT_EQ(get(ipproto_tcp, tcp_nodelay), 1);
  EXPECT_EQ(set(ipproto_tcp, tcp_nodelay, 0), 0);
  EXPECT_EQ(get(ipproto_tcp, tcp_nodelay), 0);
  EXPECT_EQ(set(ipproto_tcp, tcp_maxseg, 87), EINVAL) << "TCP_MIN_MSS is 88";
  EXPECT_EQ(set(ipproto_tcp, tcp_maxseg, 32768), EINVAL) << "MAX_TCP_WINDOW is 32767";
  EXPECT_EQ(set(ipproto_tcp, tcp_maxseg, 88), 0);
  EXPECT_EQ(get(ipproto_tcp, tcp_maxseg), 88);
  EXPECT_EQ(set(ipproto_tcp, tcp_maxseg, 0), 0);
  EXPECT_EQ(get(ipproto_tcp, tcp_maxseg), 536);
  EXPECT_EQ(set(ipproto_tcp, tcp_keepidle, 0), EINVAL);
  EXPECT_EQ(set(ipproto_tcp, tcp_keepidle, 32768), EINVAL);
  EXPECT_EQ(set(ipproto_tcp, tcp_keepidle, 32767), 0);
  EXPECT_EQ(get(ipproto_tcp, tcp_keepidle), 32767);
  EXPECT_EQ(set(ipproto_tcp, tcp_keepintvl, 0), EINVAL);
  EXPECT_EQ(set(ipproto_tcp, tcp_keepintvl, 32768), EINVAL);
  EXPECT_EQ(set(ipproto_tcp, tcp_keepintvl, 10), 0);
  EXPECT_EQ(get(ipproto_tcp, tcp_keepintvl), 10);
  EXPECT_EQ(set(ipproto_tcp, tcp_keepcnt, 0), EINVAL);
  EXPECT_EQ(set(ipproto_tcp, tcp_keepcnt, 128), EINVAL);
  EXPECT_EQ(set(ipproto_tcp, tcp_keepcnt, 127), 0);
  EXPECT_EQ(get(ipproto_tcp, tcp_keepcnt), 127);
  const linger_opt lg{5, 7};
  EXPECT_EQ(err(n.a.setsockopt(n.now, fd, sol_socket, so_linger, opt_bytes(lg))), 0);
  linger_opt back{};
  (void)n.a.getsockopt(fd, sol_socket, so_linger, std::as_writable_bytes(std::span{&back, 1}));
  EXPECT_EQ(back.l_onoff, 1);
  EXPECT_EQ(back.l_linger, 7);
}

TEST(posix_options, errors) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream, 0);
  const short two = 1;
  EXPECT_EQ(err(n.a.setsockopt(n.now, fd, sol_socket, so_reuseaddr, opt_bytes(two))), EINVAL) << "optlen < int";
  EXPECT_EQ(err(n.a.setsockopt(n.now, fd, ipproto_tcp, tcp_nodelay, opt_bytes(two))), EINVAL);
  EXPECT_EQ(err(n.a.setsockopt(n.now, fd, sol_socket, so_linger, opt_bytes(1))), EINVAL);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, sol_socket, so_error, 1), ENOPROTOOPT);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, sol_socket, so_type, 1), ENOPROTOOPT);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, 9999, 1), ENOPROTOOPT);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, 12345, 1, 1), ENOPROTOOPT);
  int v = 0;
  EXPECT_EQ(err(n.a.getsockopt(fd, ipproto_tcp, 9999, std::as_writable_bytes(std::span{&v, 1}))), ENOPROTOOPT);
  EXPECT_EQ(err(n.a.getsockopt(fd, 12345, 1, std::as_writable_bytes(std::span{&v, 1}))), ENOPROTOOPT);
  EXPECT_EQ(net::set_int(n.a, n.now, 42, sol_socket, so_reuseaddr, 1), EBADF);
  // getsockopt truncates to the length given (Linux copies min(len, sizeof(int))).
  std::array<std::byte, 2> small{std::byte{0xAA}, std::byte{0xAA}};
  auto got = n.a.getsockopt(fd, sol_socket, so_type, small);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 2u);
  std::uint16_t low = 0;
  std::memcpy(&low, small.data(), 2);
  EXPECT_EQ(low, sock_stream);
}

TEST(posix_options, maxseg_goes_on_the_syn_and_limits_segments) {
  net n;
  (void)n.b_listener();
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_maxseg, 1000), 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  n.pump();
  const auto segs = n.a_segments();
  ASSERT_FALSE(segs.empty());
  EXPECT_EQ(segs[0].options.mss, std::optional<std::uint16_t>{1000});
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), 0);
  // Both ends use timestamps (12 octets per segment): 1000 - 12 of payload.
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_maxseg), 988);
}

TEST(posix_options, nodelay_and_keepalive_reach_a_live_connection) {
  net n;
  const int l = n.b_listener();
  auto [c, s] = n.connected(l);
  const connection* k = n.ha.find(*n.a.connection_of(c));
  ASSERT_NE(k, nullptr);
  EXPECT_FALSE(k->config().no_delay);
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_nodelay, 1), 0);
  EXPECT_TRUE(k->config().no_delay);
  EXPECT_EQ(k->config().recv_buffer, 256u * 1024) << "the buffers stay as they were made";
  // Keep-alives: idle 10 s, then a probe each second, 2 unanswered probes end it.
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_keepidle, 10), 0);
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_keepintvl, 1), 0);
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_keepcnt, 2), 0);
  EXPECT_FALSE(n.ha.next_deadline().has_value()) << "off: no keep-alive timer";
  EXPECT_EQ(net::set_int(n.a, n.now, c, sol_socket, so_keepalive, 1), 0);
  EXPECT_EQ(n.ha.next_deadline(), std::optional{n.now + std::chrono::seconds(10)});
  n.run_for(std::chrono::seconds(11));  // a probe, answered by b
  EXPECT_EQ(revents(n.a, c), out);
  n.drop_b_to_a = true;                  // now b's answers are lost
  n.run_for(std::chrono::seconds(15));
  EXPECT_EQ(net::get_int(n.a, c, sol_socket, so_error), ETIMEDOUT);
  EXPECT_EQ(net::set_int(n.a, n.now, c, sol_socket, so_keepalive, 0), 0) << "setsockopt on a dead one is fine";
  (void)s;
}

TEST(posix_options, keepalive_off_again_clears_the_timer) {
  net n;
  const int l = n.b_listener();
  auto [c, s] = n.connected(l);
  EXPECT_EQ(net::set_int(n.a, n.now, c, sol_socket, so_keepalive, 1), 0);
  EXPECT_TRUE(n.ha.next_deadline().has_value());
  EXPECT_EQ(net::set_int(n.a, n.now, c, sol_socket, so_keepalive, 0), 0);
  EXPECT_FALSE(n.ha.next_deadline().has_value());
  (void)s;
}

TEST(posix_options, rcvbuf_before_connect_sizes_the_window) {
  net n;
  (void)n.b_listener();
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, sol_socket, so_rcvbuf, 10000), 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  n.pump();
  const connection* k = n.ha.find(*n.a.connection_of(fd));
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->config().recv_buffer, 10000u);
  const auto segs = n.a_segments();
  ASSERT_FALSE(segs.empty());
  EXPECT_EQ(segs[0].window, 10000) << "the SYN offers the whole (unscaled) buffer";
}

}  // namespace
}  // namespace synack::ptest
