// The host over IPv6 (issue #14): the same state machine as over IPv4, exact segments on
// virtual time. The test plays 2001:db8::2 against a host at 2001:db8::1/64 (and 192.0.2.1);
// packets are built and parsed here with the wire layer's IPv6 and ICMPv6 types.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stack_harness.hpp"
#include "synack/wire/icmpv6.hpp"
#include "synack/wire/ipv6.hpp"

namespace synack::stest {
namespace {

const ipv6_addr host6 = *ipv6_addr::parse("2001:db8::1");
const ipv6_addr peer6 = *ipv6_addr::parse("2001:db8::2");
const ipv6_addr host6_ll = *ipv6_addr::parse("fe80::1");

host_config dual_config() {
  host_config c = default_config();
  c.addresses = {host_address{host6, 64}, host_address{host6_ll, 64}};
  c.tcp.timestamps = false;  // shorter segments to compare; options are the same code as IPv4
  return c;
}

struct packet6 {
  ipv6_repr ip;
  std::optional<tcp_repr> tcp;
  std::optional<icmpv6_repr> icmp;
  std::vector<std::byte> raw;
};

class ipv6_host : public ::testing::Test {
 protected:
  explicit ipv6_host(host_config c = dual_config()) : t_(c) {}

  static std::vector<std::byte> ip6_packet(std::uint8_t next, bytes payload, const ipv6_addr& src = peer6,
                                           const ipv6_addr& dst = host6, std::uint8_t hop_limit = 64) {
    std::vector<std::byte> b(40 + payload.size());
    ipv6_repr ip;
    ip.src = src;
    ip.dst = dst;
    ip.next_header = next;
    ip.payload_len = static_cast<std::uint16_t>(payload.size());
    ip.hop_limit = hop_limit;
    ip.emit(b);
    std::ranges::copy(payload, b.begin() + 40);
    return b;
  }
  static std::vector<std::byte> tcp6(const seg& s, const ipv6_addr& src = peer6, const ipv6_addr& dst = host6) {
    std::string storage;
    const tcp_repr r = stack_harness::to_repr(s, s.peer, s.local, storage);
    std::vector<std::byte> t(r.buffer_len());
    r.emit(t, ip_addr{src}, ip_addr{dst});
    return ip6_packet(ipv6_next::tcp, t, src, dst);
  }
  static std::vector<std::byte> icmp6(const icmpv6_repr& m, const ipv6_addr& src = peer6, const ipv6_addr& dst = host6) {
    std::vector<std::byte> t(m.buffer_len());
    m.emit(t, src, dst);
    return ip6_packet(ipv6_next::icmpv6, t, src, dst);
  }

  void feed(instant at, bytes p) { t_.feed(at, p); }
  void send(instant at, const seg& s) {
    const auto p = tcp6(s);
    feed(at, p);
  }

  // Polls one packet, which must be IPv6 from one of the host's addresses with valid checksums.
  std::optional<packet6> poll(instant at) {
    t_.advance(at);
    std::vector<std::byte> buf(t_.h().max_packet_len());
    auto n = t_.h().poll_transmit(at, buf);
    if (!n) return std::nullopt;
    buf.resize(*n);
    auto ip = ipv6_view::parse(buf);
    EXPECT_TRUE(ip.has_value()) << "host emitted an unparsable IPv6 packet";
    if (!ip) return std::nullopt;
    packet6 p;
    p.raw = buf;
    p.ip = ipv6_repr::parse(*ip);
    EXPECT_EQ(p.ip.hop_limit, t_.h().config().ttl);
    EXPECT_TRUE(t_.h().is_local(ip_addr{p.ip.src}));
    if (p.ip.next_header == ipv6_next::tcp) {
      auto v = tcp_view::parse(ip->payload());
      EXPECT_TRUE(v.has_value());
      if (!v) return p;
      tcp_repr r;
      const auto err = tcp_repr::parse(*v, ip_addr{p.ip.src}, ip_addr{p.ip.dst}, r);
      EXPECT_FALSE(err.has_value()) << "bad TCP checksum over the IPv6 pseudo-header";
      if (!err) p.tcp = r;
    } else if (p.ip.next_header == ipv6_next::icmpv6) {
      auto m = icmpv6_repr::parse(ip->payload(), p.ip.src, p.ip.dst);
      EXPECT_TRUE(m.has_value()) << "bad ICMPv6 message";
      if (m) p.icmp = *m;
    }
    return p;
  }
  tcp_repr expect_tcp(instant at, std::uint8_t flags, const ipv6_addr& to = peer6) {
    auto p = poll(at);
    EXPECT_TRUE(p && p->tcp) << "expected a TCP segment";
    if (!p || !p->tcp) return tcp_repr{};
    EXPECT_EQ(p->ip.dst, to);
    EXPECT_EQ(p->tcp->wire_flags(), flags) << describe(*p->tcp);
    return *p->tcp;
  }
  void expect_silent(instant at) {
    auto p = poll(at);
    EXPECT_FALSE(p.has_value()) << "unexpected packet";
  }
  // Passive open on port 80 over IPv6; returns the host's ISS.
  seq_num handshake(listener_handle& l, std::optional<std::uint16_t> mss = 1440) {
    l = *t_.h().listen(host_port, 8);
    send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = mss});
    const tcp_repr sa = expect_tcp(at_ms(0), tcp_flag::syn | tcp_flag::ack);
    EXPECT_EQ(sa.ack->raw, (peer_iss + seq_len{1}).raw);
    EXPECT_EQ(sa.options.mss, std::optional<std::uint16_t>{1440});  // 1500 - 40 - 20
    send(at_ms(1), seg{.seq = peer_iss + seq_len{1}, .ack = sa.seq + seq_len{1}, .flags = 0});
    return sa.seq;
  }

  stack_harness t_;
};

TEST_F(ipv6_host, passive_open_data_and_close_over_ipv6) {
  listener_handle l;
  const seq_num iss = handshake(l);
  auto c = t_.h().accept(l);
  ASSERT_TRUE(c.has_value());
  const four_tuple tup = t_.h().status(*c)->tuple;
  EXPECT_EQ(tup.local_addr, ip_addr{host6});
  EXPECT_EQ(tup.remote_addr, ip_addr{peer6});
  EXPECT_EQ(tup.remote_addr.with_port(tup.remote_port), "[2001:db8::2]:49152");
  EXPECT_EQ(t_.h().state(*c), tcp_state::established);

  // Data both ways.
  send(at_ms(2), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .flags = tcp_flag::psh, .payload = "hello"});
  std::array<std::byte, 16> buf{};
  ASSERT_EQ(*t_.h().recv(*c, buf), 5u);
  const std::string reply = "world!";
  ASSERT_EQ(*t_.h().send(*c, std::as_bytes(std::span{reply})), reply.size());
  const tcp_repr d = expect_tcp(at_ms(2), tcp_flag::ack | tcp_flag::psh);
  EXPECT_EQ(d.payload.size(), reply.size());
  EXPECT_EQ(d.ack->raw, (peer_iss + seq_len{6}).raw);

  // The peer closes first: CLOSE-WAIT, then our FIN, LAST-ACK, CLOSED.
  send(at_ms(3), seg{.seq = peer_iss + seq_len{6}, .ack = iss + seq_len{7}, .flags = tcp_flag::fin});
  expect_tcp(at_ms(3), tcp_flag::ack);
  EXPECT_EQ(t_.h().state(*c), tcp_state::close_wait);
  ASSERT_TRUE(t_.h().close(at_ms(4), *c).has_value());
  const tcp_repr fin = expect_tcp(at_ms(4), tcp_flag::ack | tcp_flag::fin);
  EXPECT_EQ(t_.h().state(tup), tcp_state::last_ack);
  send(at_ms(5), seg{.seq = peer_iss + seq_len{7}, .ack = fin.seq + seq_len{1}, .flags = 0});
  EXPECT_EQ(t_.h().state(tup), std::nullopt);
  EXPECT_EQ(t_.ctr().passive_opens, 1u);
}

TEST_F(ipv6_host, active_open_and_close_to_time_wait) {
  auto c = t_.h().connect(at_ms(0), ip_addr{peer6}, 443);
  ASSERT_TRUE(c.has_value());
  const tcp_repr syn = expect_tcp(at_ms(0), tcp_flag::syn);
  EXPECT_EQ(syn.options.mss, std::optional<std::uint16_t>{1440});
  const four_tuple tup = t_.h().status(*c)->tuple;
  EXPECT_EQ(tup.local_addr, ip_addr{host6});  // the global address: the peer is global
  send(at_ms(10), seg{.seq = peer_iss, .ack = syn.seq + seq_len{1}, .flags = tcp_flag::syn, .mss = 1220,
                      .peer = 443, .local = syn.src_port});
  expect_tcp(at_ms(10), tcp_flag::ack);
  EXPECT_EQ(t_.h().state(*c), tcp_state::established);
  EXPECT_EQ(t_.h().status(*c)->mss_cache, 1220);
  ASSERT_TRUE(t_.h().close(at_ms(11), *c).has_value());
  const tcp_repr fin = expect_tcp(at_ms(11), tcp_flag::ack | tcp_flag::fin);
  send(at_ms(12), seg{.seq = peer_iss + seq_len{1}, .ack = fin.seq + seq_len{1}, .flags = tcp_flag::fin,
                      .peer = 443, .local = syn.src_port});
  expect_tcp(at_ms(12), tcp_flag::ack);
  ASSERT_NE(t_.h().lookup_time_wait(tup), nullptr);
  // A retransmitted FIN in TIME-WAIT is answered from the record, over IPv6.
  send(at_ms(13), seg{.seq = peer_iss + seq_len{1}, .ack = fin.seq + seq_len{1}, .flags = tcp_flag::fin,
                      .peer = 443, .local = syn.src_port});
  expect_tcp(at_ms(13), tcp_flag::ack);
  t_.advance(at_s(61));
  EXPECT_EQ(t_.h().lookup_time_wait(tup), nullptr);
}

// RFC 9293 §3.7.1 (MUST-15): a SYN without MSS means 1220 over IPv6 (536 over IPv4).
TEST_F(ipv6_host, syn_without_mss_means_1220) {
  listener_handle l;
  (void)handshake(l, std::nullopt);
  auto c = t_.h().accept(l);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(t_.h().status(*c)->mss_cache, 1220);
}

TEST_F(ipv6_host, link_local_peer_gets_the_link_local_source) {
  const ipv6_addr peer_ll = *ipv6_addr::parse("fe80::2");
  auto c = t_.h().connect(at_ms(0), ip_addr{peer_ll}, 22);
  ASSERT_TRUE(c.has_value());
  auto p = poll(at_ms(0));
  ASSERT_TRUE(p && p->tcp);
  EXPECT_EQ(p->ip.src, host6_ll);
  EXPECT_EQ(p->ip.dst, peer_ll);
}

TEST(ipv6_host_v4_only, connect_to_ipv6_without_an_address_is_network_unreachable) {
  host h(default_config());
  auto c = h.connect(at_ms(0), ip_addr{peer6}, 80);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error(), host_error::network_unreachable);
  EXPECT_FALSE(h.connect(at_ms(0), ip_addr{ipv6_addr::v4_mapped(peer_ip)}, 80).has_value());
  EXPECT_FALSE(h.connect(at_ms(0), ip_addr{*ipv6_addr::parse("ff02::1")}, 80).has_value());
}

TEST_F(ipv6_host, closed_port_answers_with_reset) {
  send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn});
  const tcp_repr rst = expect_tcp(at_ms(0), tcp_flag::rst | tcp_flag::ack);
  EXPECT_EQ(rst.ack->raw, (peer_iss + seq_len{1}).raw);
  EXPECT_EQ(t_.ctr().out_rsts, 1u);
}

TEST_F(ipv6_host, dual_stack_listener_takes_both_families_and_a_v4_listener_only_ipv4) {
  auto l = *t_.h().listen(host_port, 8);
  send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn});
  expect_tcp(at_ms(0), tcp_flag::syn | tcp_flag::ack);
  t_.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn});
  auto p4 = t_.poll(at_ms(0));
  ASSERT_TRUE(p4 && p4->tcp);
  EXPECT_EQ(p4->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(t_.h().half_open(l), 2u);
  // A port can have an IPv4 and an IPv6 listener, but not a dual one beside either.
  EXPECT_EQ(t_.h().listen(81, 8, t_.h().config().tcp, listen_family::v4).has_value(), true);
  EXPECT_EQ(t_.h().listen(81, 8, t_.h().config().tcp, listen_family::v6).has_value(), true);
  EXPECT_EQ(t_.h().listen(81, 8, t_.h().config().tcp, listen_family::any).error(), host_error::address_in_use);
  auto v4only = *t_.h().listen(82, 8, t_.h().config().tcp, listen_family::v4);
  send(at_ms(1), seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 82});
  expect_tcp(at_ms(1), tcp_flag::rst | tcp_flag::ack);
  EXPECT_EQ(t_.h().half_open(v4only), 0u);
}

host_config cookie_config() {
  host_config c = dual_config();
  c.syncookies = syncookies_mode::always;
  return c;
}
class ipv6_cookie_host : public ipv6_host {
 protected:
  ipv6_cookie_host() : ipv6_host(cookie_config()) {}
};

TEST_F(ipv6_cookie_host, syn_cookies_over_ipv6) {
  auto l = *t_.h().listen(host_port, 8);
  send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1440});
  const tcp_repr sa = expect_tcp(at_ms(0), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(t_.h().half_open(l), 0u);  // no state kept
  EXPECT_EQ(t_.ctr().syncookies_sent, 1u);
  send(at_ms(1), seg{.seq = peer_iss + seq_len{1}, .ack = sa.seq + seq_len{1}, .flags = 0});
  EXPECT_EQ(t_.ctr().syncookies_recv, 1u);
  auto a = t_.h().accept(l);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(t_.h().status(*a)->tuple.remote_addr, ip_addr{peer6});
  EXPECT_EQ(t_.h().status(*a)->mss_cache, 1440);  // no timestamps: the MSS itself
  // A SYN without MSS means 1220 over IPv6 (MUST-15), and the cookie keeps it (IPv6's table).
  send(at_ms(1), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 40001});
  const tcp_repr sa1 = expect_tcp(at_ms(1), tcp_flag::syn | tcp_flag::ack);
  send(at_ms(1), seg{.seq = peer_iss + seq_len{1}, .ack = sa1.seq + seq_len{1}, .flags = 0, .peer = 40001});
  auto a1 = t_.h().accept(l);
  ASSERT_TRUE(a1.has_value());
  EXPECT_EQ(t_.h().status(*a1)->mss_cache, 1220);
  // The cookie is bound to the IPv6 tuple: the same ACK from another address fails.
  send(at_ms(2), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 40000});
  const tcp_repr sa2 = expect_tcp(at_ms(2), tcp_flag::syn | tcp_flag::ack);
  const auto forged = tcp6(seg{.seq = peer_iss + seq_len{1}, .ack = sa2.seq + seq_len{1}, .flags = 0, .peer = 40000},
                           *ipv6_addr::parse("2001:db8::3"));
  feed(at_ms(3), forged);
  EXPECT_EQ(t_.ctr().syncookies_failed, 1u);
}

TEST_F(ipv6_host, echo_request_is_answered) {
  icmpv6_repr req;
  req.type = icmpv6_type::echo_request;
  req.ident = 7;
  req.seq_no = 3;
  const std::string data = "ping6";
  req.data = std::as_bytes(std::span{data});
  feed(at_ms(0), icmp6(req));
  auto p = poll(at_ms(0));
  ASSERT_TRUE(p && p->icmp);
  EXPECT_EQ(p->icmp->type, icmpv6_type::echo_reply);
  EXPECT_EQ(p->icmp->ident, 7);
  EXPECT_EQ(p->icmp->seq_no, 3);
  EXPECT_EQ(p->icmp->data.size(), data.size());
  EXPECT_EQ(p->ip.dst, peer6);
  EXPECT_EQ(t_.ctr().icmp_out_echo_reps, 1u);
}

// RFC 8201 §4 and issue #13: Packet Too Big lowers the MSS, never below 1280 - 60, and what
// was in flight goes again in at most an initial window at once.
TEST_F(ipv6_host, packet_too_big_lowers_the_mss_to_the_ipv6_floor) {
  listener_handle l;
  const seq_num iss = handshake(l);
  auto c = *t_.h().accept(l);
  std::vector<std::byte> data(20000, std::byte{'x'});
  ASSERT_TRUE(t_.h().send(c, data).has_value());
  std::vector<packet6> flight;
  while (auto p = poll(at_ms(2))) flight.push_back(*p);
  ASSERT_FALSE(flight.empty());
  ASSERT_EQ(flight.front().tcp->payload.size(), 1440u);
  // A PTB quoting the first segment, with an MTU below the IPv6 minimum.
  icmpv6_repr ptb;
  ptb.type = icmpv6_type::packet_too_big;
  ptb.mtu = 600;
  ptb.data = bytes{flight.front().raw}.first(std::min<std::size_t>(flight.front().raw.size(), 1232));
  feed(at_ms(3), icmp6(ptb));
  EXPECT_EQ(t_.ctr().pmtu_reductions, 1u);
  EXPECT_EQ(t_.h().status(c)->mss_cache, 1220);
  std::size_t burst = 0;
  while (auto p = poll(at_ms(3))) {
    ASSERT_TRUE(p->tcp);
    EXPECT_LE(p->tcp->payload.size(), 1220u);
    ++burst;
  }
  EXPECT_GE(burst, 1u);
  EXPECT_LE(burst, 10u);  // at most an initial window at once
  (void)iss;
}

TEST_F(ipv6_host, port_unreachable_aborts_a_connect) {
  auto c = t_.h().connect(at_ms(0), ip_addr{peer6}, 443);
  auto p = poll(at_ms(0));
  ASSERT_TRUE(p && p->tcp);
  icmpv6_repr un;
  un.type = icmpv6_type::dest_unreachable;
  un.code = 4;
  un.data = bytes{p->raw};
  feed(at_ms(5), icmp6(un, peer6));
  EXPECT_EQ(t_.h().state(*c), tcp_state::closed);
  EXPECT_EQ(t_.h().status(*c)->reason, close_reason::refused);
  EXPECT_EQ(t_.ctr().icmp_hard_aborts, 1u);
}

// Hostile input: each dropped with its own counter, nothing answered but what RFC 8200 asks.
TEST_F(ipv6_host, martian_sources_are_dropped_and_counted) {
  (void)*t_.h().listen(host_port, 8);
  const std::pair<const char*, host_drop> cases[] = {
      {"::", host_drop::bad_source},
      {"ff02::1", host_drop::bad_source},
      {"::1", host_drop::martian_loopback},
      {"::ffff:192.0.2.2", host_drop::martian_v4_mapped},
      {"2001:db8::1", host_drop::martian_own_address},  // LAND
  };
  for (const auto& [src, why] : cases) {
    const auto pkt = tcp6(seg{.seq = peer_iss, .flags = tcp_flag::syn}, *ipv6_addr::parse(src));
    feed(at_ms(0), pkt);
    EXPECT_EQ(t_.ctr().host(why), why == host_drop::bad_source ? (std::string(src) == "::" ? 1u : 2u) : 1u) << src;
  }
  expect_silent(at_ms(0));
  // Not for us: another address, a multicast destination.
  feed(at_ms(0), tcp6(seg{.seq = peer_iss, .flags = tcp_flag::syn}, peer6, *ipv6_addr::parse("2001:db8::9")));
  feed(at_ms(0), tcp6(seg{.seq = peer_iss, .flags = tcp_flag::syn}, peer6, *ipv6_addr::parse("ff02::1")));
  EXPECT_EQ(t_.ctr().host(host_drop::not_for_us), 2u);
  // Hop limit 0.
  std::string st;
  const tcp_repr r = stack_harness::to_repr(seg{.seq = peer_iss, .flags = tcp_flag::syn}, peer_port, host_port, st);
  std::vector<std::byte> t(r.buffer_len());
  r.emit(t, ip_addr{peer6}, ip_addr{host6});
  feed(at_ms(0), ip6_packet(ipv6_next::tcp, t, peer6, host6, 0));
  EXPECT_EQ(t_.ctr().host(host_drop::zero_hop_limit), 1u);
  expect_silent(at_ms(0));
  EXPECT_EQ(t_.ctr().ip_in_receives, t_.ctr().in_accepted + t_.ctr().total_drops());
}

TEST_F(ipv6_host, extension_header_abuse_is_dropped_and_answered_as_rfc_8200_asks) {
  (void)*t_.h().listen(host_port, 8);
  std::string st;
  const tcp_repr syn = stack_harness::to_repr(seg{.seq = peer_iss, .flags = tcp_flag::syn}, peer_port, host_port, st);
  std::vector<std::byte> tcp(syn.buffer_len());
  syn.emit(tcp, ip_addr{peer6}, ip_addr{host6});
  // A chain of `n` destination-options headers (8 octets each, PadN) before TCP.
  auto chain = [&](std::size_t n) {
    std::vector<std::byte> b;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t next = i + 1 == n ? ipv6_next::tcp : ipv6_next::dest_options;
      const std::byte h[8] = {std::byte{next}, std::byte{0}, std::byte{1}, std::byte{4},
                              std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}};
      b.insert(b.end(), std::begin(h), std::end(h));
    }
    b.insert(b.end(), tcp.begin(), tcp.end());
    return ip6_packet(n == 0 ? ipv6_next::tcp : ipv6_next::dest_options, b);
  };
  // One or two are fine: the SYN is answered.
  feed(at_ms(0), chain(1));
  expect_tcp(at_ms(0), tcp_flag::syn | tcp_flag::ack);
  // 9 and 100 are too long a chain.
  feed(at_ms(1), chain(9));
  feed(at_ms(1), chain(100));
  EXPECT_EQ(t_.ctr().wire(wire_error::ext_header_chain), 2u);
  expect_silent(at_ms(1));
  // A type-0 routing header with segments left: refused with Parameter Problem code 0
  // pointing at the Routing Type field (RFC 5095 §3).
  {
    std::vector<std::byte> b = {std::byte{ipv6_next::tcp}, std::byte{2}, std::byte{0}, std::byte{1},
                                std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}};
    b.resize(24);  // one address
    b.insert(b.end(), tcp.begin(), tcp.end());
    feed(at_ms(2), ip6_packet(ipv6_next::routing, b));
    auto p = poll(at_ms(2));
    ASSERT_TRUE(p && p->icmp);
    EXPECT_EQ(p->icmp->type, icmpv6_type::param_problem);
    EXPECT_EQ(p->icmp->code, 0);
    EXPECT_EQ(p->icmp->pointer, 42u);
    EXPECT_EQ(t_.ctr().icmp_out_errors, 1u);
  }
  // A non-atomic fragment: counted, no reassembly.
  {
    std::vector<std::byte> b = {std::byte{ipv6_next::tcp}, std::byte{0}, std::byte{0}, std::byte{1},
                                std::byte{0}, std::byte{0}, std::byte{0}, std::byte{7}};
    b.insert(b.end(), tcp.begin(), tcp.end());
    feed(at_ms(3), ip6_packet(ipv6_next::fragment, b));
    EXPECT_EQ(t_.ctr().wire(wire_error::fragment), 1u);
  }
  // An unknown Next Header: Parameter Problem code 1 pointing at the Next Header field.
  feed(at_ms(4), ip6_packet(200, tcp));
  auto p = poll(at_ms(4));
  ASSERT_TRUE(p && p->icmp);
  EXPECT_EQ(p->icmp->code, 1);
  EXPECT_EQ(p->icmp->pointer, 6u);
  expect_silent(at_ms(4));
  EXPECT_EQ(t_.ctr().ip_in_receives, t_.ctr().in_accepted + t_.ctr().total_drops());
}

// Oversized and unknown options (RFC 8200 §4.2): a hop-by-hop header longer than the packet is
// dropped as malformed; an unknown option whose action bits are 10 draws Parameter Problem
// code 2 pointing at it; one with 01 is dropped silently; a header of the largest size (2048
// octets) filled with PadN and Pad1 options is skipped and the SYN behind it answered.
TEST_F(ipv6_host, oversized_and_unknown_hop_by_hop_options) {
  (void)*t_.h().listen(host_port, 8);
  std::string st;
  const tcp_repr syn = stack_harness::to_repr(seg{.seq = peer_iss, .flags = tcp_flag::syn}, peer_port, host_port, st);
  std::vector<std::byte> tcp(syn.buffer_len());
  syn.emit(tcp, ip_addr{peer6}, ip_addr{host6});
  auto hbh = [&](std::uint8_t len8, std::vector<std::byte> opts, bool with_tcp = true) {
    std::vector<std::byte> b = {std::byte{ipv6_next::tcp}, std::byte{len8}};
    b.insert(b.end(), opts.begin(), opts.end());
    b.resize(8u * (len8 + 1u), std::byte{0});  // Pad1s to the header's length
    if (with_tcp) b.insert(b.end(), tcp.begin(), tcp.end());
    return ip6_packet(ipv6_next::hop_by_hop, b);
  };
  // Says 255 * 8 + 8 octets, carries 8: past the payload.
  {
    std::vector<std::byte> b = {std::byte{ipv6_next::tcp}, std::byte{255}, std::byte{0}, std::byte{0},
                                std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}};
    feed(at_ms(0), ip6_packet(ipv6_next::hop_by_hop, b));
    EXPECT_EQ(t_.ctr().wire(wire_error::bad_ext_header), 1u);
    expect_silent(at_ms(0));
  }
  // Unknown option type 0x85 (action 10): Parameter Problem code 2, pointer at its type octet.
  feed(at_ms(1), hbh(0, {std::byte{0x85}, std::byte{2}, std::byte{0}, std::byte{0}}));
  auto p = poll(at_ms(1));
  ASSERT_TRUE(p && p->icmp);
  EXPECT_EQ(p->icmp->type, icmpv6_type::param_problem);
  EXPECT_EQ(p->icmp->code, 2);
  EXPECT_EQ(p->icmp->pointer, 42u);
  // Unknown option type 0x45 (action 01): dropped, nothing sent.
  feed(at_ms(2), hbh(0, {std::byte{0x45}, std::byte{2}, std::byte{0}, std::byte{0}}));
  expect_silent(at_ms(2));
  // Seven 257-octet PadNs, then Pad1s, in a 2048-octet header: skipped, the SYN answered.
  std::vector<std::byte> padn = {std::byte{1}, std::byte{255}};
  padn.resize(2 + 255, std::byte{0});
  std::vector<std::byte> opts;
  for (int i = 0; i < 7; ++i) opts.insert(opts.end(), padn.begin(), padn.end());
  feed(at_ms(3), hbh(255, opts));
  expect_tcp(at_ms(3), tcp_flag::syn | tcp_flag::ack);
}

// RFC 4443 §2.4 (f): the errors a flood of bad packets draws are rate-limited.
TEST_F(ipv6_host, parameter_problems_are_rate_limited) {
  std::vector<std::byte> junk(20, std::byte{0});
  for (int i = 0; i < 200; ++i) feed(at_ms(0), ip6_packet(200, junk));
  std::size_t sent = 0;
  while (poll(at_ms(0))) ++sent;
  EXPECT_EQ(sent, 32u);  // the burst of 50, less what the reply queue (32) could hold
  EXPECT_EQ(t_.ctr().icmp_out_errors + t_.ctr().icmp_errors_rate_limited + t_.ctr().host(host_drop::reply_queue_full), 200u);
  EXPECT_EQ(t_.ctr().icmp_errors_rate_limited, 150u);
  // A second later the bucket is full again.
  feed(at_s(1), ip6_packet(200, junk));
  EXPECT_TRUE(poll(at_s(1)).has_value());
}


// RFC 3168 over IPv6: the ECN field is the Traffic Class's low two bits; the class the socket
// set (IPV6_TCLASS, here DSCP EF) keeps its upper six.
TEST_F(ipv6_host, ecn_traffic_class__ect0_on_new_data_and_a_ce_mark_echoed) {
  tcp_config tclass = t_.h().config().tcp;
  tclass.tos = 0xB8;
  auto l = *t_.h().listen(host_port, 8, tclass);
  send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn | tcp_flag::ece | tcp_flag::cwr, .mss = 1440});
  auto sa = poll(at_ms(0));
  ASSERT_TRUE(sa && sa->tcp);
  EXPECT_EQ(sa->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack | tcp_flag::ece) << describe(*sa->tcp);
  EXPECT_EQ(sa->ip.traffic_class, 0xB8) << "the SYN-ACK goes Not-ECT";
  const seq_num iss = sa->tcp->seq;
  send(at_ms(1), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}});
  auto c = t_.h().accept(l);
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(t_.h().internals(*c)->ecn);
  const std::string reply = "world";
  ASSERT_EQ(*t_.h().send(*c, std::as_bytes(std::span{reply})), reply.size());
  auto d = poll(at_ms(2));
  ASSERT_TRUE(d && d->tcp);
  EXPECT_EQ(d->tcp->payload.size(), reply.size());
  EXPECT_EQ(d->ip.traffic_class, 0xBA) << "new data: ECT(0) under the DSCP";
  // Data marked CE on its way (Traffic Class bits 0-1, the high nibble of the second octet).
  auto marked = tcp6(seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{6}, .payload = "hi"});
  marked[1] |= std::byte{0x30};
  feed(at_ms(3), marked);
  auto a = poll(at_ms(50));  // the delayed ACK
  ASSERT_TRUE(a && a->tcp);
  EXPECT_EQ(a->tcp->wire_flags(), tcp_flag::ack | tcp_flag::ece) << describe(*a->tcp);
  EXPECT_EQ(a->ip.traffic_class, 0xB8) << "a pure ACK goes Not-ECT";
  EXPECT_EQ(t_.h().internals(*c)->ecn_ce_received, 1u);
}

}  // namespace
}  // namespace synack::stest
