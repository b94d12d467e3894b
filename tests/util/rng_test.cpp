#include "synack/util/rng.hpp"

#include <gtest/gtest.h>

#include <array>

namespace synack {
namespace {

TEST(Rng, SameSeedSameSequence) {
  rng a{42};
  rng b{42};
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next_u64(), b.next_u64()) << i;
}

TEST(Rng, DifferentSeedsDiffer) {
  rng a{1};
  rng b{2};
  int same = 0;
  for (int i = 0; i < 100; ++i) same += a.next_u64() == b.next_u64() ? 1 : 0;
  EXPECT_EQ(same, 0);
}

TEST(Rng, ReseedRestarts) {
  rng a{7};
  const auto first = a.next_u64();
  (void)a.next_u64();
  a.reseed(7);
  EXPECT_EQ(a.next_u64(), first);
}

TEST(Rng, BelowStaysInBoundsAndCoversThem) {
  rng r{99};
  std::array<int, 10> seen{};
  for (int i = 0; i < 10000; ++i) {
    const auto v = r.below(10);
    ASSERT_LT(v, 10u);
    ++seen[v];
  }
  for (int count : seen) EXPECT_GT(count, 800);  // ~1000 each
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(r.below(1), 0u);
  for (int i = 0; i < 1000; ++i) ASSERT_LT(r.below(0xFFFFFFFFFFFFFFFFULL), 0xFFFFFFFFFFFFFFFFULL);
}

TEST(Rng, UnitIsInHalfOpenInterval) {
  rng r{3};
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = r.unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

TEST(Rng, ChanceEdges) {
  rng r{5};
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(r.chance(0.0));
    ASSERT_TRUE(r.chance(1.0));
  }
}

}  // namespace
}  // namespace synack
