// ICMP errors acted on (RFC 9293 §3.9.2.2, RFC 1122 §4.2.3.9, RFC 5927, RFC 1191): soft
// errors remembered and never aborting (MUST-56, SHLD-25), hard errors aborting SYN-SENT
// (SHLD-26), Source Quench discarded (MUST-55), Fragmentation Needed lowering the send MSS
// and resegmenting what was in flight, and the full MSS tried again after RFC 1191 §6.3's
// timer (10 minutes after the last reduction) — with the exact segments that follow.
#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

// An ICMP error quoting a segment the host sent on `c`: the IPv4 header (total length
// `quoted_len`) and the first 8 octets of the TCP header.
std::vector<std::byte> icmp_error(const conn_info& c, seq_num quoted_seq, std::uint8_t type, std::uint8_t code,
                                  std::uint16_t mtu = 0, std::uint16_t quoted_len = 40) {
  std::vector<std::byte> sent = stack_harness::tcp_packet(
      seg{.seq = quoted_seq, .flags = tcp_flag::syn, .peer = c.local, .local = c.peer}, host_ip, peer_ip);
  store_be16(&sent[2], quoted_len);  // what the router saw, not what this helper built
  icmpv4_repr m;
  m.type = static_cast<icmp_type>(type);
  m.code = code;
  m.next_hop_mtu = mtu;
  m.data = bytes{sent}.first(28);
  return stack_harness::icmp_packet(m);
}

// A connect whose SYN went out; the peer never answers.
conn_info syn_sent(stack_harness& t) {
  conn_info c;
  c.peer = 80;
  auto h = t.h().connect(at_ms(0), peer_ip, 80);
  EXPECT_TRUE(h.has_value());
  if (h) c.h = *h;
  auto syn = t.poll(at_ms(0));
  EXPECT_TRUE(syn && syn->tcp);
  if (syn && syn->tcp) {
    c.iss = syn->tcp->seq;
    c.local = syn->tcp->src_port;
  }
  return c;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

TEST(icmp, soft_error_in_syn_sent_is_remembered_not_fatal) {
  for (const std::uint8_t code : {icmp_unreach_code::net, icmp_unreach_code::host, icmp_unreach_code::source_route_failed}) {
    stack_harness t;
    const conn_info c = syn_sent(t);
    t.feed(at_ms(10), icmp_error(c, c.l(0), 3, code));
    EXPECT_EQ(t.h().state(c.h), tcp_state::syn_sent) << "MUST-56: code " << int{code} << " must not abort";
    t.expect_nothing(at_ms(10));
    EXPECT_EQ(t.ctr().icmp_in_errors_matched, 1u);
    EXPECT_EQ(t.ctr().icmp_soft_errors, 1u);
    ASSERT_TRUE(t.h().find(c.h)->soft_error().has_value());
    EXPECT_EQ(t.h().find(c.h)->soft_error()->code, code);
    // The SYN is still retransmitted on its timer.
    t.expect_tcp(at_ms(1000), seg{.seq = c.l(0), .flags = tcp_flag::syn, .peer = c.peer, .local = c.local});
  }
}

TEST(icmp, soft_error_survives_to_the_syn_timeout) {
  stack_harness t;
  const conn_info c = syn_sent(t);
  t.feed(at_ms(10), icmp_error(c, c.l(0), 3, icmp_unreach_code::host));
  for (int s = 1; s <= 200; ++s) {  // past syn_r2 (180 s); the SYN goes again on its timer
    while (t.poll(at_s(s))) {
    }
  }
  const connection* k = t.h().find(c.h);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->state(), tcp_state::closed);
  EXPECT_EQ(k->reason(), close_reason::timeout);
  ASSERT_TRUE(k->soft_error().has_value()) << "posix/ reports EHOSTUNREACH instead of ETIMEDOUT";
  EXPECT_EQ(k->soft_error()->code, icmp_unreach_code::host);
}

TEST(icmp, time_exceeded_is_soft) {
  stack_harness t;
  const conn_info c = syn_sent(t);
  t.feed(at_ms(10), icmp_error(c, c.l(0), 11, 0));
  EXPECT_EQ(t.h().state(c.h), tcp_state::syn_sent);
  EXPECT_EQ(t.ctr().icmp_soft_errors, 1u);
}

TEST(icmp, source_quench_is_discarded) {
  stack_harness t;
  const conn_info c = syn_sent(t);
  t.feed(at_ms(10), icmp_error(c, c.l(0), 4, 0));
  EXPECT_EQ(t.h().state(c.h), tcp_state::syn_sent);  // MUST-55
  EXPECT_EQ(t.ctr().host(host_drop::icmp_ignored), 1u);
  EXPECT_EQ(t.ctr().icmp_in_errors_matched, 0u);
  EXPECT_FALSE(t.h().find(c.h)->soft_error().has_value());
  t.expect_nothing(at_ms(10));
}

TEST(icmp, parameter_problem_does_not_abort) {
  stack_harness t;
  const conn_info c = syn_sent(t);
  t.feed(at_ms(10), icmp_error(c, c.l(0), 12, 0));
  EXPECT_EQ(t.h().state(c.h), tcp_state::syn_sent);  // MUST-56
  EXPECT_EQ(t.ctr().host(host_drop::icmp_ignored), 1u);
  t.expect_nothing(at_ms(10));
}

TEST(icmp, hard_errors_abort_syn_sent_without_a_reset) {
  for (const int code_i : {2, 3, 9, 10, 13}) {
    const auto code = static_cast<std::uint8_t>(code_i);
    stack_harness t;
    const conn_info c = syn_sent(t);
    t.feed(at_ms(10), icmp_error(c, c.l(0), 3, code));
    const connection* k = t.h().find(c.h);
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->state(), tcp_state::closed) << "SHLD-26: code " << int{code};
    EXPECT_EQ(k->reason(), close_reason::refused);
    ASSERT_TRUE(k->hard_error().has_value());
    EXPECT_EQ(k->hard_error()->code, code);
    EXPECT_EQ(t.ctr().icmp_hard_aborts, 1u);
    EXPECT_EQ(t.ctr().attempt_fails, 1u);
    t.expect_nothing(at_ms(10));  // nothing was synchronized: no RST
    t.expect_nothing(at_s(5));    // and no SYN retransmission
    auto ev = t.events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].ev, (tcp_event{tcp_event_kind::closed, close_reason::refused}));
  }
}

TEST(icmp, hard_error_on_an_established_connection_is_only_remembered) {
  stack_harness t;
  const conn_info c = t.establish_active(at_ms(0));
  EXPECT_EQ(t.write(c.h, "abc"), 3u);
  t.expect_tcp(at_ms(1), seg{.seq = c.l(1), .ack = c.r(1), .flags = tcp_flag::psh, .payload = "abc", .peer = c.peer, .local = c.local});
  t.feed(at_ms(2), icmp_error(c, c.l(1), 3, icmp_unreach_code::port));
  EXPECT_EQ(t.h().state(c.h), tcp_state::established) << "DEVIATION from SHLD-26, as Linux";
  EXPECT_EQ(t.ctr().icmp_soft_errors, 1u);
  ASSERT_TRUE(t.h().find(c.h)->soft_error().has_value());
  // An acknowledgment of new data clears it (Linux clears sk_err_soft in tcp_ack).
  t.send(at_ms(3), seg{.seq = c.r(1), .ack = c.l(4), .peer = c.peer, .local = c.local});
  EXPECT_FALSE(t.h().find(c.h)->soft_error().has_value());
}

TEST(icmp, quote_outside_the_flight_is_unmatched) {
  stack_harness t;
  const conn_info c = t.establish_active(at_ms(0));
  t.feed(at_ms(2), icmp_error(c, c.l(100), 3, icmp_unreach_code::port));  // beyond SND.MAX
  t.feed(at_ms(2), icmp_error(c, c.l(0), 3, icmp_unreach_code::frag_needed, 576));  // below SND.UNA
  EXPECT_EQ(t.ctr().host(host_drop::icmp_unmatched), 2u);
  EXPECT_EQ(t.ctr().icmp_in_errors_matched, 0u);
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 1460);
}

// RFC 5927 §4.1: "SND.UNA =< SEG.SEQ < SND.NXT". SND.MAX itself was never sent: with nothing
// in flight, even a quote of SND.UNA (= SND.MAX) is unmatched; one byte in flight makes it match.
TEST(icmp, quote_of_snd_max_is_unmatched) {
  stack_harness t;
  const conn_info c = t.establish_active(at_ms(0));
  t.feed(at_ms(2), icmp_error(c, c.l(1), 3, icmp_unreach_code::port));
  EXPECT_EQ(t.ctr().host(host_drop::icmp_unmatched), 1u);
  EXPECT_EQ(t.write(c.h, "a"), 1u);
  t.expect_tcp(at_ms(3), seg{.seq = c.l(1), .ack = c.r(1), .flags = tcp_flag::psh, .payload = "a", .peer = c.peer, .local = c.local});
  t.feed(at_ms(4), icmp_error(c, c.l(2), 3, icmp_unreach_code::port));  // SND.MAX
  EXPECT_EQ(t.ctr().host(host_drop::icmp_unmatched), 2u);
  t.feed(at_ms(4), icmp_error(c, c.l(1), 3, icmp_unreach_code::port));  // the byte in flight
  EXPECT_EQ(t.ctr().icmp_in_errors_matched, 1u);
}

// Three full segments in flight; a router on the path says its next hop carries 1000 octets.
struct pmtu : ::testing::Test {
  stack_harness t;
  conn_info c;
  std::string data = pattern(3 * 1460);
  void SetUp() override {
    c = t.establish_active(at_ms(0));
    ASSERT_EQ(t.write(c.h, data), data.size());
    for (std::uint32_t i = 0; i < 3; ++i) {
      t.expect_tcp(at_ms(1), seg{.seq = c.l(1 + i * 1460), .ack = c.r(1), .flags = i == 2 ? tcp_flag::psh : std::uint8_t{0},
                                 .payload = data.substr(i * 1460, 1460), .peer = c.peer, .local = c.local});
    }
    t.expect_nothing(at_ms(1));
  }
  // After the MSS went down to `mss`: everything from SND.UNA goes again in `mss` pieces, but
  // never more packets at once than the window held before (cwnd keeps its packet count) nor
  // more than an initial window; the peer acknowledges each round and the next one follows.
  // Returns how many segments each round carried.
  std::vector<std::uint32_t> expect_resegmented(instant at, std::uint32_t from, std::uint32_t mss) {
    std::vector<std::uint32_t> rounds;
    std::uint32_t off = from;
    while (off < data.size()) {
      std::uint32_t n_round = 0;
      for (;;) {
        auto p = t.poll(at);
        if (!p) break;
        const std::uint32_t n = std::min<std::uint32_t>(mss, static_cast<std::uint32_t>(data.size()) - off);
        const bool last = off + n == data.size();
        EXPECT_TRUE(p->tcp.has_value());
        if (!p->tcp) break;
        EXPECT_EQ(p->tcp->seq, c.l(1 + off));
        EXPECT_EQ(p->tcp->payload.size(), n);
        EXPECT_EQ(p->tcp->flags & tcp_flag::psh, last ? tcp_flag::psh : 0);
        off += n;
        ++n_round;
      }
      EXPECT_GT(n_round, 0u) << "nothing resent at offset " << off;
      if (n_round == 0) break;
      rounds.push_back(n_round);
      if (off < data.size()) t.send(at, seg{.seq = c.r(1), .ack = c.l(1 + off), .peer = c.peer, .local = c.local});
    }
    t.expect_nothing(at);
    return rounds;
  }
};

TEST_F(pmtu, frag_needed_lowers_mss_and_resegments_at_once) {
  t.feed(at_ms(5), icmp_error(c, c.l(1), 3, icmp_unreach_code::frag_needed, 1000, 1500));
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 960);  // RFC 1191: next-hop MTU - 40
  EXPECT_EQ(t.ctr().pmtu_reductions, 1u);
  EXPECT_EQ(t.h().state(c.h), tcp_state::established);
  const auto retrans_before = t.ctr().retrans_segs;
  // 4380 octets in 960-octet segments: the 3 packets the window held, then the rest on the ACK.
  EXPECT_EQ(expect_resegmented(at_ms(5), 0, 960), (std::vector<std::uint32_t>{3, 2}));
  EXPECT_EQ(t.ctr().retrans_segs - retrans_before, 5u);
  // The peer acknowledges it all; new data goes out at the new size too.
  t.send(at_ms(20), seg{.seq = c.r(1), .ack = c.l(1 + 4380), .peer = c.peer, .local = c.local});
  const std::string more = pattern(1000);
  ASSERT_EQ(t.write(c.h, more), more.size());
  t.expect_tcp(at_ms(21), seg{.seq = c.l(4381), .ack = c.r(1), .payload = more.substr(0, 960), .peer = c.peer, .local = c.local});
  // The 40-octet tail waits for that segment's ACK (Nagle, RFC 9293 §3.7.4).
  t.expect_nothing(at_ms(21));
  t.send(at_ms(30), seg{.seq = c.r(1), .ack = c.l(5341), .peer = c.peer, .local = c.local});
  t.expect_tcp(at_ms(30), seg{.seq = c.l(5341), .ack = c.r(1), .flags = tcp_flag::psh, .payload = more.substr(960), .peer = c.peer, .local = c.local});
}

TEST_F(pmtu, frag_needed_quoting_a_later_segment_resends_from_snd_una) {
  t.feed(at_ms(5), icmp_error(c, c.l(1 + 1460), 3, icmp_unreach_code::frag_needed, 1280, 1500));
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 1240);
  EXPECT_EQ(expect_resegmented(at_ms(5), 0, 1240), (std::vector<std::uint32_t>{3, 1}));
}

TEST_F(pmtu, zero_mtu_uses_the_rfc1191_plateau_below_the_quoted_length) {
  t.feed(at_ms(5), icmp_error(c, c.l(1), 3, icmp_unreach_code::frag_needed, 0, 1500));
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 1492 - 40);
  EXPECT_EQ(expect_resegmented(at_ms(5), 0, 1452), (std::vector<std::uint32_t>{3, 1}));
  // A second one, quoting a 1492-octet datagram (the last segment, still unacknowledged):
  // the next plateau, 1006.
  t.feed(at_ms(6), icmp_error(c, c.l(1 + 3 * 1452), 3, icmp_unreach_code::frag_needed, 0, 1492));
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 1006 - 40);
  EXPECT_EQ(t.ctr().pmtu_reductions, 2u);
}

// RFC 1191 allows 68, but a forged message would then shrink segments to 28 octets: the floor
// is tcp_config::min_pmtu, 552 as Linux's min_pmtu (security-catalogue, RFC 5927 §7).
TEST_F(pmtu, mtu_below_the_floor_is_taken_as_552) {
  t.feed(at_ms(5), icmp_error(c, c.l(1), 3, icmp_unreach_code::frag_needed, 68, 1500));
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 552 - 40);
  auto first = t.expect_tcp(at_ms(5), seg{.seq = c.l(1), .ack = c.r(1), .payload = data.substr(0, 512), .peer = c.peer, .local = c.local});
  EXPECT_TRUE(first.has_value());
}

TEST(pmtu_floor, configurable_down_to_68) {
  host_config hc = default_config();
  hc.tcp.min_pmtu = 20;  // below RFC 791's 68: 68 still holds
  stack_harness t(hc);
  const conn_info c = t.establish_active(at_ms(0));
  const std::string data = pattern(100);
  ASSERT_EQ(t.write(c.h, data), data.size());
  t.expect_tcp(at_ms(1), seg{.seq = c.l(1), .ack = c.r(1), .flags = tcp_flag::psh, .payload = data, .peer = c.peer, .local = c.local});
  t.feed(at_ms(2), icmp_error(c, c.l(1), 3, icmp_unreach_code::frag_needed, 20, 1500));
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 68 - 40);
}

// Issue #13's attack: one forged Fragmentation Needed during a 256 KiB flight. Before, cwnd
// kept its bytes at the new MSS and the whole flight went again at once in tiny segments; now
// at most an initial window of segments goes at once, the rest clocked by ACKs.
TEST(pmtu_floor, forged_frag_needed_during_a_large_flight_sends_at_most_an_initial_window) {
  host_config hc = default_config();
  hc.tcp.send_buffer = 512 * 1024;
  stack_harness t(hc);
  const conn_info c = t.establish_active(at_ms(0));
  // Slow start: the peer acknowledges each round until cwnd covers its 65535-octet window;
  // the last round stays unacknowledged, in the air.
  const std::string data = pattern(256 * 1024);
  ASSERT_EQ(t.write(c.h, data), data.size());
  const connection& k = *t.h().find(c.h);
  std::uint32_t top = 0;
  for (int round = 0; round < 20; ++round) {
    const instant now = at_ms(1 + round);
    while (auto p = t.poll(now)) {
      if (p->tcp && !p->tcp->payload.empty()) {
        const seq_num end = p->tcp->seq + seq_len{static_cast<std::uint32_t>(p->tcp->payload.size())};
        top = std::max(top, distance(c.l(1), end).n);
      }
    }
    if (k.snapshot().cwnd >= 60'000) break;
    t.send(now, seg{.seq = c.r(1), .ack = c.l(1 + top), .peer = c.peer, .local = c.local});
  }
  const std::uint32_t flight = distance(k.snd().una, k.snd().nxt).n;
  ASSERT_GE(flight, 40'000u) << "a large flight is in the air";
  const std::uint32_t cwnd_packets_before = (k.snapshot().cwnd + 1459) / 1460;
  t.feed(at_ms(100), icmp_error(c, k.snd().una, 3, icmp_unreach_code::frag_needed, 68, 1500));
  EXPECT_EQ(k.snd().mss, 512);
  std::uint32_t burst = 0;
  while (auto p = t.poll(at_ms(100))) {
    if (p->tcp && !p->tcp->payload.empty()) ++burst;
  }
  EXPECT_GT(burst, 0u);
  EXPECT_LE(burst, 4u) << "at most an initial window of 512-octet segments (RFC 5681: 4)";
  EXPECT_LE((k.snapshot().cwnd + 511) / 512, cwnd_packets_before) << "cwnd kept its packet count, no more";
}

TEST_F(pmtu, larger_mtu_never_raises_the_mss) {
  t.feed(at_ms(5), icmp_error(c, c.l(1), 3, icmp_unreach_code::frag_needed, 9000, 1500));
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 1460);
  EXPECT_EQ(t.ctr().icmp_errors_ignored, 1u);
  EXPECT_EQ(t.ctr().pmtu_reductions, 0u);
  t.expect_nothing(at_ms(5));
}

// RFC 1191 §6.3 / RFC 8201 §4: a reduced Path MTU is raised again after a timer. The fixture's
// flight is resent at 960 octets and acknowledged; then only the pmtu-raise timer is armed.
struct pmtu_raise : pmtu {
  void lower_and_ack(instant at, std::uint16_t mtu) {
    t.feed(at, icmp_error(c, c.l(1), 3, icmp_unreach_code::frag_needed, mtu, 1500));
    (void)expect_resegmented(at, 0, mtu - 40u);
    t.send(at, seg{.seq = c.r(1), .ack = c.l(1 + 4380), .peer = c.peer, .local = c.local});
    t.expect_nothing(at);
  }
  [[nodiscard]] std::uint16_t mss() { return t.h().find(c.h)->snd().mss; }
  // 2000 new octets at `at`: one full segment of `mss` and the rest after its ACK (Nagle).
  void expect_new_data_in(instant at, std::uint32_t seg_len) {
    const std::string more = pattern(2000);
    ASSERT_EQ(t.write(c.h, more), more.size());
    t.expect_tcp(at, seg{.seq = c.l(4381), .ack = c.r(1), .payload = more.substr(0, seg_len), .peer = c.peer, .local = c.local});
    t.expect_nothing(at);
  }
};

TEST_F(pmtu_raise, full_mss_again_ten_minutes_after_the_reduction) {
  lower_and_ack(at_ms(5), 1000);
  const connection& k = *t.h().find(c.h);
  EXPECT_EQ(k.snapshot().next_timer, timer_kind::pmtu_raise);
  EXPECT_EQ(k.next_deadline(), at_ms(5) + std::chrono::minutes(10));
  t.expect_nothing(at_ms(5) + std::chrono::minutes(10) - duration{1});
  EXPECT_EQ(mss(), 960);
  t.expect_nothing(at_ms(5) + std::chrono::minutes(10));  // the timer fires; nothing is resent
  EXPECT_EQ(mss(), 1460);
  EXPECT_EQ(k.pmtu_raises(), 1u);
  EXPECT_EQ(k.next_deadline(), std::nullopt);
  EXPECT_EQ(t.h().state(c.h), tcp_state::established);
  expect_new_data_in(at_ms(5) + std::chrono::minutes(10), 1460);
}

TEST_F(pmtu_raise, each_reduction_restarts_the_wait) {
  lower_and_ack(at_ms(5), 1000);
  // Five minutes on, a smaller hop: 576 - 40 = 536, and the ten minutes count from here.
  const std::string more = pattern(960);
  ASSERT_EQ(t.write(c.h, more), more.size());
  t.expect_tcp(at_s(300), seg{.seq = c.l(4381), .ack = c.r(1), .flags = tcp_flag::psh, .payload = more, .peer = c.peer, .local = c.local});
  t.feed(at_s(300), icmp_error(c, c.l(4381), 3, icmp_unreach_code::frag_needed, 576, 1000));
  EXPECT_EQ(mss(), 536);
  t.expect_tcp(at_s(300), seg{.seq = c.l(4381), .ack = c.r(1), .payload = more.substr(0, 536), .peer = c.peer, .local = c.local});
  t.expect_tcp(at_s(300), seg{.seq = c.l(4381 + 536), .ack = c.r(1), .flags = tcp_flag::psh, .payload = more.substr(536), .peer = c.peer, .local = c.local});
  t.send(at_s(300), seg{.seq = c.r(1), .ack = c.l(4381 + 960), .peer = c.peer, .local = c.local});
  t.expect_nothing(at_ms(605'005));  // ten minutes after the first reduction: still waiting
  EXPECT_EQ(mss(), 536);
  t.expect_nothing(at_s(900));  // ten minutes after the second
  EXPECT_EQ(mss(), 1460);
}

TEST(pmtu_raise_config, configured_wait_and_a_path_still_too_narrow) {
  host_config hc = default_config();
  hc.tcp.pmtu_raise_after = std::chrono::minutes(5);
  stack_harness t(hc);
  const conn_info c = t.establish_active(at_ms(0));
  const std::string data = pattern(1460);
  ASSERT_EQ(t.write(c.h, data), data.size());
  t.expect_tcp(at_ms(1), seg{.seq = c.l(1), .ack = c.r(1), .flags = tcp_flag::psh, .payload = data, .peer = c.peer, .local = c.local});
  t.feed(at_ms(2), icmp_error(c, c.l(1), 3, icmp_unreach_code::frag_needed, 1280, 1500));
  t.expect_tcp(at_ms(2), seg{.seq = c.l(1), .ack = c.r(1), .payload = data.substr(0, 1240), .peer = c.peer, .local = c.local});
  t.expect_tcp(at_ms(2), seg{.seq = c.l(1241), .ack = c.r(1), .flags = tcp_flag::psh, .payload = data.substr(1240), .peer = c.peer, .local = c.local});
  t.send(at_ms(3), seg{.seq = c.r(1), .ack = c.l(1461), .peer = c.peer, .local = c.local});
  t.expect_nothing(at_ms(2) + std::chrono::minutes(5));
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 1460);
  // The path has not grown: the full segment meets Fragmentation Needed again, which lowers
  // the MSS, resends in smaller pieces and starts another wait.
  const instant later = at_ms(2) + std::chrono::minutes(6);
  ASSERT_EQ(t.write(c.h, data), data.size());
  t.expect_tcp(later, seg{.seq = c.l(1461), .ack = c.r(1), .flags = tcp_flag::psh, .payload = data, .peer = c.peer, .local = c.local});
  t.feed(later, icmp_error(c, c.l(1461), 3, icmp_unreach_code::frag_needed, 1280, 1500));
  t.expect_tcp(later, seg{.seq = c.l(1461), .ack = c.r(1), .payload = data.substr(0, 1240), .peer = c.peer, .local = c.local});
  t.expect_tcp(later, seg{.seq = c.l(2701), .ack = c.r(1), .flags = tcp_flag::psh, .payload = data.substr(1240), .peer = c.peer, .local = c.local});
  EXPECT_EQ(t.ctr().pmtu_reductions, 2u);
  t.send(later, seg{.seq = c.r(1), .ack = c.l(2921), .peer = c.peer, .local = c.local});
  t.expect_nothing(later + std::chrono::minutes(5) - duration{1});
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 1240);
  t.expect_nothing(later + std::chrono::minutes(5));
  EXPECT_EQ(t.h().find(c.h)->snd().mss, 1460);
  EXPECT_EQ(t.h().find(c.h)->pmtu_raises(), 2u);
}

TEST(icmp, frag_needed_quoting_a_syn_is_ignored) {
  stack_harness t;
  const conn_info c = syn_sent(t);
  t.feed(at_ms(10), icmp_error(c, c.l(0), 3, icmp_unreach_code::frag_needed, 576, 60));
  EXPECT_EQ(t.h().state(c.h), tcp_state::syn_sent);
  EXPECT_EQ(t.ctr().icmp_errors_ignored, 1u);
  t.expect_nothing(at_ms(10));
}

}  // namespace
}  // namespace synack::stest
