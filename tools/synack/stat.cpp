// `synack stat`: the connection table and counters of running serve/connect processes, read
// through their control sockets (like `ss -tan` for the kernel).
#include <fmt/format.h>

#include <cstdio>

#include "commands.hpp"
#include "control.hpp"

namespace synack::tools {
namespace {

struct stat_options {
  std::string ctl;
  std::string state;
  bool json = false;
  bool listeners = false;
};

int run_stat(const stat_options& o) {
  if (o.listeners && !o.state.empty()) {
    fmt::print(stderr, "synack stat: --listeners and --state do not go together\n");
    return exit_usage;
  }
  if (!o.state.empty() && !parse_tcp_state(o.state)) {
    fmt::print(stderr, "synack stat: unknown state '{}' (RFC names such as TIME-WAIT, ESTABLISHED)\n", o.state);
    return exit_usage;
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
  const std::string req = fmt::format("stat {} {}", o.json ? "json" : "text", o.listeners ? "listeners" : o.state);
  int code = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    auto r = control_query(paths[i], req);
    if (!r) {
      fmt::print(stderr, "synack stat: {}\n", r.error());
      code = 2;
      continue;
    }
    if (r->rfind("error:", 0) == 0) code = 1;
    if (o.json && paths.size() > 1) fmt::print("{}", i == 0 ? "[" : ",");
    fmt::print("{}", *r);
    if (o.json && paths.size() > 1 && i + 1 == paths.size()) fmt::print("]\n");
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
  cmd->add_option("--state", o->state, "only connections in this state (e.g. TIME-WAIT)");
  cmd->add_flag("--json", o->json, "one JSON object per process");
  cmd->add_flag("--listeners", o->listeners, "one row per listener: SYN queue, accept queue, backlog, SYN cookies");
  cmd->callback([o] { set_exit_code(run_stat(*o)); });
}

}  // namespace synack::tools
