// IPv6 addresses (RFC 4291 text in, RFC 5952 text out), the fixed header (RFC 8200 §3), the
// extension-header walk (§4) and the pseudo-header sum (§8.1).
#include "synack/wire/ipv6.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "synack/wire/checksum.hpp"

namespace synack {
namespace {

ipv6_addr A(std::string_view s) {
  auto a = ipv6_addr::parse(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(ipv6_addr{});
}

TEST(ipv6_addr, rfc5952_text_out) {
  struct {
    const char* in;
    const char* out;
  } cases[] = {
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},   // §4.1, §4.2.1
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},               // §4.2.3: the first of equal runs
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},            // §4.2.2: one zero group stays
      {"2001:DB8::AAAA", "2001:db8::aaaa"},                        // §4.3: lower case
      {"2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::"},                // the longer run
      {"::", "::"},
      {"::1", "::1"},
      {"1::", "1::"},
      {"fe80::1:2", "fe80::1:2"},
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},                    // §5: v4-mapped, dotted
      {"::ffff:c000:0201", "::ffff:192.0.2.1"},
      {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},                // a dotted tail elsewhere: hex out
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
      {"1:2:3:4:5:6::8", "1:2:3:4:5:6:0:8"},                       // "::" for one group: not kept
  };
  for (const auto& c : cases) EXPECT_EQ(A(c.in).to_string(), c.out) << c.in;
}

TEST(ipv6_addr, malformed_text_is_refused) {
  for (const char* bad : {"", ":", ":::", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
                          "g::1", "::1%eth0", "[::1]", "::1/64", "1:2:3:4:5:6:7:1.2.3.4", "::1.2.3", "1.2.3.4::",
                          "::ffff:1.2.3.04", " ::1", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8"}) {
    EXPECT_FALSE(ipv6_addr::parse(bad).has_value()) << bad;
  }
}

TEST(ipv6_addr, kinds) {
  EXPECT_TRUE(A("::").is_unspecified());
  EXPECT_TRUE(A("::1").is_loopback());
  EXPECT_TRUE(A("ff02::1").is_multicast());
  EXPECT_TRUE(A("fe80::1").is_link_local());
  EXPECT_TRUE(A("febf::1").is_link_local());
  EXPECT_FALSE(A("fec0::1").is_link_local());
  EXPECT_EQ(A("::ffff:10.0.0.1").to_v4(), ipv4_addr::from_octets(10, 0, 0, 1));
  EXPECT_EQ(ipv6_addr::v4_mapped(ipv4_addr::from_octets(10, 0, 0, 1)), A("::ffff:10.0.0.1"));
  EXPECT_FALSE(A("::10.0.0.1").to_v4().has_value());  // v4-compatible (deprecated): not mapped
}

// A packet: fixed header with `next`, then `ext` (extension headers), then `upper` bytes.
std::vector<std::byte> packet(std::uint8_t next, const std::vector<std::uint8_t>& ext, std::size_t upper = 20,
                              std::string_view dst = "2001:db8::2") {
  ipv6_repr r;
  r.src = A("2001:db8::1");
  r.dst = A(dst);
  r.next_header = next;
  r.payload_len = static_cast<std::uint16_t>(ext.size() + upper);
  std::vector<std::byte> p(40 + ext.size() + upper);
  r.emit(p);
  for (std::size_t i = 0; i < ext.size(); ++i) p[40 + i] = std::byte{ext[i]};
  return p;
}

TEST(ipv6_header, emit_then_parse_is_the_same) {
  ipv6_repr r;
  r.src = A("2001:db8::1");
  r.dst = A("fe80::2");
  r.next_header = ipv6_next::icmpv6;
  r.payload_len = 8;
  r.hop_limit = 255;
  r.traffic_class = 0xB8;
  r.flow_label = 0xABCDE;
  std::vector<std::byte> p(48);
  r.emit(p);
  auto v = ipv6_view::parse(p);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(ipv6_repr::parse(*v), r);
  EXPECT_EQ(v->payload().size(), 8u);
}

TEST(ipv6_header, malformed_headers) {
  auto p = packet(ipv6_next::tcp, {});
  EXPECT_EQ(ipv6_view::parse(bytes{p}.first(39)).error(), wire_error::truncated);
  auto q = p;
  q[0] = std::byte{0x45};
  EXPECT_EQ(ipv6_view::parse(q).error(), wire_error::bad_version);
  EXPECT_EQ(ipv6_view::parse(bytes{p}.first(p.size() - 1)).error(), wire_error::bad_total_len);
  q = p;
  q[4] = q[5] = std::byte{0};  // payload length 0: a jumbogram, not supported
  EXPECT_EQ(ipv6_view::parse(q).error(), wire_error::bad_total_len);
  q = p;
  q.resize(q.size() + 6);  // link padding after the payload is ignored
  EXPECT_TRUE(ipv6_view::parse(q).has_value());
}

result<ipv6_upper, ipv6_drop> walk(const std::vector<std::byte>& p) {
  auto v = ipv6_view::parse(p);
  EXPECT_TRUE(v.has_value());
  return walk_extension_headers(*v);
}

TEST(ipv6_walk, plain_and_with_options_to_the_upper_layer) {
  auto r = walk(packet(ipv6_next::tcp, {}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->protocol, ipv6_next::tcp);
  EXPECT_EQ(r->offset, 40u);
  EXPECT_EQ(r->payload.size(), 20u);
  // Hop-by-hop (Pad1 x2, PadN of 2) -> destination options (skippable unknown type 0x1E) -> TCP.
  r = walk(packet(ipv6_next::hop_by_hop, {ipv6_next::dest_options, 0, 0, 0, 1, 2, 0, 0,  //
                                          ipv6_next::tcp, 0, 0x1E, 4, 0, 0, 0, 0}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->protocol, ipv6_next::tcp);
  EXPECT_EQ(r->offset, 56u);
  // No Next Header: nothing after.
  r = walk(packet(ipv6_next::no_next, {}, 0 + 4));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->payload.empty());
  // An atomic fragment (offset 0, M clear) is processed as a whole packet (RFC 6946).
  r = walk(packet(ipv6_next::fragment, {ipv6_next::tcp, 0, 0, 0, 0, 0, 0, 1}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->offset, 48u);
}

TEST(ipv6_walk, what_is_dropped_and_what_is_answered) {
  // Unknown Next Header: Parameter Problem code 1, pointer to the field that named it.
  auto r = walk(packet(253, {}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, wire_error::unknown_next_header);
  ASSERT_TRUE(r.error().problem.has_value());
  EXPECT_EQ(r.error().problem->code, 1);
  EXPECT_EQ(r.error().problem->pointer, 6u);
  r = walk(packet(ipv6_next::dest_options, {253, 0, 1, 4, 0, 0, 0, 0}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().problem->pointer, 40u);
  // A real fragment: dropped, no answer.
  r = walk(packet(ipv6_next::fragment, {ipv6_next::tcp, 0, 0, 1, 0, 0, 0, 1}));  // M set
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, wire_error::fragment);
  EXPECT_FALSE(r.error().problem.has_value());
  r = walk(packet(ipv6_next::fragment, {ipv6_next::tcp, 0, 0x05, 0x38, 0, 0, 0, 1}));  // offset 167
  EXPECT_EQ(r.error().reason, wire_error::fragment);
  // Routing type 0 with segments left: code 0, pointer to the routing type (RFC 5095).
  r = walk(packet(ipv6_next::routing, {ipv6_next::tcp, 2, 0, 1, 0, 0, 0, 0, /* one address */ 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 0, 1}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().problem->code, 0);
  EXPECT_EQ(r.error().problem->pointer, 42u);
  // ... with none left it is ignored.
  r = walk(packet(ipv6_next::routing, {ipv6_next::tcp, 0, 4, 0, 0, 0, 0, 0}));
  EXPECT_TRUE(r.has_value());
  // Hop-by-hop anywhere but first: code 1 at the field that named it.
  r = walk(packet(ipv6_next::dest_options, {ipv6_next::hop_by_hop, 0, 1, 4, 0, 0, 0, 0,  //
                                            ipv6_next::tcp, 0, 1, 4, 0, 0, 0, 0}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().problem->code, 1);
  EXPECT_EQ(r.error().problem->pointer, 40u);
  // Unknown options by their action bits: 01 drop silently, 10 answer (code 2, pointer to the
  // option), 11 answer unless the destination is multicast.
  r = walk(packet(ipv6_next::dest_options, {ipv6_next::tcp, 0, 0x41, 4, 0, 0, 0, 0}));
  EXPECT_FALSE(r.error().problem.has_value());
  r = walk(packet(ipv6_next::dest_options, {ipv6_next::tcp, 0, 1, 0, 0x81, 2, 0, 0}));
  EXPECT_EQ(r.error().problem->code, 2);
  EXPECT_EQ(r.error().problem->pointer, 44u);
  r = walk(packet(ipv6_next::dest_options, {ipv6_next::tcp, 0, 0xC1, 4, 0, 0, 0, 0}, 20, "ff02::1"));
  EXPECT_FALSE(r.error().problem.has_value());
  // An option running past its header, a header past the payload.
  r = walk(packet(ipv6_next::dest_options, {ipv6_next::tcp, 0, 1, 9, 0, 0, 0, 0}));
  EXPECT_EQ(r.error().reason, wire_error::bad_ext_header);
  r = walk(packet(ipv6_next::dest_options, {ipv6_next::tcp, 3, 1, 4, 0, 0, 0, 0}, 0));
  EXPECT_EQ(r.error().reason, wire_error::bad_ext_header);
}

TEST(ipv6_walk, chains_are_bounded) {
  for (std::size_t n : {1u, 7u, 8u, 9u, 100u}) {
    std::vector<std::uint8_t> ext;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t next = i + 1 == n ? ipv6_next::tcp : ipv6_next::dest_options;
      ext.insert(ext.end(), {next, 0, 1, 4, 0, 0, 0, 0});
    }
    auto r = walk(packet(ipv6_next::dest_options, ext));
    if (n <= max_extension_headers) {
      ASSERT_TRUE(r.has_value()) << n;
      EXPECT_EQ(r->offset, 40 + 8 * n);
    } else {
      ASSERT_FALSE(r.has_value()) << n;
      EXPECT_EQ(r.error().reason, wire_error::ext_header_chain) << n;
    }
  }
}

// A TCP segment's checksum over the IPv6 pseudo-header sums to zero when verified, the same way
// as for IPv4; computed here by hand from RFC 8200 §8.1's layout.
TEST(ipv6_checksum, pseudo_header) {
  const ipv6_addr s = A("2001:db8::1");
  const ipv6_addr d = A("2001:db8::2");
  std::vector<std::byte> seg(20);
  seg[12] = std::byte{0x50};
  seg[13] = std::byte{0x02};
  std::uint64_t by_hand = 0;
  for (std::size_t i = 0; i < 16; i += 2) {
    by_hand += (std::uint64_t{s.octets[i]} << 8) | s.octets[i + 1];
    by_hand += (std::uint64_t{d.octets[i]} << 8) | d.octets[i + 1];
  }
  by_hand += 20 + 6;
  EXPECT_EQ(checksum_finish(pseudo_header_sum_v6(s, d, 6, 20)), checksum_finish(by_hand));
  const std::uint16_t c = checksum_finish(checksum_partial(seg, pseudo_header_sum_v6(s, d, 6, 20)));
  seg[16] = std::byte{static_cast<std::uint8_t>(c >> 8)};
  seg[17] = std::byte{static_cast<std::uint8_t>(c & 0xFF)};
  EXPECT_EQ(checksum_finish(checksum_partial(seg, pseudo_header_sum_v6(s, d, 6, 20))), 0);
}

}  // namespace
}  // namespace synack
