// The Internet checksum (RFC 1071), computed eight bytes at a time.
//
// RFC 1071 §2(A),(B): the one's-complement sum is associative and independent of byte order,
// so we may add the buffer as native 64-bit words with end-around carry (arithmetic modulo
// 2^64 - 1, of which 2^16 - 1 is a divisor), fold to 16 bits and swap the two bytes once at the
// end on a little-endian host. The result is the sum of big-endian 16-bit words that the RFC
// defines, which is what checksum_add and pseudo_header_sum work with.
#include "synack/wire/checksum.hpp"

#include <bit>
#include <cstring>

namespace synack {
namespace {

// One's-complement addition on 64 bits: the carry out of bit 63 wraps round into bit 0.
constexpr std::uint64_t add_carry(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t s = a + b;
  return s + (s < a ? 1u : 0u);
}

// Fold to 16 bits, preserving the value modulo 2^16 - 1 (and a nonzero sum stays nonzero).
constexpr std::uint16_t fold16(std::uint64_t s) {
  s = (s & 0xFFFFFFFFu) + (s >> 32);  // <= 2^33 - 2
  s = (s & 0xFFFFFFFFu) + (s >> 32);  // <= 2^32 - 1
  s = (s & 0xFFFFu) + (s >> 16);      // <= 2^17 - 2
  s = (s & 0xFFFFu) + (s >> 16);      // <= 2^16 - 1
  return static_cast<std::uint16_t>(s);
}

std::uint64_t load_native64(const std::byte* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);  // any alignment; compiles to one load
  return v;
}

}  // namespace

std::uint64_t checksum_partial(bytes data, std::uint64_t initial) {
  const std::byte* p = data.data();
  std::size_t n = data.size();

  // Four independent accumulators keep the carry chains short; 32 bytes per iteration.
  std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (; n >= 32; n -= 32, p += 32) {
    s0 = add_carry(s0, load_native64(p));
    s1 = add_carry(s1, load_native64(p + 8));
    s2 = add_carry(s2, load_native64(p + 16));
    s3 = add_carry(s3, load_native64(p + 24));
  }
  std::uint64_t sum = add_carry(add_carry(s0, s1), add_carry(s2, s3));
  for (; n >= 8; n -= 8, p += 8) sum = add_carry(sum, load_native64(p));
  // The 0..7 byte tail as a 4-, a 2- and a 1-byte load, each added at the byte position it
  // has in a zero-padded 64-bit word. Copying the tail into a zeroed buffer and loading that
  // stalls on store forwarding, and every 20-byte header has a 4-byte tail. The 4- and 2-byte
  // loads start at even offsets, so adding them as native words keeps the sum modulo 2^16 - 1;
  // the final odd byte is the first byte of its 16-bit word (RFC 1071 §4.1 pads it with a zero
  // second byte), placed there with a shift on a big-endian host.
  std::uint64_t tail = 0;
  if (n & 4) {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    tail += v;
    p += 4;
  }
  if (n & 2) {
    std::uint16_t v;
    std::memcpy(&v, p, sizeof v);
    tail += v;
    p += 2;
  }
  if (n & 1) {
    const auto v = static_cast<std::uint64_t>(*p);
    tail += std::endian::native == std::endian::little ? v : v << 8;
  }
  sum = add_carry(sum, tail);

  std::uint16_t folded = fold16(sum);
  if constexpr (std::endian::native == std::endian::little) {
    // Native words were little-endian; one swap turns their sum into the big-endian one.
    folded = static_cast<std::uint16_t>((folded << 8) | (folded >> 8));
  }
  return checksum_add(initial, folded);
}

std::uint64_t checksum_add(std::uint64_t a, std::uint64_t b) { return add_carry(a, b); }

std::uint16_t checksum_finish(std::uint64_t sum) { return static_cast<std::uint16_t>(~fold16(sum)); }

std::uint16_t internet_checksum(bytes data) { return checksum_finish(checksum_partial(data)); }

// RFC 9293 §3.1: the 96-bit pseudo-header. Adding a 32-bit address as one number is the same
// modulo 2^16 - 1 as adding its two 16-bit halves, since 2^16 = 1 there.
std::uint64_t pseudo_header_sum(ipv4_addr src, ipv4_addr dst, std::uint8_t protocol,
                                std::uint16_t length) {
  return std::uint64_t{src.value} + std::uint64_t{dst.value} + std::uint64_t{protocol} +
         std::uint64_t{length};
}

}  // namespace synack
