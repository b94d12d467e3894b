// `synack demo`: the three-way handshake and the four-way close as a ladder diagram, over a
// simulated link in virtual time. No privileges; finishes in well under a second.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "diagram/capture.hpp"
#include "diagram/output.hpp"
#include "echo_scenario.hpp"
#include "why_scenario.hpp"

namespace synack::tools {
namespace {

struct demo_options {
  bool simultaneous_open = false;
  bool simultaneous_close = false;
  bool ipv6 = false;
  double loss = 0.0;
  std::uint64_t seed = 1;
  std::string pcap;
  bool absolute_seq = false;
  bool ascii = false;
  double latency_ms = 10.0;
  double msl_s = 30.0;
  std::string message = "hello, synack";
  std::string why;  // a topic of `--why`
  bool list = false;
  std::string lang = "en";
  std::string svg;
  std::string html;
};


constexpr int state_width = 12;  // "SYN-RECEIVED"
constexpr int arrow_width = 58;  // columns of the segment cell

// Splits UTF-8 text into lines of at most `width` columns: at spaces, or between two
// double-width (CJK) characters, which take two columns each.
std::vector<std::string> wrap(std::string_view text, int width) {
  std::vector<std::string> lines;
  std::string line;
  int cols = 0;
  std::size_t i = 0;
  while (i < text.size() && text[i] == ' ') {  // the first line keeps its indentation
    line += ' ';
    ++cols;
    ++i;
  }
  while (i < text.size()) {
    // The next unit: a run of spaces, a run of narrow non-space characters, or one wide character.
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t j = i;
    int w = 0;
    auto char_len = [&](std::size_t at) {
      const auto c = static_cast<unsigned char>(text[at]);
      return c < 0x80 ? 1u : c < 0xE0 ? 2u : c < 0xF0 ? 3u : 4u;
    };
    if (lead >= 0xE3 && lead < 0xF0) {  // U+3000 and up (CJK, fullwidth punctuation): one wide character
      j += char_len(i);
      w = 2;
    } else {
      const bool space = lead == ' ';
      while (j < text.size() && (text[j] == ' ') == space) {
        const auto c = static_cast<unsigned char>(text[j]);
        if (c >= 0xE3 && c < 0xF0) break;
        j += char_len(j);
        ++w;
      }
    }
    const std::string_view unit = text.substr(i, j - i);
    i = j;
    if (unit.front() == ' ') {
      if (cols + w < width && cols > 0) {
        line += unit;
        cols += w;
      }
      continue;
    }
    // Closing punctuation never starts a line: it may overhang the width by its two columns.
    static constexpr std::array<std::string_view, 8> closing{"，", "。", "；", "：", "）", "、", "！", "？"};
    const bool overhang = std::find(closing.begin(), closing.end(), unit) != closing.end();
    if (cols + w > width && cols > 0 && !overhang) {
      while (!line.empty() && line.back() == ' ') line.pop_back();
      lines.push_back(line);
      line.clear();
      cols = 0;
    }
    line += unit;
    cols += w;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  if (!line.empty()) lines.push_back(line);
  return lines;
}

// Display columns of UTF-8 text: characters from U+3000 on (CJK) take two.
int columns(std::string_view text) {
  int n = 0;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte
    n += c >= 0xE3 && c < 0xF0 ? 2 : 1;
  }
  return n;
}

class ladder {
 public:
  // `name_transitions`: a line naming the cause of each simultaneous-open/close transition
  // (`--why` ladders have their own annotations, in their language).
  ladder(const demo_options& o, std::FILE* out, bool name_transitions = true)
      : o_(o), g_(diagram::glyphs_for(o.ascii)), out_(out), name_transitions_(name_transitions) {}

  void header(const echo_config& c) {
    fmt::print(out_, "synack demo: client {} and server {} on a simulated link\n", c.client_ip().to_string(),
               c.server_ip().with_port(c.server_port));
    fmt::print(out_, "  latency {:g} ms each way, loss {:g}%, seed {}, {} sequence numbers, windows scaled{}{}\n\n",
               o_.latency_ms, o_.loss * 100.0, o_.seed, o_.absolute_seq ? "absolute" : "relative",
               o_.simultaneous_open ? ", simultaneous open" : "", o_.simultaneous_close ? ", simultaneous close" : "");
    columns(tcp_state::closed, o_.simultaneous_open ? tcp_state::closed : tcp_state::listen);
  }

  void columns(tcp_state client, tcp_state server) {
    client_shown_ = client;
    server_shown_ = server;
    fmt::print(out_, "{:>12}  {:<{}}  {:<{}}  {}\n", "time", "CLIENT", state_width, "", arrow_width, "SERVER");
    fmt::print(out_, "{:>12}  {:<{}}  {:<{}}  {}\n", "", to_string(client), state_width, "", arrow_width,
               to_string(server));
  }

  // An annotation under the row it explains (`synack demo --why`), wrapped to the ladder's width.
  void note(std::string_view text) {
    const auto lines = wrap(text, arrow_width + 14);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      fmt::print(out_, "{:>12}  {:<{}}    {} {}\n", "", "", state_width, i == 0 ? g_.note : " ", lines[i]);
    }
  }

  // One row per segment: the arrow holds flags, seq, ack, len and the window (scaled once both
  // SYNs offered window scaling, RFC 7323 §2.2); the options go on the lines under it, so the
  // server's column stays where it is.
  void segment(const segment_row& r) {
    learn(r);
    const bool syn = (r.flags & tcp_flag::syn) != 0;
    std::vector<std::string> words{diagram::flags_text(r.flags), "seq=" + seq_text(r.seq, r.from_client)};
    if (r.ack) words.push_back("ack=" + seq_text(*r.ack, !r.from_client));
    if (r.len > 0) words.push_back(fmt::format("len={}", r.len));
    words.push_back(fmt::format("win={}", window_of(r)));
    const auto& peer_isn = r.from_client ? server_isn_ : client_isn_;
    std::vector<std::string> below =
        diagram::option_words(r.options, syn, o_.absolute_seq ? std::nullopt : peer_isn, o_.absolute_seq);
    // The arrow keeps its width: what does not fit (long absolute numbers) moves below it.
    auto label_of = [&] {
      std::string l;
      for (const std::string& w : words) l += " " + w;
      return l + " ";
    };
    while (words.size() > 2 && static_cast<int>(label_of().size()) > arrow_width - 5) {
      below.insert(below.begin(), words.back());
      words.pop_back();
    }
    const std::string arrow = draw(label_of(), r.from_client, r.lost);
    fmt::print(out_, "{}  {:<{}}  {}  {}\n", time_text(r.at), to_string(r.client_state), state_width, arrow,
               r.lost ? "(lost)" : std::string(to_string(r.server_state)));
    std::string opts;
    for (const std::string& w : below) opts += (opts.empty() ? "" : " ") + w;
    for (const auto& line : wrap(opts, arrow_width + 12)) {
      fmt::print(out_, "{:>12}  {:<{}}    {}\n", "", "", state_width, line);
    }
    // The receiver's transition, named when it is one of simultaneous open or close.
    if (!r.lost && name_transitions_) {
      const bool to_client = !r.from_client;
      tcp_state& before = to_client ? client_shown_ : server_shown_;
      const tcp_state after = to_client ? r.client_state : r.server_state;
      if (const auto why = simultaneous_cause(before, after, to_client ? client_opened_ : server_opened_)) {
        const std::string line = fmt::format("{}: {} -> {}, {}", to_client ? "client" : "server", to_string(before),
                                             to_string(after), *why);
        for (const auto& l : wrap(line, arrow_width + 12)) fmt::print(out_, "{:>12}  {:<{}}    {}\n", "", "", state_width, l);
      }
    }
    shown(true, r.client_state);
    shown(false, r.server_state);
  }

  void state(const state_row& r) {
    const std::string label = fmt::format("  ({}: {} -> {})", r.cause, to_string(r.from), to_string(r.to));
    const std::string client = r.client ? std::string(to_string(r.to)) : "";
    const std::string server = r.client ? "" : std::string(to_string(r.to));
    fmt::print(out_, "{}  {:<{}}  {:<{}}  {}\n", time_text(r.at), client, state_width, label, arrow_width, server);
    shown(r.client, r.to);
  }

 private:
  // Why a side moved between these states on an arriving segment, for the transitions of a
  // simultaneous open (RFC 9293 §3.5) or close (§3.6); nullopt for the ordinary ones.
  static std::optional<std::string> simultaneous_cause(tcp_state from, tcp_state to, bool opened_simultaneously) {
    if (from == tcp_state::syn_sent && to == tcp_state::syn_received) {
      return "a SYN arrives while its own is unanswered (simultaneous open)";
    }
    if (from == tcp_state::syn_received && to == tcp_state::established && opened_simultaneously) {
      return "the SYN,ACK acknowledges its SYN";
    }
    if (from == tcp_state::fin_wait_1 && to == tcp_state::closing) {
      return "a FIN arrives that does not acknowledge its own (simultaneous close)";
    }
    if (from == tcp_state::closing && to == tcp_state::time_wait) return "its FIN is acknowledged";
    return std::nullopt;
  }
  void shown(bool client, tcp_state s) {
    tcp_state& prev = client ? client_shown_ : server_shown_;
    if (prev == tcp_state::syn_sent && s == tcp_state::syn_received) (client ? client_opened_ : server_opened_) = true;
    prev = s;
  }

  // Each side's ISN and window scale, from its SYN.
  void learn(const segment_row& r) {
    if ((r.flags & tcp_flag::syn) == 0) return;
    (r.from_client ? client_isn_ : server_isn_) = r.seq;
    (r.from_client ? client_ws_ : server_ws_) = r.options.window_scale;
  }
  // The window in bytes: the field shifted by the sender's scale once both SYNs offered one;
  // never on a SYN (RFC 7323 §2.2).
  [[nodiscard]] std::uint64_t window_of(const segment_row& r) const {
    const auto& ws = r.from_client ? client_ws_ : server_ws_;
    if ((r.flags & tcp_flag::syn) != 0 || !client_ws_ || !server_ws_) return r.window;
    return std::uint64_t{r.window} << std::min<std::uint8_t>(*ws, 14);
  }
  [[nodiscard]] std::string seq_text(seq_num v, bool client_space) const {
    const auto& isn = client_space ? client_isn_ : server_isn_;
    if (o_.absolute_seq || !isn) return std::to_string(v.raw);
    return std::to_string(distance(*isn, v).n);
  }
  // Twelve columns: milliseconds below 100 s, seconds from there (TIME-WAIT ends at 2 x MSL).
  [[nodiscard]] static std::string time_text(instant t) {
    const double s = t.seconds();
    return s < 100.0 ? fmt::format("{:>9.3f} ms", s * 1e3) : fmt::format("{:>10.3f} s", s);
  }
  // An arrow of exactly arrow_width columns around the label.
  [[nodiscard]] std::string draw(const std::string& label, bool rightwards, bool lost) const {
    const int fill = std::max(2, arrow_width - static_cast<int>(label.size()) - 3);
    std::string s;
    if (!rightwards) s += lost ? g_.lost : g_.left;
    for (int i = 0; i < 2; ++i) s += g_.line;
    s += label;
    for (int i = 0; i < fill; ++i) s += g_.line;
    if (rightwards) s += lost ? g_.lost : g_.right;
    return s;
  }

  const demo_options& o_;
  const diagram::ladder_glyphs& g_;
  std::FILE* out_;
  bool name_transitions_;
  std::optional<seq_num> client_isn_;
  std::optional<seq_num> server_isn_;
  std::optional<std::uint8_t> client_ws_;
  std::optional<std::uint8_t> server_ws_;
  tcp_state client_shown_ = tcp_state::closed;  // each side's state as last drawn
  tcp_state server_shown_ = tcp_state::closed;
  bool client_opened_ = false;  // went SYN-SENT -> SYN-RECEIVED
  bool server_opened_ = false;
};

// The run as two capture points would see it, one beside each host: a packet at its sender's
// point when it leaves, at its receiver's when it arrives (virtual time, so exact). Merged,
// the ladder's arrows slope from send to receipt and lost packets end mid-way.
class two_points {
 public:
  void add(const sim::packet_event& e) {
    const bool from_client = e.from == 0;
    const bool sent = e.fate == sim::packet_fate::sent;
    if (!sent && e.fate != sim::packet_fate::delivered) return;
    const auto* p = reinterpret_cast<const std::uint8_t*>(e.packet.data());
    auto seg = diagram::decode_ip_packet(p, e.packet.size());
    if (!seg) return;
    seg->t_ns = e.at.us * 1000;
    if (from_client) client_ = seg->src;
    // Sent by the client or delivered to it: seen beside the client.
    (sent == from_client ? near_client_ : near_server_).push_back(*seg);
  }
  [[nodiscard]] std::vector<diagram::connection> connections() const {
    auto a = diagram::group_connections(near_client_);
    auto b = diagram::group_connections(near_server_);
    if (a.size() != 1 || b.size() != 1) return a;  // nothing arrived at the server: one point is all there is
    // A is the end whose SYN came first; after a simultaneous open that may be the server.
    if (a[0].a.addr == client_) return {diagram::merge_two_points(a[0], b[0])};
    return {diagram::merge_two_points(b[0], a[0])};
  }

 private:
  ip_addr client_;
  std::vector<diagram::captured_segment> near_client_;
  std::vector<diagram::captured_segment> near_server_;
};

int run_demo(const demo_options& o) {
  echo_config c;
  c.seed = o.seed;
  c.loss = o.loss;
  c.latency = duration{static_cast<std::int64_t>(o.latency_ms * 1000.0)};
  c.simultaneous_open = o.simultaneous_open;
  c.simultaneous_close = o.simultaneous_close;
  c.ipv6 = o.ipv6;
  c.pcap_path = o.pcap;
  c.message = o.message + "\n";
  c.tcp.msl = duration{static_cast<std::int64_t>(o.msl_s * 1e6)};
  echo_scenario sc(c);
  ladder l(o, stdout);
  l.header(c);
  // A retransmitted FIN that reaches a side in TIME-WAIT restarts its 2 x MSL (RFC 9293
  // §3.10.7.4); remember the last such arrival per side for the summary.
  std::optional<instant> client_tw_restart;
  std::optional<instant> server_tw_restart;
  sc.on_segment([&](const segment_row& r) {
    l.segment(r);
    if (r.lost || (r.flags & tcp_flag::fin) == 0) return;
    if (!r.from_client && r.client_state == tcp_state::time_wait) client_tw_restart = r.at;
    if (r.from_client && r.server_state == tcp_state::time_wait) server_tw_restart = r.at;
  });
  sc.on_state([&](const state_row& r) { l.state(r); });
  two_points trace;
  const diagram::ladder_files files{o.svg, o.html};
  if (files.any()) sc.on_packet([&](const sim::packet_event& e) { trace.add(e); });
  const echo_outcome res = sc.run();

  fmt::print("\n");
  if (res.completed) {
    fmt::print("echo: sent {:?}, got {:?} back; both sides CLOSED at {:.3f} ms (virtual time)\n", c.message,
               res.echoed, res.end.seconds() * 1e3);
  } else {
    fmt::print("demo did not complete: {} (echoed {:?})\n", res.error, res.echoed);
  }
  const duration two_msl = 2 * c.tcp.msl;
  auto tw = [&](const char* who, const std::optional<instant>& a, const std::optional<instant>& b,
                const std::optional<instant>& restart) {
    if (!a || !b) return;
    auto ms = [](instant t) { return t.seconds() * 1e3; };
    auto secs = [](duration d) { return static_cast<double>(d.count()) / 1e6; };
    const instant from = restart && a < restart ? *restart : *a;
    const char* verdict = *b - from == two_msl ? "= 2 x MSL" : "!= 2 x MSL";
    if (from == *a) {
      fmt::print("{} held TIME-WAIT from {:.3f} to {:.3f} ms: {:.3f} s {}\n", who, ms(*a), ms(*b), secs(*b - *a), verdict);
    } else {
      fmt::print("{} held TIME-WAIT from {:.3f} to {:.3f} ms: {:.3f} s after a retransmitted FIN restarted it at {:.3f} ms {}\n",
                 who, ms(*a), ms(*b), secs(*b - from), ms(from), verdict);
    }
  };
  tw("client", res.client_time_wait_start, res.client_time_wait_end, client_tw_restart);
  tw("server", res.server_time_wait_start, res.server_time_wait_end, server_tw_restart);
  fmt::print("link: {} segments delivered, {} lost; retransmitted: client {}, server {}\n", res.packets_delivered,
             res.packets_lost, res.client.retrans_segs, res.server.retrans_segs);
  if (!o.pcap.empty() && res.completed) fmt::print("capture written to {} (open it with wireshark or tshark -r)\n", o.pcap);
  bool drawn = true;
  if (files.any()) {
    diagram::render_options ro;
    ro.source = "synack demo (virtual time)";
    ro.absolute = o.absolute_seq;
    drawn = diagram::write_ladders(trace.connections(), ro, files, stdout, "synack demo");
  }
  return res.completed && drawn ? 0 : 1;
}

// `--why TOPIC`: a topic's parts, each a ladder with its annotations, then its conclusion.
class why_ladder final : public why::sink {
  static constexpr int text_width = 100;

 public:
  explicit why_ladder(const demo_options& o) : o_(o) {}
  void part(const why::part_info& p) override {
    if (started_) fmt::print("\n");
    started_ = true;
    part_o_ = o_;
    part_o_.absolute_seq = o_.absolute_seq || p.absolute_seq;
    l_.emplace(part_o_, stdout, false);
    fmt::print("== {}\n", p.title);
    for (const auto& line : wrap(p.setup, text_width - 3)) fmt::print("   {}\n", line);
    fmt::print("\n");
    l_->columns(p.client_start, p.server_start);
  }
  void segment(const segment_row& r, std::string_view note) override {
    l_->segment(r);
    l_->note(note);
  }
  void state(const state_row& r, std::string_view note) override {
    l_->state(r);
    l_->note(note);
  }
  void text(std::string_view line) override {
    if (columns(line) <= text_width) {
      fmt::print("{}\n", line);
      return;
    }
    for (const auto& l : wrap(line, text_width)) fmt::print("{}\n", l);
  }

 private:
  const demo_options& o_;
  demo_options part_o_;
  std::optional<ladder> l_;
  bool started_ = false;
};

int run_why(const demo_options& o) {
  if (o.list) {
    for (const auto& t : why::topics()) fmt::print("{:<20} {}\n", t.name, o.lang == "zh" ? t.summary_zh : t.summary_en);
    return 0;
  }
  why_ladder out(o);
  why::facts f;
  if (!why::run(o.why, o.lang == "zh" ? why::lang::zh : why::lang::en, o.seed, out, f)) {
    fmt::print(stderr, "synack demo: unknown topic '{}' (synack demo --list)\n", o.why);
    return 2;
  }
  return 0;
}

int g_exit = 0;

}  // namespace

int exit_code() { return g_exit; }
void set_exit_code(int code) { g_exit = code; }

void add_demo(CLI::App& app) {
  auto o = std::make_shared<demo_options>();
  CLI::App* d = app.add_subcommand("demo", "Draw a TCP handshake, an echo and the close as a ladder diagram");
  d->add_flag("--simultaneous-open", o->simultaneous_open, "Both sides connect at once (RFC 9293 Figure 7)");
  d->add_flag("--simultaneous-close", o->simultaneous_close, "Both sides close at once (CLOSING, Figure 13)");
  d->add_flag("--ipv6", o->ipv6, "Run over IPv6 (2001:db8::1 and 2001:db8::2; MSS 1440 on the 1500-octet link)");
  d->add_option("--loss", o->loss, "Probability that the link loses a packet")->check(in_range(0.0, 0.9));
  d->add_option("--seed", o->seed, "Seed of the simulated link's random generator")->capture_default_str();
  d->add_option("--pcap", o->pcap, "Write a pcap capture of the link to FILE");
  d->add_flag("--absolute-seq", o->absolute_seq, "Print absolute sequence numbers (default: relative to the ISN)");
  d->add_flag("--ascii", o->ascii, "Draw with ASCII only");
  d->add_option("--svg", o->svg, "Also draw the run as an SVG ladder (arrows from send to receipt) in FILE");
  d->add_option("--html", o->html, "Also write the run as a self-contained HTML page (segment details, time zoom) to FILE");
  d->add_option("--latency-ms", o->latency_ms, "One-way link latency in milliseconds")
      ->check(in_range(0.0, 10000.0))
      ->capture_default_str();
  d->add_option("--msl", o->msl_s, "Maximum segment lifetime in seconds (TIME-WAIT = 2 x MSL)")
      ->check(in_range(0.001, 600.0))
      ->capture_default_str();
  d->add_option("--message", o->message, "The line the client sends")->capture_default_str();
  d->add_option("--why", o->why, "Answer a classic question with a run: three-way, four-way, time-wait, "
                "simultaneous-close, syn-flood (see --list)");
  d->add_flag("--list", o->list, "List the topics of --why");
  d->add_option("--lang", o->lang, "Language of the --why annotations: en or zh")
      ->check(CLI::IsMember({"en", "zh"}))
      ->capture_default_str();
  d->callback([o] {
    if ((!o->why.empty() || o->list) && (!o->svg.empty() || !o->html.empty() || o->ipv6)) {
      fmt::print(stderr, "synack demo: --svg, --html and --ipv6 are for the echo run, not --why or --list\n");
      set_exit_code(exit_usage);
      return;
    }
    set_exit_code(o->why.empty() && !o->list ? run_demo(*o) : run_why(*o));
  });
}

}  // namespace synack::tools
