// What a segment's arrow says. Sequence numbers are relative to the sender's first sequence
// number in the capture (its ISN when the SYN was seen), acknowledgments and SACK blocks to
// the receiver's; windows are scaled once both SYNs were seen (RFC 7323 §2.2).
#include <fmt/format.h>

#include "diagram/render.hpp"

namespace synack::diagram {

namespace {

std::uint32_t rel(std::optional<seq_num> base, seq_num v, bool absolute) {
  if (absolute || !base) return v.raw;
  return distance(*base, v).n;
}

}  // namespace

std::string flags_text(std::uint8_t f) {
  std::string s;
  auto add = [&](std::uint8_t bit, const char* name) {
    if ((f & bit) == 0) return;
    if (!s.empty()) s += ',';
    s += name;
  };
  add(tcp_flag::syn, "SYN");
  add(tcp_flag::fin, "FIN");
  add(tcp_flag::rst, "RST");
  add(tcp_flag::psh, "PSH");
  add(tcp_flag::ack, "ACK");
  add(tcp_flag::urg, "URG");
  add(tcp_flag::ece, "ECE");
  add(tcp_flag::cwr, "CWR");
  return s.empty() ? "none" : s;
}

std::vector<std::string> option_words(const tcp_options& op, bool syn, std::optional<seq_num> peer_isn, bool absolute,
                                      bool all_ts) {
  std::vector<std::string> w;
  if (op.mss) w.push_back(fmt::format("mss={}", *op.mss));
  if (op.window_scale) w.push_back(fmt::format("ws={}", *op.window_scale));
  if (op.sack_permitted) w.push_back("sackOK");
  if (op.timestamps && (syn || all_ts)) w.push_back(fmt::format("ts={}/{}", op.timestamps->tsval, op.timestamps->tsecr));
  for (std::uint8_t i = 0; i < op.sack_count; ++i) {
    w.push_back(fmt::format("sack={}-{}", rel(peer_isn, op.sack[i].left, absolute), rel(peer_isn, op.sack[i].right, absolute)));
  }
  return w;
}

segment_label label_of(const connection& c, const segment& s, bool absolute) {
  const captured_segment& w = s.wire;
  const std::optional<seq_num> own = s.from_a ? c.isn_a : c.isn_b;
  const std::optional<seq_num> peer = s.from_a ? c.isn_b : c.isn_a;
  segment_label l;
  l.main.push_back(flags_text(w.flags));
  l.main.push_back(fmt::format("seq={}", rel(own, w.seq, absolute)));
  if (w.ack) l.main.push_back(fmt::format("ack={}", rel(peer, *w.ack, absolute)));
  if (w.payload_len > 0) l.main.push_back(fmt::format("len={}", w.payload_len));
  l.main.push_back(s.scaled_window ? fmt::format("win={}", *s.scaled_window) : fmt::format("win={}", w.window));
  l.detail = option_words(w.options, (w.flags & tcp_flag::syn) != 0, peer, absolute);
  if (s.t2_ns) l.detail.push_back(fmt::format("transit={:.3f}ms", static_cast<double>(*s.t2_ns - w.t_ns) / 1e6));
  for (const std::string& m : mark_names(s)) l.detail.push_back("[" + m + "]");
  return l;
}

std::string detail_of(const connection& c, const segment& s, std::int64_t t0_ns, bool absolute) {
  const captured_segment& w = s.wire;
  const std::optional<seq_num> own = s.from_a ? c.isn_a : c.isn_b;
  const std::optional<seq_num> peer = s.from_a ? c.isn_b : c.isn_a;
  std::string d;
  d += fmt::format("frame {}, {} ms{}\n", w.frame, fmt::format("{:.3f}", static_cast<double>(w.t_ns - t0_ns) / 1e6),
                   s.t2_ns ? fmt::format(", received at {:.3f} ms", static_cast<double>(*s.t2_ns - t0_ns) / 1e6) : "");
  d += fmt::format("{} -> {}\n", s.from_a ? c.a.to_string() : c.b.to_string(), s.from_a ? c.b.to_string() : c.a.to_string());
  d += fmt::format("flags {}\n", flags_text(w.flags));
  d += fmt::format("seq {} (absolute {})\n", rel(own, w.seq, absolute), w.seq.raw);
  if (w.ack) d += fmt::format("ack {} (absolute {})\n", rel(peer, *w.ack, absolute), w.ack->raw);
  d += fmt::format("len {}\n", w.payload_len);
  d += fmt::format("window {}{}\n", w.window, s.scaled_window ? fmt::format(" (scaled: {} bytes)", *s.scaled_window) : "");
  const tcp_options& op = w.options;
  if (op.mss) d += fmt::format("MSS {}\n", *op.mss);
  if (op.window_scale) d += fmt::format("window scale {}\n", *op.window_scale);
  if (op.sack_permitted) d += "SACK permitted\n";
  if (op.timestamps) d += fmt::format("timestamps TSval {} TSecr {}\n", op.timestamps->tsval, op.timestamps->tsecr);
  for (std::uint8_t i = 0; i < op.sack_count; ++i) {
    d += fmt::format("SACK {}-{}\n", rel(peer, op.sack[i].left, absolute), rel(peer, op.sack[i].right, absolute));
  }
  for (const std::string& m : mark_names(s)) d += m + "\n";
  d += fmt::format("after: A {}, B {}", to_string(s.state_a), to_string(s.state_b));
  return d;
}

}  // namespace synack::diagram
