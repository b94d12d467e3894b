// Passive open through the host: RFC 9293 §3.10.7.2 (LISTEN) and the bounded SYN and accept
// queues of RFC 4987 §3.2.
#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

TEST(listen, passive_open_accept_after_final_ack) {
  stack_harness t;
  const auto l = t.listen(80, 4);
  auto c = t.syn_to_listener(at_ms(0));
  EXPECT_EQ(t.h().half_open(l), 1u);
  EXPECT_EQ(t.ctr().passive_opens, 1u);
  EXPECT_EQ(t.h().connection_count(), 1u);
  // Not accepted before the final ACK.
  auto early = t.h().accept(l);
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error(), host_error::would_block);
  EXPECT_TRUE(t.events().empty());
  const auto* tcb = t.h().lookup(c.tuple());
  ASSERT_NE(tcb, nullptr);
  EXPECT_EQ(tcb->state(), tcp_state::syn_received);

  t.send(at_ms(10), seg{.seq = c.r(1), .ack = c.l(1)});
  t.expect_nothing(at_ms(10));
  EXPECT_EQ(t.h().half_open(l), 0u);
  EXPECT_EQ(t.h().accept_queue_len(l), 1u);
  auto ev = t.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, host_event::kind::accept_ready);
  EXPECT_EQ(ev[0].listener, l);
  EXPECT_EQ(ev[0].ev.kind, tcp_event_kind::established);

  auto a = t.h().accept(l);
  ASSERT_TRUE(a.has_value());
  c.h = *a;
  EXPECT_EQ(t.h().state(c.h), tcp_state::established);
  EXPECT_EQ(t.h().accept_queue_len(l), 0u);
  EXPECT_EQ(t.ctr().curr_estab, 1u);
  EXPECT_EQ(t.h().find(c.h), tcb);

  // Connection events now reach the user through the handle: the peer's FIN.
  t.send(at_ms(20), seg{.seq = c.r(1), .ack = c.l(1), .flags = tcp_flag::fin});
  t.expect_tcp(at_ms(20), seg{.seq = c.l(1), .ack = c.r(2)});
  ev = t.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, host_event::kind::connection);
  EXPECT_EQ(ev[0].conn, c.h);
  EXPECT_EQ(ev[0].ev.kind, tcp_event_kind::peer_closed);
  EXPECT_EQ(t.h().state(c.h), tcp_state::close_wait);
}

TEST(listen, synack_carries_mss_and_exact_numbers) {
  stack_harness t;
  (void)t.listen();
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1000});
  auto got = t.poll(at_ms(0));
  ASSERT_TRUE(got && got->tcp);
  EXPECT_EQ(got->ip.dst, peer_ip);
  EXPECT_EQ(got->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(got->tcp->ack, peer_iss + seq_len{1});
  EXPECT_EQ(got->tcp->options.mss, std::optional<std::uint16_t>{1460});
  EXPECT_FALSE(got->tcp->options.window_scale.has_value());  // the SYN had none (RFC 7323 §2.2)
  EXPECT_EQ(got->tcp->window, 0xFFFF);
  EXPECT_EQ(t.ctr().out_segs, 1u);
}

TEST(listen, ack_to_listener_gets_rst) {
  stack_harness t;
  const auto l = t.listen();
  auto want = t.ctr();
  t.send(at_ms(0), seg{.seq = peer_iss, .ack = seq_num{0xFFFFFFFFu}});
  t.expect_tcp(at_ms(0), seg{.seq = seq_num{0xFFFFFFFFu}, .flags = tcp_flag::rst});
  t.expect_nothing(at_ms(0));
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.tcp(rx_verdict::listen_ack);
  ++want.out_segs;
  ++want.out_rsts;
  ++want.ip_out_requests;
  t.expect_counters(want);
  EXPECT_EQ(t.h().half_open(l), 0u);
  EXPECT_EQ(t.h().connection_count(), 0u);
}

TEST(listen, rst_and_flagless_to_listener_ignored) {
  stack_harness t;
  const auto l = t.listen();
  auto want = t.ctr();
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::rst});
  t.send(at_ms(0), seg{.seq = peer_iss, .ack = seq_num{1}, .flags = tcp_flag::rst});
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::fin});
  t.send(at_ms(0), seg{.seq = peer_iss, .payload = "data"});
  t.expect_nothing(at_ms(0));
  want.ip_in_receives += 4;
  want.in_segs += 4;
  want.tcp(rx_verdict::listen_rst) += 2;
  want.tcp(rx_verdict::listen_no_syn) += 2;
  t.expect_counters(want);
  EXPECT_EQ(t.h().half_open(l), 0u);
  EXPECT_EQ(t.h().connection_count(), 0u);
}

TEST(listen, syn_fin_dropped) {
  stack_harness t;
  const auto l = t.listen();
  auto want = t.ctr();
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn | tcp_flag::fin});
  t.expect_nothing(at_ms(0));
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.tcp(rx_verdict::syn_fin);
  t.expect_counters(want);
  EXPECT_EQ(t.h().half_open(l), 0u);
  EXPECT_EQ(t.h().connection_count(), 0u);
}

TEST(listen, syn_fin_answered_as_a_syn_when_drop_syn_fin_off) {
  host_config cfg = default_config();
  cfg.tcp.drop_syn_fin = false;
  stack_harness t(cfg);
  const auto l = t.listen();
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn | tcp_flag::fin, .payload = "abc"});
  auto got = t.poll(at_ms(0));
  ASSERT_TRUE(got && got->tcp);
  EXPECT_EQ(got->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(got->tcp->ack, peer_iss + seq_len{1});  // the SYN alone: not the text, not the FIN
  EXPECT_TRUE(got->tcp->payload.empty());
  t.expect_nothing(at_ms(0));
  EXPECT_EQ(t.h().half_open(l), 1u);
  EXPECT_EQ(t.ctr().tcp(rx_verdict::syn_fin), 0u);
}

TEST(listen, listen_arguments) {
  stack_harness t;
  auto z = t.h().listen(0, 4);
  ASSERT_FALSE(z.has_value());
  EXPECT_EQ(z.error(), host_error::invalid_argument);
  (void)t.listen(80);
  auto dup = t.h().listen(80, 4);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error(), host_error::address_in_use);
}

// RFC 4987 §3.2: with syn_backlog = N, the (N+1)th half-open connection is not created.
// (With SYN cookies off: by default the SYN would get a cookie, tests/stack/syn_cookie_test.cpp.)
TEST(listen, syn_queue_bounded) {
  host_config cfg = default_config();
  cfg.syn_backlog = 3;
  cfg.syncookies = syncookies_mode::off;
  stack_harness t(cfg);
  const auto l = t.listen(80, 16);
  for (std::uint16_t i = 0; i < 3; ++i) (void)t.syn_to_listener(at_ms(0), static_cast<std::uint16_t>(5000 + i));
  EXPECT_EQ(t.h().half_open(l), 3u);
  auto want = t.ctr();
  t.send(at_ms(1), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 5003});
  t.expect_nothing(at_ms(1));
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.listen_drops;
  ++want.host(host_drop::syn_queue_full);
  t.expect_counters(want);
  EXPECT_EQ(t.h().half_open(l), 3u);
  EXPECT_EQ(t.h().connection_count(), 3u);
  EXPECT_EQ(t.ctr().passive_opens, 3u);
  EXPECT_EQ(t.h().lookup(four_tuple{host_ip, 80, peer_ip, 5003}), nullptr);
}

// Half-open entries give up after SYN-ACK retransmissions reach syn_r2 (RFC 9293 §3.8.3,
// MUST-20/23 with a short test value) and leave nothing behind.
TEST(listen, half_open_freed_after_synack_retries) {
  host_config cfg = default_config();
  cfg.tcp.syn_r2 = std::chrono::seconds(3);
  stack_harness t(cfg);
  const auto l = t.listen(80, 16);
  auto a = t.syn_to_listener(at_ms(0), 6000);
  auto b = t.syn_to_listener(at_ms(0), 6001);
  EXPECT_EQ(t.h().half_open(l), 2u);
  // RTO 1 s: SYN-ACKs again at 1 s, then (backed off) at 3 s it is R2: give up, no RST.
  auto p1 = t.poll(at_ms(1000));
  auto p2 = t.poll(at_ms(1000));
  t.expect_nothing(at_ms(1000));
  ASSERT_TRUE(p1 && p1->tcp && p2 && p2->tcp);
  for (const auto* p : {&*p1->tcp, &*p2->tcp}) {  // one each, in either order
    const conn_info& c = p->dst_port == 6000 ? a : b;
    EXPECT_EQ(p->wire_flags(), tcp_flag::syn | tcp_flag::ack) << describe(*p);
    EXPECT_EQ(p->seq, c.l(0)) << describe(*p);
    EXPECT_EQ(p->ack, c.r(1)) << describe(*p);
  }
  EXPECT_NE(p1->tcp->dst_port, p2->tcp->dst_port);
  EXPECT_EQ(t.ctr().retrans_segs, 2u);
  t.expect_nothing(at_ms(2999));
  EXPECT_EQ(t.h().half_open(l), 2u);
  t.expect_nothing(at_ms(3000));
  EXPECT_EQ(t.h().half_open(l), 0u);
  EXPECT_EQ(t.h().connection_count(), 0u);
  EXPECT_EQ(t.ctr().attempt_fails, 2u);
  EXPECT_FALSE(t.h().next_deadline().has_value());
  EXPECT_TRUE(t.events().empty());
  // The listener still works.
  auto c = t.syn_to_listener(at_ms(4000), 6002);
  EXPECT_EQ(t.h().half_open(l), 1u);
  (void)c;
}

// The accept queue is bounded by the backlog: a SYN while it is full is dropped
// (ListenOverflows), and a half-open connection completing into a full queue is reset.
TEST(listen, accept_queue_bounded_by_backlog) {
  stack_harness t;
  const auto l = t.listen(80, 1);
  auto a = t.syn_to_listener(at_ms(0), 7000);
  auto b = t.syn_to_listener(at_ms(0), 7001);  // the queue is still empty: accepted as half-open
  t.send(at_ms(1), seg{.seq = a.r(1), .ack = a.l(1), .peer = 7000});
  EXPECT_EQ(t.h().accept_queue_len(l), 1u);

  auto want = t.ctr();
  t.send(at_ms(2), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 7002});
  t.expect_nothing(at_ms(2));
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.listen_overflows;
  ++want.listen_drops;
  ++want.host(host_drop::listen_overflow);
  t.expect_counters(want);

  // b completes the handshake into the full queue: reset <SEQ=SND.NXT><CTL=RST>.
  t.send(at_ms(3), seg{.seq = b.r(1), .ack = b.l(1), .peer = 7001});
  t.expect_tcp(at_ms(3), seg{.seq = b.l(1), .flags = tcp_flag::rst, .peer = 7001});
  t.expect_nothing(at_ms(3));
  EXPECT_EQ(t.ctr().listen_overflows, 2u);
  EXPECT_EQ(t.h().half_open(l), 0u);
  EXPECT_EQ(t.h().accept_queue_len(l), 1u);
  EXPECT_EQ(t.h().connection_count(), 1u);
  ASSERT_TRUE(t.h().accept(l).has_value());
  EXPECT_EQ(t.h().connection_count(), 1u);
}

// Closing a listener resets the connections it has not handed out, half-open or queued;
// accepted ones live on.
TEST(listen, close_listener_resets_unaccepted) {
  stack_harness t;
  const auto l = t.listen(80, 8);
  auto acc = t.establish_passive(at_ms(0), l, 8000);
  auto queued = t.syn_to_listener(at_ms(0), 8001);
  t.send(at_ms(0), seg{.seq = queued.r(1), .ack = queued.l(1), .peer = 8001});
  auto half = t.syn_to_listener(at_ms(0), 8002);
  EXPECT_EQ(t.h().accept_queue_len(l), 1u);
  EXPECT_EQ(t.h().half_open(l), 1u);

  t.h().close_listener(at_ms(5), l);
  auto p1 = t.poll(at_ms(5));
  auto p2 = t.poll(at_ms(5));
  t.expect_nothing(at_ms(5));
  ASSERT_TRUE(p1 && p1->tcp && p2 && p2->tcp);
  // Order follows the slot table; check both regardless of order.
  for (const auto* p : {&*p1->tcp, &*p2->tcp}) {
    EXPECT_EQ(p->wire_flags(), tcp_flag::rst) << describe(*p);
    EXPECT_FALSE(p->ack.has_value());
    if (p->dst_port == 8001) {
      EXPECT_EQ(p->seq, queued.l(1));
    } else {
      EXPECT_EQ(p->dst_port, 8002);
      EXPECT_EQ(p->seq, half.l(1));
    }
  }
  EXPECT_EQ(t.h().connection_count(), 1u);
  EXPECT_EQ(t.h().state(acc.h), tcp_state::established);
  auto a = t.h().accept(l);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error(), host_error::bad_handle);
  EXPECT_EQ(t.h().half_open(l), 0u);
  // The port is closed now: a SYN gets <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>.
  t.send(at_ms(6), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 8003});
  t.expect_tcp(at_ms(6), seg{.seq = seq_num{0}, .ack = peer_iss + seq_len{1}, .flags = tcp_flag::rst,
                             .peer = 8003});
  // And it can listen again.
  auto l2 = t.h().listen(80, 8);
  ASSERT_TRUE(l2.has_value());
  EXPECT_NE(*l2, l);
}

// A RST at RCV.NXT to a half-open connection frees it (RFC 9293 §3.10.7.4 second, passive
// SYN-RECEIVED "return to LISTEN"); the listener stays.
TEST(listen, rst_to_half_open_frees_it) {
  stack_harness t;
  const auto l = t.listen(80, 8);
  auto c = t.syn_to_listener(at_ms(0));
  t.send(at_ms(1), seg{.seq = c.r(1), .flags = tcp_flag::rst});
  t.expect_nothing(at_ms(1));
  EXPECT_EQ(t.h().half_open(l), 0u);
  EXPECT_EQ(t.h().connection_count(), 0u);
  EXPECT_EQ(t.ctr().attempt_fails, 1u);
  EXPECT_TRUE(t.events().empty());
  EXPECT_FALSE(t.h().next_deadline().has_value());
}


// A child reset by its peer while it waits in the accept queue, with data it received: by
// RFC 9293 §3.10.7.4 (the default) its queues are flushed and the listener forgets it; with
// tcp_config::reset_keeps_received_linux (Linux's tcp_reset) it stays queued, CLOSED, and the
// data is still read from it after accept.
TEST(listen, reset_child_in_the_accept_queue_flushed_or_kept) {
  for (const bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "reset_keeps_received_linux" : "RFC 9293");
    host_config cfg = default_config();
    cfg.tcp.reset_keeps_received_linux = keep;
    stack_harness t(cfg);
    const listener_handle l = t.listen();
    conn_info c = t.syn_to_listener(at_ms(0));
    t.send(at_ms(1), seg{.seq = c.r(1), .ack = c.l(1)});
    t.send(at_ms(2), seg{.seq = c.r(1), .ack = c.l(1), .flags = tcp_flag::psh, .payload = "before the reset"});
    t.send(at_ms(3), seg{.seq = c.r(17), .ack = c.l(1), .flags = tcp_flag::rst});
    // Another SYN meanwhile: its half-open connection must not take the queued child's place.
    (void)t.syn_to_listener(at_ms(4), peer_port + 1);
    auto a = t.h().accept(l);
    EXPECT_EQ(a.has_value(), keep);
    if (!a) continue;
    EXPECT_EQ(t.h().state(*a), tcp_state::closed);
    EXPECT_EQ(t.read_all(*a), "before the reset");
    EXPECT_EQ(t.h().accept_queue_len(l), 0u);
  }
}
}  // namespace
}  // namespace synack::stest
