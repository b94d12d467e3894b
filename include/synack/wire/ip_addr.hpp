#pragma once
// An address of either family: IPv4 or IPv6. A v4-mapped IPv6 address (::ffff:a.b.c.d) stays
// an IPv6 address (what an AF_INET6 socket sees); `unmapped()` turns it into the IPv4 one.
// Printed as each family's standard text (RFC 5952 for IPv6), and with a port as
// "a.b.c.d:port" or "[v6]:port" (RFC 5952 §6).
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <cstring>
#include <type_traits>

#include "synack/wire/ipv4_addr.hpp"
#include "synack/wire/ipv6_addr.hpp"

namespace synack {

class ip_addr {
 public:
  enum class family : std::uint8_t { v4, v6 };

  constexpr ip_addr() = default;  // 0.0.0.0
  constexpr ip_addr(ipv4_addr a) : family_(family::v4), octets_(ipv6_addr::v4_mapped(a)) {}  // NOLINT: implicit
  constexpr ip_addr(const ipv6_addr& a) : family_(family::v6), octets_(a) {}                // NOLINT: implicit

  // Dotted quad first, then the IPv6 forms of RFC 4291 §2.2; no brackets, zones or prefixes.
  [[nodiscard]] static std::optional<ip_addr> parse(std::string_view text) {
    if (auto v4 = ipv4_addr::parse(text)) return ip_addr{*v4};
    if (auto v6 = ipv6_addr::parse(text)) return ip_addr{*v6};
    return std::nullopt;
  }

  [[nodiscard]] constexpr family fam() const { return family_; }
  [[nodiscard]] constexpr bool is_v4() const { return family_ == family::v4; }
  [[nodiscard]] constexpr bool is_v6() const { return family_ == family::v6; }
  // The unspecified address of its family (0.0.0.0 or ::).
  [[nodiscard]] constexpr bool is_unspecified() const {
    return is_v4() ? low32() == 0 : octets_.is_unspecified();
  }
  // The IPv4 address. Precondition: is_v4().
  [[nodiscard]] constexpr ipv4_addr v4() const { return ipv4_addr{low32()}; }
  // The last 32 bits (an IPv4 address's value; for hashing either family).
  [[nodiscard]] constexpr std::uint32_t low32() const {
    const auto& o = octets_.octets;
    return (std::uint32_t{o[12]} << 24) | (std::uint32_t{o[13]} << 16) | (std::uint32_t{o[14]} << 8) | o[15];
  }
  // The first 96 bits folded to 64, for hashing (zero-free for v4: its mapped prefix is fixed).
  [[nodiscard]] constexpr std::uint64_t high_bits() const {
    const auto& o = octets_.octets;
    if (!std::is_constant_evaluated()) {  // two loads instead of twelve (the demux hashes every packet)
      std::uint64_t a = 0;
      std::uint32_t b = 0;
      std::memcpy(&a, o.data(), 8);
      std::memcpy(&b, o.data() + 8, 4);
      return a ^ (std::uint64_t{b} * 0x9E3779B97F4A7C15ULL);
    }
    std::uint64_t a = 0;
    std::uint32_t b = 0;
    for (std::size_t i = 0; i < 8; ++i) a |= std::uint64_t{o[i]} << (8 * i);
    for (std::size_t i = 0; i < 4; ++i) b |= std::uint32_t{o[8 + i]} << (8 * i);
    return a ^ (std::uint64_t{b} * 0x9E3779B97F4A7C15ULL);
  }
  // The IPv6 address; an IPv4 one as v4-mapped.
  [[nodiscard]] constexpr const ipv6_addr& v6() const { return octets_; }
  // A v4-mapped IPv6 address as IPv4; any other address as it is.
  [[nodiscard]] constexpr ip_addr unmapped() const {
    if (is_v6() && octets_.is_v4_mapped()) return ip_addr{*octets_.to_v4()};
    return *this;
  }

  [[nodiscard]] std::string to_string() const { return is_v4() ? v4().to_string() : octets_.to_string(); }
  // "10.0.0.1:80", "[2001:db8::1]:80".
  [[nodiscard]] std::string with_port(std::uint16_t port) const {
    return (is_v4() ? to_string() : "[" + to_string() + "]") + ":" + std::to_string(port);
  }

  // IPv4 addresses order before IPv6 ones; within a family by octets.
  friend constexpr auto operator<=>(const ip_addr&, const ip_addr&) = default;
  // Family and 16 octets, as two 64-bit compares at run time (every demux lookup compares two).
  friend constexpr bool operator==(const ip_addr& x, const ip_addr& y) {
    if (std::is_constant_evaluated()) return x.family_ == y.family_ && x.octets_ == y.octets_;
    std::uint64_t a[2];
    std::uint64_t b[2];
    std::memcpy(a, x.octets_.octets.data(), 16);
    std::memcpy(b, y.octets_.octets.data(), 16);
    return x.family_ == y.family_ && ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
  }

 private:
  family family_ = family::v4;
  ipv6_addr octets_ = ipv6_addr::v4_mapped(ipv4_addr{0});
};

}  // namespace synack
