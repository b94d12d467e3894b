#pragma once
// The Internet checksum (RFC 1071), accumulated 64 bits at a time (RFC 1071 §2(B),
// RFC 1624 for incremental updates). Not a 16-bit loop.
#include <cstdint>

#include "synack/wire/bytes.hpp"
#include "synack/wire/ipv4_addr.hpp"

namespace synack {

// One's-complement sum of `data` (big-endian 16-bit words, odd tail padded with zero) added to
// `initial`, NOT folded. Combine partial sums with checksum_add, then checksum_finish.
// Partial sums are only combinable when every part but the last has even length.
[[nodiscard]] std::uint64_t checksum_partial(bytes data, std::uint64_t initial = 0);
[[nodiscard]] std::uint64_t checksum_add(std::uint64_t a, std::uint64_t b);
// Fold to 16 bits and complement: the value to store in a header.
[[nodiscard]] std::uint16_t checksum_finish(std::uint64_t sum);
// Convenience: checksum_finish(checksum_partial(data)).
[[nodiscard]] std::uint16_t internet_checksum(bytes data);
// The IPv4 pseudo-header sum for TCP/UDP (RFC 9293 §3.1): src, dst, zero, protocol, length.
[[nodiscard]] std::uint64_t pseudo_header_sum(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol,
                                              std::uint16_t length);

}  // namespace synack
