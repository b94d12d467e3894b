#pragma once
// Exact-packet harness for one synack::host on virtual time (DESIGN.md §3).
//
// The test plays the remote peer 192.0.2.2: it builds IPv4+TCP (or ICMP) packets from reprs,
// feeds them with host::on_packet, and parses what host::poll_transmit emits back into reprs
// for exact comparison. Timers due up to `at` fire first, each at its own deadline, as a
// driver would. Failures point at the test line (test::source_loc, which clang 14 supports).
//
// The peer's ISN sits just below the 2^32 wrap. The host's ISNs come from RFC 6528 (keyed by
// host_config::secret), so fixtures read them from the emitted SYN / SYN-ACK.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <deque>
#include <sstream>
#include <string>
#include <vector>

#include "support/describe.hpp"
#include "support/source_loc.hpp"
#include "synack/stack/host.hpp"
#include "synack/wire/checksum.hpp"
#include "synack/wire/icmp.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::stest {

inline constexpr ipv4_addr host_ip = ipv4_addr::from_octets(192, 0, 2, 1);
inline constexpr ipv4_addr peer_ip = ipv4_addr::from_octets(192, 0, 2, 2);
inline constexpr std::uint16_t host_port = 80;
inline constexpr std::uint16_t peer_port = 49152;
inline constexpr seq_num peer_iss{0xFFFFFFFFu - 999};  // wraps after 999 octets

inline instant at_ms(std::int64_t ms) { return instant{ms * 1000}; }
inline instant at_s(std::int64_t s) { return instant{s * 1'000'000}; }

inline host_config default_config() {
  host_config c;
  c.addr = host_ip;
  return c;
}

using test::describe;

// Collects the host's operator notices (host_log).
struct log_lines final : host_log {
  std::vector<std::string> lines;
  void on_log(instant, std::string_view line) override { lines.emplace_back(line); }
};

// A segment template. Sent: peer_port -> host_port. Expected: host_port -> peer_port.
struct seg {
  seq_num seq{};
  std::optional<seq_num> ack{};
  std::uint8_t flags = 0;
  std::uint16_t window = 0xFFFF;
  std::string payload{};
  std::optional<std::uint16_t> mss{};
  std::optional<std::uint8_t> wscale{};
  std::uint16_t peer = peer_port;
  std::uint16_t local = host_port;
  std::optional<tcp_timestamps> ts{};
  bool sack_permitted = false;
  std::optional<tcp_fast_open> fo{};  // RFC 7413 option, sent as given
};

// One packet the host emitted, parsed.
struct packet {
  ipv4_repr ip;
  std::optional<tcp_repr> tcp;
  std::optional<icmpv4_repr> icmp;
};

// Every counter, compared field by field with a readable difference.
inline std::string counters_diff(const host_counters& a, const host_counters& b) {
  std::ostringstream o;
  auto f = [&](const char* name, std::uint64_t x, std::uint64_t y) {
    if (x != y) o << name << ": " << x << " != " << y << "\n";
  };
#define SYNACK_F(n) f(#n, a.n, b.n)
  SYNACK_F(active_opens); SYNACK_F(passive_opens); SYNACK_F(attempt_fails); SYNACK_F(estab_resets);
  SYNACK_F(curr_estab); SYNACK_F(in_segs); SYNACK_F(out_segs); SYNACK_F(retrans_segs); SYNACK_F(in_errs);
  SYNACK_F(out_rsts); SYNACK_F(listen_overflows); SYNACK_F(listen_drops); SYNACK_F(ip_in_receives);
  SYNACK_F(ip_out_requests); SYNACK_F(icmp_in_echos); SYNACK_F(icmp_out_echo_reps);
  SYNACK_F(icmp_in_errors_matched); SYNACK_F(icmp_soft_errors); SYNACK_F(icmp_hard_aborts);
  SYNACK_F(pmtu_reductions); SYNACK_F(icmp_errors_ignored); SYNACK_F(time_wait_recycled); SYNACK_F(challenge_acks_suppressed);
  SYNACK_F(syncookies_sent); SYNACK_F(syncookies_recv); SYNACK_F(syncookies_failed); SYNACK_F(r1_negative_advice);
  SYNACK_F(syn_deferred); SYNACK_F(syn_deferred_retransmits); SYNACK_F(syn_deferred_accepted);
  SYNACK_F(syn_deferred_refused); SYNACK_F(syn_deferred_unreachable); SYNACK_F(syn_deferred_expired);
  SYNACK_F(syn_deferred_reset);
  SYNACK_F(syn_deferred_overflow);
  SYNACK_F(fast_open_passive); SYNACK_F(fast_open_passive_fail); SYNACK_F(fast_open_cookie_reqd);
  SYNACK_F(fast_open_listen_overflow); SYNACK_F(fast_open_active); SYNACK_F(fast_open_active_fail);
#undef SYNACK_F
  for (std::size_t i = 0; i < a.drop_wire.size(); ++i) {
    f(std::string("wire:").append(to_string(static_cast<wire_error>(i))).c_str(), a.drop_wire[i], b.drop_wire[i]);
  }
  for (std::size_t i = 0; i < a.drop_tcp.size(); ++i) {
    f(std::string("tcp:").append(to_string(static_cast<rx_verdict>(i))).c_str(), a.drop_tcp[i], b.drop_tcp[i]);
  }
  for (std::size_t i = 0; i < a.drop_host.size(); ++i) {
    f(std::string("host:").append(to_string(static_cast<host_drop>(i))).c_str(), a.drop_host[i], b.drop_host[i]);
  }
  return o.str();
}

// The fields of a TCB that hostile or malformed input must not touch.
struct tcb_fields {
  tcp_state state = tcp_state::closed;
  seq_num snd_una, snd_nxt, rcv_nxt;
  std::uint32_t snd_wnd = 0, rcv_wnd = 0;
  seq_num snd_wl1, snd_wl2;
  friend bool operator==(const tcb_fields&, const tcb_fields&) = default;
};

inline std::ostream& operator<<(std::ostream& o, const tcb_fields& f) {
  return o << to_string(f.state) << " una=" << f.snd_una.raw << " nxt=" << f.snd_nxt.raw << " rcv.nxt=" << f.rcv_nxt.raw
           << " snd.wnd=" << f.snd_wnd << " rcv.wnd=" << f.rcv_wnd << " wl1=" << f.snd_wl1.raw << " wl2=" << f.snd_wl2.raw;
}

// A connection the fixtures opened, with its sequence-number origins.
struct conn_info {
  conn_handle h;
  std::uint16_t local = host_port;  // the host's port
  std::uint16_t peer = peer_port;   // the test's port
  seq_num iss;                      // the host's ISS (read from its SYN / SYN-ACK)
  seq_num irs = peer_iss;           // the peer's ISS
  [[nodiscard]] seq_num l(std::uint32_t off) const { return iss + seq_len{off}; }  // host side
  [[nodiscard]] seq_num r(std::uint32_t off) const { return irs + seq_len{off}; }  // peer side
  [[nodiscard]] four_tuple tuple() const { return four_tuple{host_ip, local, peer_ip, peer}; }
};

class stack_harness {
 public:
  explicit stack_harness(host_config cfg = default_config()) : host_(cfg) {}

  host& h() { return host_; }
  [[nodiscard]] const host_counters& ctr() const { return host_.counters(); }

  // ---- building packets --------------------------------------------------------------------
  static tcp_repr to_repr(const seg& s, std::uint16_t sport, std::uint16_t dport, std::string& storage) {
    tcp_repr r;
    r.src_port = sport;
    r.dst_port = dport;
    r.seq = s.seq;
    r.ack = s.ack;
    r.flags = s.flags;
    r.window = s.window;
    r.options.mss = s.mss;
    r.options.window_scale = s.wscale;
    r.options.timestamps = s.ts;
    r.options.sack_permitted = s.sack_permitted;
    r.options.fast_open = s.fo;
    storage = s.payload;
    r.payload = std::as_bytes(std::span{storage.data(), storage.size()});
    return r;
  }
  // An IPv4 header (no options, DF) in front of `payload`.
  static std::vector<std::byte> ip_packet(ip_proto proto, bytes payload, ipv4_addr src = peer_ip,
                                          ipv4_addr dst = host_ip) {
    std::vector<std::byte> b(20 + payload.size());
    ipv4_repr ip;
    ip.src = src;
    ip.dst = dst;
    ip.protocol = proto;
    ip.payload_len = static_cast<std::uint16_t>(payload.size());
    ip.emit(b);
    std::ranges::copy(payload, b.begin() + 20);
    return b;
  }
  static std::vector<std::byte> tcp_packet(const seg& s, ipv4_addr src = peer_ip, ipv4_addr dst = host_ip) {
    std::string storage;
    const tcp_repr r = to_repr(s, s.peer, s.local, storage);
    std::vector<std::byte> t(r.buffer_len());
    r.emit(t, src, dst);
    return ip_packet(ip_proto::tcp, t, src, dst);
  }
  static std::vector<std::byte> icmp_packet(const icmpv4_repr& m, ipv4_addr src = peer_ip, ipv4_addr dst = host_ip) {
    std::vector<std::byte> t(m.buffer_len());
    m.emit(t);
    return ip_packet(ip_proto::icmp, t, src, dst);
  }
  // Recomputes the IPv4 header checksum after a test edited the header.
  static void fix_ip_checksum(std::vector<std::byte>& p) {
    const std::size_t ihl = (static_cast<std::size_t>(p[0]) & 0x0Fu) * 4u;
    store_be16(&p[10], 0);
    store_be16(&p[10], internet_checksum(bytes{p}.first(std::min(ihl, p.size()))));
  }
  // Recomputes the TCP checksum (IHL 5) after a test edited the TCP header.
  static void fix_tcp_checksum(std::vector<std::byte>& p, ipv4_addr src = peer_ip, ipv4_addr dst = host_ip) {
    tcp_repr::fill_checksum(mutable_bytes{p}.subspan(20), src, dst);
  }

  // ---- driving -----------------------------------------------------------------------------
  // Runs timers up to `at`, each due deadline at its own time.
  void advance(instant at) {
    while (auto d = host_.next_deadline()) {
      if (*d > at) break;
      host_.on_timeout(*d);
      if (host_.next_deadline() == d) break;  // a deadline that does not move would spin
    }
  }
  void feed(instant at, bytes pkt) {
    advance(at);
    host_.on_packet(at, pkt);
  }
  void send(instant at, const seg& s) {
    const auto p = tcp_packet(s);
    feed(at, p);
  }

  // Fires due timers, polls one packet and parses it (IPv4 header checks included).
  std::optional<packet> poll(instant at) {
    advance(at);
    std::vector<std::byte>& buf = out_.emplace_back(host_.max_packet_len());
    auto n = host_.poll_transmit(at, buf);
    if (!n) {
      out_.pop_back();
      return std::nullopt;
    }
    buf.resize(*n);
    auto ip = ipv4_view::parse(buf);
    EXPECT_TRUE(ip.has_value()) << "host emitted an unparsable IPv4 packet";
    if (!ip) return std::nullopt;
    packet p;
    p.ip = ipv4_repr::parse(*ip);
    EXPECT_EQ(p.ip.src, host_ip);
    EXPECT_EQ(p.ip.ttl, host_.config().ttl);
    EXPECT_TRUE(p.ip.dont_fragment);
    if (p.ip.protocol == ip_proto::tcp) {
      auto v = tcp_view::parse(ip->payload());
      EXPECT_TRUE(v.has_value()) << "host emitted an unparsable TCP segment";
      if (!v) return p;
      tcp_repr t;
      const auto err = tcp_repr::parse(*v, p.ip.src, p.ip.dst, t);
      EXPECT_FALSE(err.has_value()) << "host emitted a TCP segment with a bad checksum";
      if (!err) p.tcp = t;
    } else if (p.ip.protocol == ip_proto::icmp) {
      auto m = icmpv4_repr::parse(ip->payload());
      EXPECT_TRUE(m.has_value()) << "host emitted a bad ICMP message";
      if (m) p.icmp = *m;
    }
    return p;
  }

  // Polls one TCP segment and compares ports, flags, seq, ack, payload; window, MSS and
  // window scale when `check_window` / the template sets them.
  std::optional<tcp_repr> expect_tcp(instant at, const seg& want, bool check_window = false,
                                     test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    auto got = poll(at);
    EXPECT_TRUE(got.has_value() && got->tcp.has_value()) << "expected a TCP segment, got nothing";
    if (!got || !got->tcp) return std::nullopt;
    EXPECT_EQ(got->ip.dst, peer_ip);
    const tcp_repr& g = *got->tcp;
    std::string storage;
    const tcp_repr w = to_repr(want, want.local, want.peer, storage);
    EXPECT_EQ(g.src_port, w.src_port) << "got " << describe(g);
    EXPECT_EQ(g.dst_port, w.dst_port) << "got " << describe(g);
    EXPECT_EQ(g.wire_flags(), w.wire_flags()) << "got " << describe(g) << "\nwant " << describe(w);
    EXPECT_EQ(g.seq.raw, w.seq.raw) << "got " << describe(g) << "\nwant " << describe(w);
    EXPECT_EQ(g.ack.has_value(), w.ack.has_value()) << "got " << describe(g);
    if (g.ack && w.ack) {
      EXPECT_EQ(g.ack->raw, w.ack->raw) << "got " << describe(g) << "\nwant " << describe(w);
    }
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(g.payload.data()), g.payload.size()), want.payload);
    if (check_window) {
      EXPECT_EQ(g.window, w.window) << "got " << describe(g);
    }
    if (want.mss) {
      EXPECT_EQ(g.options.mss, want.mss) << "got " << describe(g);
    }
    if (want.wscale) {
      EXPECT_EQ(g.options.window_scale, want.wscale) << "got " << describe(g);
    }
    return g;
  }

  void expect_nothing(instant at, test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    auto got = poll(at);
    if (got && got->tcp) {
      ADD_FAILURE() << "expected silence, got TCP " << describe(*got->tcp);
    } else if (got) {
      ADD_FAILURE() << "expected silence, got a packet of protocol " << static_cast<int>(got->ip.protocol);
    }
  }

  void expect_counters(const host_counters& want, test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    EXPECT_EQ(counters_diff(host_.counters(), want), "") << "(got != want)";
  }

  tcb_fields fields(conn_handle h) {
    const connection* c = host_.find(h);
    EXPECT_NE(c, nullptr);
    if (c == nullptr) return {};
    const tcb_snapshot s = c->snapshot();
    return tcb_fields{s.state, s.snd.una, s.snd.nxt, s.rcv.nxt, s.snd.wnd, s.rcv.wnd, s.snd.wl1, s.snd.wl2};
  }

  std::vector<host_event> events() {
    std::vector<host_event> v;
    while (auto e = host_.poll_event()) v.push_back(*e);
    return v;
  }

  // ---- fixtures through the real API (each one a real handshake) --------------------------
  listener_handle listen(std::uint16_t port = host_port, std::size_t backlog = 16) {
    auto l = host_.listen(port, backlog);
    EXPECT_TRUE(l.has_value());
    return l ? *l : listener_handle{};
  }
  // SYN from `peer` -> SYN-ACK (its seq read as the host's ISS); no window scaling, so every
  // window field is the plain 65535.
  conn_info syn_to_listener(instant at, std::uint16_t peer = peer_port, std::uint16_t local = host_port) {
    conn_info c;
    c.local = local;
    c.peer = peer;
    send(at, seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1460, .peer = peer, .local = local});
    auto synack = poll(at);
    EXPECT_TRUE(synack && synack->tcp) << "no SYN-ACK";
    if (synack && synack->tcp) {
      EXPECT_EQ(synack->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack) << describe(*synack->tcp);
      EXPECT_EQ(synack->tcp->ack, peer_iss + seq_len{1});
      c.iss = synack->tcp->seq;
    }
    return c;
  }
  // A passive open to ESTABLISHED, accepted from listener `l`.
  conn_info establish_passive(instant at, listener_handle l, std::uint16_t peer = peer_port) {
    conn_info c = syn_to_listener(at, peer);
    send(at, seg{.seq = c.r(1), .ack = c.l(1), .peer = peer});
    auto a = host_.accept(l);
    EXPECT_TRUE(a.has_value()) << "accept failed";
    if (a) c.h = *a;
    EXPECT_EQ(host_.state(c.h), tcp_state::established);
    (void)events();
    return c;
  }
  // An active open to ESTABLISHED: the peer (port 80 on 192.0.2.2) answers the SYN.
  conn_info establish_active(instant at) {
    conn_info c;
    c.peer = 80;
    auto h = host_.connect(at, peer_ip, 80);
    EXPECT_TRUE(h.has_value());
    if (!h) return c;
    c.h = *h;
    auto syn = poll(at);
    EXPECT_TRUE(syn && syn->tcp) << "no SYN";
    if (!syn || !syn->tcp) return c;
    c.iss = syn->tcp->seq;
    c.local = syn->tcp->src_port;
    send(at, seg{.seq = c.r(0), .ack = c.l(1), .flags = tcp_flag::syn, .mss = 1460, .peer = c.peer, .local = c.local});
    expect_tcp(at, seg{.seq = c.l(1), .ack = c.r(1), .peer = c.peer, .local = c.local});
    EXPECT_EQ(host_.state(c.h), tcp_state::established);
    (void)events();
    return c;
  }

  std::size_t write(conn_handle c, std::string_view s) {
    auto n = host_.send(c, std::as_bytes(std::span{s.data(), s.size()}));
    return n ? *n : 0;
  }
  std::string read_all(conn_handle c) {
    std::string s;
    std::array<std::byte, 4096> b{};
    while (true) {
      auto n = host_.recv(c, b);
      if (!n || *n == 0) break;
      s.append(reinterpret_cast<const char*>(b.data()), *n);
    }
    return s;
  }

 private:
  host host_;
  std::deque<std::vector<std::byte>> out_;
};

}  // namespace synack::stest
