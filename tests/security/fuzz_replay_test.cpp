// The fuzz targets' properties, run without libFuzzer in every preset (g++, clang, ASan):
// the checked-in seed corpus, the minimised corpus of past campaigns (fuzz/minimised) and every
// input a campaign ever crashed on (fuzz/regressions)
// must pass, the corpus must be what fuzz/driver/seeds.cpp generates, and the stack programs
// must really drive connections through the states the fuzzer is meant to explore.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "driver/seeds.hpp"
#include "driver/stack_driver.hpp"
#include "driver/targets.hpp"

namespace synack::fuzz {
namespace {

namespace fs = std::filesystem;
const fs::path source_dir{SYNACK_SOURCE_DIR};

std::vector<std::byte> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  const std::vector<char> c{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::byte> b(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) b[i] = static_cast<std::byte>(c[i]);
  return b;
}

std::map<std::string, std::vector<std::byte>> files_in(const fs::path& dir) {
  std::map<std::string, std::vector<std::byte>> m;
  if (!fs::is_directory(dir)) return m;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) m[e.path().filename().string()] = read_file(e.path());
  }
  return m;
}

class fuzz_replay : public testing::TestWithParam<std::string_view> {};

TEST_P(fuzz_replay, corpus_is_the_generated_seeds) {
  const auto on_disk = files_in(source_dir / "fuzz" / "corpus" / std::string(GetParam()));
  const auto seeds = seeds_for(GetParam());
  ASSERT_GE(seeds.size(), 4u);
  EXPECT_EQ(on_disk.size(), seeds.size()) << "run fuzz_make_corpus fuzz/corpus to regenerate";
  for (const seed& s : seeds) {
    const auto it = on_disk.find(s.name);
    ASSERT_NE(it, on_disk.end()) << s.name << " missing: run fuzz_make_corpus fuzz/corpus";
    EXPECT_EQ(it->second, s.data) << s.name << " differs from its generator";
  }
}

TEST_P(fuzz_replay, corpus_and_regressions_pass) {
  std::size_t n = 0;
  // fuzz/minimised: what campaigns found beyond the seeds, minimised (libFuzzer -merge=1).
  for (const char* dir : {"corpus", "regressions", "minimised"}) {
    for (const auto& [name, data] : files_in(source_dir / "fuzz" / dir / std::string(GetParam()))) {
      const auto failure = run_target(GetParam(), data);
      EXPECT_FALSE(failure.has_value()) << dir << "/" << name << ": " << failure.value_or("");
      ++n;
    }
  }
  EXPECT_GE(n, 4u);
}

INSTANTIATE_TEST_SUITE_P(targets, fuzz_replay, testing::ValuesIn(target_names),
                         [](const auto& p) { return std::string(p.param); });

TEST(fuzz_driver, unknown_target_is_a_failure) {
  EXPECT_TRUE(run_target("no_such_target", {}).has_value());
}

// Every input is a valid program, the empty one included.
TEST(fuzz_driver, empty_and_truncated_programs_run) {
  EXPECT_FALSE(run_stack_program({}).has_value());
  const auto seeds = seeds_for("stack_fuzz");
  for (const seed& s : seeds) {
    for (std::size_t len = 0; len <= s.data.size(); len += 7) {
      EXPECT_FALSE(run_stack_program(bytes{s.data}.first(len)).has_value()) << s.name << " cut at " << len;
    }
  }
}

// The seed programs reach the states the stack target exists to explore, so mutations of them
// start from there rather than from a listener that never sees a valid segment.
TEST(fuzz_driver, seed_programs_reach_the_synchronized_states) {
  std::string all;
  for (const seed& s : seeds_for("stack_fuzz")) {
    std::ostringstream trace;
    ASSERT_FALSE(run_stack_program(s.data, &trace).has_value()) << s.name;
    all += trace.str();
  }
  for (const char* state : {"SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
                            "LAST-ACK", "TIME-WAIT"}) {
    EXPECT_NE(all.find(std::string(":") + state), std::string::npos) << state << " never reached";
  }
  for (const char* counter : {"tcp:rst_in_window", "tcp:syn_synchronized", "tcp:ack_too_old", "tcp:out_of_window",
                              "host:syn_queue_full", "host:icmp_unmatched", "tcp:time_wait"}) {
    EXPECT_NE(all.find(counter), std::string::npos) << counter << " never counted";
  }
  // Issue #13: Packet Too Big lowers an MSS (IPv4 and IPv6), out-of-order floods are held.
  for (const char* sign : {"inject_ptb", "pmtu_reductions=", "ESTABLISHED(v6)", "ooo_flood", "(ooo="}) {
    EXPECT_NE(all.find(sign), std::string::npos) << sign << " never seen";
  }
}

}  // namespace
}  // namespace synack::fuzz
