// RFC 9293 §3.10.7.4 in TIME-WAIT with the full TCB (the user still holds it): retransmitted
// FINs, RST (RFC 1337), SYN (RFC 5961 §4, RFC 1122 §4.2.2.13 / RFC 6191), data, and the
// 2 x MSL timer (§3.4.2).
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;

// drive_to(TIME-WAIT) at 0 with MSL 10 s: the timer ends at 20 s. SND.NXT l(2), RCV.NXT r(2).
tcp_config msl_10s() {
  tcp_config cfg;
  cfg.msl = std::chrono::seconds(10);
  return cfg;
}

instant just_before(instant t) { return instant{t.us - 1}; }

TEST(time_wait, timer_fires_at_exactly_two_msl__not_one_tick_earlier) {
  tcp_harness h(msl_10s());
  h.drive_to(s::time_wait);
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_s(20)});
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_s(20)});
  h.expect_nothing(just_before(at_s(20)));
  h.expect_state(s::time_wait);
  h.expect_no_event();
  h.expect_nothing(at_s(20));
  h.expect_state(s::closed);
  h.expect_last_arc(s::time_wait, s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::none});
  EXPECT_EQ(h.conn().reason(), close_reason::none);
  EXPECT_FALSE(h.conn().next_deadline().has_value());
}

TEST(time_wait, default_msl__linux_sixty_seconds) {
  tcp_harness h;
  h.drive_to(s::time_wait, at_ms(7));
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_ms(60007)});
  h.expect_nothing(at_ms(60006));
  h.expect_state(s::time_wait);
  h.expect_nothing(at_ms(60007));
  h.expect_state(s::closed);
}

TEST(time_wait, compact_record_matches_the_tcb) {
  tcp_harness h(msl_10s());
  h.drive_to(s::time_wait);
  const time_wait_record& tw = h.conn().time_wait_state();
  EXPECT_EQ(tw.tuple, h.tuple());
  EXPECT_EQ(tw.snd_nxt, h.l(2));
  EXPECT_EQ(tw.rcv_nxt, h.r(2));
  EXPECT_EQ(tw.window, 65535);
  EXPECT_EQ(tw.expiry, at_s(20));
  EXPECT_EQ(tw.ack_segment().seq, h.l(2));
  EXPECT_EQ(tw.ack_segment().ack, std::optional{h.r(2)});
}

TEST(time_wait, retransmitted_fin__acked_again_and_timer_restarted) {
  tcp_harness h(msl_10s());
  h.drive_to(s::time_wait);
  // "The only thing that can arrive in this state is a retransmission of the remote FIN.
  // Acknowledge it, and restart the 2 MSL timeout."
  EXPECT_EQ(h.send(at_s(5), seg{.seq = h.r(1), .ack = h.l(2), .flags = fin}), rx_verdict::time_wait);
  h.expect_recv(at_s(5), seg{.seq = h.l(2), .ack = h.r(2), .window = 65535}, true);
  h.expect_nothing(at_s(5));
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_s(25)});
  h.expect_nothing(at_s(20));  // the old expiry passed: still waiting
  h.expect_state(s::time_wait);
  h.expect_nothing(just_before(at_s(25)));
  h.expect_state(s::time_wait);
  h.expect_nothing(at_s(25));
  h.expect_state(s::closed);
}

TEST(time_wait, retransmitted_fin__always_acked_not_rate_limited) {
  tcp_config cfg = msl_10s();
  cfg.challenge_ack_limit = 1;
  tcp_harness h(cfg);
  h.drive_to(s::time_wait);
  for (int i = 1; i <= 3; ++i) {
    h.send(at_ms(100 + i), seg{.seq = h.r(1), .ack = h.l(2), .flags = fin});
    h.expect_recv(at_ms(100 + i), seg{.seq = h.l(2), .ack = h.r(2)});
  }
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_ms(103) + std::chrono::seconds(20)});
}

TEST(time_wait, rst_ignored_under_rfc1337) {
  tcp_harness h(msl_10s());
  ASSERT_TRUE(h.cfg().rfc1337);  // the default
  h.drive_to(s::time_wait);
  EXPECT_EQ(h.send(at_s(1), seg{.seq = h.r(2), .flags = rst}), rx_verdict::time_wait);
  EXPECT_EQ(h.send(at_s(1), seg{.seq = h.r(2), .ack = h.l(2), .flags = rst}), rx_verdict::time_wait);
  h.expect_nothing(at_s(1));
  h.expect_state(s::time_wait);
  h.expect_no_event();
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_s(20)});  // not restarted either
}

TEST(time_wait, rst_at_rcv_nxt_honoured_without_rfc1337) {
  tcp_config cfg = msl_10s();
  cfg.rfc1337 = false;
  tcp_harness h(cfg);
  h.drive_to(s::time_wait);
  // RCV.WND is 0 in TIME-WAIT: a RST anywhere but RCV.NXT is not acceptable (RFC 5961 §3).
  EXPECT_EQ(h.send(at_s(1), seg{.seq = h.r(3), .flags = rst}), rx_verdict::time_wait);
  h.expect_nothing(at_s(1));
  h.expect_state(s::time_wait);
  EXPECT_EQ(h.send(at_s(2), seg{.seq = h.r(2), .flags = rst}), rx_verdict::accepted);
  h.expect_state(s::closed);
  h.expect_nothing(at_s(2));
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::reset});
  EXPECT_FALSE(h.conn().next_deadline().has_value());
}

TEST(time_wait, syn_beyond_rcv_nxt__reopen_closes_this_incarnation) {
  tcp_harness h(msl_10s());
  h.drive_to(s::time_wait);
  // RFC 1122 §4.2.2.13 / RFC 6191 §2 (no timestamps): a SYN above the old incarnation's
  // RCV.NXT cannot be an old duplicate; the TCB goes, the stack hands the SYN to LISTEN.
  EXPECT_EQ(h.send(at_s(1), seg{.seq = h.r(100000), .flags = syn, .mss = 1460}), rx_verdict::accepted);
  h.expect_state(s::closed);
  h.expect_nothing(at_s(1));
  EXPECT_EQ(h.conn().reason(), close_reason::none);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::none});
}

TEST(time_wait, syn_at_or_below_rcv_nxt__challenge_ack) {
  tcp_harness h(msl_10s());
  h.drive_to(s::time_wait);
  // RFC 5961 §4: an old (or forged) SYN gets a challenge ACK, and TIME-WAIT goes on.
  EXPECT_EQ(h.send(at_s(1), seg{.seq = h.r(2), .flags = syn}), rx_verdict::time_wait);
  h.expect_recv(at_s(1), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_nothing(at_s(1));
  EXPECT_EQ(h.send(at_s(2), seg{.seq = h.r(0), .flags = syn}), rx_verdict::time_wait);
  h.expect_recv(at_s(2), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_state(s::time_wait);
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_s(20)});
}

TEST(time_wait, syn_ack__acked_not_reopened) {
  tcp_harness h(msl_10s());
  h.drive_to(s::time_wait);
  EXPECT_EQ(h.send(at_s(1), seg{.seq = h.r(5000), .ack = h.l(2), .flags = syn}), rx_verdict::time_wait);
  h.expect_recv(at_s(1), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_state(s::time_wait);
}

TEST(time_wait, data__reacked_not_delivered) {
  tcp_harness h(msl_10s());
  h.drive_to(s::time_wait);
  EXPECT_EQ(h.send(at_s(1), seg{.seq = h.r(2), .ack = h.l(2), .payload = "late"}), rx_verdict::time_wait);
  h.expect_recv(at_s(1), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_nothing(at_s(1));
  EXPECT_EQ(h.conn().recv_available(), 0u);
  EXPECT_EQ(h.send(at_s(2), seg{.seq = h.r(0), .ack = h.l(2), .payload = "old"}), rx_verdict::time_wait);
  h.expect_recv(at_s(2), seg{.seq = h.l(2), .ack = h.r(2)});
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_s(20)});  // only a FIN restarts it
}

TEST(time_wait, acks_in_answer_to_junk__rate_limited_per_connection) {
  tcp_config cfg = msl_10s();
  cfg.challenge_ack_limit = 2;
  tcp_harness h(cfg);
  h.drive_to(s::time_wait);
  for (int i = 0; i < 2; ++i) {
    h.send(at_ms(100), seg{.seq = h.r(9), .ack = h.l(2), .payload = "x"});
    h.expect_recv(at_ms(100), seg{.seq = h.l(2), .ack = h.r(2)});
  }
  h.send(at_ms(100), seg{.seq = h.r(9), .ack = h.l(2), .payload = "x"});
  h.expect_nothing(at_ms(100));
  h.send(at_ms(1100), seg{.seq = h.r(9), .ack = h.l(2), .payload = "x"});  // a new window
  h.expect_recv(at_ms(1100), seg{.seq = h.l(2), .ack = h.r(2)});
}

TEST(time_wait, duplicate_of_the_last_ack__silence) {
  tcp_harness h(msl_10s());
  h.drive_to(s::time_wait);
  EXPECT_EQ(h.send(at_s(1), seg{.seq = h.r(2), .ack = h.l(2)}), rx_verdict::time_wait);
  h.expect_nothing(at_s(1));
  h.expect_state(s::time_wait);
}

TEST(time_wait, user_calls__read_to_end_send_closing_close_ok) {
  tcp_harness h(msl_10s());
  h.drive_to(s::fin_wait_2);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(2), .flags = fin, .payload = "tail"});
  h.expect_state(s::time_wait);
  h.expect_recv(at_ms(1), seg{.seq = h.l(2), .ack = h.r(6)});
  EXPECT_EQ(h.read_all(), "tail");
  std::array<std::byte, 4> buf{};
  EXPECT_EQ(h.conn().recv(buf).value(), 0u);
  std::string_view x = "x";
  EXPECT_EQ(h.conn().send(std::as_bytes(std::span{x.data(), x.size()})).error(), tcp_error::closing);
  EXPECT_TRUE(h.conn().close(at_ms(2)).has_value());  // closing does not shorten TIME-WAIT
  h.expect_state(s::time_wait);
  h.expect_nothing(at_ms(2));
  EXPECT_EQ(h.conn().time_wait_expiry(), std::optional{at_ms(20001)});
}

TEST(time_wait, no_retransmission_timer_survives) {
  tcp_harness h(msl_10s());
  h.drive_to(s::fin_wait_1);
  // The FIN's retransmission timer was armed; FIN+ACK moves to TIME-WAIT and clears it.
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(2), .flags = fin});
  h.expect_state(s::time_wait);
  h.expect_recv(at_ms(10), seg{.seq = h.l(2), .ack = h.r(2)});
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(20010)});
  h.expect_nothing(at_ms(1000));
  h.expect_nothing(at_ms(20009));
  h.expect_state(s::time_wait);
}

}  // namespace
}  // namespace synack::test
