#pragma once
// SipHash-2-4 (Aumasson & Bernstein), a keyed PRF: used for RFC 6528 ISNs, ephemeral port
// selection and (later) SYN cookies. Written from the paper's specification.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace synack {

struct siphash_key {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

[[nodiscard]] std::uint64_t siphash24(const siphash_key& key, std::span<const std::byte> data);

}  // namespace synack
