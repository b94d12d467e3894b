// SipHash-2-4 against the reference vectors of the paper's appendix (vectors_sip64): key
// 00 01 .. 0f, message 00 01 .. (n-1) for length n. Cross-checked with OpenSSL's SIPHASH MAC.
#include "synack/util/siphash.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace synack {
namespace {

// k0/k1 are the little-endian loads of key bytes 0..7 and 8..15.
constexpr siphash_key paper_key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

std::vector<std::byte> counting(std::size_t n) {
  std::vector<std::byte> m(n);
  for (std::size_t i = 0; i < n; ++i) m[i] = static_cast<std::byte>(i);
  return m;
}

struct vector_case {
  std::size_t len;
  std::uint64_t expected;
};

TEST(Siphash, PaperVectors) {
  constexpr std::array<vector_case, 9> cases{{
      {0, 0x726fdb47dd0e0e31ULL},
      {1, 0x74f839c593dc67fdULL},
      {2, 0x0d6c8009d9a94f5aULL},
      {3, 0x85676696d7fb7e2dULL},
      {7, 0xab0200f58b01d137ULL},
      {8, 0x93f5f5799a932462ULL},   // exactly one full word, then a length-only block
      {15, 0xa129ca6149be45e5ULL},  // the paper's worked example (Appendix A)
      {16, 0x3f2acc7f57c29bdbULL},
      {63, 0x958a324ceb064572ULL},  // last entry of the table
  }};
  for (const auto& c : cases) {
    const auto m = counting(c.len);
    EXPECT_EQ(siphash24(paper_key, m), c.expected) << "length " << c.len;
  }
}

TEST(Siphash, KeyMatters) {
  const auto m = counting(15);
  siphash_key other = paper_key;
  other.k1 ^= 1;
  EXPECT_NE(siphash24(paper_key, m), siphash24(other, m));
  EXPECT_NE(siphash24(siphash_key{}, m), siphash24(paper_key, m));
}

TEST(Siphash, LengthIsPartOfTheInput) {
  // Trailing zero bytes change the result, because the length is folded into the last word.
  const std::vector<std::byte> a(3, std::byte{0});
  const std::vector<std::byte> b(4, std::byte{0});
  EXPECT_NE(siphash24(paper_key, a), siphash24(paper_key, b));
}

}  // namespace
}  // namespace synack
