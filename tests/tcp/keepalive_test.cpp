// RFC 9293 §3.8.4 keep-alives (MAY-5): on or off per connection (MUST-24), off by default
// (MUST-25), sent only when idle with nothing outstanding (MUST-26) after a configurable
// interval of at least two hours by default (MUST-27, MUST-28), with no data (SHLD-12), and
// one unanswered probe is not a dead connection (MUST-29).
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;
using std::chrono::seconds;

tcp_config keepalive_on() {
  tcp_config cfg;
  cfg.keepalive = true;
  return cfg;
}

// The probe <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>, no data, after the fixture's handshake.
seg probe(std::uint32_t rcv_off = 1) { return seg{.seq = tcp_harness::l(0), .ack = tcp_harness::r(rcv_off)}; }
// The peer's answer: the ACK its sequence check sends, <SEQ=RCV.NXT><ACK=SND.NXT>.
seg answer(std::uint32_t rcv_off = 1) { return seg{.seq = tcp_harness::r(rcv_off), .ack = tcp_harness::l(1)}; }

// Nine unanswered probes from `first`, 75 s apart; 75 s after the last the connection is
// given up: <SEQ=SND.NXT><CTL=RST>, CLOSED, "connection timed out".
void expect_probes_then_close(tcp_harness& h, instant first) {
  for (int k = 0; k < 9; ++k) {
    const instant t = first + seconds(75) * k;
    h.expect_nothing(t - seconds(1));
    h.expect_recv(t, probe());
    h.expect_nothing(t);
    h.expect_state(s::established);  // MUST-29: unanswered probes are not yet a dead peer
  }
  const instant end = first + seconds(75) * 9;
  h.expect_nothing(end - seconds(1));
  h.expect_state(s::established);
  h.expect_recv(end, seg{.seq = h.l(1), .flags = rst});
  h.expect_nothing(end);
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});
  EXPECT_EQ(h.conn().reason(), close_reason::timeout);
  EXPECT_FALSE(h.conn().next_deadline().has_value());
}

TEST(keepalive, off_by_default__silence_for_hours) {
  const tcp_config defaults;
  EXPECT_FALSE(defaults.keepalive);                    // MUST-25
  EXPECT_GE(defaults.keepalive_idle, seconds(7200));   // MUST-28
  tcp_harness h;
  h.drive_to(s::established);
  EXPECT_FALSE(h.conn().next_deadline().has_value());
  h.expect_nothing(at_s(7200));
  h.expect_nothing(at_s(10 * 3600));
  h.expect_state(s::established);
  h.expect_no_event();
}

TEST(keepalive, on__first_probe_exactly_at_idle_after_the_last_segment) {
  tcp_harness h(keepalive_on());
  h.drive_to(s::established);  // the handshake's ACK arrived at 0
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::keepalive);
  EXPECT_EQ(h.conn().next_deadline(), at_s(7200));
  h.expect_nothing(at_ms(7'199'999));
  h.expect_recv(at_s(7200), probe());
  h.expect_nothing(at_s(7200));
  EXPECT_EQ(h.conn().snd().nxt, h.l(1));  // the probe takes no sequence space
  EXPECT_EQ(h.conn().snapshot().next_timer, timer_kind::keepalive);
  EXPECT_EQ(h.conn().next_deadline(), at_s(7275));
}

TEST(keepalive, active_open__idle_counts_from_the_syn_ack) {
  tcp_harness h(keepalive_on());
  h.establish_active(at_s(5));
  h.drain_events();
  // Active open: our SYN took ISS, the SYN-ACK r(0): the probe is <SEQ=ISS><ACK=IRS+1>.
  EXPECT_EQ(h.conn().next_deadline(), at_s(7205));
  h.expect_nothing(at_s(7204));
  h.expect_recv(at_s(7205), seg{.seq = local_iss, .ack = remote_iss + seq_len{1}});
}

TEST(keepalive, answered_probe__rearmed_at_idle_count_starts_over) {
  tcp_harness h(keepalive_on());
  h.drive_to(s::established);
  h.expect_recv(at_s(7200), probe());
  h.expect_recv(at_s(7275), probe());  // the first went unanswered (MUST-29: no harm)
  EXPECT_EQ(h.send(at_s(7276), answer()), rx_verdict::accepted);
  h.expect_nothing(at_s(7276));
  EXPECT_EQ(h.conn().next_deadline(), at_s(7276 + 7200));
  h.expect_nothing(at_s(7276 + 7199));
  // The count started over: nine more probes before the connection is given up.
  expect_probes_then_close(h, at_s(7276 + 7200));
}

TEST(keepalive, unanswered__probes_at_interval_then_closed_timed_out_with_rst) {
  tcp_harness h(keepalive_on());
  h.drive_to(s::established);
  expect_probes_then_close(h, at_s(7200));  // closed at 7,200 + 9 x 75 = 7,875 s
}

TEST(keepalive, configured_idle_interval_and_count) {
  tcp_config cfg = keepalive_on();
  cfg.keepalive_idle = seconds(60);
  cfg.keepalive_interval = seconds(10);
  cfg.keepalive_count = 2;
  tcp_harness h(cfg);
  h.drive_to(s::established);
  h.expect_nothing(at_s(59));
  h.expect_recv(at_s(60), probe());
  h.expect_recv(at_s(70), probe());
  h.expect_nothing(at_s(79));
  h.expect_recv(at_s(80), seg{.seq = h.l(1), .flags = rst});
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});
}

// With a user timeout (RFC 5482, Linux TCP_USER_TIMEOUT) the count no longer decides: the
// connection is given up at the first probe timer at which a probe is out and nothing has
// been heard for the user timeout (Linux tcp_keepalive_timer).
TEST(keepalive, user_timeout_decides_instead_of_the_count) {
  tcp_config cfg = keepalive_on();
  cfg.keepalive_idle = seconds(60);
  cfg.keepalive_interval = seconds(10);
  cfg.keepalive_count = 2;
  cfg.user_timeout = seconds(100);
  tcp_harness h(cfg);
  h.drive_to(s::established);
  // Probes at 60, 70, 80, 90 s: beyond the count of 2, silence 90 s < 100 s.
  for (int t : {60, 70, 80, 90}) h.expect_recv(at_s(t), probe());
  h.expect_state(s::established);
  h.expect_nothing(at_s(99));
  // At 100 s nothing has been heard for 100 s and a probe is out: RST, timed out.
  h.expect_recv(at_s(100), seg{.seq = h.l(1), .flags = rst});
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});
}

TEST(keepalive, user_timeout_shorter_than_the_probes__gone_at_the_first_timer_after_a_probe) {
  tcp_config cfg = keepalive_on();
  cfg.keepalive_idle = seconds(60);
  cfg.keepalive_interval = seconds(75);
  cfg.user_timeout = seconds(30);
  tcp_harness h(cfg);
  h.drive_to(s::established);
  // The first probe always goes (no probe out yet, though 60 s >= 30 s of silence) ...
  h.expect_recv(at_s(60), probe());
  // ... an answer starts everything over ...
  h.send(at_s(61), answer());
  h.expect_nothing(at_s(120));
  h.expect_recv(at_s(121), probe());
  // ... and without one the next timer ends it.
  h.expect_nothing(at_s(195));
  h.expect_recv(at_s(196), seg{.seq = h.l(1), .flags = rst});
  h.expect_state(s::closed);
}

TEST(keepalive, data_traffic_postpones_the_probe) {
  tcp_harness h(keepalive_on());
  h.drive_to(s::established);
  // The peer sends at 1 h; our delayed ACK follows 40 ms later.
  h.send(at_s(3600), seg{.seq = h.r(1), .ack = h.l(1), .flags = psh, .payload = "ping"});
  h.expect_nothing(at_s(3600));
  h.expect_recv(at_ms(3'600'040), seg{.seq = h.l(1), .ack = h.r(5)});
  EXPECT_EQ(h.read_all(), "ping");
  h.expect_nothing(at_s(7200));  // two hours since the handshake, one since the data
  // We send at 5,000 s; the peer's ACK 500 ms later is the last segment received.
  EXPECT_EQ(h.write("pong"), 4u);
  h.expect_recv(at_s(5000), seg{.seq = h.l(1), .ack = h.r(5), .flags = psh, .payload = "pong"});
  h.send(at_ms(5'000'500), seg{.seq = h.r(5), .ack = h.l(5)});
  h.expect_nothing(at_ms(5'000'500 + 7'199'999));
  h.expect_recv(at_ms(5'000'500 + 7'200'000), seg{.seq = h.l(4), .ack = h.r(5)});
}

TEST(keepalive, not_sent_while_data_is_in_flight__the_retransmit_timer_owns_it) {
  tcp_config cfg = keepalive_on();
  cfg.keepalive_idle = seconds(60);  // MUST-27: configurable; short enough to meet the RTOs
  tcp_harness h(cfg);
  h.drive_to(s::established);
  EXPECT_EQ(h.write("hello"), 5u);
  h.expect_recv(at_s(10), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
  // RTO 1 s, backing off: 11, 13, 17, 25, 41, 73 s. The idle deadline (60 s) passes silently.
  for (int t : {11, 13, 17, 25, 41}) {
    h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
    h.expect_nothing(at_s(t));
  }
  h.expect_nothing(at_s(72));
  h.expect_recv(at_s(73), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
  h.expect_nothing(at_s(73));
  // Acknowledged at 80 s: now idle, the first probe comes 60 s after that ACK.
  h.send(at_s(80), seg{.seq = h.r(1), .ack = h.l(6)});
  h.expect_nothing(at_s(139));
  h.expect_recv(at_s(140), seg{.seq = h.l(5), .ack = h.r(1)});
}

TEST(keepalive, silent_peer_with_data_in_flight__r2_closes_not_keepalive) {
  tcp_config cfg = keepalive_on();
  cfg.keepalive_idle = seconds(60);
  tcp_harness h(cfg);  // data_r2 = 100 s
  h.drive_to(s::established);
  EXPECT_EQ(h.write("hello"), 5u);
  h.expect_recv(at_s(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
  for (int t : {1, 3, 7, 15, 31, 63}) {
    h.expect_recv(at_s(t), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
    h.expect_nothing(at_s(t));
  }
  h.expect_nothing(at_s(127));  // RTO 64 s: R2 (100 s since the first transmission) is reached
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::retransmit_threshold, close_reason::none});  // R1 first
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::timeout});
}

TEST(keepalive, close_wait__probes_with_the_peer_fin_acknowledged) {
  tcp_harness h(keepalive_on());
  h.drive_to(s::close_wait);  // RCV.NXT = r(2)
  h.expect_nothing(at_s(7199));
  h.expect_recv(at_s(7200), probe(2));
  h.send(at_s(7201), answer(2));
  EXPECT_EQ(h.conn().next_deadline(), at_s(7201 + 7200));
  h.expect_state(s::close_wait);
}

TEST(keepalive, fin_wait_2__probes_with_our_fin_acknowledged) {
  tcp_harness h(keepalive_on());
  h.drive_to(s::fin_wait_2);  // SND.NXT = l(2): the probe repeats our FIN's number
  h.expect_nothing(at_s(7199));
  h.expect_recv(at_s(7200), seg{.seq = h.l(1), .ack = h.r(1)});
  h.expect_state(s::fin_wait_2);
}

}  // namespace
}  // namespace synack::test
