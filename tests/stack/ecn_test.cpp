// RFC 3168 at the host over IPv4: the ECN field of a received packet (the TOS octet's low two
// bits) reaches its connection, and the connection's ECT(0) reaches the TOS octet of what it
// sends, beside the DSCP the socket set (IP_TOS). The IPv6 Traffic Class: ipv6_test.cpp.
#include <gtest/gtest.h>

#include <vector>

#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

// A packet from the peer whose TOS octet carries ECN codepoint `e`.
std::vector<std::byte> with_mark(const seg& s, ecn_codepoint e) {
  auto p = stack_harness::tcp_packet(s);
  p[1] = std::byte{with_ecn(std::to_integer<std::uint8_t>(p[1]), e)};
  stack_harness::fix_ip_checksum(p);
  return p;
}

struct ecn_peer {
  stack_harness t;
  listener_handle l;
  conn_handle c;
  seq_num iss;
  explicit ecn_peer(std::uint8_t tos) : t(config(tos)) {
    l = t.listen();
    t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn | tcp_flag::ece | tcp_flag::cwr, .mss = 1460});
    auto sa = t.poll(at_ms(0));
    EXPECT_TRUE(sa && sa->tcp);
    if (!sa || !sa->tcp) return;
    EXPECT_EQ(sa->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack | tcp_flag::ece) << describe(*sa->tcp);
    EXPECT_EQ(sa->ip.dscp_ecn, tos) << "the SYN-ACK goes Not-ECT (§6.1.1)";
    iss = sa->tcp->seq;
    t.send(at_ms(1), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}});
    c = *t.h().accept(l);
  }
  static host_config config(std::uint8_t tos) {
    host_config hc = default_config();
    hc.tcp.tos = tos;
    return hc;
  }
};

TEST(ecn_host, tos_octet__dscp_kept_and_ect0_on_new_data_only) {
  ecn_peer p(0xB8);  // DSCP EF
  EXPECT_TRUE(p.t.h().internals(p.c)->ecn);
  ASSERT_EQ(p.t.write(p.c, "hello"), 5u);
  auto d = p.t.poll(at_ms(2));
  ASSERT_TRUE(d && d->tcp);
  EXPECT_EQ(d->tcp->payload.size(), 5u);
  EXPECT_EQ(d->ip.dscp_ecn, 0xBA) << "ECT(0) under the DSCP";
  // Its retransmission (the RTO, 1 s) goes Not-ECT.
  auto r = p.t.poll(at_s(2));
  ASSERT_TRUE(r && r->tcp);
  EXPECT_EQ(r->tcp->payload.size(), 5u);
  EXPECT_EQ(r->ip.dscp_ecn, 0xB8);
}

TEST(ecn_host, ce_mark_in_the_tos_octet_is_echoed__ect_marks_are_not) {
  ecn_peer p(0);
  p.t.feed(at_ms(10), with_mark(seg{.seq = peer_iss + seq_len{1}, .ack = p.iss + seq_len{1}, .payload = "a"},
                                ecn_codepoint::ect0));
  auto a = p.t.poll(at_ms(60));
  ASSERT_TRUE(a && a->tcp);
  EXPECT_EQ(a->tcp->wire_flags(), tcp_flag::ack) << describe(*a->tcp);
  p.t.feed(at_ms(100), with_mark(seg{.seq = peer_iss + seq_len{2}, .ack = p.iss + seq_len{1}, .payload = "b"},
                                 ecn_codepoint::ce));
  auto e = p.t.poll(at_ms(150));
  ASSERT_TRUE(e && e->tcp);
  EXPECT_EQ(e->tcp->wire_flags(), tcp_flag::ack | tcp_flag::ece) << describe(*e->tcp);
  EXPECT_EQ(e->ip.dscp_ecn, 0) << "a pure ACK goes Not-ECT";
  EXPECT_EQ(p.t.h().internals(p.c)->ecn_ce_received, 1u);
}

}  // namespace
}  // namespace synack::stest
