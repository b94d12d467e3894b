// The data-transfer simulation matrix (DESIGN.md §3 "Simulation matrices"): seeded transfers
// between two hosts on one simulated link, over loss, duplication, reordering, corruption,
// latency, bandwidth and queue limits, buffer sizes, transfer sizes and both directions at once.
// Every scenario asserts byte-exact delivery (a byte-by-byte check against the generator and a
// 64-bit stream hash), a clean close on both sides (nothing left after TIME-WAIT, no RST, no
// timeout) and no stall.
//
// The matrix is table-driven: each class below is a row — a name, a scenario count and a
// generator that turns (class, index) into a full transfer_config through a seeded rng. A
// failure prints the class, the index and every parameter (describe()), which is all it takes
// to replay it: `--gtest_filter='*transfer_matrix*<class>*'` and the index, or build the config
// by hand from the printed line and call run_transfer().
//
// Scenarios are looped inside one test per class rather than one ctest case each (process
// start-up would cost more than the runs). The whole binary must stay well under 60 s on the
// development machine (2 cores); large transfers are few and lossless or nearly so.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "scenario/transfer_matrix.hpp"

namespace synack {
namespace {

using namespace std::chrono_literals;

struct matrix_class {
  const char* name;
  std::size_t count;
  std::function<transfer_config(std::size_t index, rng& r)> make;
};

// ---- the classes ----------------------------------------------------------------------------

constexpr std::array<double, 6> loss_levels{0.0, 0.01, 0.02, 0.05, 0.10, 0.20};

// Loss, both directions: 6 levels; sizes shrink as loss grows (recovery is slow without
// congestion control and SACK: every loss may cost a retransmission timeout).
transfer_config loss_case(std::size_t i, rng& r) {
  const double loss = loss_levels[i % loss_levels.size()];
  std::vector<std::uint64_t> sizes{1, 1000, 20'000, 100'000};
  if (loss <= 0.05) sizes.push_back(1'000'000);
  if (loss <= 0.02) sizes.push_back(4'000'000);
  transfer_config c = base_config(r.next_u64());
  c.c2s = link(pick(r, {1ms, 5ms, 20ms, 50ms}));
  c.c2s.loss = loss;
  c.s2c = c.c2s;
  c.bytes_c2s = pick(r, sizes);
  set_buffers(c, pick(r, {16 * kib, 64 * kib, 256 * kib}));
  return c;
}

transfer_config duplicate_case(std::size_t i, rng& r) {
  transfer_config c = base_config(r.next_u64());
  c.c2s = link(pick(r, {0ms, 2ms, 10ms}));
  c.c2s.duplicate = std::array{0.01, 0.05, 0.20, 0.50}[i % 4];
  c.s2c = c.c2s;
  c.bytes_c2s = pick(r, {1ULL, 3000ULL, 100'000ULL, 1'000'000ULL});
  if (r.chance(0.3)) c.bytes_s2c = pick(r, {1ULL, 50'000ULL});
  set_buffers(c, pick(r, {8 * kib, 64 * kib, 256 * kib}));
  return c;
}

transfer_config reorder_case(std::size_t i, rng& r) {
  transfer_config c = base_config(r.next_u64());
  c.c2s = link(pick(r, {1ms, 5ms, 20ms}));
  c.c2s.reorder = std::array{0.01, 0.05, 0.25}[i % 3];
  c.c2s.reorder_delay = pick(r, {1ms, 5ms, 30ms});
  c.s2c = c.c2s;
  c.bytes_c2s = pick(r, {1ULL, 10'000ULL, 200'000ULL, 1'000'000ULL});
  if (r.chance(0.3)) c.bytes_s2c = pick(r, {1000ULL, 100'000ULL});
  set_buffers(c, pick(r, {16 * kib, 64 * kib, 256 * kib}));
  return c;
}

// Corruption flips one bit; the receiver's checksum must catch every such packet (checked in
// check_outcome). Sizes are large enough for a handful of corrupted packets at least.
transfer_config corrupt_case(std::size_t i, rng& r) {
  transfer_config c = base_config(r.next_u64());
  c.c2s = link(pick(r, {1ms, 10ms}));
  c.c2s.corrupt = std::array{0.005, 0.02, 0.10}[i % 3];
  c.s2c = c.c2s;
  c.bytes_c2s = pick(r, {50'000ULL, 300'000ULL, 1'000'000ULL});
  if (r.chance(0.5)) c.bytes_s2c = pick(r, {10'000ULL, 200'000ULL});
  set_buffers(c, pick(r, {32 * kib, 128 * kib}));
  return c;
}

transfer_config latency_case(std::size_t i, rng& r) {
  transfer_config c = base_config(r.next_u64());
  const std::array<duration, 6> lat{0ms, 1ms, 10ms, 50ms, 100ms, 200ms};
  c.c2s = link(lat[i % lat.size()]);
  c.s2c = link(lat[(i / lat.size()) % lat.size()]);  // asymmetric paths too
  c.bytes_c2s = pick(r, {1ULL, 1460ULL, 1461ULL, 65'536ULL, 1'000'000ULL});
  set_buffers(c, pick(r, {4 * kib, 64 * kib, 1024 * kib}));
  return c;
}

// Bandwidth and queue limits on both directions: serialisation delay and tail drops when a
// window outruns the queue.
transfer_config bandwidth_case(std::size_t i, rng& r) {
  transfer_config c = base_config(r.next_u64());
  const std::array<std::uint64_t, 4> bw{1'000'000, 10'000'000, 100'000'000, 1'000'000'000};
  const std::uint64_t rate = bw[i % bw.size()];
  c.c2s = link(pick(r, {1ms, 10ms, 40ms}));
  c.c2s.bandwidth_bps = rate;
  c.c2s.queue_limit_bytes = pick(r, {std::size_t{0}, 16 * kib, 64 * kib, 256 * kib, 1024 * kib});
  c.s2c = c.c2s;
  // Roughly a second or less of transfer at the rate, at most 4 MB.
  const std::uint64_t cap = std::min<std::uint64_t>(rate / 8, 4'000'000);
  c.bytes_c2s = std::max<std::uint64_t>(1, cap / pick(r, {1ULL, 4ULL, 100ULL}));
  set_buffers(c, pick(r, {16 * kib, 64 * kib, 256 * kib, 1024 * kib}));
  return c;
}

// Buffers 4 KiB .. 4 MiB, send and receive chosen apart, and each side differently.
transfer_config buffer_case(std::size_t i, rng& r) {
  transfer_config c = base_config(r.next_u64());
  const std::array<std::size_t, 6> sizes{4 * kib, 16 * kib, 64 * kib, 256 * kib, 1024 * kib, 4096 * kib};
  c.c2s = link(pick(r, {1ms, 10ms}));
  c.s2c = c.c2s;
  c.client_tcp.send_buffer = sizes[i % sizes.size()];
  c.server_tcp.recv_buffer = sizes[(i / sizes.size()) % sizes.size()];
  c.client_tcp.recv_buffer = pick(r, {4 * kib, 256 * kib});
  c.server_tcp.send_buffer = pick(r, {4 * kib, 256 * kib});
  c.bytes_c2s = pick(r, {1ULL, 100'000ULL, 1'000'000ULL});
  if (r.chance(0.3)) c.bytes_s2c = 100'000;
  return c;
}

// Transfer sizes 1 byte .. 64 MiB, lossless: segment boundaries, buffer multiples, and a few
// large ones (the 64 MiB runs dominate the matrix's wall time; keep them few).
transfer_config size_case(std::size_t i, rng& r) {
  const std::array<std::uint64_t, 16> sizes{1,       2,       1459,     1460,      1461,      2920,
                                            4095,    4096,    65'535,   65'536,    65'537,    262'144,
                                            999'999, 4 << 20, 16 << 20, 64ULL << 20};
  transfer_config c = base_config(r.next_u64());
  c.c2s = link(pick(r, {1ms, 10ms}));
  c.c2s.bandwidth_bps = 1'000'000'000;
  c.s2c = c.c2s;
  c.bytes_c2s = sizes[i % sizes.size()];
  set_buffers(c, c.bytes_c2s >= (4 << 20) ? 4096 * kib : pick(r, {4 * kib, 64 * kib, 256 * kib}));
  if (i / sizes.size() % 2 == 1) std::swap(c.bytes_c2s, c.bytes_s2c);  // the server sends
  return c;
}

// Both directions at once, over every impairment at a moderate level.
transfer_config bidirectional_case(std::size_t i, rng& r) {
  transfer_config c = base_config(r.next_u64());
  c.c2s = link(pick(r, {1ms, 10ms, 50ms}));
  switch (i % 5) {
    case 0: break;
    case 1: c.c2s.loss = pick(r, {0.01, 0.05}); break;
    case 2: c.c2s.duplicate = 0.1; break;
    case 3: c.c2s.reorder = 0.1; break;
    case 4: c.c2s.corrupt = 0.02; break;
  }
  c.s2c = c.c2s;
  c.bytes_c2s = pick(r, {1ULL, 10'000ULL, 300'000ULL, 1'000'000ULL});
  c.bytes_s2c = pick(r, {1ULL, 10'000ULL, 300'000ULL, 1'000'000ULL});
  set_buffers(c, pick(r, {16 * kib, 64 * kib, 256 * kib}));
  return c;
}

// Everything at once, drawn from the seed: each direction impaired on its own.
transfer_config mixed_case(std::size_t, rng& r) {
  transfer_config c = base_config(r.next_u64());
  auto impaired = [&r] {
    sim::link_config l = link(pick(r, {0ms, 1ms, 10ms, 30ms, 100ms}));
    if (r.chance(0.5)) l.loss = pick(r, {0.01, 0.02, 0.05});
    if (r.chance(0.3)) l.duplicate = pick(r, {0.01, 0.1});
    if (r.chance(0.3)) {
      l.reorder = pick(r, {0.01, 0.1});
      l.reorder_delay = pick(r, {1ms, 10ms});
    }
    if (r.chance(0.3)) l.corrupt = pick(r, {0.01, 0.05});
    if (r.chance(0.3)) {
      l.bandwidth_bps = pick(r, {10'000'000ULL, 100'000'000ULL});
      l.queue_limit_bytes = pick(r, {std::size_t{0}, 64 * kib, 512 * kib});
    }
    return l;
  };
  c.c2s = impaired();
  c.s2c = impaired();
  c.bytes_c2s = pick(r, {0ULL, 1ULL, 5000ULL, 100'000ULL, 500'000ULL});
  c.bytes_s2c = pick(r, {0ULL, 1ULL, 5000ULL, 100'000ULL, 500'000ULL});
  c.client_tcp.send_buffer = pick(r, {8 * kib, 64 * kib, 256 * kib});
  c.client_tcp.recv_buffer = pick(r, {8 * kib, 64 * kib, 256 * kib});
  c.server_tcp.send_buffer = pick(r, {8 * kib, 64 * kib, 256 * kib});
  c.server_tcp.recv_buffer = pick(r, {8 * kib, 64 * kib, 256 * kib});
  return c;
}

const std::vector<matrix_class>& classes() {
  static const std::vector<matrix_class> all{
      {"loss", 360, loss_case},
      {"duplicate", 80, duplicate_case},
      {"reorder", 90, reorder_case},
      {"corrupt", 90, corrupt_case},
      {"latency", 108, latency_case},
      {"bandwidth", 100, bandwidth_case},
      {"buffers", 108, buffer_case},
      {"sizes", 64, size_case},
      {"bidirectional", 100, bidirectional_case},
      {"mixed", 150, mixed_case},
  };
  return all;
}

// A scenario is a pure function of its class and index.
transfer_config make_scenario(const matrix_class& mc, std::size_t index) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a of the class name
  for (const char* c = mc.name; *c != 0; ++c) h = (h ^ static_cast<unsigned char>(*c)) * 0x100000001b3ULL;
  rng r(h + index * 0x9E3779B97F4A7C15ULL);
  return mc.make(index, r);
}

// ---- the tests ------------------------------------------------------------------------------

class transfer_matrix : public testing::TestWithParam<std::size_t> {};

TEST_P(transfer_matrix, every_scenario_delivers_and_closes) {
  const matrix_class& mc = classes()[GetParam()];
  std::size_t failures = 0;
  std::uint64_t corrupt_scenarios = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t bad_checksums = 0;
  for (std::size_t i = 0; i < mc.count; ++i) {
    const transfer_config cfg = make_scenario(mc, i);
    const transfer_outcome out = run_transfer(cfg);
    if (cfg.c2s.corrupt + cfg.s2c.corrupt > 0) ++corrupt_scenarios;
    corrupted += out.c2s.corrupted + out.s2c.corrupted;
    bad_checksums += out.client.counters.wire(wire_error::bad_checksum) +
                     out.server.counters.wire(wire_error::bad_checksum);
    const std::string problems = check_outcome(cfg, out);
    if (problems.empty()) continue;
    ADD_FAILURE() << "class " << mc.name << " index " << i << ": " << problems << "\n  config: " << describe(cfg)
                  << "\n  outcome: " << out.summary();
    if (++failures == 5) {
      FAIL() << "class " << mc.name << ": stopping after 5 failures";
    }
  }
  // The corruption the class asked for really happened, and checksums caught it (each
  // scenario's own check already matched the corrupted packets to wire drops).
  if (corrupt_scenarios > 0) {
    EXPECT_GT(corrupted, corrupt_scenarios) << mc.name;
    EXPECT_GT(bad_checksums, 0u) << mc.name;
  }
}

std::string class_name(const testing::TestParamInfo<std::size_t>& i) { return classes()[i.param].name; }

INSTANTIATE_TEST_SUITE_P(scenario, transfer_matrix, testing::Range<std::size_t>(0, classes().size()), class_name);

TEST(transfer_matrix_size, at_least_a_thousand_scenarios) {
  std::size_t n = 0;
  for (const auto& mc : classes()) n += mc.count;
  EXPECT_GE(n, 1000u);
}

// The generator is a pure function of (class, index): the printed parameters replay a failure.
TEST(transfer_matrix_size, scenarios_are_reproducible) {
  for (const auto& mc : classes()) {
    EXPECT_EQ(describe(make_scenario(mc, 7)), describe(make_scenario(mc, 7))) << mc.name;
  }
}

// Regression (RFC 9293 §3.8.6.1, MUST-36): the receive buffer (16 KiB) equals the send buffer,
// so a burst fills it and the receiver advertises window 0; the window update that reopens it
// is lost (1% loss). Before the persist timer the sender waited forever; now a probe finds the
// open window.
TEST(transfer_matrix_regressions, zero_window_update_lost) {
  transfer_config c = base_config(17732365900423297689ULL);
  c.c2s = link(50ms);
  c.c2s.loss = 0.01;
  c.s2c = c.c2s;
  c.bytes_c2s = 1'000'000;
  set_buffers(c, 16 * kib);
  const transfer_outcome o = run_transfer(c);
  EXPECT_EQ(check_outcome(c, o), "") << describe(c) << "\n" << o.summary();
}

// The scenario's own failure detection: a link that drops everything is a stall, reported
// with a reason, not a hang or a pass.
TEST(transfer_scenario_checks, a_dead_link_is_reported_as_a_stall) {
  transfer_config c = base_config(1);
  c.c2s = link(10ms);
  c.c2s.loss = 1.0;
  c.s2c = c.c2s;
  c.bytes_c2s = 1000;
  const transfer_outcome o = run_transfer(c);
  EXPECT_FALSE(o.completed);
  EXPECT_EQ(o.reason.rfind("stalled", 0), 0u) << o.reason;
  EXPECT_NE(check_outcome(c, o), "");
}

// The payload and hash helpers: chunking does not matter, streams differ.
TEST(transfer_payload, hash_is_independent_of_chunking) {
  const payload_stream s(42);
  std::vector<std::byte> all(10'007);
  s.fill(0, all);
  stream_hash whole;
  whole.update(all);
  stream_hash pieces;
  rng r(3);
  for (std::size_t off = 0; off < all.size();) {
    const std::size_t n = std::min<std::size_t>(all.size() - off, 1 + r.below(300));
    std::vector<std::byte> part(n);
    s.fill(off, part);  // generated at an unaligned offset on its own
    EXPECT_EQ(0, std::memcmp(part.data(), all.data() + off, n)) << off;
    pieces.update(part);
    off += n;
  }
  EXPECT_EQ(whole.digest(), pieces.digest());
  EXPECT_EQ(whole.digest(), expected_hash(s, all.size()));
  EXPECT_NE(expected_hash(s, 10'006), expected_hash(s, 10'007));
  EXPECT_NE(expected_hash(payload_stream(43), 10'007), expected_hash(s, 10'007));
  // One flipped bit changes the hash.
  all[5000] ^= std::byte{0x10};
  stream_hash flipped;
  flipped.update(all);
  EXPECT_NE(flipped.digest(), whole.digest());
}

}  // namespace
}  // namespace synack
