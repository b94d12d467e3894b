// RFC 9293 §3.10.7.4 in SYN-RECEIVED: the final ACK, RST (passive vs simultaneous open), bad
// ACKs, retransmitted SYNs and SYN-ACK retransmission.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;

// LISTEN -> SYN-RECEIVED with the SYN-ACK out.
void syn_received(tcp_harness& h, instant at = at_ms(0)) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at, seg{.seq = remote_iss, .flags = syn, .mss = 1460});
  h.expect_recv(at, seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  h.expect_state(tcp_state::syn_received);
}

// CLOSED -> SYN-SENT -> SYN-RECEIVED (simultaneous open).
void syn_received_active(tcp_harness& h) {
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn});
  h.send(at_ms(1), seg{.seq = remote_iss, .flags = syn, .mss = 1460});
  h.expect_recv(at_ms(1), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  h.expect_state(tcp_state::syn_received);
}

TEST(syn_received, final_ack__established) {
  tcp_harness h;
  syn_received(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .window = 3000}), rx_verdict::accepted);
  h.expect_state(tcp_state::established);
  h.expect_last_arc(tcp_state::syn_received, tcp_state::established);
  h.expect_nothing(at_ms(10));  // an ACK is not acknowledged
  h.expect_event(tcp_event{tcp_event_kind::established, close_reason::none});
  EXPECT_EQ(h.conn().snd().wnd, 3000u);
  EXPECT_EQ(h.conn().snd().una, h.l(1));
  EXPECT_FALSE(h.conn().next_deadline().has_value());
}

TEST(syn_received, data_on_final_ack__accepted) {
  tcp_harness h;
  syn_received(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .flags = psh, .payload = "hello"}),
            rx_verdict::accepted);
  h.expect_state(tcp_state::established);
  h.expect_nothing(at_ms(10));
  h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(6)});  // delayed ACK
  EXPECT_EQ(h.read_all(), "hello");
}

TEST(syn_received, fin_on_final_ack__close_wait) {
  tcp_harness h;
  syn_received(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin}), rx_verdict::accepted);
  h.expect_state(tcp_state::close_wait);
  h.expect_last_arc(tcp_state::established, tcp_state::close_wait);
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(2)});  // the FIN took one number
  h.expect_event(tcp_event{tcp_event_kind::established, close_reason::none});
  h.expect_event(tcp_event{tcp_event_kind::peer_closed, close_reason::none});
}

TEST(syn_received, rst_at_rcv_nxt_after_passive_open__closed_reset) {
  tcp_harness h;
  syn_received(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .flags = rst}), rx_verdict::accepted);
  h.expect_state(tcp_state::closed);
  h.expect_nothing(at_ms(10));
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::reset});
  h.expect_nothing(at_ms(5000));  // no SYN-ACK retransmission
}

TEST(syn_received, rst_at_rcv_nxt_after_simultaneous_open__refused) {
  tcp_harness h;
  syn_received_active(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .flags = rst}), rx_verdict::accepted);
  h.expect_state(tcp_state::closed);
  h.expect_nothing(at_ms(10));
  EXPECT_EQ(h.conn().reason(), close_reason::refused);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::refused});
}

TEST(syn_received, rst_in_window_not_exact__challenge_ack) {
  tcp_harness h;
  syn_received(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(100), .flags = rst}), rx_verdict::rst_in_window);
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(1)});
  h.expect_nothing(at_ms(10));
  h.expect_state(tcp_state::syn_received);
}

TEST(syn_received, rst_out_of_window__ignored) {
  tcp_harness h;
  syn_received(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = remote_iss, .flags = rst}), rx_verdict::out_of_window);
  h.expect_nothing(at_ms(10));
  h.expect_state(tcp_state::syn_received);
}

TEST(syn_received, ack_beyond_snd_nxt__rst_seq_seg_ack) {
  tcp_harness h;
  syn_received(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(50)}), rx_verdict::ack_unacceptable);
  h.expect_recv(at_ms(10), seg{.seq = h.l(50), .flags = rst});  // <SEQ=SEG.ACK><CTL=RST>
  h.expect_nothing(at_ms(10));
  h.expect_state(tcp_state::syn_received);
}

TEST(syn_received, ack_of_iss__rst_seq_seg_ack) {
  tcp_harness h;
  syn_received(h);
  // SND.UNA < SEG.ACK fails: SEG.ACK = ISS acknowledges nothing of ours.
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .ack = local_iss}), rx_verdict::ack_unacceptable);
  h.expect_recv(at_ms(10), seg{.seq = local_iss, .flags = rst});
  h.expect_state(tcp_state::syn_received);
}

TEST(syn_received, segment_without_ack__dropped) {
  tcp_harness h;
  syn_received(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .payload = "x"}), rx_verdict::no_ack);
  h.expect_nothing(at_ms(10));
  h.expect_state(tcp_state::syn_received);
}

TEST(syn_received, out_of_window_segment__acked) {
  tcp_harness h;
  syn_received(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(70000), .ack = h.l(1), .payload = "x"}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(1)});
  h.expect_state(tcp_state::syn_received);
}

// DEVIATION(Linux tcp_check_req): RFC 9293 would send a bare ACK; the SYN-ACK is resent.
TEST(syn_received, retransmitted_syn__synack_resent) {
  tcp_harness h;
  syn_received(h);
  EXPECT_EQ(h.send(at_ms(300), seg{.seq = remote_iss, .flags = syn, .mss = 1460}), rx_verdict::accepted);
  h.expect_recv(at_ms(300), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .mss = 1460});
  h.expect_nothing(at_ms(300));
  h.expect_state(tcp_state::syn_received);
  EXPECT_EQ(h.conn().retransmissions(), 1u);
}

TEST(syn_received, syn_with_other_seq_after_passive_open__closed) {
  tcp_harness h;
  syn_received(h);
  // "If the connection was initiated with a passive OPEN, then return this connection to the
  // LISTEN state": the TCB goes; the stack's listener takes the next SYN.
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(10), .flags = syn}), rx_verdict::syn_synchronized);
  h.expect_state(tcp_state::closed);
  h.expect_nothing(at_ms(10));
  EXPECT_EQ(h.conn().reason(), close_reason::reset);
}

TEST(syn_received, synack_retransmitted_with_backoff_then_timeout) {
  tcp_harness h;
  syn_received(h);
  h.expect_nothing(at_ms(999));
  h.expect_recv(at_ms(1000), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  h.expect_nothing(at_ms(2999));
  h.expect_recv(at_ms(3000), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  h.expect_recv(at_ms(7000), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  EXPECT_EQ(h.conn().retransmissions(), 3u);
  // syn_r2 = 180 s: 15, 31, 63, 123 s, then 183 s gives up.
  for (int t : {15000, 31000, 63000, 123000}) h.expect_recv(at_ms(t), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  h.expect_nothing(at_ms(182999));
  h.expect_state(tcp_state::syn_received);
  h.expect_nothing(at_ms(183000));
  h.expect_state(tcp_state::closed);
  h.expect_event(tcp_event{tcp_event_kind::retransmit_threshold, close_reason::none});  // R1 at the third
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});
}

TEST(syn_received, close__fin_deferred_until_established) {
  tcp_harness h;
  syn_received(h);
  ASSERT_TRUE(h.conn().close(at_ms(5)).has_value());
  h.expect_state(tcp_state::syn_received);
  h.expect_nothing(at_ms(5));  // the FIN never overtakes the SYN-ACK
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1)});
  h.expect_state(tcp_state::fin_wait_1);
  h.expect_last_arc(tcp_state::established, tcp_state::fin_wait_1);
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin});
}

TEST(syn_received, abort__rst_at_snd_nxt) {
  tcp_harness h;
  syn_received(h);
  h.conn().abort(at_ms(5));
  h.expect_recv(at_ms(5), seg{.seq = h.l(1), .flags = rst});  // <SEQ=SND.NXT><CTL=RST>
  h.expect_nothing(at_ms(5));
  h.expect_state(tcp_state::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::aborted});
}

TEST(syn_received, simultaneous_open__peer_synack_completes) {
  tcp_harness h;
  syn_received_active(h);
  EXPECT_EQ(h.send(at_ms(2), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn}), rx_verdict::accepted);
  h.expect_state(tcp_state::established);
  h.expect_nothing(at_ms(2));
  EXPECT_EQ(h.conn().rcv().nxt, h.r(1));
  EXPECT_FALSE(h.conn().next_deadline().has_value());
}

}  // namespace
}  // namespace synack::test
