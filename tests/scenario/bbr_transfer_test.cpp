// BBR (tcp_config::congestion = bbr) against CUBIC over the same lossy simulated link: a
// 10 Mbit/s bottleneck, 20 ms each way, random loss on the data path. Both transfers must be
// byte-exact with a clean close (check_outcome); BBR, which does not take random loss for
// congestion, must reach a goodput well above CUBIC's (a ratio on virtual time, not a speed).
#include <gtest/gtest.h>

#include "scenario/transfer_matrix.hpp"

namespace synack {
namespace {

using namespace std::chrono_literals;

transfer_config lossy(congestion_kind kind, double loss, std::uint64_t seed) {
  transfer_config c = base_config(seed);
  c.c2s = link(20ms);
  c.c2s.bandwidth_bps = 10'000'000;
  c.c2s.queue_limit_bytes = 64 * kib;
  c.c2s.loss = loss;
  c.s2c = link(20ms);
  c.bytes_c2s = 2'000'000;
  set_buffers(c, 512 * kib);
  c.client_tcp.congestion = kind;
  c.server_tcp.congestion = kind;
  return c;
}

class bbr_transfer : public ::testing::TestWithParam<double> {};

TEST_P(bbr_transfer, completes_byte_exact_and_well_above_cubic_under_random_loss) {
  const double loss = GetParam();
  for (const std::uint64_t seed : {1u, 2u}) {
    const transfer_config b = lossy(congestion_kind::bbr, loss, seed);
    const transfer_config c = lossy(congestion_kind::cubic, loss, seed);
    const transfer_outcome ob = run_transfer(b);
    const transfer_outcome oc = run_transfer(c);
    EXPECT_EQ(check_outcome(b, ob), "") << describe(b) << "\n" << ob.summary();
    EXPECT_EQ(check_outcome(c, oc), "") << describe(c) << "\n" << oc.summary();
    ASSERT_GT(oc.throughput(), 0.0);
    const double ratio = ob.throughput() / oc.throughput();
    EXPECT_GT(ratio, 1.5) << "loss " << loss << " seed " << seed << ": bbr " << ob.throughput() << " B/s, cubic "
                          << oc.throughput() << " B/s";
    RecordProperty("ratio_" + std::to_string(seed), std::to_string(ratio));
  }
}

std::string loss_name(const ::testing::TestParamInfo<double>& p) {
  return p.param < 0.03 ? "two_percent" : "five_percent";
}

INSTANTIATE_TEST_SUITE_P(loss, bbr_transfer, ::testing::Values(0.02, 0.05), loss_name);

}  // namespace
}  // namespace synack
