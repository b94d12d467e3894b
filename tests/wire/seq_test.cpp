#include "synack/wire/seq.hpp"

#include <gtest/gtest.h>

#include "synack/util/rng.hpp"

namespace synack {
namespace {

// Every test straddles 2^32: "just below the wrap" is where modular bugs live.
constexpr seq_num near_wrap{0xFFFFFFF0u};

TEST(Seq, ArithmeticWraps) {
  EXPECT_EQ(near_wrap + seq_len{0x20}, seq_num{0x10});
  EXPECT_EQ(seq_num{0x10} - seq_len{0x20}, near_wrap);
  EXPECT_EQ(seq_num{0xFFFFFFFFu}.next(), seq_num{0});
  seq_num s = near_wrap;
  s += seq_len{16};
  EXPECT_EQ(s, seq_num{0});
  EXPECT_EQ(distance(near_wrap, seq_num{0x10}), seq_len{0x20});
  EXPECT_EQ(seq_len{5} + seq_len{6}, seq_len{11});
  EXPECT_EQ(seq_len{5} - seq_len{6}, seq_len{0xFFFFFFFFu});
}

TEST(Seq, OrderAcrossTheWrap) {
  const seq_num after_wrap{0x10};
  EXPECT_TRUE(near_wrap.before(after_wrap));
  EXPECT_TRUE(near_wrap.before_eq(after_wrap));
  EXPECT_FALSE(near_wrap.after(after_wrap));
  EXPECT_TRUE(after_wrap.after(near_wrap));
  EXPECT_TRUE(after_wrap.after_eq(near_wrap));
  EXPECT_FALSE(after_wrap.before(near_wrap));

  EXPECT_FALSE(near_wrap.before(near_wrap));
  EXPECT_TRUE(near_wrap.before_eq(near_wrap));
  EXPECT_FALSE(near_wrap.after(near_wrap));
  EXPECT_TRUE(near_wrap.after_eq(near_wrap));

  EXPECT_EQ(after_wrap.diff(near_wrap), 0x20);
  EXPECT_EQ(near_wrap.diff(after_wrap), -0x20);
  EXPECT_EQ(seq_max(near_wrap, after_wrap), after_wrap);
  EXPECT_EQ(seq_min(near_wrap, after_wrap), near_wrap);
}

TEST(Seq, HalfSpaceBoundary) {
  // 2^31 - 1 ahead is "after"; exactly 2^31 away is ambiguous and diff() says negative.
  const seq_num a = near_wrap;
  EXPECT_TRUE((a + seq_len{0x7FFFFFFFu}).after(a));
  EXPECT_TRUE(a.before(a + seq_len{0x7FFFFFFFu}));
  EXPECT_EQ((a + seq_len{0x80000000u}).diff(a), INT32_MIN);
}

TEST(Seq, InWindow) {
  // [near_wrap, near_wrap + 0x20) = 0xFFFFFFF0 .. 0x0000000F
  EXPECT_TRUE(near_wrap.in_window(near_wrap, 0x20));
  EXPECT_TRUE(seq_num{0xFFFFFFFFu}.in_window(near_wrap, 0x20));
  EXPECT_TRUE(seq_num{0}.in_window(near_wrap, 0x20));
  EXPECT_TRUE(seq_num{0xF}.in_window(near_wrap, 0x20));
  EXPECT_FALSE(seq_num{0x10}.in_window(near_wrap, 0x20));
  EXPECT_FALSE(seq_num{0xFFFFFFEFu}.in_window(near_wrap, 0x20));
  // An empty window contains nothing, not even its left edge (RFC 9293 §3.10.7.4's table
  // handles zero windows separately).
  EXPECT_FALSE(near_wrap.in_window(near_wrap, 0));
}

TEST(Seq, Between) {
  const seq_num right{0x10};
  EXPECT_TRUE(near_wrap.between(near_wrap, right));
  EXPECT_TRUE(right.between(near_wrap, right));
  EXPECT_TRUE(seq_num{0}.between(near_wrap, right));
  EXPECT_FALSE(seq_num{0x11}.between(near_wrap, right));
  EXPECT_FALSE(seq_num{0xFFFFFFEFu}.between(near_wrap, right));
  EXPECT_TRUE(near_wrap.between(near_wrap, near_wrap));
  EXPECT_FALSE(near_wrap.next().between(near_wrap, near_wrap));
}

TEST(Seq, AgreesWithWideArithmetic) {
  // Against 64-bit integers over a random window placed anywhere, including across 2^32.
  rng g{2024};
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t left = 0xFFFFFFFFu - g.below(0x10000);
    const std::uint64_t len = g.below(0x20000);
    const std::uint64_t x = left - 0x10000 + g.below(0x40000);
    const seq_num l{static_cast<std::uint32_t>(left)};
    const seq_num s{static_cast<std::uint32_t>(x)};
    ASSERT_EQ(s.in_window(l, static_cast<std::uint32_t>(len)), x >= left && x < left + len);
    const seq_num r{static_cast<std::uint32_t>(left + len)};
    ASSERT_EQ(s.between(l, r), x >= left && x <= left + len);
    ASSERT_EQ(s.before(l), x < left);
    ASSERT_EQ(s.after(l), x > left);
  }
}

}  // namespace
}  // namespace synack
