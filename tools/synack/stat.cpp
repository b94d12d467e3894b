// `synack stat`: the connection table and counters of running serve/connect processes, read
// through their control sockets (like `ss -tan` for the kernel).
#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "control.hpp"

namespace synack::tools {
namespace {

struct stat_options {
  std::string ctl;
  std::vector<std::string> states;
  bool json = false;
  bool listeners = false;
  bool internals = false;
  bool no_header = false;
  bool summary = false;
  std::optional<std::uint16_t> sport;
  std::optional<std::uint16_t> dport;
  std::string src;
  std::string dst;
  double watch_s = 0;
  std::size_t count = 0;  // with --watch: this many rounds (0: until interrupted)
  bool delta = false;
};

// The counters of a JSON answer ("counters":{"name":N,...}) as name -> value, for --delta.
std::map<std::string, std::uint64_t> counters_of(const std::string& json) {
  std::map<std::string, std::uint64_t> out;
  const auto at = json.find("\"counters\":{");
  if (at == std::string::npos) return out;
  static const std::regex pair{"\"([a-z0-9_.]+)\":([0-9]+)"};
  const auto end = json.find('}', at);  // drop_reasons is nested: its own '}' ends the scan early
  const auto drops = json.find("\"drop_reasons\":{", at);
  const std::string body = json.substr(at, (drops != std::string::npos && drops < end ? json.find('}', drops) : end) - at);
  for (std::sregex_iterator it{body.begin(), body.end(), pair}, e; it != e; ++it) {
    out[(*it)[1].str()] = std::stoull((*it)[2].str());
  }
  return out;
}

// Like nstat: the counters that moved since the previous round, with their rate.
void print_delta(const std::string& who, const std::map<std::string, std::uint64_t>& before,
                 const std::map<std::string, std::uint64_t>& now, double seconds) {
  fmt::print("# {} counters, change in {:.1f} s\n", who, seconds);
  bool any = false;
  for (const auto& [k, v] : now) {
    auto it = before.find(k);
    const std::uint64_t was = it == before.end() ? 0 : it->second;
    if (v == was || k == "curr_estab") continue;
    fmt::print("{:<32} {:>12} {:>12.1f}/s\n", k, static_cast<std::int64_t>(v - was), static_cast<double>(v - was) / seconds);
    any = true;
  }
  if (!any) fmt::print("(no change)\n");
}

int run_stat(const stat_options& o) {
  stat_request req;
  req.json = o.json;
  req.listeners = o.listeners;
  req.internals = o.internals;
  req.no_header = o.no_header;
  req.summary = o.summary;
  req.sport = o.sport;
  req.dport = o.dport;
  if (o.listeners && !o.states.empty()) {
    fmt::print(stderr, "synack stat: --listeners and --state do not go together\n");
    return exit_usage;
  }
  if (o.delta && (o.json || o.watch_s <= 0)) {
    fmt::print(stderr, "synack stat: --delta needs --watch and text output\n");
    return exit_usage;
  }
  for (const auto& name : o.states) {
    auto k = parse_tcp_state(name);
    if (!k) {
      fmt::print(stderr, "synack stat: unknown state '{}' (RFC names such as TIME-WAIT, ESTABLISHED)\n", name);
      return exit_usage;
    }
    req.states.push_back(*k);
  }
  for (auto [text, field] : {std::pair{&o.src, &req.src}, std::pair{&o.dst, &req.dst}}) {
    if (text->empty()) continue;
    *field = ip_addr::parse(*text);
    if (!*field) {
      fmt::print(stderr, "synack stat: '{}' is not an IPv4 or IPv6 address\n", *text);
      return exit_usage;
    }
  }
  std::vector<std::string> paths;
  if (!o.ctl.empty()) {
    paths.push_back(o.ctl);
  } else {
    paths = control_sockets(default_ctl_dir());
    if (paths.empty()) {
      fmt::print(stderr, "synack stat: no running synack process (no socket in {}; use --ctl PATH)\n",
                 default_ctl_dir());
      return 1;
    }
  }
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  std::map<std::string, std::map<std::string, std::uint64_t>> last;
  auto last_time = std::chrono::steady_clock::now();
  int code = 0;
  for (std::size_t round = 0;; ++round) {
    code = 0;
    if (o.watch_s > 0 && tty) fmt::print("\033[H\033[2J");
    const auto t = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(t - last_time).count();
    last_time = t;
    for (std::size_t i = 0; i < paths.size(); ++i) {
      auto r = control_query(paths[i], req.encode());
      if (!r) {
        fmt::print(stderr, "synack stat: {}\n", r.error());
        code = 1;
        continue;
      }
      if (r->rfind("error:", 0) == 0) code = 1;
      if (o.json && paths.size() > 1) fmt::print("{}", i == 0 ? "[" : ",");
      fmt::print("{}", *r);
      if (o.json && paths.size() > 1 && i + 1 == paths.size()) fmt::print("]\n");
      if (o.delta) {
        stat_request counters_only;
        counters_only.json = true;
        counters_only.listeners = true;  // the fewest rows
        auto j = control_query(paths[i], counters_only.encode());
        if (!j) continue;
        auto now = counters_of(*j);
        if (round > 0) print_delta(paths[i], last[paths[i]], now, dt);
        last[paths[i]] = std::move(now);
      }
    }
    std::fflush(stdout);
    if (o.watch_s <= 0 || (o.count > 0 && round + 1 >= o.count)) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(o.watch_s));
  }
  return code;
}

}  // namespace

void add_stat(CLI::App& app) {
  auto o = std::make_shared<stat_options>();
  auto* cmd = app.add_subcommand("stat", "connections and counters of running synack processes (like ss -tan)");
  cmd->footer(fmt::format(
      "Reads the control socket of each running `synack serve`/`synack connect`: by default every\n"
      "PID.sock in {} ($XDG_RUNTIME_DIR/synack if set, else /run/synack).\n"
      "States print with RFC 9293 names (SYN-RECEIVED, TIME-WAIT, ...); Recv-Q/Send-Q are bytes\n"
      "queued (for LISTEN: accept queue and backlog, as ss shows them).\n"
      "Under a SYN flood: --state SYN-RECEIVED lists the half-open connections, --listeners shows\n"
      "each listener's SYN queue, accept queue, backlog and SYN cookies sent and received.",
      default_ctl_dir()));
  cmd->add_option("--ctl", o->ctl, "one control socket instead of all");
  cmd->add_option("--state", o->states, "only connections in these states (repeat or comma-separate: "
                                        "--state ESTABLISHED,TIME-WAIT)")
      ->delimiter(',');
  cmd->add_option("--sport", o->sport, "only this local port");
  cmd->add_option("--dport", o->dport, "only this remote port");
  cmd->add_option("--src", o->src, "only this local address");
  cmd->add_option("--dst", o->dst, "only this remote address");
  cmd->add_flag("-i,--info", o->internals,
                "internals per connection, like ss -i: congestion control, rtt/rttvar, rto, mss, cwnd, "
                "ssthresh, bytes sent/acked/received, retransmissions, windows");
  cmd->add_flag("-H,--no-header", o->no_header, "the rows alone: no title, column header or counters");
  cmd->add_flag("-s,--summary", o->summary, "counts per state (like ss -s), then the counters");
  cmd->add_flag("--json", o->json, "one JSON object per process (schema: docs/architecture.md)");
  cmd->add_flag("--listeners", o->listeners, "one row per listener: SYN queue, accept queue, backlog, SYN cookies");
  cmd->add_option("--watch", o->watch_s, "print again every SECS seconds (until interrupted)")
      ->check(in_range(0.1, 3600.0));
  cmd->add_option("--count", o->count, "with --watch: stop after this many rounds");
  cmd->add_flag("--delta", o->delta, "with --watch: also the counters that changed since the last round and "
                                     "their rates (like nstat)");
  cmd->callback([o] { set_exit_code(run_stat(*o)); });
}

}  // namespace synack::tools
