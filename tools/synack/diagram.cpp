// `synack diagram`: a ladder diagram of the TCP connections in a capture (pcap or pcapng),
// with each end's state after every segment — in the terminal, as SVG, or as an HTML page.
// With two captures of one connection (one near each end), arrows slope from send to receive
// and segments seen at only one point are drawn lost.
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "commands.hpp"
#include "diagram/output.hpp"

namespace synack::tools {
namespace {

using diagram::capture;
using diagram::connection;
using diagram::endpoint;
using diagram::render_options;
using diagram::segment;
namespace mark = diagram::mark;

struct diagram_options {
  std::vector<std::string> files;
  bool list = false;
  int conn = 0;
  std::string tuple;
  int width = 0;
  bool ascii = false;
  bool absolute_seq = false;
  std::string svg;
  std::string html;
};

int terminal_width() {
  winsize ws{};
  if (isatty(STDOUT_FILENO) != 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS"); c != nullptr && std::atoi(c) > 0) return std::atoi(c);
  return 80;
}

// "ADDR:PORT" or "[V6ADDR]:PORT" with either part "*" or empty; a bare IPv6 address too.
bool endpoint_matches(const std::string& pat, const endpoint& e) {
  std::string addr = pat;
  std::string port;
  if (!pat.empty() && pat.front() == '[') {
    const auto close = pat.find(']');
    addr = pat.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < pat.size() && pat[close + 1] == ':') port = pat.substr(close + 2);
  } else if (const auto colon = pat.rfind(':'); colon != std::string::npos && pat.find(':') == colon) {
    addr = pat.substr(0, colon);  // one colon: ADDR:PORT (more than one: an IPv6 address alone)
    port = pat.substr(colon + 1);
  }
  if (!addr.empty() && addr != "*") {
    const auto want = ip_addr::parse(addr);
    if (!want || *want != e.addr) return false;
  }
  if (!port.empty() && port != "*" && port != std::to_string(e.port)) return false;
  return true;
}

// "A,B": both endpoint patterns match the connection's two ends, in either order.
bool tuple_matches(const std::string& tuple, const connection& c) {
  if (tuple.empty()) return true;
  const auto comma = tuple.find(',');
  const std::string p = tuple.substr(0, comma);
  const std::string q = comma == std::string::npos ? "" : tuple.substr(comma + 1);
  return (endpoint_matches(p, c.a) && endpoint_matches(q, c.b)) || (endpoint_matches(p, c.b) && endpoint_matches(q, c.a));
}

std::string summary(const connection& c) {
  std::size_t retrans = 0;
  bool reset = false;
  for (const segment& s : c.segments) {
    if ((s.marks & mark::retransmission) != 0) ++retrans;
    if ((s.marks & mark::reset) != 0) reset = true;
  }
  const tcp_state a = c.segments.empty() ? c.initial_a : c.segments.back().state_a;
  const tcp_state b = c.segments.empty() ? c.initial_b : c.segments.back().state_b;
  const double secs = c.segments.empty()
                          ? 0.0
                          : static_cast<double>(c.segments.back().wire.t_ns - c.segments.front().wire.t_ns) / 1e9;
  return fmt::format("{} segments, {:.3f} s, {}handshake {}, ends A {} B {}{}{}", c.segments.size(), secs,
                     c.opened_in_capture ? "" : "no ", c.opened_in_capture ? "seen" : "(mid-connection)", to_string(a),
                     to_string(b), retrans > 0 ? fmt::format(", {} retransmitted", retrans) : "", reset ? ", reset" : "");
}

std::int64_t median_transit_ns(const connection& c) {
  std::vector<std::int64_t> v;
  for (const segment& s : c.segments) {
    if (s.t2_ns) v.push_back(*s.t2_ns - s.wire.t_ns);
  }
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

std::optional<capture> load(const std::string& path) {
  auto c = diagram::read_capture(path);
  if (!c) {
    fmt::print(stderr, "synack diagram: {}\n", c.error());
    return std::nullopt;
  }
  if (!c->warning.empty()) fmt::print(stderr, "synack diagram: {}: {}\n", path, c->warning);
  return std::move(*c);
}

int run_diagram(const diagram_options& o) {
  auto cap = load(o.files[0]);
  if (!cap) return 1;
  std::vector<connection> all = diagram::group_connections(cap->segments);
  if (all.empty()) {
    fmt::print(stderr, "synack diagram: no TCP segment in {} ({} packets, link type {}; {} other, {} malformed)\n",
               o.files[0], cap->packets, cap->link_name, cap->not_tcp, cap->malformed);
    return 1;
  }
  if (o.list) {
    fmt::print("{}: {} packets, {} TCP segments, {} connections (link type {})\n", o.files[0], cap->packets,
               cap->segments.size(), all.size(), cap->link_name);
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (!tuple_matches(o.tuple, all[i])) continue;
      fmt::print("{:>4}  {}  {}\n", i + 1, all[i].title(), summary(all[i]));
    }
    return 0;
  }
  if (o.conn > static_cast<int>(all.size())) {
    fmt::print(stderr, "synack diagram: --conn {}: {} has {} connections (1..{}; see --list)\n", o.conn, o.files[0],
               all.size(), all.size());
    return 2;
  }
  std::vector<connection> chosen;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (o.conn > 0 && static_cast<int>(i) + 1 != o.conn) continue;
    if (tuple_matches(o.tuple, all[i])) chosen.push_back(all[i]);
  }
  if (chosen.empty()) {
    fmt::print(stderr, "synack diagram: no connection in {} matches --tuple {} (see --list)\n", o.files[0], o.tuple);
    return 1;
  }
  render_options ro;
  ro.width = o.width > 0 ? o.width : terminal_width();
  ro.ascii = o.ascii;
  ro.absolute = o.absolute_seq;
  ro.source = o.files[0];
  if (o.files.size() == 2) {
    if (chosen.size() != 1) {
      fmt::print(stderr, "synack diagram: {} connections in {}: choose one with --conn N or --tuple (see --list)\n",
                 chosen.size(), o.files[0]);
      return 2;
    }
    auto cap_b = load(o.files[1]);
    if (!cap_b) return 1;
    const connection& at_a = chosen[0];
    std::optional<connection> at_b;
    for (connection& c : diagram::group_connections(cap_b->segments)) {
      if ((c.a == at_a.a && c.b == at_a.b) || (c.a == at_a.b && c.b == at_a.a)) {
        at_b = std::move(c);
        break;
      }
    }
    if (!at_b) {
      fmt::print(stderr, "synack diagram: {} has no connection {}\n", o.files[1], at_a.title());
      return 1;
    }
    // Which file was captured near A is told by the transit times: positive the right way round.
    connection merged = diagram::merge_two_points(at_a, *at_b);
    if (median_transit_ns(merged) < 0) merged = diagram::merge_two_points(*at_b, at_a);
    chosen[0] = std::move(merged);
    ro.source = o.files[0] + " + " + o.files[1];
  }
  if (!o.svg.empty() || !o.html.empty()) {
    // An HTML page holds every connection chosen; an SVG file one.
    if (!o.svg.empty() && chosen.size() != 1) {
      fmt::print(stderr, "synack diagram: --svg: {} connections in {}: choose one with --conn N or --tuple (see --list)\n",
                 chosen.size(), o.files[0]);
      return 2;
    }
    return diagram::write_ladders(chosen, ro, {o.svg, o.html}, stdout, "synack diagram") ? 0 : 1;
  }
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    if (i > 0) fmt::print("\n");
    fmt::print("{}", diagram::render_text(chosen[i], ro));
  }
  return 0;
}

}  // namespace

void add_diagram(CLI::App& app) {
  auto o = std::make_shared<diagram_options>();
  CLI::App* d = app.add_subcommand("diagram", "Draw the TCP connections of a pcap/pcapng capture as ladder diagrams with states");
  d->add_option("files", o->files, "The capture; or two captures of one connection (near each end)")
      ->required()
      ->expected(1, 2)
      ->type_name("FILE [FILE]")
      ->check(CLI::ExistingFile);
  d->add_flag("--list", o->list, "List the connections in the capture");
  d->add_option("--conn", o->conn, "Draw only connection N (numbered as --list shows)")->check(CLI::PositiveNumber);
  d->add_option("--tuple", o->tuple, "Draw only connections between ADDR:PORT,ADDR:PORT (either part may be *)");
  d->add_option("--width", o->width, "Terminal columns (default: the terminal's, else 80)")
      ->check(in_range<int>(render_options::min_width, 1000));
  d->add_flag("--ascii", o->ascii, "Draw with ASCII only");
  d->add_flag("--absolute-seq", o->absolute_seq, "Print absolute sequence numbers (default: relative to each ISN)");
  d->add_option("--svg", o->svg, "Write the ladder as SVG to FILE");
  d->add_option("--html", o->html, "Write a self-contained HTML page (a ladder per connection, segment details, time zoom) to FILE");
  d->callback([o] { set_exit_code(run_diagram(*o)); });
}

}  // namespace synack::tools
