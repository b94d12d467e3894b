// RFC 9293 §3.10.4 / Figure 13: the active close, ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 ->
// TIME-WAIT -> CLOSED, and FIN-WAIT-1's other exits.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using arcs = std::vector<std::pair<tcp_state, tcp_state>>;
using s = tcp_state;

TEST(close_active, four_way_close__every_segment_and_state) {
  tcp_config cfg;
  cfg.msl = std::chrono::seconds(10);
  tcp_harness h(cfg);
  h.drive_to(s::established);
  h.transitions().clear();
  ASSERT_TRUE(h.conn().close(at_ms(100)).has_value());
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin});
  h.expect_nothing(at_ms(100));
  EXPECT_EQ(h.conn().snd().nxt, h.l(2));  // the FIN takes one sequence number
  EXPECT_EQ(h.send(at_ms(110), seg{.seq = h.r(1), .ack = h.l(2)}), rx_verdict::accepted);
  h.expect_state(s::fin_wait_2);
  h.expect_nothing(at_ms(110));
  EXPECT_EQ(h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(2), .flags = fin}), rx_verdict::accepted);
  h.expect_state(s::time_wait);
  h.expect_recv(at_ms(200), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_nothing(at_ms(200));
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_ms(200) + std::chrono::seconds(20)});
  h.expect_nothing(at_ms(20199));
  h.expect_state(s::time_wait);
  h.expect_nothing(at_ms(20200));
  h.expect_state(s::closed);
  EXPECT_EQ(h.transitions(), (arcs{{s::established, s::fin_wait_1},
                                   {s::fin_wait_1, s::fin_wait_2},
                                   {s::fin_wait_2, s::time_wait},
                                   {s::time_wait, s::closed}}));
  h.expect_event(tcp_event{tcp_event_kind::peer_closed, close_reason::none});
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::none});
  EXPECT_EQ(h.conn().reason(), close_reason::none);
}

TEST(close_active, fin_ack_together_in_fin_wait_1__time_wait_directly) {
  tcp_harness h;
  h.drive_to(s::fin_wait_1);
  h.transitions().clear();
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = h.r(1), .ack = h.l(2), .flags = fin}), rx_verdict::accepted);
  h.expect_state(s::time_wait);
  EXPECT_EQ(h.transitions(), (arcs{{s::fin_wait_1, s::time_wait}}));
  h.expect_recv(at_ms(5), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_nothing(at_ms(5));
}

TEST(close_active, fin_ack_with_data_in_fin_wait_1__time_wait_directly) {
  tcp_harness h;
  h.drive_to(s::fin_wait_1);
  h.transitions().clear();
  h.send(at_ms(5), seg{.seq = h.r(1), .ack = h.l(2), .flags = fin, .payload = "tail"});
  EXPECT_EQ(h.transitions(), (arcs{{s::fin_wait_1, s::time_wait}}));
  h.expect_recv(at_ms(5), seg{.seq = h.l(2), .ack = h.r(6)});
  EXPECT_EQ(h.read_all(), "tail");
}

TEST(close_active, out_of_order_fin_with_ack_of_ours__fin_wait_2) {
  tcp_harness h;
  h.drive_to(s::fin_wait_1);
  h.send(at_ms(5), seg{.seq = h.r(3), .ack = h.l(2), .flags = fin});
  h.expect_state(s::fin_wait_2);
  h.expect_recv(at_ms(5), seg{.seq = h.l(2), .ack = h.r(1)});  // dup ACK for the gap
  // The FIN was held: the text before it completes the close.
  h.send(at_ms(6), seg{.seq = h.r(1), .ack = h.l(2), .payload = "ab"});
  h.expect_state(s::time_wait);
  h.expect_recv(at_ms(6), seg{.seq = h.l(2), .ack = h.r(4)});
  EXPECT_EQ(h.read_all(), "ab");
}

TEST(close_active, ack_not_covering_fin__stays_fin_wait_1) {
  tcp_harness h;
  h.drive_to(s::fin_wait_1);
  h.send(at_ms(5), seg{.seq = h.r(1), .ack = h.l(1)});
  h.expect_state(s::fin_wait_1);
  h.expect_nothing(at_ms(5));
}

TEST(close_active, fin_follows_queued_data_on_the_last_segment) {
  tcp_harness h;
  h.drive_to(s::established);
  EXPECT_EQ(h.write("abcdef"), 6u);
  ASSERT_TRUE(h.conn().shutdown(at_ms(1)).has_value());
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin | psh, .payload = "abcdef"});
  h.expect_nothing(at_ms(1));
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(7)});  // data but not the FIN
  h.expect_state(s::fin_wait_1);
  h.send(at_ms(3), seg{.seq = h.r(1), .ack = h.l(8)});
  h.expect_state(s::fin_wait_2);
}

TEST(close_active, fin_retransmitted_in_fin_wait_1) {
  tcp_harness h;
  h.drive_to(s::fin_wait_1);
  h.expect_nothing(at_ms(999));
  h.expect_recv(at_ms(1000), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin});
  h.expect_nothing(at_ms(2999));
  h.expect_recv(at_ms(3000), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin});
  h.send(at_ms(3100), seg{.seq = h.r(1), .ack = h.l(2)});
  h.expect_state(s::fin_wait_2);
  EXPECT_FALSE(h.conn().next_deadline().has_value());
}

TEST(close_active, fin_wait_2_after_shutdown__waits_for_the_peer_indefinitely) {
  tcp_harness h;
  h.drive_to(s::fin_wait_2);
  EXPECT_FALSE(h.conn().next_deadline().has_value());  // the user may still read
  h.expect_nothing(at_s(3600));
  h.expect_state(s::fin_wait_2);
}

TEST(close_active, fin_wait_2_orphan__closed_after_fin_wait_2_timeout) {
  tcp_config cfg;
  cfg.fin_wait_2_timeout = std::chrono::seconds(30);
  tcp_harness h(cfg);
  h.drive_to(s::established);
  ASSERT_TRUE(h.conn().close(at_ms(0)).has_value());
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin});
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(2)});
  h.expect_state(s::fin_wait_2);
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(30010)});
  h.expect_nothing(at_ms(30009));
  h.expect_state(s::fin_wait_2);
  h.expect_nothing(at_ms(30010));
  h.expect_state(s::closed);
  EXPECT_EQ(h.conn().reason(), close_reason::timeout);
}

TEST(close_active, close_after_shutdown_in_fin_wait_2__starts_the_orphan_timer) {
  tcp_harness h;
  h.drive_to(s::fin_wait_2);
  ASSERT_TRUE(h.conn().close(at_ms(500)).has_value());
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(500) + h.cfg().fin_wait_2_timeout});
}

TEST(close_active, fin_wait_2__data_then_fin) {
  tcp_harness h;
  h.drive_to(s::fin_wait_2);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(2), .payload = "more"});
  // Delayed ACK (RFC 9293 §3.8.6.3): a lone in-order segment is ACKed after 40 ms.
  h.expect_nothing(at_ms(40));
  h.expect_recv(at_ms(41), seg{.seq = h.l(2), .ack = h.r(5)});
  h.send(at_ms(42), seg{.seq = h.r(5), .ack = h.l(2), .flags = fin});
  h.expect_state(s::time_wait);
  h.expect_recv(at_ms(42), seg{.seq = h.l(2), .ack = h.r(6)});  // a FIN is ACKed at once
  EXPECT_EQ(h.read_all(), "more");
}

TEST(close_active, fin_wait_1_fin_without_ack_of_ours__closing) {
  tcp_harness h;
  h.drive_to(s::fin_wait_1);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin});
  h.expect_state(s::closing);
  h.expect_last_arc(s::fin_wait_1, s::closing);
  h.expect_recv(at_ms(1), seg{.seq = h.l(2), .ack = h.r(2)});
}

// RFC 1122 §4.2.2.13 (SHLD-3): text that arrives after CLOSE cannot be read; the orphan
// answers it with <SEQ=SEG.ACK><CTL=RST> and is gone (Linux: TCPAbortOnData), in FIN-WAIT-1
// and in FIN-WAIT-2. After shutdown (SHUT_WR) the user still reads, and the text is taken.
TEST(close_active, data_after_close__rst_and_aborted) {
  for (const s after_ack : {s::fin_wait_1, s::fin_wait_2}) {
    tcp_harness h;
    h.drive_to(s::established);
    ASSERT_TRUE(h.conn().close(at_ms(100)).has_value());
    h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin});
    const seq_num ack = after_ack == s::fin_wait_2 ? h.l(2) : h.l(1);
    if (after_ack == s::fin_wait_2) {
      EXPECT_EQ(h.send(at_ms(110), seg{.seq = h.r(1), .ack = ack}), rx_verdict::accepted);
    }
    h.expect_state(after_ack);
    EXPECT_EQ(h.send(at_ms(120), seg{.seq = h.r(1), .ack = ack, .payload = "late"}), rx_verdict::data_after_close);
    h.expect_recv(at_ms(120), seg{.seq = ack, .flags = rst});
    h.expect_state(s::closed);
    EXPECT_EQ(h.conn().reason(), close_reason::aborted);
  }
  tcp_harness h;
  h.drive_to(s::established);
  ASSERT_TRUE(h.conn().shutdown(at_ms(100)).has_value());
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .flags = fin});
  EXPECT_EQ(h.send(at_ms(120), seg{.seq = h.r(1), .ack = h.l(2), .payload = "read"}), rx_verdict::accepted);
  h.expect_state(s::fin_wait_2);
  EXPECT_EQ(h.read_all(), "read");
}

}  // namespace
}  // namespace synack::test
