#include "diagram/output.hpp"

#include <fmt/format.h>

#include <fstream>

#include "diagram/capture.hpp"

namespace synack::diagram {

namespace {

bool write_file(const std::string& path, const std::string& text, std::FILE* log, const std::string& who) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) {
    fmt::print(stderr, "{}: cannot write {}\n", who, path);
    return false;
  }
  fmt::print(log, "wrote {}\n", path);
  return true;
}

}  // namespace

std::vector<std::string> svg_paths(const std::string& svg, std::size_t n) {
  if (n == 1) return {svg};
  const auto slash = svg.rfind('/');
  const std::size_t name = slash == std::string::npos ? 0 : slash + 1;
  const auto dot = svg.rfind('.');
  const bool has_ext = dot != std::string::npos && dot > name;  // not a leading dot (".hidden")
  const std::string stem = has_ext ? svg.substr(0, dot) : svg;
  const std::string ext = has_ext ? svg.substr(dot) : "";
  std::vector<std::string> out;
  for (std::size_t i = 1; i <= n; ++i) out.push_back(fmt::format("{}-{}{}", stem, i, ext));
  return out;
}

bool write_ladders(const std::vector<connection>& cs, const render_options& o, const ladder_files& f, std::FILE* log,
                   const std::string& who) {
  if (cs.empty()) {
    fmt::print(stderr, "{}: no TCP connection to draw\n", who);
    return false;
  }
  bool ok = true;
  if (!f.svg.empty()) {
    const auto paths = svg_paths(f.svg, cs.size());
    for (std::size_t i = 0; i < cs.size(); ++i) ok = write_file(paths[i], render_svg(cs[i], o), log, who) && ok;
  }
  if (!f.html.empty()) ok = write_file(f.html, render_html(cs, o), log, who) && ok;
  return ok;
}

bool write_capture_ladders(const std::string& pcap, const ladder_files& f, std::FILE* log, const std::string& who) {
  auto cap = read_capture(pcap);
  if (!cap) {
    fmt::print(stderr, "{}: {}\n", who, cap.error());
    return false;
  }
  render_options o;
  o.source = pcap;
  return write_ladders(group_connections(cap->segments), o, f, log, who);
}

}  // namespace synack::diagram
