// Deferred SYN answers (issue #15; any_address_options::defer_syn), over IPv4 and IPv6 with
// exact segments: a held SYN is answered only when the application decides — a SYN-ACK and a
// normal handshake (accept_syn), a RST|ACK as a closed port (refuse_syn reset), or an ICMP
// destination unreachable of the chosen code quoting the SYN, from the original destination.
// Retransmissions are absorbed, the held set is bounded, and held SYNs expire on virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "any_harness.hpp"

namespace synack::stest {
namespace {

class deferred_syn : public testing::TestWithParam<family> {
 protected:
  deferred_syn() : t_(dual_config()), a_(addrs_of(GetParam())) {}

  listener_handle listen(std::size_t max_pending = 8, duration timeout = std::chrono::seconds(30),
                         bool evict_oldest = false) {
    any_address_options o;
    o.defer_syn = true;
    o.max_pending_syns = max_pending;
    o.pending_syn_timeout = timeout;
    o.evict_oldest_syn = evict_oldest;
    auto l = t_.h().listen_any(8, o);
    EXPECT_TRUE(l.has_value());
    return l ? *l : listener_handle{};
  }
  // The SYN from the peer's `port` to far:443, as sent (kept: an ICMP error quotes it).
  std::vector<std::byte> syn(instant at, std::uint16_t port = peer_port, seq_num seq = peer_iss) {
    auto p = tcp_to(a_.peer, a_.far,
                    seg{.seq = seq, .flags = tcp_flag::syn, .mss = 1400, .wscale = 7, .peer = port, .local = 443});
    t_.feed(at, p);
    return p;
  }
  // The held SYNs the host reported since the last call.
  std::vector<syn_handle> pending_events() {
    std::vector<syn_handle> v;
    for (const host_event& e : t_.events()) {
      if (e.what == host_event::kind::syn_pending) v.push_back(e.syn);
    }
    return v;
  }
  void expect_silence(instant at, test::source_loc loc = test::source_loc::current()) {
    const auto e = poll_any(t_, at);
    EXPECT_FALSE(e.has_value()) << "expected silence at " << loc.file_name() << ":" << loc.line();
  }
  void expect_balanced(test::source_loc loc = test::source_loc::current()) {
    const host_counters& k = t_.ctr();
    EXPECT_EQ(k.ip_in_receives, k.in_accepted + k.total_drops() - k.host(host_drop::reply_queue_full))
        << loc.file_name() << ":" << loc.line();
  }

  stack_harness t_;
  family_addrs a_;
};

INSTANTIATE_TEST_SUITE_P(families, deferred_syn, testing::Values(family::v4, family::v6), family_name);

TEST_P(deferred_syn, accept_gives_a_normal_handshake_negotiated_from_the_held_syn) {
  const listener_handle l = listen();
  (void)syn(at_ms(0));
  expect_silence(at_ms(0));  // held: no SYN-ACK, no TCB
  const four_tuple tuple{a_.far, 443, a_.peer, peer_port};
  EXPECT_FALSE(t_.h().state(tuple).has_value());
  const auto held = pending_events();
  ASSERT_EQ(held.size(), 1u);
  const auto info = t_.h().pending_syn(held[0]);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->tuple, tuple);
  EXPECT_EQ(info->seq, peer_iss);
  EXPECT_EQ(info->options.mss, 1400);
  EXPECT_EQ(info->arrived, at_ms(0));
  // 40 ms later the application accepts: SYN-ACK from the original destination.
  ASSERT_TRUE(t_.h().accept_syn(at_ms(40), held[0]).has_value());
  const got_tcp sa = expect_tcp_from(t_, at_ms(40), a_.far, a_.peer).value_or(got_tcp{});
  EXPECT_EQ(sa.seg.wire_flags(), tcp_flag::syn | tcp_flag::ack) << describe(sa.seg);
  EXPECT_EQ(sa.seg.ack, peer_iss + seq_len{1});
  EXPECT_EQ(sa.seg.src_port, 443);
  EXPECT_EQ(sa.seg.dst_port, peer_port);
  EXPECT_TRUE(sa.seg.options.mss.has_value());
  EXPECT_TRUE(sa.seg.options.window_scale.has_value());  // the SYN offered it
  EXPECT_EQ(t_.h().state(tuple), tcp_state::syn_received);
  EXPECT_FALSE(t_.h().pending_syn(held[0]).has_value());  // answered: the handle is stale
  EXPECT_EQ(t_.h().accept_syn(at_ms(40), held[0]).error(), host_error::bad_handle);
  // The handshake completes as for any SYN.
  t_.feed(at_ms(41), tcp_to(a_.peer, a_.far, seg{.seq = peer_iss + seq_len{1}, .ack = sa.seg.seq + seq_len{1}, .local = 443}));
  auto c = t_.h().accept(l);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(t_.h().status(*c)->tuple, tuple);
  EXPECT_EQ(t_.h().status(*c)->state, tcp_state::established);
  EXPECT_EQ(t_.ctr().syn_deferred, 1u);
  EXPECT_EQ(t_.ctr().syn_deferred_accepted, 1u);
  EXPECT_EQ(t_.ctr().passive_opens, 1u);
  expect_balanced();
}

TEST_P(deferred_syn, refused_gives_rst_ack_as_a_closed_port) {
  (void)listen();
  (void)syn(at_ms(0));
  const auto held = pending_events();
  ASSERT_EQ(held.size(), 1u);
  ASSERT_TRUE(t_.h().refuse_syn(at_ms(5), held[0], syn_refusal::reset).has_value());
  // RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>, from the original destination.
  const got_tcp r = expect_tcp_from(t_, at_ms(5), a_.far, a_.peer).value_or(got_tcp{});
  EXPECT_EQ(r.seg.wire_flags(), tcp_flag::rst | tcp_flag::ack) << describe(r.seg);
  EXPECT_EQ(r.seg.seq.raw, 0u);
  EXPECT_EQ(r.seg.ack, peer_iss + seq_len{1});
  EXPECT_EQ(r.seg.src_port, 443);
  EXPECT_EQ(r.seg.dst_port, peer_port);
  expect_silence(at_ms(5));
  EXPECT_EQ(t_.h().refuse_syn(at_ms(6), held[0], syn_refusal::reset).error(), host_error::bad_handle);
  EXPECT_EQ(t_.ctr().syn_deferred_refused, 1u);
  EXPECT_EQ(t_.ctr().out_rsts, 1u);
  EXPECT_EQ(t_.ctr().passive_opens, 0u);
  expect_balanced();
}

TEST_P(deferred_syn, unreachable_gives_the_icmp_code_quoting_the_syn) {
  struct want {
    syn_refusal why;
    std::uint8_t v4, v6;
  };
  // RFC 792 / RFC 1812 §5.2.7.1 codes 1, 0, 13, 3; RFC 4443 §3.1 codes 3, 0, 1, 4.
  const std::vector<want> cases{{syn_refusal::host_unreachable, 1, 3},
                                {syn_refusal::net_unreachable, 0, 0},
                                {syn_refusal::admin_prohibited, 13, 1},
                                {syn_refusal::port_unreachable, 3, 4}};
  (void)listen();
  std::uint16_t port = peer_port;
  instant at = at_ms(0);
  for (const want& w : cases) {
    SCOPED_TRACE(static_cast<int>(w.why));
    const auto sent = syn(at, port);
    const auto held = pending_events();
    ASSERT_EQ(held.size(), 1u);
    ASSERT_TRUE(t_.h().refuse_syn(at, held[0], w.why).has_value());
    // From the original destination, as the path would answer, quoting the whole SYN.
    expect_unreachable(t_, at, a_.far, a_.peer, w.v4, w.v6, sent);
    expect_silence(at);
    ++port;
    at = at + std::chrono::milliseconds(10);
  }
  EXPECT_EQ(t_.ctr().syn_deferred_unreachable, cases.size());
  EXPECT_EQ(t_.ctr().icmp_out_errors, cases.size());
  EXPECT_EQ(t_.ctr().out_rsts, 0u);
  expect_balanced();
}

TEST_P(deferred_syn, a_retransmitted_syn_is_absorbed_while_held) {
  const listener_handle l = listen();
  (void)syn(at_ms(0));
  (void)syn(at_s(1));  // the client's retransmission
  expect_silence(at_s(1));
  const auto held = pending_events();
  ASSERT_EQ(held.size(), 1u);  // one entry, one event
  EXPECT_EQ(t_.ctr().syn_deferred, 1u);
  EXPECT_EQ(t_.ctr().syn_deferred_retransmits, 1u);
  ASSERT_TRUE(t_.h().accept_syn(at_s(2), held[0]).has_value());
  const got_tcp sa = expect_tcp_from(t_, at_s(2), a_.far, a_.peer).value_or(got_tcp{});
  EXPECT_EQ(sa.seg.wire_flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(sa.seg.ack, peer_iss + seq_len{1});
  expect_silence(at_s(2));  // one SYN-ACK only
  EXPECT_EQ(t_.h().half_open(l), 1u);
  // Once answered, a retransmitted SYN goes to the half-open TCB (SYN-ACK again), not the held set.
  (void)syn(at_s(3));
  const got_tcp again = expect_tcp_from(t_, at_s(3), a_.far, a_.peer).value_or(got_tcp{});
  EXPECT_EQ(again.seg.wire_flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_TRUE(pending_events().empty());
  expect_balanced();
}

TEST_P(deferred_syn, a_full_pending_set_drops_the_syn_and_counts_it) {
  (void)listen(2);
  (void)syn(at_ms(0), peer_port);
  (void)syn(at_ms(0), peer_port + 1);
  (void)syn(at_ms(1), peer_port + 2);  // beyond the bound: dropped, neither cookie nor SYN-ACK
  expect_silence(at_ms(1));
  auto held = pending_events();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(t_.ctr().syn_deferred_overflow, 1u);
  EXPECT_EQ(t_.ctr().host(host_drop::syn_pending_full), 1u);
  EXPECT_EQ(t_.ctr().listen_drops, 1u);
  EXPECT_EQ(t_.ctr().syncookies_sent, 0u);
  // Answering one makes room: the client's retransmission is held this time.
  ASSERT_TRUE(t_.h().refuse_syn(at_ms(2), held[0], syn_refusal::reset).has_value());
  (void)poll_any(t_, at_ms(2));
  (void)syn(at_s(1), peer_port + 2);
  held = pending_events();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(t_.h().pending_syn(held[0])->tuple.remote_port, peer_port + 2);
  expect_balanced();
}

// evict_oldest_syn (synack proxy's choice): a full set forgets its oldest held SYN, silently,
// and holds the new one, so SYNs whose answers never come cannot keep the others out.
TEST_P(deferred_syn, a_full_pending_set_evicts_the_oldest_syn_with_evict_oldest) {
  (void)listen(2, std::chrono::seconds(30), true);
  (void)syn(at_ms(0), peer_port);
  (void)syn(at_ms(1), peer_port + 1);
  (void)syn(at_ms(2), peer_port + 2);  // beyond the bound: the oldest (peer_port) goes
  expect_silence(at_ms(2));            // nothing answers the forgotten SYN
  auto held = pending_events();
  ASSERT_EQ(held.size(), 3u);
  EXPECT_FALSE(t_.h().pending_syn(held[0]).has_value());
  EXPECT_FALSE(t_.h().accept_syn(at_ms(3), held[0]).has_value());
  EXPECT_EQ(t_.h().pending_syn(held[1])->tuple.remote_port, peer_port + 1);
  EXPECT_EQ(t_.h().pending_syn(held[2])->tuple.remote_port, peer_port + 2);
  EXPECT_EQ(t_.ctr().syn_deferred_overflow, 1u);
  EXPECT_EQ(t_.ctr().host(host_drop::syn_pending_full), 0u);  // no packet dropped: the new SYN is held
  EXPECT_EQ(t_.ctr().listen_drops, 1u);
  // Answering the newest keeps the order of the rest: the next overflow takes peer_port + 1.
  const syn_handle second = held[1];
  ASSERT_TRUE(t_.h().refuse_syn(at_ms(4), held[2], syn_refusal::reset).has_value());
  (void)poll_any(t_, at_ms(4));
  (void)syn(at_ms(5), peer_port + 3);
  (void)syn(at_ms(6), peer_port + 4);
  held = pending_events();
  ASSERT_EQ(held.size(), 2u);
  EXPECT_EQ(t_.ctr().syn_deferred_overflow, 2u);
  EXPECT_FALSE(t_.h().pending_syn(second).has_value());
  EXPECT_EQ(t_.h().pending_syn(held[0])->tuple.remote_port, peer_port + 3);
  // The newest is served as any held SYN: its SYN-ACK.
  ASSERT_TRUE(t_.h().accept_syn(at_ms(7), held[1]).has_value());
  const got_tcp sa = expect_tcp_from(t_, at_ms(7), a_.far, a_.peer).value_or(got_tcp{});
  EXPECT_EQ(sa.seg.wire_flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(sa.seg.dst_port, peer_port + 4);
  // A retransmission of a forgotten SYN is a new held SYN.
  (void)syn(at_s(1), peer_port);
  held = pending_events();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(t_.h().pending_syn(held[0])->tuple.remote_port, peer_port);
  expect_balanced();
}

TEST_P(deferred_syn, held_syns_expire_on_the_time_passed_in) {
  (void)listen(8, std::chrono::seconds(5));
  (void)syn(at_ms(0));
  const auto held = pending_events();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(t_.h().next_deadline(), at_s(5));
  t_.advance(at_s(5));
  expect_silence(at_s(5));  // forgotten without an answer
  EXPECT_EQ(t_.ctr().syn_deferred_expired, 1u);
  EXPECT_FALSE(t_.h().pending_syn(held[0]).has_value());
  EXPECT_EQ(t_.h().accept_syn(at_s(5), held[0]).error(), host_error::bad_handle);
  EXPECT_FALSE(t_.h().next_deadline().has_value());
  // A later retransmission is a new held SYN.
  (void)syn(at_s(7));
  EXPECT_EQ(pending_events().size(), 1u);
  EXPECT_EQ(t_.ctr().syn_deferred, 2u);
  expect_balanced();
}

// The client's RST at exactly SYN.SEQ + 1 withdraws its held SYN (as it would reset a
// SYN-RECEIVED TCB); a RST at any other sequence number, or for another tuple, is a
// listener's to ignore (RFC 5961 §3: a blind RST must guess the exact number).
TEST_P(deferred_syn, the_clients_rst_withdraws_its_held_syn) {
  (void)listen();
  (void)syn(at_ms(0));
  const auto held = pending_events();
  ASSERT_EQ(held.size(), 1u);
  const auto rst = [&](instant at, seq_num seq, std::uint16_t port = peer_port) {
    t_.feed(at, tcp_to(a_.peer, a_.far, seg{.seq = seq, .flags = tcp_flag::rst, .peer = port, .local = 443}));
  };
  rst(at_ms(1), peer_iss + seq_len{2});     // off by one
  rst(at_ms(1), peer_iss);                  // the SYN's own number
  rst(at_ms(1), peer_iss + seq_len{1}, peer_port + 1);  // another client port
  expect_silence(at_ms(1));
  EXPECT_TRUE(t_.h().pending_syn(held[0]).has_value());
  EXPECT_EQ(t_.ctr().tcp(rx_verdict::listen_rst), 3u);
  EXPECT_EQ(t_.ctr().syn_deferred_reset, 0u);

  rst(at_ms(2), peer_iss + seq_len{1});
  expect_silence(at_ms(2));  // a RST is never answered
  EXPECT_FALSE(t_.h().pending_syn(held[0]).has_value());
  EXPECT_EQ(t_.h().accept_syn(at_ms(3), held[0]).error(), host_error::bad_handle);
  EXPECT_EQ(t_.ctr().syn_deferred_reset, 1u);
  EXPECT_FALSE(t_.h().next_deadline().has_value());
  // The same RST again finds nothing held.
  rst(at_ms(4), peer_iss + seq_len{1});
  EXPECT_EQ(t_.ctr().tcp(rx_verdict::listen_rst), 4u);
  EXPECT_EQ(t_.ctr().syn_deferred_reset, 1u);
  expect_balanced();
}

TEST_P(deferred_syn, closing_the_listener_forgets_held_syns) {
  const listener_handle l = listen();
  (void)syn(at_ms(0));
  const auto held = pending_events();
  ASSERT_EQ(held.size(), 1u);
  t_.h().close_listener(at_ms(1), l);
  EXPECT_FALSE(t_.h().pending_syn(held[0]).has_value());
  EXPECT_EQ(t_.h().refuse_syn(at_ms(1), held[0], syn_refusal::reset).error(), host_error::bad_handle);
  EXPECT_FALSE(t_.h().next_deadline().has_value());
}

}  // namespace
}  // namespace synack::stest
