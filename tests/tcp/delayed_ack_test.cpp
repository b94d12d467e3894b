// Delayed ACK (RFC 9293 §3.8.6.3 SHLD-18/MUST-40, RFC 1122 §4.2.3.2, RFC 5681 §4.2): in-order
// text is ACKed on every second segment or after delayed_ack_timeout (40 ms by default);
// out-of-order text, gap fills, duplicates, FINs and window-trimmed text are ACKed at once;
// an ACK that leaves with data cancels the pending one.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using tcp_flag::fin;

TEST(delayed_ack, default_timeout_below_half_a_second) {
  const tcp_config cfg;
  EXPECT_TRUE(cfg.delayed_ack);
  EXPECT_EQ(cfg.delayed_ack_timeout, std::chrono::milliseconds(40));
  EXPECT_LT(cfg.delayed_ack_timeout, std::chrono::milliseconds(500));  // MUST-40
}

TEST(delayed_ack, lone_segment__acked_when_the_timer_fires) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  EXPECT_EQ(h.conn().next_deadline(), at_ms(50));
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::delayed_ack);
  h.expect_nothing(at_ms(49));
  h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(4)});
  EXPECT_FALSE(h.conn().next_deadline().has_value());
  h.expect_nothing(at_ms(500));
}

TEST(delayed_ack, every_second_segment_acked_at_once) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  const std::string full(1460, 'x');
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = full});
  h.expect_nothing(at_ms(1));
  h.send(at_ms(2), seg{.seq = h.r(1461), .ack = h.l(1), .payload = full});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(2921)});
  EXPECT_FALSE(h.conn().next_deadline().has_value());  // the timer went with the ACK
  // The count starts again: the third segment waits.
  h.send(at_ms(3), seg{.seq = h.r(2921), .ack = h.l(1), .payload = full});
  h.expect_nothing(at_ms(42));
  h.expect_recv(at_ms(43), seg{.seq = h.l(1), .ack = h.r(4381)});
}

TEST(delayed_ack, timer_not_pushed_back_by_the_next_segment) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "a"});
  h.expect_recv(at_ms(41), seg{.seq = h.l(1), .ack = h.r(2)});
  h.send(at_ms(50), seg{.seq = h.r(2), .ack = h.l(1), .payload = "b"});
  EXPECT_EQ(h.conn().next_deadline(), at_ms(90));
}

TEST(delayed_ack, out_of_order_and_gap_fill__acked_at_once) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(4), .ack = h.l(1), .payload = "def"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(7)});
  EXPECT_FALSE(h.conn().next_deadline().has_value());
}

TEST(delayed_ack, out_of_order_segment_flushes_a_pending_ack) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.send(at_ms(2), seg{.seq = h.r(7), .ack = h.l(1), .payload = "ghi"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(4)});
  h.expect_nothing(at_ms(100));
}

TEST(delayed_ack, duplicate_acked_at_once) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_recv(at_ms(41), seg{.seq = h.l(1), .ack = h.r(4)});
  h.send(at_ms(50), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(4)});
}

TEST(delayed_ack, fin_acked_at_once_with_the_text_before_it) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.send(at_ms(2), seg{.seq = h.r(4), .ack = h.l(1), .flags = fin});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(5)});
  h.expect_nothing(at_ms(100));
}

TEST(delayed_ack, text_trimmed_at_the_window_edge__acked_at_once) {
  tcp_config cfg;
  cfg.recv_buffer = 4;
  tcp_harness h(cfg);
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abcdef"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(5), .window = 0}, true);
}

TEST(delayed_ack, ack_rides_on_data__no_separate_ack) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "ping"});
  h.write("pong");
  h.expect_recv(at_ms(5), seg{.seq = h.l(1), .ack = h.r(5), .flags = tcp_flag::psh, .payload = "pong"});
  EXPECT_NE(h.conn().snapshot().next_timer, timer_kind::delayed_ack);
  h.expect_nothing(at_ms(100));
}

TEST(delayed_ack, disabled__every_segment_acked_at_once) {
  tcp_config cfg;
  cfg.delayed_ack = false;
  tcp_harness h(cfg);
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "a"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(2)});
  h.send(at_ms(2), seg{.seq = h.r(2), .ack = h.l(1), .payload = "b"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(3)});
}

TEST(delayed_ack, configurable_timeout) {
  tcp_config cfg;
  cfg.delayed_ack_timeout = std::chrono::milliseconds(200);
  tcp_harness h(cfg);
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "a"});
  h.expect_nothing(at_ms(200));
  h.expect_recv(at_ms(201), seg{.seq = h.l(1), .ack = h.r(2)});
}

TEST(delayed_ack, window_opened_by_a_read__announced_at_once) {
  tcp_config cfg;
  cfg.recv_buffer = 4000;
  tcp_harness h(cfg);
  h.drive_to(tcp_state::established);
  const std::string full(1460, 'x');
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = full});
  h.send(at_ms(1), seg{.seq = h.r(1461), .ack = h.l(1), .payload = full});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(2921), .window = 4000 - 2920}, true);
  EXPECT_EQ(h.read_all().size(), 2920u);
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(2921), .window = 4000}, true);  // SWS rule
}

}  // namespace
}  // namespace synack::test
