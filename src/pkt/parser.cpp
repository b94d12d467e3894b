// The packetdrill parser: a preprocessor pass (nplab #ifdef), then a recursive-descent scanner
// over characters. Whitespace and newlines are not significant between tokens (a statement may
// span lines); every event starts with its time.
#include "synack/pkt/parser.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

namespace synack::pkt {

std::optional<std::string> script::option(std::string_view name) const {
  for (const auto& [k, v] : options) {
    if (k == name) return v;
  }
  return std::nullopt;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

std::string_view first_word(std::string_view s) {
  s = trim(s);
  std::size_t n = 0;
  while (n < s.size() && std::isspace(static_cast<unsigned char>(s[n])) == 0) ++n;
  return s.substr(0, n);
}

}  // namespace

result<std::string, parse_error> preprocess(std::string_view text, std::vector<std::string> defines) {
  struct frame {
    bool parent_on;
    bool on;
    source_pos pos;
  };
  std::vector<frame> stack;
  std::string out;
  out.reserve(text.size());
  int line_no = 0;
  while (!text.empty() || line_no == 0) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const bool on = stack.empty() || stack.back().on;
    const std::string_view t = trim(line);
    const source_pos pos{line_no, 1};
    if (t.starts_with("#ifdef") || t.starts_with("#ifndef")) {
      const bool neg = t.starts_with("#ifndef");
      const std::string_view name = first_word(t.substr(neg ? 7 : 6));
      if (name.empty()) return unexpected{parse_error{pos, "#ifdef without a name"}};
      const bool defined = std::find(defines.begin(), defines.end(), name) != defines.end();
      stack.push_back({on, on && (defined != neg), pos});
    } else if (t.starts_with("#else")) {
      if (stack.empty()) return unexpected{parse_error{pos, "#else without #ifdef"}};
      stack.back().on = stack.back().parent_on && !stack.back().on;
    } else if (t.starts_with("#endif")) {
      if (stack.empty()) return unexpected{parse_error{pos, "#endif without #ifdef"}};
      stack.pop_back();
    } else if (t.starts_with("#define")) {
      if (on) defines.emplace_back(first_word(t.substr(7)));
    } else if (on) {
      out.append(line);
    }
    out.push_back('\n');
    if (nl == std::string_view::npos) break;
  }
  if (!stack.empty()) return unexpected{parse_error{stack.back().pos, "#ifdef without #endif"}};
  return out;
}

namespace {

class parser {
 public:
  explicit parser(std::string_view s) : s_(s) {}

  result<script, parse_error> run() {
    script sc;
    for (;;) {
      skip_space();
      if (at_end()) break;
      if (starts("--")) {
        const std::size_t e = s_.find('\n', i_);
        const std::string_view opt = trim(s_.substr(i_ + 2, e == std::string_view::npos ? e : e - i_ - 2));
        const std::size_t eq = opt.find('=');
        sc.options.emplace_back(std::string{opt.substr(0, eq)},
                                eq == std::string_view::npos ? std::string{} : std::string{opt.substr(eq + 1)});
        advance(e == std::string_view::npos ? s_.size() - i_ : e - i_);
        continue;
      }
      event ev;
      if (!parse_event(ev)) return unexpected{err_};
      sc.events.push_back(std::move(ev));
    }
    return sc;
  }

 private:
  // ---- scanning --------------------------------------------------------------------------
  [[nodiscard]] bool at_end() const { return i_ >= s_.size(); }
  [[nodiscard]] char peek(std::size_t k = 0) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }
  [[nodiscard]] bool starts(std::string_view w) const { return s_.substr(i_).starts_with(w); }
  [[nodiscard]] source_pos here() const { return {line_, col_}; }
  void advance(std::size_t n = 1) {
    for (std::size_t k = 0; k < n && i_ < s_.size(); ++k, ++i_) {
      if (s_[i_] == '\n') {
        ++line_;
        col_ = 1;
      } else {
        ++col_;
      }
    }
  }
  void skip_space() {
    for (;;) {
      while (!at_end() && std::isspace(static_cast<unsigned char>(peek())) != 0) advance();
      if (starts("//")) {
        while (!at_end() && peek() != '\n') advance();
      } else if (starts("/*")) {
        advance(2);
        while (!at_end() && !starts("*/")) advance();
        advance(2);
      } else {
        return;
      }
    }
  }
  // Skips space within a statement; returns false at a newline-free end.
  bool accept(std::string_view w) {
    skip_space();
    if (!starts(w)) return false;
    advance(w.size());
    return true;
  }
  bool fail(std::string msg, bool unsupported = false) {
    err_ = parse_error{here(), std::move(msg), unsupported};
    return false;
  }
  bool expect(std::string_view w) {
    if (accept(w)) return true;
    return fail("expected '" + std::string{w} + "'");
  }
  std::string_view word() {
    skip_space();
    const std::size_t b = i_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(peek())) != 0 || peek() == '_')) advance();
    return s_.substr(b, i_ - b);
  }
  // An unsigned integer, decimal or 0x hex.
  bool number(std::int64_t& v) {
    skip_space();
    const bool neg = peek() == '-';
    if (neg) advance();
    const std::size_t b = i_;
    int base = 10;
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      advance(2);
      base = 16;
    }
    const std::size_t db = i_;
    while (!at_end() && std::isxdigit(static_cast<unsigned char>(peek())) != 0 &&
           (base == 16 || std::isdigit(static_cast<unsigned char>(peek())) != 0)) {
      advance();
    }
    if (i_ == db) {
      i_ = b;
      return fail("expected a number");
    }
    std::uint64_t u = 0;
    const auto r = std::from_chars(s_.data() + db, s_.data() + i_, u, base);
    if (r.ec != std::errc{}) return fail("number out of range");
    v = neg ? -static_cast<std::int64_t>(u) : static_cast<std::int64_t>(u);
    return true;
  }
  bool u32(std::uint32_t& v) {
    std::int64_t n = 0;
    if (!number(n)) return false;
    if (n < 0 || n > 0xFFFFFFFFLL) return fail("value out of range 0..4294967295");
    v = static_cast<std::uint32_t>(n);
    return true;
  }
  // Seconds, as `1`, `0.100` or `.01`, to microseconds.
  bool seconds(std::int64_t& us) {
    skip_space();
    const std::size_t b = i_;
    while (!at_end() && (std::isdigit(static_cast<unsigned char>(peek())) != 0 || (peek() == '.' && !starts("...")))) {
      advance();
    }
    if (i_ == b) return fail("expected a time in seconds");
    double v = 0;
    const auto r = std::from_chars(s_.data() + b, s_.data() + i_, v);
    if (r.ec != std::errc{} || r.ptr != s_.data() + i_) return fail("bad time value");
    us = std::llround(v * 1e6);
    return true;
  }
  // Raw text up to `close` (not included), which is consumed.
  bool raw_until(std::string_view close, std::string& out) {
    const std::size_t e = s_.find(close, i_);
    if (e == std::string_view::npos) return fail("missing '" + std::string{close} + "'");
    out.assign(s_.substr(i_, e - i_));
    advance(e - i_ + close.size());
    return true;
  }

  // ---- events ----------------------------------------------------------------------------
  bool parse_time(event_time& t) {
    if (accept("*")) {
      t.what = event_time::kind::any;
      return true;
    }
    if (peek() == '`') {
      t.what = event_time::kind::none;
      return true;
    }
    const bool rel = accept("+");
    t.what = rel ? event_time::kind::relative : event_time::kind::absolute;
    if (!seconds(t.start_us)) return false;
    if (accept("...")) {
      t.blocking = true;
    } else if (!accept("~")) {
      return true;
    }
    t.end_relative = accept("+") || rel;
    std::int64_t e = 0;
    if (!seconds(e)) return false;
    t.end_us = e;
    return true;
  }

  bool parse_event(event& ev) {
    ev.pos = here();
    const std::size_t begin = i_;
    if (!parse_time(ev.time)) return false;
    skip_space();
    bool ok = false;
    if (peek() == '<' || peek() == '>') {
      ok = parse_packet(ev);
    } else if (peek() == '`') {
      advance();
      shell_cmd c;
      ok = raw_until("`", c.text);
      ev.body = std::move(c);
    } else if (starts("%{")) {
      advance(2);
      code_block c;
      ok = raw_until("}%", c.text);
      ev.body = std::move(c);
    } else if (std::isalpha(static_cast<unsigned char>(peek())) != 0) {
      syscall_spec sc;
      ok = parse_syscall(sc);
      ev.body = std::move(sc);
    } else {
      return fail("expected a packet, a system call, a `command` or %{ code }%");
    }
    if (!ok) return false;
    std::string src{s_.substr(begin, i_ - begin)};
    if (const auto c = src.find("//"); c != std::string::npos) src.resize(c);  // a trailing comment
    if (const auto c = src.find("/*"); c != std::string::npos) src.resize(c);
    std::replace(src.begin(), src.end(), '\n', ' ');
    ev.source = std::string{trim(src)};
    return true;
  }

  // ---- packets ---------------------------------------------------------------------------
  bool parse_flags(packet_spec& p) {
    skip_space();
    const std::size_t b = i_;
    while (!at_end() && std::isspace(static_cast<unsigned char>(peek())) == 0) {
      switch (peek()) {
        case '.': p.flags |= flag::ack; break;
        case 'S': p.flags |= flag::syn; break;
        case 'F': p.flags |= flag::fin; break;
        case 'R': p.flags |= flag::rst; break;
        case 'P': p.flags |= flag::psh; break;
        case 'U': p.flags |= flag::urg; break;
        case 'E': p.flags |= flag::ece; break;
        case 'W': p.flags |= flag::cwr; break;
        case '-': break;
        default: return fail(std::string{"unknown TCP flag '"} + peek() + "'", peek() == 'A' || std::isdigit(static_cast<unsigned char>(peek())) != 0);
      }
      advance();
    }
    if (i_ == b) return fail("expected TCP flags");
    return true;
  }

  bool parse_seq(packet_spec& p) {
    if (accept("...")) {
      p.any_seq = true;
    } else {
      std::uint32_t end = 0;
      if (!u32(p.seq) || !expect(":") || !u32(end)) return false;
    }
    if (!expect("(") || !u32(p.len) || !expect(")")) return false;
    if (accept("!")) return fail("absolute sequence numbers (a:b(n)!)", true);
    return true;
  }

  bool parse_option(tcp_option_spec& o) {
    const std::string_view w = word();
    using k = tcp_option_spec::kind;
    if (w == "nop") {
      o.what = k::nop;
    } else if (w == "eol") {
      o.what = k::eol;
    } else if (w == "mss") {
      o.what = k::mss;
      return u32(o.a);
    } else if (w == "wscale") {
      o.what = k::wscale;
      return u32(o.a);
    } else if (w == "sackOK") {
      o.what = k::sack_permitted;
    } else if (w == "sack") {
      o.what = k::sack;
      skip_space();
      while (std::isdigit(static_cast<unsigned char>(peek())) != 0) {
        std::uint32_t l = 0;
        std::uint32_t r = 0;
        if (!u32(l) || !expect(":") || !u32(r)) return false;
        o.blocks.emplace_back(l, r);
        skip_space();
      }
    } else if (w == "TS") {
      o.what = k::timestamps;
      if (word() != "val" || !u32(o.a)) return fail("expected 'TS val N ecr N'");
      if (word() != "ecr" || !u32(o.b)) return fail("expected 'ecr N'");
    } else if (w.empty()) {
      return fail("expected a TCP option");
    } else {
      return fail("TCP option '" + std::string{w} + "'", true);
    }
    return true;
  }

  bool parse_options(packet_spec& p) {
    if (accept("...")) {
      p.options_any = true;
      return expect(">");
    }
    p.options.emplace();
    if (accept(">")) return true;
    do {
      tcp_option_spec o;
      if (!parse_option(o)) return false;
      p.options->push_back(std::move(o));
    } while (accept(","));
    return expect(">");
  }

  bool parse_icmp(event& ev) {
    icmp_spec ic;
    ic.type = std::string{word()};
    skip_space();
    if (std::isalpha(static_cast<unsigned char>(peek())) != 0 && !starts("mtu")) ic.code = std::string{word()};
    if (accept("mtu") && !u32(ic.mtu.emplace())) return false;
    if (accept("[")) {
      std::uint32_t end = 0;
      std::uint32_t len = 0;
      if (!u32(ic.quoted_seq) || !expect(":") || !u32(end) || !expect("(") || !u32(len) || !expect(")") ||
          !expect("]")) {
        return false;
      }
    }
    ev.body = std::move(ic);
    return true;
  }

  bool parse_packet(event& ev) {
    packet_spec p;
    p.inbound = peek() == '<';
    advance();
    skip_space();
    if (peek() == '(' || peek() == '[') {  // IP info: (ect0), [noecn], (tos 0x28) ...
      const char close = peek() == '(' ? ')' : ']';
      advance();
      if (!raw_until(std::string_view{&close, 1}, p.ecn)) return false;
      p.ecn = std::string{trim(p.ecn)};
      if (p.ecn.find(' ') != std::string::npos) return fail("IP info '" + p.ecn + "'", true);
    }
    if (starts("icmp")) {
      advance(4);
      if (!p.inbound) return fail("outbound ICMP", true);
      return parse_icmp(ev);
    }
    if (starts("udp") || starts("sctp")) return fail("non-TCP packets", true);
    if (std::isdigit(static_cast<unsigned char>(peek())) != 0) {
      std::uint32_t a = 0;
      std::uint32_t b = 0;
      if (!u32(a) || !expect(">") || !u32(b)) return false;
      if (a > 65535 || b > 65535) return fail("port out of range");
      p.remote_port = static_cast<std::uint16_t>(p.inbound ? a : b);
      p.local_port = static_cast<std::uint16_t>(p.inbound ? b : a);
    }
    if (!parse_flags(p) || !parse_seq(p)) return false;
    for (;;) {
      skip_space();
      if (starts("ack") && !std::isalnum(static_cast<unsigned char>(peek(3)))) {
        advance(3);
        if (!u32(p.ack.emplace())) return false;
      } else if (starts("win") && !std::isalnum(static_cast<unsigned char>(peek(3)))) {
        advance(3);
        if (!u32(p.win.emplace())) return false;
      } else if (starts("urg") && !std::isalnum(static_cast<unsigned char>(peek(3)))) {
        advance(3);
        if (!u32(p.urg.emplace())) return false;
      } else if (peek() == '<') {
        advance();
        if (!parse_options(p)) return false;
      } else if (peek() == '/') {
        return fail("UDP encapsulation", true);
      } else {
        break;
      }
    }
    ev.body = std::move(p);
    return true;
  }

  // ---- system calls ----------------------------------------------------------------------
  bool parse_term(expr& e) {
    skip_space();
    if (accept("...")) {
      e.what = expr::kind::ellipsis;
      return true;
    }
    if (peek() == '[' || peek() == '{') {
      const bool list = peek() == '[';
      advance();
      e.what = list ? expr::kind::list : expr::kind::object;
      const std::string_view close = list ? "]" : "}";
      if (accept(close)) return true;
      do {
        expr item;
        if (!list) {
          skip_space();
          const std::string_view key = word();
          if (key.empty() || !expect("=")) return fail("expected 'name = value'");
          item.text = std::string{key};
        }
        expr v;
        if (!parse_expr(v)) return false;
        if (list) {
          item = std::move(v);
        } else {
          item.items.push_back(std::move(v));
        }
        e.items.push_back(std::move(item));
      } while (accept(","));
      return expect(close);
    }
    if (peek() == '"') {
      advance();
      e.what = expr::kind::string;
      return raw_until("\"", e.text);
    }
    if (peek() == '-' || std::isdigit(static_cast<unsigned char>(peek())) != 0) {
      e.what = expr::kind::number;
      return number(e.number);
    }
    const std::string_view w = word();
    if (w.empty()) return fail("expected an argument");
    e.text = std::string{w};
    if (!accept("(")) {
      e.what = expr::kind::name;
      return true;
    }
    e.what = expr::kind::call;
    if (accept(")")) return true;
    do {
      if (!parse_expr(e.items.emplace_back())) return false;
    } while (accept(","));
    return expect(")");
  }

  bool parse_expr(expr& e) {
    expr first;
    if (!parse_term(first)) return false;
    if (!accept("|")) {
      e = std::move(first);
      return true;
    }
    e.what = expr::kind::bit_or;
    e.items.push_back(std::move(first));
    do {
      if (!parse_term(e.items.emplace_back())) return false;
    } while (accept("|"));
    return true;
  }

  bool parse_syscall(syscall_spec& sc) {
    sc.name = std::string{word()};
    if (!expect("(")) return false;
    if (!accept(")")) {
      do {
        if (!parse_expr(sc.args.emplace_back())) return false;
      } while (accept(","));
      if (!expect(")")) return false;
    }
    if (!expect("=") || !number(sc.result)) return false;
    skip_space();
    if (std::isupper(static_cast<unsigned char>(peek())) != 0) sc.errno_name = std::string{word()};
    skip_space();
    if (peek() == '(') {  // the note: balanced parentheses, kept as text
      advance();
      int depth = 1;
      const std::size_t b = i_;
      while (!at_end() && depth > 0) {
        if (peek() == '(') ++depth;
        if (peek() == ')') --depth;
        advance();
      }
      if (depth != 0) return fail("unbalanced '(' in the note");
      sc.note = std::string{trim(s_.substr(b, i_ - b - 1))};
    }
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  int line_ = 1;
  int col_ = 1;
  parse_error err_;
};

}  // namespace

result<script, parse_error> parse_script(std::string_view text, const std::vector<std::string>& defines) {
  auto pre = preprocess(text, defines);
  if (!pre) return unexpected{pre.error()};
  parser p{*pre};
  return p.run();
}

}  // namespace synack::pkt
