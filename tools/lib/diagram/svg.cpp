// The ladder as SVG, and as an HTML page around the same SVG. Time runs down. The vertical
// axis is piecewise proportional to time: each step between two event times is its duration
// times a scale, but at least `min_step` (labels never overlap) and at most `max_step` (an idle
// minute does not make the page a kilometre long). The page's script repeats the layout with
// the scale the zoom slider sets.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "diagram/render.hpp"

namespace synack::diagram {

namespace {

constexpr double svg_width = 1000;
constexpr double x_a = 230;
constexpr double x_b = 770;
constexpr double top = 80;
constexpr double min_step = 34;
constexpr double max_step = 240;

std::string esc(std::string_view s) {
  std::string o;
  for (char ch : s) {
    switch (ch) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += ch;
    }
  }
  return o;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& w : v) {
    if (!s.empty()) s += ' ';
    s += w;
  }
  return s;
}

double ms_since(std::int64_t t, std::int64_t t0) { return static_cast<double>(t - t0) / 1e6; }

// One event per segment sent, and one per segment received when a second capture point gives
// receive times; events at the same time still get rows of their own, in capture order.
struct axis_event {
  double t;
  std::size_t seg;
  int end;  // 0: sent, 1: received
};

struct time_axis {
  std::map<std::pair<std::size_t, int>, double> y;
  double bottom = top;
  [[nodiscard]] double at(std::size_t seg, int end) const { return y.at({seg, end}); }
};

// Default scale: the median step between events takes min_step pixels.
time_axis make_axis(const connection& c, std::int64_t t0) {
  std::vector<axis_event> ev;
  for (std::size_t i = 0; i < c.segments.size(); ++i) {
    const segment& s = c.segments[i];
    ev.push_back({ms_since(s.wire.t_ns, t0), i, 0});
    if (s.t2_ns && (s.marks & mark::lost) == 0) ev.push_back({ms_since(*s.t2_ns, t0), i, 1});
  }
  std::stable_sort(ev.begin(), ev.end(), [](const axis_event& x, const axis_event& y) { return x.t < y.t; });
  std::vector<double> steps;
  for (std::size_t i = 1; i < ev.size(); ++i) {
    if (ev[i].t > ev[i - 1].t) steps.push_back(ev[i].t - ev[i - 1].t);
  }
  double scale = 1;
  if (!steps.empty()) {
    std::nth_element(steps.begin(), steps.begin() + static_cast<std::ptrdiff_t>(steps.size() / 2), steps.end());
    scale = min_step / steps[steps.size() / 2];
  }
  time_axis a;
  double y = top;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    if (i > 0) y += std::clamp((ev[i].t - ev[i - 1].t) * scale, min_step, max_step);
    a.y[{ev[i].seg, ev[i].end}] = y;
  }
  a.bottom = y;
  return a;
}

std::string marks_class(const segment& s) {
  std::string cls;
  for (std::string m : mark_names(s)) {
    if (m.rfind("dup-ack", 0) == 0) m = "dup-ack";
    if (m == "D-SACK") m = "dsack";
    cls += " m-" + m;
  }
  return cls;
}

constexpr const char* svg_style = R"(
  text { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; fill: #222; }
  .end { font-weight: bold; font-size: 13px; }
  .rail { stroke: #888; stroke-width: 1.5; }
  .state { font-weight: bold; fill: #1f5fa8; }
  .tm { fill: #777; font-size: 11px; }
  .lb, .dt { paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
  .dt { fill: #555; font-size: 11px; }
  .seg .ln { stroke: #333; stroke-width: 1.4; }
  .seg.m-retransmission .ln, .seg.m-lost .ln { stroke: #c0392b; }
  .seg.m-out-of-order .ln { stroke: #d68910; stroke-dasharray: 5 3; }
  .seg.m-dup-ack .ln { stroke: #d68910; }
  .seg.m-reset .ln { stroke: #7b241c; stroke-width: 2.2; }
  .seg.m-zero-window .ln, .seg.m-window-probe .ln { stroke: #7d3c98; }
  .seg.m-keep-alive .ln { stroke: #117a65; stroke-dasharray: 2 3; }
  .seg .x { fill: #c0392b; font-weight: bold; font-size: 16px; }
  .seg:hover .ln, .seg.sel .ln { stroke-width: 3; }
  .seg:hover text, .seg.sel text { fill: #000; }
)";

std::string svg_body(const connection& c, const render_options& o, const std::string& id) {
  const std::int64_t t0 = c.segments.empty() ? 0 : c.segments.front().wire.t_ns;
  const time_axis ax = make_axis(c, t0);
  const double height = ax.bottom + 50;
  std::string s;
  s += fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" class="ladder" id="{3}" width="{0}" height="{1:.0f}" viewBox="0 0 {0} {1:.0f}" data-segments="{2}">)",
                   svg_width, height, c.segments.size(), id);
  s += "\n<style>" + std::string(svg_style) + "</style>\n";
  s += R"(<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>)";
  s += "\n";
  s += fmt::format(R"(<text x="12" y="20" class="end">{}</text>)", esc(o.source)) + "\n";
  s += fmt::format(R"(<text x="{}" y="44" class="end" text-anchor="middle">A {}</text>)", x_a, c.a.to_string()) + "\n";
  s += fmt::format(R"(<text x="{}" y="44" class="end" text-anchor="middle">B {}</text>)", x_b, c.b.to_string()) + "\n";
  s += fmt::format(R"(<text x="12" y="44" class="tm">ms</text>)") + "\n";
  s += fmt::format(R"(<line class="rail" id="rail-a" x1="{0}" y1="52" x2="{0}" y2="{1:.1f}"/>)", x_a, height - 20) + "\n";
  s += fmt::format(R"(<line class="rail" id="rail-b" x1="{0}" y1="52" x2="{0}" y2="{1:.1f}"/>)", x_b, height - 20) + "\n";
  s += fmt::format(R"(<text class="state a" x="{}" y="66" text-anchor="end">{}</text>)", x_a - 8, to_string(c.initial_a)) + "\n";
  s += fmt::format(R"(<text class="state b" x="{}" y="66">{}</text>)", x_b + 8, to_string(c.initial_b)) + "\n";
  tcp_state last_a = c.initial_a;
  tcp_state last_b = c.initial_b;
  for (std::size_t i = 0; i < c.segments.size(); ++i) {
    const segment& g = c.segments[i];
    const double t = ms_since(g.wire.t_ns, t0);
    const bool lost = (g.marks & mark::lost) != 0;
    const bool two = g.t2_ns && !lost;
    const double t2 = two ? ms_since(*g.t2_ns, t0) : t;
    const double y1 = ax.at(i, 0);
    const double y2 = lost ? y1 + 12 : two ? ax.at(i, 1) : y1;
    const double xs = g.from_a ? x_a : x_b;
    const double xe_full = g.from_a ? x_b : x_a;
    const double xe = lost ? (xs + xe_full) / 2 : xe_full;
    const segment_label l = label_of(c, g, o.absolute);
    s += fmt::format(R"(<g class="seg{}" id="seg{}" data-i="{}" data-t="{:.6f}"{} data-lost="{}">)", marks_class(g), i,
                     i, t, two ? fmt::format(R"( data-t2="{:.6f}")", t2) : "", lost ? 1 : 0);
    s += "<title>" + esc(detail_of(c, g, t0, o.absolute)) + "</title>";
    s += fmt::format(R"(<text class="tm" x="12" y="{:.1f}">{:.3f}</text>)", y1 + 4, t);
    s += fmt::format(R"~(<line class="ln" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}"{}/>)~", xs, y1, xe, y2,
                     lost ? "" : R"~( marker-end="url(#head)")~");
    const double mid = (y1 + y2) / 2;
    s += fmt::format(R"(<text class="lb" x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", (x_a + x_b) / 2,
                     mid - 5, esc(join(l.main)));
    if (!l.detail.empty()) {
      s += fmt::format(R"(<text class="dt" x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", (x_a + x_b) / 2,
                       mid + 13, esc(join(l.detail)));
    }
    if (lost) s += fmt::format(R"(<text class="x" x="{:.1f}" y="{:.1f}" text-anchor="middle">✗</text>)", xe, y2 + 5);
    s += "</g>\n";
    // A state changes where its end sent or received the segment.
    if (g.state_a != last_a) {
      const double ys = g.from_a ? y1 : y2;
      s += fmt::format(R"(<text class="state a" data-ref="{}:{}" x="{}" y="{:.1f}" text-anchor="end">{}</text>)", i,
                       g.from_a || !two ? 0 : 1, x_a - 8, ys + 4, to_string(g.state_a)) + "\n";
    }
    if (g.state_b != last_b) {
      const double ys = g.from_a ? y2 : y1;
      s += fmt::format(R"(<text class="state b" data-ref="{}:{}" x="{}" y="{:.1f}">{}</text>)", i,
                       !g.from_a || !two ? 0 : 1, x_b + 8, ys + 4, to_string(g.state_b)) + "\n";
    }
    last_a = g.state_a;
    last_b = g.state_b;
  }
  s += "</svg>\n";
  return s;
}

// The page's behaviour: click a segment for its detail, zoom the time axis. The layout rule
// is make_axis's, with the scale multiplied by the zoom.
constexpr const char* page_script = R"JS(
(function () {
  const MIN = 34, MAX = 240, TOP = 80;
  // One layout function per ladder (one per connection).
  function ladder(svg) {
    const segs = Array.from(svg.querySelectorAll('g.seg'));
    const states = Array.from(svg.querySelectorAll('text.state[data-ref]'));
    const events = [];
    segs.forEach((g, i) => {
      events.push([+g.dataset.t, i, 0]);
      if (g.dataset.t2 !== undefined) events.push([+g.dataset.t2, i, 1]);
    });
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    const steps = events.slice(1).map((e, i) => e[0] - events[i][0]).filter(d => d > 0).sort((a, b) => a - b);
    const base = steps.length ? MIN / steps[Math.floor(steps.length / 2)] : 1;
    return function layout(zoom) {
      const scale = base * zoom, maxStep = MAX * Math.max(1, zoom);
      const ys = new Map();
      let y = TOP;
      events.forEach((e, i) => {
        if (i > 0) y += Math.min(Math.max((e[0] - events[i - 1][0]) * scale, MIN), maxStep);
        ys.set(e[1] + ':' + e[2], y);
      });
      segs.forEach((g, i) => {
        const y1 = ys.get(i + ':0');
        const y2 = g.dataset.lost === '1' ? y1 + 12 : ys.get(i + (g.dataset.t2 !== undefined ? ':1' : ':0'));
        const ln = g.querySelector('.ln');
        ln.setAttribute('y1', y1); ln.setAttribute('y2', y2);
        g.querySelector('.tm').setAttribute('y', y1 + 4);
        const mid = (y1 + y2) / 2;
        g.querySelector('.lb').setAttribute('y', mid - 5);
        const dt = g.querySelector('.dt'); if (dt) dt.setAttribute('y', mid + 13);
        const x = g.querySelector('.x'); if (x) x.setAttribute('y', y2 + 5);
      });
      for (const s of states) s.setAttribute('y', ys.get(s.dataset.ref) + 4);
      const h = y + 50;
      svg.setAttribute('height', h); svg.setAttribute('viewBox', '0 0 1000 ' + h);
      for (const r of svg.querySelectorAll('.rail')) r.setAttribute('y2', h - 20);
    };
  }
  const svgs = Array.from(document.querySelectorAll('svg.ladder'));
  const layouts = svgs.map(ladder);
  const all = Array.from(document.querySelectorAll('svg.ladder g.seg'));
  const detail = document.getElementById('detail');
  for (const g of all) {
    g.addEventListener('click', () => {
      for (const o of all) o.classList.remove('sel');
      g.classList.add('sel');
      detail.textContent = g.querySelector('title').textContent;
    });
  }
  const zoom = document.getElementById('zoom'), zl = document.getElementById('zoomlabel');
  zoom.addEventListener('input', () => {
    const z = Math.pow(10, +zoom.value / 50);
    zl.textContent = z.toFixed(2) + 'x';
    for (const f of layouts) f(z);
  });
  for (const f of layouts) f(1);
  document.body.dataset.arrows = String(document.querySelectorAll('svg.ladder g.seg line.ln').length);
  document.body.dataset.ready = '1';
})();
)JS";

}  // namespace

std::string render_svg(const connection& c, const render_options& o) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>)" "\n" + svg_body(c, o, "ladder");
}

std::string render_html(const std::vector<connection>& cs, const render_options& o) {
  std::size_t total = 0;
  for (const connection& c : cs) total += c.segments.size();
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<title>synack diagram: " + esc(cs.size() == 1 ? cs[0].title() : o.source) + "</title>\n";
  h += R"(<style>
  body { margin: 0; font-family: system-ui, sans-serif; display: flex; }
  #main { flex: 1; overflow: auto; height: 100vh; }
  #main h2 { font-size: 15px; margin: 14px 12px 0; }
  #side { width: 340px; border-left: 1px solid #ccc; padding: 10px; height: 100vh; box-sizing: border-box; overflow: auto; }
  #detail { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12px; }
  .seg { cursor: pointer; }
</style></head>
)";
  h += fmt::format("<body data-segments=\"{}\" data-connections=\"{}\">\n<div id=\"main\">\n", total, cs.size());
  for (std::size_t i = 0; i < cs.size(); ++i) {
    if (cs.size() > 1) h += fmt::format("<h2 id=\"conn{}\">{}. {}</h2>\n", i + 1, i + 1, esc(cs[i].title()));
    h += svg_body(cs[i], o, fmt::format("ladder{}", i + 1));
  }
  h += "</div>\n<div id=\"side\">\n";
  if (cs.size() == 1) {
    h += "<p><b>" + esc(cs[0].title()) + "</b><br>" + fmt::format("{} segments", cs[0].segments.size()) + "</p>\n";
  } else {
    h += fmt::format("<p><b>{}</b>: {} connections, {} segments</p>\n<ol>\n", esc(o.source), cs.size(), total);
    for (std::size_t i = 0; i < cs.size(); ++i) {
      h += fmt::format("<li><a href=\"#conn{}\">{}</a> ({})</li>\n", i + 1, esc(cs[i].title()), cs[i].segments.size());
    }
    h += "</ol>\n";
  }
  h += R"(<p><label>time zoom <input id="zoom" type="range" min="-100" max="150" value="0"></label> <span id="zoomlabel">1.00x</span></p>
<p>Hover a segment for its fields; click to keep them here.</p>
<div id="detail"></div>
</div>
<script>)";
  h += page_script;
  h += "</script>\n</body></html>\n";
  return h;
}

std::string render_html(const connection& c, const render_options& o) { return render_html(std::vector{c}, o); }

}  // namespace synack::diagram
