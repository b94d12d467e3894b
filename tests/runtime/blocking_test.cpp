// Blocking socket calls on an event loop (runtime::blocking_sockets over posix/), between two
// loops over in-memory links: the client blocks in connect / send / recv while `each_round`
// drives the server's loop, a non-blocking echo server on its own socket table.
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
    server.run_once(duration{0});
    if (conn < 0) {
      if (auto a = st.accept(listener, sock_nonblock)) conn = a->fd;
    }
    if (conn >= 0 && !server_saw_eof) {
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

}  // namespace
}  // namespace synack
