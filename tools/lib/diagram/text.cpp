// The terminal ladder. Columns: time (ms since the connection's first segment), A's state, the
// arrow, B's state. A state is printed on the row where it changes. The arrow carries as many
// words of the label as fit; the rest go on the lines below it, in the arrow's column.
#include <fmt/format.h>

#include <algorithm>

#include "diagram/render.hpp"

namespace synack::diagram {

namespace {

constexpr int state_width = 12;  // "SYN-RECEIVED"

constexpr ladder_glyphs unicode_glyphs{"─", "▶", "◀", "✗", "↳"};
constexpr ladder_glyphs ascii_glyphs{"-", ">", "<", "x", "^"};

std::string repeat(const char* g, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += g;
  return s;
}

// Greedy packing of words into lines of at most `cap` columns; the first line may be shorter.
std::vector<std::string> pack(const std::vector<std::string>& words, std::size_t first_cap, std::size_t cap) {
  std::vector<std::string> lines(1);
  for (const std::string& w : words) {
    const std::size_t limit = lines.size() == 1 ? first_cap : cap;
    std::string& cur = lines.back();
    if (cur.empty() || cur.size() + 1 + w.size() <= limit) {
      if (!cur.empty()) cur += ' ';
      cur += w;
    } else {
      lines.push_back(w);
    }
  }
  return lines;
}

std::string time_ms(std::int64_t ns) { return fmt::format("{:.3f}", static_cast<double>(ns) / 1e6); }

}  // namespace

const ladder_glyphs& glyphs_for(bool ascii) { return ascii ? ascii_glyphs : unicode_glyphs; }

std::string render_text(const connection& c, const render_options& o) {
  const ladder_glyphs& g = glyphs_for(o.ascii);
  const int width = std::max(o.width, render_options::min_width);
  const std::int64_t t0 = c.segments.empty() ? 0 : c.segments.front().wire.t_ns;
  std::size_t tw = 2;
  for (const segment& s : c.segments) tw = std::max(tw, time_ms(s.wire.t_ns - t0).size());
  const int time_w = static_cast<int>(tw);
  const int arrow_w = width - time_w - 2 * state_width - 4;
  std::string out;
  out += fmt::format("{}: A {} -> B {}, {} segments{}\n", o.source, c.a.to_string(), c.b.to_string(),
                     c.segments.size(), c.opened_in_capture ? "" : " (captured after the handshake: states assumed)");
  if (!c.opened_in_capture) out += "windows: raw fields (no handshake in the capture, scale unknown)\n";
  out += fmt::format("{:>{}}  {:<{}} {:^{}} {}\n", "ms", time_w, "A", state_width, "", arrow_w, "B");
  out += fmt::format("{:>{}}  {:<{}} {:^{}} {}\n", "", time_w, to_string(c.initial_a), state_width, "", arrow_w,
                     to_string(c.initial_b));
  tcp_state last_a = c.initial_a;
  tcp_state last_b = c.initial_b;
  for (const segment& s : c.segments) {
    segment_label l = label_of(c, s, o.absolute);
    std::vector<std::string> words = l.main;
    words.insert(words.end(), l.detail.begin(), l.detail.end());
    // The arrow: 2 line glyphs, a space, the words, a space, at least 2 line glyphs, the head.
    const std::size_t first_cap = static_cast<std::size_t>(std::max(arrow_w - 6, 8));
    const std::vector<std::string> lines = pack(words, first_cap, static_cast<std::size_t>(arrow_w));
    const bool lost = (s.marks & mark::lost) != 0;
    const int fill = arrow_w - 4 - static_cast<int>(lines[0].size());
    std::string arrow;
    if (!s.from_a) arrow += lost ? g.lost : g.left;
    arrow += repeat(g.line, 2) + " " + lines[0] + " " + repeat(g.line, fill - 1);
    if (s.from_a) arrow += lost ? g.lost : g.right;
    const std::string sa = s.state_a != last_a ? std::string(to_string(s.state_a)) : "";
    const std::string sb = s.state_b != last_b ? std::string(to_string(s.state_b)) : "";
    last_a = s.state_a;
    last_b = s.state_b;
    std::string row = fmt::format("{:>{}}  {:<{}} {} {}", time_ms(s.wire.t_ns - t0), time_w, sa, state_width, arrow, sb);
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out += row + "\n";
    for (std::size_t i = 1; i < lines.size(); ++i) {
      out += fmt::format("{:>{}}  {:<{}}   {}\n", "", time_w, "", state_width, lines[i]);
    }
  }
  return out;
}

}  // namespace synack::diagram
