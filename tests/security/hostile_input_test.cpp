// Hostile input at the host level (security-catalogue.md §4 B01-B05, S09, R04, R05, R08, P03c,
// P05, P11, P12, P14, P16): each test asserts no crash, the named counter, an unchanged
// connection where the input must not move it, and bounded memory (queues, ranges, TCBs).
// Connection-level edges of the same rules are in tests/tcp (reset_test, time_wait_test,
// reassembly_test, zero_window_test); malformed headers in tests/stack/malformed_test.cpp.
#include "stack/stack_harness.hpp"
#include "synack/util/rng.hpp"

namespace synack::stest {
namespace {

// A listener on port 80 and two ESTABLISHED passive connections, X (peer 49152) and Y (peer
// 49153). Nothing sent yet: for each, SND.UNA = SND.NXT = l(1), RCV.NXT = r(1).
class hostile : public testing::Test {
 protected:
  void SetUp() override {
    l_ = t_.listen();
    x_ = t_.establish_passive(at_ms(0), l_, 49152);
    y_ = t_.establish_passive(at_ms(0), l_, 49153);
    ASSERT_EQ(t_.h().connection_count(), 2u);
  }

  // Feeds `p` at `at`; the named drop counter must move by exactly `n`.
  template <class Counter>
  void expect_counted(instant at, const std::vector<std::byte>& p, Counter counter, std::uint64_t n = 1,
                      test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    const host_counters was = t_.ctr();
    t_.feed(at, p);
    EXPECT_EQ(counter(t_.ctr()), counter(was) + n) << counters_diff(t_.ctr(), was);
  }
  static auto verdict(rx_verdict v) {
    return [v](const host_counters& c) { return c.tcp(v); };
  }
  static auto drop(host_drop d) {
    return [d](const host_counters& c) { return c.host(d); };
  }
  // A segment from X's peer with the given fields.
  static std::vector<std::byte> to_x(seq_num s, std::optional<seq_num> a, std::uint8_t flags, std::string payload = "") {
    return stack_harness::tcp_packet(seg{.seq = s, .ack = a, .flags = flags, .payload = std::move(payload)});
  }
  // A segment built from a full repr (options the seg template lacks), from the peer.
  static std::vector<std::byte> packet_of(const tcp_repr& r) {
    std::vector<std::byte> t(r.buffer_len());
    r.emit(t, peer_ip, host_ip);
    return stack_harness::ip_packet(ip_proto::tcp, t);
  }
  const connection& conn(const conn_info& c) { return *t_.h().find(c.h); }
  std::uint32_t rcv_wnd(const conn_info& c) { return conn(c).rcv().wnd; }

  stack_harness t_;
  listener_handle l_;
  conn_info x_, y_;
};

// ---- RFC 5961 §3: blind RST ----------------------------------------------------------------

TEST_F(hostile, blind_rst_outside_the_window__silently_ignored) {
  const tcb_fields before = t_.fields(x_.h);
  const std::uint32_t w = rcv_wnd(x_);
  for (const seq_num s : {x_.r(0), x_.r(1 + w), x_.r(1 + 0x80000000u)}) {
    expect_counted(at_ms(10), to_x(s, x_.l(1), tcp_flag::rst), verdict(rx_verdict::out_of_window));
    t_.expect_nothing(at_ms(10));
  }
  EXPECT_EQ(t_.fields(x_.h), before);
}

TEST_F(hostile, blind_rst_in_window_not_exact__challenge_ack_connection_intact) {
  const tcb_fields before = t_.fields(x_.h);
  const std::uint32_t w = rcv_wnd(x_);
  for (const seq_num s : {x_.r(2), x_.r(w)}) {  // RCV.NXT+1 and RCV.NXT+RCV.WND-1
    expect_counted(at_ms(10), to_x(s, x_.l(1), tcp_flag::rst), verdict(rx_verdict::rst_in_window));
    t_.expect_tcp(at_ms(10), seg{.seq = x_.l(1), .ack = x_.r(1)});  // <SEQ=SND.NXT><ACK=RCV.NXT>
  }
  EXPECT_EQ(t_.fields(x_.h), before);
  // Exactly at RCV.NXT the reset is real.
  t_.send(at_ms(20), seg{.seq = x_.r(1), .flags = tcp_flag::rst});
  EXPECT_EQ(t_.h().state(x_.h), tcp_state::closed);
  EXPECT_EQ(t_.h().state(y_.h), tcp_state::established);
}

// ---- RFC 5961 §4: blind SYN in a synchronized state -----------------------------------------

TEST_F(hostile, blind_syn_at_any_sequence_number__challenge_ack_never_a_reset) {
  const tcb_fields before = t_.fields(x_.h);
  const std::uint32_t w = rcv_wnd(x_);
  for (const seq_num s : {x_.r(1), x_.r(w)}) {
    expect_counted(at_ms(10), to_x(s, std::nullopt, tcp_flag::syn), verdict(rx_verdict::syn_synchronized));
    t_.expect_tcp(at_ms(10), seg{.seq = x_.l(1), .ack = x_.r(1)});
  }
  // Outside the window the sequence check answers first, with the same ACK.
  for (const seq_num s : {x_.r(0), x_.r(1 + w), seq_num{0x12345678u}}) {
    expect_counted(at_ms(10), to_x(s, x_.l(1), tcp_flag::syn), verdict(rx_verdict::out_of_window));
    t_.expect_tcp(at_ms(10), seg{.seq = x_.l(1), .ack = x_.r(1)});
  }
  EXPECT_EQ(t_.fields(x_.h), before);
  EXPECT_EQ(t_.h().connection_count(), 2u) << "a SYN never makes a second TCB for the tuple";
  EXPECT_EQ(t_.h().half_open(l_), 0u);
}

// ---- RFC 5961 §5: blind data with an unacceptable ACK ---------------------------------------

TEST_F(hostile, blind_data_with_ack_outside_the_send_window__dropped_and_acked) {
  const tcb_fields before = t_.fields(x_.h);
  const std::uint32_t max_wnd = conn(x_).snd().max_wnd;
  // Ghost ACK: for data never sent.
  expect_counted(at_ms(10), to_x(x_.r(1), x_.l(2), 0, "evil"), verdict(rx_verdict::ack_too_new));
  t_.expect_tcp(at_ms(10), seg{.seq = x_.l(1), .ack = x_.r(1)});
  // Too old: below SND.UNA - MAX.SND.WND.
  expect_counted(at_ms(10), to_x(x_.r(1), x_.l(1) - seq_len{max_wnd + 1}, 0, "evil"), verdict(rx_verdict::ack_too_old));
  t_.expect_tcp(at_ms(10), seg{.seq = x_.l(1), .ack = x_.r(1)});
  EXPECT_EQ(t_.read_all(x_.h), "") << "nothing of the injected text reaches the user";
  EXPECT_EQ(t_.fields(x_.h), before);
  // At the edge SND.UNA - MAX.SND.WND the ACK is acceptable (a duplicate): the text is taken.
  t_.send(at_ms(20), seg{.seq = x_.r(1), .ack = x_.l(1) - seq_len{max_wnd}, .payload = "fine"});
  EXPECT_EQ(t_.read_all(x_.h), "fine");
}

// One acceptable segment far ahead in the receive window (here a blind injection announcing a
// zero window) sets SND.WL1 there. The peer's own later ACKs carry lower sequence numbers;
// by §3.10.7.4's WL1/WL2 rule alone they could never update the window again while the peer
// sends no data. An ACK of new data does (as Linux's tcp_may_update_window): found by
// stack_fuzz, fuzz/regressions/stack_fuzz/wl1_far_ahead.
TEST_F(hostile, window_frozen_by_a_far_ahead_segment__reopened_by_the_next_ack_of_new_data) {
  ASSERT_EQ(t_.write(x_.h, std::string(100, 'd')), 100u);
  t_.expect_tcp(at_ms(10), seg{.seq = x_.l(1), .ack = x_.r(1), .flags = tcp_flag::psh, .payload = std::string(100, 'd')});
  const std::uint32_t w = rcv_wnd(x_);
  t_.send(at_ms(20), seg{.seq = x_.r(w), .ack = x_.l(1), .window = 0, .payload = "z"});  // in window, far ahead
  EXPECT_EQ(conn(x_).snd().wnd, 0u);
  (void)t_.poll(at_ms(20));  // the duplicate ACK for the out-of-order octet
  t_.send(at_ms(30), seg{.seq = x_.r(1), .ack = x_.l(101), .window = 0xFFFF});  // the peer's real ACK
  EXPECT_EQ(conn(x_).snd().una, x_.l(101));
  EXPECT_EQ(conn(x_).snd().wnd, 0xFFFFu) << "SND.WND stayed frozen by the far-ahead SND.WL1";
  ASSERT_EQ(t_.write(x_.h, "more"), 4u);
  t_.expect_tcp(at_ms(30), seg{.seq = x_.l(101), .ack = x_.r(1), .flags = tcp_flag::psh, .payload = "more"});
}

// ---- RFC 5961 §7 / CVE-2016-5696: the challenge-ACK budget is per connection ----------------

TEST_F(hostile, challenge_ack_flood_on_one_connection__other_keeps_its_own_budget) {
  const std::uint32_t limit = t_.h().config().tcp.challenge_ack_limit;
  const tcb_fields before_x = t_.fields(x_.h);
  const std::uint64_t suppressed_before = t_.ctr().challenge_acks_suppressed;
  std::uint32_t acks = 0;
  for (int i = 0; i < 1000; ++i) {  // 1000 in-window RSTs at X within one budget window
    t_.feed(at_ms(100), to_x(x_.r(2), std::nullopt, tcp_flag::rst));
    while (auto p = t_.poll(at_ms(100))) acks += p->tcp ? 1u : 0u;
  }
  EXPECT_EQ(acks, limit);
  EXPECT_EQ(t_.ctr().challenge_acks_suppressed, suppressed_before + 1000 - limit);
  EXPECT_EQ(t_.ctr().tcp(rx_verdict::rst_in_window), 1000u);
  EXPECT_EQ(t_.fields(x_.h), before_x);
  // Y's budget is untouched: an off-path attacker learns nothing about X from Y's ACKs.
  for (std::uint32_t i = 0; i < limit; ++i) {
    t_.send(at_ms(100), seg{.seq = y_.r(2), .flags = tcp_flag::rst, .peer = y_.peer});
    t_.expect_tcp(at_ms(100), seg{.seq = y_.l(1), .ack = y_.r(1), .peer = y_.peer});
  }
  // X gets a new budget in the next window.
  t_.feed(at_ms(1100), to_x(x_.r(2), std::nullopt, tcp_flag::rst));
  t_.expect_tcp(at_ms(1100), seg{.seq = x_.l(1), .ack = x_.r(1)});
}

// ---- RFC 5927 §4.1: ICMP errors honoured only for a segment in flight ------------------------

TEST_F(hostile, icmp_errors_match_only_a_quoted_sequence_number_in_flight) {
  ASSERT_EQ(t_.write(x_.h, std::string(100, 'd')), 100u);
  ASSERT_TRUE(t_.poll(at_ms(10)).has_value());  // the data segment: SND.UNA = l(1), SND.NXT = l(101)
  const tcb_fields before = t_.fields(x_.h);
  const auto error_quoting = [&](seq_num s, std::uint16_t from_port, std::uint8_t type = 3, std::uint8_t code = 3) {
    const auto sent = stack_harness::tcp_packet(seg{.seq = s, .ack = x_.r(1), .peer = x_.local, .local = from_port},
                                                host_ip, peer_ip);
    icmpv4_repr m;
    m.type = static_cast<icmp_type>(type);
    m.code = code;
    m.data = bytes{sent}.first(28);
    return stack_harness::icmp_packet(m, ipv4_addr::from_octets(198, 51, 100, 1));
  };
  const auto matched = [](const host_counters& c) { return c.icmp_in_errors_matched; };
  expect_counted(at_ms(20), error_quoting(x_.l(1), x_.peer), matched);                // SND.UNA
  expect_counted(at_ms(20), error_quoting(x_.l(100), x_.peer), matched);              // inside
  expect_counted(at_ms(20), error_quoting(x_.l(1), x_.peer, 11, 0), matched);         // time exceeded
  expect_counted(at_ms(20), error_quoting(x_.l(0), x_.peer), drop(host_drop::icmp_unmatched));    // old
  expect_counted(at_ms(20), error_quoting(x_.l(102), x_.peer), drop(host_drop::icmp_unmatched));  // unsent
  expect_counted(at_ms(20), error_quoting(seq_num{0xDEADBEEFu}, x_.peer), drop(host_drop::icmp_unmatched));
  expect_counted(at_ms(20), error_quoting(x_.l(1), 1234), drop(host_drop::icmp_unmatched));       // no such tuple
  expect_counted(at_ms(20), error_quoting(x_.l(1), x_.peer, 4, 0), drop(host_drop::icmp_ignored));  // source quench
  // Hard codes are soft in a synchronized state (RFC 5927 §4.1, RFC 9293 MUST-56): nothing moves,
  // nothing is sent, and the path MTU is not lowered (only Fragmentation Needed does that).
  t_.expect_nothing(at_ms(20));
  EXPECT_EQ(t_.fields(x_.h), before);
  EXPECT_EQ(conn(x_).snd().mss, 1460);
}

// ---- RFC 1337: RST in TIME-WAIT --------------------------------------------------------------

TEST_F(hostile, rst_to_a_time_wait_record__ignored_rfc1337) {
  ASSERT_TRUE(t_.h().close(at_ms(10), x_.h).has_value());
  t_.expect_tcp(at_ms(10), seg{.seq = x_.l(1), .ack = x_.r(1), .flags = tcp_flag::fin});
  t_.send(at_ms(20), seg{.seq = x_.r(1), .ack = x_.l(2), .flags = tcp_flag::fin});
  t_.expect_tcp(at_ms(20), seg{.seq = x_.l(2), .ack = x_.r(2)});
  const time_wait_record* rec = t_.h().lookup_time_wait(x_.tuple());
  ASSERT_NE(rec, nullptr) << "the orphan shrinks to a TIME-WAIT record";
  const instant expiry = rec->expiry;
  for (const seq_num s : {x_.r(2), x_.r(3), x_.r(0)}) {  // exact, in window, old
    expect_counted(at_ms(30), to_x(s, std::nullopt, tcp_flag::rst), verdict(rx_verdict::time_wait));
    t_.expect_nothing(at_ms(30));
  }
  rec = t_.h().lookup_time_wait(x_.tuple());
  ASSERT_NE(rec, nullptr) << "TIME-WAIT assassinated";
  EXPECT_EQ(rec->expiry, expiry);
  EXPECT_EQ(t_.h().time_wait_count(), 1u);
}

// ---- SegmentSmack (CVE-2018-5390): a flood of 1-octet out-of-order segments -----------------

TEST_F(hostile, flood_of_one_octet_out_of_order_segments__bounded_ranges_and_octets) {
  const std::size_t max_ranges = t_.h().config().tcp.max_ooo_ranges;
  const std::uint32_t w = rcv_wnd(x_);
  constexpr std::uint32_t n = 20'000;
  std::uint64_t acks = 0;
  for (std::uint32_t k = 1; k <= n; ++k) {  // R+2, R+4, ...: no two can merge
    t_.feed(at_ms(10), to_x(x_.r(1 + 2 * k), x_.l(1), 0, "z"));
    while (auto p = t_.poll(at_ms(10))) acks += p->tcp ? 1u : 0u;
    const tcb_snapshot s = conn(x_).snapshot();
    ASSERT_LE(s.recv_ooo_ranges, max_ranges) << "after segment " << k;
    ASSERT_LE(s.recv_ooo_bytes, std::uint64_t{w});
  }
  const host_counters& c = t_.ctr();
  EXPECT_EQ(c.tcp(rx_verdict::reassembly_full) + c.tcp(rx_verdict::out_of_window) + max_ranges, n)
      << counters_diff(c, host_counters{});
  EXPECT_GT(c.tcp(rx_verdict::reassembly_full), 0u);
  EXPECT_GT(acks, 0u);  // out-of-order text is ACKed at once (duplicate ACKs; some rate-limited)
  EXPECT_EQ(t_.h().connection_count(), 2u);
  // The stream still works: the in-order octets fill the first hole, then everything after.
  std::string fill(2 * max_ranges + 1, 'f');
  t_.send(at_ms(20), seg{.seq = x_.r(1), .ack = x_.l(1), .payload = fill});
  EXPECT_EQ(t_.read_all(x_.h), fill);
  EXPECT_EQ(conn(x_).snapshot().recv_ooo_ranges, 0u);
}

// ---- SACK abuse (CVE-2019-11477/11478, CVE-2021-31889) --------------------------------------

TEST(hostile_sack, malformed_and_hostile_sack_blocks__harmless_and_cumulative_ack_rules) {
  stack_harness t;
  const listener_handle l = t.listen();
  // A SYN offering SACK, so the blocks below are meaningful to the host.
  tcp_repr syn;
  syn.src_port = peer_port;
  syn.dst_port = host_port;
  syn.seq = peer_iss;
  syn.flags = tcp_flag::syn;
  syn.window = 0xFFFF;
  syn.options.mss = 1460;
  syn.options.sack_permitted = true;
  std::vector<std::byte> tb(syn.buffer_len());
  syn.emit(tb, peer_ip, host_ip);
  t.feed(at_ms(0), stack_harness::ip_packet(ip_proto::tcp, tb));
  auto synack = t.poll(at_ms(0));
  ASSERT_TRUE(synack && synack->tcp);
  conn_info c;
  c.iss = synack->tcp->seq;
  t.send(at_ms(0), seg{.seq = c.r(1), .ack = c.l(1)});
  auto h = t.h().accept(l);
  ASSERT_TRUE(h.has_value());
  c.h = *h;
  ASSERT_TRUE(t.h().find(c.h)->sack_permitted());
  ASSERT_EQ(t.write(c.h, std::string(8000, 's')), 8000u);
  std::uint64_t out = 0;
  while (t.poll(at_ms(10))) ++out;
  // The initial congestion window (3 segments) is in flight, the rest queued.
  const seq_num una = c.l(1), nxt = t.h().find(c.h)->snd().nxt;
  ASSERT_EQ(nxt, c.l(1 + 3 * 1460));

  rng r(0x5ac);
  constexpr int acks = 10'000;
  for (int i = 0; i < acks; ++i) {
    tcp_repr a;
    a.src_port = peer_port;
    a.dst_port = host_port;
    a.seq = c.r(1);
    a.ack = una;
    a.window = 0xFFFF;
    for (int b = 0; b < 4; ++b) {
      // Overlapping, inverted, empty, beyond SND.NXT, below SND.UNA, wrapping 2^32.
      const seq_num left = una + seq_len{static_cast<std::uint32_t>(r.below(20000)) - 6000u};
      const seq_num right = left + seq_len{static_cast<std::uint32_t>(r.below(6000)) - 1000u};
      a.options.add_sack(sack_block{left, right});
    }
    std::vector<std::byte> sb(a.buffer_len());
    a.emit(sb, peer_ip, host_ip);
    t.feed(at_ms(20), stack_harness::ip_packet(ip_proto::tcp, sb));
    while (t.poll(at_ms(20))) ++out;
    const connection& conn = *t.h().find(c.h);
    ASSERT_EQ(conn.state(), tcp_state::established);
    ASSERT_EQ(conn.snd().una, una) << "SACK blocks never move SND.UNA";
    ASSERT_TRUE(conn.snd().una.before_eq(conn.snd().nxt));
    ASSERT_LE(conn.send_queued(), t.h().config().tcp.send_buffer);
  }
  EXPECT_LE(out, std::uint64_t{acks} + 16) << "output per hostile ACK stays bounded";
  EXPECT_EQ(t.ctr().out_rsts, 0u);
  // The peer behaves again: cumulative ACKs of all that was sent take the rest of the data.
  for (std::int64_t ms = 30; ms < 100 && t.h().find(c.h)->send_queued() > 0; ++ms) {
    t.send(at_ms(ms), seg{.seq = c.r(1), .ack = t.h().find(c.h)->snd().max});
    while (t.poll(at_ms(ms))) {
    }
  }
  EXPECT_EQ(t.h().find(c.h)->snd().una, c.l(8001));
  EXPECT_EQ(t.h().find(c.h)->send_queued(), 0u);
}

// ---- Peer-paced holds (sockstress, CVE-2008-4609) -------------------------------------------

// A peer that never opens its window but answers every probe holds the connection for as long
// as it likes: RFC 9293 MUST-35..37 keep a probed connection open unless the user timeout
// (RFC 5482, off by default; zero_window_test.cpp) is set. What stays bounded: memory (the send queue is capped at
// send_buffer, the application is told to wait) and work (probes back off to rto_max).
TEST_F(hostile, zero_window_hold_by_an_answering_peer__memory_and_probes_bounded) {
  t_.send(at_ms(10), seg{.seq = x_.r(1), .ack = x_.l(1), .window = 0});
  const std::size_t cap = t_.h().config().tcp.send_buffer;
  const std::string chunk(64 * 1024, 'q');
  std::size_t taken = 0;
  for (int i = 0; i < 64; ++i) taken += t_.write(x_.h, chunk);  // 4 MiB offered
  EXPECT_EQ(taken, cap);
  std::uint64_t probes = 0;
  for (std::int64_t s = 1; s <= 3600; ++s) {
    while (auto p = t_.poll(at_s(s))) {
      ASSERT_TRUE(p->tcp);
      ASSERT_LE(p->tcp->payload.size(), 1u) << "only one-octet probes into a zero window";
      ++probes;
      // The peer answers, window still closed, without taking the octet.
      t_.send(at_s(s), seg{.seq = x_.r(1), .ack = x_.l(1), .window = 0});
    }
  }
  EXPECT_EQ(t_.h().state(x_.h), tcp_state::established);
  EXPECT_LE(probes, 3600u / 60u + 10u) << "probes back off to rto_max (60 s)";
  EXPECT_GE(probes, 3600u / 60u - 5u);
  EXPECT_EQ(conn(x_).send_queued(), cap);
}

// Our application never reads (a slow reader): the peer's text fills the receive buffer, the
// window closes, and text beyond it is dropped and counted, never buffered.
TEST_F(hostile, slow_reader__receive_queue_bounded_by_the_buffer) {
  const std::size_t cap = t_.h().config().tcp.recv_buffer;
  const std::string mss_text(1460, 'r');
  std::uint32_t off = 1;
  for (int i = 0; i < 400; ++i) {  // 584 KB offered into a 64 KB window
    t_.send(at_ms(10 + i), seg{.seq = x_.r(off), .ack = x_.l(1), .payload = mss_text});
    while (t_.poll(at_ms(10 + i))) {
    }
    if (conn(x_).rcv().nxt == x_.r(off + 1460)) off += 1460;  // taken: the peer moves on
  }
  const tcb_snapshot s = conn(x_).snapshot();
  EXPECT_LE(s.recv_queue, cap);
  EXPECT_EQ(s.rcv.wnd, 0u) << "the window is closed once the buffer or the offered window is full";
  EXPECT_GT(t_.ctr().tcp(rx_verdict::out_of_window), 0u);
  EXPECT_EQ(t_.h().state(x_.h), tcp_state::established);
}

// ---- header and option edge cases the parsers accept (P03c, P05, P11, P12, P14, P16) --------

// A segment whose IPv4 datagram is followed by link padding: trimmed to the total length.
TEST_F(hostile, ip_padding_after_the_total_length__trimmed_and_accepted) {
  auto p = to_x(x_.r(1), x_.l(1), tcp_flag::psh, "ok");
  p.resize(p.size() + 18, std::byte{0xEE});  // Ethernet minimum-frame padding
  expect_counted(at_ms(10), p, [](const host_counters& c) { return c.in_accepted; });
  EXPECT_EQ(t_.read_all(x_.h), "ok");
}

// IPv4 options are skipped unparsed (README: IP options not implemented), so a malformed
// option cannot make a loop of them: the datagram is taken by its IHL alone.
TEST_F(hostile, ip_options_even_malformed__skipped_by_ihl) {
  for (const std::uint8_t opt0 : {std::uint8_t{0x01}, std::uint8_t{0x07}, std::uint8_t{0x83}}) {  // NOP, RR, LSRR
    auto p = to_x(x_.r(1), x_.l(1), 0, "");
    p.insert(p.begin() + 20, {std::byte{opt0}, std::byte{0x00}, std::byte{0x00}, std::byte{0x00}});  // length 0
    store_u8(&p[0], 0x46);
    store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
    stack_harness::fix_ip_checksum(p);
    expect_counted(at_ms(10), p, [](const host_counters& c) { return c.in_accepted; });
  }
  EXPECT_EQ(t_.h().state(x_.h), tcp_state::established);
}

// Known options on a non-SYN segment change nothing (RFC 9293 §3.7.1, RFC 7323 §2.2); a
// repeated option is taken once, the last one winning (documented in wire/tcp.hpp).
TEST_F(hostile, mss_and_window_scale_on_a_data_segment__ignored) {
  const send_vars before = conn(x_).snd();
  tcp_repr r;
  r.src_port = peer_port;
  r.dst_port = host_port;
  r.seq = x_.r(1);
  r.ack = x_.l(1);
  r.window = 0xFFFF;
  r.options.mss = 64;
  r.options.window_scale = 14;
  const std::string text = "opts";
  r.payload = std::as_bytes(std::span{text});
  expect_counted(at_ms(10), packet_of(r), [](const host_counters& c) { return c.in_accepted; });
  EXPECT_EQ(conn(x_).snd().mss, before.mss);
  EXPECT_EQ(conn(x_).snd().wscale, before.wscale);
  EXPECT_EQ(t_.read_all(x_.h), "opts");
}

TEST_F(hostile, syn_with_duplicate_or_extreme_mss__last_wins_and_floored) {
  struct tc {
    std::vector<std::uint8_t> opts;
    std::uint16_t want_mss;
  };
  const std::vector<tc> cases{
      {{0x02, 0x04, 0x03, 0xE8, 0x02, 0x04, 0x02, 0x18}, 536},  // MSS 1000 then 536: the last
      {{0x02, 0x04, 0x00, 0x00}, 64},                          // MSS 0: floored, no division by 0
      {{0x02, 0x04, 0x00, 0x01}, 64},                          // MSS 1
      {{0x02, 0x04, 0xFF, 0xFF}, 1460},                        // never above our own MSS
  };
  std::uint16_t port = 50000;
  for (const tc& c : cases) {
    SCOPED_TRACE(testing::Message() << "peer port " << port);
    const seg s{.seq = peer_iss, .flags = tcp_flag::syn, .peer = port};
    std::string storage;
    tcp_repr r = stack_harness::to_repr(s, s.peer, s.local, storage);
    std::vector<std::byte> t(20 + c.opts.size());
    r.emit_header(t);
    store_u8(&t[12], static_cast<std::uint8_t>(((20 + c.opts.size()) / 4) << 4));
    for (std::size_t i = 0; i < c.opts.size(); ++i) store_u8(&t[20 + i], c.opts[i]);
    tcp_repr::fill_checksum(t, peer_ip, host_ip);
    t_.feed(at_ms(10), stack_harness::ip_packet(ip_proto::tcp, t));
    auto synack = t_.poll(at_ms(10));
    ASSERT_TRUE(synack && synack->tcp);
    const connection* conn = t_.h().lookup(four_tuple{host_ip, host_port, peer_ip, port});
    ASSERT_NE(conn, nullptr);
    EXPECT_EQ(conn->snd().mss, c.want_mss);
    ++port;
  }
}

// RFC 6093: the urgent pointer is a hint; data is delivered inline and unchanged whatever it
// says, with no arithmetic on it (CVE-2020-17437, CVE-2019-12255).
TEST_F(hostile, urgent_pointer_abuse__text_delivered_inline) {
  std::uint32_t off = 1;
  for (const std::uint16_t up : {std::uint16_t{0}, std::uint16_t{1}, std::uint16_t{4}, std::uint16_t{0xFFFF}}) {
    tcp_repr r;
    r.src_port = peer_port;
    r.dst_port = host_port;
    r.seq = x_.r(off);
    r.ack = x_.l(1);
    r.flags = tcp_flag::urg | tcp_flag::psh;
    r.window = 0xFFFF;
    r.urgent_ptr = up;
    const std::string text = "urg";
    r.payload = std::as_bytes(std::span{text});
    expect_counted(at_ms(10), packet_of(r), [](const host_counters& c) { return c.in_accepted; });
    EXPECT_EQ(t_.read_all(x_.h), "urg");
    off += 3;
  }
}

// An echo reply is sized from the validated length, never from the frame (CVE-2020-17443,
// CVE-2021-31346): padding after the datagram is not echoed.
TEST_F(hostile, echo_request_with_padding__reply_sized_from_the_datagram) {
  icmpv4_repr echo;
  echo.type = icmp_type::echo_request;
  echo.ident = 9;
  const std::string data = "ping";
  echo.data = std::as_bytes(std::span{data});
  auto p = stack_harness::icmp_packet(echo);
  p.resize(p.size() + 30, std::byte{0xAB});
  t_.feed(at_ms(10), p);
  auto reply = t_.poll(at_ms(10));
  ASSERT_TRUE(reply && reply->icmp);
  EXPECT_EQ(reply->icmp->type, icmp_type::echo_reply);
  EXPECT_EQ(reply->icmp->data.size(), data.size());
  EXPECT_EQ(reply->ip.payload_len, 8 + data.size());
}

}  // namespace
}  // namespace synack::stest
