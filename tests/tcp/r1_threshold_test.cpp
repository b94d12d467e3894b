// RFC 9293 §3.8.3 R1 (MUST-20, SHLD-9, SHLD-10): after R1 retransmissions of the same segment
// the connection warns its user (tcp_event_kind::retransmit_threshold) once, and keeps trying
// until R2. An answer — an ACK of new data, or a zero-window ACK to a probe — starts the count
// over, so the next stuck segment warns again.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;
using std::chrono::seconds;

const tcp_event r1_event{tcp_event_kind::retransmit_threshold, close_reason::none};

TEST(r1_threshold, default_is_three_retransmissions) {
  EXPECT_EQ(tcp_config{}.r1_retransmissions, 3u);  // RFC 1122 §4.2.3.5: at least 3 (SHLD-10)
  EXPECT_LT(tcp_config{}.rto_initial * 7, tcp_config{}.data_r2);  // R1 comes well before R2
}

TEST(r1_threshold, data__warned_at_the_third_retransmission_exactly_once) {
  tcp_harness h;
  h.drive_to(s::established);
  EXPECT_EQ(h.write("data"), 4u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "data"});
  for (int t : {1, 3}) h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "data"});
  EXPECT_EQ(h.conn().snapshot().rto_streak, 2u);
  h.expect_no_event();  // two retransmissions: below R1
  h.expect_recv(at_s(7), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "data"});
  EXPECT_EQ(h.conn().snapshot().rto_streak, 3u);
  h.expect_event(r1_event);
  h.expect_no_event();
  // The fourth and fifth retransmissions of the same segment do not warn again.
  for (int t : {15, 31}) h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "data"});
  h.expect_no_event();
  h.expect_state(s::established);  // a warning, not an end: R2 (100 s) is still ahead
}

TEST(r1_threshold, an_ack_of_new_data_starts_the_count_over__the_next_stuck_segment_warns_again) {
  tcp_config cfg;
  cfg.data_r2 = seconds(1000);  // keep R2 out of the way
  tcp_harness h(cfg);
  h.drive_to(s::established);
  EXPECT_EQ(h.write("ab"), 2u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "ab"});
  for (int t : {1, 3, 7}) h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "ab"});
  h.expect_event(r1_event);
  // The peer is back: it acknowledges "ab".
  h.send(at_ms(7100), seg{.seq = h.r(1), .ack = h.l(3)});
  EXPECT_EQ(h.conn().snapshot().rto_streak, 0u);
  h.expect_no_event();
  // The next segment is stuck too. The backed-off RTO is kept (Karn: no sample from a
  // retransmitted segment); it doubles on each expiry, and R1 is reached at the third.
  EXPECT_EQ(h.write("cd"), 2u);
  h.expect_recv(at_ms(7100), seg{.seq = h.l(3), .ack = h.r(1), .flags = psh, .payload = "cd"});
  const duration rto = h.conn().snapshot().rto;
  instant at = at_ms(7100);
  for (int i = 0; i < 3; ++i) {
    h.expect_no_event();
    at += rto * (1 << i);
    h.expect_nothing(at - std::chrono::milliseconds(1));
    h.expect_recv(at, seg{.seq = h.l(3), .ack = h.r(1), .flags = psh, .payload = "cd"});
  }
  h.expect_event(r1_event);
  h.expect_no_event();
}

TEST(r1_threshold, configurable__one_retransmission) {
  tcp_config cfg;
  cfg.r1_retransmissions = 1;
  tcp_harness h(cfg);
  h.drive_to(s::established);
  EXPECT_EQ(h.write("x"), 1u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
  h.expect_no_event();
  h.expect_recv(at_s(1), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
  h.expect_event(r1_event);
}

TEST(r1_threshold, zero_turns_it_off__r2_still_closes) {
  tcp_config cfg;
  cfg.r1_retransmissions = 0;
  cfg.data_r2 = seconds(10);
  tcp_harness h(cfg);
  h.drive_to(s::established);
  EXPECT_EQ(h.write("x"), 1u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
  for (int t : {1, 3, 7}) h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "x"});
  h.expect_no_event();
  h.expect_nothing(at_s(15));
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});  // no warning before it
}

TEST(r1_threshold, syn__warned_at_the_third_syn_retransmission) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn});
  for (int t : {1, 3}) h.expect_recv(at_s(t), seg{.seq = local_iss, .flags = syn});
  h.expect_no_event();
  h.expect_recv(at_s(7), seg{.seq = local_iss, .flags = syn});
  h.expect_event(r1_event);
  h.expect_state(s::syn_sent);
  // The peer answers after all: the handshake completes, no warning is left behind.
  h.send(at_s(8), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn | ack});
  h.expect_state(s::established);
  h.expect_event(tcp_event{tcp_event_kind::established, close_reason::none});
  EXPECT_EQ(h.conn().snapshot().rto_streak, 0u);
  h.expect_no_event();
}

// ESTABLISHED, the peer's window closed, "hello" queued: the persist timer will probe.
void window_closed_with_data_queued(tcp_harness& h) {
  h.drive_to(s::established);
  h.send(at_ms(0), seg{.seq = h.r(1), .ack = h.l(1), .window = 0});
  EXPECT_EQ(h.write("hello"), 5u);
  h.expect_nothing(at_ms(0));
}

TEST(r1_threshold, refused_zero_window_probes_never_reach_r1) {
  tcp_harness h;
  window_closed_with_data_queued(h);
  for (int t : {1, 3, 7, 15, 31}) {
    h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
    h.send(at_s(t), seg{.seq = h.r(1), .ack = h.l(1), .window = 0});  // answered: the peer is alive
    EXPECT_EQ(h.conn().snapshot().rto_streak, 0u);
  }
  h.expect_no_event();
}

TEST(r1_threshold, unanswered_zero_window_probes_reach_r1) {
  tcp_harness h;
  window_closed_with_data_queued(h);
  // The first probe goes at 1 s (persist); the retransmission timer repeats it: 3, 7, 15 s.
  for (int t : {1, 3, 7}) h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
  h.expect_no_event();
  h.expect_recv(at_s(15), seg{.seq = h.l(1), .ack = h.r(1), .payload = "h"});
  h.expect_event(r1_event);
}

}  // namespace
}  // namespace synack::test
