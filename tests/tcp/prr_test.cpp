// Proportional Rate Reduction (RFC 6937, RFC 9937): the arithmetic of tcp/prr, then exact
// segments of a connection in fast recovery on virtual time. Reno (ssthresh = FlightSize / 2)
// and SACK; no timestamps, so a full segment carries 1460 octets; RFC 6928's initial window
// of 10 segments. The handshake takes 100 ms; the ACKs below come within a few ms, long before
// a loss probe or an RTO.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/tcp_harness.hpp"
#include "synack/tcp/prr.hpp"
#include "tcp/full_segments.hpp"
#include "tcp/sack_peer.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;

// ---- the arithmetic ------------------------------------------------------------------------

TEST(prr_arithmetic, proportional_while_pipe_exceeds_ssthresh) {
  prr p;
  p.start(20 * smss);  // RecoverFS
  const std::uint32_t ssthresh = 10 * smss;
  // CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out: half of what is delivered.
  EXPECT_EQ(p.on_ack(smss, 19 * smss, ssthresh, smss, false), smss / 2);
  p.on_sent(smss);  // the fast retransmit
  EXPECT_EQ(p.on_ack(smss, 18 * smss, ssthresh, smss, false), 0u);
  EXPECT_EQ(p.on_ack(smss, 18 * smss, ssthresh, smss, false), smss / 2);
  EXPECT_EQ(p.on_ack(smss, 17 * smss, ssthresh, smss, false), smss);
  EXPECT_EQ(p.delivered(), 4u * smss);
  EXPECT_EQ(p.out(), 1u * smss);
}

TEST(prr_arithmetic, reduction_bound__conservative_unless_the_ack_is_safe) {
  prr p;
  p.start(10 * smss);
  const std::uint32_t ssthresh = 5 * smss;
  // pipe <= ssthresh. PRR-CRB: no more than delivered (and never past ssthresh).
  EXPECT_EQ(p.on_ack(3 * smss, 1 * smss, ssthresh, smss, false), 3u * smss);
  p.on_sent(3 * smss);
  EXPECT_EQ(p.on_ack(smss, 3 * smss, ssthresh, smss, false), smss);
  p.on_sent(smss);
  // PRR-SSRB on a safe ACK: one SMSS more than delivered, slow start's pace.
  EXPECT_EQ(p.on_ack(smss, 3 * smss, ssthresh, smss, true), 2u * smss);
  p.on_sent(2 * smss);
  EXPECT_EQ(p.on_ack(smss, 4 * smss, ssthresh, smss, true), smss) << "ssthresh - pipe bounds it";
}

TEST(prr_arithmetic, an_ack_that_delivers_nothing_sends_nothing__but_the_first_retransmission_goes) {
  prr p;
  p.start(10 * smss);
  EXPECT_EQ(p.on_ack(0, 9 * smss, 5 * smss, smss, false), smss) << "prr_out = 0: the fast retransmit";
  p.on_sent(smss);
  EXPECT_EQ(p.on_ack(0, 9 * smss, 5 * smss, smss, false), 0u);
}

// ---- a connection --------------------------------------------------------------------------

tcp_config prr_cfg() {
  tcp_config cfg;
  cfg.pacing = false;  // each window leaves in one burst, as the exact segments below expect
  cfg.prr = true;  // off by default until RACK (config.hpp)
  cfg.congestion = congestion_kind::reno;
  cfg.initial_window = initial_window_rule::rfc6928;  // 10 segments
  return cfg;
}

constexpr int total = 60;  // segments written; PSH goes on the last

void establish(tcp_harness& h) { establish_sack(h); }

void expect_segment(tcp_harness& h, instant at, int k, test::source_loc loc = test::source_loc::current()) {
  expect_full_segment(h, at, k, total, loc);
}

// A duplicate ACK for segment `hole` SACKing [first, last].
seg sack_ack(tcp_harness& h, int hole, int first, int last) {
  return seg{.seq = h.r(1), .ack = h.l(off(hole)), .sack = std::vector{sack_block{h.l(off(first)), h.l(off(last + 1))}}};
}

// The whole write queued; the initial window, segments 1-10, sent at 100 ms.
void ten_out(tcp_harness& h) {
  establish(h);
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 10; ++k) expect_segment(h, at_ms(100), k);
}

// Ten segments, all acknowledged by one ACK (slow start: cwnd 20 segments), then segments
// 11-30 in flight.
void twenty_in_flight(tcp_harness& h) {
  ten_out(h);
  h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(off(11))});
  ASSERT_EQ(h.conn().snapshot().cwnd, 20 * smss);
  for (int k = 11; k <= 30; ++k) expect_segment(h, at_ms(200), k);
  h.expect_nothing(at_ms(200));
}

// RFC 6937 §3 / RFC 9937 §4: ssthresh = FlightSize / 2 = RecoverFS / 2, so while pipe >
// ssthresh one segment goes for every two delivered — on every other ACK — instead of
// RFC 6675's silence for half a window followed by one segment per ACK.
TEST(prr, one_segment_every_other_ack_while_pipe_exceeds_ssthresh) {
  tcp_harness h(prr_cfg());
  twenty_in_flight(h);
  // Segment 11 lost. The first duplicate ACK SACKs 12-14: IsLost(11), recovery (RFC 6675 §5).
  h.send(at_ms(300), sack_ack(h, 11, 12, 14));
  expect_segment(h, at_ms(300), 11);  // the fast retransmit
  h.expect_nothing(at_ms(300));
  EXPECT_TRUE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().snapshot().ssthresh, 10 * smss);
  // Each ACK SACKs one more segment. prr_delivered / 2 - prr_out allows a segment on every
  // second one: new data, 31 onwards.
  int next = 31;
  for (int k = 15; k <= 26; ++k) {
    h.send(at_ms(300 + k), sack_ack(h, 11, 12, k));
    if (k % 2 == 1) expect_segment(h, at_ms(300 + k), next++);
    h.expect_nothing(at_ms(300 + k));
  }
  EXPECT_EQ(next, 37);
  // Now pipe has fallen to ssthresh (segments 28-30, 11 again and 31-36 in flight: 10):
  // packet conservation, one segment per segment delivered, from the next ACK on.
  h.send(at_ms(327), sack_ack(h, 11, 12, 27));
  h.expect_nothing(at_ms(327));
  for (int k = 28; k <= 30; ++k) {
    h.send(at_ms(300 + k), sack_ack(h, 11, 12, k));
    expect_segment(h, at_ms(300 + k), next++);
    h.expect_nothing(at_ms(300 + k));
  }
  // The retransmission arrives: recovery ends with cwnd = ssthresh (RFC 9937 §4).
  h.send(at_ms(400), seg{.seq = h.r(1), .ack = h.l(off(31))});
  EXPECT_FALSE(h.conn().snapshot().in_recovery);
  EXPECT_EQ(h.conn().snapshot().cwnd, 10 * smss);
  EXPECT_EQ(h.conn().retransmissions(), 1u);
}

// RFC 9937 §4 reduction bound: after heavy loss pipe is far below ssthresh. An ACK that may
// signal more loss lets out only what it delivered (PRR-CRB); a safe ACK (SND.UNA advanced,
// nothing newly SACKed) one segment more, slow start's pace (PRR-SSRB) — never beyond
// ssthresh. RFC 6675 would send ssthresh - pipe at once.
TEST(prr, heavy_loss__the_reduction_bound_grows_the_flight_back_as_slow_start) {
  tcp_harness h(prr_cfg());
  ten_out(h);
  // Segments 1-6 lost; 7-9 arrive: every segment below them IsLost; pipe = segment 10 only.
  h.send(at_ms(200), sack_ack(h, 1, 7, 9));
  // ssthresh = 5 segments; three delivered: three go (CRB), the first three holes.
  expect_segment(h, at_ms(200), 1);
  expect_segment(h, at_ms(200), 2);
  expect_segment(h, at_ms(200), 3);
  h.expect_nothing(at_ms(200));
  EXPECT_EQ(h.conn().snapshot().ssthresh, 5 * smss);
  h.send(at_ms(201), sack_ack(h, 1, 7, 10));  // one more delivered: one more hole
  expect_segment(h, at_ms(201), 4);
  h.expect_nothing(at_ms(201));
  // The retransmission of 1 arrives: a safe ACK. Delivered one, two go (SSRB).
  h.send(at_ms(300), sack_ack(h, 2, 7, 10));
  expect_segment(h, at_ms(300), 5);
  expect_segment(h, at_ms(300), 6);
  h.expect_nothing(at_ms(300));
  // Segment 2: pipe = 3, 4, 5, 6: ssthresh - pipe bounds it to one, new data.
  h.send(at_ms(301), sack_ack(h, 3, 7, 10));
  expect_segment(h, at_ms(301), 11);
  h.expect_nothing(at_ms(301));
  EXPECT_EQ(h.conn().retransmissions(), 6u);
}

// With PRR off, RFC 6675 as before: cwnd = ssthresh, and cwnd - pipe goes at once.
TEST(prr, switched_off__rfc6675_sends_cwnd_minus_pipe_at_once) {
  tcp_config cfg = prr_cfg();
  cfg.prr = false;
  tcp_harness h(cfg);
  ten_out(h);
  h.send(at_ms(200), sack_ack(h, 1, 7, 9));
  for (int k = 1; k <= 4; ++k) expect_segment(h, at_ms(200), k);  // 5 - pipe (1)
  h.expect_nothing(at_ms(200));
}

// Without SACK, each duplicate ACK stands for one segment delivered (RFC 6937 §3): NewReno's
// inflation (a pause, then one segment per duplicate ACK) becomes one every other ACK.
TEST(prr, without_sack__duplicate_acks_count_a_segment_each) {
  tcp_harness h(prr_cfg());
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460});
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(100), seg{.seq = h.r(1), .ack = h.l(1)});
  ASSERT_EQ(h.write(segments(1, total)), total * smss);
  for (int k = 1; k <= 10; ++k) expect_segment(h, at_ms(100), k);
  h.send(at_ms(200), seg{.seq = h.r(1), .ack = h.l(off(11))});
  for (int k = 11; k <= 30; ++k) expect_segment(h, at_ms(200), k);
  // Segment 11 lost: duplicate ACKs. The first two send new data (limited transmit, RFC 3042).
  const seg dup{.seq = h.r(1), .ack = h.l(off(11))};
  h.send(at_ms(300), dup);
  expect_segment(h, at_ms(300), 31);
  h.send(at_ms(301), dup);
  expect_segment(h, at_ms(301), 32);
  h.send(at_ms(302), dup);
  expect_segment(h, at_ms(302), 11);  // fast retransmit
  h.expect_nothing(at_ms(302));
  int next = 33;
  int sent = 0;
  for (int i = 3; i < 13; ++i) {
    h.send(at_ms(300 + i), dup);
    if (auto got = h.poll(at_ms(300 + i))) {
      EXPECT_EQ(got->seq, h.l(off(next)));
      ++next;
      ++sent;
      h.expect_nothing(at_ms(300 + i));
    }
  }
  EXPECT_EQ(sent, 5) << "ten duplicate ACKs, five segments";
}

}  // namespace
}  // namespace synack::test
