// RFC 9293 §3.10.4 / Figure 13: the passive close, ESTABLISHED -> CLOSE-WAIT -> LAST-ACK ->
// CLOSED, the half-close on both sides, and retransmission, duplicates and RST on the way.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using arcs = std::vector<std::pair<tcp_state, tcp_state>>;
using s = tcp_state;

bytes as_bytes(std::string_view v) { return std::as_bytes(std::span{v.data(), v.size()}); }

TEST(close_passive, four_way_close__every_segment_and_state) {
  tcp_harness h;
  h.drive_to(s::established);
  h.transitions().clear();
  // §3.10.7.4 eighth: the FIN takes one sequence number and is acknowledged at once.
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin}), rx_verdict::accepted);
  h.expect_state(s::close_wait);
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(2), .window = 65535}, true);
  h.expect_nothing(at_ms(10));
  EXPECT_EQ(h.conn().rcv().nxt, h.r(2));
  h.expect_event(tcp_event{tcp_event_kind::peer_closed, close_reason::none});
  std::array<std::byte, 16> buf{};
  EXPECT_EQ(h.conn().recv(buf).value(), 0u);  // end of stream
  // §3.10.4 CLOSE in CLOSE-WAIT: the FIN goes out, LAST-ACK.
  ASSERT_TRUE(h.conn().close(at_ms(20)).has_value());
  h.expect_state(s::last_ack);
  h.expect_recv(at_ms(20), seg{.seq = h.l(1), .ack = h.r(2), .flags = fin});
  h.expect_nothing(at_ms(20));
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(1020)});  // FIN retransmission
  // An ACK of our FIN: CLOSED, no TIME-WAIT on the passive side.
  EXPECT_EQ(h.send(at_ms(30), seg{.seq = h.r(2), .ack = h.l(2)}), rx_verdict::accepted);
  h.expect_state(s::closed);
  h.expect_nothing(at_ms(30));
  EXPECT_FALSE(h.conn().next_deadline().has_value());
  EXPECT_EQ(h.conn().reason(), close_reason::none);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::none});
  h.expect_no_event();
  EXPECT_EQ(h.transitions(), (arcs{{s::established, s::close_wait},
                                   {s::close_wait, s::last_ack},
                                   {s::last_ack, s::closed}}));
}

TEST(close_passive, close_wait__user_still_sends_data_half_close) {
  tcp_harness h;
  h.drive_to(s::close_wait);
  EXPECT_EQ(h.write("reply"), 5u);
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(2), .flags = psh, .payload = "reply"});
  h.expect_nothing(at_ms(10));
  EXPECT_EQ(h.send(at_ms(20), seg{.seq = h.r(2), .ack = h.l(6)}), rx_verdict::accepted);
  h.expect_state(s::close_wait);
  h.expect_nothing(at_ms(20));
  EXPECT_FALSE(h.conn().next_deadline().has_value());  // all acknowledged
  ASSERT_TRUE(h.conn().shutdown(at_ms(30)).has_value());
  h.expect_recv(at_ms(30), seg{.seq = h.l(6), .ack = h.r(2), .flags = fin});
  h.expect_state(s::last_ack);
  // §3.10.2: SEND after the sending side was closed: "error: connection closing".
  EXPECT_EQ(h.conn().send(as_bytes("x")).error(), tcp_error::closing);
  h.send(at_ms(40), seg{.seq = h.r(2), .ack = h.l(7)});
  h.expect_state(s::closed);
}

TEST(close_passive, last_ack__ack_of_data_only__stays_last_ack) {
  tcp_harness h;
  h.drive_to(s::close_wait);
  EXPECT_EQ(h.write("abc"), 3u);
  ASSERT_TRUE(h.conn().close(at_ms(1)).has_value());
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(2), .flags = fin | psh, .payload = "abc"});
  h.send(at_ms(2), seg{.seq = h.r(2), .ack = h.l(4)});  // the data, not the FIN
  h.expect_state(s::last_ack);
  h.expect_nothing(at_ms(2));
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(1002)});  // RFC 6298 §5.3: restarted
  h.send(at_ms(3), seg{.seq = h.r(2), .ack = h.l(5)});
  h.expect_state(s::closed);
}

TEST(close_passive, last_ack__fin_retransmitted_with_backoff) {
  tcp_harness h;
  h.drive_to(s::last_ack);
  h.expect_nothing(at_ms(999));
  h.expect_recv(at_ms(1000), seg{.seq = h.l(1), .ack = h.r(2), .flags = fin});  // RTO 1 s
  h.expect_nothing(at_ms(2999));
  h.expect_recv(at_ms(3000), seg{.seq = h.l(1), .ack = h.r(2), .flags = fin});  // 2 s
  h.expect_nothing(at_ms(6999));
  h.expect_recv(at_ms(7000), seg{.seq = h.l(1), .ack = h.r(2), .flags = fin});  // 4 s
  h.expect_nothing(at_ms(7000));
  EXPECT_EQ(h.conn().retransmissions(), 3u);
  // The third retransmission of the FIN reached R1 (MUST-20): a warning, not the end.
  h.expect_event(tcp_event{tcp_event_kind::retransmit_threshold, close_reason::none});
  EXPECT_EQ(h.conn().snd().nxt, h.l(2));
  h.send(at_ms(7100), seg{.seq = h.r(2), .ack = h.l(2)});
  h.expect_state(s::closed);
  h.expect_nothing(at_s(100));
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::none});
}

TEST(close_passive, last_ack__fin_not_acknowledged__gives_up_after_data_r2) {
  tcp_config cfg;
  cfg.data_r2 = std::chrono::seconds(10);
  tcp_harness h(cfg);
  h.drive_to(s::last_ack);
  for (int t : {1000, 3000, 7000}) h.expect_recv(at_ms(t), seg{.seq = h.l(1), .ack = h.r(2), .flags = fin});
  h.expect_nothing(at_ms(14999));
  h.expect_state(s::last_ack);
  h.expect_nothing(at_ms(15000));  // 15 s since the first FIN >= R2: no fourth FIN
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::retransmit_threshold, close_reason::none});  // R1 came first
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});
}

TEST(close_passive, close_wait__data_retransmitted_then_with_the_fin) {
  tcp_harness h;
  h.drive_to(s::close_wait);
  EXPECT_EQ(h.write("abc"), 3u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(2), .flags = psh, .payload = "abc"});
  h.expect_nothing(at_ms(999));
  h.expect_recv(at_ms(1000), seg{.seq = h.l(1), .ack = h.r(2), .flags = psh, .payload = "abc"});
  h.expect_state(s::close_wait);
  // The FIN follows the data that is still unacknowledged (§3.10.4).
  ASSERT_TRUE(h.conn().shutdown(at_ms(1100)).has_value());
  h.expect_recv(at_ms(1100), seg{.seq = h.l(4), .ack = h.r(2), .flags = fin});
  h.expect_nothing(at_ms(2999));
  // The retransmission timer (RTO 2 s from 1 s) resends everything from SND.UNA: data + FIN.
  h.expect_recv(at_ms(3000), seg{.seq = h.l(1), .ack = h.r(2), .flags = fin | psh, .payload = "abc"});
  h.expect_nothing(at_ms(3000));
  EXPECT_EQ(h.conn().retransmissions(), 2u);
  h.send(at_ms(3100), seg{.seq = h.r(2), .ack = h.l(5)});
  h.expect_state(s::closed);
}

TEST(close_passive, close_wait__duplicate_fin_reacked) {
  tcp_harness h;
  h.drive_to(s::close_wait);
  // The peer did not see our ACK and sends its FIN again: unacceptable (SEG.SEQ < RCV.NXT),
  // answered with an ACK and dropped (§3.10.7.4 first); no second peer_closed.
  EXPECT_EQ(h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(200), seg{.seq = h.l(1), .ack = h.r(2)});
  h.expect_nothing(at_ms(200));
  h.expect_state(s::close_wait);
  h.expect_no_event();
  EXPECT_EQ(h.conn().rcv().nxt, h.r(2));
}

TEST(close_passive, last_ack__duplicate_fin_reacked) {
  tcp_harness h;
  h.drive_to(s::last_ack);
  EXPECT_EQ(h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(200), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_nothing(at_ms(200));
  h.expect_state(s::last_ack);
  h.expect_no_event();
}

TEST(close_passive, close_wait__data_from_the_peer_after_its_fin__not_delivered) {
  tcp_harness h;
  h.drive_to(s::close_wait);
  // In window (SEQ = RCV.NXT) but after the FIN: "This should not occur": ignored.
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = h.r(2), .ack = h.l(1), .payload = "late"}), rx_verdict::accepted);
  h.expect_nothing(at_ms(1));
  EXPECT_EQ(h.conn().recv_available(), 0u);
  EXPECT_EQ(h.conn().rcv().nxt, h.r(2));
}

TEST(close_passive, close_wait__rst_at_rcv_nxt__closed_reset) {
  tcp_harness h;
  h.drive_to(s::close_wait);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = h.r(2), .flags = rst}), rx_verdict::accepted);
  h.expect_state(s::closed);
  h.expect_nothing(at_ms(5));
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::reset});
  EXPECT_EQ(h.conn().send(as_bytes("x")).error(), tcp_error::connection_reset);
}

TEST(close_passive, close_wait__rst_in_window_not_exact__challenge_ack) {
  tcp_harness h;
  h.drive_to(s::close_wait);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = h.r(3), .flags = rst}), rx_verdict::rst_in_window);
  h.expect_recv(at_ms(5), seg{.seq = h.l(1), .ack = h.r(2)});
  h.expect_nothing(at_ms(5));
  h.expect_state(s::close_wait);
  h.expect_no_event();
}

TEST(close_passive, last_ack__rst_at_rcv_nxt__closed_reset) {
  tcp_harness h;
  h.drive_to(s::last_ack);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = h.r(2), .ack = h.l(1), .flags = rst}), rx_verdict::accepted);
  h.expect_state(s::closed);
  h.expect_nothing(at_ms(5));
  EXPECT_FALSE(h.conn().next_deadline().has_value());  // no FIN retransmission left
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::reset});
}

TEST(close_passive, last_ack__rst_in_window_not_exact__challenge_ack) {
  tcp_harness h;
  h.drive_to(s::last_ack);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = h.r(1000), .flags = rst}), rx_verdict::rst_in_window);
  h.expect_recv(at_ms(5), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_nothing(at_ms(5));
  h.expect_state(s::last_ack);
  // The FIN is still retransmitted on time.
  h.expect_recv(at_ms(1000), seg{.seq = h.l(1), .ack = h.r(2), .flags = fin});
}

TEST(close_passive, fin_wait_1__after_shutdown_data_still_received) {
  tcp_harness h;
  h.drive_to(s::fin_wait_1);
  // The ACK field does not cover our FIN: text is taken, FIN-WAIT-1 stays.
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = h.r(1), .ack = h.l(1), .flags = psh, .payload = "early"}),
            rx_verdict::accepted);
  h.expect_state(s::fin_wait_1);
  h.expect_nothing(at_ms(5));
  h.expect_recv(at_ms(45), seg{.seq = h.l(2), .ack = h.r(6), .window = 65535}, true);  // delayed ACK
  h.expect_nothing(at_ms(45));
  EXPECT_EQ(h.read_all(), "early");
  std::array<std::byte, 4> buf{};
  EXPECT_EQ(h.conn().recv(buf).error(), tcp_error::would_block);  // not the end of stream
}

TEST(close_passive, fin_wait_2__after_shutdown_data_still_received_until_fin) {
  tcp_harness h;
  h.drive_to(s::fin_wait_2);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = h.r(1), .ack = h.l(2), .payload = "abc"}), rx_verdict::accepted);
  h.expect_nothing(at_ms(5));  // delayed ACK: waits for a second segment
  EXPECT_EQ(h.send(at_ms(6), seg{.seq = h.r(4), .ack = h.l(2), .payload = "def"}), rx_verdict::accepted);
  h.expect_recv(at_ms(6), seg{.seq = h.l(2), .ack = h.r(7)});  // ... which ACKs both
  h.expect_nothing(at_ms(6));
  h.expect_state(s::fin_wait_2);
  EXPECT_EQ(h.read_all(), "abcdef");
  h.send(at_ms(7), seg{.seq = h.r(7), .ack = h.l(2), .flags = fin});
  h.expect_state(s::time_wait);
  h.expect_recv(at_ms(7), seg{.seq = h.l(2), .ack = h.r(8)});
  std::array<std::byte, 4> buf{};
  EXPECT_EQ(h.conn().recv(buf).value(), 0u);  // end of stream in TIME-WAIT
}

}  // namespace
}  // namespace synack::test
