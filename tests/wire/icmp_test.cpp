// WORKAROUND: g++ 12 at -O2 -DNDEBUG reports "potential null pointer dereference" inside
// result<T, E>'s get_if-based accessors (it cannot rule out a valueless variant). The fix
// belongs in util/result.hpp (tell the optimiser get_if is non-null); until then this file
// silences the warning. It must precede every include that reaches result.hpp.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "synack/wire/icmp.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "synack/util/rng.hpp"
#include "synack/wire/checksum.hpp"
#include "wire/test_bytes.hpp"

namespace synack {
namespace {

// Messages the Linux kernel sent over a TUN device (captured for these tests), without their
// IPv4 headers.
// Echo reply to ident 0x4242 seq 7, payload "synack!!".
constexpr std::string_view linux_echo_reply = "00 00 57 4f 42 42 00 07 73 79 6e 61 63 6b 21 21";
// Port unreachable for a UDP datagram 10.0.0.2:40000 -> 10.0.0.1:9, quoting all of it.
constexpr std::string_view linux_port_unreachable =
    "03 03 81 d6 00 00 00 00"
    " 45 00 00 20 12 34 40 00 40 11 14 97 0a 00 00 02 0a 00 00 01 9c 40 00 09 00 0c 00 00"
    " 70 69 6e 67";
// The first 28 bytes of a Linux SYN 10.0.0.1:44682 -> 10.0.0.2:80, seq 0xc8d0a570: what a
// router quotes.
constexpr std::string_view quoted_syn =
    "45 00 00 3c 79 e6 40 00 40 06 ac d3 0a 00 00 01 0a 00 00 02 ae 8a 00 50 c8 d0 a5 70";

std::vector<std::byte> emit(const icmpv4_repr& r) {
  std::vector<std::byte> out(r.buffer_len());
  r.emit(out);
  return out;
}

// An ICMP message from hex with its checksum recomputed.
std::vector<std::byte> message(std::string_view hex) {
  auto m = test::from_hex(hex);
  store_be16(&m[2], 0);
  store_be16(&m[2], internet_checksum(m));
  return m;
}

wire_error parse_error(const std::vector<std::byte>& m) {
  const auto r = icmpv4_repr::parse(m);
  EXPECT_FALSE(r.has_value());
  return r ? wire_error::count_ : r.error();
}

TEST(Icmp, RealEchoReply) {
  const auto m = test::from_hex(linux_echo_reply);
  const auto r = icmpv4_repr::parse(m);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, icmp_type::echo_reply);
  EXPECT_EQ(r->code, 0);
  EXPECT_EQ(r->ident, 0x4242);
  EXPECT_EQ(r->seq_no, 7);
  EXPECT_EQ(test::to_hex(r->data), test::to_hex(test::from_string("synack!!")));
  EXPECT_FALSE(r->is_error());
  EXPECT_FALSE(r->quote().has_value());
  EXPECT_EQ(test::to_hex(emit(*r)), test::to_hex(m));
}

TEST(Icmp, EchoRoundTrip) {
  rng g{77};
  for (int i = 0; i < 1000; ++i) {
    std::vector<std::byte> data(g.below(100));
    for (auto& b : data) b = static_cast<std::byte>(g.below(256));
    icmpv4_repr r;
    r.type = g.chance(0.5) ? icmp_type::echo_request : icmp_type::echo_reply;
    r.ident = static_cast<std::uint16_t>(g.below(0x10000));
    r.seq_no = static_cast<std::uint16_t>(g.below(0x10000));
    r.data = data;
    const auto out = emit(r);
    ASSERT_EQ(internet_checksum(out), 0);
    const auto back = icmpv4_repr::parse(out);
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(*back, r);
  }
}

TEST(Icmp, RealPortUnreachableQuote) {
  const auto m = test::from_hex(linux_port_unreachable);
  const auto r = icmpv4_repr::parse(m);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, icmp_type::dest_unreachable);
  EXPECT_EQ(r->code, icmp_unreach_code::port);
  EXPECT_EQ(r->next_hop_mtu, 0);
  EXPECT_TRUE(r->is_error());
  EXPECT_EQ(r->data.size(), 32u);
  const auto q = r->quote();
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->src, ipv4_addr::from_octets(10, 0, 0, 2));
  EXPECT_EQ(q->dst, ipv4_addr::from_octets(10, 0, 0, 1));
  EXPECT_EQ(q->protocol, ip_proto::udp);
  EXPECT_EQ(q->src_port, 40000);
  EXPECT_EQ(q->dst_port, 9);
  EXPECT_EQ(q->seq, seq_num{0x000c0000});  // UDP length and checksum: not meaningful for UDP
  EXPECT_EQ(test::to_hex(emit(*r)), test::to_hex(m));
}

TEST(Icmp, FragNeededCarriesTheMtuAndTheTcpQuote) {
  // RFC 1191 §4: code 4 with the next-hop MTU in bytes 6..7 (RFC 5927 / PMTUD).
  const auto m = message("03 04 00 00 00 00 05 00 " + std::string{quoted_syn});
  const auto r = icmpv4_repr::parse(m);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->code, icmp_unreach_code::frag_needed);
  EXPECT_EQ(r->next_hop_mtu, 1280);
  const auto q = r->quote();
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(*q, (icmp_quote{ipv4_addr::from_octets(10, 0, 0, 1), ipv4_addr::from_octets(10, 0, 0, 2),
                            ip_proto::tcp, 44682, 80, seq_num{0xc8d0a570}}));
  const auto out = emit(*r);
  EXPECT_EQ(test::to_hex(out), test::to_hex(m));
  const auto back = icmpv4_repr::parse(out);  // data spans into `out`
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, *r);
}

TEST(Icmp, MtuIsOnlyReadForFragNeeded) {
  // For other codes bytes 4..7 are unused (RFC 792) and ignored.
  const auto m = message("03 01 00 00 00 00 05 00 " + std::string{quoted_syn});
  const auto r = icmpv4_repr::parse(m);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->code, icmp_unreach_code::host);
  EXPECT_EQ(r->next_hop_mtu, 0);
}

TEST(Icmp, QuoteAfterIpOptions) {
  // A quoted header with IHL 6: the transport header starts at 24.
  const auto m = message(
      "0b 00 00 00 00 00 00 00"
      " 46 00 00 40 79 e6 40 00 01 06 00 00 0a 00 00 01 0a 00 00 02 01 01 01 01"
      " 12 34 56 78 ff ff ff fe");
  const auto r = icmpv4_repr::parse(m);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, icmp_type::time_exceeded);
  const auto q = r->quote();
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->src_port, 0x1234);
  EXPECT_EQ(q->dst_port, 0x5678);
  EXPECT_EQ(q->seq, seq_num{0xFFFFFFFE});
}

TEST(Icmp, TimeExceededRoundTrip) {
  const auto quote = test::from_hex(quoted_syn);
  icmpv4_repr r;
  r.type = icmp_type::time_exceeded;
  r.code = 0;
  r.data = quote;
  const auto out = emit(r);
  EXPECT_EQ(test::to_hex(bytes{out}.subspan(4, 4)), "00 00 00 00");
  const auto back = icmpv4_repr::parse(out);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, r);
  EXPECT_EQ(back->quote()->seq, seq_num{0xc8d0a570});
}

TEST(Icmp, Truncated) {
  EXPECT_EQ(parse_error(test::from_hex("08 00 f7 ff 00 00 00")), wire_error::truncated);
  EXPECT_EQ(parse_error({}), wire_error::truncated);
}

TEST(Icmp, BadChecksum) {
  const auto good = test::from_hex(linux_port_unreachable);
  for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
    auto m = good;
    m[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    EXPECT_EQ(parse_error(m), wire_error::bad_checksum) << "bit " << bit;
  }
}

TEST(Icmp, MalformedQuotes) {
  const std::string syn{quoted_syn};
  // Nothing quoted, a header only, one octet short of header + 8.
  EXPECT_EQ(parse_error(message("03 03 00 00 00 00 00 00")), wire_error::bad_icmp);
  EXPECT_EQ(parse_error(message("03 03 00 00 00 00 00 00 " + syn.substr(0, 20 * 3))), wire_error::bad_icmp);
  EXPECT_EQ(parse_error(message("0b 00 00 00 00 00 00 00 " + syn.substr(0, 27 * 3))), wire_error::bad_icmp);
  // Not IPv4.
  EXPECT_EQ(parse_error(message("03 03 00 00 00 00 00 00 65" + syn.substr(2))), wire_error::bad_icmp);
  // IHL below 5.
  EXPECT_EQ(parse_error(message("03 03 00 00 00 00 00 00 44" + syn.substr(2))), wire_error::bad_icmp);
  // IHL 6 needs 24 + 8 octets; 28 are quoted.
  EXPECT_EQ(parse_error(message("03 03 00 00 00 00 00 00 46" + syn.substr(2))), wire_error::bad_icmp);
  // Exactly header + 8 is enough.
  EXPECT_TRUE(icmpv4_repr::parse(message("03 03 00 00 00 00 00 00 " + syn)).has_value());
}

TEST(Icmp, QuoteOfAHandBuiltReprIsChecked) {
  const auto junk = test::from_hex("45 00 00");
  icmpv4_repr r;
  r.type = icmp_type::dest_unreachable;
  r.data = junk;
  EXPECT_FALSE(r.quote().has_value());
}

TEST(Icmp, OtherTypesAreKeptVerbatim) {
  // Type 13 (timestamp request, RFC 792) and an unassigned type 200.
  for (const char* hex : {"0d 00 00 00 12 34 00 01 00 00 00 01 00 00 00 00 00 00 00 00",
                          "c8 07 00 00 de ad be ef 01"}) {
    const auto m = message(hex);
    const auto r = icmpv4_repr::parse(m);
    ASSERT_TRUE(r.has_value()) << hex;
    EXPECT_FALSE(r->is_error());
    EXPECT_FALSE(r->quote().has_value());
    EXPECT_EQ(r->rest, load_be32(&m[4]));
    EXPECT_EQ(r->data.size(), m.size() - 8);
    EXPECT_EQ(test::to_hex(emit(*r)), test::to_hex(m));
  }
}

}  // namespace
}  // namespace synack
