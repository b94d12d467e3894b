// RFC 7413 TCP Fast Open through the socket calls, between two hosts: MSG_FASTOPEN's errnos
// and outcomes, TCP_FASTOPEN_CONNECT, a listener's TCP_FASTOPEN and TCP_FASTOPEN_KEY, Fast Open
// without cookies (the sysctl's bits, TCP_FASTOPEN_NO_COOKIE) (Linux's behaviour: tcp(7),
// ip-sysctl's tcp_fastopen, tcp_sendmsg_fastopen, do_tcp_setsockopt).
#include "posix/posix_harness.hpp"
#include "synack/stack/fast_open_cache.hpp"

namespace synack::ptest {
namespace {

// A listener on b with Fast Open (qlen 4), server side enabled by the sysctl bits.
int tfo_listener(net& n) {
  n.b.set_fast_open_sysctl(tfo_client_enable | tfo_server_enable);
  const int l = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_fastopen, 4), 0);
  EXPECT_EQ(err(n.b.bind(l, {b_ip, 80})), 0);
  EXPECT_EQ(err(n.b.listen(l, 8)), 0);
  return l;
}

tcp_info_data info(socket_table& t, int fd) {
  tcp_info_data ti;
  EXPECT_TRUE(t.getsockopt(fd, ipproto_tcp, tcp_info, std::as_writable_bytes(std::span{&ti, 1})).has_value());
  return ti;
}

std::optional<tcp_repr> last_syn(const net& n) {
  std::optional<tcp_repr> syn;
  for (const tcp_repr& s : n.a_segments()) {
    if (s.syn() && !s.ack) syn = s;
  }
  return syn;
}

// The SYN a's `fd` sent last carried `data`, with a cookie (`cookie`) or no TFO option at all;
// b's listener `l` gives its child at once, `data` readable. TCP_INFO's tcpi_options as
// Linux's: SYN_DATA at both ends (the client's data acknowledged by the SYN-ACK, the server's
// taken), TFO_CHILD at the server. The child's descriptor (-1: none).
int syn_data_accepted(net& n, int l, int fd, std::string_view data, bool cookie) {
  const auto syn = last_syn(n);
  EXPECT_TRUE(syn.has_value());
  if (!syn) return -1;
  EXPECT_EQ(syn->options.fast_open.has_value(), cookie);
  EXPECT_FALSE(syn->options.fast_open && syn->options.fast_open->request());
  EXPECT_EQ(syn->payload.size(), data.size());
  const auto s = n.b.accept(l, sock_nonblock);
  EXPECT_TRUE(s.has_value());
  if (!s) return -1;
  EXPECT_EQ(net::read_some(n.b, s->fd), data);
  EXPECT_EQ(info(n.a, fd).options & (tcpi_opt_syn_data | tcpi_opt_tfo_child), tcpi_opt_syn_data);
  EXPECT_EQ(info(n.b, s->fd).options & (tcpi_opt_syn_data | tcpi_opt_tfo_child), tcpi_opt_syn_data | tcpi_opt_tfo_child);
  return s->fd;
}

TEST(posix_fast_open, sendto_msg_fastopen_errnos) {
  net n;
  const int l = tfo_listener(n);
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  n.a.set_fast_open_sysctl(0);
  EXPECT_EQ(err(n.a.sendto(n.now, fd, as_bytes("hello"), msg_fastopen, sock_addr{b_ip, 80})), EOPNOTSUPP);
  n.a.set_fast_open_sysctl(tfo_client_enable);
  EXPECT_EQ(err(n.a.sendto(n.now, fd, as_bytes("hello"), msg_fastopen, std::nullopt)), EINVAL);
  EXPECT_EQ(err(n.a.sendto(n.now, fd, as_bytes("hello"), msg_fastopen, sock_addr{{}, 0, af_unspec})), EOPNOTSUPP);
  // No cookie yet: the SYN asks for one, the data is not taken.
  EXPECT_EQ(err(n.a.sendto(n.now, fd, as_bytes("hello"), msg_fastopen, sock_addr{b_ip, 80})), EINPROGRESS);
  EXPECT_EQ(err(n.a.sendto(n.now, fd, as_bytes("hello"), msg_fastopen, sock_addr{b_ip, 80})), EALREADY);
  EXPECT_EQ(err(n.a.send(fd, as_bytes("hello"))), EAGAIN);
  n.pump();
  auto syn = last_syn(n);
  ASSERT_TRUE(syn && syn->options.fast_open);
  EXPECT_TRUE(syn->options.fast_open->request());
  EXPECT_TRUE(syn->payload.empty());
  EXPECT_TRUE(n.ha.fast_open_cookie_cached(ip_addr{b_ip}));
  EXPECT_EQ(n.hb.counters().fast_open_cookie_reqd, 1u);
  // After the handshake MSG_FASTOPEN is ignored.
  EXPECT_EQ(*n.a.sendto(n.now, fd, as_bytes("later"), msg_fastopen, sock_addr{b_ip, 80}), 5u);
  auto s1 = n.b.accept(l, sock_nonblock);
  ASSERT_TRUE(s1.has_value());
  n.pump();
  EXPECT_EQ(net::read_some(n.b, s1->fd), "later");

  // With the cookie: the SYN carries the data, which the server can read at accept.
  const int fd2 = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(*n.a.sendto(n.now, fd2, as_bytes("hello world"), msg_fastopen, sock_addr{b_ip, 80}), 11u);
  EXPECT_EQ(err(n.a.sendto(n.now, fd2, as_bytes("x"), msg_fastopen, sock_addr{b_ip, 80})), EALREADY);
  n.pump();
  EXPECT_GE(syn_data_accepted(n, l, fd2, "hello world", true), 0);
  EXPECT_EQ(n.hb.counters().fast_open_passive, 1u);
  EXPECT_EQ(n.ha.counters().fast_open_active, 1u);
  // Neither SYN_DATA nor TFO_CHILD on the first connection, whose SYN only asked for a cookie.
  EXPECT_EQ(info(n.a, fd).options & (tcpi_opt_syn_data | tcpi_opt_tfo_child), 0);
  EXPECT_EQ(info(n.b, s1->fd).options & (tcpi_opt_syn_data | tcpi_opt_tfo_child), 0);
}

TEST(posix_fast_open, fastopen_connect_defers_the_syn_to_the_first_write) {
  net n;
  const int l = tfo_listener(n);
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_fastopen_connect, 2), EINVAL);
  n.a.set_fast_open_sysctl(0);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_fastopen_connect, 1), EOPNOTSUPP);
  n.a.set_fast_open_sysctl(tfo_client_enable);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_fastopen_connect, 1), 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_fastopen_connect), 1);
  // No cookie: an ordinary non-blocking connect whose SYN asks for one.
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  n.pump();
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), 0);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_fastopen_connect, 1), EINVAL);  // connected
  ASSERT_TRUE(n.b.accept(l, sock_nonblock).has_value());

  const int fd2 = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(net::set_int(n.a, n.now, fd2, ipproto_tcp, tcp_fastopen_connect, 1), 0);
  const std::size_t sent_before = n.a_sent.size();
  EXPECT_EQ(err(n.a.connect(n.now, fd2, {b_ip, 80})), 0);  // a cookie: connect returns at once
  n.pump();
  EXPECT_EQ(n.a_sent.size(), sent_before);  // nothing sent yet
  EXPECT_EQ(revents(n.a, fd2) & out, out);   // writable: the SYN waits for a write
  EXPECT_EQ(*n.a.send(fd2, as_bytes("abc")), 3u);
  n.pump();
  const auto syn = last_syn(n);
  ASSERT_TRUE(syn && syn->options.fast_open);
  EXPECT_EQ(syn->payload.size(), 3u);
  auto s = n.b.accept(l, sock_nonblock);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(net::read_some(n.b, s->fd), "abc");
}

TEST(posix_fast_open, listener_option_and_key) {
  net n;
  n.b.set_fast_open_sysctl(tfo_client_enable | tfo_server_enable);
  const int l = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_fastopen, -1), EINVAL);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_fastopen, 3), 0);
  EXPECT_EQ(net::get_int(n.b, l, ipproto_tcp, tcp_fastopen), 3);
  const std::array<std::uint8_t, 16> key{0xf7, 0x63, 0xbf, 0xa0, 0x81, 0x3d, 0x80, 0xed,
                                         0x30, 0x1d, 0x64, 0xcd, 0x90, 0x4a, 0xbc, 0xce};
  EXPECT_EQ(err(n.b.setsockopt(n.now, l, ipproto_tcp, tcp_fastopen_key, bytes{std::as_bytes(std::span{key}).first(15)})),
            EINVAL);
  EXPECT_EQ(err(n.b.setsockopt(n.now, l, ipproto_tcp, tcp_fastopen_key, std::as_bytes(std::span{key}))), 0);
  EXPECT_EQ(err(n.b.bind(l, {b_ip, 80})), 0);
  EXPECT_EQ(err(n.b.listen(l, 8)), 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_fastopen, 2), 0);  // also in LISTEN

  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.sendto(n.now, fd, {}, msg_fastopen, sock_addr{b_ip, 80})), EINPROGRESS);
  n.pump();
  // The cookie is the key's (Linux's le64 halves of the 16 octets).
  const auto want = fast_open_cookie({0xed803d81a0bf63f7ULL, 0xcebc4a90cd641d30ULL}, ip_addr{a_ip}, ip_addr{b_ip}, false);
  ASSERT_TRUE(n.ha.fast_open_cookie_cached(ip_addr{b_ip}));
  // The client sends the cookie it was given on its next SYN: it must be the key's.
  const int fd2 = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(*n.a.sendto(n.now, fd2, as_bytes("k"), msg_fastopen, sock_addr{b_ip, 80}), 1u);
  n.pump();
  const auto syn = last_syn(n);
  ASSERT_TRUE(syn && syn->options.fast_open);
  EXPECT_EQ(*syn->options.fast_open, want);
  EXPECT_EQ(n.hb.counters().fast_open_passive, 1u);
  // Not on a connected socket.
  EXPECT_EQ(net::set_int(n.a, n.now, fd2, ipproto_tcp, tcp_fastopen, 1), EINVAL);
}

// net.ipv4.tcp_fastopen's cookie-less bits (ip-sysctl: 0x4, "send data in the opening SYN
// regardless of cookie availability and without a cookie option"; 0x200, "accept data-in-SYN
// w/o any cookie option present"), each only beside its side's enable bit.
TEST(posix_fast_open, sysctl_no_cookie_bits) {
  net n;
  n.b.set_fast_open_sysctl(tfo_client_enable | tfo_server_enable | tfo_server_cookie_not_reqd);
  const int l = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_fastopen, 4), 0);
  EXPECT_EQ(err(n.b.bind(l, {b_ip, 80})), 0);
  EXPECT_EQ(err(n.b.listen(l, 8)), 0);
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  n.a.set_fast_open_sysctl(tfo_client_no_cookie);  // without the client bit: no Fast Open
  EXPECT_EQ(err(n.a.sendto(n.now, fd, as_bytes("hello"), msg_fastopen, sock_addr{b_ip, 80})), EOPNOTSUPP);
  n.a.set_fast_open_sysctl(tfo_client_enable | tfo_client_no_cookie);
  // No cookie, none needed: the data leaves on the SYN, which carries no TFO option.
  EXPECT_EQ(*n.a.sendto(n.now, fd, as_bytes("hello"), msg_fastopen, sock_addr{b_ip, 80}), 5u);
  n.pump();
  EXPECT_GE(syn_data_accepted(n, l, fd, "hello", false), 0);
  EXPECT_EQ(n.hb.counters().fast_open_passive, 1u);
  EXPECT_EQ(n.ha.counters().fast_open_active, 1u);
  EXPECT_FALSE(n.ha.fast_open_cookie_cached(ip_addr{b_ip}));  // nothing asked, nothing cached
  // The client bit alone again: the next SYN asks for a cookie and carries no data.
  n.a.set_fast_open_sysctl(tfo_client_enable);
  const int fd2 = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(err(n.a.sendto(n.now, fd2, as_bytes("hello"), msg_fastopen, sock_addr{b_ip, 80})), EINPROGRESS);
  n.pump();
  const auto syn = last_syn(n);
  ASSERT_TRUE(syn && syn->options.fast_open);
  EXPECT_TRUE(syn->options.fast_open->request());
  EXPECT_TRUE(syn->payload.empty());
  EXPECT_EQ(n.hb.counters().fast_open_cookie_reqd, 1u);
  EXPECT_EQ(n.hb.counters().fast_open_passive, 2u);  // a request, taken without a cookie too
}

// TCP_FASTOPEN_NO_COOKIE (34): the same per socket, on a listener or before connect; an int, 0
// or 1, in CLOSE or LISTEN only (do_tcp_setsockopt: EINVAL otherwise).
TEST(posix_fast_open, no_cookie_socket_option) {
  net n;
  n.b.set_fast_open_sysctl(tfo_client_enable | tfo_server_enable);
  const int l = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::get_int(n.b, l, ipproto_tcp, tcp_fastopen_no_cookie), 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_fastopen_no_cookie, 2), EINVAL);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_fastopen_no_cookie, -1), EINVAL);
  const std::array<std::byte, 2> short_value{std::byte{1}, std::byte{0}};
  EXPECT_EQ(err(n.b.setsockopt(n.now, l, ipproto_tcp, tcp_fastopen_no_cookie, short_value)), EINVAL);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_fastopen, 4), 0);
  EXPECT_EQ(err(n.b.bind(l, {b_ip, 80})), 0);
  EXPECT_EQ(err(n.b.listen(l, 8)), 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_fastopen_no_cookie, 1), 0);  // in LISTEN
  EXPECT_EQ(net::get_int(n.b, l, ipproto_tcp, tcp_fastopen_no_cookie), 1);

  n.a.set_fast_open_sysctl(tfo_client_enable);
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_fastopen_no_cookie, 1), 0);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_fastopen_connect, 1), 0);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), 0);  // no cookie needed: the SYN waits
  EXPECT_EQ(*n.a.send(fd, as_bytes("abc")), 3u);
  n.pump();
  EXPECT_GE(syn_data_accepted(n, l, fd, "abc", false), 0);
  EXPECT_EQ(n.hb.counters().fast_open_passive, 1u);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_fastopen_no_cookie, 0), EINVAL);  // connected
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_fastopen_no_cookie), 1);
}

}  // namespace
}  // namespace synack::ptest
