#pragma once
// Drawing a connection as a ladder: the two ends as columns, one arrow per segment from its
// sender, each end's state where it changes. Text for the terminal, SVG, and a
// self-contained HTML page (the SVG with hover/click detail and a zoomable time axis).
#include <string>
#include <vector>

#include "diagram/connection.hpp"

namespace synack::diagram {

// The characters a terminal ladder is drawn with: Unicode box drawing and arrows, or ASCII.
struct ladder_glyphs {
  const char* line;   // the shaft
  const char* right;  // the head of an arrow to the right
  const char* left;
  const char* lost;   // where a lost segment ends
  const char* note;   // before an annotation under a row (`synack demo --why`)
};
[[nodiscard]] const ladder_glyphs& glyphs_for(bool ascii);

struct render_options {
  int width = 80;         // terminal columns (text only); at least min_width
  bool ascii = false;     // text only: no box-drawing or arrow glyphs
  bool absolute = false;  // absolute sequence numbers (default: relative to each ISN)
  std::string source;     // the capture file(s), for titles
  static constexpr int min_width = 64;
};

// The words on a segment's arrow: flags, seq, ack, len, win first; then options, SACK blocks
// and marks (which a narrow layout moves to the lines below the arrow).
struct segment_label {
  std::vector<std::string> main;
  std::vector<std::string> detail;
};
[[nodiscard]] segment_label label_of(const connection& c, const segment& s, bool absolute);
// Every field of a segment, one per line (the HTML's detail panel, the SVG's tooltips).
[[nodiscard]] std::string detail_of(const connection& c, const segment& s, std::int64_t t0_ns, bool absolute);
[[nodiscard]] std::string flags_text(std::uint8_t wire_flags);
// A segment's options as words: "mss=1460", "ws=7", "sackOK", "ts=VAL/ECR" (on SYNs; `all_ts`
// for every segment), "sack=L-R" relative to `peer_isn` unless `absolute`.
[[nodiscard]] std::vector<std::string> option_words(const tcp_options& op, bool syn, std::optional<seq_num> peer_isn,
                                                    bool absolute, bool all_ts = false);

[[nodiscard]] std::string render_text(const connection& c, const render_options& o);
[[nodiscard]] std::string render_svg(const connection& c, const render_options& o);
[[nodiscard]] std::string render_html(const connection& c, const render_options& o);
// Several connections on one page, one ladder each, with a list of them.
[[nodiscard]] std::string render_html(const std::vector<connection>& cs, const render_options& o);

}  // namespace synack::diagram
