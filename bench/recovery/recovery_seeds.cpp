// Loss recovery over many seeds: each impaired transfer of the golden table's kind, run with
// `seeds` different random draws, once with a tcp_config feature off and once on — the Tail
// Loss Probe (RFC 8985 §7), Proportional Rate Reduction (RFC 6937 / 9937), the undo of
// spurious retransmissions (RFC 3708, RFC 3522), RACK (RFC 8985 §6), F-RTO (RFC 5682) or the
// DupThresh adapted to reordering without RACK, SACKs kept across a timeout, or pacing — in virtual
// time. One seed is a single path
// through chaos (a probe changes every later loss draw); the mean and median over seeds say
// whether a change helps. Deterministic: the same numbers on every machine
// (docs/performance.md).
// Usage: recovery_seeds [SEEDS [tlp|prr|undo|prr+undo|rack|rack+prr|frto|dupthresh|frto+dupthresh|keepsack|rprobe|pacing]]
//        (default 40 tlp)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string_view>
#include <vector>

#include "transfer_matrix.hpp"

namespace {

using namespace synack;
using namespace std::chrono_literals;

struct scenario {
  const char* name;
  double loss;
  double corrupt;
  std::uint64_t c2s;
  std::uint64_t s2c;
  duration latency;
  double reorder = 0;
  double duplicate = 0;
};

enum class feature { tlp, prr, undo, prr_undo, rack, rack_prr, frto, dupthresh, frto_dupthresh, keepsack, rprobe, pacing };

void set_feature(tcp_config& t, feature f, bool on) {
  switch (f) {
    case feature::tlp: t.tail_loss_probe = on; return;
    case feature::prr: t.prr = on; return;
    case feature::undo: t.undo_spurious = on; return;
    case feature::prr_undo: t.prr = t.undo_spurious = on; return;
    case feature::rack: t.rack = on; t.prr = false; return;  // RACK alone, PRR off both ways
    case feature::rack_prr: t.rack = t.prr = on; return;     // the code before RACK and after
    // F-RTO where it acts: without timestamps (with them Eifel decides) both ways.
    case feature::frto: t.frto = on; t.timestamps = false; return;
    case feature::dupthresh: t.adaptive_dupthresh = on; t.rack = false; return;  // RACK off both ways
    case feature::frto_dupthresh: t.frto = t.adaptive_dupthresh = on; return;     // before step 7 and after
    case feature::keepsack: t.rto_keeps_sack = on; return;
    case feature::rprobe: t.recovery_probe = on; return;
    case feature::pacing: t.pacing = on; return;
  }
}

struct stats {
  double mean = 0;
  double median = 0;
  int failed = 0;
};

stats run(const scenario& s, int seeds, feature f, bool on) {
  std::vector<double> t;
  stats st;
  for (int seed = 1; seed <= seeds; ++seed) {
    transfer_config c = base_config(static_cast<std::uint64_t>(seed));
    c.c2s = link(s.latency);
    c.c2s.loss = s.loss;
    c.c2s.corrupt = s.corrupt;
    c.c2s.reorder = s.reorder;
    c.c2s.duplicate = s.duplicate;
    c.s2c = c.c2s;
    c.bytes_c2s = s.c2s;
    c.bytes_s2c = s.s2c;
    set_buffers(c, 64 * 1024);
    set_feature(c.client_tcp, f, on);
    set_feature(c.server_tcp, f, on);
    const transfer_outcome o = run_transfer(c);
    if (!o.completed) {
      ++st.failed;
      continue;
    }
    t.push_back(o.transfer_seconds());
  }
  if (t.empty()) return st;
  for (const double x : t) st.mean += x;
  st.mean /= static_cast<double>(t.size());
  std::sort(t.begin(), t.end());
  st.median = t[t.size() / 2];
  return st;
}

}  // namespace

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 40;
  const std::string_view which = argc > 2 ? argv[2] : "tlp";
  struct mode {
    std::string_view name;
    feature f;
    const char* title;
  };
  constexpr mode modes[] = {
      {"tlp", feature::tlp, "Tail Loss Probe (RFC 8985 §7)"},
      {"prr", feature::prr, "Proportional Rate Reduction (RFC 6937 / 9937)"},
      {"undo", feature::undo, "Undo of spurious retransmissions (RFC 3708, RFC 3522)"},
      {"prr+undo", feature::prr_undo, "PRR and undo together (the code before issue #12 step 3 and after)"},
      {"rack", feature::rack, "RACK time-based loss detection (RFC 8985 §6), PRR off"},
      {"rack+prr", feature::rack_prr, "RACK and PRR together (the code before issue #12 step 5 and after)"},
      {"frto", feature::frto, "F-RTO (RFC 5682), timestamps off"},
      {"dupthresh", feature::dupthresh, "DupThresh adapted to reordering, RACK off"},
      {"frto+dupthresh", feature::frto_dupthresh,
       "F-RTO and adaptive DupThresh, default config (the code before issue #12 step 7 and after)"},
      {"keepsack", feature::keepsack, "SACKs kept across a timeout (RFC 8985 §6.3), default config otherwise"},
      {"rprobe", feature::rprobe, "loss probe in recovery (tcp_config::recovery_probe), default config otherwise"},
      {"pacing", feature::pacing, "pacing (tcp_config::pacing), default config otherwise"},
  };
  const auto chosen = std::find_if(std::begin(modes), std::end(modes), [&](const mode& m) { return m.name == which; });
  if (chosen == std::end(modes)) {
    std::fprintf(stderr,
                 "usage: recovery_seeds [SEEDS [tlp|prr|undo|prr+undo|rack|rack+prr|frto|dupthresh|frto+dupthresh|keepsack|rprobe|pacing]]\n");
    return 2;
  }
  const feature f = chosen->f;
  const char* title = chosen->title;
  const scenario cases[] = {
      {"loss1_1MB_20ms", 0.01, 0, 1'000'000, 0, 20ms},     {"loss2_1MB_20ms", 0.02, 0, 1'000'000, 0, 20ms},
      {"loss5_1MB_20ms", 0.05, 0, 1'000'000, 0, 20ms},     {"loss20_100KB_20ms", 0.20, 0, 100'000, 0, 20ms},
      {"corrupt10_300KB_10ms", 0, 0.10, 300'000, 0, 10ms}, {"bidir_loss2_300KB_20ms", 0.02, 0, 300'000, 300'000, 20ms},
      {"reorder5_1MB_20ms", 0, 0, 1'000'000, 0, 20ms, 0.05},
      {"lrd5_1MB_20ms", 0.05, 0, 1'000'000, 0, 20ms, 0.05, 0.05},
  };
  std::printf("%s off and on, %d seeds each, virtual seconds to complete\n", title, seeds);
  std::printf("%-24s %10s %10s %10s %10s %8s %8s\n", "scenario", "mean off", "mean on", "median off", "median on",
              "on/off", "failed");
  for (const scenario& s : cases) {
    const stats off = run(s, seeds, f, false);
    const stats on = run(s, seeds, f, true);
    std::printf("%-24s %10.3f %10.3f %10.3f %10.3f %8.2f %4d/%-3d\n", s.name, off.mean, on.mean, off.median, on.median,
                off.mean > 0 ? on.mean / off.mean : 0.0, off.failed, on.failed);
  }
  return 0;
}
