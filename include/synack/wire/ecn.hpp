#pragma once
// RFC 3168 §5: the ECN field, the two low bits of the IPv4 TOS octet and of the IPv6 Traffic
// Class (the six above them are the DSCP, RFC 2474).
#include <cstdint>

namespace synack {

enum class ecn_codepoint : std::uint8_t { not_ect = 0, ect1 = 1, ect0 = 2, ce = 3 };
inline constexpr std::uint8_t ecn_field_mask = 0x03;

// The ECN field of a TOS / Traffic Class octet.
[[nodiscard]] constexpr ecn_codepoint ecn_of(std::uint8_t tos) { return static_cast<ecn_codepoint>(tos & ecn_field_mask); }
// `tos` with its ECN field replaced by `e` (its DSCP kept).
[[nodiscard]] constexpr std::uint8_t with_ecn(std::uint8_t tos, ecn_codepoint e) {
  return static_cast<std::uint8_t>((tos & ~ecn_field_mask) | static_cast<std::uint8_t>(e));
}

}  // namespace synack
