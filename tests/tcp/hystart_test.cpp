// HyStart++ (RFC 9406): rounds, the RTT threshold, Conservative Slow Start and its two ways
// out (back to slow start on jitter, congestion avoidance after CSS_ROUNDS), on its own and
// inside the congestion controller. Sequence numbers start just below the 2^32 wrap.
#include "synack/tcp/hystart.hpp"

#include <gtest/gtest.h>

#include "synack/tcp/congestion.hpp"

namespace synack {
namespace {

using std::chrono::milliseconds;
using phase = hystart::phase;
constexpr std::uint32_t mss = 1000;

// An ACK-clocked sender with a constant window: `segments` in flight, each ACK of one
// segment lets the next one go, so SND.NXT stays a window ahead of SND.UNA. A round then ends
// with the first ACK of the next call; each call is one round of `segments` ACKs, each with
// the RTT sample `rtt` (none: ACKs that gave no sample).
struct rounds {
  seq_num una{0xFFFFF000u};
  seq_num nxt{0xFFFFF000u};
  bool started = false;
  phase round(hystart& h, std::uint32_t segments, std::optional<duration> rtt) {
    if (!started) {
      nxt = una + seq_len{segments * mss};
      started = true;
    }
    phase p = h.current();
    for (std::uint32_t i = 0; i < segments; ++i) {
      una += seq_len{mss};
      nxt += seq_len{mss};
      p = h.on_ack(una, nxt, rtt);
    }
    return p;
  }
};

// Two rounds at `base`: the next round has a last round's minimum to compare with.
void prime(hystart& h, rounds& r, duration base, std::uint32_t segments = 16) {
  r.round(h, segments, base);
  r.round(h, segments, base);
}

TEST(hystart, a_steady_rtt_stays_in_slow_start) {
  hystart h;
  rounds r;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.round(h, 16, milliseconds(50)), phase::slow_start);
  EXPECT_EQ(h.css_entries(), 0u);
}

// lastRoundMinRTT 100 ms: RttThresh = min(100/8, 16) = 12.5 ms. 112 ms stays, 113 ms enters
// CSS; and only once the round has N_RTT_SAMPLE (8) samples.
TEST(hystart, css_entered_when_the_round_minimum_rises_by_rtt_thresh) {
  {
    hystart h;
    rounds r;
    prime(h, r, milliseconds(100));
    EXPECT_EQ(r.round(h, 16, milliseconds(112)), phase::slow_start);
  }
  hystart h;
  rounds r;
  prime(h, r, milliseconds(100));
  for (std::uint32_t i = 1; i <= 16; ++i) {
    const phase p = r.round(h, 1, milliseconds(113));
    EXPECT_EQ(p, i < hystart::n_rtt_sample ? phase::slow_start : phase::css) << "ACK " << i;
  }
  EXPECT_EQ(h.css_entries(), 1u);
}

// The threshold is clamped: 4 ms at least (a 10 ms path: 10/8 would be 1.25 ms), 16 ms at
// most (a 400 ms path: 400/8 would be 50 ms).
TEST(hystart, rtt_thresh_is_clamped_to_4_and_16_ms) {
  auto enters = [](duration base, duration next) {
    hystart h;
    rounds r;
    prime(h, r, base);
    r.round(h, 16, next);
    return h.current() == phase::css;
  };
  EXPECT_FALSE(enters(milliseconds(10), milliseconds(13)));
  EXPECT_TRUE(enters(milliseconds(10), milliseconds(14)));
  EXPECT_FALSE(enters(milliseconds(400), milliseconds(415)));
  EXPECT_TRUE(enters(milliseconds(400), milliseconds(416)));
}

// Rounds with fewer than 8 samples never decide.
TEST(hystart, rounds_with_few_samples_do_not_decide) {
  hystart h;
  rounds r;
  prime(h, r, milliseconds(100), 6);
  EXPECT_EQ(r.round(h, 6, milliseconds(300)), phase::slow_start);
  // ACKs without a sample (no timestamps, not the timed segment) do not count either.
  EXPECT_EQ(r.round(h, 16, std::nullopt), phase::slow_start);
  EXPECT_EQ(r.round(h, 16, std::nullopt), phase::slow_start);
}

TEST(hystart, a_css_round_back_below_the_baseline_resumes_slow_start) {
  hystart h;
  rounds r;
  prime(h, r, milliseconds(100));
  ASSERT_EQ(r.round(h, 16, milliseconds(120)), phase::css);
  EXPECT_EQ(h.growth(2000), 500u);  // CSS_GROWTH_DIVISOR
  EXPECT_EQ(r.round(h, 16, milliseconds(110)), phase::slow_start);  // jitter, not a queue
  EXPECT_EQ(h.css_exits_to_slow_start(), 1u);
  EXPECT_EQ(h.growth(2000), 2000u);
}

TEST(hystart, css_rounds_later_congestion_avoidance) {
  hystart h;
  rounds r;
  prime(h, r, milliseconds(100));
  ASSERT_EQ(r.round(h, 16, milliseconds(120)), phase::css);
  // The round that entered CSS ends with the next round's first ACK; five round ends later
  // CSS is over.
  for (std::uint32_t i = 1; i < hystart::css_rounds; ++i) EXPECT_EQ(r.round(h, 16, milliseconds(125)), phase::css);
  EXPECT_EQ(r.round(h, 16, milliseconds(125)), phase::done);
  EXPECT_EQ(h.on_ack(r.una, r.nxt, milliseconds(1)), phase::done);  // and it stays so
}

// Inside the controller: CSS grows a quarter as fast, its end sets ssthresh = cwnd, and a
// loss before that ends HyStart++ for good (ssthresh is no longer the initial one). Each ACK
// covers one segment and lets the sender fill cwnd again.
struct cc_sender {
  congestion_control* cc;
  seq_num una{0xFFFFF000u};
  seq_num max{0xFFFFF000u};
  void acks(std::uint32_t n, duration rtt) {
    for (std::uint32_t i = 0; i < n; ++i) {
      if (distance(una, max).n < mss) max = una + seq_len{cc->cwnd()};
      una += seq_len{mss};
      cc->on_round_sample(una, max, rtt);
      (void)cc->on_ack(instant::zero(), una, mss, rtt, distance(una, max).n);
      if (distance(una, max).n < cc->cwnd()) max = una + seq_len{cc->cwnd()};
    }
  }
};

congestion make(bool on) {
  congestion_config c;
  c.hystart = on;
  c.iw = initial_window_rule::rfc6928;  // 10 segments: enough samples from the first round
  return congestion(congestion_kind::cubic, mss, c);
}

TEST(hystart, the_controller_grows_a_quarter_as_fast_in_css_then_sets_ssthresh) {
  congestion on = make(true);
  congestion off = make(false);
  cc_sender a{&*on};
  cc_sender b{&*off};
  a.acks(40, milliseconds(100));
  b.acks(40, milliseconds(100));
  EXPECT_EQ(on->cwnd(), off->cwnd()) << "the same slow start while the RTT holds";
  for (int i = 0; i < 400 && on->hystart_state().current() != phase::css; ++i) a.acks(1, milliseconds(130));
  ASSERT_EQ(on->hystart_state().current(), phase::css);
  EXPECT_EQ(on->hystart_state().css_entries(), 1u);
  const std::uint32_t before = on->cwnd();
  a.acks(1, milliseconds(130));
  EXPECT_EQ(on->cwnd() - before, mss / hystart::css_growth_divisor);
  EXPECT_TRUE(on->in_slow_start());
  for (int i = 0; i < 20000 && on->in_slow_start(); ++i) a.acks(1, milliseconds(130));
  ASSERT_FALSE(on->in_slow_start());
  EXPECT_EQ(on->hystart_state().current(), phase::done);
  // ssthresh = cwnd when CSS ended; the same ACK then grew cwnd by congestion avoidance.
  EXPECT_LE(on->ssthresh(), on->cwnd());
  EXPECT_LT(on->cwnd() - on->ssthresh(), mss);
  EXPECT_LT(on->ssthresh(), congestion_control::max_window);
}

TEST(hystart, a_loss_ends_it) {
  congestion on = make(true);
  cc_sender a{&*on};
  a.acks(40, milliseconds(100));
  on->on_rto(instant::zero(), a.max, distance(a.una, a.max).n);
  ASSERT_NE(on->ssthresh(), congestion_control::max_window);
  a.max = a.una;
  const std::uint32_t cw = on->cwnd();
  a.acks(1, milliseconds(100));
  EXPECT_EQ(on->cwnd(), cw + mss) << "full slow-start growth: not HyStart++'s";
  a.acks(60, milliseconds(300));  // would have entered CSS
  EXPECT_EQ(on->hystart_state().current(), phase::slow_start);
}

}  // namespace
}  // namespace synack
