// SipHash-2-4, written from Aumasson & Bernstein, "SipHash: a fast short-input PRF" (2012),
// §2: two compression rounds per 8-byte word, four finalization rounds.
#include "synack/util/siphash.hpp"

#include <bit>

namespace synack {
namespace {

// The paper's little-endian word load m_i = bytes 8i .. 8i+7; shifts keep it host-independent.
std::uint64_t load_le64(const std::byte* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

struct sip_state {
  std::uint64_t v0, v1, v2, v3;

  // SipRound (paper §2, figure 2).
  void round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
  void compress(std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

}  // namespace

std::uint64_t siphash24(const siphash_key& key, std::span<const std::byte> data) {
  // Initialization: the constants spell "somepseudorandomlygeneratedbytes".
  sip_state s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
              key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};

  const std::size_t full = data.size() / 8;
  for (std::size_t i = 0; i < full; ++i) s.compress(load_le64(data.data() + 8 * i, 8));

  // The last word holds the 0..7 remaining bytes and, in its top byte, the length mod 256.
  const std::size_t tail = data.size() % 8;
  std::uint64_t last = load_le64(data.data() + 8 * full, tail);
  last |= static_cast<std::uint64_t>(data.size() & 0xFF) << 56;
  s.compress(last);

  // Finalization.
  s.v2 ^= 0xFF;
  s.round();
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace synack
