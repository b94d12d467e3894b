// SO_ZEROCOPY and MSG_ZEROCOPY as Linux has them (Documentation/networking/msg_zerocopy.rst):
// each send call that queued data gets the next id; once its octets are acknowledged (or the
// connection is gone) a completion for it goes on the socket's error queue, consecutive ids
// merged into one entry, read with recvmsg(MSG_ERRQUEUE) and signalled by POLLERR. synack
// copies the data, so every completion says SO_EE_CODE_ZEROCOPY_COPIED.
#include <time.h>  // linux/errqueue.h needs struct timespec

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

#include "posix/posix_harness.hpp"

namespace synack::ptest {
namespace {

static_assert(so_zerocopy == SO_ZEROCOPY && msg_zerocopy == MSG_ZEROCOPY && msg_errqueue == MSG_ERRQUEUE);
static_assert(ip_recverr == IP_RECVERR && ipv6_recverr == IPV6_RECVERR);
static_assert(so_ee_origin_zerocopy == SO_EE_ORIGIN_ZEROCOPY && so_ee_code_zerocopy_copied == SO_EE_CODE_ZEROCOPY_COPIED);
static_assert(sizeof(sock_extended_err_data) == sizeof(sock_extended_err));
static_assert(offsetof(sock_extended_err_data, ee_info) == offsetof(sock_extended_err, ee_info));
static_assert(offsetof(sock_extended_err_data, ee_data) == offsetof(sock_extended_err, ee_data));

using std::chrono::milliseconds;

TEST(posix_zerocopy, option_is_a_boolean_inherited_by_accepted_sockets) {
  net n;
  const int l = n.b_listener();
  EXPECT_EQ(net::get_int(n.b, l, sol_socket, so_zerocopy), 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, sol_socket, so_zerocopy, 2), EINVAL);
  EXPECT_EQ(net::set_int(n.b, n.now, l, sol_socket, so_zerocopy, -1), EINVAL);
  EXPECT_EQ(net::set_int(n.b, n.now, l, sol_socket, so_zerocopy, 1), 0);
  EXPECT_EQ(net::get_int(n.b, l, sol_socket, so_zerocopy), 1);
  auto [c, s] = n.connected(l);
  EXPECT_EQ(net::get_int(n.b, s, sol_socket, so_zerocopy), 1);
  EXPECT_EQ(net::get_int(n.a, c, sol_socket, so_zerocopy), 0);
}

TEST(posix_zerocopy, completions_follow_the_acks_and_merge_consecutive_ids) {
  net n;
  const int l = n.b_listener();
  auto [c, s] = n.connected(l);
  ASSERT_EQ(net::set_int(n.a, n.now, c, sol_socket, so_zerocopy, 1), 0);
  EXPECT_EQ(err(n.a.recv_error(c)), EAGAIN) << "nothing sent yet";
  // Three sends held unacknowledged (b hears nothing): no completion, no POLLERR.
  n.drop_a_to_b = true;
  const std::string data(1000, 'z');
  for (int i = 0; i < 3; ++i) ASSERT_EQ(*n.a.send(c, as_bytes(data), msg_zerocopy), data.size());
  // An empty send takes no id.
  ASSERT_EQ(*n.a.send(c, bytes{}, msg_zerocopy), 0u);
  n.pump();
  EXPECT_EQ(revents(n.a, c) & pollerr, 0);
  EXPECT_EQ(err(n.a.recv_error(c)), EAGAIN);
  // Delivered and acknowledged: ids 0..2 in one entry.
  n.drop_a_to_b = false;
  n.run_until(n.now + std::chrono::seconds(3));
  EXPECT_EQ(net::read_some(n.b, s).size(), 3000u);
  EXPECT_NE(revents(n.a, c) & pollerr, 0);
  auto e = n.a.recv_error(c);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->err.ee_errno, 0u);
  EXPECT_EQ(e->err.ee_origin, so_ee_origin_zerocopy);
  EXPECT_EQ(e->err.ee_code, so_ee_code_zerocopy_copied);
  EXPECT_EQ(e->err.ee_info, 0u);
  EXPECT_EQ(e->err.ee_data, 2u);
  EXPECT_EQ(e->cmsg_level, ipproto_ip);
  EXPECT_EQ(e->cmsg_type, ip_recverr);
  EXPECT_EQ(revents(n.a, c) & pollerr, 0) << "the queue is empty again";
  EXPECT_EQ(net::get_int(n.a, c, sol_socket, so_error), 0) << "a completion is not an error";
  // Without MSG_ZEROCOPY, or without SO_ZEROCOPY, a send takes no id.
  ASSERT_EQ(*n.a.send(c, as_bytes(data)), data.size());
  n.run_until(n.now + std::chrono::seconds(1));
  EXPECT_EQ(err(n.a.recv_error(c)), EAGAIN);
  ASSERT_EQ(*n.a.send(c, as_bytes(data), msg_zerocopy), data.size());
  n.run_until(n.now + std::chrono::seconds(1));
  // recv(MSG_ERRQUEUE) takes the entry (id 3) with no octets.
  std::array<std::byte, 16> buf{};
  auto r = n.a.recv(c, buf, msg_errqueue);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(err(n.a.recv(c, buf, msg_errqueue)), EAGAIN);
  EXPECT_EQ(net::get_int(n.b, s, sol_socket, so_zerocopy), 0);
  EXPECT_EQ(*n.b.send(s, as_bytes(data), msg_zerocopy), data.size()) << "ignored without SO_ZEROCOPY";
  n.run_until(n.now + std::chrono::seconds(1));
  EXPECT_EQ(err(n.b.recv_error(s)), EAGAIN);
}

TEST(posix_zerocopy, a_reset_connection_completes_what_it_held) {
  net n;
  const int l = n.b_listener();
  auto [c, s] = n.connected(l);
  ASSERT_EQ(net::set_int(n.a, n.now, c, sol_socket, so_zerocopy, 1), 0);
  n.drop_a_to_b = true;
  ASSERT_EQ(*n.a.send(c, as_bytes("held"), msg_zerocopy), 4u);
  ASSERT_EQ(*n.a.send(c, as_bytes("held"), msg_zerocopy), 4u);
  n.pump();
  EXPECT_EQ(err(n.a.recv_error(c)), EAGAIN);
  n.drop_a_to_b = false;
  ASSERT_EQ(err(n.b.close(n.now, s)), 0);  // unread data: b resets
  (void)n.b.close(n.now, l);
  n.pump();
  n.run_until(n.now + milliseconds(500));
  auto e = n.a.recv_error(c);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->err.ee_info, 0u);
  EXPECT_EQ(e->err.ee_data, 1u);
}

TEST(posix_zerocopy, ipv6_sockets_get_the_ipv6_control_message) {
  host_config ca = config_for(a_ip);
  host_config cb = config_for(b_ip);
  net n{ca, cb};
  const int l = *n.b.socket(af_inet6, sock_stream, 0);
  ASSERT_EQ(err(n.b.bind(l, sock_addr{ip_addr{ipv6_addr{}}, 80, af_inet6})), 0);
  ASSERT_EQ(err(n.b.listen(l, 8)), 0);
  ASSERT_EQ(net::set_int(n.b, n.now, l, sol_socket, so_zerocopy, 1), 0);
  auto [c, s] = n.connected(l);
  ASSERT_EQ(*n.b.send(s, as_bytes("v6 socket, v4 peer"), msg_zerocopy), 18u);
  n.run_until(n.now + milliseconds(500));
  auto e = n.b.recv_error(s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->cmsg_level, ipproto_ipv6);
  EXPECT_EQ(e->cmsg_type, ipv6_recverr);
  (void)c;
}

// A datagram is copied into the host's queue when sent: its completion is there at once.
TEST(posix_zerocopy, a_datagram_send_completes_at_once) {
  net n;
  const int u = *n.a.socket(af_inet, sock_dgram | sock_nonblock, 0);
  ASSERT_EQ(net::set_int(n.a, n.now, u, sol_socket, so_zerocopy, 1), 0);
  ASSERT_EQ(*n.a.sendto(n.now, u, as_bytes("one"), msg_zerocopy, sock_addr{b_ip, 53}), 3u);
  ASSERT_EQ(*n.a.sendto(n.now, u, bytes{}, msg_zerocopy, sock_addr{b_ip, 53}), 0u);
  ASSERT_EQ(*n.a.sendto(n.now, u, as_bytes("two"), msg_zerocopy, sock_addr{b_ip, 53}), 3u);
  EXPECT_NE(revents(n.a, u) & pollerr, 0);
  auto e = n.a.recv_error(u);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->err.ee_info, 0u);
  EXPECT_EQ(e->err.ee_data, 1u) << "the empty datagram took no id";
  EXPECT_EQ(err(n.a.recv_error(u)), EAGAIN);
  EXPECT_EQ(revents(n.a, u) & pollerr, 0);
}

}  // namespace
}  // namespace synack::ptest
