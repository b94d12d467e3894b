// Active open through the host: ephemeral ports (RFC 6056), argument checks, refusal by RST
// (RFC 9293 §3.10.7.3) and ISNs (RFC 6528).
#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

TEST(connect, active_open_through_host) {
  stack_harness t;
  auto c = t.establish_active(at_ms(0));
  EXPECT_GE(c.local, t.h().config().ephemeral_first);
  EXPECT_LE(c.local, t.h().config().ephemeral_last);
  EXPECT_EQ(t.ctr().active_opens, 1u);
  EXPECT_EQ(t.ctr().curr_estab, 1u);
  EXPECT_EQ(t.ctr().out_segs, 2u);  // SYN, ACK
  EXPECT_EQ(t.h().connection_count(), 1u);
  EXPECT_NE(t.h().lookup(c.tuple()), nullptr);
  EXPECT_EQ(t.h().find(c.h), t.h().lookup(c.tuple()));
}

TEST(connect, syn_is_exact_and_established_event) {
  stack_harness t;
  auto h = t.h().connect(at_ms(0), peer_ip, 443);
  ASSERT_TRUE(h.has_value());
  auto syn = t.poll(at_ms(0));
  ASSERT_TRUE(syn && syn->tcp);
  EXPECT_EQ(syn->ip.dst, peer_ip);
  EXPECT_EQ(syn->tcp->wire_flags(), tcp_flag::syn);
  EXPECT_FALSE(syn->tcp->ack.has_value());
  EXPECT_EQ(syn->tcp->dst_port, 443);
  EXPECT_EQ(syn->tcp->options.mss, std::optional<std::uint16_t>{1460});
  EXPECT_EQ(syn->tcp->options.window_scale, std::optional<std::uint8_t>{3});  // 256 KiB buffer
  EXPECT_TRUE(syn->tcp->payload.empty());
  t.expect_nothing(at_ms(0));
  EXPECT_EQ(t.h().state(*h), tcp_state::syn_sent);
  const seq_num iss = syn->tcp->seq;
  const std::uint16_t lp = syn->tcp->src_port;
  t.send(at_ms(5), seg{.seq = peer_iss, .ack = iss + seq_len{1}, .flags = tcp_flag::syn, .peer = 443, .local = lp});
  t.expect_tcp(at_ms(5), seg{.seq = iss + seq_len{1}, .ack = peer_iss + seq_len{1}, .peer = 443, .local = lp});
  auto ev = t.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, host_event::kind::connection);
  EXPECT_EQ(ev[0].conn, *h);
  EXPECT_EQ(ev[0].ev.kind, tcp_event_kind::established);
}

TEST(connect, two_connects_same_destination_get_different_ports) {
  stack_harness t;
  auto a = t.h().connect(at_ms(0), peer_ip, 80);
  auto b = t.h().connect(at_ms(0), peer_ip, 80);
  ASSERT_TRUE(a.has_value() && b.has_value());
  const auto ta = t.h().find(*a)->tuple();
  const auto tb = t.h().find(*b)->tuple();
  EXPECT_NE(ta.local_port, tb.local_port);
  for (const auto& tu : {ta, tb}) {
    EXPECT_GE(tu.local_port, 32768);
    EXPECT_LE(tu.local_port, 60999);
    EXPECT_EQ(tu.local_addr, host_ip);
    EXPECT_EQ(tu.remote_addr, peer_ip);
    EXPECT_EQ(tu.remote_port, 80);
  }
  EXPECT_EQ(t.h().connection_count(), 2u);
}

TEST(connect, ephemeral_range_exhausted) {
  host_config cfg = default_config();
  cfg.ephemeral_first = 40000;
  cfg.ephemeral_last = 40002;
  stack_harness t(cfg);
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < 3; ++i) {
    auto h = t.h().connect(at_ms(0), peer_ip, 80);
    ASSERT_TRUE(h.has_value());
    ports.push_back(t.h().find(*h)->tuple().local_port);
  }
  std::ranges::sort(ports);
  EXPECT_EQ(ports, (std::vector<std::uint16_t>{40000, 40001, 40002}));
  auto full = t.h().connect(at_ms(0), peer_ip, 80);
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error(), host_error::no_ephemeral_port);
  // Another destination port is another set of 4-tuples.
  EXPECT_TRUE(t.h().connect(at_ms(0), peer_ip, 81).has_value());
}

TEST(connect, explicit_local_port_in_use) {
  stack_harness t;
  auto a = t.h().connect(at_ms(0), peer_ip, 80, 5555);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(t.h().find(*a)->tuple().local_port, 5555);
  auto b = t.h().connect(at_ms(0), peer_ip, 80, 5555);
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error(), host_error::address_in_use);
  // A different remote port is a different 4-tuple.
  EXPECT_TRUE(t.h().connect(at_ms(0), peer_ip, 81, 5555).has_value());
}

TEST(connect, invalid_arguments) {
  stack_harness t;
  const auto bad = [&](ipv4_addr a, std::uint16_t port, std::optional<std::uint16_t> lp = std::nullopt) {
    auto r = t.h().connect(at_ms(0), a, port, lp);
    return !r.has_value() && r.error() == host_error::invalid_argument;
  };
  EXPECT_TRUE(bad(peer_ip, 0));
  EXPECT_TRUE(bad(ipv4_addr{}, 80));
  EXPECT_TRUE(bad(ipv4_addr::from_octets(224, 0, 0, 1), 80));
  EXPECT_TRUE(bad(ipv4_addr::from_octets(239, 255, 255, 250), 80));
  EXPECT_TRUE(bad(ipv4_addr::from_octets(255, 255, 255, 255), 80));
  EXPECT_TRUE(bad(peer_ip, 80, 0));
  EXPECT_EQ(t.h().connection_count(), 0u);
  EXPECT_EQ(t.ctr().active_opens, 0u);
  t.expect_nothing(at_ms(0));
}

// RFC 9293 §3.10.7.3: a RST with an acceptable ACK in SYN-SENT: "connection reset" (refused).
TEST(connect, refused_by_rst) {
  stack_harness t;
  auto h = t.h().connect(at_ms(0), peer_ip, 80, 5000);
  ASSERT_TRUE(h.has_value());
  auto syn = t.poll(at_ms(0));
  ASSERT_TRUE(syn && syn->tcp);
  const seq_num iss = syn->tcp->seq;
  t.send(at_ms(1), seg{.seq = seq_num{0}, .ack = iss + seq_len{1}, .flags = tcp_flag::rst, .peer = 80,
                       .local = 5000});
  t.expect_nothing(at_ms(1));
  auto ev = t.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].conn, *h);
  EXPECT_EQ(ev[0].ev.kind, tcp_event_kind::closed);
  EXPECT_EQ(ev[0].ev.reason, close_reason::refused);
  EXPECT_EQ(t.ctr().attempt_fails, 1u);
  EXPECT_EQ(t.h().state(*h), tcp_state::closed);
  std::array<std::byte, 8> b{};
  auto r = t.h().recv(*h, b);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), tcp_error::connection_refused);
  EXPECT_FALSE(t.h().next_deadline().has_value());  // no SYN retransmission pending
  t.expect_nothing(at_s(10));
}

// A refused connection's TCB no longer exists (RFC 9293 §3.10.7.3 "enter CLOSED, delete
// TCB") even while the user still holds the handle: its 4-tuple is free again, and a segment
// for it is answered as for CLOSED (§3.10.7.1).
TEST(connect, refused_tuple_is_free_while_handle_held) {
  stack_harness t;
  auto h = t.h().connect(at_ms(0), peer_ip, 80, 5000);
  ASSERT_TRUE(h.has_value());
  auto syn = t.poll(at_ms(0));
  ASSERT_TRUE(syn && syn->tcp);
  t.send(at_ms(1), seg{.seq = seq_num{0}, .ack = syn->tcp->seq + seq_len{1}, .flags = tcp_flag::rst, .peer = 80,
                       .local = 5000});
  EXPECT_EQ(t.h().connection_count(), 0u);
  t.send(at_ms(2), seg{.seq = peer_iss, .ack = seq_num{1234}, .peer = 80, .local = 5000});
  t.expect_tcp(at_ms(2), seg{.seq = seq_num{1234}, .flags = tcp_flag::rst, .peer = 80, .local = 5000});
  auto again = t.h().connect(at_ms(3), peer_ip, 80, 5000);
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(*again, *h);
  EXPECT_EQ(t.h().state(*h), tcp_state::closed);
  EXPECT_EQ(t.h().state(*again), tcp_state::syn_sent);
  ASSERT_TRUE(t.h().close(at_ms(4), *h).has_value());
  EXPECT_EQ(t.h().state(*again), tcp_state::syn_sent);  // closing the old handle leaves the new one
  EXPECT_EQ(t.h().lookup(four_tuple{host_ip, 5000, peer_ip, 80}), t.h().find(*again));
}

// A SYN-ACK acknowledging something we never sent: <SEQ=SEG.ACK><CTL=RST>, still SYN-SENT.
TEST(connect, bad_synack_answered_with_rst) {
  stack_harness t;
  auto h = t.h().connect(at_ms(0), peer_ip, 80, 5000);
  ASSERT_TRUE(h.has_value());
  auto syn = t.poll(at_ms(0));
  ASSERT_TRUE(syn && syn->tcp);
  const seq_num bad = syn->tcp->seq + seq_len{100};
  t.send(at_ms(1), seg{.seq = peer_iss, .ack = bad, .flags = tcp_flag::syn, .peer = 80, .local = 5000});
  t.expect_tcp(at_ms(1), seg{.seq = bad, .flags = tcp_flag::rst, .peer = 80, .local = 5000});
  EXPECT_EQ(t.ctr().tcp(rx_verdict::syn_sent_bad_ack), 1u);
  EXPECT_EQ(t.ctr().out_rsts, 1u);
  EXPECT_EQ(t.h().state(*h), tcp_state::syn_sent);
}

// RFC 9293 §3.8.3 (MUST-23): the SYN is retransmitted with backoff and the attempt fails with
// "timed out" at syn_r2.
TEST(connect, syn_retransmitted_then_times_out) {
  host_config cfg = default_config();
  cfg.tcp.syn_r2 = std::chrono::seconds(7);
  stack_harness t(cfg);
  auto h = t.h().connect(at_ms(0), peer_ip, 80, 5000);
  ASSERT_TRUE(h.has_value());
  auto syn = t.poll(at_ms(0));
  ASSERT_TRUE(syn && syn->tcp);
  const seq_num iss = syn->tcp->seq;
  t.expect_nothing(at_ms(999));
  t.expect_tcp(at_ms(1000), seg{.seq = iss, .flags = tcp_flag::syn, .peer = 80, .local = 5000});
  t.expect_nothing(at_ms(2999));
  t.expect_tcp(at_ms(3000), seg{.seq = iss, .flags = tcp_flag::syn, .peer = 80, .local = 5000});
  EXPECT_EQ(t.ctr().retrans_segs, 2u);
  EXPECT_EQ(t.ctr().out_segs, 1u);
  t.expect_nothing(at_ms(7000));
  auto ev = t.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].ev.kind, tcp_event_kind::closed);
  EXPECT_EQ(ev[0].ev.reason, close_reason::timeout);
  EXPECT_EQ(t.ctr().attempt_fails, 1u);
}

// RFC 6528: ISN = M + F(4-tuple, secret): different 4-tuples at the same instant get
// different ISNs, and so do different secrets.
TEST(connect, isns_differ_per_tuple) {
  stack_harness t;
  std::vector<std::uint32_t> isns;
  for (std::uint16_t p = 5000; p < 5004; ++p) {
    ASSERT_TRUE(t.h().connect(at_ms(0), peer_ip, 80, p).has_value());
    auto syn = t.poll(at_ms(0));
    ASSERT_TRUE(syn && syn->tcp);
    isns.push_back(syn->tcp->seq.raw);
  }
  std::ranges::sort(isns);
  EXPECT_EQ(std::ranges::adjacent_find(isns), isns.end());

  host_config other = default_config();
  other.secret = siphash_key{1, 2};
  stack_harness u(other);
  ASSERT_TRUE(u.h().connect(at_ms(0), peer_ip, 80, 5000).has_value());
  auto syn = u.poll(at_ms(0));
  ASSERT_TRUE(syn && syn->tcp);
  EXPECT_FALSE(std::ranges::binary_search(isns, syn->tcp->seq.raw));
}

}  // namespace
}  // namespace synack::stest

namespace synack::stest {
namespace {

// Many timers due at one instant: one on_timeout call fires them all (the host works through
// them in batches), so a driver that calls again only when the deadline moves never stalls.
TEST(connect, two_hundred_syn_timers_due_together__one_call_fires_them_all) {
  stack_harness t;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(t.h().connect(at_ms(0), peer_ip, 443).has_value());
  std::vector<std::byte> buf(t.h().max_packet_len());
  std::size_t syns = 0;
  while (t.h().poll_transmit(at_ms(0), buf)) ++syns;
  ASSERT_EQ(syns, 200u);
  ASSERT_EQ(t.h().next_deadline(), std::optional{at_s(1)});
  t.h().on_timeout(at_s(1));
  std::size_t again = 0;
  while (t.h().poll_transmit(at_s(1), buf)) ++again;
  EXPECT_EQ(again, 200u);  // every SYN retransmitted after one call
  EXPECT_EQ(t.h().next_deadline(), std::optional{at_s(3)});  // all backed off to 2 s
}

}  // namespace
}  // namespace synack::stest
