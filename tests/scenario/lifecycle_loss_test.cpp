// The whole lifecycle (connect, echo a line, close both ways) between two hosts on the
// simulated link, under seeded loss (DESIGN.md §3 "Simulation matrices"). Every run is a pure
// function of its seed; a failure names the seed, and `synack demo --seed N --loss L` replays it.
//
// Seeds are looped inside one test per (loss, mode) rather than one ctest case each: 150 seeds
// x 8 configurations as separate processes would cost more in process start-up than the runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "echo_scenario.hpp"

namespace synack {
namespace {

constexpr std::uint64_t first_seed = 1;
constexpr std::uint64_t last_seed = 150;

// The longest a run may take in virtual time before something is wrong. Each phase of the
// lifecycle is one exchange that the sender retransmits with exponential backoff (RFC 6298
// §5.5) until R2 (RFC 9293 §3.8.3) gives up, and R2 is checked at an RTO expiry, so one phase
// lasts at most R2 + rto_max: the handshake by syn_r2, then the request, the echo, the
// client's FIN and the server's FIN by data_r2 each. The final ACK is not retransmitted: a
// lost one is replaced by the FIN's retransmission, which restarts TIME-WAIT, so TIME-WAIT
// ends at most 2 x MSL after the server's last FIN — inside the server's FIN phase — plus
// one latency.
duration lifecycle_bound(const tcp_config& c, duration latency) {
  return (c.syn_r2 + c.rto_max) + 4 * (c.data_r2 + c.rto_max) + 2 * c.msl + latency;
}

struct loss_case {
  double loss = 0.0;
  bool simultaneous_open = false;
  bool simultaneous_close = false;
  bool stock_config = false;  // tcp_config{} instead of patient_tcp()
};

std::string case_name(const testing::TestParamInfo<loss_case>& i) {
  std::string n = "loss" + std::to_string(static_cast<int>(i.param.loss * 100 + 0.5));
  if (i.param.simultaneous_open) n += "_simultaneous_open";
  if (i.param.simultaneous_close) n += "_simultaneous_close";
  if (i.param.stock_config) n += "_stock_config";
  return n;
}

// What the test watches on the link besides the outcome.
struct watch {
  // The last segment carrying FIN that reached the client (server) while it was in
  // TIME-WAIT: RFC 9293 §3.10.7.4 restarts the 2 x MSL timer on it.
  std::optional<instant> client_fin_in_time_wait;
  std::optional<instant> server_fin_in_time_wait;
  std::vector<segment_row> rows;  // every segment sent on the link, lost ones included

  void on(const segment_row& r) {
    rows.push_back(r);
    if (r.lost || (r.flags & tcp_flag::fin) == 0) return;
    if (!r.from_client && r.client_state == tcp_state::time_wait) client_fin_in_time_wait = r.at;
    if (r.from_client && r.server_state == tcp_state::time_wait) server_fin_in_time_wait = r.at;
  }
  // A ladder of the run, for failure messages.
  [[nodiscard]] std::string ladder() const {
    std::string s;
    for (const auto& r : rows) {
      s += std::to_string(r.at.us / 1000) + "ms " + (r.from_client ? "C>S" : "S>C") + (r.lost ? " LOST" : "") +
           " flags=" + std::to_string(r.flags) + " seq=" + std::to_string(r.seq.raw) +
           " ack=" + (r.ack ? std::to_string(r.ack->raw) : "-") + " len=" + std::to_string(r.len) +
           " client=" + std::string(to_string(r.client_state)) + " server=" + std::string(to_string(r.server_state)) + "\n";
    }
    return s;
  }
};

// At 30% loss a round trip fails with probability 1 - 0.7^2 = 0.51. The default R2 (100 s
// for data, fewer tries once the RTO is already backed off) then gives up on about 1% of
// exchanges, and a peer's 60 s TIME-WAIT can expire between two 60 s retransmissions of the
// other side's FIN, which is then answered with RST. Both are correct outcomes, but not the
// one under test; likewise an orphaned FIN-WAIT-2 dropped after fin_wait_2_timeout (60 s)
// before the peer's FIN got through, which then draws a RST. Seeds 7 and 97 (simultaneous
// close) and 22 (simultaneous open) at 30% and 43 at 20% hit these. So the matrix uses
// R2 = 900 s, a 600 s FIN-WAIT-2 timeout and RFC 9293's MSL of 2 minutes. R2 was 600 s until
// delayed ACK changed the sequence of random draws: then seed 35 (simultaneous close, 30%)
// lost the echo or its ACK 15 times in a row over 600 s (0.51^15, about 4e-5 per exchange).
// At 900 s that takes 20 failed round trips (~1e-6); the `stock_config` cases keep
// tcp_config{} at 10% loss.
tcp_config patient_tcp() {
  tcp_config t;
  t.syn_r2 = std::chrono::seconds(900);
  t.data_r2 = std::chrono::seconds(900);
  t.fin_wait_2_timeout = std::chrono::seconds(600);
  t.msl = std::chrono::seconds(120);
  return t;
}

echo_config make_config(const loss_case& p, std::uint64_t seed) {
  echo_config c;
  c.seed = seed;
  c.loss = p.loss;
  c.simultaneous_open = p.simultaneous_open;
  c.simultaneous_close = p.simultaneous_close;
  if (!p.stock_config) c.tcp = patient_tcp();
  c.limit = lifecycle_bound(c.tcp, c.latency) + std::chrono::seconds(1);
  return c;
}

echo_outcome run(const echo_config& c, watch& w) {
  echo_scenario sc(c);
  sc.on_segment([&w](const segment_row& r) { w.on(r); });
  return sc.run();
}

// The side that closed first (the client; in a simultaneous close both) holds TIME-WAIT for
// exactly 2 x MSL after it entered it or after the last retransmitted FIN restarted it.
void check_time_wait(const echo_config& c, const echo_outcome& o, const watch& w, bool client) {
  SCOPED_TRACE(client ? "client TIME-WAIT" : "server TIME-WAIT");
  const auto& start = client ? o.client_time_wait_start : o.server_time_wait_start;
  const auto& end = client ? o.client_time_wait_end : o.server_time_wait_end;
  ASSERT_TRUE(start.has_value()) << w.ladder();
  ASSERT_TRUE(end.has_value()) << w.ladder();
  instant from = *start;
  const auto& restart = client ? w.client_fin_in_time_wait : w.server_fin_in_time_wait;
  if (restart) from = std::max(from, *restart);
  EXPECT_EQ((*end - from).count(), (2 * c.tcp.msl).count()) << w.ladder();
}

void check_run(const loss_case& p, std::uint64_t seed) {
  SCOPED_TRACE(testing::Message() << "seed " << seed << " loss " << p.loss);
  const echo_config c = make_config(p, seed);
  watch w;
  const echo_outcome o = run(c, w);
  ASSERT_TRUE(o.completed) << o.error << "\n" << w.ladder();
  EXPECT_EQ(o.echoed, c.message);
  EXPECT_LE(o.end - instant{}, lifecycle_bound(c.tcp, c.latency)) << "ended at " << o.end.us << " us";
  check_time_wait(c, o, w, true);
  if (p.simultaneous_close) {
    check_time_wait(c, o, w, false);
  } else {
    // The passive closer goes LAST-ACK -> CLOSED and never holds TIME-WAIT.
    EXPECT_FALSE(o.server_time_wait_start.has_value());
  }
  EXPECT_EQ(o.client_connections, 0u);
  EXPECT_EQ(o.client_time_wait_records, 0u);
  EXPECT_EQ(o.server_connections, 0u);
  EXPECT_EQ(o.server_time_wait_records, 0u);
  // Nothing was torn down by a reset or a timeout.
  EXPECT_EQ(o.client.estab_resets + o.server.estab_resets, 0u);
  EXPECT_EQ(o.client.attempt_fails + o.server.attempt_fails, 0u);
  EXPECT_EQ(o.client.out_rsts + o.server.out_rsts, 0u);
}

class lifecycle_loss : public testing::TestWithParam<loss_case> {};

TEST_P(lifecycle_loss, every_seed_completes_cleanly) {
  for (std::uint64_t seed = first_seed; seed <= last_seed; ++seed) {
    check_run(GetParam(), seed);
    if (HasFatalFailure()) return;
  }
}

// The link really drops what it is told to: over all seeds the measured loss is near the
// configured one (so a run that passes was not a lossless run in disguise).
TEST_P(lifecycle_loss, measured_loss_matches_the_link) {
  std::uint64_t lost = 0;
  std::uint64_t total = 0;
  for (std::uint64_t seed = first_seed; seed <= last_seed; ++seed) {
    watch w;
    const echo_outcome o = run(make_config(GetParam(), seed), w);
    lost += o.packets_lost;
    total += o.packets_lost + o.packets_delivered;
  }
  ASSERT_GT(total, 1000u);
  const double rate = static_cast<double>(lost) / static_cast<double>(total);
  EXPECT_NEAR(rate, GetParam().loss, 0.03) << lost << " of " << total;
}

INSTANTIATE_TEST_SUITE_P(scenario, lifecycle_loss,
                         testing::Values(loss_case{0.1}, loss_case{0.2}, loss_case{0.3},
                                         loss_case{0.1, true, false}, loss_case{0.3, true, false},
                                         loss_case{0.1, false, true}, loss_case{0.3, false, true},
                                         loss_case{0.2, true, true}, loss_case{0.1, false, false, true},
                                         loss_case{0.1, true, true, true}),
                         case_name);

// Lossless: the minimum exchange, and nothing retransmitted. 9 segments, not the 11 of
// acknowledging every data segment at once: with delayed ACK (RFC 9293 §3.8.6.3, 40 ms; the
// link's latency is 10 ms) the ACK of the request rides on the echo and the ACK of the echo on
// the client's FIN. A FIN is acknowledged at once, and the server's application closes only
// after its stack has done so, so that ACK and the server's FIN still travel apart.
TEST(lifecycle_lossless, exact_segment_count_and_no_retransmissions) {
  const echo_config c;
  watch w;
  echo_scenario sc(c);
  sc.on_segment([&w](const segment_row& r) { w.on(r); });
  const echo_outcome o = sc.run();
  ASSERT_TRUE(o.completed) << o.error;
  EXPECT_EQ(o.echoed, c.message);
  EXPECT_EQ(o.packets_lost, 0u);
  EXPECT_EQ(o.client.retrans_segs + o.server.retrans_segs, 0u);

  constexpr std::uint8_t syn = tcp_flag::syn, ack = tcp_flag::ack, psh = tcp_flag::psh, fin = tcp_flag::fin;
  const auto len = static_cast<std::uint32_t>(c.message.size());
  struct want_row {
    bool from_client;
    std::uint8_t flags;
    std::uint32_t len;
  };
  const std::vector<want_row> want{
      // handshake: 3
      {true, syn, 0}, {false, syn | ack, 0}, {true, ack, 0},
      // request, and echo carrying its delayed ACK: 2
      {true, psh | ack, len}, {false, psh | ack, len},
      // four-way close; the client's FIN carries the delayed ACK of the echo: 4
      {true, fin | ack, 0}, {false, ack, 0}, {false, fin | ack, 0}, {true, ack, 0},
  };
  ASSERT_EQ(w.rows.size(), want.size()) << w.ladder();
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "segment " << i);
    EXPECT_EQ(w.rows[i].from_client, want[i].from_client) << w.ladder();
    EXPECT_EQ(w.rows[i].flags, want[i].flags) << w.ladder();
    EXPECT_EQ(w.rows[i].len, want[i].len) << w.ladder();
  }
  EXPECT_EQ(o.packets_delivered, want.size());
  EXPECT_EQ(o.client.out_segs + o.server.out_segs, want.size());
  check_time_wait(c, o, w, true);
  EXPECT_FALSE(o.server_time_wait_start.has_value());
  EXPECT_EQ(o.end, *o.client_time_wait_end) << "the run ends when TIME-WAIT does";
  EXPECT_EQ(o.client_connections + o.server_connections + o.client_time_wait_records + o.server_time_wait_records,
            0u);
}

}  // namespace
}  // namespace synack
