#pragma once
// Byte-order loads and stores, written with shifts (the compiler emits bswap/movbe).
// Never cast a struct over a buffer; never convert a field in place (DESIGN.md §2).
#include <cstddef>
#include <cstdint>
#include <span>

namespace synack {

using bytes = std::span<const std::byte>;
using mutable_bytes = std::span<std::byte>;

[[nodiscard]] constexpr std::uint8_t load_u8(const std::byte* p) { return static_cast<std::uint8_t>(*p); }
[[nodiscard]] constexpr std::uint16_t load_be16(const std::byte* p) {
  return static_cast<std::uint16_t>((static_cast<unsigned>(p[0]) << 8) | static_cast<unsigned>(p[1]));
}
[[nodiscard]] constexpr std::uint32_t load_be32(const std::byte* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}
constexpr void store_u8(std::byte* p, std::uint8_t v) { *p = static_cast<std::byte>(v); }
constexpr void store_be16(std::byte* p, std::uint16_t v) {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v & 0xFF);
}
constexpr void store_be32(std::byte* p, std::uint32_t v) {
  p[0] = static_cast<std::byte>(v >> 24);
  p[1] = static_cast<std::byte>((v >> 16) & 0xFF);
  p[2] = static_cast<std::byte>((v >> 8) & 0xFF);
  p[3] = static_cast<std::byte>(v & 0xFF);
}

}  // namespace synack
