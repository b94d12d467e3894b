// ICMPv6 (RFC 4443): echo and the four error messages round-trip through emit and parse, the
// checksum covers the pseudo-header, and an error's quote yields the TCP 4-tuple and sequence
// number even when it is cut short of the payload length it names.
#include "synack/wire/icmpv6.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace synack {
namespace {

const ipv6_addr src = *ipv6_addr::parse("2001:db8::1");
const ipv6_addr dst = *ipv6_addr::parse("2001:db8::2");

std::vector<std::byte> emit(const icmpv6_repr& r) {
  std::vector<std::byte> out(r.buffer_len());
  r.emit(out, src, dst);
  return out;
}

TEST(icmpv6, echo_round_trip_and_checksum) {
  const std::vector<std::byte> payload(56, std::byte{0x5A});
  icmpv6_repr r;
  r.type = icmpv6_type::echo_request;
  r.ident = 0x1234;
  r.seq_no = 7;
  r.data = payload;
  auto m = emit(r);
  auto back = icmpv6_repr::parse(m, src, dst);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(back->is_error());
  // The pseudo-header counts: the same bytes to another address fail the checksum.
  EXPECT_TRUE(icmpv6_repr::parse(m, dst, src).has_value());  // the sum is symmetric in src and dst
  EXPECT_EQ(icmpv6_repr::parse(m, src, *ipv6_addr::parse("2001:db8::3")).error(), wire_error::bad_checksum);
  m[9] ^= std::byte{1};
  EXPECT_EQ(icmpv6_repr::parse(m, src, dst).error(), wire_error::bad_checksum);
  EXPECT_EQ(icmpv6_repr::parse(bytes{m}.first(7), src, dst).error(), wire_error::truncated);
}

// An IPv6+TCP packet from dst to src (what we sent), `ext` extension header bytes first.
std::vector<std::byte> sent_packet(std::uint32_t seq, const std::vector<std::uint8_t>& ext = {}) {
  ipv6_repr ip;
  ip.src = dst;
  ip.dst = src;
  ip.next_header = ext.empty() ? ipv6_next::tcp : ipv6_next::dest_options;
  ip.payload_len = static_cast<std::uint16_t>(ext.size() + 1400);
  std::vector<std::byte> p(40 + ext.size() + 1400);
  ip.emit(p);
  for (std::size_t i = 0; i < ext.size(); ++i) p[40 + i] = std::byte{ext[i]};
  const std::size_t t = 40 + ext.size();
  store_be16(&p[t], 443);
  store_be16(&p[t + 2], 50000);
  store_be32(&p[t + 4], seq);
  return p;
}

TEST(icmpv6, packet_too_big_quotes_the_tcp_segment) {
  auto quoted = sent_packet(0xDEADBEEF);
  quoted.resize(1280 - 40 - 8);  // RFC 4443 §2.4 (c): as much as fits in the minimum MTU
  icmpv6_repr r;
  r.type = icmpv6_type::packet_too_big;
  r.mtu = 1280;
  r.data = quoted;
  const auto message = emit(r);
  auto back = icmpv6_repr::parse(message, src, dst);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->mtu, 1280u);
  auto q = back->quote();
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->src, dst);
  EXPECT_EQ(q->dst, src);
  EXPECT_EQ(q->upper, ipv6_next::tcp);
  EXPECT_EQ(q->src_port, 443);
  EXPECT_EQ(q->dst_port, 50000);
  EXPECT_EQ(q->seq, seq_num{0xDEADBEEF});
}

TEST(icmpv6, quote_walks_extension_headers_and_stops_short) {
  auto quoted = sent_packet(42, {ipv6_next::tcp, 0, 1, 4, 0, 0, 0, 0});
  quoted.resize(40 + 8 + 8);  // the options header and 8 octets of TCP
  icmpv6_repr r;
  r.type = icmpv6_type::dest_unreachable;
  r.code = 4;  // port unreachable
  r.data = quoted;
  auto q = icmpv6_repr::parse(emit(r), src, dst)->quote();
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->upper, ipv6_next::tcp);
  EXPECT_EQ(q->seq, seq_num{42});
  // Only the fixed header: addresses, no ports.
  quoted.resize(40);
  r.data = quoted;
  q = icmpv6_repr::parse(emit(r), src, dst)->quote();
  ASSERT_TRUE(q.has_value());
  EXPECT_FALSE(q->upper.has_value());
  EXPECT_EQ(q->src_port, 0);
  // Less than a fixed header: malformed.
  quoted.resize(39);
  r.data = quoted;
  EXPECT_EQ(icmpv6_repr::parse(emit(r), src, dst).error(), wire_error::bad_icmp);
}

TEST(icmpv6, parameter_problem_and_time_exceeded_round_trip) {
  auto quoted = sent_packet(1);
  quoted.resize(48);
  for (auto [type, word] : {std::pair{icmpv6_type::param_problem, 40u}, std::pair{icmpv6_type::time_exceeded, 0u}}) {
    icmpv6_repr r;
    r.type = type;
    r.code = 1;
    r.pointer = type == icmpv6_type::param_problem ? word : 0;
    r.data = quoted;
    const auto message = emit(r);  // the parsed repr's data points into it
    auto back = icmpv6_repr::parse(message, src, dst);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, r);
    EXPECT_TRUE(back->is_error());
  }
}

}  // namespace
}  // namespace synack
