// WORKAROUND: g++ 12 at -O2 -DNDEBUG reports "potential null pointer dereference" inside
// result<T, E>'s get_if-based accessors (it cannot rule out a valueless variant). The fix
// belongs in util/result.hpp (tell the optimiser get_if is non-null); until then this file
// silences the warning. It must precede every include that reaches result.hpp.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "synack/util/result.hpp"

#include <gtest/gtest.h>

#include <string>

namespace synack {
namespace {

enum class test_error { oops, worse };

result<int, test_error> half(int x) {
  if (x % 2 != 0) return unexpected{test_error::oops};
  return x / 2;
}

TEST(Result, ValueAndError) {
  const auto ok = half(8);
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(*ok, 4);
  EXPECT_EQ(ok.value(), 4);

  const auto bad = half(3);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error(), test_error::oops);
}

TEST(Result, MovesValueOut) {
  result<std::string, test_error> r{std::string(100, 'x')};
  std::string s = std::move(r).value();
  EXPECT_EQ(s.size(), 100u);
  result<std::string, test_error> e{unexpected{test_error::worse}};
  EXPECT_EQ(e.error(), test_error::worse);
}

TEST(Result, ArrowAccess) {
  result<std::string, test_error> r{std::string("abc")};
  EXPECT_EQ(r->size(), 3u);
}

TEST(Result, Void) {
  result<void, test_error> ok;
  EXPECT_TRUE(ok.has_value());
  result<void, test_error> bad{unexpected{test_error::worse}};
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.error(), test_error::worse);
}

}  // namespace
}  // namespace synack
