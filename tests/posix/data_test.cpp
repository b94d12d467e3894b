// send/recv, shutdown, close and poll across a connection's life (tcp_sendmsg, tcp_recvmsg,
// inet_shutdown, tcp_close, tcp_poll): EAGAIN, MSG_PEEK, end of stream, half-close, reset
// (ECONNRESET then EPIPE), RST in CLOSE-WAIT (EPIPE), SO_LINGER 0 sending RST.
#include "posix/posix_harness.hpp"

namespace synack::ptest {
namespace {

struct pair_fixture : ::testing::Test {
  net n;
  int l = -1;
  int c = -1;  // a's side
  int s = -1;  // b's side
  void SetUp() override {
    l = n.b_listener();
    std::tie(c, s) = n.connected(l);
    ASSERT_GE(s, 0);
  }
};

using posix_data = pair_fixture;

TEST_F(posix_data, read_write_peek_and_eagain) {
  std::array<std::byte, 16> b{};
  EXPECT_EQ(err(n.b.recv(s, b)), EAGAIN);
  EXPECT_EQ(revents(n.b, s), out);
  EXPECT_EQ(*n.a.write(c, as_bytes("hello world")), 11u);
  n.pump();
  EXPECT_EQ(revents(n.b, s), in | out);
  auto p = n.b.recv(s, mutable_bytes{b}.first(5), msg_peek);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, 5u);
  EXPECT_EQ(std::memcmp(b.data(), "hello", 5), 0);
  EXPECT_EQ(*n.b.recv(s, mutable_bytes{b}.first(0)), 0u) << "a zero-length read";
  EXPECT_EQ(*n.b.recv(s, mutable_bytes{b}.first(6), msg_dontwait), 6u);
  EXPECT_EQ(std::memcmp(b.data(), "hello ", 6), 0) << "the peek left the bytes";
  EXPECT_EQ(net::read_some(n.b, s), "world");
  EXPECT_EQ(err(n.b.recv(s, b)), EAGAIN);
  EXPECT_EQ(revents(n.b, s), out);
  // MSG_OOB sends urgent data, read inline on the other side (urgent_remaining counts it).
  EXPECT_EQ(*n.b.send(s, as_bytes("x"), msg_oob), 1u);
  n.pump();
  EXPECT_EQ(err(n.a.recv(c, b, msg_oob)), EINVAL);
  EXPECT_EQ(net::read_some(n.a, c), "x");
  EXPECT_EQ(err(n.b.recv(s, b, msg_oob)), EINVAL);
}

TEST_F(posix_data, full_send_buffer_is_eagain_and_not_writable) {
  const int x = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(net::set_int(n.a, n.now, x, sol_socket, so_sndbuf, 2304), 0);
  EXPECT_EQ(net::get_int(n.a, x, sol_socket, so_sndbuf), 4608);
  EXPECT_EQ(err(n.a.connect(n.now, x, {b_ip, 80})), EINPROGRESS);
  n.pump();
  EXPECT_EQ(err(n.a.connect(n.now, x, {b_ip, 80})), 0);
  const std::string big(10000, 'z');
  auto w = n.a.send(x, as_bytes(big));
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(*w, 2304u) << "a partial write: the buffer holds half of SO_SNDBUF";
  EXPECT_EQ(err(n.a.send(x, as_bytes(big))), EAGAIN);
  EXPECT_EQ(revents(n.a, x), 0);
}

TEST_F(posix_data, end_of_stream_and_half_close) {
  EXPECT_EQ(err(n.a.shutdown(n.now, c, shut_wr)), 0);
  EXPECT_EQ(revents(n.a, c), out) << "SEND_SHUTDOWN still polls writable";
  EXPECT_EQ(err(n.a.send(c, as_bytes("x"))), EPIPE);
  EXPECT_EQ(err(n.a.shutdown(n.now, c, shut_wr)), 0) << "again: nothing to do";
  n.pump();
  EXPECT_EQ(revents(n.b, s), in | out | pollrdhup);
  std::array<std::byte, 8> b{};
  EXPECT_EQ(*n.b.recv(s, b), 0u);
  EXPECT_EQ(*n.b.recv(s, b), 0u) << "end of stream stays";
  // The other direction still carries data.
  EXPECT_EQ(*n.b.send(s, as_bytes("bye")), 3u);
  n.pump();
  EXPECT_EQ(net::read_some(n.a, c), "bye");
  EXPECT_EQ(err(n.b.shutdown(n.now, s, shut_wr)), 0);
  n.pump();
  EXPECT_EQ(revents(n.a, c), in | out | pollhup | pollrdhup) << "both directions closed";
  EXPECT_EQ(revents(n.b, s), in | out | pollhup | pollrdhup);
  EXPECT_EQ(*n.a.recv(c, b), 0u);
  EXPECT_EQ(net::get_int(n.a, c, sol_socket, so_error), 0);
  EXPECT_EQ(err(n.a.getpeername(c)), ENOTCONN) << "CLOSE as far as the socket knows (TIME-WAIT)";
  EXPECT_EQ(err(n.a.shutdown(n.now, c, shut_rdwr)), ENOTCONN);
}

TEST_F(posix_data, shut_rd_reads_zero_yet_data_still_arrives) {
  EXPECT_EQ(err(n.b.shutdown(n.now, s, shut_rd)), 0);
  EXPECT_EQ(revents(n.b, s), in | out | pollrdhup);
  std::array<std::byte, 8> b{};
  EXPECT_EQ(*n.b.recv(s, b), 0u);
  EXPECT_EQ(*n.a.send(c, as_bytes("late")), 4u);
  n.pump();
  EXPECT_EQ(net::read_some(n.b, s), "late");
  EXPECT_EQ(err(n.b.shutdown(n.now, s, shut_wr)), 0);
  EXPECT_EQ(revents(n.b, s), in | out | pollhup | pollrdhup) << "SHUTDOWN_MASK";
}

// SO_LINGER {1, 0}: close() aborts with <SEQ=SND.NXT><CTL=RST> (RFC 9293 §3.10.5).
TEST_F(posix_data, linger_zero_close_sends_rst_then_econnreset_then_epipe) {
  EXPECT_EQ(*n.a.send(c, as_bytes("abc")), 3u);
  n.pump();
  const linger_opt lg{1, 0};
  ASSERT_EQ(err(n.a.setsockopt(n.now, c, sol_socket, so_linger, opt_bytes(lg))), 0);
  const auto before = n.a_segments().size();
  const connection* k = n.ha.find(*n.a.connection_of(c));
  ASSERT_NE(k, nullptr);
  const seq_num snd_nxt = k->snd().nxt;
  EXPECT_EQ(err(n.a.close(n.now, c)), 0);
  n.pump();
  const auto segs = n.a_segments();
  ASSERT_EQ(segs.size(), before + 1);
  const tcp_repr& rst = segs.back();
  EXPECT_EQ(rst.wire_flags(), tcp_flag::rst) << "RST alone, no ACK";
  EXPECT_EQ(rst.seq, snd_nxt);
  EXPECT_TRUE(rst.payload.empty());
  EXPECT_EQ(n.ha.connection_count(), 0u);
  EXPECT_EQ(n.ha.time_wait_count(), 0u) << "no TIME-WAIT after an abort";
  // b: unread "abc" is still there; then the reset.
  EXPECT_EQ(revents(n.b, s), in | out | pollerr | pollhup | pollrdhup);
  std::array<std::byte, 8> b{};
  EXPECT_EQ(err(n.b.recv(s, b)), ECONNRESET) << "RFC 9293 §3.10.7.4: a reset flushes the queues";
  EXPECT_EQ(*n.b.recv(s, b), 0u);
  EXPECT_EQ(err(n.b.send(s, as_bytes("x"))), EPIPE);
  EXPECT_EQ(err(n.b.shutdown(n.now, s, shut_rdwr)), ENOTCONN);
}

TEST_F(posix_data, reset_seen_first_by_send) {
  const linger_opt lg{1, 0};
  ASSERT_EQ(err(n.a.setsockopt(n.now, c, sol_socket, so_linger, opt_bytes(lg))), 0);
  EXPECT_EQ(err(n.a.close(n.now, c)), 0);
  n.pump();
  EXPECT_EQ(err(n.b.send(s, as_bytes("x"))), ECONNRESET);
  EXPECT_EQ(err(n.b.send(s, as_bytes("x"))), EPIPE);
  std::array<std::byte, 8> b{};
  EXPECT_EQ(*n.b.recv(s, b), 0u);
  EXPECT_EQ(revents(n.b, s), in | out | pollhup | pollrdhup);
}

TEST_F(posix_data, reset_in_close_wait_is_epipe) {
  EXPECT_EQ(err(n.a.shutdown(n.now, c, shut_wr)), 0);
  n.pump();  // b is in CLOSE-WAIT
  const linger_opt lg{1, 0};
  ASSERT_EQ(err(n.a.setsockopt(n.now, c, sol_socket, so_linger, opt_bytes(lg))), 0);
  EXPECT_EQ(err(n.a.close(n.now, c)), 0);
  n.pump();
  EXPECT_EQ(net::get_int(n.b, s, sol_socket, so_error), EPIPE) << "tcp_reset() in CLOSE-WAIT";
}

TEST_F(posix_data, close_with_unread_data_resets) {
  EXPECT_EQ(*n.a.send(c, as_bytes("unread")), 6u);
  n.pump();
  const auto before = n.a_segments().size();
  EXPECT_EQ(err(n.b.close(n.now, s)), 0);
  n.pump();
  EXPECT_EQ(n.a_segments().size(), before) << "a sends nothing back to a RST";
  EXPECT_EQ(net::get_int(n.a, c, sol_socket, so_error), ECONNRESET);
}

TEST_F(posix_data, orderly_close_leaves_time_wait_on_the_closer) {
  EXPECT_EQ(err(n.a.close(n.now, c)), 0);
  n.pump();
  std::array<std::byte, 8> b{};
  EXPECT_EQ(*n.b.recv(s, b), 0u);
  EXPECT_EQ(err(n.b.close(n.now, s)), 0);
  n.pump();
  EXPECT_EQ(n.ha.time_wait_count(), 1u);
  EXPECT_EQ(n.hb.connection_count(), 0u);
  EXPECT_EQ(n.a.open_count(), 0u);
  EXPECT_EQ(n.b.open_count(), 1u);  // the listener
}

TEST(posix_poll, nval_negative_and_masking) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream, 0);
  std::array<poll_fd, 3> p{poll_fd{fd, pollin, 0}, poll_fd{-1, pollin, 7}, poll_fd{77, pollin, 0}};
  EXPECT_EQ(n.a.poll(p), 2);
  EXPECT_EQ(p[0].revents, pollhup) << "POLLOUT was not asked for; POLLHUP always reported";
  EXPECT_EQ(p[1].revents, 0);
  EXPECT_EQ(p[2].revents, pollnval);
}

TEST(posix_poll, rdhup_only_when_asked) {
  net n;
  const int l = n.b_listener();
  auto [c, s] = n.connected(l);
  EXPECT_EQ(err(n.a.shutdown(n.now, c, shut_wr)), 0);
  n.pump();
  poll_fd p{s, pollin, 0};
  EXPECT_EQ(n.b.poll(std::span{&p, 1}), 1);
  EXPECT_EQ(p.revents, pollin);
}

}  // namespace
}  // namespace synack::ptest
