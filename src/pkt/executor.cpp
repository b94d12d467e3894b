// The runner's time loop and packets: building inbound segments, matching outbound ones.
#include "executor.hpp"

#include <algorithm>
#include <string>

#include "synack/wire/icmp.hpp"
#include "synack/wire/icmpv6.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::pkt {

namespace {

std::string flags_text(std::uint8_t f) {
  std::string s;
  if ((f & flag::syn) != 0) s += 'S';
  if ((f & flag::fin) != 0) s += 'F';
  if ((f & flag::rst) != 0) s += 'R';
  if ((f & flag::psh) != 0) s += 'P';
  if ((f & flag::urg) != 0) s += 'U';
  if ((f & flag::ece) != 0) s += 'E';
  if ((f & flag::cwr) != 0) s += 'W';
  if ((f & flag::ack) != 0) s += '.';
  return s.empty() ? "-" : s;
}

// Texts are appended piece by piece here and below: `"x" + std::to_string(n)` inserts at the
// front of a temporary, which g++ 12 at -O3 flags with a false -Wrestrict.
std::string label_number(const char* label, std::uint64_t n) {
  std::string s = label;
  s += std::to_string(n);
  return s;
}

std::string option_text(const tcp_option_spec& o) {
  using k = tcp_option_spec::kind;
  switch (o.what) {
    case k::nop: return "nop";
    case k::eol: return "eol";
    case k::mss: return label_number("mss ", o.a);
    case k::wscale: return label_number("wscale ", o.a);
    case k::sack_permitted: return "sackOK";
    case k::timestamps: {
      std::string s = label_number("TS val ", o.a);
      s += label_number(" ecr ", o.b);
      return s;
    }
    case k::sack: {
      std::string s = "sack";
      for (const auto& [l, r] : o.blocks) {
        s += label_number(" ", l);
        s += label_number(":", r);
      }
      return s;
    }
  }
  return "?";
}

std::string seconds_text(instant t) {
  const std::int64_t us = t.us < 0 ? -t.us : t.us;
  std::string frac = std::to_string(us % 1000000);
  frac.insert(0, 6 - frac.size(), '0');
  std::string s = t.us < 0 ? "-" : "";
  s += std::to_string(us / 1000000);
  s += '.';
  s += frac;
  return s;
}

void put_be16(std::byte* p, std::uint32_t v) {
  p[0] = static_cast<std::byte>((v >> 8) & 0xFF);
  p[1] = static_cast<std::byte>(v & 0xFF);
}
void put_be32(std::byte* p, std::uint32_t v) {
  put_be16(p, v >> 16);
  put_be16(p + 2, v & 0xFFFF);
}

// The TCP segment of a packet the host sent, of either family, unchecked (for the trace).
std::optional<bytes> any_tcp_segment(bytes packet) {
  if (auto v4 = ipv4_view::parse(packet); v4 && v4->protocol() == ip_proto::tcp) return v4->payload();
  if (auto v6 = ipv6_view::parse(packet); v6 && v6->next_header() == ipv6_next::tcp) return v6->payload();
  return std::nullopt;
}

std::string family_text(const char* what, unsigned version) {
  std::string s = what;
  s += std::to_string(version);
  return s;
}

}  // namespace

std::optional<ip_version> parse_ip_version(std::string_view text) {
  if (text == "ipv4") return ip_version::ipv4;
  if (text == "ipv6") return ip_version::ipv6;
  if (text == "ipv4-mapped-ipv6") return ip_version::ipv4_mapped_ipv6;
  return std::nullopt;
}

result<bytes, std::string> sent_tcp_segment(bytes packet, ip_version v, const ip_addr& from, const ip_addr& to) {
  using error = unexpected<std::string>;
  if (packet.empty()) return error{"the host sent an empty packet"};
  const unsigned version = static_cast<unsigned>(packet[0]) >> 4;
  const unsigned want = wire_is_v6(v) ? 6 : 4;
  if (version != want) {
    return error{"the host sent " + family_text("an IPv", version) + " packet where " + family_text("IPv", want) +
                 " was expected"};
  }
  bytes seg;
  ip_addr src;
  ip_addr dst;
  if (want == 6) {
    auto ip = ipv6_view::parse(packet);
    if (!ip) return error{"the host sent a malformed IPv6 packet (" + std::string{to_string(ip.error())} + ")"};
    if (ip->next_header() != ipv6_next::tcp) {
      return error{"the host sent an IPv6 packet with Next Header " + std::to_string(ip->next_header()) +
                   ", not TCP (6)"};
    }
    src = ip->src();
    dst = ip->dst();
    seg = ip->payload();
  } else {
    auto ip = ipv4_view::parse(packet);
    if (!ip) return error{"the host sent a malformed IPv4 packet (" + std::string{to_string(ip.error())} + ")"};
    if (ip->protocol() != ip_proto::tcp) return error{"the host sent a non-TCP packet"};
    src = ip->src();
    dst = ip->dst();
    seg = ip->payload();
  }
  if (src != from || dst != to) {
    return error{"the host sent a packet from " + src.to_string() + " to " + dst.to_string() + ", expected from " +
                 from.to_string() + " to " + to.to_string()};
  }
  auto tv = tcp_view::parse(seg);
  if (!tv) return error{"the host sent a malformed TCP segment (" + std::string{to_string(tv.error())} + ")"};
  if (!tv->verify_checksum(src, dst)) {
    return error{"the host sent a TCP segment with a wrong checksum (" + std::to_string(tv->checksum()) + " over the " +
                 family_text("IPv", want) + " pseudo-header)"};
  }
  return seg;
}

std::string_view to_string(relax_rule r) {
  switch (r) {
    case relax_rule::window: return "window";
    case relax_rule::options: return "options";
    case relax_rule::wscale: return "wscale";
    case relax_rule::sockbuf: return "sockbuf";
    case relax_rule::rcv_wnd: return "rcv_wnd";
    case relax_rule::fin_rexmit: return "fin_rexmit";
    case relax_rule::reset_errno: return "reset_errno";
    case relax_rule::count_: break;
  }
  return "?";
}

std::string_view to_string(verdict v) {
  switch (v) {
    case verdict::pass: return "PASS";
    case verdict::fail: return "FAIL";
    case verdict::unsupported: return "UNSUPPORTED";
  }
  return "?";
}

std::vector<tcp_option_spec> options_in_order(bytes area) {
  std::vector<tcp_option_spec> out;
  std::size_t i = 0;
  using k = tcp_option_spec::kind;
  while (i < area.size()) {
    const auto kind = static_cast<std::uint8_t>(area[i]);
    tcp_option_spec o;
    if (kind == tcp_option_kind::eol || kind == tcp_option_kind::nop) {
      o.what = kind == 0 ? k::eol : k::nop;
      out.push_back(o);
      ++i;
      continue;
    }
    if (i + 1 >= area.size()) break;
    const std::size_t len = static_cast<std::uint8_t>(area[i + 1]);
    if (len < 2 || i + len > area.size()) break;
    const std::byte* p = area.data() + i + 2;
    switch (kind) {
      case tcp_option_kind::mss:
        o.what = k::mss;
        o.a = load_be16(p);
        break;
      case tcp_option_kind::window_scale:
        o.what = k::wscale;
        o.a = load_u8(p);
        break;
      case tcp_option_kind::sack_permitted: o.what = k::sack_permitted; break;
      case tcp_option_kind::timestamps:
        o.what = k::timestamps;
        o.a = load_be32(p);
        o.b = load_be32(p + 4);
        break;
      case tcp_option_kind::sack:
        o.what = k::sack;
        for (std::size_t b = 0; b + 8 <= len - 2; b += 8) o.blocks.emplace_back(load_be32(p + b), load_be32(p + b + 4));
        break;
      default: o.what = k::nop; break;  // unknown: shown as a nop (we never send one)
    }
    out.push_back(std::move(o));
    i += len;
  }
  return out;
}

std::string format_segment(std::uint8_t flags, std::uint32_t seq, std::uint32_t len, std::uint32_t ack,
                           std::uint32_t win, std::uint16_t urg, const std::vector<tcp_option_spec>& opts) {
  std::string s = flags_text(flags) + " " + std::to_string(seq) + ":" + std::to_string(seq + len) + "(" +
                  std::to_string(len) + ")";
  if ((flags & flag::ack) != 0) s += " ack " + std::to_string(ack);
  s += " win " + std::to_string(win);
  if ((flags & flag::urg) != 0) s += " urg " + std::to_string(urg);
  if (!opts.empty()) {
    s += " <";
    for (std::size_t i = 0; i < opts.size(); ++i) {
      if (i != 0) s += ',';
      s += option_text(opts[i]);
    }
    s += ">";
  }
  return s;
}

executor::executor(const script& s, const run_options& o)
    : script_(s), opt_(o), used_rules_(static_cast<std::size_t>(relax_rule::count_), false) {
  cfg_.addr = opt_.local;
}

bool executor::fail(const event& ev, std::string msg) { return finish(ev, verdict::fail, std::move(msg)); }

bool executor::unsupported(const event& ev, std::string msg) {
  return finish(ev, verdict::unsupported, std::move(msg));
}

// The first verdict other than PASS ends the run; later ones are ignored. Always false, so a
// step can `return fail(...)`.
bool executor::finish(const event& ev, verdict v, std::string msg) {
  if (done_) return false;
  done_ = true;
  res_.what = v;
  res_.line = ev.pos.line;
  res_.message = std::move(msg);
  res_.time_us = now_.us;
  return false;
}

void executor::excused(relax_rule r) { used_rules_[static_cast<std::size_t>(r)] = true; }

four_tuple executor::tuple() const {
  four_tuple t;
  t.local_addr = local_ip();
  t.local_port = local_port_;
  t.remote_addr = remote_ip();
  t.remote_port = remote_port_;
  return t;
}

ip_addr executor::local_ip() const { return wire_is_v6(ipv_) ? ip_addr{opt_.local6} : ip_addr{opt_.local}; }
ip_addr executor::remote_ip() const { return wire_is_v6(ipv_) ? ip_addr{opt_.remote6} : ip_addr{opt_.remote}; }

int executor::socket_family() const { return ipv_ == ip_version::ipv4 ? posix::af_inet : posix::af_inet6; }

posix::sock_addr executor::socket_addr(const ip_addr& wire, std::uint16_t port) const {
  if (ipv_ == ip_version::ipv4) return posix::sock_addr{wire, port, posix::af_inet, 0};
  return posix::sock_addr{ip_addr{wire.v6()}, port, posix::af_inet6, 0};  // IPv4: ::ffff:a.b.c.d
}

void executor::write_inbound_header(std::vector<std::byte>& pkt, std::uint8_t proto, std::size_t payload_len,
                                    std::uint8_t tos) const {
  if (wire_is_v6(ipv_)) {
    ipv6_repr ip;
    ip.src = opt_.remote6;
    ip.dst = opt_.local6;
    ip.next_header = proto;
    ip.payload_len = static_cast<std::uint16_t>(payload_len);
    ip.traffic_class = tos;
    ip.emit(mutable_bytes{pkt.data(), ipv6_repr::buffer_len()});
    return;
  }
  ipv4_repr ip;
  ip.src = opt_.remote;
  ip.dst = opt_.local;
  ip.protocol = static_cast<ip_proto>(proto);
  ip.payload_len = static_cast<std::uint16_t>(payload_len);
  ip.dscp_ecn = tos;
  ip.emit(mutable_bytes{pkt.data(), ipv4_repr::buffer_len()});
}

bool executor::tuple_alive() const {
  if (!host_) return false;
  const connection* c = host_->lookup(tuple());
  if (c != nullptr && c->state() != tcp_state::closed) return true;
  return host_->lookup_time_wait(tuple()) != nullptr;
}

std::int64_t executor::tolerance_for(instant) const { return tolerance_us_; }

void executor::trace_sent(const sent_segment& s) {
  const auto seg = any_tcp_segment(s.bytes);
  if (!seg) {
    res_.trace.push_back(seconds_text(s.at) + " sent a non-TCP packet");
    return;
  }
  auto tv = tcp_view::parse(*seg);
  if (!tv) return;
  const std::uint32_t isn = (tv->flags() & flag::syn) != 0 ? tv->seq().raw : local_isn_;
  res_.trace.push_back(seconds_text(s.at) + " > " +
                       format_segment(tv->flags(), tv->seq().raw - isn, static_cast<std::uint32_t>(tv->payload().size()),
                                      tv->ack_num().raw, tv->window(), tv->urgent_ptr(), options_in_order(tv->options())) +
                       "  [" + std::to_string(tv->src_port()) + ">" + std::to_string(tv->dst_port()) + "]");
}

// ---- time ----------------------------------------------------------------------------------

void executor::pump() {
  if (!host_) return;
  for (int guard = 0; guard < 100000; ++guard) {
    bool busy = false;
    while (auto n = host_->poll_transmit(now_, buf_)) {
      busy = true;
      sent_.push_back({now_, std::vector<std::byte>(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(*n))});
      if (opt_.trace) trace_sent(sent_.back());
    }
    while (host_->poll_event()) {
    }
    if (const auto d = host_->next_deadline(); d && *d <= now_) {
      host_->on_timeout(now_);
      busy = true;
    }
    if (pending_ && !in_retry_) {
      in_retry_ = true;
      retry_pending();
      in_retry_ = false;
      busy = busy || !pending_;
    }
    if (!busy) return;
  }
}

void executor::advance_to(instant t) {
  pump();
  while (host_ && !done_) {
    const auto d = host_->next_deadline();
    if (!d || *d > t) break;
    now_ = std::max(now_, *d);
    pump();
  }
  now_ = std::max(now_, t);
  pump();
}

bool executor::advance_until_sent(instant limit) {
  pump();
  while (sent_.empty() && host_ && !done_) {
    const auto d = host_->next_deadline();
    if (!d || *d > limit) break;
    now_ = std::max(now_, *d);
    pump();
  }
  if (sent_.empty()) now_ = std::max(now_, limit);
  return !sent_.empty();
}

// ---- packets -------------------------------------------------------------------------------

bool executor::inbound(const event& ev, const packet_spec& p) {
  ensure_host();
  const bool pure_syn = (p.flags & flag::syn) != 0 && (p.flags & flag::ack) == 0;
  if (p.remote_port) {
    remote_port_ = *p.remote_port;
    if (p.local_port) local_port_ = *p.local_port;
    if (auto it = isn_by_port_.find(remote_port_); it != isn_by_port_.end()) local_isn_ = it->second;
  } else if (pure_syn) {
    // A SYN to a connection the host still knows goes to it; otherwise it opens a new one
    // from a fresh port, as packetdrill's new socket under test.
    if (conn_seen_ && !tuple_alive()) remote_port_ = next_remote_port_++;
  }
  if ((p.flags & flag::syn) != 0) conn_seen_ = true;
  if (p.any_seq) return fail(ev, "`...` sequence numbers are only for outbound packets");

  std::vector<std::byte> opts;
  if (p.options) {
    for (const auto& o : *p.options) {
      using k = tcp_option_spec::kind;
      auto push = [&](std::uint32_t v, int n) {
        for (int i = n - 1; i >= 0; --i) opts.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
      };
      switch (o.what) {
        case k::nop: push(1, 1); break;
        case k::eol: push(0, 1); break;
        case k::mss: push(2, 1), push(4, 1), push(o.a, 2); break;
        case k::wscale: push(3, 1), push(3, 1), push(o.a, 1); break;
        case k::sack_permitted: push(4, 1), push(2, 1); break;
        case k::timestamps: {
          std::uint32_t ecr = o.b;
          if (auto it = ts_map_.find(o.b); it != ts_map_.end()) {
            ecr = it->second;
          } else if (ts_last_ && o.b != 0) {
            ecr = o.b - ts_last_->first + ts_last_->second;
          }
          push(8, 1), push(10, 1), push(o.a, 4), push(ecr, 4);
          break;
        }
        case k::sack:
          push(5, 1), push(static_cast<std::uint32_t>(2 + 8 * o.blocks.size()), 1);
          for (const auto& [l, r] : o.blocks) push(l + local_isn_, 4), push(r + local_isn_, 4);
          break;
      }
    }
  }
  if (opts.size() > 40) return fail(ev, "more than 40 bytes of TCP options");
  while (opts.size() % 4 != 0) opts.push_back(std::byte{0});

  std::uint32_t seq = p.seq;
  // relaxed rcv_wnd: the script injects at RCV.NXT + 65700 (+-1), FreeBSD's internal window;
  // re-express the offset against the window the host advertised.
  if (relaxed() && script_rcvbuf_ && *script_rcvbuf_ > 65535) {
    if (const connection* c = host_->lookup(tuple()); c != nullptr && c->state() != tcp_state::syn_sent) {
      const std::uint32_t rcv_nxt = c->rcv().nxt.raw;
      const std::uint32_t off = p.seq - rcv_nxt;
      const std::uint32_t w = *script_rcvbuf_;
      const std::uint32_t ours = c->rcv().wnd;
      if (off + 1 >= w && off <= w + 1 && ours < w) {
        seq = rcv_nxt + ours + (off + 1 - w) - 1;
        excused(relax_rule::rcv_wnd);
      }
    }
  }

  const std::size_t tcp_len = 20 + opts.size() + p.len;
  const std::size_t ip_len = wire_is_v6(ipv_) ? ipv6_repr::buffer_len() : ipv4_repr::buffer_len();
  std::vector<std::byte> pkt(ip_len + tcp_len);
  std::byte* t = pkt.data() + ip_len;
  put_be16(t, remote_port_);
  put_be16(t + 2, local_port_);
  put_be32(t + 4, seq);
  put_be32(t + 8, p.ack ? *p.ack + local_isn_ : 0);
  t[12] = static_cast<std::byte>(((20 + opts.size()) / 4) << 4);
  t[13] = static_cast<std::byte>(p.flags);
  put_be16(t + 14, p.win.value_or(0) & 0xFFFF);
  put_be16(t + 18, p.urg.value_or(0) & 0xFFFF);
  std::copy(opts.begin(), opts.end(), t + 20);
  tcp_repr::fill_checksum(mutable_bytes{t, tcp_len}, remote_ip(), local_ip());
  std::uint8_t ecn = 0;
  if (p.ecn == "ect0") ecn = 2;
  if (p.ecn == "ect1") ecn = 1;
  if (p.ecn == "ce") ecn = 3;
  write_inbound_header(pkt, static_cast<std::uint8_t>(ip_proto::tcp), tcp_len, ecn);
  // A reset in CLOSE-WAIT: the peer's RST, or its SYN that the host answers with one (RFC 793's
  // "If the SYN is in the window it is an error, send a reset", rfc5961_syn off).
  const bool rst_in_close_wait =
      (p.flags & (flag::rst | flag::syn)) != 0 && current_state() == tcp_state::close_wait;
  host_->on_packet(now_, pkt);
  pump();
  if (rst_in_close_wait && current_state() == tcp_state::closed) reset_in_close_wait_ = true;
  return true;
}

namespace {

struct icmp_name {
  std::string_view type, code;
  std::uint8_t t, c;
};

// packetdrill's names of ICMP types and codes (RFC 792, RFC 1812 §5.2.7.1).
constexpr icmp_name icmpv4_names[] = {
    {"unreachable", "net_unreachable", 3, 0},       {"unreachable", "host_unreachable", 3, 1},
    {"unreachable", "protocol_unreachable", 3, 2},  {"unreachable", "port_unreachable", 3, 3},
    {"unreachable", "frag_needed", 3, 4},           {"unreachable", "source_route_failed", 3, 5},
    {"unreachable", "net_unknown", 3, 6},           {"unreachable", "host_unknown", 3, 7},
    {"unreachable", "source_host_isolated", 3, 8},  {"unreachable", "net_prohibited", 3, 9},
    {"unreachable", "host_prohibited", 3, 10},      {"unreachable", "net_unreachable_for_tos", 3, 11},
    {"unreachable", "host_unreachable_for_tos", 3, 12}, {"unreachable", "packet_filtered", 3, 13},
    {"unreachable", "admin_prohibited", 3, 13},     {"unreachable", "precedence_violation", 3, 14},
    {"unreachable", "precedence_cutoff", 3, 15},    {"time_exceeded", "ttl_exceeded_in_transit", 11, 0},
    {"time_exceeded", "frag_reass_exceeded", 11, 1}, {"source_quench", "", 4, 0},
    {"redirect", "", 5, 0},                          {"parameter_problem", "code_0", 12, 0},
    {"parameter_problem", "code_1", 12, 1},          {"parameter_problem", "code_2", 12, 2},
};

// The same names in an IPv6 script, for ICMPv6 (RFC 4443 §3): Destination Unreachable (1),
// Packet Too Big (2, with `mtu N`), Time Exceeded (3), Parameter Problem (4).
constexpr icmp_name icmpv6_names[] = {
    {"unreachable", "no_route", 1, 0},           {"unreachable", "net_unreachable", 1, 0},
    {"unreachable", "admin_prohibited", 1, 1},   {"unreachable", "not_neighbour", 1, 2},
    {"unreachable", "address_unreachable", 1, 3}, {"unreachable", "port_unreachable", 1, 4},
    {"packet_too_big", "", 2, 0},                {"time_exceeded", "exceeded_hop_limit", 3, 0},
    {"time_exceeded", "exceeded_frag_time", 3, 1}, {"parameter_problem", "header_field", 4, 0},
    {"parameter_problem", "unknown_next_header", 4, 1}, {"parameter_problem", "unknown_option", 4, 2},
};

template <std::size_t N>
const icmp_name* find_icmp(const icmp_name (&names)[N], const icmp_spec& p) {
  for (const auto& n : names) {
    if (n.type == p.type && n.code == p.code) return &n;
  }
  return nullptr;
}

}  // namespace

bool executor::inbound_icmp(const event& ev, const icmp_spec& p) {
  ensure_host();
  const bool v6 = wire_is_v6(ipv_);
  const icmp_name* found = v6 ? find_icmp(icmpv6_names, p) : find_icmp(icmpv4_names, p);
  if (found == nullptr) return unsupported(ev, std::string{v6 ? "ICMPv6 " : "ICMP "} + p.type + " " + p.code);
  if (v6 && p.mtu && found->t != 2) return fail(ev, "an ICMPv6 mtu is only for packet_too_big");
  // The quoted datagram: the host's own segment (its IP header and first 8 TCP octets).
  const std::size_t qip = v6 ? ipv6_repr::buffer_len() : ipv4_repr::buffer_len();
  std::vector<std::byte> quote(qip + 8);
  if (v6) {
    ipv6_repr q;
    q.src = opt_.local6;
    q.dst = opt_.remote6;
    q.payload_len = 20;
    q.emit(mutable_bytes{quote.data(), qip});
  } else {
    ipv4_repr q;
    q.src = opt_.local;
    q.dst = opt_.remote;
    q.payload_len = 20;
    q.emit(mutable_bytes{quote.data(), qip});
  }
  put_be16(quote.data() + qip, local_port_);
  put_be16(quote.data() + qip + 2, remote_port_);
  put_be32(quote.data() + qip + 4, p.quoted_seq + local_isn_);
  std::vector<std::byte> pkt;
  if (v6) {
    icmpv6_repr ic;
    ic.type = static_cast<icmpv6_type>(found->t);
    ic.code = found->c;
    if (p.mtu) ic.mtu = *p.mtu;
    ic.data = bytes{quote.data(), quote.size()};
    pkt.resize(ipv6_repr::buffer_len() + ic.buffer_len());
    ic.emit(mutable_bytes{pkt.data() + ipv6_repr::buffer_len(), ic.buffer_len()}, opt_.remote6, opt_.local6);
    write_inbound_header(pkt, ipv6_next::icmpv6, ic.buffer_len(), 0);
  } else {
    icmpv4_repr ic;
    ic.type = static_cast<icmp_type>(found->t);
    ic.code = found->c;
    if (p.mtu) ic.next_hop_mtu = static_cast<std::uint16_t>(*p.mtu);
    ic.data = bytes{quote.data(), quote.size()};
    pkt.resize(ipv4_repr::buffer_len() + ic.buffer_len());
    ic.emit(mutable_bytes{pkt.data() + ipv4_repr::buffer_len(), ic.buffer_len()});
    write_inbound_header(pkt, static_cast<std::uint8_t>(ip_proto::icmp), ic.buffer_len(), 0);
  }
  host_->on_packet(now_, pkt);
  pump();
  return true;
}

bool executor::outbound(const event& ev, const packet_spec& p, instant lo, instant hi) {
  ensure_host();
  const std::int64_t tol = tolerance_for(lo);
  const bool any = ev.time.what == event_time::kind::any;
  const instant limit = any ? instant::from_us(opt_.max_virtual_us) : hi + duration{tol};
  if (!advance_until_sent(limit)) {
    return fail(ev, "expected `" + ev.source + "` at " + seconds_text(lo) + " s; nothing was sent by " +
                        seconds_text(now_) + " s");
  }
  const sent_segment s = sent_.front();
  sent_.pop_front();
  if (!any && (s.at < lo - duration{tol} || s.at > hi + duration{tol})) {
    return fail(ev, "timing: expected at " + seconds_text(lo) + " s (tolerance " + std::to_string(tol) +
                        " us), sent at " + seconds_text(s.at) + " s");
  }
  return compare(ev, p, s);
}

bool executor::compare(const event& ev, const packet_spec& p, const sent_segment& s) {
  const auto seg = sent_tcp_segment(s.bytes, ipv_, local_ip(), remote_ip());
  if (!seg) return fail(ev, seg.error() + " (expected `" + ev.source + "`)");
  auto tv = tcp_view::parse(*seg);
  if (!tv) return fail(ev, "the host sent a malformed TCP segment");
  const std::uint8_t fl = tv->flags();
  if ((fl & flag::syn) != 0) {
    local_isn_ = tv->seq().raw;  // packetdrill: the host's ISN from its SYN / SYN-ACK
    local_port_ = tv->src_port();
    remote_port_ = tv->dst_port();
    isn_by_port_[remote_port_] = local_isn_;
  } else if (auto it = isn_by_port_.find(tv->dst_port()); it != isn_by_port_.end()) {
    local_isn_ = it->second;  // several connections: each has its own ISN
  }
  const std::uint32_t len = static_cast<std::uint32_t>(tv->payload().size());
  const std::uint32_t seq = tv->seq().raw - local_isn_;
  const std::uint32_t ack = tv->ack_num().raw;
  const std::vector<tcp_option_spec> opts = options_in_order(tv->options());
  const std::string actual = format_segment(fl, seq, len, ack, tv->window(), tv->urgent_ptr(), opts);
  std::string why;
  auto differ = [&](const std::string& what) {
    if (why.empty()) why = what;
  };
  const bool fin_rexmit = fin_rexmit_excuses(p, *tv);
  if (fl != p.flags && !fin_rexmit) differ("flags");
  if (!p.any_seq && seq != p.seq && !fin_rexmit) differ("sequence number");
  if (len != p.len) differ("payload length");
  if ((fl & flag::ack) != 0 && p.ack && ack != *p.ack) differ("ack number");
  if (p.urg && tv->urgent_ptr() != *p.urg) differ("urgent pointer");
  if (p.win && tv->window() != *p.win) {
    if (relaxed() && (fl & flag::rst) == 0) {
      excused(relax_rule::window);
    } else {
      differ("window");
    }
  }
  if (p.remote_port && tv->dst_port() != *p.remote_port) differ("remote port");
  if (p.local_port && tv->src_port() != *p.local_port) differ("local port");
  // Options: written in order (strict), or as a set (relaxed); TS val is never compared, it
  // is learnt (script val -> live val) for the ecr of later inbound segments.
  for (const auto& o : opts) {
    if (o.what != tcp_option_spec::kind::timestamps || !p.options) continue;
    for (const auto& e : *p.options) {
      if (e.what == tcp_option_spec::kind::timestamps) {
        ts_map_[e.a] = o.a;
        ts_last_ = std::pair{e.a, o.a};
      }
    }
  }
  if (p.options && !p.options_any) {
    using k = tcp_option_spec::kind;
    auto same = [&](const tcp_option_spec& a, const tcp_option_spec& e, bool& ws_excused) {
      if (a.what != e.what) return false;
      switch (a.what) {
        case k::nop:
        case k::eol:
        case k::sack_permitted: return true;
        case k::mss: return a.a == e.a;
        case k::wscale:
          if (a.a != e.a && relaxed()) ws_excused = true;
          return a.a == e.a || relaxed();
        case k::timestamps: return a.b == e.b;
        case k::sack: return a.blocks == e.blocks;
      }
      return false;
    };
    bool ws = false;
    bool ok = opts.size() == p.options->size();
    for (std::size_t i = 0; ok && i < opts.size(); ++i) ok = same(opts[i], (*p.options)[i], ws);
    if (!ok && relaxed()) {
      auto real = [](const std::vector<tcp_option_spec>& v) {
        std::vector<tcp_option_spec> r;
        for (const auto& o : v) {
          if (o.what != k::nop && o.what != k::eol) r.push_back(o);
        }
        std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.what < b.what; });
        return r;
      };
      const auto ra = real(opts);
      const auto re = real(*p.options);
      ok = ra.size() == re.size();
      for (std::size_t i = 0; ok && i < ra.size(); ++i) ok = same(ra[i], re[i], ws);
      if (ok) excused(relax_rule::options);
    }
    if (ok && ws) excused(relax_rule::wscale);
    if (!ok) differ("options");
  }
  if (!why.empty()) {
    return fail(ev, why + " differs: expected `" + ev.source + "`, sent `" + actual + "` at " + seconds_text(s.at) +
                        " s");
  }
  if (fin_rexmit) excused(relax_rule::fin_rexmit);
  if ((fl & flag::fin) != 0) fin_end_[tv->dst_port()] = tv->seq().raw + len + 1;
  return true;
}

// relaxed fin_rexmit: the script expects `F.` at the seq of the host's FIN (FreeBSD sends its
// unacknowledged FIN again with every segment, e.g. when it acknowledges the peer's FIN in
// FIN-WAIT-1), the host sent the ACK RFC 9293 §3.10.7.4 asks for, <SEQ=SND.NXT><ACK=RCV.NXT>,
// right after that FIN, which is still unacknowledged. Ack, window and options are still compared.
bool executor::fin_rexmit_excuses(const packet_spec& p, const tcp_view& tv) const {
  const std::uint8_t fl = tv.flags();
  if (!relaxed() || p.any_seq || (fl & flag::ack) == 0 || (fl & flag::fin) != 0) return false;
  if (p.flags != (fl | flag::fin) || p.len != 0 || !tv.payload().empty()) return false;
  const auto it = fin_end_.find(tv.dst_port());
  if (it == fin_end_.end() || it->second != tv.seq().raw) return false;  // not right after our FIN
  if (p.seq + 1 != tv.seq().raw - local_isn_) return false;             // the script's FIN seq
  const connection* c = host_->lookup(tuple());
  return c != nullptr && c->snd().una.before(tv.seq());  // the FIN is unacknowledged
}

}  // namespace synack::pkt
