// State inference and segment marks for `synack diagram`. Each end's state is a function of
// facts the capture shows: what it sent (SYN, FIN, RST) and what it received (the peer's SYN,
// FIN, RST, and ACKs of its own SYN and FIN), in the order RFC 9293 §3.10.7 processes a
// segment: RST, then ACK, then SYN, then FIN.
#include "diagram/connection.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace synack::diagram {

namespace {

bool has(std::uint8_t flags, std::uint8_t bit) { return (flags & bit) != 0; }

std::uint32_t seg_len(const captured_segment& s) {
  return s.payload_len + (has(s.flags, tcp_flag::syn) ? 1u : 0u) + (has(s.flags, tcp_flag::fin) ? 1u : 0u);
}

// What the capture has shown of one end so far.
struct end_facts {
  bool syn_sent = false;
  seq_num iss;
  bool syn_acked = false;
  bool syn_received = false;
  bool fin_sent = false;
  seq_num fin_seq;
  bool fin_acked = false;
  bool fin_received = false;
  bool closed_first = false;  // sent its FIN before the peer's arrived: the active closer
  bool reset = false;
  bool refuses = false;  // answered the first SYN with a reset: a CLOSED end, not listening
  // Simultaneous open: this end's first segment is a bare SYN, so the peer's SYN reached it
  // after it sent its own; the capture point may see them in the other order.
  bool opens_too = false;
  bool pending_syn = false;
  bool bare_syn_sent = false;
  bool syn_ack_sent = false;
  std::optional<std::uint8_t> wscale_offered;
  // For the marks.
  bool have_data = false;
  seq_num snd_max;  // highest sequence number sent, plus one
  std::int64_t t_snd_max = 0;
  std::unordered_set<std::uint32_t> starts;  // sequence numbers at which segments began
  std::optional<seq_num> last_ack;
  std::optional<std::uint16_t> last_window;
  std::uint32_t dup_count = 0;
};

tcp_state state_of(const end_facts& e, tcp_state initial) {
  if (e.reset) return tcp_state::closed;
  if (e.fin_sent && e.fin_received) {
    if (e.closed_first) return e.fin_acked ? tcp_state::time_wait : tcp_state::closing;
    return e.fin_acked ? tcp_state::closed : tcp_state::last_ack;
  }
  if (e.fin_sent) return e.fin_acked ? tcp_state::fin_wait_2 : tcp_state::fin_wait_1;
  if (e.fin_received) return tcp_state::close_wait;
  if (e.syn_sent && e.syn_received && e.syn_acked) return tcp_state::established;
  if (e.syn_received) return tcp_state::syn_received;
  if (e.syn_sent) return tcp_state::syn_sent;
  return initial;
}

// The sender's side of a segment: what it says about the end that sent it. A FIN that does
// not acknowledge the peer's FIN was sent before that FIN arrived: its sender closed first
// (both do in a simultaneous close, RFC 9293 Figure 13).
void on_sent(end_facts& x, const end_facts& y, const captured_segment& s) {
  if (has(s.flags, tcp_flag::rst)) {
    x.reset = true;
    return;
  }
  if (has(s.flags, tcp_flag::syn) && !x.syn_sent) {
    x.syn_sent = true;
    x.iss = s.seq;
    x.wscale_offered = s.options.window_scale;
    x.bare_syn_sent = !s.ack;
    if (x.pending_syn) x.syn_received = true;
  }
  if (has(s.flags, tcp_flag::fin) && !x.fin_sent) {
    x.fin_sent = true;
    x.fin_seq = s.seq + seq_len{s.payload_len + (has(s.flags, tcp_flag::syn) ? 1u : 0u)};
    x.closed_first = !x.fin_received || !(s.ack && y.fin_sent && s.ack->after(y.fin_seq));
  }
}

// The receiver's side: RST, ACK, SYN, FIN in RFC 9293 §3.10.7.4's order.
void on_received(end_facts& y, const captured_segment& s) {
  if (has(s.flags, tcp_flag::rst)) {
    // In SYN-SENT a reset counts only if it acknowledges the SYN: SEG.ACK = ISS + 1 (§3.10.7.3).
    if (y.syn_sent && !y.syn_received && !(s.ack && *s.ack == y.iss + seq_len{1})) return;
    y.reset = true;
    return;
  }
  if (s.ack) {
    if (y.syn_sent && s.ack->after(y.iss)) y.syn_acked = true;
    if (y.fin_sent && s.ack->after(y.fin_seq)) y.fin_acked = true;
  }
  if (has(s.flags, tcp_flag::syn) && !y.refuses) {
    if (y.opens_too && !y.syn_sent) {
      y.pending_syn = true;
    } else {
      y.syn_received = true;
    }
  }
  if (has(s.flags, tcp_flag::fin)) y.fin_received = true;
}

// Marks from the sender's history and the receiver's last advertisement.
void mark_segment(segment& seg, end_facts& x, const end_facts& y, std::int64_t reorder_ns) {
  const captured_segment& s = seg.wire;
  const bool syn = has(s.flags, tcp_flag::syn);
  const bool fin = has(s.flags, tcp_flag::fin);
  const bool rst = has(s.flags, tcp_flag::rst);
  const std::uint32_t len = seg_len(s);
  if (rst) seg.marks |= mark::reset;
  if (s.window == 0 && !rst) seg.marks |= mark::zero_window;
  if (s.options.sack_count > 0 && s.ack) {
    const sack_block& first = s.options.sack[0];
    const bool below_ack = first.left.before(*s.ack);
    const bool inside_second = s.options.sack_count > 1 && first.left.after_eq(s.options.sack[1].left) &&
                               first.right.before_eq(s.options.sack[1].right);
    if (below_ack || inside_second) seg.marks |= mark::dsack;  // RFC 2883
  }
  if (!syn && !fin && !rst && s.payload_len <= 1 && x.have_data && s.seq == x.snd_max - seq_len{1}) {
    // One below SND.NXT: a keep-alive, or Linux's probe of a zero window (tcp_xmit_probe_skb).
    const bool window_closed = y.last_window && *y.last_window == 0;
    seg.marks |= window_closed ? mark::window_probe : mark::keep_alive;
  } else if (!syn && !rst && s.payload_len > 0 && x.have_data && s.seq == x.snd_max && y.last_window &&
             *y.last_window == 0) {
    seg.marks |= mark::window_probe;
  } else if (syn && s.ack && x.bare_syn_sent && s.seq == x.iss && !x.syn_ack_sent) {
    // Simultaneous open: the SYN,ACK repeats the SYN's sequence number (RFC 9293 Figure 8).
    x.syn_ack_sent = true;
  } else if (len > 0 && x.have_data && s.seq.before(x.snd_max)) {
    // Below the highest sequence number sent: sent again, unless it fills a gap soon after the
    // data beyond it (then the network reordered it before the capture point).
    const bool seen = x.starts.contains(s.seq.raw);
    seg.marks |= !seen && s.t_ns - x.t_snd_max < reorder_ns ? mark::out_of_order : mark::retransmission;
  }
  if (len > 0) {
    x.starts.insert(s.seq.raw);
    const seq_num end = s.seq + seq_len{len};
    if (!x.have_data || end.after(x.snd_max)) {
      x.snd_max = end;
      x.t_snd_max = s.t_ns;
    }
    x.have_data = true;
  }
  if (s.ack) {
    const bool pure = s.payload_len == 0 && !syn && !fin && !rst;
    const bool same_ack = x.last_ack && *x.last_ack == *s.ack;
    const bool same_win = x.last_window && *x.last_window == s.window;
    const bool outstanding = y.have_data && s.ack->before(y.snd_max);
    if (pure && same_ack && same_win && outstanding) {
      seg.marks |= mark::dup_ack;
      seg.dup_ack_count = ++x.dup_count;
    } else if (pure && same_ack && !same_win) {
      seg.marks |= mark::window_update;
    }
    if (!same_ack) x.dup_count = 0;
    x.last_ack = s.ack;
  }
  if (!rst) x.last_window = s.window;
}

}  // namespace

void analyse(connection& c) {
  end_facts fa;
  end_facts fb;
  const bool a_opened = std::any_of(c.segments.begin(), c.segments.end(), [](const segment& s) {
    return s.from_a && has(s.wire.flags, tcp_flag::syn);
  });
  const bool b_syn = std::any_of(c.segments.begin(), c.segments.end(), [](const segment& s) {
    return !s.from_a && has(s.wire.flags, tcp_flag::syn);
  });
  c.opened_in_capture = a_opened;
  c.handshake_seen = a_opened && b_syn;
  if (!a_opened) {
    // Captured mid-connection: both ends were synchronized before the first segment.
    for (end_facts* f : {&fa, &fb}) {
      f->syn_sent = f->syn_received = f->syn_acked = true;
    }
    c.initial_a = c.initial_b = tcp_state::established;
  } else {
    c.initial_a = tcp_state::closed;
    // B listened unless it opened too (simultaneous open) or refused the SYN with a reset.
    const auto first_b = std::find_if(c.segments.begin(), c.segments.end(), [](const segment& s) { return !s.from_a; });
    const bool b_bare_syn = first_b != c.segments.end() && has(first_b->wire.flags, tcp_flag::syn) && !first_b->wire.ack;
    const bool b_refused = first_b != c.segments.end() && has(first_b->wire.flags, tcp_flag::rst);
    c.initial_b = b_bare_syn || b_refused ? tcp_state::closed : tcp_state::listen;
    fb.refuses = b_refused;
    fb.opens_too = b_bare_syn;
  }
  // Reordering is told from retransmission by time: within one handshake RTT (or 3 ms).
  std::int64_t reorder_ns = 3'000'000;
  std::optional<std::int64_t> t_syn;
  for (const segment& s : c.segments) {
    if (!s.from_a && has(s.wire.flags, tcp_flag::syn) && has(s.wire.flags, tcp_flag::ack) && t_syn) {
      reorder_ns = std::max<std::int64_t>(s.wire.t_ns - *t_syn, 100'000);
      break;
    }
    if (s.from_a && has(s.wire.flags, tcp_flag::syn) && !t_syn) t_syn = s.wire.t_ns;
  }
  bool syn_a = false;
  bool syn_b = false;
  for (segment& seg : c.segments) {
    end_facts& x = seg.from_a ? fa : fb;
    end_facts& y = seg.from_a ? fb : fa;
    if (seg.from_a && !c.isn_a) c.isn_a = seg.wire.seq;
    if (!seg.from_a && !c.isn_b) c.isn_b = seg.wire.seq;
    seg.marks &= mark::lost;
    mark_segment(seg, x, y, reorder_ns);
    on_sent(x, y, seg.wire);
    if ((seg.marks & mark::lost) == 0) on_received(y, seg.wire);
    const bool syn = has(seg.wire.flags, tcp_flag::syn);
    (seg.from_a ? syn_a : syn_b) |= syn;
    if (syn_a && syn_b && fa.wscale_offered && fb.wscale_offered) {
      c.wscale_a = std::min<std::uint8_t>(*fa.wscale_offered, 14);  // RFC 7323 §2.3
      c.wscale_b = std::min<std::uint8_t>(*fb.wscale_offered, 14);
    }
    if (syn) {
      seg.scaled_window = seg.wire.window;  // never scaled in a SYN (RFC 7323 §2.2)
    } else if (syn_a && syn_b) {
      seg.scaled_window = static_cast<std::uint32_t>(seg.wire.window) << (seg.from_a ? c.wscale_a : c.wscale_b);
    }
    seg.state_a = state_of(fa, c.initial_a);
    seg.state_b = state_of(fb, c.initial_b);
  }
}

std::vector<connection> group_connections(const std::vector<captured_segment>& segs) {
  struct tracking {
    std::size_t index = 0;
    bool ended = false;  // a reset, or FINs from both ends
    bool fin_a = false;  // from the end that sent the connection's first segment
    bool fin_b = false;
    std::optional<seq_num> syn_a;  // the SYNs' sequence numbers, from each end
    std::optional<seq_num> syn_b;
  };
  std::vector<connection> out;
  using end_key = std::pair<ip_addr, std::uint16_t>;
  std::map<std::pair<end_key, end_key>, tracking> current;
  auto key_of = [](const captured_segment& s) {
    const end_key x{s.src, s.src_port};
    const end_key y{s.dst, s.dst_port};
    return std::pair{std::min(x, y), std::max(x, y)};
  };
  for (const captured_segment& s : segs) {
    const auto key = key_of(s);
    auto it = current.find(key);
    if (it != current.end() && has(s.flags, tcp_flag::syn) && !s.ack) {
      // Port reuse: a new SYN after the old connection ended, or with another ISN.
      const connection& old = out[it->second.index];
      const bool from_first = s.src == old.a.addr && s.src_port == old.a.port;
      const std::optional<seq_num>& earlier = from_first ? it->second.syn_a : it->second.syn_b;
      if (it->second.ended || (earlier && *earlier != s.seq)) {
        current.erase(it);
        it = current.end();
      }
    }
    if (it == current.end()) {
      connection c;
      c.a = endpoint{s.src, s.src_port};
      c.b = endpoint{s.dst, s.dst_port};
      out.push_back(std::move(c));
      tracking t;
      t.index = out.size() - 1;
      it = current.emplace(key, t).first;
    }
    connection& c = out[it->second.index];
    segment seg;
    seg.wire = s;
    seg.from_a = s.src == c.a.addr && s.src_port == c.a.port;
    c.segments.push_back(seg);
    tracking& t = it->second;
    if (has(s.flags, tcp_flag::rst)) t.ended = true;
    if (has(s.flags, tcp_flag::fin)) (seg.from_a ? t.fin_a : t.fin_b) = true;
    if (has(s.flags, tcp_flag::syn)) (seg.from_a ? t.syn_a : t.syn_b) = s.seq;
    if (t.fin_a && t.fin_b) t.ended = true;
  }
  for (connection& c : out) {
    // A is the initiator: swap when B sent the first bare SYN.
    const auto first_syn = std::find_if(c.segments.begin(), c.segments.end(), [](const segment& g) {
      return has(g.wire.flags, tcp_flag::syn) && !g.wire.ack;
    });
    if (first_syn != c.segments.end() && !first_syn->from_a) {
      std::swap(c.a, c.b);
      for (segment& g : c.segments) g.from_a = !g.from_a;
    }
    analyse(c);
  }
  return out;
}

std::vector<std::string> mark_names(const segment& s) {
  std::vector<std::string> v;
  if ((s.marks & mark::lost) != 0) v.emplace_back("lost");
  if ((s.marks & mark::retransmission) != 0) v.emplace_back("retransmission");
  if ((s.marks & mark::out_of_order) != 0) v.emplace_back("out-of-order");
  if ((s.marks & mark::dup_ack) != 0) v.push_back("dup-ack #" + std::to_string(s.dup_ack_count));
  if ((s.marks & mark::zero_window) != 0) v.emplace_back("zero-window");
  if ((s.marks & mark::window_probe) != 0) v.emplace_back("window-probe");
  if ((s.marks & mark::keep_alive) != 0) v.emplace_back("keep-alive");
  if ((s.marks & mark::window_update) != 0) v.emplace_back("window-update");
  if ((s.marks & mark::dsack) != 0) v.emplace_back("D-SACK");
  if ((s.marks & mark::reset) != 0) v.emplace_back("reset");
  return v;
}

connection merge_two_points(const connection& at_a, const connection& at_b) {
  connection m;
  m.a = at_a.a;
  m.b = at_a.b;
  // The same packet at both points: every field a router leaves alone, the IP identification
  // and TCP timestamp included, so copies of a retransmitted segment are told apart.
  auto same = [](const captured_segment& x, const captured_segment& y) {
    return x.src == y.src && x.src_port == y.src_port && x.seq == y.seq && x.ack == y.ack && x.flags == y.flags &&
           x.payload_len == y.payload_len && x.window == y.window && x.ip_ident == y.ip_ident &&
           x.options.timestamps == y.options.timestamps;
  };
  // Each segment received is the copy sent last before it (the shortest transit) among the
  // identical ones not yet matched; a segment never received was lost after its sender.
  auto pair_up = [&](const connection& send_side, const connection& recv_side, bool from_a) {
    auto sent_by_a = [&](const segment& g) { return g.wire.src == m.a.addr && g.wire.src_port == m.a.port; };
    std::vector<std::size_t> sends;
    for (std::size_t i = 0; i < send_side.segments.size(); ++i) {
      if (sent_by_a(send_side.segments[i]) == from_a) sends.push_back(i);
    }
    std::vector<std::optional<std::int64_t>> received(sends.size());
    std::unordered_map<std::uint32_t, std::vector<std::size_t>> by_seq;  // in send order
    for (std::size_t k = 0; k < sends.size(); ++k) by_seq[send_side.segments[sends[k]].wire.seq.raw].push_back(k);
    for (const segment& r : recv_side.segments) {
      if (sent_by_a(r) != from_a) continue;
      std::optional<std::size_t> best;
      static const std::vector<std::size_t> none;
      const auto found = by_seq.find(r.wire.seq.raw);
      for (const std::size_t k : found == by_seq.end() ? none : found->second) {
        const captured_segment& w = send_side.segments[sends[k]].wire;
        if (received[k] || !same(w, r.wire)) continue;
        if (!best || (w.t_ns <= r.wire.t_ns)) best = k;
        if (w.t_ns > r.wire.t_ns) break;
      }
      if (best) {
        received[*best] = r.wire.t_ns;
      } else {
        segment only_here;  // seen only where it arrived (the other capture started later)
        only_here.wire = r.wire;
        only_here.from_a = from_a;
        only_here.t2_ns = r.wire.t_ns;
        m.segments.push_back(only_here);
      }
    }
    for (std::size_t k = 0; k < sends.size(); ++k) {
      segment out;
      out.wire = send_side.segments[sends[k]].wire;
      out.from_a = from_a;
      out.t2_ns = received[k];
      if (!received[k]) out.marks |= mark::lost;
      m.segments.push_back(out);
    }
  };
  pair_up(at_a, at_b, true);
  pair_up(at_b, at_a, false);
  std::stable_sort(m.segments.begin(), m.segments.end(),
                   [](const segment& x, const segment& y) { return x.wire.t_ns < y.wire.t_ns; });
  analyse(m);
  return m;
}

}  // namespace synack::diagram
