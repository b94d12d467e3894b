// ring_buffer's storage follows the bytes: it starts small, doubles as writes need it (up to
// the capacity), and growing keeps every byte — content and out-of-order bytes placed beyond
// it — at its offset, also when the ring had wrapped.
#include "synack/tcp/ring_buffer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace synack {
namespace {

std::vector<std::byte> pattern(std::size_t n, std::size_t from = 0) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((from + i) * 7 % 251);
  return v;
}

TEST(ring_buffer_growth, starts_small_and_doubles_up_to_the_capacity) {
  ring_buffer b(256 * 1024);
  EXPECT_EQ(b.storage(), 0u);
  const std::byte one[1] = {std::byte{1}};
  b.write(bytes{one, 1});
  EXPECT_EQ(b.storage(), ring_buffer::min_storage);
  auto big = pattern(5000);
  b.write(big);
  EXPECT_EQ(b.storage(), 8192u);  // 5001 bytes: the next power of two
  auto rest = pattern(b.free());
  EXPECT_EQ(b.write(rest), rest.size());
  EXPECT_EQ(b.storage(), 256u * 1024);
  EXPECT_EQ(b.free(), 0u);
  b.release();
  EXPECT_EQ(b.storage(), 0u);
}

TEST(ring_buffer_growth, a_capacity_below_the_minimum_is_the_storage) {
  ring_buffer b(100);
  auto d = pattern(300);
  EXPECT_EQ(b.write(d), 100u);
  EXPECT_EQ(b.storage(), 100u);
}

// Fill, drain part so the head moves, wrap the tail around, then grow: the content reads back
// in order.
TEST(ring_buffer_growth, growing_a_wrapped_ring_keeps_the_order) {
  ring_buffer b(64 * 1024);
  auto first = pattern(2048);
  ASSERT_EQ(b.write(first), 2048u);  // exactly the initial storage
  std::vector<std::byte> sink(1500);
  ASSERT_EQ(b.read(sink), 1500u);
  auto second = pattern(1000, 2048);  // 548 + 1000 = 1548 bytes: wraps within 2048
  ASSERT_EQ(b.write(second), 1000u);
  EXPECT_EQ(b.storage(), 2048u);
  auto third = pattern(3000, 3048);  // needs 4548: grows while wrapped
  ASSERT_EQ(b.write(third), 3000u);
  EXPECT_EQ(b.storage(), 8192u);
  std::vector<std::byte> got(b.size());
  ASSERT_EQ(b.read(got), 4548u);
  EXPECT_EQ(got, pattern(4548, 1500));
}

// Out-of-order bytes written beyond the content force growth to cover their offset, keep their
// place through a later growth, and become content on commit.
TEST(ring_buffer_growth, bytes_beyond_the_content_survive_growth) {
  ring_buffer b(64 * 1024);
  auto head = pattern(1000);
  b.write(head);
  std::vector<std::byte> sink(900);
  b.read(sink);                                   // head at 900, 100 bytes of content
  auto ooo = pattern(500, 2000);                  // content offsets [1900, 2400): past 2048
  ASSERT_TRUE(b.write_at(1900, ooo));
  EXPECT_EQ(b.storage(), 4096u);
  auto gap = pattern(1800, 1000);                 // offsets [100, 1900): fills the hole
  ASSERT_EQ(b.write(gap), 1800u);
  b.commit(500);
  ASSERT_EQ(b.size(), 2400u);
  std::vector<std::byte> got(2400);
  b.read(got);
  std::vector<std::byte> want = pattern(100, 900);
  for (const auto& part : {gap, ooo}) want.insert(want.end(), part.begin(), part.end());
  EXPECT_EQ(got, want);
  EXPECT_FALSE(b.write_at(64 * 1024, pattern(1)));  // beyond the capacity: refused
}

// The content in place (content) and the free space after it (reserve + commit): up to two
// spans each, in order, the second only when the range wraps around the storage's end.
std::vector<std::byte> joined(const ring_view& v) {
  std::vector<std::byte> out(v.first.begin(), v.first.end());
  out.insert(out.end(), v.second.begin(), v.second.end());
  return out;
}

TEST(ring_buffer_spans, content_is_one_span_until_it_wraps) {
  ring_buffer b(2048);
  EXPECT_TRUE(b.content().empty());
  ASSERT_EQ(b.write(pattern(1500)), 1500u);
  ring_view v = b.content();
  EXPECT_EQ(v.first.size(), 1500u);
  EXPECT_TRUE(v.second.empty());
  EXPECT_EQ(joined(v), pattern(1500));
  std::vector<std::byte> sink(1000);
  ASSERT_EQ(b.read(sink), 1000u);                   // head at 1000, 500 bytes of content
  ASSERT_EQ(b.write(pattern(1000, 1500)), 1000u);   // 548 to the end of the storage, 452 at 0
  v = b.content();
  EXPECT_EQ(v.first.size(), 1048u);
  EXPECT_EQ(v.second.size(), 452u);
  EXPECT_EQ(joined(v), pattern(1500, 1000));
  b.consume(1048);                                  // the first span gone: the rest is one
  v = b.content();
  EXPECT_EQ(v.first.size(), 452u);
  EXPECT_TRUE(v.second.empty());
}

TEST(ring_buffer_spans, reserve_grows_as_write_and_commit_appends) {
  ring_buffer b(64 * 1024);
  EXPECT_TRUE(b.reserve(0).empty());
  EXPECT_EQ(b.storage(), 0u);                       // nothing asked: nothing allocated
  ring_space s = b.reserve(100);
  EXPECT_EQ(s.size(), 100u);
  EXPECT_EQ(b.storage(), ring_buffer::min_storage);  // as write() of 100 bytes
  EXPECT_EQ(b.size(), 0u);                          // not content until committed
  EXPECT_EQ(copy_in(s, pattern(60)), 60u);
  b.commit(60);
  EXPECT_EQ(joined(b.content()), pattern(60));
  s = b.reserve(5000);                              // 5060 bytes: grows to 8 KiB, as write()
  EXPECT_EQ(s.size(), 5000u);
  EXPECT_EQ(b.storage(), 8192u);
  EXPECT_EQ(copy_in(s, pattern(5000, 60)), 5000u);
  b.commit(5000);
  EXPECT_EQ(joined(b.content()), pattern(5060));
  EXPECT_EQ(b.reserve(1u << 20).size(), 64u * 1024 - 5060);  // bounded by the capacity
  EXPECT_EQ(b.storage(), 64u * 1024);
  b.commit(0);
  EXPECT_EQ(b.size(), 5060u);
}

TEST(ring_buffer_spans, reserved_space_wraps_and_commits_in_order) {
  ring_buffer b(2048);
  ASSERT_EQ(b.write(pattern(1500)), 1500u);
  std::vector<std::byte> sink(1400);
  ASSERT_EQ(b.read(sink), 1400u);                  // head at 1400, 100 bytes of content
  const ring_space s = b.reserve(2048);
  EXPECT_EQ(s.size(), 1948u);                       // the free space
  EXPECT_EQ(s.first.size(), 548u);                  // [1500, 2048)
  EXPECT_EQ(s.second.size(), 1400u);                // [0, 1400): up to the head
  EXPECT_EQ(copy_in(s, pattern(1000, 1500)), 1000u);  // fills the first, then the second
  b.commit(1000);
  EXPECT_EQ(b.size(), 1100u);
  EXPECT_EQ(joined(b.content()), pattern(1100, 1400));
  EXPECT_TRUE(b.reserve(5000).size() == 948u);
  b.commit(948);
  EXPECT_TRUE(b.reserve(1).empty());                // full
}

}  // namespace
}  // namespace synack
