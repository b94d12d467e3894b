// BBR v1 (tcp/congestion.hpp, draft-cardwell-iccrg-bbr-congestion-control-00) and delivery rate
// estimation (tcp/delivery_rate.hpp, draft-cheng-iccrg-delivery-rate-estimation), on virtual
// time. The model tests drive the controller over a small path of their own: a bottleneck of
// `rate` octets per second in front of a fixed round trip, every segment acknowledged on its
// own, the sender paced at pacing_rate() and limited by cwnd(). Everything is deterministic.
#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include "synack/tcp/congestion.hpp"
#include "synack/tcp/delivery_rate.hpp"

namespace synack {
namespace {

constexpr std::uint32_t mss = 1000;
constexpr instant at(std::int64_t ms) { return instant{ms * 1000}; }

// ---- delivery rate estimation ----------------------------------------------------------------

TEST(delivery_rate, a_sample_spans_from_the_segment_send_to_its_ack) {
  delivery_rate dr;
  // Ten segments at 0 ms: the first starts the intervals (nothing in flight).
  const delivery_snapshot s = dr.on_send(at(0), 0);
  for (std::uint32_t k = 1; k < 10; ++k) EXPECT_EQ(dr.on_send(at(0), k * mss).delivered, 0u);
  // Two delivered at 100 ms: 2,000 octets over max(send 0, ack 100 ms) = 20,000 octets/s.
  const rate_sample rs = dr.on_ack(at(100), 2 * mss, delivered_segment{s, at(0), false}, std::nullopt);
  EXPECT_TRUE(rs.valid);
  EXPECT_EQ(rs.delivered, 2 * mss);
  EXPECT_EQ(rs.interval, 100ms);
  EXPECT_EQ(rs.rate, 20'000u);
  EXPECT_EQ(rs.rtt, 100ms);
  EXPECT_EQ(dr.delivered(), 2 * mss);
  EXPECT_EQ(dr.delivered_time(), at(100));
  EXPECT_EQ(dr.first_sent_time(), at(0));
  // A segment sent at 100 ms carries that state; delivered at 150 ms with 3,000 more octets:
  // ack_elapsed 50 ms, send_elapsed 100 ms (from the first sent time the last sample moved to,
  // 0 ms): the longer divides, 30,000 octets/s.
  const delivery_snapshot s2 = dr.on_send(at(100), 8 * mss);
  EXPECT_EQ(s2.delivered, 2 * mss);
  EXPECT_EQ(s2.delivered_time, at(100));
  const rate_sample rs2 = dr.on_ack(at(150), 3 * mss, delivered_segment{s2, at(100), false}, std::nullopt);
  EXPECT_EQ(rs2.delivered, 3 * mss);
  EXPECT_EQ(rs2.interval, 100ms);
  EXPECT_EQ(rs2.rate, 30'000u);
}

TEST(delivery_rate, retransmitted_segments_give_no_rtt_and_short_intervals_no_rate) {
  delivery_rate dr;
  const delivery_snapshot s = dr.on_send(at(0), 0);
  const rate_sample rs = dr.on_ack(at(10), mss, delivered_segment{s, at(0), true}, 20ms);
  EXPECT_FALSE(rs.rtt.has_value()) << "Karn: a retransmission's RTT is ambiguous";
  EXPECT_FALSE(rs.valid) << "10 ms is below the 20 ms minimum RTT";
  EXPECT_EQ(rs.rate, 0u);
  EXPECT_EQ(dr.delivered(), mss) << "delivered still counts";
  // No segment to sample (the record did not hold it): delivered counts, no rate.
  const rate_sample none = dr.on_ack(at(20), mss, std::nullopt, std::nullopt);
  EXPECT_FALSE(none.valid);
  EXPECT_EQ(dr.delivered(), 2 * mss);
}

TEST(delivery_rate, app_limited_marks_samples_until_the_bubble_is_delivered) {
  delivery_rate dr;
  const delivery_snapshot a = dr.on_send(at(0), 0);
  EXPECT_FALSE(a.app_limited);
  dr.on_app_limited(mss);  // nothing more to send, one segment in flight
  EXPECT_TRUE(dr.app_limited());
  const delivery_snapshot b = dr.on_send(at(5), mss);
  EXPECT_TRUE(b.app_limited);
  // The first segment's ACK: delivered = 1,000, not past the mark (0 + 1,000): still limited.
  const rate_sample r1 = dr.on_ack(at(100), mss, delivered_segment{a, at(0), false}, std::nullopt);
  EXPECT_FALSE(r1.app_limited) << "sent before the mark";
  EXPECT_TRUE(dr.app_limited());
  const rate_sample r2 = dr.on_ack(at(105), mss, delivered_segment{b, at(5), false}, std::nullopt);
  EXPECT_TRUE(r2.app_limited);
  EXPECT_FALSE(dr.app_limited()) << "2,000 delivered > the 1,000 mark: the bubble is gone";
}

// ---- a path for the model ---------------------------------------------------------------------

struct in_flight {
  delivery_snapshot snap;
  instant sent;
  instant acked;
};

class path {
 public:
  path(std::uint64_t rate, duration rtt, std::uint32_t seed = 1) : rate_(rate), rtt_(rtt), cc_(mss) { cc_.set_seed(seed); }

  bbr& cc() { return cc_; }
  instant now() const { return now_; }
  std::uint32_t inflight() const { return static_cast<std::uint32_t>(q_.size()) * mss; }
  // Octets the sender may still send (unbounded by default).
  std::uint64_t data = UINT64_MAX;
  // The RTT the path adds on top of its round trip from now on (a queue elsewhere).
  duration extra{0};

  // Runs until `until`, sending as cwnd and the pacing rate allow; calls `each` after every ACK.
  template <class F>
  void run(instant until, F each) {
    while (true) {
      send();
      instant next = instant::max();
      if (!q_.empty()) next = q_.front().acked;
      if (can_send() && pace_next_ > now_) next = std::min(next, pace_next_);
      if (next > until || next == instant::max()) {
        now_ = until;
        return;
      }
      now_ = next;
      if (!q_.empty() && q_.front().acked == now_) {
        const in_flight p = q_.front();
        q_.pop_front();
        una_ += seq_len{mss};
        cc_.on_rate_sample(now_, una_, mss, delivered_segment{p.snap, p.sent, false}, inflight(), 0);
        each();
      }
    }
  }
  void run(instant until) {
    run(until, [] {});
  }

 private:
  bool can_send() const { return data >= mss && inflight() + mss <= cc_.cwnd(); }
  void send() {
    while (can_send() && pace_next_ <= now_) {
      const delivery_snapshot s = cc_.on_send(now_, inflight());
      const instant out = std::max(now_, link_free_) + duration{static_cast<std::int64_t>(std::uint64_t{mss} * 1'000'000 / rate_)};
      link_free_ = out;
      q_.push_back(in_flight{s, now_, out + rtt_ + extra});
      data -= mss;
      pace_next_ = std::max(pace_next_, now_) + duration{static_cast<std::int64_t>(std::uint64_t{mss} * 1'000'000 / cc_.pacing_rate())};
    }
    if (data < mss && inflight() < cc_.cwnd()) cc_.on_app_limited(inflight());
  }

  std::uint64_t rate_;
  duration rtt_;
  bbr cc_;
  instant now_{};
  instant link_free_{};
  instant pace_next_{};
  seq_num una_{};
  std::deque<in_flight> q_;
};

// 1,000,000 octets/s (8 Mbit/s) and 50 ms: a BDP of 50,000 octets, 50 segments.
constexpr std::uint64_t rate = 1'000'000;
constexpr duration rtt = 50ms;
constexpr std::uint64_t bdp = 50'000;

TEST(bbr, startup_doubles_per_round_and_ends_after_three_rounds_without_growth) {
  path p(rate, rtt);
  EXPECT_EQ(p.cc().state(), bbr::mode::startup);
  EXPECT_EQ(p.cc().cwnd(), 4 * mss) << "RFC 5681's initial window for this MSS";
  EXPECT_DOUBLE_EQ(p.cc().pacing_gain(), bbr::high_gain);
  EXPECT_DOUBLE_EQ(p.cc().cwnd_gain(), bbr::high_gain);
  std::vector<std::uint32_t> cwnd_at_round;  // cwnd at each round start in STARTUP
  std::vector<std::uint64_t> bw_at_round;
  std::uint32_t round = 0;
  bool left = false;
  p.run(at(2000), [&] {
    if (left || p.cc().round_count() == round) return;
    round = p.cc().round_count();
    if (p.cc().state() != bbr::mode::startup) {
      left = true;
      return;
    }
    cwnd_at_round.push_back(p.cc().cwnd());
    bw_at_round.push_back(p.cc().btlbw());
  });
  ASSERT_TRUE(left);
  ASSERT_GE(cwnd_at_round.size(), 6u);
  // Early rounds: the window grows by what each round delivered (cwnd += delivered below the
  // target), at least by half.
  for (std::size_t k = 1; k < 4; ++k) EXPECT_GE(cwnd_at_round[k] * 2, cwnd_at_round[k - 1] * 3) << k;
  // BtlBw reached the bottleneck's rate; the pipe was found full on the third round start
  // without 25 % growth (that round is in DRAIN already: the last two recorded had none either).
  EXPECT_TRUE(p.cc().filled_pipe());
  const std::size_t n = bw_at_round.size();
  EXPECT_LT(bw_at_round[n - 1] * 100, bw_at_round[n - 3] * 125);
  EXPECT_LT(bw_at_round[n - 2] * 100, bw_at_round[n - 3] * 125);
  EXPECT_LE(p.cc().btlbw(), rate * 101 / 100);
  EXPECT_GE(p.cc().btlbw(), rate * 90 / 100);
  EXPECT_EQ(*p.cc().rtprop(), rtt + 1ms) << "the round trip plus one segment's serialisation";
}

TEST(bbr, startup_ends_exactly_on_the_third_round_without_growth) {
  // A path whose rate is reached at once: an application-limited flight never counts, so
  // feed rounds of identical samples by hand. 100 segments delivered each 50 ms round.
  bbr b(mss);
  instant now{};
  seq_num una{};
  std::uint64_t delivered = 0;
  auto round_of = [&](std::uint64_t per_round) {
    const delivery_snapshot s = b.on_send(now, 0);
    now += rtt;
    una += seq_len{static_cast<std::uint32_t>(per_round)};
    delivered += per_round;
    b.on_rate_sample(now, una, static_cast<std::uint32_t>(per_round), delivered_segment{s, now - rtt, false}, 0, 0);
  };
  round_of(10 * mss);  // 200,000 octets/s
  EXPECT_EQ(b.round_count(), 1u);
  round_of(20 * mss);  // +100 %
  round_of(24 * mss);  // +20 %: below 25 %, the first round without growth
  EXPECT_FALSE(b.filled_pipe());
  round_of(24 * mss);  // the second
  EXPECT_FALSE(b.filled_pipe());
  EXPECT_EQ(b.state(), bbr::mode::startup);
  round_of(24 * mss);  // the third: the pipe is full
  EXPECT_TRUE(b.filled_pipe());
  EXPECT_NE(b.state(), bbr::mode::startup);
}

TEST(bbr, drain_ends_when_the_flight_is_down_to_the_bdp_then_probe_bw) {
  path p(rate, rtt);
  bool seen_drain = false;
  std::uint32_t drain_exit_inflight = 0;
  p.run(at(3000), [&] {
    if (p.cc().state() == bbr::mode::drain) {
      seen_drain = true;
      EXPECT_DOUBLE_EQ(p.cc().pacing_gain(), 1.0 / bbr::high_gain);
    } else if (seen_drain && drain_exit_inflight == 0 && p.cc().state() == bbr::mode::probe_bw) {
      drain_exit_inflight = p.inflight();
    }
  });
  ASSERT_TRUE(seen_drain);
  EXPECT_EQ(p.cc().state(), bbr::mode::probe_bw);
  EXPECT_GT(drain_exit_inflight, 0u);
  EXPECT_LE(drain_exit_inflight, p.cc().inflight_for(1.0));
  // In PROBE_BW the window is 2 x BDP plus the quantization budget; the flight about 1 BDP.
  EXPECT_NEAR(static_cast<double>(p.cc().inflight_for(1.0)), static_cast<double>(bdp), bdp * 0.1);
  EXPECT_EQ(p.cc().cwnd(), p.cc().target_cwnd());
}

TEST(bbr, probe_bw_cycles_through_the_eight_gains_in_order) {
  path p(rate, rtt, 7);
  p.run(at(3000));
  ASSERT_EQ(p.cc().state(), bbr::mode::probe_bw);
  std::vector<std::uint32_t> phases{p.cc().cycle_index()};
  p.run(at(6000), [&] {
    if (p.cc().cycle_index() != phases.back()) phases.push_back(p.cc().cycle_index());
  });
  ASSERT_GE(phases.size(), 17u);
  for (std::size_t k = 1; k < phases.size(); ++k) EXPECT_EQ(phases[k], (phases[k - 1] + 1) % 8) << k;
  // Each phase lasts about one RTprop (51 ms): 3 s hold about 58 phases.
  EXPECT_NEAR(static_cast<double>(phases.size()), 3000.0 / 51, 8);
  EXPECT_EQ(bbr::cycle_gain_percent[0], 125);
  EXPECT_EQ(bbr::cycle_gain_percent[1], 75);
}

TEST(bbr, probe_bw_never_starts_with_the_draining_phase) {
  std::vector<int> seen(8, 0);
  for (std::uint32_t seed = 0; seed < 64; ++seed) {
    bbr b(mss);
    b.set_seed(seed);
    instant now{};
    seq_num una{};
    for (int r = 0; r < 6 && b.state() == bbr::mode::startup; ++r) {  // 5 rounds of equal rates
      const delivery_snapshot s = b.on_send(now, 0);
      now += rtt;
      una += seq_len{10 * mss};
      b.on_rate_sample(now, una, 10 * mss, delivered_segment{s, now - rtt, false}, 0, 0);
    }
    ASSERT_EQ(b.state(), bbr::mode::probe_bw) << seed;  // DRAIN ends at once: nothing in flight
    ++seen[b.cycle_index()];
  }
  EXPECT_EQ(seen[1], 0) << "0.75 is never the first phase";
  for (int k : {0, 2, 3, 4, 5, 6, 7}) EXPECT_GT(seen[static_cast<std::size_t>(k)], 0) << k;
}

TEST(bbr, probe_rtt_after_ten_seconds_without_a_lower_rtt_then_back) {
  path p(rate, rtt);
  p.run(at(2000));
  ASSERT_EQ(p.cc().state(), bbr::mode::probe_bw);
  const instant stamp = p.now();
  const std::uint32_t before = p.cc().cwnd();
  // From now on every RTT is 10 ms longer: RTprop stays at 51 ms and expires 10 s after its
  // last refresh.
  p.extra = 10ms;
  instant entered = instant::max();
  instant left = instant::max();
  std::uint32_t min_cwnd = UINT32_MAX;
  p.run(stamp + 12s, [&] {
    if (p.cc().state() == bbr::mode::probe_rtt) {
      if (entered == instant::max()) entered = p.now();
      min_cwnd = std::min(min_cwnd, p.cc().cwnd());
    } else if (entered != instant::max() && left == instant::max()) {
      left = p.now();
    }
  });
  ASSERT_NE(entered, instant::max());
  EXPECT_GT(entered, stamp + 8s);
  EXPECT_LT(entered, stamp + 10s + 100ms);
  EXPECT_EQ(min_cwnd, bbr::min_pipe_segments * mss);
  ASSERT_NE(left, instant::max());
  EXPECT_GE(left - entered, bbr::probe_rtt_duration);
  EXPECT_LT(left - entered, bbr::probe_rtt_duration + 200ms);
  EXPECT_EQ(p.cc().state(), bbr::mode::probe_bw);
  EXPECT_GE(p.cc().cwnd() + 2 * mss, std::min<std::uint64_t>(before, p.cc().target_cwnd())) << "the window came back";
  EXPECT_EQ(*p.cc().rtprop(), rtt + 10ms + 1ms) << "refreshed in PROBE_RTT with the drained queue";
}

// Two seconds into a transfer over the path: in PROBE_BW, the model settled.
path in_probe_bw() {
  path p(rate, rtt);
  p.run(at(2000));
  return p;
}

TEST(bbr, fast_recovery_conserves_packets_then_restores_the_window) {
  path p = in_probe_bw();
  bbr& b = p.cc();
  const std::uint32_t before = b.cwnd();
  const seq_num snd_max{1'000'000};
  // A loss: recovery is entered, cwnd is not reduced by the shared machinery.
  ASSERT_TRUE(b.enter_recovery(p.now(), seq_num{0}, snd_max, 60 * mss, recovery_style::sack));
  EXPECT_EQ(b.cwnd(), before) << "no multiplicative decrease";
  // The next ACK: cwnd = inflight + delivered for a round (packet conservation).
  b.on_rate_sample(p.now(), seq_num{0}, mss, std::nullopt, 40 * mss, mss);
  EXPECT_TRUE(b.packet_conservation());
  EXPECT_EQ(b.cwnd(), 41 * mss);
  // The full ACK ends recovery: the window before it comes back.
  EXPECT_EQ(b.on_ack(p.now(), snd_max + seq_len{1}, mss, std::nullopt, 0), ack_outcome::recovery_exit);
  b.on_rate_sample(p.now(), snd_max + seq_len{1}, mss, std::nullopt, 0, 0);
  EXPECT_FALSE(b.packet_conservation());
  EXPECT_GE(b.cwnd(), std::min(before, static_cast<std::uint32_t>(b.target_cwnd())));
  EXPECT_EQ(b.state(), bbr::mode::probe_bw) << "the model is untouched by the loss";
}

TEST(bbr, rto_sets_one_segment_then_restores_the_window_when_repaired) {
  path p = in_probe_bw();
  bbr& b = p.cc();
  const std::uint64_t bw = b.btlbw();
  const std::uint32_t before = b.cwnd();
  const seq_num snd_max{500'000};
  b.on_rto(p.now(), snd_max, 50 * mss);
  EXPECT_EQ(b.cwnd(), mss);
  b.on_rate_sample(p.now(), seq_num{1000}, mss, std::nullopt, 0, 0);
  EXPECT_LT(b.cwnd(), before) << "still repairing the timeout";
  EXPECT_EQ(b.btlbw(), bw);
  // SND.UNA past `recover`: the saved window is back.
  (void)b.on_ack(p.now(), snd_max, mss, std::nullopt, 0);
  b.on_rate_sample(p.now(), snd_max, mss, std::nullopt, 0, 0);
  EXPECT_GE(b.cwnd(), std::min(before, static_cast<std::uint32_t>(b.target_cwnd())));
  EXPECT_LE(b.cwnd(), b.target_cwnd());
}

TEST(bbr, undo_after_a_spurious_recovery_keeps_the_model) {
  path p = in_probe_bw();
  bbr& b = p.cc();
  const std::uint64_t bw = b.btlbw();
  const std::uint32_t before = b.cwnd();
  ASSERT_TRUE(b.enter_recovery(p.now(), seq_num{0}, seq_num{100'000}, 60 * mss, recovery_style::sack));
  b.on_rate_sample(p.now(), seq_num{0}, mss, std::nullopt, 10 * mss, 0);
  EXPECT_EQ(b.cwnd(), 11 * mss);
  EXPECT_TRUE(b.undo());
  b.on_rate_sample(p.now(), seq_num{200'000}, mss, std::nullopt, 10 * mss, 0);
  EXPECT_FALSE(b.in_recovery());
  EXPECT_FALSE(b.packet_conservation());
  EXPECT_EQ(b.btlbw(), bw);
  EXPECT_EQ(b.state(), bbr::mode::probe_bw);
  EXPECT_GE(b.cwnd(), std::min(before, static_cast<std::uint32_t>(b.target_cwnd())));
}

TEST(bbr, prr_and_hystart_are_off_whatever_the_config) {
  congestion_config cfg;
  cfg.prr = true;
  cfg.hystart = true;
  const bbr b(mss, cfg);
  EXPECT_FALSE(b.prr_enabled());
  EXPECT_EQ(b.kind(), congestion_kind::bbr);
  EXPECT_EQ(to_string(congestion_kind::bbr), "bbr");
  congestion c(congestion_kind::bbr, mss);
  EXPECT_NE(c.as_bbr(), nullptr);
  c.reset(congestion_kind::cubic, mss);
  EXPECT_EQ(c.as_bbr(), nullptr);
}

}  // namespace
}  // namespace synack
