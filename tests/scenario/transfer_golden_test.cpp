// The golden table of transfers (DESIGN.md §3): ~30 representative scenarios whose completion
// time (virtual), throughput, retransmissions and segments are checked in at
// tests/scenario/golden/transfer.tsv. The test runs them all and FAILS when a scenario's
// completion time or either side's retransmissions get worse than the table by more than
// `tolerance` (and more than a small absolute slack), printing a diff; it prints a notice when
// one got better by more than the tolerance, asking to regenerate the table so the improvement
// is locked in. Every scenario must also pass the matrix checks (byte-exact, clean close).
//
// Regenerate (after a deliberate change of behaviour, or to lock in an improvement):
//   SYNACK_UPDATE_GOLDEN=1 ./build/<dir>/tests/scenario_tests --gtest_filter='transfer_golden.*'
// which rewrites the table in the source tree (next to this file) and passes. Review the diff
// of transfer.tsv like code. See tests/scenario/golden/README.md.
//
// Runs are pure functions of their parameters, so the numbers are exact on every machine; the
// tolerance only keeps small, intended changes (one ACK more or less) from failing the build.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "scenario/transfer_matrix.hpp"

namespace synack {
namespace {

using namespace std::chrono_literals;

constexpr double tolerance = 0.10;
constexpr double time_slack_ms = 1.0;      // completion times within 1 ms never count
constexpr std::uint64_t retrans_slack = 2;  // nor 2 retransmissions more or less

struct golden_case {
  std::string name;
  transfer_config cfg;
};

transfer_config make(std::uint64_t seed, duration latency, std::uint64_t c2s, std::uint64_t s2c, std::size_t buf) {
  transfer_config c = base_config(seed);
  c.c2s = link(latency);
  c.s2c = c.c2s;
  c.bytes_c2s = c2s;
  c.bytes_s2c = s2c;
  set_buffers(c, buf);
  return c;
}

// name, then the changes from a lossless symmetric link.
std::vector<golden_case> cases() {
  std::vector<golden_case> v;
  auto add = [&v](std::string name, transfer_config c, auto&& tweak) {
    tweak(c);
    v.push_back({std::move(name), c});
  };
  auto none = [](transfer_config&) {};
  auto both = [](auto f) {
    return [f](transfer_config& c) {
      f(c.c2s);
      f(c.s2c);
    };
  };
  constexpr std::uint64_t mb = 1'000'000;
  add("lossless_1B_10ms", make(1, 10ms, 1, 0, 64 * kib), none);
  add("lossless_64KiB_10ms", make(2, 10ms, 64 * kib, 0, 64 * kib), none);
  add("lossless_1MB_10ms", make(3, 10ms, mb, 0, 256 * kib), none);
  add("lossless_16MiB_1Gbps_10ms_4MiB", make(4, 10ms, 16 << 20, 0, 4096 * kib),
      both([](sim::link_config& l) { l.bandwidth_bps = 1'000'000'000; }));
  add("lossless_1MB_100ms_256KiB", make(5, 100ms, mb, 0, 256 * kib), none);
  add("lossless_4MB_200ms_4MiB", make(6, 200ms, 4 * mb, 0, 4096 * kib), none);
  add("buffers_4KiB_1MB_10ms", make(7, 10ms, mb, 0, 4 * kib), none);
  add("buffers_16KiB_1MB_50ms", make(8, 50ms, mb, 0, 16 * kib), none);
  add("loss1_1MB_20ms", make(9, 20ms, mb, 0, 64 * kib), both([](sim::link_config& l) { l.loss = 0.01; }));
  add("loss2_1MB_20ms", make(10, 20ms, mb, 0, 64 * kib), both([](sim::link_config& l) { l.loss = 0.02; }));
  add("loss5_1MB_20ms", make(11, 20ms, mb, 0, 64 * kib), both([](sim::link_config& l) { l.loss = 0.05; }));
  add("loss10_100KB_20ms", make(12, 20ms, 100'000, 0, 64 * kib), both([](sim::link_config& l) { l.loss = 0.10; }));
  add("loss20_100KB_20ms", make(13, 20ms, 100'000, 0, 64 * kib), both([](sim::link_config& l) { l.loss = 0.20; }));
  add("loss5_data_path_only_1MB", make(14, 20ms, mb, 0, 64 * kib), [](transfer_config& c) { c.c2s.loss = 0.05; });
  add("loss5_ack_path_only_1MB", make(15, 20ms, mb, 0, 64 * kib), [](transfer_config& c) { c.s2c.loss = 0.05; });
  add("dup10_1MB_10ms", make(16, 10ms, mb, 0, 64 * kib), both([](sim::link_config& l) { l.duplicate = 0.10; }));
  add("dup50_100KB_10ms", make(17, 10ms, 100'000, 0, 64 * kib), both([](sim::link_config& l) { l.duplicate = 0.5; }));
  add("reorder5_1MB_5ms", make(18, 10ms, mb, 0, 64 * kib), both([](sim::link_config& l) {
        l.reorder = 0.05;
        l.reorder_delay = 5ms;
      }));
  add("reorder25_1MB_30ms", make(19, 10ms, mb, 0, 64 * kib), both([](sim::link_config& l) {
        l.reorder = 0.25;
        l.reorder_delay = 30ms;
      }));
  add("corrupt2_1MB_10ms", make(20, 10ms, mb, 0, 64 * kib), both([](sim::link_config& l) { l.corrupt = 0.02; }));
  add("corrupt10_300KB_10ms", make(21, 10ms, 300'000, 0, 64 * kib),
      both([](sim::link_config& l) { l.corrupt = 0.10; }));
  auto bw = [](std::uint64_t bps, std::size_t queue) {
    return [bps, queue](transfer_config& c) {
      for (sim::link_config* l : {&c.c2s, &c.s2c}) {
        l->bandwidth_bps = bps;
        l->queue_limit_bytes = queue;
      }
    };
  };
  add("bw1M_queue64KiB_125KB", make(22, 10ms, 125'000, 0, 64 * kib), bw(1'000'000, 64 * kib));
  add("bw10M_queue256KiB_1MB", make(23, 10ms, mb, 0, 64 * kib), bw(10'000'000, 256 * kib));
  add("bw100M_queue1MiB_4MB", make(24, 10ms, 4 * mb, 0, 256 * kib), bw(100'000'000, 1024 * kib));
  add("bw1G_queue64KiB_1MB_taildrop", make(25, 10ms, mb, 0, 256 * kib), bw(1'000'000'000, 64 * kib));
  add("bw10M_unlimited_queue_1MB", make(26, 10ms, mb, 0, 256 * kib), bw(10'000'000, 0));
  add("bidir_1MB_each_10ms", make(27, 10ms, mb, mb, 256 * kib), none);
  add("bidir_loss2_300KB_each_20ms", make(28, 20ms, 300'000, 300'000, 64 * kib),
      both([](sim::link_config& l) { l.loss = 0.02; }));
  add("asymmetric_latency_10_100ms_1MB", make(29, 10ms, mb, 0, 256 * kib), [](transfer_config& c) { c.s2c.latency = 100ms; });
  add("mixed_all_impairments_300KB_each", make(30, 20ms, 300'000, 300'000, 64 * kib), both([](sim::link_config& l) {
        l.loss = 0.02;
        l.duplicate = 0.02;
        l.reorder = 0.05;
        l.corrupt = 0.01;
        l.bandwidth_bps = 10'000'000;
        l.queue_limit_bytes = 256 * kib;
      }));
  return v;
}

struct golden_row {
  std::string name;
  double completion_ms = 0;
  double throughput = 0;  // bytes per virtual second, both directions
  std::uint64_t retrans_client = 0;
  std::uint64_t retrans_server = 0;
  std::uint64_t segs_client = 0;
  std::uint64_t segs_server = 0;
  std::string params;
};

constexpr const char* header =
    "name\tcompletion_ms\tthroughput_Bps\tretrans_client\tretrans_server\tsegs_client\tsegs_server\tparams";

std::string format_row(const golden_row& r) {
  return fmt::format("{}\t{:.3f}\t{:.0f}\t{}\t{}\t{}\t{}\t{}", r.name, r.completion_ms, r.throughput, r.retrans_client,
                     r.retrans_server, r.segs_client, r.segs_server, r.params);
}

std::optional<golden_row> parse_row(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, '\t');) f.push_back(cell);
  if (f.size() != 8) return std::nullopt;
  golden_row r;
  r.name = f[0];
  r.completion_ms = std::stod(f[1]);
  r.throughput = std::stod(f[2]);
  r.retrans_client = std::stoull(f[3]);
  r.retrans_server = std::stoull(f[4]);
  r.segs_client = std::stoull(f[5]);
  r.segs_server = std::stoull(f[6]);
  r.params = f[7];
  return r;
}

std::filesystem::path table_path() { return std::filesystem::path(__FILE__).parent_path() / "golden" / "transfer.tsv"; }

std::map<std::string, golden_row> read_table() {
  std::map<std::string, golden_row> t;
  std::ifstream in(table_path());
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line == header) continue;
    if (auto r = parse_row(line)) t[r->name] = *r;
  }
  return t;
}

bool worse(double now, double was, double slack) { return now > was * (1 + tolerance) && now - was > slack; }
bool better(double now, double was, double slack) { return now < was * (1 - tolerance) && was - now > slack; }

TEST(transfer_golden, within_tolerance_of_the_checked_in_table) {
  std::vector<golden_row> rows;
  for (const golden_case& gc : cases()) {
    const transfer_outcome o = run_transfer(gc.cfg);
    const std::string problems = check_outcome(gc.cfg, o);
    EXPECT_EQ(problems, "") << gc.name << "\n  config: " << describe(gc.cfg) << "\n  outcome: " << o.summary();
    rows.push_back(golden_row{gc.name, o.transfer_done ? static_cast<double>(o.transfer_done->us) / 1000.0 : -1.0,
                              o.throughput(), o.client.counters.retrans_segs, o.server.counters.retrans_segs,
                              o.client.counters.out_segs, o.server.counters.out_segs, describe(gc.cfg)});
  }

  const char* update = std::getenv("SYNACK_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream out(table_path(), std::ios::trunc);
    ASSERT_TRUE(out) << "cannot write " << table_path();
    out << header << "\n";
    for (const auto& r : rows) out << format_row(r) << "\n";
    std::cout << "[ golden ] wrote " << rows.size() << " rows to " << table_path() << "\n";
    return;
  }

  const auto table = read_table();
  ASSERT_FALSE(table.empty()) << "no golden table at " << table_path()
                              << "; generate it with SYNACK_UPDATE_GOLDEN=1";
  std::string regressions;
  std::string notices;
  for (const auto& r : rows) {
    const auto it = table.find(r.name);
    if (it == table.end()) {
      regressions += fmt::format("  {}: not in the table (regenerate with SYNACK_UPDATE_GOLDEN=1)\n", r.name);
      continue;
    }
    const golden_row& g = it->second;
    if (g.params != r.params) {
      regressions += fmt::format("  {}: parameters changed (regenerate with SYNACK_UPDATE_GOLDEN=1)\n    table: {}\n    now:   {}\n",
                                 r.name, g.params, r.params);
      continue;
    }
    auto compare = [&](const char* what, double now, double was, double slack) {
      const double change = was != 0 ? (now - was) / was * 100 : 0;
      if (worse(now, was, slack)) {
        regressions += fmt::format("  {} {}: {} -> {} ({:+.1f}%)\n", r.name, what, was, now, change);
      } else if (better(now, was, slack)) {
        notices += fmt::format("  {} {}: {} -> {} ({:+.1f}%)\n", r.name, what, was, now, change);
      }
    };
    compare("completion_ms", r.completion_ms, g.completion_ms, time_slack_ms);
    compare("retrans_client", static_cast<double>(r.retrans_client), static_cast<double>(g.retrans_client),
            static_cast<double>(retrans_slack));
    compare("retrans_server", static_cast<double>(r.retrans_server), static_cast<double>(g.retrans_server),
            static_cast<double>(retrans_slack));
  }
  for (const auto& [name, g] : table) {
    bool present = false;
    for (const auto& r : rows) present = present || r.name == name;
    if (!present) notices += fmt::format("  {}: in the table but no longer run\n", name);
  }
  if (!notices.empty()) {
    std::cout << "[ golden ] better than the table by more than " << tolerance * 100
              << "% — regenerate it with SYNACK_UPDATE_GOLDEN=1 to lock this in:\n"
              << notices;
  }
  EXPECT_TRUE(regressions.empty()) << "worse than the golden table (" << table_path() << ") by more than "
                                   << tolerance * 100 << "%:\n"
                                   << regressions
                                   << "If the change is intended, regenerate with SYNACK_UPDATE_GOLDEN=1 and review "
                                      "the diff.";
}

// The table format round-trips, so a regenerated table reads back as written.
TEST(transfer_golden, row_format_round_trips) {
  const golden_row r{"x", 12.5, 1000, 3, 4, 100, 200, "seed=1 a b"};
  const auto p = parse_row(format_row(r));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(format_row(*p), format_row(r));
}

}  // namespace
}  // namespace synack
