// SYNACK_ANY_ADDRESS (issue #15): a listening socket that takes connections to destinations
// that are not its host's, as a transparent proxy's; getsockname on the accepted socket is the
// original destination. Host a connects to 203.0.113.7 and the net hands its packets to b.
#include "posix/posix_harness.hpp"

namespace synack::ptest {
namespace {

constexpr ipv4_addr far_ip = ipv4_addr::from_octets(203, 0, 113, 7);

int any_listener(net& n, std::optional<std::uint16_t> port) {
  const int l = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, sol_synack, synack_any_address, 1), 0);
  EXPECT_EQ(net::get_int(n.b, l, sol_synack, synack_any_address), 1);
  if (port) {
    EXPECT_EQ(err(n.b.bind(l, {ipv4_addr{}, *port})), 0);
  }
  EXPECT_EQ(err(n.b.listen(l, 4)), 0);
  return l;
}

TEST(posix_any_address, accepted_socket_names_the_original_destination) {
  net n;
  const int l = any_listener(n, std::nullopt);
  EXPECT_EQ(*n.b.getsockname(l), (sock_addr{ipv4_addr{}, 0, af_inet}));  // every port
  const int c = *n.a.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(err(n.a.connect(n.now, c, {far_ip, 443})), EINPROGRESS);
  n.pump();
  EXPECT_EQ(err(n.a.connect(n.now, c, {far_ip, 443})), 0);
  auto acc = n.b.accept(l);
  ASSERT_TRUE(acc.has_value());
  EXPECT_EQ(*n.b.getsockname(acc->fd), (sock_addr{far_ip, 443, af_inet}));
  EXPECT_EQ(acc->peer, *n.a.getsockname(c));
  ASSERT_EQ(*n.b.send(acc->fd, as_bytes("hello")), 5u);
  n.pump();
  EXPECT_EQ(net::read_some(n.a, c), "hello");
}

TEST(posix_any_address, a_bound_port_limits_it_and_the_option_is_set_before_listen) {
  net n;
  const int l = any_listener(n, std::uint16_t{443});
  EXPECT_EQ(net::set_int(n.b, n.now, l, sol_synack, synack_any_address, 0), EINVAL);
  const int c = *n.a.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(err(n.a.connect(n.now, c, {far_ip, 80})), EINPROGRESS);
  n.pump();  // refused: RST from 203.0.113.7:80
  EXPECT_EQ(err(n.a.connect(n.now, c, {far_ip, 80})), ECONNREFUSED);
  // A second any-address listener of the family is refused.
  const int l2 = *n.b.socket(af_inet, sock_stream, 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l2, sol_synack, synack_any_address, 1), 0);
  EXPECT_EQ(err(n.b.listen(l2, 4)), EADDRINUSE);
}

}  // namespace
}  // namespace synack::ptest
