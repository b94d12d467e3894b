#pragma once
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synack {

// An IPv4 address held in host order (a value, not bytes).
struct ipv4_addr {
  std::uint32_t value = 0;

  static constexpr ipv4_addr from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return ipv4_addr{(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d};
  }
  // Dotted quad "a.b.c.d"; nullopt for anything else.
  [[nodiscard]] static std::optional<ipv4_addr> parse(std::string_view text);
  [[nodiscard]] std::string to_string() const;

  [[nodiscard]] constexpr bool is_unspecified() const { return value == 0; }
  [[nodiscard]] constexpr bool is_broadcast() const { return value == 0xFFFFFFFFu; }
  [[nodiscard]] constexpr bool is_multicast() const { return (value >> 28) == 0xE; }
  [[nodiscard]] constexpr bool is_loopback() const { return (value >> 24) == 127; }

  friend constexpr auto operator<=>(ipv4_addr, ipv4_addr) = default;
  friend constexpr bool operator==(ipv4_addr, ipv4_addr) = default;
};

}  // namespace synack
