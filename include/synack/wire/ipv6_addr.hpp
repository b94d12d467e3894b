#pragma once
// An IPv6 address (RFC 4291) as its 16 octets in network order, with the text forms of
// RFC 4291 §2.2 (parse) and RFC 5952 (print).
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "synack/wire/ipv4_addr.hpp"

namespace synack {

struct ipv6_addr {
  std::array<std::uint8_t, 16> octets{};

  // From eight 16-bit groups, as written: ipv6_addr::from_groups({0x2001, 0xdb8, 0, ..., 1}).
  static constexpr ipv6_addr from_groups(const std::array<std::uint16_t, 8>& g) {
    ipv6_addr a;
    for (std::size_t i = 0; i < 8; ++i) {
      a.octets[2 * i] = static_cast<std::uint8_t>(g[i] >> 8);
      a.octets[2 * i + 1] = static_cast<std::uint8_t>(g[i] & 0xFF);
    }
    return a;
  }
  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
  static constexpr ipv6_addr v4_mapped(ipv4_addr v4) {
    ipv6_addr a;
    a.octets[10] = a.octets[11] = 0xFF;
    for (std::size_t i = 0; i < 4; ++i) a.octets[12 + i] = static_cast<std::uint8_t>(v4.value >> (24 - 8 * i));
    return a;
  }
  // RFC 4291 §2.2 forms: eight groups, "::" once for a run of zero groups, and a dotted IPv4
  // tail in the last 32 bits. Hex digits of either case, at most four per group. No zone index
  // ("%eth0"), no brackets, no prefix length; nullopt for anything else.
  [[nodiscard]] static std::optional<ipv6_addr> parse(std::string_view text);
  // RFC 5952 §4: lower case, leading zeros dropped, the longest run of two or more zero groups
  // (the first if tied) as "::", and v4-mapped addresses with a dotted tail (§5).
  [[nodiscard]] std::string to_string() const;

  [[nodiscard]] constexpr std::uint16_t group(std::size_t i) const {
    return static_cast<std::uint16_t>((octets[2 * i] << 8) | octets[2 * i + 1]);
  }
  [[nodiscard]] constexpr bool is_unspecified() const { return *this == ipv6_addr{}; }
  [[nodiscard]] constexpr bool is_loopback() const {
    ipv6_addr one;
    one.octets[15] = 1;
    return *this == one;
  }
  [[nodiscard]] constexpr bool is_multicast() const { return octets[0] == 0xFF; }
  [[nodiscard]] constexpr bool is_link_local() const { return octets[0] == 0xFE && (octets[1] & 0xC0) == 0x80; }
  [[nodiscard]] constexpr bool is_v4_mapped() const {
    for (std::size_t i = 0; i < 10; ++i) {
      if (octets[i] != 0) return false;
    }
    return octets[10] == 0xFF && octets[11] == 0xFF;
  }
  // The IPv4 address of a v4-mapped one.
  [[nodiscard]] constexpr std::optional<ipv4_addr> to_v4() const {
    if (!is_v4_mapped()) return std::nullopt;
    return ipv4_addr::from_octets(octets[12], octets[13], octets[14], octets[15]);
  }

  friend constexpr auto operator<=>(const ipv6_addr&, const ipv6_addr&) = default;
  friend constexpr bool operator==(const ipv6_addr&, const ipv6_addr&) = default;
};

}  // namespace synack
