// RFC 3168 Explicit Congestion Notification, exact segments on virtual time: negotiation on
// the SYNs (§6.1.1) from both sides, ECT(0) on new data only (§6.1.5, §6.1.6), the receiver's
// ECE from a CE mark until CWR (§6.1.3), and the sender's one reduction per window of data
// with CWR on its next new segment (§6.1.2), not again in fast recovery.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/tcp_harness.hpp"
#include "synack/tcp/congestion.hpp"
#include "tcp/full_segments.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
constexpr auto not_ect = ecn_codepoint::not_ect;
constexpr auto ect0 = ecn_codepoint::ect0;
constexpr auto ce = ecn_codepoint::ce;

constexpr std::uint8_t flags(std::uint8_t f) { return f; }

tcp_config ecn_cfg(ecn_mode m) {
  tcp_config cfg;
  cfg.ecn = m;
  return cfg;
}

// A passive open whose SYN asks for ECN (ECE and CWR): the SYN-ACK answers with ECE alone, as
// Not-ECT. The handshake takes 100 ms (SRTT 100 ms, RTO at its 1 s floor).
void establish_ecn(tcp_harness& h, bool sack = false) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = flags(syn | ece | cwr), .mss = 1460, .sack_ok = sack});
  h.expect_recv(at_ms(0), seg{.seq = h.l(0), .ack = h.r(1), .flags = flags(syn | ece), .ecn = not_ect});
  h.send(at_ms(100), seg{.seq = h.r(1), .ack = h.l(1)});
  ASSERT_EQ(h.conn().state(), tcp_state::established);
  ASSERT_TRUE(h.conn().ecn_on());
  h.drain_events();
}

// An active open: our SYN (ECN-setup when `requested`), the peer's SYN-ACK with `synack_flags`.
void active_open(tcp_harness& h, bool requested, std::uint8_t synack_flags) {
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = h.l(0), .flags = flags(requested ? syn | ece | cwr : syn), .ecn = not_ect});
  h.send(at_ms(100), seg{.seq = remote_iss, .ack = h.l(1), .flags = flags(syn | synack_flags), .mss = 1460});
  ASSERT_EQ(h.conn().state(), tcp_state::established);
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .ecn = not_ect});
  h.drain_events();
}

// ---- negotiation (§6.1.1) --------------------------------------------------------------------

TEST(ecn, passive_default__ecn_setup_syn_answered_with_ece_syn_ack) {
  tcp_harness h;  // tcp_config::ecn defaults to passive
  establish_ecn(h);
  EXPECT_TRUE(h.conn().snapshot().ecn);
}

TEST(ecn, off__ecn_setup_syn_answered_with_a_plain_syn_ack) {
  tcp_harness h(ecn_cfg(ecn_mode::off));
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = flags(syn | ece | cwr), .mss = 1460});
  h.expect_recv(at_ms(0), seg{.seq = h.l(0), .ack = h.r(1), .flags = syn});
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1)});
  EXPECT_FALSE(h.conn().ecn_on());
}

TEST(ecn, passive__syn_with_ece_alone_is_not_ecn_setup) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = flags(syn | ece), .mss = 1460});
  h.expect_recv(at_ms(0), seg{.seq = h.l(0), .ack = h.r(1), .flags = syn});
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1)});
  EXPECT_FALSE(h.conn().ecn_on());
}

TEST(ecn, on__ecn_setup_syn_and_an_ece_syn_ack_agree__new_data_is_ect0) {
  tcp_harness h(ecn_cfg(ecn_mode::on));
  active_open(h, true, ece);
  EXPECT_TRUE(h.conn().ecn_on());
  ASSERT_EQ(h.write("hello"), 5u);
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello", .ecn = ect0});
}

// §6.1.1: a SYN-ACK with both ECE and CWR (a peer reflecting our flags) is not ECN-setup.
TEST(ecn, on__syn_ack_with_ece_and_cwr_is_not_ecn_setup) {
  tcp_harness h(ecn_cfg(ecn_mode::on));
  active_open(h, true, ece | cwr);
  EXPECT_FALSE(h.conn().ecn_on());
  ASSERT_EQ(h.write("hello"), 5u);
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello", .ecn = not_ect});
}

TEST(ecn, on__plain_syn_ack_leaves_ecn_off) {
  tcp_harness h(ecn_cfg(ecn_mode::on));
  active_open(h, true, 0);
  EXPECT_FALSE(h.conn().ecn_on());
}

// A SYN-ACK with ECE to a SYN that did not ask (passive mode does not request): ignored, and
// so are the CE marks and ECE flags that follow — no echo, no reduction.
TEST(ecn, passive__ece_on_a_syn_ack_we_did_not_ask_for_is_ignored) {
  tcp_harness h;
  active_open(h, false, ece);
  EXPECT_FALSE(h.conn().ecn_on());
  h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(1), .payload = "a", .ecn = ce});
  h.expect_recv(at_ms(240), seg{.seq = h.l(1), .ack = h.r(2), .ecn = not_ect});  // the delayed ACK, no ECE
  ASSERT_EQ(h.write("hello"), 5u);
  h.expect_recv(at_ms(300), seg{.seq = h.l(1), .ack = h.r(2), .flags = psh, .payload = "hello", .ecn = not_ect});
  const std::uint32_t cwnd = h.conn().snapshot().cwnd;
  h.send(at_ms(400), seg{.seq = h.r(2), .ack = h.l(6), .flags = ece});
  EXPECT_GE(h.conn().snapshot().cwnd, cwnd);
  EXPECT_EQ(h.conn().ecn_ce_received(), 0u);
  EXPECT_EQ(h.conn().ecn_ece_received(), 0u);
  EXPECT_EQ(h.conn().ecn_reductions(), 0u);
}

// A simultaneous open: the peer's SYN crossing ours asks for ECN, and passive mode accepts
// it as from any SYN (as FreeBSD does): our SYN-ACK carries ECE.
TEST(ecn, passive__simultaneous_open_with_an_ecn_setup_syn_accepts) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = h.l(0), .flags = syn, .ecn = not_ect});
  h.send(at_ms(100), seg{.seq = remote_iss, .flags = flags(syn | ece | cwr), .mss = 1460});
  h.expect_recv(at_ms(100), seg{.seq = h.l(0), .ack = h.r(1), .flags = flags(syn | ece), .ecn = not_ect});
  EXPECT_TRUE(h.conn().ecn_on());
}

// ---- ECT(0) on new data only (§6.1.5, §6.1.6) ------------------------------------------------

TEST(ecn, ect0_on_new_data__not_on_pure_acks_retransmissions_or_window_probes) {
  tcp_harness h;
  establish_ecn(h);
  ASSERT_EQ(h.write("hello"), 5u);
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello", .ecn = ect0});
  h.send(at_ms(110), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_recv(at_ms(150), seg{.seq = h.l(6), .ack = h.r(4), .ecn = not_ect});  // a pure ACK
  // The RTO (1 s after the send) retransmits: Not-ECT (§6.1.5).
  h.expect_recv(at_ms(1100), seg{.seq = h.l(1), .ack = h.r(4), .flags = psh, .payload = "hello", .ecn = not_ect});
  // A zero window: the probe of the persist timer is Not-ECT too (§6.1.6).
  h.send(at_ms(1200), seg{.seq = h.r(4), .ack = h.l(6), .window = 0});
  ASSERT_EQ(h.write("more"), 4u);
  h.expect_nothing(at_ms(1200));
  const auto probe = h.poll(at_s(10));
  ASSERT_TRUE(probe.has_value());
  EXPECT_EQ(probe->payload.size(), 1u);
  EXPECT_FALSE(h.last_ect()) << "a window probe is Not-ECT";
  // The window opens: the rest is new data, ECT(0), and the first since the timeout reduced
  // the window, so it carries CWR (§6.1.2: a reduction "for any reason").
  h.send(at_s(10) + std::chrono::milliseconds(100), seg{.seq = h.r(4), .ack = h.l(7)});
  h.expect_recv(at_s(10) + std::chrono::milliseconds(100),
                seg{.seq = h.l(7), .ack = h.r(4), .flags = flags(psh | cwr), .payload = "ore", .ecn = ect0});
}

// ---- the receiver: CE -> ECE until CWR (§6.1.3) ----------------------------------------------

TEST(ecn, ce_mark__ece_on_every_ack_until_a_cwr_arrives) {
  tcp_harness h;
  establish_ecn(h);
  h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(1), .payload = "a", .ecn = ce});
  h.expect_recv(at_ms(240), seg{.seq = h.l(1), .ack = h.r(2), .flags = ece, .ecn = not_ect});
  EXPECT_EQ(h.conn().ecn_ce_received(), 1u);
  // An unmarked segment: the echo goes on (the sender has not said it reduced).
  h.send(at_ms(300), seg{.seq = h.r(2), .ack = h.l(1), .payload = "b", .ecn = ect0});
  h.expect_recv(at_ms(340), seg{.seq = h.l(1), .ack = h.r(3), .flags = ece});
  // Our own data carries it too.
  ASSERT_EQ(h.write("x"), 1u);
  h.expect_recv(at_ms(350), seg{.seq = h.l(1), .ack = h.r(3), .flags = flags(psh | ece), .payload = "x", .ecn = ect0});
  // CWR: the echo stops.
  h.send(at_ms(400), seg{.seq = h.r(3), .ack = h.l(2), .flags = cwr, .payload = "c", .ecn = ect0});
  h.expect_recv(at_ms(440), seg{.seq = h.l(2), .ack = h.r(4)});
  h.send(at_ms(500), seg{.seq = h.r(4), .ack = h.l(2), .payload = "d", .ecn = ect0});
  h.expect_recv(at_ms(540), seg{.seq = h.l(2), .ack = h.r(5)});
  // A new mark, a new echo.
  h.send(at_ms(600), seg{.seq = h.r(5), .ack = h.l(2), .payload = "e", .ecn = ce});
  h.expect_recv(at_ms(640), seg{.seq = h.l(2), .ack = h.r(6), .flags = ece});
  EXPECT_EQ(h.conn().ecn_ce_received(), 2u);
}

// ---- the sender: ECE -> one reduction per window, CWR on the next new data (§6.1.2) ---------

tcp_config reno_iw10() {
  tcp_config cfg;
  cfg.pacing = false;  // each window leaves in one burst, as the exact segments below expect
  cfg.congestion = congestion_kind::reno;
  cfg.initial_window = initial_window_rule::rfc6928;
  cfg.tail_loss_probe = false;
  return cfg;
}

TEST(ecn, ece__one_reduction_per_window_without_retransmission_and_cwr_on_the_next_new_data) {
  constexpr int total = 20;
  tcp_harness h(reno_iw10());
  establish_ecn(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 10; ++k) h.expect_recv(at_ms(100), seg{.seq = h.l(off(k)), .ack = h.r(1), .payload = segment(k), .ecn = ect0});
  h.expect_nothing(at_ms(100));
  // The ACK of segment 1 echoes a mark: ssthresh and cwnd become half the flight of 10 segments.
  h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(off(2)), .flags = ece});
  EXPECT_EQ(h.conn().ecn_ece_received(), 1u);
  EXPECT_EQ(h.conn().ecn_reductions(), 1u);
  EXPECT_EQ(h.conn().snapshot().ssthresh, 5 * smss);
  EXPECT_EQ(h.conn().snapshot().cwnd, 5 * smss);
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  h.expect_nothing(at_ms(200));  // 9 segments in flight, cwnd 5: nothing, and no retransmission
  // The echo goes on until our CWR arrives: the rest of this window does not reduce again.
  h.send(at_ms(210), seg{.seq = h.r(1), .ack = h.l(off(7)), .flags = ece});
  EXPECT_EQ(h.conn().ecn_ece_received(), 2u);
  EXPECT_EQ(h.conn().ecn_reductions(), 1u);
  EXPECT_EQ(h.conn().snapshot().ssthresh, 5 * smss);
  // The first new segment after the reduction carries CWR; the ones after it do not.
  h.expect_recv(at_ms(210), seg{.seq = h.l(off(11)), .ack = h.r(1), .flags = cwr, .payload = segment(11), .ecn = ect0});
  int after = 0;
  while (const auto p = h.poll(at_ms(210))) {
    EXPECT_EQ(p->flags & cwr, 0) << describe(*p);
    EXPECT_TRUE(h.last_ect());
    ++after;
  }
  EXPECT_GE(after, 1);
  EXPECT_EQ(h.conn().retransmissions(), 0u);
  // An ACK past the window of the reduction (it covers the CWR segment) with ECE: a new mark,
  // a new reduction.
  h.send(at_ms(300), seg{.seq = h.r(1), .ack = h.l(off(12)), .flags = ece});
  EXPECT_EQ(h.conn().ecn_reductions(), 2u);
  EXPECT_EQ(h.conn().retransmissions(), 0u);
}

// Fast recovery has reduced for this window: an ECE during it changes nothing.
TEST(ecn, ece_during_fast_recovery__no_second_reduction) {
  constexpr int total = 40;
  tcp_config cfg = reno_iw10();
  cfg.prr = true;
  tcp_harness h(cfg);
  establish_ecn(h, true);
  ASSERT_TRUE(h.conn().sack_permitted());
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 10; ++k) h.expect_recv(at_ms(100), seg{.seq = h.l(off(k)), .ack = h.r(1), .payload = segment(k), .ecn = ect0});
  // Segment 1 lost: SACKs of 2-4 start fast recovery and its retransmission (Not-ECT).
  h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(off(1)), .sack = std::vector{sack_block{h.l(off(2)), h.l(off(5))}}});
  h.expect_recv(at_ms(200), seg{.seq = h.l(off(1)), .ack = h.r(1), .payload = segment(1), .ecn = not_ect});
  ASSERT_TRUE(h.conn().snapshot().in_recovery);
  const std::uint32_t ssthresh = h.conn().snapshot().ssthresh;
  ASSERT_EQ(ssthresh, 5 * smss);
  h.send(at_ms(205), seg{.seq = h.r(1), .ack = h.l(off(1)), .flags = ece,
                         .sack = std::vector{sack_block{h.l(off(2)), h.l(off(6))}}});
  EXPECT_EQ(h.conn().ecn_ece_received(), 1u);
  EXPECT_EQ(h.conn().ecn_reductions(), 0u);
  EXPECT_EQ(h.conn().snapshot().ssthresh, ssthresh);
  // The recovery's end: its window's ECE does not reduce either.
  h.send(at_ms(300), seg{.seq = h.r(1), .ack = h.l(off(11)), .flags = ece});
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().ecn_reductions(), 0u);
  EXPECT_EQ(h.conn().snapshot().ssthresh, ssthresh);
}

}  // namespace
}  // namespace synack::test
