// Options that bound waiting: TCP_USER_TIMEOUT (tcp(7), RFC 5482) and SO_RCVTIMEO /
// SO_SNDTIMEO (socket(7)) with Linux's layout, limits and errors. The waits themselves are
// runtime::blocking_sockets' (tests/runtime); here: the values, and the user timeout reaching
// the connection and bounding an active open's SYN as on Linux since 5.4.
#include "posix/posix_harness.hpp"

namespace synack::ptest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

int set_tv(socket_table& t, instant now, int fd, int name, std::int64_t sec, std::int64_t usec) {
  const timeval_opt tv{sec, usec};
  return err(t.setsockopt(now, fd, sol_socket, name, opt_bytes(tv)));
}

timeval_opt get_tv(socket_table& t, int fd, int name) {
  timeval_opt tv{-7, -7};
  auto n = t.getsockopt(fd, sol_socket, name, std::as_writable_bytes(std::span{&tv, 1}));
  EXPECT_TRUE(n.has_value());
  if (n) {
    EXPECT_EQ(*n, sizeof(timeval_opt));
  }
  return tv;
}

TEST(posix_user_timeout, round_trip_limits_and_errors) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_user_timeout), 0) << "off by default";
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_user_timeout, 5000), 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_user_timeout), 5000);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_user_timeout, -1), EINVAL);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_user_timeout), 5000) << "a refused value changes nothing";
  const short two = 1;
  EXPECT_EQ(err(n.a.setsockopt(n.now, fd, ipproto_tcp, tcp_user_timeout, opt_bytes(two))), EINVAL);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_user_timeout, 0x7FFFFFFF), 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_user_timeout), 0x7FFFFFFF);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_user_timeout, 0), 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_user_timeout), 0);
}

TEST(posix_user_timeout, reaches_a_live_connection_and_an_accepted_one) {
  net n;
  const int l = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_user_timeout, 1500), 0);
  ASSERT_EQ(err(n.b.bind(l, {b_ip, 80})), 0);
  ASSERT_EQ(err(n.b.listen(l, 8)), 0);
  auto [c, s] = n.connected(l);
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_user_timeout, 2000), 0);
  EXPECT_EQ(n.ha.find(*n.a.connection_of(c))->config().user_timeout, duration{milliseconds(2000)});
  EXPECT_EQ(n.hb.find(*n.b.connection_of(s))->config().user_timeout, duration{milliseconds(1500)});
  EXPECT_EQ(net::get_int(n.b, s, ipproto_tcp, tcp_user_timeout), 1500) << "inherited from the listener";
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_user_timeout, 0), 0);
  EXPECT_EQ(n.ha.find(*n.a.connection_of(c))->config().user_timeout, std::nullopt);
}

// Unanswered SYNs at 0, 1 and 3 s (RTO 1 s doubling). With a 2.5 s user timeout the timer at
// 3 s gives up: ETIMEDOUT, where R2 for a SYN would have waited 3 minutes.
TEST(posix_user_timeout, bounds_the_syn_retransmissions_of_connect) {
  net n;
  (void)n.b_listener();
  n.drop_a_to_b = true;
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_user_timeout, 2500), 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  n.run_until(instant::zero() + milliseconds(2999));
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EALREADY);
  EXPECT_EQ(n.a_segments().size(), 2u);
  n.run_until(instant::zero() + seconds(3));
  EXPECT_EQ(n.a_segments().size(), 2u) << "no third SYN: the attempt is over";
  EXPECT_EQ(revents(n.a, fd) & (pollerr | pollhup), pollerr | pollhup);
  EXPECT_EQ(net::get_int(n.a, fd, sol_socket, so_error), ETIMEDOUT);
}

TEST(posix_user_timeout, without_it_the_syn_keeps_going) {
  net n;
  n.drop_a_to_b = true;
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  n.run_until(instant::zero() + seconds(3));
  EXPECT_EQ(n.a_segments().size(), 3u);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EALREADY);
}

TEST(posix_timeo, defaults_round_trips_and_linux_rules) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream, 0);
  for (const int name : {so_rcvtimeo, so_sndtimeo}) {
    SCOPED_TRACE(name);
    const timeval_opt none = get_tv(n.a, fd, name);
    EXPECT_EQ(none.tv_sec, 0);
    EXPECT_EQ(none.tv_usec, 0);
    EXPECT_EQ(set_tv(n.a, n.now, fd, name, 1, 500000), 0);
    const timeval_opt back = get_tv(n.a, fd, name);
    EXPECT_EQ(back.tv_sec, 1);
    EXPECT_EQ(back.tv_usec, 500000);
    EXPECT_EQ(set_tv(n.a, n.now, fd, name, 0, 1000000), EDOM) << "tv_usec must be below a second";
    EXPECT_EQ(set_tv(n.a, n.now, fd, name, 0, -1), EDOM);
    EXPECT_EQ(get_tv(n.a, fd, name).tv_sec, 1) << "a refused value changes nothing";
    const std::int64_t short_len = 5;
    EXPECT_EQ(err(n.a.setsockopt(n.now, fd, sol_socket, name, opt_bytes(short_len))), EINVAL) << "shorter than a timeval";
    // getsockopt truncates: 8 octets are tv_sec alone.
    std::int64_t sec_only = 0;
    auto got = n.a.getsockopt(fd, sol_socket, name, std::as_writable_bytes(std::span{&sec_only, 1}));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, 8u);
    EXPECT_EQ(sec_only, 1);
  }
  EXPECT_EQ(n.a.recv_timeout(fd).value(), duration{1'500'000});
  EXPECT_EQ(n.a.send_timeout(fd).value(), duration{1'500'000});
  // A negative tv_sec means "do not wait" (Linux stores 0) and reads back as {0, 0}.
  EXPECT_EQ(set_tv(n.a, n.now, fd, so_rcvtimeo, -1, 0), 0);
  EXPECT_EQ(n.a.recv_timeout(fd).value(), duration{0});
  EXPECT_EQ(get_tv(n.a, fd, so_rcvtimeo).tv_sec, 0);
  // {0, 0}: for ever again.
  EXPECT_EQ(set_tv(n.a, n.now, fd, so_sndtimeo, 0, 0), 0);
  EXPECT_EQ(n.a.send_timeout(fd).value(), std::nullopt);
  EXPECT_EQ(err(n.a.recv_timeout(99)), EBADF);
}

TEST(posix_timeo, accepted_socket_inherits_the_listeners) {
  net n;
  const int l = n.b_listener();
  EXPECT_EQ(set_tv(n.b, n.now, l, so_rcvtimeo, 2, 0), 0);
  auto [c, s] = n.connected(l);
  (void)c;
  EXPECT_EQ(get_tv(n.b, s, so_rcvtimeo).tv_sec, 2);
  EXPECT_EQ(n.b.recv_timeout(s).value(), duration{seconds(2)});
}

}  // namespace
}  // namespace synack::ptest
