// RFC 9293 §3.7.1 (MUST-67), RFC 1122 §4.2.2.6: the MSS option a SYN or SYN-ACK carries is
// derived from the link: the MTU less the 20-octet IPv4 and 20-octet TCP headers, never more
// than the configured tcp_config::mss cap. The same holds for the stateless SYN-cookie
// SYN-ACK (RFC 4987 §3.6), and the MSS we send with is bounded by our link as well.
#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

host_config with_mtu(std::uint16_t mtu, std::uint16_t mss_cap = 1460) {
  host_config c = default_config();
  c.mtu = mtu;
  c.tcp.mss = mss_cap;
  return c;
}

// The SYN of an active open, exactly: no ACK, ISS, our window, and the four SYN options.
void expect_syn(stack_harness& t, std::uint16_t want_mss, test::source_loc loc = test::source_loc::current()) {
  SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
  auto h = t.h().connect(at_ms(0), peer_ip, 80);
  ASSERT_TRUE(h.has_value());
  const auto p = t.poll(at_ms(0));
  ASSERT_TRUE(p && p->tcp);
  const tcp_repr& syn = *p->tcp;
  EXPECT_EQ(syn.wire_flags(), tcp_flag::syn) << describe(syn);
  EXPECT_FALSE(syn.ack.has_value());
  EXPECT_EQ(syn.dst_port, 80);
  EXPECT_EQ(syn.options.mss, want_mss) << describe(syn);
  EXPECT_TRUE(syn.options.window_scale.has_value());
  EXPECT_TRUE(syn.options.sack_permitted);
  EXPECT_TRUE(syn.options.timestamps.has_value());
  EXPECT_TRUE(syn.payload.empty());
  EXPECT_EQ(p->ip.payload_len, syn.buffer_len());
}

TEST(announced_mss, syn_on_a_1400_octet_link_announces_1360) { stack_harness t(with_mtu(1400)); expect_syn(t, 1360); }

TEST(announced_mss, syn_on_the_default_1500_octet_link_announces_1460) { stack_harness t; expect_syn(t, 1460); }

TEST(announced_mss, jumbo_link_is_capped_by_the_configured_mss) {
  stack_harness t(with_mtu(9000));  // 8960 would fit the link; the cap is 1460
  expect_syn(t, 1460);
}

TEST(announced_mss, jumbo_link_with_a_jumbo_cap_announces_mtu_less_40) {
  stack_harness t(with_mtu(9000, 9000));
  expect_syn(t, 8960);
}

TEST(announced_mss, tiny_link_announces_the_ipv4_minimum_less_40) {
  stack_harness t(with_mtu(68));
  expect_syn(t, 28);
}

// The SYN-ACK to a peer's SYN (MSS 1460, no other option), exactly: only the MSS option.
void expect_synack(stack_harness& t, std::uint16_t want_mss, test::source_loc loc = test::source_loc::current()) {
  SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1460});
  const auto p = t.poll(at_ms(0));
  ASSERT_TRUE(p && p->tcp);
  const tcp_repr& sa = *p->tcp;
  EXPECT_EQ(sa.wire_flags(), tcp_flag::syn | tcp_flag::ack) << describe(sa);
  EXPECT_EQ(sa.ack, peer_iss + seq_len{1});
  EXPECT_EQ(sa.src_port, host_port);
  EXPECT_EQ(sa.window, 0xFFFF);
  EXPECT_EQ(sa.options.mss, want_mss) << describe(sa);
  EXPECT_FALSE(sa.options.window_scale.has_value());
  EXPECT_FALSE(sa.options.sack_permitted);
  EXPECT_FALSE(sa.options.timestamps.has_value());
  EXPECT_TRUE(sa.payload.empty());
}

TEST(announced_mss, syn_ack_of_a_listener_on_a_1400_octet_link) {
  stack_harness t(with_mtu(1400));
  (void)t.listen();
  expect_synack(t, 1360);
}

TEST(announced_mss, syn_ack_on_a_jumbo_link_is_capped) {
  stack_harness t(with_mtu(9000));
  (void)t.listen();
  expect_synack(t, 1460);
}

// The same, exactly: SYN-ACK fields, then the connection sends with min(peer 1460, link 1360).
TEST(announced_mss, passive_connection_sends_at_most_the_link_mss) {
  stack_harness t(with_mtu(1400));
  const listener_handle l = t.listen();
  const conn_info c = t.establish_passive(at_ms(0), l);
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 1360);
  const std::string data(2000, 'x');
  ASSERT_EQ(t.write(c.h, data), data.size());
  t.expect_tcp(at_ms(1), seg{.seq = c.l(1), .ack = c.r(1), .payload = data.substr(0, 1360)});
}

// A listener's own cap (TCP_MAXSEG before listen) below the link's.
TEST(announced_mss, listener_cap_below_the_link_is_announced) {
  stack_harness t(with_mtu(1500));
  tcp_config lc = t.h().config().tcp;
  lc.mss = 1000;
  ASSERT_TRUE(t.h().listen(host_port, 16, lc).has_value());
  expect_synack(t, 1000);
}

// RFC 4987 §3.6: the cookie SYN-ACK announces what the listener's TCB would have announced.
struct cookie_mss : ::testing::Test {
  static host_config cfg(std::uint16_t mtu) {
    host_config c = with_mtu(mtu);
    c.syncookies = syncookies_mode::always;
    return c;
  }
  static std::optional<std::uint16_t> cookie_synack_mss(stack_harness& t) {
    t.send(at_ms(5), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1460, .peer = 5000});
    const auto p = t.poll(at_ms(5));
    EXPECT_TRUE(p && p->tcp);
    if (!p || !p->tcp) return std::nullopt;
    EXPECT_EQ(p->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack) << describe(*p->tcp);
    EXPECT_EQ(p->tcp->ack, peer_iss + seq_len{1});
    EXPECT_EQ(t.ctr().syncookies_sent, 1u);
    return p->tcp->options.mss;
  }
};

TEST_F(cookie_mss, on_a_1400_octet_link_announces_1360) {
  stack_harness t(cfg(1400));
  (void)t.listen();
  EXPECT_EQ(cookie_synack_mss(t), 1360);
}

TEST_F(cookie_mss, listener_cap_is_announced) {
  stack_harness t(cfg(1500));
  tcp_config lc = t.h().config().tcp;
  lc.mss = 1000;
  ASSERT_TRUE(t.h().listen(host_port, 16, lc).has_value());
  EXPECT_EQ(cookie_synack_mss(t), 1000);
}

}  // namespace
}  // namespace synack::stest
