#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

#include "synack/wire/ip_addr.hpp"

namespace synack {

// A connection's identity, seen from the local host. Both addresses are of one family.
struct four_tuple {
  ip_addr local_addr;
  std::uint16_t local_port = 0;
  ip_addr remote_addr;
  std::uint16_t remote_port = 0;
  friend bool operator==(const four_tuple&, const four_tuple&) = default;
};

struct four_tuple_hash {
  std::size_t operator()(const four_tuple& t) const noexcept {
    std::uint64_t a = (std::uint64_t{t.local_addr.low32()} << 32) | t.remote_addr.low32();
    std::uint64_t b = (std::uint64_t{t.local_port} << 16) | t.remote_port;
    // IPv4 tuples hash as they always did; IPv6 ones mix in the upper 96 bits of each address
    // (laid out after the IPv4 path, which every demux lookup inlines: docs/performance.md).
    if (t.remote_addr.is_v6()) [[unlikely]] {
      a ^= (t.local_addr.high_bits() * 0xD6E8FEB86659FD93ULL) ^ t.remote_addr.high_bits();
    }
    std::uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
    return static_cast<std::size_t>(h ^ (h >> 31));
  }
};

}  // namespace synack
