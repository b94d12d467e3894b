// Congestion control: RFC 5681 (slow start, congestion avoidance, fast retransmit/recovery,
// restart after idle), RFC 6582 (NewReno), RFC 3042 (limited transmit), RFC 9438 (CUBIC).
// Sequence numbers start just below the 2^32 wrap.
#include "synack/tcp/congestion.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace synack {
namespace {

constexpr std::uint32_t mss = 1000;
constexpr seq_num iss{0xFFFFF000u};
constexpr auto srtt = std::optional<duration>{std::chrono::milliseconds(100)};

instant at_ms(std::int64_t ms) { return instant::from_us(ms * 1000); }

// The sender's view of the byte stream: SND.UNA and SND.MAX.
struct stream {
  seq_num una = iss.next();
  seq_num max = iss.next();
  void send(std::uint32_t bytes) { max += seq_len{bytes}; }
  [[nodiscard]] std::uint32_t flight() const { return distance(una, max).n; }
  seq_num ack(std::uint32_t bytes) {
    una += seq_len{bytes};
    return una;
  }
};

// ACKs `bytes` more (SND.UNA first, then FlightSize: argument order is unspecified).
ack_outcome ack(congestion_control& cc, stream& s, instant now, std::uint32_t bytes,
                std::optional<duration> rtt = srtt) {
  const seq_num a = s.ack(bytes);
  return cc.on_ack(now, a, bytes, rtt, s.flight());
}

// One round trip: send a full cwnd of MSS segments, then ACK them one by one at `now`.
void round_trip(congestion_control& cc, stream& s, instant now, std::optional<duration> rtt = srtt) {
  const std::uint32_t n = cc.cwnd() / mss;
  s.send(n * mss);
  for (std::uint32_t i = 0; i < n; ++i) {
    const seq_num a = s.ack(mss);
    EXPECT_EQ(cc.on_ack(now, a, mss, rtt, s.flight()), ack_outcome::advanced);
  }
}

// Slow start to exactly `bytes` by single-MSS ACKs (each adds one MSS).
void grow_to(congestion_control& cc, stream& s, std::uint32_t bytes) {
  while (cc.cwnd() < bytes) {
    s.send(mss);
    (void)ack(cc, s, at_ms(0), mss);
  }
  ASSERT_EQ(cc.cwnd(), bytes);
}

// Three duplicate ACKs at SND.UNA with `flight` outstanding; returns the third's action.
dup_ack_action three_dup_acks(congestion_control& cc, stream& s, instant now,
                              recovery_style style = recovery_style::newreno) {
  (void)cc.on_dup_ack(now, s.una, s.max, s.flight(), style);
  (void)cc.on_dup_ack(now, s.una, s.max, s.flight(), style);
  return cc.on_dup_ack(now, s.una, s.max, s.flight(), style);
}

// --- initial window, slow start -----------------------------------------------------------

TEST(congestion, initial_window_rfc5681_by_smss) {
  EXPECT_EQ(reno(1000).cwnd(), 4000u);   // SMSS <= 1095: 4 segments
  EXPECT_EQ(reno(1095).cwnd(), 4380u);
  EXPECT_EQ(reno(1460).cwnd(), 4380u);   // 1095 < SMSS <= 2190: 3 segments
  EXPECT_EQ(reno(2190).cwnd(), 6570u);
  EXPECT_EQ(reno(2191).cwnd(), 4382u);   // SMSS > 2190: 2 segments
  EXPECT_EQ(reno(1460).initial_window(), 4380u);
}

TEST(congestion, initial_window_rfc6928) {
  const congestion_config cfg{.iw = initial_window_rule::rfc6928};
  EXPECT_EQ(reno(1460, cfg).cwnd(), 14600u);  // min(14600, max(2920, 14600))
  EXPECT_EQ(reno(1000, cfg).cwnd(), 10000u);  // 10 * MSS
  EXPECT_EQ(reno(9000, cfg).cwnd(), 18000u);  // 2 * MSS
}

TEST(congestion, starts_in_slow_start_with_high_ssthresh) {
  reno r(mss);
  EXPECT_TRUE(r.in_slow_start());
  EXPECT_EQ(r.ssthresh(), congestion_control::max_window);
  EXPECT_FALSE(r.in_recovery());
  EXPECT_FALSE(r.recover().has_value());
}

TEST(congestion, slow_start_doubles_per_rtt) {
  for (const auto kind : {congestion_kind::reno, congestion_kind::cubic}) {
    congestion cc(kind, mss);
    stream s;
    std::uint32_t expect = 4000;
    for (int rtt = 1; rtt <= 6; ++rtt) {
      round_trip(*cc, s, at_ms(100 * rtt));
      expect *= 2;
      EXPECT_EQ(cc->cwnd(), expect) << to_string(kind) << " after RTT " << rtt;
    }
  }
}

TEST(congestion, slow_start_byte_counting_limits_stretch_acks) {
  reno r(mss);
  stream s;
  s.send(4000);
  EXPECT_EQ(ack(r, s, at_ms(1), 4000), ack_outcome::advanced);
  EXPECT_EQ(r.cwnd(), 6000u);  // RFC 3465 L = 2*SMSS
  s.send(500);
  (void)ack(r, s, at_ms(2), 500);
  EXPECT_EQ(r.cwnd(), 6500u);  // min(N, L): a short ACK counts its bytes
}

TEST(congestion, slow_start_after_rto_counts_one_smss_per_ack) {
  reno r(mss);
  stream s;
  s.send(8000);
  r.on_rto(at_ms(1000), s.max, s.flight());
  EXPECT_EQ(r.cwnd(), 1000u);
  (void)ack(r, s, at_ms(1100), 4000);
  EXPECT_EQ(r.cwnd(), 2000u);  // RFC 3465 §2.3: L = 1*SMSS after an RTO
}

// RFC 5681 §2 / RFC 1191: the path MTU changed SMSS. The windows keep their bytes (within
// the new floors); growth counts the new SMSS.
TEST(congestion, set_mss_keeps_the_window_packets_when_lowered_and_bytes_when_raised) {
  reno r(mss);
  stream s;
  s.send(16000);
  r.on_rto(at_ms(0), s.max, s.flight());  // cwnd 1 SMSS, ssthresh 8000
  s.una = s.max;
  round_trip(r, s, at_ms(100));
  round_trip(r, s, at_ms(200));
  ASSERT_EQ(r.cwnd(), 4000u);
  r.set_mss(500);  // a Fragmentation Needed halved the segment
  EXPECT_EQ(r.mss(), 500u);
  EXPECT_EQ(r.cwnd(), 2000u);      // 4 packets then, 4 packets now
  EXPECT_EQ(r.ssthresh(), 4000u);  // 8 segments
  EXPECT_EQ(r.initial_window(), 2000u);  // RFC 5681: SMSS <= 1095 -> 4 segments
  // Slow start after the RTO (L = 1 SMSS) now grows by the new SMSS per ACK.
  s.send(1000);
  (void)ack(r, s, at_ms(300), 1000);
  EXPECT_EQ(r.cwnd(), 2500u);
  // The raise timer puts 5000 back: ssthresh keeps its bytes, cwnd too (above 1 SMSS).
  r.set_mss(5000);
  EXPECT_EQ(r.cwnd(), 5000u);      // the 1-SMSS floor
  EXPECT_EQ(r.ssthresh(), 10000u);  // the 2-SMSS floor
  r.set_mss(5000);  // unchanged: nothing moves
  EXPECT_EQ(r.cwnd(), 5000u);
}

TEST(congestion, set_mss_leaves_an_unset_ssthresh_unset) {
  cubic c(1460);
  EXPECT_EQ(c.ssthresh(), congestion_control::max_window);
  c.set_mss(28);  // a 68-octet path
  EXPECT_EQ(c.ssthresh(), congestion_control::max_window);  // "arbitrarily high" stays so
  EXPECT_EQ(c.cwnd(), 84u);  // its 3 packets, of 28 octets now
  EXPECT_EQ(c.initial_window(), 112u);  // 4 segments of 28
}

// CUBIC's W_max is in segments: after a loss at 20 segments of 1000 octets, halving SMSS
// keeps it at 20 segments (as cwnd keeps its packets); raising SMSS again keeps its bytes.
TEST(congestion, cubic_set_mss_keeps_w_max_segments_when_lowered_bytes_when_raised) {
  cubic c(mss);
  stream s;
  grow_to(c, s, 20000);
  ASSERT_EQ(three_dup_acks(c, s, at_ms(0)), dup_ack_action::fast_retransmit);
  EXPECT_DOUBLE_EQ(c.w_max(), 20.0);
  c.set_mss(500);
  EXPECT_DOUBLE_EQ(c.w_max(), 20.0);
  EXPECT_DOUBLE_EQ(c.cwnd_prior(), 20.0);
  c.set_mss(1000);
  EXPECT_DOUBLE_EQ(c.w_max(), 10.0);  // 10,000 octets: the bytes of 20 x 500
}

TEST(congestion, slow_start_stops_at_ssthresh_then_congestion_avoidance) {
  reno r(mss);
  stream s;
  s.send(16000);
  r.on_rto(at_ms(0), s.max, s.flight());
  EXPECT_EQ(r.ssthresh(), 8000u);
  s.una = s.max;  // everything ACKed later; start a fresh flight
  round_trip(r, s, at_ms(100));
  round_trip(r, s, at_ms(200));
  EXPECT_EQ(r.cwnd(), 4000u);
  EXPECT_TRUE(r.in_slow_start());
  round_trip(r, s, at_ms(300));  // 4 ACKs: 8000 = ssthresh exactly
  EXPECT_EQ(r.cwnd(), 8000u);
  EXPECT_FALSE(r.in_slow_start());
  round_trip(r, s, at_ms(400));  // now one SMSS per RTT
  EXPECT_EQ(r.cwnd(), 9000u);
  // A slow-start increase that would cross ssthresh stops at it.
  reno r2(mss);
  stream s2;
  s2.send(12000);
  r2.on_rto(at_ms(0), s2.max, s2.flight());  // ssthresh 6000
  s2.una = s2.max;
  grow_to(r2, s2, 5000);
  s2.send(2000);
  (void)ack(r2, s2, at_ms(1), 2000);
  EXPECT_EQ(r2.cwnd(), 6000u);
}

TEST(congestion, reno_congestion_avoidance_one_mss_per_rtt) {
  reno r(mss);
  stream s;
  s.send(20000);
  r.on_rto(at_ms(0), s.max, s.flight());  // ssthresh 10000
  s.una = s.max;
  grow_to(r, s, 10000);
  ASSERT_FALSE(r.in_slow_start());
  for (int rtt = 1; rtt <= 10; ++rtt) {
    round_trip(r, s, at_ms(100 * rtt));
    EXPECT_EQ(r.cwnd(), 10000u + static_cast<std::uint32_t>(rtt) * mss) << "RTT " << rtt;
  }
}

TEST(congestion, reno_congestion_avoidance_counts_bytes_not_acks) {
  reno r(mss);
  stream s;
  s.send(20000);
  r.on_rto(at_ms(0), s.max, s.flight());
  s.una = s.max;
  grow_to(r, s, 10000);
  // 9999 bytes ACKed in small pieces: no increase; one more byte: +1 SMSS.
  for (int i = 0; i < 99; ++i) {
    s.send(101);
    (void)ack(r, s, at_ms(1), 101);
  }
  EXPECT_EQ(r.cwnd(), 10000u);
  s.send(1);
  (void)ack(r, s, at_ms(1), 1);
  EXPECT_EQ(r.cwnd(), 11000u);
}

// --- fast retransmit / fast recovery (RFC 5681 §3.2, RFC 6582, RFC 3042) ------------------

TEST(congestion, limited_transmit_then_fast_retransmit_then_newreno_recovery) {
  reno r(mss);
  stream s;
  round_trip(r, s, at_ms(100));  // cwnd 8000
  s.send(8000);
  EXPECT_EQ(r.limited_transmit_segments(s.flight()), 0u);
  // RFC 3042: one new segment on each of the first two duplicate ACKs.
  EXPECT_EQ(r.on_dup_ack(at_ms(200), s.una, s.max, s.flight(), recovery_style::newreno),
            dup_ack_action::limited_transmit);
  EXPECT_EQ(r.limited_transmit_segments(s.flight()), 1u);
  s.send(mss);
  EXPECT_EQ(r.on_dup_ack(at_ms(201), s.una, s.max, s.flight(), recovery_style::newreno),
            dup_ack_action::limited_transmit);
  EXPECT_EQ(r.limited_transmit_segments(s.flight()), 1u);
  s.send(mss);
  EXPECT_EQ(r.limited_transmit_segments(s.flight()), 0u);  // FlightSize = cwnd + 2*SMSS
  EXPECT_EQ(r.cwnd(), 8000u);                              // limited transmit leaves cwnd alone
  // Third duplicate ACK: ssthresh = FlightSize / 2, cwnd = ssthresh + 3*SMSS.
  EXPECT_EQ(r.on_dup_ack(at_ms(202), s.una, s.max, s.flight(), recovery_style::newreno),
            dup_ack_action::fast_retransmit);
  EXPECT_TRUE(r.in_recovery());
  EXPECT_EQ(r.ssthresh(), 5000u);
  EXPECT_EQ(r.cwnd(), 8000u);
  EXPECT_EQ(r.recover(), std::optional{s.max - seq_len{1}});
  EXPECT_EQ(r.limited_transmit_segments(s.flight()), 0u);
  // Each further duplicate ACK inflates by one SMSS.
  EXPECT_EQ(r.on_dup_ack(at_ms(203), s.una, s.max, s.flight(), recovery_style::newreno),
            dup_ack_action::in_recovery);
  EXPECT_EQ(r.cwnd(), 9000u);
  // Partial ACK of 2 segments: deflate by 2000, add back one SMSS.
  EXPECT_EQ(ack(r, s, at_ms(300), 2000), ack_outcome::partial_ack_first);
  EXPECT_EQ(r.cwnd(), 8000u);
  EXPECT_TRUE(r.in_recovery());
  // A partial ACK of less than one SMSS adds nothing back.
  EXPECT_EQ(ack(r, s, at_ms(400), 500), ack_outcome::partial_ack);
  EXPECT_EQ(r.cwnd(), 7500u);
  // Full ACK (covers recover): deflate to ssthresh and leave recovery.
  const std::uint32_t rest = s.flight();
  EXPECT_EQ(ack(r, s, at_ms(500), rest), ack_outcome::recovery_exit);
  EXPECT_FALSE(r.in_recovery());
  EXPECT_EQ(r.cwnd(), 5000u);
  EXPECT_EQ(r.dup_acks(), 0u);
  EXPECT_FALSE(r.in_slow_start());
}

TEST(congestion, ack_exactly_at_recover_is_partial_and_one_past_is_full) {
  reno r(mss);
  stream s;
  s.send(10000);
  ASSERT_EQ(three_dup_acks(r, s, at_ms(1)), dup_ack_action::fast_retransmit);
  // recover = SND.MAX - 1: an ACK of everything but the last octet is partial.
  EXPECT_EQ(ack(r, s, at_ms(2), 9999), ack_outcome::partial_ack_first);
  EXPECT_EQ(ack(r, s, at_ms(3), 1), ack_outcome::recovery_exit);
}

TEST(congestion, fast_recovery_across_the_sequence_wrap) {
  reno r(mss);
  stream s;
  s.una = s.max = seq_num{0xFFFFFC00u};
  s.send(8000);  // SND.MAX wraps past 0
  ASSERT_EQ(three_dup_acks(r, s, at_ms(1)), dup_ack_action::fast_retransmit);
  EXPECT_EQ(r.recover(), std::optional{seq_num{0x1B3Fu}});
  EXPECT_EQ(ack(r, s, at_ms(2), 1000), ack_outcome::partial_ack_first);
  EXPECT_EQ(ack(r, s, at_ms(3), 7000), ack_outcome::recovery_exit);
}

TEST(congestion, newreno_no_second_fast_retransmit_below_recover) {
  reno r(mss);
  stream s;
  s.send(10000);
  r.on_rto(at_ms(1000), s.max, s.flight());  // RFC 6582 step 4: recover = SND.MAX - 1
  // Duplicate ACKs for data sent before the timeout do not start a fast retransmit.
  (void)s.ack(3000);
  (void)r.on_ack(at_ms(1100), s.una, 3000, srtt, s.flight());
  EXPECT_EQ(three_dup_acks(r, s, at_ms(1200)), dup_ack_action::none);
  EXPECT_FALSE(r.in_recovery());
  EXPECT_EQ(r.on_dup_ack(at_ms(1201), s.una, s.max, s.flight(), recovery_style::newreno), dup_ack_action::none);
  // Once the cumulative ACK covers more than recover, fast retransmit works again.
  (void)ack(r, s, at_ms(1300), 7000);
  s.send(4000);
  EXPECT_EQ(three_dup_acks(r, s, at_ms(1400)), dup_ack_action::fast_retransmit);
  EXPECT_TRUE(r.in_recovery());
}

TEST(congestion, enter_recovery_is_refused_while_in_recovery) {
  reno r(mss);
  stream s;
  s.send(10000);
  EXPECT_TRUE(r.enter_recovery(at_ms(1), s.una, s.max, s.flight(), recovery_style::newreno));
  EXPECT_FALSE(r.enter_recovery(at_ms(2), s.una, s.max, s.flight(), recovery_style::newreno));
}

TEST(congestion, new_ack_resets_duplicate_count_and_limited_transmit) {
  reno r(mss);
  stream s;
  s.send(4000);
  (void)r.on_dup_ack(at_ms(1), s.una, s.max, s.flight(), recovery_style::newreno);
  (void)r.on_dup_ack(at_ms(2), s.una, s.max, s.flight(), recovery_style::newreno);
  EXPECT_EQ(r.dup_acks(), 2u);
  (void)ack(r, s, at_ms(3), 1000);
  EXPECT_EQ(r.dup_acks(), 0u);
  EXPECT_EQ(r.limited_transmit_segments(s.flight()), 0u);
  EXPECT_EQ(r.on_dup_ack(at_ms(4), s.una, s.max, s.flight(), recovery_style::newreno),
            dup_ack_action::limited_transmit);
}

TEST(congestion, limited_transmit_when_application_limited) {
  reno r(mss);  // cwnd 4000
  stream s;
  s.send(2000);
  (void)r.on_dup_ack(at_ms(1), s.una, s.max, s.flight(), recovery_style::newreno);
  EXPECT_EQ(r.limited_transmit_segments(s.flight()), 3u);  // cwnd room plus one
}

TEST(congestion, sack_style_recovery_does_not_inflate) {
  reno r(mss);
  stream s;
  round_trip(r, s, at_ms(100));  // cwnd 8000
  s.send(8000);
  EXPECT_EQ(three_dup_acks(r, s, at_ms(200), recovery_style::sack), dup_ack_action::fast_retransmit);
  EXPECT_EQ(r.ssthresh(), 4000u);
  EXPECT_EQ(r.cwnd(), 4000u);  // RFC 6675 §5 (4.2): cwnd = ssthresh
  EXPECT_EQ(r.on_dup_ack(at_ms(201), s.una, s.max, s.flight(), recovery_style::sack),
            dup_ack_action::in_recovery);
  EXPECT_EQ(r.cwnd(), 4000u);
  EXPECT_EQ(ack(r, s, at_ms(300), 3000), ack_outcome::partial_ack_first);
  EXPECT_EQ(r.cwnd(), 4000u);
  const std::uint32_t rest = s.flight();
  EXPECT_EQ(ack(r, s, at_ms(400), rest), ack_outcome::recovery_exit);
  EXPECT_EQ(r.cwnd(), 4000u);
}

TEST(congestion, sack_sender_may_enter_recovery_early) {
  reno r(mss);
  stream s;
  s.send(4000);
  (void)r.on_dup_ack(at_ms(1), s.una, s.max, s.flight(), recovery_style::sack);
  EXPECT_TRUE(r.enter_recovery(at_ms(1), s.una, s.max, s.flight(), recovery_style::sack));
  EXPECT_EQ(r.cwnd(), 2000u);
  EXPECT_EQ(r.ssthresh(), 2000u);
}

TEST(congestion, full_ack_deflation_option_1) {
  reno r(mss, congestion_config{.deflate_to_flight = true});
  stream s;
  round_trip(r, s, at_ms(100));  // cwnd 8000
  s.send(8000);
  ASSERT_EQ(three_dup_acks(r, s, at_ms(200)), dup_ack_action::fast_retransmit);
  EXPECT_EQ(r.ssthresh(), 4000u);
  s.send(1000);  // one new segment during recovery, not covered by the full ACK
  (void)ack(r, s, at_ms(300), 8000);
  EXPECT_EQ(r.cwnd(), 2000u);  // min(ssthresh, max(FlightSize, SMSS) + SMSS)
}

TEST(congestion, loss_floor_is_two_segments) {
  reno r(mss);
  stream s;
  s.send(3000);
  ASSERT_EQ(three_dup_acks(r, s, at_ms(1)), dup_ack_action::fast_retransmit);
  EXPECT_EQ(r.ssthresh(), 2000u);  // max(FlightSize / 2, 2*SMSS)
  EXPECT_EQ(r.cwnd(), 5000u);
}

// --- retransmission timeout, idle restart, lost SYN ----------------------------------------

TEST(congestion, rto_collapses_to_loss_window) {
  reno r(mss);
  stream s;
  round_trip(r, s, at_ms(100));
  round_trip(r, s, at_ms(200));  // cwnd 16000
  s.send(12000);
  r.on_rto(at_ms(1200), s.max, s.flight());
  EXPECT_EQ(r.cwnd(), 1000u);
  EXPECT_EQ(r.ssthresh(), 6000u);  // FlightSize / 2, not cwnd / 2
  EXPECT_TRUE(r.in_slow_start());
  EXPECT_EQ(r.recover(), std::optional{s.max - seq_len{1}});
  // The same data timing out again keeps ssthresh (RFC 5681 §3.1).
  r.on_rto(at_ms(3200), s.max, s.flight());
  EXPECT_EQ(r.ssthresh(), 6000u);
  EXPECT_EQ(r.cwnd(), 1000u);
  // After an ACK of new data, a later timeout is a new loss event.
  (void)ack(r, s, at_ms(3300), 1000);
  r.on_rto(at_ms(4300), s.max, s.flight());
  EXPECT_EQ(r.ssthresh(), 5500u);
  s.una = s.max;
  r.on_rto(at_ms(9000), s.max, 1000);
  EXPECT_EQ(r.ssthresh(), 5500u);  // held: no ACK in between
}

TEST(congestion, rto_ends_fast_recovery) {
  reno r(mss);
  stream s;
  s.send(8000);
  ASSERT_EQ(three_dup_acks(r, s, at_ms(1)), dup_ack_action::fast_retransmit);
  r.on_rto(at_ms(1000), s.max, s.flight());
  EXPECT_FALSE(r.in_recovery());
  EXPECT_EQ(r.cwnd(), 1000u);
  EXPECT_EQ(r.dup_acks(), 0u);
}

TEST(congestion, rto_floor_is_two_segments) {
  reno r(mss);
  stream s;
  s.send(1000);
  r.on_rto(at_ms(1000), s.max, s.flight());
  EXPECT_EQ(r.ssthresh(), 2000u);
}

// Sends `n` segments, each reported with the flight after it (on_transmit).
void send_counted(congestion_control& cc, stream& s, instant now, int n) {
  for (int i = 0; i < n; ++i) {
    s.send(mss);
    cc.on_transmit(now, s.flight());
  }
}

// ACKs one segment as the connection reports it: the round sample first, then the ACK.
void ack_counted(congestion_control& cc, stream& s, instant now) {
  const seq_num a = s.ack(mss);
  cc.on_round_sample(a, s.max, srtt);
  (void)cc.on_ack(now, a, mss, srtt, s.flight());
}

// The FlightSize a loss halves is the largest flight of this round or the last one
// (loss_flight()), not what the ACKs that came with the loss signal left of it: ten segments
// sent, eight of them acknowledged at once, then the duplicate ACKs with two in flight.
TEST(congestion, loss_halves_the_flight_the_round_reached_not_what_its_acks_left) {
  reno r(mss);
  stream s;
  grow_to(r, s, 10000);
  send_counted(r, s, at_ms(0), 10);
  for (int i = 0; i < 8; ++i) ack_counted(r, s, at_ms(1));
  ASSERT_EQ(s.flight(), 2000u);
  EXPECT_EQ(r.loss_flight(s.flight()), 10000u);
  ASSERT_EQ(three_dup_acks(r, s, at_ms(1), recovery_style::sack), dup_ack_action::fast_retransmit);
  EXPECT_EQ(r.ssthresh(), 5000u);  // 10000 / 2; from the flight of 2000 it would be the 2*SMSS floor
  EXPECT_EQ(r.cwnd(), 5000u);
}

// A round ends when SND.UNA passes what was sent when it began (on_round_sample); the round
// before the current one is remembered, older ones are not.
TEST(congestion, loss_flight_forgets_rounds_before_the_last) {
  reno r(mss);
  stream s;
  grow_to(r, s, 20000);
  send_counted(r, s, at_ms(0), 10);
  ack_counted(r, s, at_ms(1));  // the first sample begins a round with nine in flight
  EXPECT_EQ(r.loss_flight(0), 10000u);
  for (int i = 0; i < 9; ++i) ack_counted(r, s, at_ms(1));  // it ends: its largest was 9000
  send_counted(r, s, at_ms(1), 6);
  EXPECT_EQ(r.loss_flight(0), 9000u);
  for (int i = 0; i < 6; ++i) ack_counted(r, s, at_ms(2));  // a round of six ends
  send_counted(r, s, at_ms(2), 6);
  ack_counted(r, s, at_ms(3));  // and another: the round of nine is forgotten
  EXPECT_EQ(r.loss_flight(s.flight()), 6000u);
  r.on_rto(at_ms(1000), s.max, s.flight());
  EXPECT_EQ(r.ssthresh(), 3000u);  // 6000 / 2
}

TEST(congestion, restart_after_idle_longer_than_rto) {
  reno r(mss);
  stream s;
  for (int i = 1; i <= 3; ++i) round_trip(r, s, at_ms(100 * i));
  ASSERT_EQ(r.cwnd(), 32000u);
  EXPECT_FALSE(r.on_idle_restart(at_ms(400), std::chrono::seconds(1)));  // never sent: nothing to do
  r.on_transmit(at_ms(400), 0);
  EXPECT_FALSE(r.on_idle_restart(at_ms(1400), std::chrono::seconds(1)));  // exactly RTO: not exceeding
  EXPECT_EQ(r.cwnd(), 32000u);
  EXPECT_TRUE(r.on_idle_restart(at_ms(1401), std::chrono::seconds(1)));
  EXPECT_EQ(r.cwnd(), 4000u);  // RW = min(IW, cwnd)
  EXPECT_EQ(r.ssthresh(), congestion_control::max_window);
}

TEST(congestion, restart_window_never_raises_cwnd) {
  reno r(mss);
  stream s;
  s.send(8000);
  r.on_transmit(at_ms(0), s.flight());
  r.on_rto(at_ms(1000), s.max, s.flight());
  EXPECT_TRUE(r.on_idle_restart(at_ms(5000), std::chrono::seconds(1)));
  EXPECT_EQ(r.cwnd(), 1000u);
}

TEST(congestion, lost_syn_means_one_segment_initial_window) {
  congestion cc(congestion_kind::cubic, mss);
  cc->on_syn_retransmitted();
  EXPECT_EQ(cc->cwnd(), 1000u);
  EXPECT_EQ(cc->initial_window(), 4000u);
}

TEST(congestion, factory_and_default) {
  EXPECT_EQ(default_congestion_kind, congestion_kind::cubic);
  EXPECT_EQ(congestion(congestion_kind::reno, mss)->kind(), congestion_kind::reno);
  EXPECT_EQ(congestion(default_congestion_kind, mss)->kind(), congestion_kind::cubic);
  EXPECT_EQ(to_string(congestion_kind::cubic), "cubic");
  // A value type: copies are independent.
  congestion a(congestion_kind::reno, mss);
  congestion b = a;
  stream s;
  s.send(1000);
  (void)ack(*a, s, at_ms(1), 1000);
  EXPECT_EQ(a->cwnd(), 5000u);
  EXPECT_EQ(b->cwnd(), 4000u);
  EXPECT_EQ(b->kind(), congestion_kind::reno);
}

// --- CUBIC (RFC 9438) ---------------------------------------------------------------------

constexpr double c_cubic = 0.4;
constexpr double beta_cubic = 0.7;

// Fills cubic to `w_max` segments, loses a packet (3 dup ACKs with the whole window in
// flight) and completes fast recovery. Returns the time of the full ACK.
instant cubic_after_loss(cubic& c, stream& s, std::uint32_t w_max_segments) {
  grow_to(c, s, w_max_segments * mss);
  s.send(w_max_segments * mss);
  EXPECT_EQ(three_dup_acks(c, s, at_ms(1000)), dup_ack_action::fast_retransmit);
  const std::uint32_t rest = s.flight();
  EXPECT_EQ(ack(c, s, at_ms(1100), rest), ack_outcome::recovery_exit);
  return at_ms(1100);
}

TEST(cubic, window_after_loss_is_beta_times_w_max) {
  cubic c(mss);
  stream s;
  cubic_after_loss(c, s, 100);
  EXPECT_DOUBLE_EQ(c.w_max(), 100.0);
  EXPECT_DOUBLE_EQ(c.cwnd_prior(), 100.0);
  EXPECT_EQ(c.ssthresh(), 70000u);  // 0.7 * FlightSize
  EXPECT_EQ(c.cwnd(), 70000u);      // 0.7 * W_max
  EXPECT_FALSE(c.in_slow_start());
}

// RFC 9438 §4.6 with cwnd as the bound: a flight larger than cwnd (SACKed octets and holes
// left from the last recovery still count in SND.NXT - SND.UNA) does not raise ssthresh above
// beta * cwnd, so a loss always reduces. Reducing from the flight kept cwnd where it was in a
// run of recoveries (docs/performance.md "The recovery matrix").
TEST(cubic, loss_reduces_from_cwnd_when_the_flight_is_larger) {
  cubic c(mss);
  stream s;
  grow_to(c, s, 20000);
  s.send(30000);  // 10 segments beyond cwnd still unacknowledged: holes and SACKed data
  ASSERT_EQ(three_dup_acks(c, s, at_ms(1), recovery_style::sack), dup_ack_action::fast_retransmit);
  EXPECT_EQ(c.ssthresh(), 14000u);  // 0.7 * cwnd; 0.7 * the flight would be 21000, above cwnd
  EXPECT_EQ(c.cwnd(), 14000u);
}

TEST(cubic, recovery_window_is_ssthresh_plus_three_segments) {
  cubic c(mss);
  stream s;
  grow_to(c, s, 20000);
  s.send(20000);
  ASSERT_EQ(three_dup_acks(c, s, at_ms(1)), dup_ack_action::fast_retransmit);
  EXPECT_EQ(c.ssthresh(), 14000u);
  EXPECT_EQ(c.cwnd(), 17000u);
}

TEST(cubic, k_per_figure_2) {
  cubic c(mss);
  stream s;
  const instant t0 = cubic_after_loss(c, s, 100);
  s.send(mss);
  (void)ack(c, s, t0, mss);
  EXPECT_EQ(c.epoch_start(), std::optional{t0});
  EXPECT_DOUBLE_EQ(c.k(), std::cbrt((100.0 - 70.0) / c_cubic));
  EXPECT_NEAR(c.k(), 4.2172, 1e-4);
}

// With all of a round's ACKs at time t, cwnd climbs toward W_cubic(t + RTT) (the §4.2
// target) and ends the round between W_cubic(t) and W_cubic(t + RTT).
TEST(cubic, growth_follows_the_cubic_curve) {
  cubic c(mss);
  stream s;
  const instant t0 = cubic_after_loss(c, s, 100);
  const double k = std::cbrt((100.0 - 70.0) / c_cubic);
  const auto w = [&](double t) { return c_cubic * std::pow(t - k, 3) + 100.0; };
  double prev_increase = 1e9;
  double prev = 70.0;
  for (int n = 0; n <= 55; ++n) {
    const double t = 0.1 * n;
    round_trip(c, s, t0 + std::chrono::milliseconds(100 * n));
    const double cw = static_cast<double>(c.cwnd()) / mss;
    EXPECT_GE(cw, w(t) - 0.01) << "round " << n;
    EXPECT_LE(cw, w(t + 0.1) + 1e-9) << "round " << n;
    // Round 0 sits at t = 0 where W_cubic(0) = cwnd_epoch, so the Reno-friendly W_est
    // (which has grown a little) wins; afterwards the cubic curve is above W_est.
    if (n > 0) {
      EXPECT_GE(w(t), c.w_est()) << "cubic region, round " << n;
    }
    // Concave region (t < K): the increase per RTT shrinks as cwnd nears W_max.
    if (t + 0.1 < k && n > 1) {
      EXPECT_LT(cw - prev, prev_increase) << "round " << n;
    }
    prev_increase = cw - prev;
    prev = cw;
  }
}

TEST(cubic, reaches_w_max_at_k_then_convex_growth) {
  cubic c(mss);
  stream s;
  const instant t0 = cubic_after_loss(c, s, 100);
  const double k = std::cbrt(30.0 / c_cubic);
  const int k_rounds = static_cast<int>(std::floor(k * 10));  // last round with t + RTT <= K
  int n = 0;
  for (; n <= k_rounds; ++n) round_trip(c, s, t0 + std::chrono::milliseconds(100 * n));
  EXPECT_NEAR(static_cast<double>(c.cwnd()) / mss, 100.0, 0.01);
  // Plateau around W_max, then convex growth away from it.
  for (; n <= k_rounds + 12; ++n) round_trip(c, s, t0 + std::chrono::milliseconds(100 * n));
  const double t = 0.1 * (n - 1);
  EXPECT_GT(static_cast<double>(c.cwnd()) / mss, 100.0);
  EXPECT_NEAR(static_cast<double>(c.cwnd()) / mss, c_cubic * std::pow(t - k, 3) + 100.0, 0.1);
}

TEST(cubic, reno_friendly_region_wins_at_small_rtt) {
  cubic c(mss);
  stream s;
  const instant t0 = cubic_after_loss(c, s, 10);
  const auto rtt = std::optional<duration>{std::chrono::milliseconds(1)};
  // Figure 4, computed here: W_est += alpha * segments_acked / cwnd per ACK, alpha =
  // 3(1 - beta)/(1 + beta) until W_est >= cwnd_prior (10), then 1.
  const double alpha = 3.0 * (1.0 - beta_cubic) / (1.0 + beta_cubic);
  double w_est = 7.0;
  double cw = 7.0;
  for (int n = 0; n < 40; ++n) {
    const instant now = t0 + std::chrono::milliseconds(n);
    const std::uint32_t acks = c.cwnd() / mss;
    s.send(acks * mss);
    for (std::uint32_t i = 0; i < acks; ++i) {
      w_est += (w_est >= 10.0 ? 1.0 : alpha) / cw;
      cw = std::max(cw, w_est);
      (void)ack(c, s, now, mss, rtt);
    }
    EXPECT_NEAR(c.w_est(), w_est, 1e-9) << "round " << n;
    EXPECT_EQ(c.cwnd(), static_cast<std::uint32_t>(w_est * mss)) << "round " << n;
    EXPECT_LT(c.w_cubic(0.001 * n), w_est) << "round " << n;
  }
  EXPECT_GT(c.cwnd(), 20000u);  // far above what the cubic curve allows this early
}

TEST(cubic, reno_friendly_disabled_follows_the_curve_only) {
  cubic c(mss, congestion_config{.cubic_reno_friendly = false});
  stream s;
  const instant t0 = cubic_after_loss(c, s, 10);
  for (int n = 0; n < 40; ++n) {
    round_trip(c, s, t0 + std::chrono::milliseconds(n), std::optional<duration>{std::chrono::milliseconds(1)});
  }
  EXPECT_LT(c.cwnd(), 8000u);
}

TEST(cubic, fast_convergence_lowers_w_max) {
  for (const bool fc : {true, false}) {
    cubic c(mss, congestion_config{.cubic_fast_convergence = fc});
    stream s;
    const instant t0 = cubic_after_loss(c, s, 100);
    for (int n = 0; n < 10; ++n) round_trip(c, s, t0 + std::chrono::milliseconds(100 * n));
    const double before = static_cast<double>(c.cwnd()) / mss;
    ASSERT_LT(before, 100.0);
    s.una = s.max;
    s.send(c.cwnd());
    ASSERT_EQ(three_dup_acks(c, s, t0 + std::chrono::seconds(2)), dup_ack_action::fast_retransmit);
    // §4.7: cwnd < W_max, so W_max = cwnd * (1 + beta) / 2 with fast convergence.
    EXPECT_DOUBLE_EQ(c.w_max(), fc ? before * (1.0 + beta_cubic) / 2.0 : before) << fc;
    EXPECT_DOUBLE_EQ(c.cwnd_prior(), before);
  }
}

TEST(cubic, rto_then_k_zero_and_w_max_at_epoch_start) {
  cubic c(mss);
  stream s;
  grow_to(c, s, 100000);
  s.send(100000);
  c.on_rto(at_ms(1000), s.max, s.flight());
  EXPECT_EQ(c.cwnd(), 1000u);
  EXPECT_EQ(c.ssthresh(), 70000u);  // §4.8: ssthresh by beta_cubic
  s.una = s.max;
  grow_to(c, s, 70000);
  ASSERT_FALSE(c.in_slow_start());
  s.send(mss);
  (void)ack(c, s, at_ms(2000), mss);
  EXPECT_EQ(c.epoch_start(), std::optional{at_ms(2000)});
  EXPECT_DOUBLE_EQ(c.k(), 0.0);        // §4.8: K = 0
  EXPECT_DOUBLE_EQ(c.w_max(), 70.0);   // W_max = cwnd at the start of this CA stage
  const double alpha = 3.0 * (1.0 - beta_cubic) / (1.0 + beta_cubic);
  EXPECT_DOUBLE_EQ(c.w_est(), 70.0 + alpha / 70.0);  // W_est from cwnd_epoch; prior is 100
}

TEST(cubic, idle_restart_resets_the_epoch) {
  cubic c(mss);
  stream s;
  const instant t0 = cubic_after_loss(c, s, 100);
  round_trip(c, s, t0);
  ASSERT_TRUE(c.epoch_start().has_value());
  c.on_transmit(t0, s.flight());
  EXPECT_TRUE(c.on_idle_restart(t0 + std::chrono::seconds(5), std::chrono::seconds(1)));
  EXPECT_EQ(c.cwnd(), 4000u);
  EXPECT_FALSE(c.epoch_start().has_value());
}

TEST(cubic, no_growth_during_recovery) {
  cubic c(mss);
  stream s;
  grow_to(c, s, 20000);
  s.send(20000);
  ASSERT_EQ(three_dup_acks(c, s, at_ms(1)), dup_ack_action::fast_retransmit);
  EXPECT_EQ(ack(c, s, at_ms(2), 1000), ack_outcome::partial_ack_first);
  EXPECT_EQ(c.cwnd(), 17000u);  // 17000 - 1000 + 1000
  EXPECT_FALSE(c.epoch_start().has_value());
}

}  // namespace
}  // namespace synack
