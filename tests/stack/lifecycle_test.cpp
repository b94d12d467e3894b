// A whole connection through the host with exact segments: open, transfer, close, and the
// compact TIME-WAIT record (DESIGN.md §2 "Memory"; RFC 9293 §3.6, §3.10.7.4; RFC 1337).
#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

constexpr auto two_msl = std::chrono::seconds(60);  // tcp_config::msl default 30 s

// Open, exchange data both ways, active close by the host's user; leaves the host in
// TIME-WAIT as a compact record at 50 ms.
struct closed_by_user {
  stack_harness t;
  listener_handle l;
  conn_info c;

  void run() {
    l = t.listen(80, 4);
    c = t.establish_passive(at_ms(0), l);
    t.send(at_ms(10), seg{.seq = c.r(1), .ack = c.l(1), .flags = tcp_flag::psh, .payload = "hello"});
    t.expect_nothing(at_ms(10));  // delayed ACK (RFC 9293 §3.8.6.3): it rides on the reply
    EXPECT_EQ(t.read_all(c.h), "hello");
    EXPECT_EQ(t.write(c.h, "world"), 5u);
    t.expect_tcp(at_ms(20), seg{.seq = c.l(1), .ack = c.r(6), .flags = tcp_flag::psh, .payload = "world"});
    t.send(at_ms(25), seg{.seq = c.r(6), .ack = c.l(6)});
    t.expect_nothing(at_ms(25));
    ASSERT_TRUE(t.h().close(at_ms(30), c.h).has_value());
    EXPECT_EQ(t.h().find(c.h), nullptr);  // the handle is released
    t.expect_tcp(at_ms(30), seg{.seq = c.l(6), .ack = c.r(6), .flags = tcp_flag::fin});
    ASSERT_NE(t.h().lookup(c.tuple()), nullptr);
    EXPECT_EQ(t.h().lookup(c.tuple())->state(), tcp_state::fin_wait_1);
    t.send(at_ms(40), seg{.seq = c.r(6), .ack = c.l(7)});
    t.expect_nothing(at_ms(40));
    ASSERT_NE(t.h().lookup(c.tuple()), nullptr);
    EXPECT_EQ(t.h().lookup(c.tuple())->state(), tcp_state::fin_wait_2);
    t.send(at_ms(50), seg{.seq = c.r(6), .ack = c.l(7), .flags = tcp_flag::fin});
    t.expect_tcp(at_ms(50), seg{.seq = c.l(7), .ack = c.r(7)});
    t.expect_nothing(at_ms(50));
  }
};

TEST(lifecycle, open_transfer_close_to_compact_time_wait) {
  closed_by_user f;
  f.run();
  auto& t = f.t;
  EXPECT_EQ(t.h().time_wait_count(), 1u);
  EXPECT_EQ(t.h().connection_count(), 0u);
  EXPECT_EQ(t.h().lookup(f.c.tuple()), nullptr);
  const auto* rec = t.h().lookup_time_wait(f.c.tuple());
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->snd_nxt, f.c.l(7));
  EXPECT_EQ(rec->rcv_nxt, f.c.r(7));
  EXPECT_EQ(rec->expiry, at_ms(50) + two_msl);
  EXPECT_EQ(t.h().next_deadline(), std::optional{at_ms(50) + two_msl});

  // RFC 1213 counters: SYN, ACK, data, ACK, ACK, FIN in; SYN-ACK, data (with the delayed
  // ACK), FIN, ACK out.
  const auto& k = t.ctr();
  EXPECT_EQ(k.active_opens, 0u);
  EXPECT_EQ(k.passive_opens, 1u);
  EXPECT_EQ(k.curr_estab, 0u);  // left ESTABLISHED for FIN-WAIT-1
  EXPECT_EQ(k.estab_resets, 0u);
  EXPECT_EQ(k.attempt_fails, 0u);
  EXPECT_EQ(k.in_segs, 6u);
  EXPECT_EQ(k.out_segs, 4u);
  EXPECT_EQ(k.retrans_segs, 0u);
  EXPECT_EQ(k.out_rsts, 0u);
  EXPECT_EQ(k.total_drops(), 0u);
  EXPECT_EQ(k.ip_in_receives, 6u);
  EXPECT_EQ(k.ip_out_requests, 4u);
}

// RFC 9293 §3.10.7.4 eighth step, TIME-WAIT: a retransmitted FIN is acknowledged and the
// 2 MSL timeout restarts; the record then expires at exactly 2 MSL after the restart.
TEST(lifecycle, record_acks_retransmitted_fin_and_restarts_timer) {
  closed_by_user f;
  f.run();
  auto& t = f.t;
  const auto& c = f.c;
  t.send(at_ms(1050), seg{.seq = c.r(6), .ack = c.l(7), .flags = tcp_flag::fin});
  t.expect_tcp(at_ms(1050), seg{.seq = c.l(7), .ack = c.r(7), .window = 0xFFFF}, true);
  t.expect_nothing(at_ms(1050));
  ASSERT_NE(t.h().lookup_time_wait(c.tuple()), nullptr);
  EXPECT_EQ(t.h().lookup_time_wait(c.tuple())->expiry, at_ms(1050) + two_msl);
  EXPECT_EQ(t.ctr().tcp(rx_verdict::time_wait), 1u);
  EXPECT_EQ(t.ctr().out_segs, 5u);

  // Not at the old expiry, nor a microsecond before the new one.
  t.expect_nothing(at_ms(50) + two_msl);
  EXPECT_EQ(t.h().time_wait_count(), 1u);
  t.expect_nothing(at_ms(1050) + two_msl - std::chrono::microseconds(1));
  EXPECT_EQ(t.h().time_wait_count(), 1u);
  EXPECT_EQ(t.h().next_deadline(), std::optional{at_ms(1050) + two_msl});
  t.expect_nothing(at_ms(1050) + two_msl);
  EXPECT_EQ(t.h().time_wait_count(), 0u);
  EXPECT_EQ(t.h().connection_count(), 0u);
  EXPECT_FALSE(t.h().next_deadline().has_value());
  // Gone: the 4-tuple is CLOSED now, a segment for it gets a RST.
  t.send(at_ms(1050) + two_msl, seg{.seq = c.r(7), .ack = c.l(7)});
  t.expect_tcp(at_ms(1050) + two_msl, seg{.seq = c.l(7), .flags = tcp_flag::rst});
}

// tcp_config::time_wait off (demos and tests only: `synack demo --why time-wait`): the last ACK
// still leaves, the 4-tuple is free 1 us later, and a retransmitted FIN gets a RST.
TEST(lifecycle, time_wait_knob_off_sends_the_last_ack_then_forgets) {
  closed_by_user f{stack_harness{[] {
    host_config h = default_config();
    h.tcp.time_wait = false;
    return h;
  }()}, {}, {}};
  f.run();  // the ACK of the peer's FIN left at 50 ms
  auto& t = f.t;
  const auto& c = f.c;
  t.expect_nothing(at_ms(50) + std::chrono::microseconds(1));
  EXPECT_EQ(t.h().time_wait_count(), 0u);
  EXPECT_EQ(t.h().connection_count(), 0u);
  t.send(at_ms(1050), seg{.seq = c.r(6), .ack = c.l(7), .flags = tcp_flag::fin});
  t.expect_tcp(at_ms(1050), seg{.seq = c.l(7), .flags = tcp_flag::rst});
}

TEST(lifecycle, record_expires_at_exactly_two_msl) {
  closed_by_user f;
  f.run();
  auto& t = f.t;
  t.advance(at_ms(50) + two_msl - std::chrono::microseconds(1));
  EXPECT_EQ(t.h().time_wait_count(), 1u);
  t.advance(at_ms(50) + two_msl);
  EXPECT_EQ(t.h().time_wait_count(), 0u);
  t.expect_nothing(at_ms(50) + two_msl);
}

// RFC 1337: a RST in TIME-WAIT is ignored (no state change, no reply).
TEST(lifecycle, rst_to_record_ignored) {
  closed_by_user f;
  f.run();
  auto& t = f.t;
  const auto& c = f.c;
  t.send(at_ms(100), seg{.seq = c.r(7), .flags = tcp_flag::rst});
  t.send(at_ms(100), seg{.seq = c.r(7), .ack = c.l(7), .flags = tcp_flag::rst});
  t.expect_nothing(at_ms(100));
  EXPECT_EQ(t.h().time_wait_count(), 1u);
  EXPECT_EQ(t.h().lookup_time_wait(c.tuple())->expiry, at_ms(50) + two_msl);
  EXPECT_EQ(t.ctr().tcp(rx_verdict::time_wait), 2u);
  EXPECT_EQ(t.ctr().out_rsts, 0u);
}

// RFC 5961 §4 in TIME-WAIT: a SYN at or below RCV.NXT gets a challenge ACK; RFC 6191 /
// RFC 1122 §4.2.2.13: one beyond RCV.NXT starts a new incarnation through the listener.
TEST(lifecycle, syn_to_record_challenge_or_reopen) {
  closed_by_user f;
  f.run();
  auto& t = f.t;
  const auto& c = f.c;
  t.send(at_ms(100), seg{.seq = c.r(0), .flags = tcp_flag::syn});
  t.expect_tcp(at_ms(100), seg{.seq = c.l(7), .ack = c.r(7)});
  EXPECT_EQ(t.h().time_wait_count(), 1u);

  const seq_num new_iss = c.r(7) + seq_len{100000};
  t.send(at_ms(200), seg{.seq = new_iss, .flags = tcp_flag::syn, .mss = 1460});
  auto synack = t.poll(at_ms(200));
  ASSERT_TRUE(synack && synack->tcp);
  EXPECT_EQ(synack->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack) << describe(*synack->tcp);
  EXPECT_EQ(synack->tcp->ack, new_iss + seq_len{1});
  t.expect_nothing(at_ms(200));
  EXPECT_EQ(t.h().time_wait_count(), 0u);
  EXPECT_EQ(t.h().connection_count(), 1u);
  EXPECT_EQ(t.h().half_open(f.l), 1u);
  EXPECT_EQ(t.ctr().passive_opens, 2u);
  t.send(at_ms(210), seg{.seq = new_iss + seq_len{1}, .ack = synack->tcp->seq + seq_len{1}});
  auto a = t.h().accept(f.l);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(t.h().state(*a), tcp_state::established);
}

// Passive close: the peer's FIN, the user closes in CLOSE-WAIT, LAST-ACK, then the TCB is
// freed without a TIME-WAIT record.
TEST(lifecycle, passive_close_frees_tcb) {
  stack_harness t;
  const auto l = t.listen();
  auto c = t.establish_passive(at_ms(0), l);
  t.send(at_ms(10), seg{.seq = c.r(1), .ack = c.l(1), .flags = tcp_flag::fin});
  t.expect_tcp(at_ms(10), seg{.seq = c.l(1), .ack = c.r(2)});
  EXPECT_EQ(t.h().state(c.h), tcp_state::close_wait);
  EXPECT_EQ(t.ctr().curr_estab, 1u);  // CLOSE-WAIT still counts (RFC 1213 tcpCurrEstab)
  EXPECT_EQ(t.read_all(c.h), "");
  ASSERT_TRUE(t.h().close(at_ms(20), c.h).has_value());
  t.expect_tcp(at_ms(20), seg{.seq = c.l(1), .ack = c.r(2), .flags = tcp_flag::fin});
  EXPECT_EQ(t.ctr().curr_estab, 0u);
  t.send(at_ms(30), seg{.seq = c.r(2), .ack = c.l(2)});
  t.expect_nothing(at_ms(30));
  EXPECT_EQ(t.h().connection_count(), 0u);
  EXPECT_EQ(t.h().time_wait_count(), 0u);
  EXPECT_FALSE(t.h().next_deadline().has_value());
  EXPECT_EQ(t.ctr().estab_resets, 0u);
}

// RFC 1213 tcpEstabResets: ESTABLISHED -> CLOSED by a RST at RCV.NXT.
TEST(lifecycle, reset_counts_estab_resets) {
  stack_harness t;
  auto c = t.establish_active(at_ms(0));
  EXPECT_EQ(t.ctr().curr_estab, 1u);
  t.send(at_ms(10), seg{.seq = c.r(1), .flags = tcp_flag::rst, .peer = c.peer, .local = c.local});
  t.expect_nothing(at_ms(10));
  EXPECT_EQ(t.ctr().estab_resets, 1u);
  EXPECT_EQ(t.ctr().curr_estab, 0u);
  auto ev = t.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].ev.kind, tcp_event_kind::closed);
  EXPECT_EQ(ev[0].ev.reason, close_reason::reset);
  EXPECT_EQ(t.h().connection_count(), 0u);
  auto s = t.h().send(c.h, bytes{});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error(), tcp_error::connection_reset);
}

// RFC 1213 tcpRetransSegs / tcpOutSegs: a retransmission counts once, in retrans_segs only.
TEST(lifecycle, retransmission_counted) {
  stack_harness t;
  auto c = t.establish_active(at_ms(0));
  const auto out_before = t.ctr().out_segs;
  EXPECT_EQ(t.write(c.h, "abc"), 3u);
  t.expect_tcp(at_ms(0), seg{.seq = c.l(1), .ack = c.r(1), .flags = tcp_flag::psh, .payload = "abc",
                             .peer = c.peer, .local = c.local});
  t.expect_nothing(at_ms(999));
  t.expect_tcp(at_ms(1000), seg{.seq = c.l(1), .ack = c.r(1), .flags = tcp_flag::psh, .payload = "abc",
                                .peer = c.peer, .local = c.local});
  EXPECT_EQ(t.ctr().out_segs, out_before + 1);
  EXPECT_EQ(t.ctr().retrans_segs, 1u);
  t.send(at_ms(1010), seg{.seq = c.r(1), .ack = c.l(4), .peer = c.peer, .local = c.local});
  t.expect_nothing(at_s(30));
  EXPECT_EQ(t.ctr().retrans_segs, 1u);
}

// A TIME-WAIT TCB the user still holds stays a full TCB; closed later, it shrinks to a record
// keeping its original expiry, even when younger records were added in between.
TEST(lifecycle, late_close_in_time_wait_keeps_expiry) {
  stack_harness t;
  const auto l = t.listen(80, 8);
  auto a = t.establish_passive(at_ms(0), l, 9000);
  auto b = t.establish_passive(at_ms(0), l, 9001);
  // a: shut down (not closed) -> TIME-WAIT at 1 s, still held by the user.
  ASSERT_TRUE(t.h().shutdown(at_s(1), a.h).has_value());
  t.expect_tcp(at_s(1), seg{.seq = a.l(1), .ack = a.r(1), .flags = tcp_flag::fin, .peer = 9000});
  t.send(at_s(1), seg{.seq = a.r(1), .ack = a.l(2), .flags = tcp_flag::fin, .peer = 9000});
  t.expect_tcp(at_s(1), seg{.seq = a.l(2), .ack = a.r(2), .peer = 9000});
  EXPECT_EQ(t.h().state(a.h), tcp_state::time_wait);
  EXPECT_EQ(t.h().connection_count(), 2u);
  EXPECT_EQ(t.h().time_wait_count(), 0u);
  // b: closed -> a record expiring at 11 s + 2 MSL.
  ASSERT_TRUE(t.h().close(at_s(11), b.h).has_value());
  t.expect_tcp(at_s(11), seg{.seq = b.l(1), .ack = b.r(1), .flags = tcp_flag::fin, .peer = 9001});
  t.send(at_s(11), seg{.seq = b.r(1), .ack = b.l(2), .flags = tcp_flag::fin, .peer = 9001});
  t.expect_tcp(at_s(11), seg{.seq = b.l(2), .ack = b.r(2), .peer = 9001});
  EXPECT_EQ(t.h().time_wait_count(), 1u);
  // a is closed now: its record keeps 1 s + 2 MSL.
  ASSERT_TRUE(t.h().close(at_s(20), a.h).has_value());
  EXPECT_EQ(t.h().time_wait_count(), 2u);
  EXPECT_EQ(t.h().connection_count(), 0u);
  ASSERT_NE(t.h().lookup_time_wait(a.tuple()), nullptr);
  EXPECT_EQ(t.h().lookup_time_wait(a.tuple())->expiry, at_s(1) + two_msl);
  EXPECT_EQ(t.h().next_deadline(), std::optional{at_s(1) + two_msl});
  t.advance(at_s(1) + two_msl);
  EXPECT_EQ(t.h().time_wait_count(), 1u);
  EXPECT_EQ(t.h().lookup_time_wait(a.tuple()), nullptr);
  t.advance(at_s(11) + two_msl);
  EXPECT_EQ(t.h().time_wait_count(), 0u);
}

}  // namespace
}  // namespace synack::stest

namespace synack::stest {
namespace {

// RFC 5961 §7: challenge ACKs beyond the per-connection limit are held back and counted in the
// host's ChallengeACKsSuppressed, both for full TCBs and for compact TIME-WAIT records.
TEST(lifecycle, suppressed_challenge_acks_counted_for_tcbs_and_records) {
  closed_by_user f;
  f.run();
  auto& t = f.t;
  const auto& c = f.c;
  const std::uint32_t limit = t.h().config().tcp.challenge_ack_limit;
  // The record: SYNs at an old sequence number each owe a challenge ACK.
  for (std::uint32_t i = 0; i < limit; ++i) {
    t.send(at_ms(100), seg{.seq = c.r(0), .flags = tcp_flag::syn});
    t.expect_tcp(at_ms(100), seg{.seq = c.l(7), .ack = c.r(7)});
  }
  EXPECT_EQ(t.ctr().challenge_acks_suppressed, 0u);
  t.send(at_ms(100), seg{.seq = c.r(0), .flags = tcp_flag::syn});
  t.send(at_ms(100), seg{.seq = c.r(0), .flags = tcp_flag::syn});
  t.expect_nothing(at_ms(100));
  EXPECT_EQ(t.ctr().challenge_acks_suppressed, 2u);

  // A full TCB: in-window RSTs not at RCV.NXT each owe a challenge ACK.
  auto e = t.establish_passive(at_ms(200), f.l, 9100);
  for (std::uint32_t i = 0; i < limit; ++i) {
    t.send(at_ms(200), seg{.seq = e.r(100), .flags = tcp_flag::rst, .peer = 9100});
    t.expect_tcp(at_ms(200), seg{.seq = e.l(1), .ack = e.r(1), .peer = 9100});
  }
  t.send(at_ms(200), seg{.seq = e.r(100), .flags = tcp_flag::rst, .peer = 9100});
  t.expect_nothing(at_ms(200));
  EXPECT_EQ(t.ctr().challenge_acks_suppressed, 3u);
  EXPECT_EQ(t.h().state(e.h), tcp_state::established);
}

}  // namespace
}  // namespace synack::stest
