// `synack pkt FILE|DIR...`: runs packetdrill scripts against the stack on virtual time
// (src/pkt/), one line per script and a summary; --expect compares with an expectation file
// (path <TAB> verdict <TAB> reason) and fails only when a script recorded as PASS regresses.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "commands.hpp"
#include "synack/pkt/runner.hpp"

namespace synack::tools {
namespace {

namespace fs = std::filesystem;

struct pkt_options {
  std::vector<std::string> paths;
  bool relaxed = false;
  bool json = false;
  bool quiet = false;
  std::int64_t tolerance_us = -1;
  std::vector<std::string> knobs;
  std::string root;
  std::string expect;
  bool update = false;
  bool missing_ok = false;
  bool trace = false;
};

struct outcome {
  std::string name;  // path relative to --root (or as given)
  pkt::run_result r;
};

std::string json_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      o += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      o += c;
    }
  }
  return o;
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\t', ' ');
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

std::vector<fs::path> collect(const std::vector<std::string>& args, const fs::path& root) {
  std::vector<fs::path> out;
  for (const auto& a : args) {
    fs::path p = root.empty() || fs::path(a).is_absolute() ? fs::path(a) : root / a;
    if (fs::is_directory(p)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::recursive_directory_iterator(p)) {
        if (e.is_regular_file() && e.path().extension() == ".pkt") found.push_back(e.path());
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(p);
    }
  }
  return out;
}

std::map<std::string, std::pair<std::string, std::string>> read_expectations(const std::string& file) {
  std::map<std::string, std::pair<std::string, std::string>> m;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto t1 = line.find('\t');
    if (t1 == std::string::npos) continue;
    const auto t2 = line.find('\t', t1 + 1);
    m[line.substr(0, t1)] = {line.substr(t1 + 1, t2 == std::string::npos ? std::string::npos : t2 - t1 - 1),
                            t2 == std::string::npos ? "" : line.substr(t2 + 1)};
  }
  return m;
}

void write_expectations(const std::string& file, const std::vector<outcome>& res) {
  std::ofstream out(file);
  out << "# synack pkt expectations: script <TAB> PASS|FAIL|UNSUPPORTED <TAB> reason\n"
         "# Rewrite with: synack pkt --update-expectations (see docs/conformance.md)\n";
  for (const auto& o : res) {
    out << o.name << '\t' << pkt::to_string(o.r.what) << '\t'
        << (o.r.what == pkt::verdict::pass ? "" : one_line(fmt::format("line {}: {}", o.r.line, o.r.message)))
        << '\n';
  }
}

int run_pkt(const pkt_options& o) {
  const fs::path root = o.root;
  if (!o.root.empty() && !fs::is_directory(root)) {
    fmt::print("SKIPPED: script directory {} is missing\n", o.root);
    return o.missing_ok ? 77 : 2;
  }
  pkt::run_options ro;
  ro.mode = o.relaxed ? pkt::match_mode::relaxed : pkt::match_mode::strict;
  if (o.tolerance_us >= 0) ro.tolerance_us = o.tolerance_us;
  ro.trace = o.trace;
  for (const auto& k : o.knobs) {
    const auto eq = k.find('=');
    ro.knobs.emplace_back(k.substr(0, eq), eq == std::string::npos ? "" : k.substr(eq + 1));
  }
  std::vector<outcome> res;
  for (const auto& p : collect(o.paths, root)) {
    std::ifstream in(p);
    outcome oc;
    oc.name = root.empty() ? p.string() : fs::relative(p, root).string();
    if (!in) {
      oc.r.what = pkt::verdict::fail;
      oc.r.message = "cannot read the file";
    } else {
      std::stringstream ss;
      ss << in.rdbuf();
      oc.r = pkt::run_text(ss.str(), ro);
    }
    res.push_back(std::move(oc));
  }
  std::size_t counts[3] = {0, 0, 0};
  for (const auto& x : res) ++counts[static_cast<int>(x.r.what)];
  if (o.json) {
    fmt::print("{{\"scripts\":[");
    for (std::size_t i = 0; i < res.size(); ++i) {
      const auto& x = res[i];
      std::string rules;
      for (auto r : x.r.relaxed) rules += fmt::format("{}\"{}\"", rules.empty() ? "" : ",", pkt::to_string(r));
      fmt::print("{}{{\"script\":\"{}\",\"verdict\":\"{}\",\"line\":{},\"time_us\":{},\"message\":\"{}\",\"relaxed\":[{}]}}",
                 i ? "," : "", json_escape(x.name), pkt::to_string(x.r.what), x.r.line, x.r.time_us,
                 json_escape(x.r.message), rules);
    }
    fmt::print("],\"pass\":{},\"fail\":{},\"unsupported\":{}}}\n", counts[0], counts[1], counts[2]);
  } else if (!o.quiet) {
    for (const auto& x : res) {
      for (const auto& t : x.r.trace) fmt::print("  {}\n", t);
      if (x.r.what == pkt::verdict::pass) {
        fmt::print("PASS        {}\n", x.name);
      } else {
        fmt::print("{:<11} {}:{}: {}\n", pkt::to_string(x.r.what), x.name, x.r.line, x.r.message);
      }
    }
  }
  if (!o.json) {
    fmt::print("{} scripts: {} passed, {} failed, {} unsupported\n", res.size(), counts[0], counts[1], counts[2]);
  }
  if (o.expect.empty()) return counts[1] == 0 ? 0 : 1;
  const auto exp = read_expectations(o.expect);
  int regressions = 0;
  for (const auto& x : res) {
    const auto it = exp.find(x.name);
    const std::string now{pkt::to_string(x.r.what)};
    if (it != exp.end() && it->second.first == "PASS" && now != "PASS") {
      ++regressions;
      fmt::print("REGRESSION  {}: was PASS, now {} (line {}: {})\n", x.name, now, x.r.line, x.r.message);
    } else if (now == "PASS" && (it == exp.end() || it->second.first != "PASS")) {
      fmt::print("NEW PASS    {} (was {})\n", x.name, it == exp.end() ? "not recorded" : it->second.first);
    }
  }
  if (o.update) {
    write_expectations(o.expect, res);
    fmt::print("wrote {}\n", o.expect);
    return 0;
  }
  if (regressions > 0) fmt::print("{} regression(s) against {}\n", regressions, o.expect);
  return regressions == 0 ? 0 : 1;
}

}  // namespace

void add_pkt(CLI::App& app) {
  auto o = std::make_shared<pkt_options>();
  auto* cmd = app.add_subcommand("pkt", "Run packetdrill scripts against the stack on virtual time");
  cmd->add_option("paths", o->paths, "Scripts or directories of .pkt files")->required();
  cmd->add_flag("--relaxed", o->relaxed,
                "Relaxed matching for scripts written against another OS (docs/conformance.md lists the rules)");
  cmd->add_flag("--trace", o->trace, "Print every event run and every segment sent (virtual time)");
  cmd->add_flag("--json", o->json, "One JSON object with every result");
  cmd->add_flag("-q,--quiet", o->quiet, "Only the summary (and regressions with --expect)");
  cmd->add_option("--tolerance-usecs", o->tolerance_us, "Override the scripts' --tolerance_usecs");
  cmd->add_option("--knob", o->knobs, "Host knob key=value, as a `// synack: key=value` line (repeatable)");
  cmd->add_option("--root", o->root, "Directory the paths (and expectation keys) are relative to");
  cmd->add_option("--expect", o->expect, "Expectation file: fail only when a script recorded as PASS regresses");
  cmd->add_flag("--update-expectations", o->update, "Rewrite the --expect file with this run's results");
  cmd->add_flag("--missing-ok", o->missing_ok, "Exit 77 (skipped) when --root does not exist");
  cmd->callback([o] { set_exit_code(run_pkt(*o)); });
}

}  // namespace synack::tools
