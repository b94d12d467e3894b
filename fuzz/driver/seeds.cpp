// Seed corpus (see seeds.hpp): valid packets built from reprs, and stack programs that walk a
// connection through the handshake, data, loss, zero window, the RFC 5961 edges and the close.
#include "seeds.hpp"

#include <algorithm>
#include <initializer_list>

#include "packets.hpp"
#include "stack_driver.hpp"
#include "synack/wire/checksum.hpp"
#include "synack/wire/icmp.hpp"
#include "synack/wire/icmpv6.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::fuzz {

namespace {

constexpr ipv4_addr src_addr = ipv4_addr::from_octets(192, 0, 2, 2);  // as wire_roundtrip.cpp
constexpr ipv4_addr dst_addr = ipv4_addr::from_octets(192, 0, 2, 1);
constexpr std::string_view text = "GET / HTTP/1.1\r\nHost: synack\r\n\r\n";

bytes text_bytes(std::size_t n = text.size()) { return std::as_bytes(std::span{text.data(), std::min(n, text.size())}); }

std::vector<std::byte> emit_tcp(const tcp_repr& r) {
  std::vector<std::byte> b(r.buffer_len());
  r.emit(b, src_addr, dst_addr);
  return b;
}

std::vector<std::byte> with_ip(ip_proto proto, const std::vector<std::byte>& payload, std::size_t padding = 0) {
  return ip_packet(src_addr, dst_addr, proto, payload, padding);
}

std::vector<std::byte> emit_icmp(const icmpv4_repr& m) {
  std::vector<std::byte> b(m.buffer_len());
  m.emit(b);
  return b;
}

tcp_repr syn_with_options() {
  tcp_repr r;
  r.src_port = 49152;
  r.dst_port = 80;
  r.seq = seq_num{0xFFFFFC17u};
  r.flags = tcp_flag::syn;
  r.window = 0xFFFF;
  r.options.mss = 1460;
  r.options.window_scale = 7;
  r.options.sack_permitted = true;
  r.options.timestamps = tcp_timestamps{1000, 0};
  return r;
}

tcp_repr data_with_sack() {
  tcp_repr r;
  r.src_port = 49152;
  r.dst_port = 80;
  r.seq = seq_num{0xFFFFFC18u};
  r.ack = seq_num{0x12345679u};
  r.flags = tcp_flag::psh;
  r.window = 502;
  r.options.timestamps = tcp_timestamps{1040, 77};
  r.options.add_sack(sack_block{seq_num{0x12345700u}, seq_num{0x12345800u}});
  r.options.add_sack(sack_block{seq_num{0x12345900u}, seq_num{0x12345A00u}});
  r.payload = text_bytes();
  return r;
}

std::vector<seed> ipv4_seeds() {
  std::vector<seed> s;
  s.push_back({"tcp_syn", with_ip(ip_proto::tcp, emit_tcp(syn_with_options()))});
  s.push_back({"tcp_data", with_ip(ip_proto::tcp, emit_tcp(data_with_sack()))});
  icmpv4_repr echo;
  echo.ident = 1;
  echo.seq_no = 2;
  echo.data = text_bytes(16);
  s.push_back({"icmp_echo_padded", with_ip(ip_proto::icmp, emit_icmp(echo), 6)});  // trailing padding
  // IHL 6: one word of options (NOP NOP NOP EOL), header checksum over 24 octets.
  std::vector<std::byte> opts = with_ip(ip_proto::udp, std::vector<std::byte>(12, std::byte{0x11}));
  opts.insert(opts.begin() + 20, {std::byte{1}, std::byte{1}, std::byte{1}, std::byte{0}});
  store_u8(&opts[0], 0x46);
  store_be16(&opts[2], static_cast<std::uint16_t>(opts.size()));
  store_be16(&opts[10], 0);
  store_be16(&opts[10], internet_checksum(bytes{opts}.first(24)));
  s.push_back({"udp_with_ip_options", opts});
  return s;
}

// ---- IPv6 and ICMPv6 (addresses as wire_roundtrip.cpp's) ----

const ipv6_addr v6_src = ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 2});
const ipv6_addr v6_dst = ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});

// An IPv6 packet: the fixed header, then `ext` (extension headers, already chained: the
// first one's type is `first`), then the upper-layer bytes.
std::vector<std::byte> v6_packet(std::uint8_t first, const std::vector<std::uint8_t>& ext,
                                 const std::vector<std::byte>& upper) {
  ipv6_repr r{.src = v6_src, .dst = v6_dst, .next_header = first,
              .payload_len = static_cast<std::uint16_t>(ext.size() + upper.size())};
  std::vector<std::byte> p(ipv6_repr::buffer_len());
  r.emit(p);
  for (const std::uint8_t b : ext) p.push_back(std::byte{b});
  p.insert(p.end(), upper.begin(), upper.end());
  return p;
}

std::vector<std::byte> emit_icmpv6(const icmpv6_repr& m) {
  std::vector<std::byte> b(m.buffer_len());
  m.emit(b, v6_src, v6_dst);
  return b;
}

std::vector<seed> ipv6_seeds() {
  std::vector<seed> s;
  const std::vector<std::byte> syn = emit_tcp(syn_with_options());
  s.push_back({"tcp_syn", v6_packet(ipv6_next::tcp, {}, syn)});
  // Hop-by-hop (PadN of 4), then destination options (Pad1 x6), then TCP.
  s.push_back({"hop_by_hop_dest_opts_tcp",
               v6_packet(ipv6_next::hop_by_hop, {ipv6_next::dest_options, 0, 1, 4, 0, 0, 0, 0,  //
                                                 ipv6_next::tcp, 0, 0, 0, 0, 0, 0, 0},
                         syn)});
  // An atomic fragment (offset 0, M clear: RFC 6946) holding the segment.
  s.push_back({"atomic_fragment", v6_packet(ipv6_next::fragment, {ipv6_next::tcp, 0, 0, 0, 0, 0, 0, 7}, syn)});
  // A routing header of type 0 with segments left (refused, RFC 5095).
  s.push_back({"routing_type0", v6_packet(ipv6_next::routing,
                                          {ipv6_next::tcp, 2, 0, 1, 0, 0, 0, 0,  //
                                           0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9},
                                          syn)});
  s.push_back({"no_next_header", v6_packet(ipv6_next::no_next, {}, {})});
  icmpv6_repr echo;
  echo.ident = 7;
  echo.seq_no = 1;
  echo.data = text_bytes(16);
  s.push_back({"icmpv6_echo", v6_packet(ipv6_next::icmpv6, {}, emit_icmpv6(echo))});
  return s;
}

std::vector<seed> icmpv6_seeds() {
  std::vector<seed> s;
  icmpv6_repr echo;
  echo.ident = 0x1234;
  echo.seq_no = 1;
  echo.data = text_bytes();
  s.push_back({"echo_request", emit_icmpv6(echo)});
  // Errors quote a segment we sent: its IPv6 header and the TCP header.
  tcp_repr sent = data_with_sack();
  std::swap(sent.src_port, sent.dst_port);
  const std::vector<std::byte> dgram = v6_packet(ipv6_next::tcp, {}, emit_tcp(sent));
  icmpv6_repr ptb;
  ptb.type = icmpv6_type::packet_too_big;
  ptb.mtu = 1280;
  ptb.data = bytes{dgram};
  s.push_back({"packet_too_big", emit_icmpv6(ptb)});
  icmpv6_repr unreach;
  unreach.type = icmpv6_type::dest_unreachable;
  unreach.code = 4;  // port unreachable
  unreach.data = bytes{dgram}.first(48);
  s.push_back({"port_unreachable", emit_icmpv6(unreach)});
  icmpv6_repr problem;
  problem.type = icmpv6_type::param_problem;
  problem.code = 1;
  problem.pointer = 6;
  problem.data = bytes{dgram}.first(40);
  s.push_back({"param_problem", emit_icmpv6(problem)});
  return s;
}

std::vector<seed> tcp_seeds() {
  std::vector<seed> s;
  s.push_back({"syn_all_options", emit_tcp(syn_with_options())});
  s.push_back({"data_ts_sack", emit_tcp(data_with_sack())});
  tcp_repr rst;
  rst.src_port = 49152;
  rst.dst_port = 80;
  rst.seq = seq_num{7};
  rst.ack = seq_num{9};
  rst.flags = tcp_flag::rst;
  s.push_back({"rst_ack", emit_tcp(rst)});
  tcp_repr fin = data_with_sack();
  fin.flags = tcp_flag::fin | tcp_flag::urg;
  fin.urgent_ptr = 5;
  fin.options = {};
  fin.options.unknown[0] = unknown_option{0xFD, text_bytes(6)};  // RFC 4727 experimental kind
  fin.options.unknown_count = 1;
  s.push_back({"fin_urg_unknown_option", emit_tcp(fin)});
  return s;
}

std::vector<seed> icmp_seeds() {
  std::vector<seed> s;
  icmpv4_repr echo;
  echo.ident = 0x1234;
  echo.seq_no = 1;
  echo.data = text_bytes();
  s.push_back({"echo_request", emit_icmp(echo)});
  // The quote: the IPv4 header and first 8 octets of a segment we sent.
  tcp_repr sent = data_with_sack();
  std::swap(sent.src_port, sent.dst_port);
  const std::vector<std::byte> dgram = with_ip(ip_proto::tcp, emit_tcp(sent));
  icmpv4_repr unreach;
  unreach.type = icmp_type::dest_unreachable;
  unreach.code = icmp_unreach_code::port;
  unreach.data = bytes{dgram}.first(28);
  s.push_back({"port_unreachable", emit_icmp(unreach)});
  unreach.code = icmp_unreach_code::frag_needed;
  unreach.next_hop_mtu = 576;
  unreach.data = bytes{dgram}.first(48);
  s.push_back({"frag_needed", emit_icmp(unreach)});
  icmpv4_repr ttl;
  ttl.type = icmp_type::time_exceeded;
  ttl.data = bytes{dgram}.first(28);
  s.push_back({"time_exceeded", emit_icmp(ttl)});
  icmpv4_repr ts;
  ts.type = static_cast<icmp_type>(13);  // timestamp request: kept as type/code/rest/data
  ts.rest = 0x00010002;
  ts.data = text_bytes(12);
  s.push_back({"timestamp_request", emit_icmp(ts)});
  return s;
}

// Program pieces. Sides: 0 = A (client), 1 = B (server); port index 0 = 80.
constexpr std::uint8_t A = 0, B = 1;
constexpr std::uint8_t s_40ms = 2, s_1s = 4, s_3s = 5, s_30s = 6, s_120s = 7, s_2h = 9;

// B listens on 80, A connects, the handshake completes, B accepts and closes its listener
// (so B's only connection is target 0 of op::inject). With op::connect6 over IPv6 (A connects
// to fd00::2; B's listener takes both families).
// `full`: both ends with the link's full MSS rather than 536 (the selector bytes' high bit).
program& handshake(program& p, op how = op::connect, bool full = false) {
  return p.add(op::listen, {B, 0, static_cast<std::uint8_t>(full ? 0x83 : 3)})
      .add(how, {A, 0, static_cast<std::uint8_t>(full ? 0x80 : 0)})
      .add(op::deliver_all)
      .add(op::accept, {B, 0})
      .add(op::close_listener, {B, 0});
}

// inject(side, target#, seq_sel, ack_sel, flags, window, payload length, options)
program& inject(program& p, std::uint8_t side, seq_sel s, ack_sel a, std::uint8_t flags, std::uint8_t len = 0) {
  return p.add(op::inject, {side, 0, static_cast<std::uint8_t>(s), static_cast<std::uint8_t>(a), flags, 3, len, 0});
}

// socks5_fuzz: byte 0 picks the client (bit 0: credentials, bit 1: IPv6 destination, bit 2:
// UDP ASSOCIATE), the rest is the server's side of a handshake or a relay's datagram
// (socks5_check.hpp).
std::vector<seed> socks5_seeds() {
  const auto make = [](std::string name, std::initializer_list<std::uint8_t> b) {
    seed s{std::move(name), {}};
    for (const std::uint8_t v : b) s.data.push_back(std::byte{v});
    return s;
  };
  return {
      make("no_auth_ipv4_bound", {0, 5, 0, 5, 0, 0, 1, 10, 0, 0, 1, 0x9C, 0x40}),
      make("userpass_ipv6_bound", {3, 5, 2, 1, 0, 5, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                   0, 1, 0x01, 0xBB}),
      make("domain_bound_then_data", {0, 5, 0, 5, 0, 0, 3, 4, 'h', 'o', 's', 't', 0, 80, 'S', 'S', 'H'}),
      make("rep_refused", {0, 5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0}),
      make("auth_rejected", {1, 5, 2, 1, 1}),
      make("no_acceptable_method", {1, 5, 0xFF}),
      make("udp_associate_relay_any", {4, 5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0x9C, 0x40}),
      make("udp_header_ipv4_dns", {0, 0, 0, 0, 1, 192, 0, 2, 53, 0, 53, 0x12, 0x34, 0x81, 0x80}),
      make("udp_header_ipv6_fragment", {0, 0, 0, 1, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        1, 0x1B, 0x5F, 'x'}),
      make("udp_header_domain", {0, 0, 0, 0, 3, 4, 'h', 'o', 's', 't', 0, 7, 'e', 'c', 'h', 'o'}),
  };
}

std::vector<seed> stack_seeds() {
  std::vector<seed> s;
  {
    program p;
    handshake(p)
        .add(op::send, {A, 0, 1})
        .add(op::deliver_all)
        .add(op::advance, {s_40ms})
        .add(op::deliver_all)
        .add(op::recv, {B, 0, 3})
        .add(op::send, {B, 0, 0})
        .add(op::deliver_all)
        .add(op::recv, {A, 0, 3})
        .add(op::close, {A, 0})
        .add(op::deliver_all)
        .add(op::recv, {B, 0, 0})
        .add(op::close, {B, 0})
        .add(op::deliver_all)
        .add(op::advance, {s_30s})
        .add(op::advance, {s_120s});
    s.push_back({"handshake_data_close", p.data()});
  }
  {
    program p;
    handshake(p);
    inject(p, B, seq_sel::plus_one, ack_sel::snd_una, tcp_flag::rst);       // challenge ACK
    inject(p, B, seq_sel::rcv_nxt, ack_sel::snd_una, tcp_flag::syn);        // challenge ACK
    inject(p, B, seq_sel::wnd_end, ack_sel::snd_una, tcp_flag::rst);        // ignored
    inject(p, B, seq_sel::rcv_nxt, ack_sel::below_max_wnd, tcp_flag::psh, 10);  // dropped, ACKed
    p.add(op::deliver_all);
    inject(p, B, seq_sel::rcv_nxt, ack_sel::snd_una, tcp_flag::rst);        // exact: reset
    p.add(op::deliver_all).add(op::advance, {s_1s});
    s.push_back({"rfc5961_blind_injection", p.data()});
  }
  {
    program p;
    handshake(p).add(op::send, {A, 0, 40}).add(op::drop, {0}).add(op::deliver_all);
    inject(p, B, seq_sel::wnd_last, ack_sel::snd_una, tcp_flag::psh, 1);
    inject(p, B, seq_sel::plus_one, ack_sel::snd_una, 0, 1);
    p.add(op::advance, {s_1s}).add(op::deliver_all).add(op::recv, {B, 0, 255}).add(op::advance, {s_3s}).add(
        op::deliver_all);
    s.push_back({"loss_and_out_of_order", p.data()});
  }
  {
    program p;
    handshake(p).add(op::send, {A, 0, 255}).add(op::deliver_all).add(op::send, {A, 0, 255}).add(op::deliver_all);
    p.add(op::advance, {s_1s}).add(op::deliver_all).add(op::advance, {s_3s}).add(op::deliver_all);
    p.add(op::recv, {B, 0, 255}).add(op::deliver_all).add(op::advance, {s_40ms}).add(op::deliver_all);
    s.push_back({"zero_window_persist", p.data()});
  }
  {
    program p;
    p.add(op::connect, {A, 2, 4}).add(op::connect, {B, 3, 3}).add(op::deliver, {0}).add(op::deliver, {1});
    p.add(op::deliver_all).add(op::close, {A, 0}).add(op::close, {B, 0}).add(op::deliver_all);
    p.add(op::advance, {s_120s});
    s.push_back({"simultaneous_open_and_close", p.data()});
  }
  {
    program p;
    handshake(p).add(op::close, {A, 0}).add(op::deliver_all).add(op::close, {B, 0}).add(op::deliver_all);
    inject(p, A, seq_sel::rcv_nxt, ack_sel::snd_una, tcp_flag::rst);  // RFC 1337: ignored
    inject(p, A, seq_sel::plus_one, ack_sel::none, tcp_flag::syn);    // may reopen (RFC 6191)
    p.add(op::deliver_all).add(op::advance, {s_120s});
    s.push_back({"time_wait_rst_and_syn", p.data()});
  }
  {
    program p;
    handshake(p).add(op::send, {A, 0, 3});
    p.add(op::inject_icmp, {A, 0, 0, 0, 0});        // port unreachable, quote at SND.UNA
    p.add(op::inject_icmp, {A, 0, 2, 2, 64, 3, 0});  // frag needed (MTU 0x4003), quote old
    p.add(op::inject_icmp, {A, 0, 3, 3, 1});         // time exceeded, beyond SND.NXT, from a router
    p.add(op::deliver_all);
    s.push_back({"icmp_errors", p.data()});
  }
  {
    program p(config_bits::keepalive | config_bits::no_timestamps);
    handshake(p).add(op::advance, {s_2h}).add(op::deliver_all).add(op::advance, {s_2h}).add(op::advance, {s_2h});
    s.push_back({"keepalive_idle_peer", p.data()});
  }
  // Issue #13 cases 2 and 3: a forged Fragmentation Needed / Packet Too Big quoting a flight in
  // progress (A has sent a window's worth and B has not acknowledged it), with MTUs below the
  // floors, 0, and huge; after each, what A sends at once must stay within an initial window.
  // inject_ptb(side, target#, quote sel, MTU sel: 0 -> 0, 2 -> 67, 3 -> 68, 6 -> 552, 7 -> 1279,
  // 8 -> 1280, 10 -> 2^32-1, 0xFF -> u32 follows; from a router?)
  {
    program p;
    handshake(p).add(op::send, {A, 0, 120}).add(op::deliver_all).add(op::recv, {B, 0, 255});
    p.add(op::deliver_all).add(op::advance, {s_40ms}).add(op::deliver_all).add(op::send, {A, 0, 120});
    p.add(op::deliver, {0}).add(op::deliver, {0});
    p.add(op::inject_ptb, {A, 0, 1, 3, 1});  // MTU 68 from a router, quoting the middle of the flight
    p.add(op::inject_ptb, {A, 0, 0, 0, 0});  // MTU 0 (RFC 1191 §5 plateau guess)
    p.add(op::inject_ptb, {A, 0, 2, 10, 1});  // MTU 2^32-1: no increase
    p.add(op::deliver_all).add(op::advance, {s_1s}).add(op::deliver_all).add(op::recv, {B, 0, 255});
    p.add(op::deliver_all).add(op::advance, {s_40ms}).add(op::deliver_all);
    s.push_back({"pmtu_frag_needed_during_flight", p.data()});
  }
  {
    program p;
    // Full-size segments (MSS 1440): with 536 no IPv6 Packet Too Big could lower the MSS.
    handshake(p, op::connect6, true).add(op::send, {A, 0, 120}).add(op::deliver_all).add(op::recv, {B, 0, 255});
    p.add(op::deliver_all).add(op::advance, {s_40ms}).add(op::deliver_all).add(op::send, {A, 0, 120});
    p.add(op::deliver, {0});
    p.add(op::inject_ptb, {A, 0, 1, 7, 1});  // 1279: below the IPv6 minimum
    p.add(op::inject_ptb, {A, 0, 0, 0xFF, 0, 0, 0x01, 0, 1});  // raw MTU 256
    p.add(op::inject_ptb, {A, 0, 2, 8, 0});  // 1280
    p.add(op::inject_icmp, {A, 0, 2, 0x05, 0x00, 0, 1});  // a plain PTB through inject_icmp
    p.add(op::deliver_all).add(op::advance, {s_1s}).add(op::deliver_all).add(op::recv, {B, 0, 255});
    p.add(op::deliver_all).add(op::close, {A, 0}).add(op::close, {B, 0}).add(op::deliver_all);
    s.push_back({"pmtu_packet_too_big_v6", p.data()});
  }
  // Issue #13 case 4: floods of one- to sixteen-octet segments past a gap at RCV.NXT, dense and
  // spread over the window, on IPv4 and IPv6; then the gap is filled and the data read.
  // ooo_flood(side, target#, count, gap, size, spread)
  {
    program p;
    handshake(p);
    p.add(op::ooo_flood, {B, 0, 31, 0, 0, 1});    // 32 one-octet segments spread over the window
    p.add(op::ooo_flood, {B, 0, 63, 9, 15, 0});   // 64 of 16 octets, dense, past a 10-octet gap
    p.add(op::deliver_all);
    inject(p, B, seq_sel::rcv_nxt, ack_sel::snd_una, tcp_flag::psh, 40);  // fills the gap
    p.add(op::deliver_all).add(op::recv, {B, 0, 255}).add(op::advance, {s_1s}).add(op::deliver_all);
    s.push_back({"ooo_flood_small_segments", p.data()});
  }
  {
    program p(config_bits::no_sack);
    handshake(p, op::connect6);
    p.add(op::ooo_flood, {B, 0, 31, 0, 0, 1}).add(op::deliver_all);
    p.add(op::ooo_flood, {A, 0, 15, 200, 3, 1}).add(op::deliver_all).add(op::advance, {s_3s});
    s.push_back({"ooo_flood_v6_no_sack", p.data()});
  }
  // A SYN flood at a listener, then a client: with cookies (the default) and without (the SYN
  // queue bound drops).
  const auto syn_flood = [&](const char* name, std::uint8_t bits) {
    program p(config_bits::no_sack | config_bits::no_window_scaling | bits);
    p.add(op::listen, {B, 0, 0});
    for (std::uint8_t k = 0; k < 8; ++k) {
      p.add(op::inject, {B, k, static_cast<std::uint8_t>(seq_sel::raw), k, k, k, k,
                         static_cast<std::uint8_t>(ack_sel::none), tcp_flag::syn, 3, 0, 0x01, 5});
    }
    p.add(op::advance, {s_3s}).add(op::connect, {A, 0, 0}).add(op::deliver_all);
    s.push_back({name, p.data()});
  };
  syn_flood("syn_flood_then_client", 0);
  syn_flood("syn_flood_no_cookies_then_client", config_bits::syncookies_off);
  return s;
}

}  // namespace

std::vector<seed> seeds_for(std::string_view target) {
  if (target == "ipv4_fuzz") return ipv4_seeds();
  if (target == "tcp_fuzz") return tcp_seeds();
  if (target == "icmp_fuzz") return icmp_seeds();
  if (target == "ipv6_fuzz") return ipv6_seeds();
  if (target == "icmpv6_fuzz") return icmpv6_seeds();
  if (target == "stack_fuzz") return stack_seeds();
  if (target == "socks5_fuzz") return socks5_seeds();
  return {};
}

}  // namespace synack::fuzz
