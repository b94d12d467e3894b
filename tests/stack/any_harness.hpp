#pragma once
// Packets of either family between any two addresses, for the any-address and UDP tests: the
// peer talks to destinations that are not the host's own (203.0.113.7, 2001:db8:ffff::7), so
// every packet names its source and destination, and every packet the host emits is parsed
// back with its IP addresses (the source must be the original destination).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack_harness.hpp"
#include "synack/wire/icmpv6.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/udp.hpp"

namespace synack::stest {

enum class family { v4, v6 };
inline std::string family_name(const testing::TestParamInfo<family>& i) {
  return i.param == family::v4 ? "ipv4" : "ipv6";
}

// The addresses of one family: the host's own, the peer's, and two that are not the host's.
struct family_addrs {
  ip_addr me, peer, far, far2;
};
inline family_addrs addrs_of(family f) {
  if (f == family::v4) {
    return {host_ip, peer_ip, ipv4_addr::from_octets(203, 0, 113, 7), ipv4_addr::from_octets(198, 51, 100, 9)};
  }
  return {*ipv6_addr::parse("2001:db8::1"), *ipv6_addr::parse("2001:db8::2"), *ipv6_addr::parse("2001:db8:ffff::7"),
          *ipv6_addr::parse("2001:db8:eeee::9")};
}
// A dual-stack host: 192.0.2.1 and 2001:db8::1.
inline host_config dual_config() {
  host_config c = default_config();
  c.addresses = {host_address{*ipv6_addr::parse("2001:db8::1"), 64}};
  c.tcp.timestamps = false;
  return c;
}

// An IP header of the family of `src` in front of `payload`.
inline std::vector<std::byte> ip_datagram(const ip_addr& src, const ip_addr& dst, std::uint8_t proto, bytes payload) {
  const std::size_t hl = src.is_v4() ? 20 : 40;
  std::vector<std::byte> b(hl + payload.size());
  if (src.is_v4()) {
    ipv4_repr ip;
    ip.src = src.v4();
    ip.dst = dst.v4();
    ip.protocol = static_cast<ip_proto>(proto);
    ip.payload_len = static_cast<std::uint16_t>(payload.size());
    ip.emit(b);
  } else {
    ipv6_repr ip;
    ip.src = src.v6();
    ip.dst = dst.v6();
    ip.next_header = proto;
    ip.payload_len = static_cast<std::uint16_t>(payload.size());
    ip.emit(b);
  }
  std::ranges::copy(payload, b.begin() + static_cast<std::ptrdiff_t>(hl));
  return b;
}

inline std::vector<std::byte> tcp_to(const ip_addr& src, const ip_addr& dst, const seg& s) {
  std::string storage;
  const tcp_repr r = stack_harness::to_repr(s, s.peer, s.local, storage);
  std::vector<std::byte> t(r.buffer_len());
  r.emit(t, src, dst);
  return ip_datagram(src, dst, 6, t);
}

inline bytes as_bytes(std::string_view s) { return std::as_bytes(std::span{s.data(), s.size()}); }
inline std::string as_string(bytes b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

inline std::vector<std::byte> udp_to(const ip_addr& src, std::uint16_t sport, const ip_addr& dst, std::uint16_t dport,
                                     std::string_view payload) {
  const udp_repr u{sport, dport, as_bytes(payload)};
  std::vector<std::byte> d(u.buffer_len());
  if (src.is_v4()) {
    u.emit(d, src.v4(), dst.v4());
  } else {
    u.emit(d, src.v6(), dst.v6());
  }
  return ip_datagram(src, dst, 17, d);
}

// One packet the host emitted, with its addresses.
struct emitted {
  std::vector<std::byte> raw;
  ip_addr src, dst;
  std::uint8_t proto = 0;
  std::size_t hl = 0;
  [[nodiscard]] bytes payload() const { return bytes{raw}.subspan(hl); }
};

inline std::optional<emitted> poll_any(stack_harness& t, instant at) {
  t.advance(at);
  emitted e;
  e.raw.assign(t.h().max_packet_len(), std::byte{0});
  const auto n = t.h().poll_transmit(at, e.raw);
  if (!n) return std::nullopt;
  e.raw.resize(*n);
  if ((load_u8(&e.raw[0]) >> 4) == 6) {
    auto v = ipv6_view::parse(e.raw);
    EXPECT_TRUE(v.has_value()) << "unparsable IPv6 packet";
    if (!v) return std::nullopt;
    e.src = v->src();
    e.dst = v->dst();
    e.proto = v->next_header();
    e.hl = 40;
  } else {
    auto v = ipv4_view::parse(e.raw);
    EXPECT_TRUE(v.has_value()) << "unparsable IPv4 packet";
    if (!v) return std::nullopt;
    e.src = v->src();
    e.dst = v->dst();
    e.proto = static_cast<std::uint8_t>(v->protocol());
    e.hl = 20;
  }
  return e;
}

// A TCP segment the host emitted; its payload copied out.
struct got_tcp {
  tcp_repr seg;  // payload cleared: it pointed into the polled buffer
  std::string payload;
};

// The next packet as a TCP segment from `src` to `dst`, checksum verified.
inline std::optional<got_tcp> expect_tcp_from(stack_harness& t, instant at, const ip_addr& src, const ip_addr& dst,
                                              test::source_loc loc = test::source_loc::current()) {
  SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
  auto e = poll_any(t, at);
  EXPECT_TRUE(e.has_value()) << "expected a TCP segment, got nothing";
  if (!e) return std::nullopt;
  EXPECT_EQ(e->src, src);
  EXPECT_EQ(e->dst, dst);
  EXPECT_EQ(e->proto, 6);
  auto v = tcp_view::parse(e->payload());
  EXPECT_TRUE(v.has_value());
  if (!v) return std::nullopt;
  got_tcp g;
  EXPECT_FALSE(tcp_repr::parse(*v, src, dst, g.seg).has_value()) << "bad TCP checksum";
  g.payload = as_string(g.seg.payload);
  g.seg.payload = {};
  return g;
}

// The next packet as the family's destination unreachable (ICMP type 3 with `code4`, ICMPv6
// type 1 with `code6`) from `src` to `dst`, quoting `offending` whole.
inline void expect_unreachable(stack_harness& t, instant at, const ip_addr& src, const ip_addr& dst,
                               std::uint8_t code4, std::uint8_t code6, const std::vector<std::byte>& offending,
                               test::source_loc loc = test::source_loc::current()) {
  SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
  auto e = poll_any(t, at);
  ASSERT_TRUE(e.has_value()) << "expected destination unreachable";
  EXPECT_EQ(e->src, src);
  EXPECT_EQ(e->dst, dst);
  if (src.is_v6()) {
    ASSERT_EQ(e->proto, 58);
    auto m = icmpv6_repr::parse(e->payload(), e->src.v6(), e->dst.v6());
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->type, icmpv6_type::dest_unreachable);
    EXPECT_EQ(m->code, code6);
    EXPECT_TRUE(std::ranges::equal(m->data, offending));
  } else {
    ASSERT_EQ(e->proto, 1);
    auto m = icmpv4_repr::parse(e->payload());
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->type, icmp_type::dest_unreachable);
    EXPECT_EQ(m->code, code4);
    EXPECT_TRUE(std::ranges::equal(m->data, offending));
  }
}

}  // namespace synack::stest
