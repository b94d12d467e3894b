// RFC 9293 §3.6 / Figure 13 (simultaneous close): both FINs cross, FIN-WAIT-1 -> CLOSING ->
// TIME-WAIT -> CLOSED; retransmission and duplicates in CLOSING.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using arcs = std::vector<std::pair<tcp_state, tcp_state>>;
using s = tcp_state;

TEST(closing, simultaneous_close__every_segment_and_state) {
  tcp_config cfg;
  cfg.msl = std::chrono::seconds(5);
  tcp_harness h(cfg);
  h.drive_to(s::established);
  h.transitions().clear();
  ASSERT_TRUE(h.conn().shutdown(at_ms(0)).has_value());
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin});
  // The peer's FIN crossed ours: it does not acknowledge our FIN (ACK = l(1)).
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin}), rx_verdict::accepted);
  h.expect_state(s::closing);
  h.expect_recv(at_ms(10), seg{.seq = h.l(2), .ack = h.r(2), .window = 65535}, true);
  h.expect_nothing(at_ms(10));
  h.expect_event(tcp_event{tcp_event_kind::peer_closed, close_reason::none});
  EXPECT_EQ(h.conn().snd().una, h.l(1));
  // The peer's ACK of our FIN: TIME-WAIT, silently, for exactly 2 x MSL from now.
  EXPECT_EQ(h.send(at_ms(20), seg{.seq = h.r(2), .ack = h.l(2)}), rx_verdict::accepted);
  h.expect_state(s::time_wait);
  h.expect_nothing(at_ms(20));
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_ms(10020)});
  h.expect_nothing(instant{at_ms(10020).us - 1});
  h.expect_state(s::time_wait);
  h.expect_nothing(at_ms(10020));
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::none});
  EXPECT_EQ(h.transitions(), (arcs{{s::established, s::fin_wait_1},
                                   {s::fin_wait_1, s::closing},
                                   {s::closing, s::time_wait},
                                   {s::time_wait, s::closed}}));
}

TEST(closing, simultaneous_close_from_an_active_open) {
  tcp_harness h;
  h.establish_active();
  ASSERT_TRUE(h.conn().close(at_ms(1)).has_value());
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin});
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin});
  h.expect_state(s::closing);
  h.expect_recv(at_ms(2), seg{.seq = h.l(2), .ack = h.r(2)});
  h.send(at_ms(3), seg{.seq = h.r(2), .ack = h.l(2)});
  h.expect_state(s::time_wait);
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_ms(3) + 2 * h.cfg().msl});
}

TEST(closing, data_before_the_crossing_fin__delivered) {
  tcp_harness h;
  h.drive_to(s::fin_wait_1);
  h.send(at_ms(5), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin | psh, .payload = "last"});
  h.expect_state(s::closing);
  h.expect_recv(at_ms(5), seg{.seq = h.l(2), .ack = h.r(6)});
  EXPECT_EQ(h.read_all(), "last");
}

TEST(closing, fin_retransmitted_with_backoff) {
  tcp_harness h;
  h.drive_to(s::closing);
  h.expect_nothing(at_ms(999));
  // Our FIN (sent at 0) was never acknowledged: resent with the ACK of the peer's FIN.
  h.expect_recv(at_ms(1000), seg{.seq = h.l(1), .ack = h.r(2), .flags = fin});
  h.expect_nothing(at_ms(2999));
  h.expect_recv(at_ms(3000), seg{.seq = h.l(1), .ack = h.r(2), .flags = fin});
  h.expect_nothing(at_ms(3000));
  h.expect_state(s::closing);
  EXPECT_EQ(h.conn().retransmissions(), 2u);
  h.send(at_ms(3050), seg{.seq = h.r(2), .ack = h.l(2)});
  h.expect_state(s::time_wait);
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_ms(3050) + 2 * h.cfg().msl});
  h.expect_nothing(at_ms(60000));  // no retransmission in TIME-WAIT
}

TEST(closing, duplicate_peer_fin__reacked_stays_closing) {
  tcp_harness h;
  h.drive_to(s::closing);
  EXPECT_EQ(h.send(at_ms(300), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(300), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_nothing(at_ms(300));
  h.expect_state(s::closing);
  h.expect_no_event();
}

TEST(closing, retransmitted_peer_fin_acking_ours__dropped_per_sequence_check) {
  tcp_harness h;
  h.drive_to(s::closing);
  // SEG.SEQ + SEG.LEN - 1 < RCV.NXT: unacceptable, so §3.10.7.4 first says ACK and drop it,
  // ACK field included (Linux would take the ACK). The peer's own ACK of our FIN completes.
  EXPECT_EQ(h.send(at_ms(300), seg{.seq = h.r(1), .ack = h.l(2), .flags = fin}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(300), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_state(s::closing);
  h.send(at_ms(301), seg{.seq = h.r(2), .ack = h.l(2)});
  h.expect_state(s::time_wait);
}

TEST(closing, ack_not_covering_our_fin__stays_closing) {
  tcp_harness h;
  h.drive_to(s::closing);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = h.r(2), .ack = h.l(1)}), rx_verdict::accepted);
  h.expect_state(s::closing);
  h.expect_nothing(at_ms(5));
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(1000)});
}

TEST(closing, data_after_the_peer_fin__ignored) {
  tcp_harness h;
  h.drive_to(s::closing);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = h.r(2), .ack = h.l(2), .payload = "x"}), rx_verdict::accepted);
  // The ACK is processed (TIME-WAIT); the text "should not occur" and is ignored.
  h.expect_state(s::time_wait);
  EXPECT_EQ(h.conn().recv_available(), 0u);
  EXPECT_EQ(h.conn().rcv().nxt, h.r(2));
}

TEST(closing, send_after_close__connection_closing) {
  tcp_harness h;
  h.drive_to(s::closing);
  std::string_view x = "x";
  EXPECT_EQ(h.conn().send(std::as_bytes(std::span{x.data(), x.size()})).error(), tcp_error::closing);
  EXPECT_TRUE(h.conn().shutdown(at_ms(1)).has_value());  // idempotent
  h.expect_state(s::closing);
  h.expect_nothing(at_ms(1));
}

}  // namespace
}  // namespace synack::test
