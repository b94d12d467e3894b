// RFC 9293 §3.10.7.4 in ESTABLISHED: the sequence check, ACK processing and the FIN arc.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;

TEST(established, active_fixture_equals_passive_numbers) {
  tcp_harness a;
  a.establish_active();
  tcp_harness p;
  p.establish_passive();
  for (tcp_harness* h : {&a, &p}) {
    EXPECT_EQ(h->conn().snd().una, h->l(1));
    EXPECT_EQ(h->conn().snd().nxt, h->l(1));
    EXPECT_EQ(h->conn().rcv().nxt, h->r(1));
    EXPECT_EQ(h->conn().snd().wnd, 65535u);
    EXPECT_EQ(h->conn().snd().mss, 1460);
    EXPECT_FALSE(h->conn().next_deadline().has_value());
  }
}

TEST(established, pure_ack__silence) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1)}), rx_verdict::accepted);
  h.expect_nothing(at_ms(1));
  h.expect_state(tcp_state::established);
}

TEST(established, fin__close_wait_ack_and_peer_closed) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin}), rx_verdict::accepted);
  h.expect_state(tcp_state::close_wait);
  h.expect_last_arc(tcp_state::established, tcp_state::close_wait);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(2)});
  h.expect_event(tcp_event{tcp_event_kind::peer_closed, close_reason::none});
  EXPECT_TRUE(h.conn().peer_fin_received());
}

TEST(established, data_with_fin__both_taken) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin | psh, .payload = "bye"});
  h.expect_state(tcp_state::close_wait);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(5)});  // 3 bytes + FIN
  EXPECT_EQ(h.read_all(), "bye");
}

TEST(established, out_of_order_fin__held_until_the_gap_fills) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(10), .ack = h.l(1), .flags = fin});
  h.expect_state(tcp_state::established);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});  // dup ACK for the gap
  EXPECT_FALSE(h.conn().peer_fin_received());
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = "123456789"});
  h.expect_state(tcp_state::close_wait);
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(11)});  // the data and the held FIN
  EXPECT_EQ(h.read_all(), "123456789");
  EXPECT_TRUE(h.conn().peer_fin_received());
}

TEST(established, segment_left_of_window__dup_ack) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = h.r(0), .ack = h.l(1)}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});
}

TEST(established, segment_right_of_window__dup_ack) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = h.r(1 + 65535), .ack = h.l(1), .payload = "x"}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});
  EXPECT_EQ(h.conn().recv_available(), 0u);
}

TEST(established, segment_at_last_window_octet__in_window_held_out_of_order) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = h.r(65535), .ack = h.l(1), .payload = "x"}), rx_verdict::accepted);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});
  EXPECT_EQ(h.conn().snapshot().recv_ooo_bytes, 1u);
}

TEST(established, segment_overlapping_left_edge__new_part_taken) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_nothing(at_ms(1));  // delayed ACK
  h.send(at_ms(2), seg{.seq = h.r(2), .ack = h.l(1), .payload = "bcdef"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(7)});  // the second segment
  EXPECT_EQ(h.read_all(), "abcdef");
}

TEST(established, duplicate_data__dup_ack_not_delivered_twice) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_recv(at_ms(41), seg{.seq = h.l(1), .ack = h.r(4)});  // delayed ACK
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(4)});  // a duplicate is ACKed at once
  EXPECT_EQ(h.read_all(), "abc");
}

TEST(established, window_update_from_newer_segment) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .window = 1234});
  EXPECT_EQ(h.conn().snd().wnd, 1234u);
  // An older segment (SND.WL1 > SEG.SEQ) must not update the window.
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = "ab"});
  EXPECT_EQ(h.conn().snd().wnd, 65535u);
  h.expect_recv(at_ms(42), seg{.seq = h.l(1), .ack = h.r(3)});  // delayed ACK
  h.send(at_ms(43), seg{.seq = h.r(1), .ack = h.l(1), .window = 10});  // SEG.SEQ < SND.WL1
  EXPECT_EQ(h.conn().snd().wnd, 65535u);
}

TEST(established, shutdown__fin_wait_1) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  ASSERT_TRUE(h.conn().shutdown(at_ms(1)).has_value());
  h.expect_state(tcp_state::fin_wait_1);
  h.expect_last_arc(tcp_state::established, tcp_state::fin_wait_1);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin});
}

// PSH (MUST-61) goes on the segment that carries the push point, the last byte written. With
// psh_burst_linux also on the last segment of a burst that the congestion window cut short,
// as Linux's segments look to packetdrill; never on one sent on a duplicate ACK.
TEST(established, psh_burst_linux__marks_where_cwnd_cuts_the_burst) {
  for (const bool linux_psh : {false, true}) {
    SCOPED_TRACE(linux_psh ? "psh_burst_linux" : "push point only");
    tcp_config cfg;
    cfg.psh_burst_linux = linux_psh;
    tcp_harness h(cfg);
    h.establish_passive(at_ms(0));
    EXPECT_EQ(h.write(std::string(30000, 'x')), 30000u);
    std::vector<tcp_repr> burst;
    while (auto s = h.poll(at_ms(1))) burst.push_back(*s);
    ASSERT_GE(burst.size(), 2u);
    ASSERT_TRUE((burst.back().seq + seq_len{static_cast<std::uint32_t>(burst.back().payload.size())}).before(h.l(30001)))
        << "cwnd cut it";
    for (std::size_t i = 0; i + 1 < burst.size(); ++i) EXPECT_FALSE(burst[i].psh()) << i;
    EXPECT_EQ(burst.back().psh(), linux_psh);
    // A duplicate ACK's limited transmit (RFC 3042) is not a burst's end.
    h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1)});
    const auto lt = h.poll(at_ms(10));
    ASSERT_TRUE(lt.has_value());
    ASSERT_FALSE(lt->payload.empty()) << "limited transmit: a new segment";
    EXPECT_FALSE(lt->psh());
  }
}

// Linux marks PSH on every TSO packet of more than one segment (__tcp_transmit_skb), and sizes
// those packets to about 1 ms at its pacing rate (tcp_tso_autosize), at least 2 segments. With
// a 100 ms handshake RTT a write of two full segments and a runt leaves as . P P (Google's
// nagle/https_client.pkt); at 1 ms the packet holds the whole burst: . . P.
TEST(established, psh_burst_linux__marks_the_end_of_each_tso_sized_packet) {
  for (const int rtt_ms : {100, 1}) {
    SCOPED_TRACE(testing::Message() << "handshake RTT " << rtt_ms << " ms");
    tcp_config cfg;
    cfg.psh_burst_linux = true;
    cfg.no_delay = true;
    cfg.initial_window = initial_window_rule::rfc6928;
    tcp_harness h(cfg);
    ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
    h.send(at_ms(0), seg{.seq = h.r(0), .flags = tcp_flag::syn, .mss = 974});
    ASSERT_TRUE(h.poll(at_ms(0)).has_value());
    h.send(at_ms(rtt_ms), seg{.seq = h.r(1), .ack = h.l(1)});
    ASSERT_EQ(h.conn().state(), tcp_state::established);
    EXPECT_EQ(h.write(std::string(2002, 'x')), 2002u);
    std::vector<tcp_repr> burst;
    while (auto s = h.poll(at_ms(rtt_ms))) burst.push_back(*s);
    ASSERT_EQ(burst.size(), 3u);
    EXPECT_EQ(burst[0].payload.size(), 974u);
    EXPECT_FALSE(burst[0].psh());
    EXPECT_EQ(burst[1].psh(), rtt_ms == 100) << "the end of a 2-segment TSO packet";
    EXPECT_TRUE(burst[2].psh()) << "the push point";
  }
}

// tcp_transmit::more: after a segment of new data the connection says when another certainly
// follows, so the host need not plan it once to ask and again to send it. Within the initial
// window every segment but the last says so; the last, which fills cwnd, does not, and then
// nothing is pending. (Every poll of the harness also checks that `more` is never claimed
// while has_pending_output() is false.)
TEST(established, more_is_said_while_the_window_holds_another_full_segment) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  EXPECT_EQ(h.write(std::string(10 * 1460, 'x')), 10u * 1460u);
  std::vector<bool> more;
  while (h.poll(at_ms(1))) more.push_back(h.last_more());
  ASSERT_EQ(more.size(), 3u) << "RFC 5681's initial window at MSS 1460: 3 segments";
  EXPECT_EQ(more, (std::vector<bool>{true, true, false}));
  EXPECT_FALSE(h.conn().has_pending_output());
  // The peer's window, not cwnd, is the limit: a window of one segment gives one, without `more`.
  tcp_harness w;
  w.drive_to(tcp_state::established);
  w.send(at_ms(1), seg{.seq = w.r(1), .ack = w.l(1), .window = 1460});
  EXPECT_EQ(w.write(std::string(4 * 1460, 'y')), 4u * 1460u);
  ASSERT_TRUE(w.poll(at_ms(1)).has_value());
  EXPECT_FALSE(w.last_more());
}

}  // namespace
}  // namespace synack::test
