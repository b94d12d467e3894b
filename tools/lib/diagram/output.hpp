#pragma once
// Ladders written to files: what `synack diagram`, `demo`, `serve` and `connect` share.
#include <cstdio>
#include <string>
#include <vector>

#include "diagram/render.hpp"

namespace synack::diagram {

struct ladder_files {
  std::string svg;   // one connection per SVG file
  std::string html;  // one page, every connection
  [[nodiscard]] bool any() const { return !svg.empty() || !html.empty(); }
};

// The SVG files for n connections: `svg` itself for one, else "NAME-1.svg", "NAME-2.svg", ...
// (the number before the extension, if there is one).
[[nodiscard]] std::vector<std::string> svg_paths(const std::string& svg, std::size_t n);

// Writes the ladders of `cs` to the files asked for, saying "wrote FILE" for each on `log`;
// why not on stderr, prefixed with `who`. False if a file could not be written or there is
// nothing to draw.
bool write_ladders(const std::vector<connection>& cs, const render_options& o, const ladder_files& f, std::FILE* log,
                   const std::string& who);

// The ladders of a capture file (`serve`/`connect --svg/--html` draw their own --pcap).
bool write_capture_ladders(const std::string& pcap, const ladder_files& f, std::FILE* log, const std::string& who);

}  // namespace synack::diagram
