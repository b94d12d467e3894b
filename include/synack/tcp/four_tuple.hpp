#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

#include "synack/wire/ipv4_addr.hpp"

namespace synack {

// A connection's identity, seen from the local host.
struct four_tuple {
  ipv4_addr local_addr;
  std::uint16_t local_port = 0;
  ipv4_addr remote_addr;
  std::uint16_t remote_port = 0;
  friend bool operator==(const four_tuple&, const four_tuple&) = default;
};

struct four_tuple_hash {
  std::size_t operator()(const four_tuple& t) const noexcept {
    std::uint64_t a = (std::uint64_t{t.local_addr.value} << 32) | t.remote_addr.value;
    std::uint64_t b = (std::uint64_t{t.local_port} << 16) | t.remote_port;
    std::uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
    return static_cast<std::size_t>(h ^ (h >> 31));
  }
};

}  // namespace synack
