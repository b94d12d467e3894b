// Martian sources (RFC 1122 §3.2.1.3, §4.2.3.10; RFC 9293 §3.9): a datagram from a source that
// cannot be a host on the link is dropped without an answer and counted per reason — a SYN
// from loopback, from the subnet's directed broadcast, from class E, or from this host's own
// address (LAND) never gets a SYN-ACK or a SYN-RECEIVED entry; an echo request never a reply.
#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

host_config with_prefix() {
  host_config c = default_config();
  c.prefix_len = 24;  // 192.0.2.0/24: the directed broadcast is 192.0.2.255
  return c;
}

struct martian_case {
  ipv4_addr src;
  std::uint16_t sport;
  host_drop why;
};

TEST(martian, syn_from_a_martian_source_is_dropped_and_counted) {
  const martian_case cases[] = {
      {ipv4_addr::from_octets(127, 0, 0, 1), peer_port, host_drop::martian_loopback},
      {ipv4_addr::from_octets(127, 8, 9, 10), peer_port, host_drop::martian_loopback},
      {ipv4_addr::from_octets(192, 0, 2, 255), peer_port, host_drop::martian_broadcast},
      {ipv4_addr::from_octets(240, 0, 0, 1), peer_port, host_drop::martian_class_e},
      {ipv4_addr::from_octets(254, 1, 2, 3), peer_port, host_drop::martian_class_e},
      {host_ip, host_port, host_drop::martian_own_address},  // LAND: src = dst, sport = dport
      {host_ip, peer_port, host_drop::martian_own_address},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.src.to_string());
    stack_harness t(with_prefix());
    const listener_handle l = t.listen(80, 4);
    t.feed(at_ms(1), stack_harness::tcp_packet(seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1460, .peer = k.sport}, k.src));
    t.expect_nothing(at_ms(1));
    EXPECT_EQ(t.h().half_open(l), 0u);
    EXPECT_EQ(t.h().connection_count(), 0u);
    EXPECT_EQ(t.ctr().host(k.why), 1u);
    EXPECT_EQ(t.ctr().in_segs, 0u);  // dropped at the IP layer, before TCP
    // Nor is a segment to a closed port answered with a RST.
    t.feed(at_ms(2), stack_harness::tcp_packet(seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 81}, k.src));
    t.expect_nothing(at_ms(2));
    EXPECT_EQ(t.ctr().host(k.why), 2u);
    EXPECT_EQ(t.ctr().out_rsts, 0u);
  }
}

TEST(martian, echo_request_from_a_martian_source_gets_no_reply) {
  stack_harness t(with_prefix());
  icmpv4_repr echo;
  echo.type = icmp_type::echo_request;
  echo.ident = 7;
  echo.seq_no = 1;
  t.feed(at_ms(1), stack_harness::icmp_packet(echo, ipv4_addr::from_octets(127, 0, 0, 1)));
  t.feed(at_ms(1), stack_harness::icmp_packet(echo, host_ip));
  t.feed(at_ms(1), stack_harness::icmp_packet(echo, ipv4_addr::from_octets(192, 0, 2, 255)));
  t.expect_nothing(at_ms(1));
  EXPECT_EQ(t.ctr().icmp_in_echos, 0u);
  EXPECT_EQ(t.ctr().host(host_drop::martian_loopback), 1u);
  EXPECT_EQ(t.ctr().host(host_drop::martian_own_address), 1u);
  EXPECT_EQ(t.ctr().host(host_drop::martian_broadcast), 1u);
  // The peer's echo is answered as before.
  t.feed(at_ms(2), stack_harness::icmp_packet(echo));
  auto reply = t.poll(at_ms(2));
  ASSERT_TRUE(reply && reply->icmp);
  EXPECT_EQ(reply->icmp->type, icmp_type::echo_reply);
}

TEST(martian, directed_broadcast_needs_the_prefix_and_ordinary_peers_still_connect) {
  // Without a prefix the host cannot know its subnet's broadcast address: .255 is a peer.
  stack_harness t;
  const listener_handle l = t.listen(80, 4);
  t.feed(at_ms(1), stack_harness::tcp_packet(seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1460},
                                             ipv4_addr::from_octets(192, 0, 2, 255)));
  auto synack = t.poll(at_ms(1));
  ASSERT_TRUE(synack && synack->tcp);
  EXPECT_EQ(synack->tcp->flags, tcp_flag::syn);  // the ACK bit is the presence of `ack`
  EXPECT_TRUE(synack->tcp->ack.has_value());
  // With one, the subnet's own hosts (.2, .254) still connect.
  stack_harness p(with_prefix());
  const listener_handle pl = p.listen(80, 4);
  const conn_info c = p.establish_passive(at_ms(0), pl);
  EXPECT_EQ(p.h().state(c.h), tcp_state::established);
  EXPECT_EQ(p.ctr().host(host_drop::martian_broadcast), 0u);
  (void)l;
}

}  // namespace
}  // namespace synack::stest
