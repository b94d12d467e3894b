// UDP (RFC 768) over IPv4 and IPv6: round trips, the checksum over each pseudo-header checked
// against a plain one's-complement sum written here, zero checksums (optional over IPv4,
// refused over IPv6), a computed zero sent as 0xFFFF, and the Length field against the datagram.
#include "synack/wire/udp.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace synack {
namespace {

const ipv4_addr v4a = ipv4_addr::from_octets(192, 0, 2, 1);
const ipv4_addr v4b = ipv4_addr::from_octets(198, 51, 100, 7);
const ipv6_addr v6a = *ipv6_addr::parse("2001:db8::1");
const ipv6_addr v6b = *ipv6_addr::parse("2001:db8:0:1::53");

bytes text(std::string_view s) { return std::as_bytes(std::span{s.data(), s.size()}); }

// RFC 1071, the slow way: 16-bit big-endian words, end-around carry.
std::uint16_t ones_complement(const std::vector<std::uint8_t>& octets) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < octets.size(); i += 2) {
    sum += static_cast<std::uint32_t>(octets[i] << 8) + (i + 1 < octets.size() ? octets[i + 1] : 0u);
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum & 0xFFFF);
}

std::vector<std::uint8_t> octets_of(bytes b) {
  std::vector<std::uint8_t> v;
  for (const std::byte x : b) v.push_back(std::to_integer<std::uint8_t>(x));
  return v;
}

// The pseudo-header of RFC 768 (IPv4) or RFC 8200 §8.1 (IPv6) followed by the datagram with
// its checksum field zeroed: what the checksum covers.
std::vector<std::uint8_t> covered(const std::vector<std::uint8_t>& pseudo, std::vector<std::uint8_t> d) {
  d[6] = d[7] = 0;
  std::vector<std::uint8_t> all = pseudo;
  all.insert(all.end(), d.begin(), d.end());
  return all;
}

std::vector<std::uint8_t> pseudo_v4(std::size_t len) {
  std::vector<std::uint8_t> p;
  for (ipv4_addr a : {v4a, v4b}) {
    for (int s = 24; s >= 0; s -= 8) p.push_back(static_cast<std::uint8_t>(a.value >> s));
  }
  p.insert(p.end(), {0, 17, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)});
  return p;
}

std::vector<std::uint8_t> pseudo_v6(std::size_t len) {
  std::vector<std::uint8_t> p(v6a.octets.begin(), v6a.octets.end());
  p.insert(p.end(), v6b.octets.begin(), v6b.octets.end());
  p.insert(p.end(), {0, 0, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len), 0, 0, 0, 17});
  return p;
}

TEST(Udp, RoundTripOverIpv4WithTheRfc768Checksum) {
  udp_repr r{.src_port = 5353, .dst_port = 53, .payload = text("a DNS query, say")};
  std::vector<std::byte> out(r.buffer_len());
  r.emit(out, v4a, v4b);
  const auto d = octets_of(out);
  EXPECT_EQ(d[4] << 8 | d[5], static_cast<int>(r.buffer_len()));
  EXPECT_EQ(d[6] << 8 | d[7], ones_complement(covered(pseudo_v4(out.size()), d)));
  auto p = udp_repr::parse(out, v4a, v4b);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, r);
  // The checksum covers the addresses.
  EXPECT_EQ(udp_repr::parse(out, v4b, v4a).has_value(), true) << "swapping both addresses keeps the sum";
  EXPECT_EQ(udp_repr::parse(out, v4a, ipv4_addr::from_octets(192, 0, 2, 9)).error(), wire_error::bad_checksum);
}

TEST(Udp, RoundTripOverIpv6WithThePseudoHeaderOfRfc8200) {
  udp_repr r{.src_port = 40000, .dst_port = 53, .payload = text("odd length")};
  std::vector<std::byte> out(r.buffer_len());
  r.emit(out, v6a, v6b);
  const auto d = octets_of(out);
  EXPECT_EQ(d[6] << 8 | d[7], ones_complement(covered(pseudo_v6(out.size()), d)));
  auto p = udp_repr::parse(out, v6a, v6b);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, r);
  out[9] ^= std::byte{0x01};
  EXPECT_EQ(udp_repr::parse(out, v6a, v6b).error(), wire_error::bad_checksum);
}

TEST(Udp, ZeroChecksumIsNoneOverIpv4AndRefusedOverIpv6) {
  udp_repr r{.src_port = 1, .dst_port = 2, .payload = text("x")};
  std::vector<std::byte> out(r.buffer_len());
  r.emit(out, v4a, v4b);
  out[6] = out[7] = std::byte{0};
  EXPECT_TRUE(udp_repr::parse(out, v4a, v4b).has_value());
  EXPECT_EQ(udp_repr::parse(out, v6a, v6b).error(), wire_error::bad_checksum);
}

TEST(Udp, ASumOfZeroIsSentAsAllOnes) {
  // Find a two-octet payload whose checksum computes to zero, then check it goes out as
  // 0xFFFF (RFC 768) and is accepted (the same number in one's complement).
  for (std::uint32_t w = 0; w <= 0xFFFF; ++w) {
    const std::array<std::byte, 2> pl{std::byte(w >> 8), std::byte(w & 0xFF)};
    udp_repr r{.src_port = 7, .dst_port = 7, .payload = bytes{pl}};
    std::vector<std::byte> out(r.buffer_len());
    r.emit(out, v4a, v4b);
    if (ones_complement(covered(pseudo_v4(out.size()), octets_of(out))) != 0) continue;
    EXPECT_EQ(std::to_integer<int>(out[6]), 0xFF);
    EXPECT_EQ(std::to_integer<int>(out[7]), 0xFF);
    EXPECT_TRUE(udp_repr::parse(out, v4a, v4b).has_value());
    return;
  }
  FAIL() << "no payload word gives a zero sum";
}

TEST(Udp, LengthFieldAgainstTheDatagram) {
  udp_repr r{.src_port = 9, .dst_port = 9, .payload = text("abcdef")};
  std::vector<std::byte> out(r.buffer_len());
  r.emit(out, v4a, v4b);
  std::vector<std::byte> padded = out;  // link padding after the datagram is ignored
  padded.insert(padded.end(), 4, std::byte{0xEE});
  auto p = udp_repr::parse(padded, v4a, v4b);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->payload.size(), 6u);
  EXPECT_EQ(udp_repr::parse(bytes{out}.first(7), v4a, v4b).error(), wire_error::truncated);
  EXPECT_EQ(udp_repr::parse(bytes{out}.first(10), v4a, v4b).error(), wire_error::bad_total_len);  // Length 14 > 10
  std::vector<std::byte> short_len = out;
  short_len[5] = std::byte{7};  // Length 7 < the header
  EXPECT_EQ(udp_repr::parse(short_len, v4a, v4b).error(), wire_error::bad_total_len);
  const udp_repr empty{.src_port = 9, .dst_port = 10, .payload = {}};
  std::vector<std::byte> e(empty.buffer_len());
  empty.emit(e, v6a, v6b);
  ASSERT_TRUE(udp_repr::parse(e, v6a, v6b).has_value());
  EXPECT_TRUE(udp_repr::parse(e, v6a, v6b)->payload.empty());
}

}  // namespace
}  // namespace synack
