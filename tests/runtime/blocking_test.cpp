// Blocking socket calls on an event loop (runtime::blocking_sockets over posix/), between two
// loops over in-memory links: the client blocks in connect / send / recv while `each_round`
// drives the server's loop, a non-blocking echo server on its own socket table. The loops run
// on the real clock: SO_RCVTIMEO / SO_SNDTIMEO and linger times of tens of milliseconds (one
// second for SO_LINGER, whose unit is the second) bound every wait here.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "synack/io/link/memory_link.hpp"
#include "synack/runtime/blocking.hpp"

namespace synack {
namespace {

using namespace synack::posix;  // NOLINT: reads like C

constexpr ipv4_addr server_ip = ipv4_addr::from_octets(10, 0, 0, 1);
constexpr ipv4_addr client_ip = ipv4_addr::from_octets(10, 0, 0, 2);

host_config config_for(ipv4_addr a) {
  host_config c;
  c.addr = a;
  return c;
}

struct echo_world {
  std::pair<std::unique_ptr<io::memory_link>, std::unique_ptr<io::memory_link>> links = io::memory_link::make_pair();
  runtime::event_loop server{*links.first, config_for(server_ip)};
  runtime::event_loop client{*links.second, config_for(client_ip)};
  socket_table st{server.host()};
  socket_table ct{client.host()};
  int listener = -1;
  int conn = -1;
  bool server_saw_eof = false;
  bool frozen = false;   // the server's loop stops: nothing it is sent is answered
  bool reading = true;   // the server reads (and echoes) what comes
  int rounds = 0;

  echo_world() {
    listener = *st.socket(af_inet, sock_stream | sock_nonblock, 0);
    EXPECT_TRUE(st.bind(listener, {server_ip, 7}).has_value());
    EXPECT_TRUE(st.listen(listener, 4).has_value());
  }
  // One round of the server: accept, echo what came, close after the client's FIN.
  void step() {
    if (++rounds > 100000) {
      ADD_FAILURE() << "the blocking call never returned";
      std::abort();
    }
    if (frozen) return;
    server.run_once(duration{0});
    if (conn < 0) {
      if (auto a = st.accept(listener, sock_nonblock)) conn = a->fd;
    }
    if (conn >= 0 && !server_saw_eof && reading) {
      std::array<std::byte, 512> buf{};
      for (;;) {
        auto n = st.recv(conn, buf);
        if (!n) break;
        if (*n == 0) {
          server_saw_eof = true;
          (void)st.close(server.now(), conn);
          break;
        }
        (void)st.send(conn, bytes{buf.data(), *n});
      }
    }
    server.run_once(duration{0});
  }
};

TEST(blocking_sockets, connect_send_recv_shutdown_over_the_loop) {
  echo_world w;
  runtime::blocking_sockets b{w.client, w.ct, std::chrono::milliseconds(1), [&] { w.step(); }};
  const int fd = *w.ct.socket(af_inet, sock_stream, 0);  // a blocking socket
  ASSERT_EQ(b.connect(fd, {server_ip, 7}).has_value(), true);
  EXPECT_EQ(w.ct.connect(w.client.now(), fd, {server_ip, 7}).error(), EISCONN);
  const std::string msg = "blocking hello";
  auto sent = b.send(fd, std::as_bytes(std::span{msg.data(), msg.size()}));
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(*sent, msg.size());
  std::string got(msg.size(), '\0');
  auto n = b.recv(fd, std::as_writable_bytes(std::span{got.data(), got.size()}), msg_waitall);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, msg.size());
  EXPECT_EQ(got, msg);
  ASSERT_TRUE(b.shutdown(fd, shut_wr).has_value());
  std::array<std::byte, 8> rest{};
  auto eof = b.recv(fd, rest);  // blocks until the server, having seen our FIN, closes
  ASSERT_TRUE(eof.has_value());
  EXPECT_EQ(*eof, 0u);
  EXPECT_TRUE(w.server_saw_eof);
  EXPECT_TRUE(b.close(fd).has_value());
}

TEST(blocking_sockets, connect_to_a_closed_port_is_refused) {
  echo_world w;
  runtime::blocking_sockets b{w.client, w.ct, std::chrono::milliseconds(1), [&] { w.step(); }};
  const int fd = *w.ct.socket(af_inet, sock_stream, 0);
  auto r = b.connect(fd, {server_ip, 9});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), ECONNREFUSED);
}

TEST(blocking_sockets, nonblocking_socket_and_dontwait_return_at_once) {
  echo_world w;
  runtime::blocking_sockets b{w.client, w.ct, std::chrono::milliseconds(1), [&] { w.step(); }};
  const int fd = *w.ct.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(b.connect(fd, {server_ip, 7}).error(), EINPROGRESS);
  std::array<std::byte, 8> buf{};
  EXPECT_EQ(b.recv(fd, buf).error(), EAGAIN);
  ASSERT_TRUE(w.ct.set_nonblocking(fd, false).has_value());
  EXPECT_EQ(b.recv(fd, buf, msg_dontwait).error(), EAGAIN);
  // poll with a timeout: POLLOUT once the handshake is done.
  poll_fd p{fd, pollout, 0};
  auto ready = b.poll(std::span{&p, 1}, 5000);
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(*ready, 1);
  EXPECT_EQ(p.revents, pollout);
  // Nothing to read: a short poll times out with 0.
  poll_fd q{fd, pollin, 0};
  EXPECT_EQ(*b.poll(std::span{&q, 1}, 20), 0);
}

using std::chrono::milliseconds;

int set_timeo(socket_table& t, int fd, int name, duration d);

// A blocking datagram socket: recvfrom waits for the server's echo (a non-blocking UDP socket
// of the server's table answering in each round), and with SO_RCVTIMEO gives up with EAGAIN.
TEST(blocking_sockets, datagram_recvfrom_waits_for_the_echo) {
  echo_world w;
  const int us = *w.st.socket(af_inet, sock_dgram | sock_nonblock, 0);
  ASSERT_TRUE(w.st.bind(us, {server_ip, 7}).has_value());
  int echoed = 0;
  runtime::blocking_sockets b{w.client, w.ct, milliseconds(1), [&] {
                                w.step();
                                std::array<std::byte, 64> buf{};
                                while (auto r = w.st.recvfrom(us, buf)) {
                                  (void)w.st.sendto(w.server.now(), us, bytes{buf.data(), r->len}, 0, r->from);
                                  ++echoed;
                                }
                                w.server.run_once(duration{0});
                              }};
  const int fd = *w.ct.socket(af_inet, sock_dgram, 0);  // a blocking one
  const std::string msg = "ping";
  auto sent = b.sendto(fd, std::as_bytes(std::span{msg.data(), msg.size()}), 0, sock_addr{server_ip, 7});
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(*sent, 4u);
  std::array<std::byte, 16> got{};
  auto r = b.recvfrom(fd, got);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->len, 4u);
  EXPECT_EQ(r->from, (sock_addr{server_ip, 7, af_inet}));
  EXPECT_EQ(echoed, 1);
  ASSERT_EQ(set_timeo(w.ct, fd, so_rcvtimeo, milliseconds(20)), 0);
  EXPECT_EQ(b.recvfrom(fd, got).error(), EAGAIN) << "nothing more comes";
}

int set_timeo(socket_table& t, int fd, int name, duration d) {
  const auto us = d.count();
  const timeval_opt tv{us / 1'000'000, us % 1'000'000};
  auto r = t.setsockopt(instant::zero(), fd, sol_socket, name, std::as_bytes(std::span{&tv, 1}));
  return r ? 0 : r.error();
}

// A blocking client connected to the echo server.
struct client {
  echo_world w;
  runtime::blocking_sockets b{w.client, w.ct, milliseconds(1), [this] { w.step(); }};
  int fd = *w.ct.socket(af_inet, sock_stream, 0);
  client() { EXPECT_TRUE(b.connect(fd, {server_ip, 7}).has_value()); }
  [[nodiscard]] four_tuple tuple() const { return w.client.host().find(*w.ct.connection_of(fd))->tuple(); }
};

TEST(blocking_timeouts, recv_with_nothing_to_read_is_eagain_after_so_rcvtimeo) {
  client c;
  ASSERT_EQ(set_timeo(c.w.ct, c.fd, so_rcvtimeo, milliseconds(50)), 0);
  std::array<std::byte, 8> buf{};
  const instant start = c.w.client.now();
  auto r = c.b.recv(c.fd, buf);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), EAGAIN);
  EXPECT_GE(c.w.client.now() - start, milliseconds(50)) << "returned before the time ran out";
  EXPECT_EQ(c.w.client.host().state(*c.w.ct.connection_of(c.fd)), tcp_state::established);
}

TEST(blocking_timeouts, recv_waitall_returns_what_came_when_the_time_runs_out) {
  client c;
  ASSERT_EQ(set_timeo(c.w.ct, c.fd, so_rcvtimeo, milliseconds(50)), 0);
  const std::string msg = "abc";
  const auto sent = c.b.send(c.fd, std::as_bytes(std::span{msg.data(), msg.size()}));
  ASSERT_TRUE(sent.has_value());
  ASSERT_EQ(*sent, 3u);
  std::string got(10, '\0');
  auto r = c.b.recv(c.fd, std::as_writable_bytes(std::span{got.data(), got.size()}), msg_waitall);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 3u);
  EXPECT_EQ(got.substr(0, 3), msg);
}

TEST(blocking_timeouts, negative_tv_sec_never_waits) {
  client c;
  const timeval_opt tv{-1, 0};
  ASSERT_TRUE(c.w.ct.setsockopt(instant::zero(), c.fd, sol_socket, so_rcvtimeo, std::as_bytes(std::span{&tv, 1})).has_value());
  std::array<std::byte, 8> buf{};
  const int rounds = c.w.rounds;
  EXPECT_EQ(c.b.recv(c.fd, buf).error(), EAGAIN);
  EXPECT_EQ(c.w.rounds, rounds) << "not one round of the loop";
}

TEST(blocking_timeouts, accept_with_nobody_connecting_is_eagain) {
  echo_world w;
  runtime::blocking_sockets b{w.client, w.ct, milliseconds(1), [&] { w.step(); }};
  const int l = *w.ct.socket(af_inet, sock_stream, 0);
  ASSERT_TRUE(w.ct.bind(l, {client_ip, 8000}).has_value());
  ASSERT_TRUE(w.ct.listen(l, 4).has_value());
  ASSERT_EQ(set_timeo(w.ct, l, so_rcvtimeo, milliseconds(30)), 0);
  EXPECT_EQ(b.accept(l).error(), EAGAIN);
  EXPECT_GT(w.rounds, 0);
}

// SO_SNDTIMEO bounds connect: EINPROGRESS and the SYN goes on (Linux's inet_wait_for_connect).
TEST(blocking_timeouts, connect_to_a_silent_peer_is_einprogress_after_so_sndtimeo) {
  echo_world w;
  w.frozen = true;
  runtime::blocking_sockets b{w.client, w.ct, milliseconds(1), [&] { w.step(); }};
  const int fd = *w.ct.socket(af_inet, sock_stream, 0);
  ASSERT_EQ(set_timeo(w.ct, fd, so_sndtimeo, milliseconds(40)), 0);
  EXPECT_EQ(b.connect(fd, {server_ip, 7}).error(), EINPROGRESS);
  EXPECT_EQ(w.client.host().state(*w.ct.connection_of(fd)), tcp_state::syn_sent);
  EXPECT_EQ(w.ct.connect(w.client.now(), fd, {server_ip, 7}).error(), EALREADY);
}

// The server stops reading: its window and our send buffer fill; send returns the partial
// count when SO_SNDTIMEO runs out, and EAGAIN when nothing more fits in the time.
TEST(blocking_timeouts, send_into_a_full_pipe_returns_the_partial_count_then_eagain) {
  client c;
  c.w.reading = false;
  ASSERT_EQ(set_timeo(c.w.ct, c.fd, so_sndtimeo, milliseconds(50)), 0);
  const std::vector<std::byte> big(4 << 20);
  auto first = c.b.send(c.fd, big);
  ASSERT_TRUE(first.has_value());
  EXPECT_GT(*first, 0u);
  EXPECT_LT(*first, big.size());
  // ACKs of what was in flight may free a little more for a call or two; then the server's
  // window is shut and a call moves nothing in its time.
  int calls = 0;
  sys_result<std::size_t> next = c.b.send(c.fd, big);
  while (next.has_value() && ++calls < 20) {
    EXPECT_LT(*next, big.size());
    next = c.b.send(c.fd, big);
  }
  ASSERT_FALSE(next.has_value()) << "the pipe never filled";
  EXPECT_EQ(next.error(), EAGAIN);
}

// SO_LINGER {1, 5} on a blocking socket: close returns once the FIN is acknowledged.
TEST(blocking_linger, close_waits_until_the_fin_is_acknowledged) {
  client c;
  const four_tuple t = c.tuple();
  const linger_opt lg{1, 5};
  ASSERT_TRUE(c.w.ct.setsockopt(instant::zero(), c.fd, sol_socket, so_linger, std::as_bytes(std::span{&lg, 1})).has_value());
  const int rounds = c.w.rounds;
  ASSERT_TRUE(c.b.close(c.fd).has_value());
  EXPECT_GT(c.w.rounds, rounds);
  // FIN-WAIT-2, or TIME-WAIT (the server closed on our FIN): a full TCB or the compact record.
  const host& h = c.w.client.host();
  const connection* k = h.lookup(t);
  if (k == nullptr) {
    EXPECT_NE(h.lookup_time_wait(t), nullptr) << "the connection is gone: it was reset, not closed";
  } else {
    EXPECT_TRUE(k->state() == tcp_state::fin_wait_2 || k->state() == tcp_state::time_wait) << to_string(k->state());
  }
}

TEST(blocking_linger, without_linger_close_returns_at_once) {
  client c;
  const four_tuple t = c.tuple();
  const int rounds = c.w.rounds;
  ASSERT_TRUE(c.b.close(c.fd).has_value());
  EXPECT_EQ(c.w.rounds, rounds);
  ASSERT_NE(c.w.client.host().lookup(t), nullptr);
  EXPECT_EQ(c.w.client.host().lookup(t)->state(), tcp_state::fin_wait_1);
}

// Linux's inet_release lingers whatever O_NONBLOCK says: a non-blocking socket waits too.
TEST(blocking_linger, nonblocking_socket_waits_as_on_linux) {
  client c;
  const four_tuple t = c.tuple();
  const linger_opt lg{1, 5};
  ASSERT_TRUE(c.w.ct.setsockopt(instant::zero(), c.fd, sol_socket, so_linger, std::as_bytes(std::span{&lg, 1})).has_value());
  ASSERT_TRUE(c.w.ct.set_nonblocking(c.fd, true).has_value());
  const int rounds = c.w.rounds;
  ASSERT_TRUE(c.b.close(c.fd).has_value());
  EXPECT_GT(c.w.rounds, rounds);
  const connection* k = c.w.client.host().lookup(t);
  if (k != nullptr) {
    EXPECT_NE(k->state(), tcp_state::fin_wait_1) << "close returned with the FIN unacknowledged";
  }
}

// The peer is gone silent: close gives up after l_linger (1 s), returns 0, and the FIN goes on
// being retransmitted in the background.
TEST(blocking_linger, close_gives_up_after_the_linger_time) {
  client c;
  const four_tuple t = c.tuple();
  c.w.frozen = true;
  const linger_opt lg{1, 1};
  ASSERT_TRUE(c.w.ct.setsockopt(instant::zero(), c.fd, sol_socket, so_linger, std::as_bytes(std::span{&lg, 1})).has_value());
  const instant start = c.w.client.now();
  ASSERT_TRUE(c.b.close(c.fd).has_value());
  EXPECT_GE(c.w.client.now() - start, std::chrono::seconds(1));
  ASSERT_NE(c.w.client.host().lookup(t), nullptr);
  EXPECT_EQ(c.w.client.host().lookup(t)->state(), tcp_state::fin_wait_1);
}

}  // namespace
}  // namespace synack
