#include "synack/util/ring_queue.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "synack/util/rng.hpp"

namespace synack {
namespace {

TEST(RingQueue, StartsEmpty) {
  ring_queue<int> q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.capacity(), 0u);
}

TEST(RingQueue, FifoOrderAcrossGrowth) {
  ring_queue<int> q;
  for (int i = 0; i < 100; ++i) q.push_back(i);
  EXPECT_EQ(q.size(), 100u);
  EXPECT_EQ(q.capacity(), 128u);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(q.front(), i);
    ASSERT_EQ(q[0], i);
    q.pop_front();
  }
  EXPECT_TRUE(q.empty());
}

TEST(RingQueue, GrowsWhileWrappedAndKeepsOrder) {
  ring_queue<int> q(8);
  for (int i = 0; i < 6; ++i) q.push_back(i);
  for (int i = 0; i < 5; ++i) q.pop_front();  // head near the end: the next pushes wrap
  for (int i = 6; i < 20; ++i) q.push_back(i);  // grows from 8 to 16 while wrapped
  EXPECT_EQ(q.capacity(), 16u);
  for (int i = 5; i < 20; ++i) {
    ASSERT_EQ(q.front(), i);
    q.pop_front();
  }
}

TEST(RingQueue, CyclingNeverGrowsPastTheHighWaterMark) {
  ring_queue<int> q;
  for (int i = 0; i < 20; ++i) q.push_back(i);
  const std::size_t cap = q.capacity();
  for (int i = 0; i < 100000; ++i) {
    q.pop_front();
    q.push_back(i);
  }
  EXPECT_EQ(q.capacity(), cap);
  EXPECT_EQ(q.size(), 20u);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.capacity(), cap);  // never shrinks
}

TEST(RingQueue, IndexingFromTheFront) {
  ring_queue<int> q(4);
  for (int i = 0; i < 3; ++i) q.push_back(i);
  q.pop_front();
  q.push_back(3);
  q.push_back(4);  // wraps
  ASSERT_EQ(q.size(), 4u);
  for (std::size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q[i], static_cast<int>(i + 1));
}

TEST(RingQueue, EraseRemovesEveryMatchAndKeepsOrder) {
  ring_queue<int> q(8);
  for (int i = 0; i < 5; ++i) q.push_back(i);
  for (int i = 0; i < 4; ++i) q.pop_front();
  for (int v : {7, 4, 9, 7, 1, 7}) q.push_back(v);  // wrapped: 4 7 4 9 7 1 7
  EXPECT_EQ(q.erase(7), 3u);
  EXPECT_EQ(q.erase(42), 0u);
  const int want[] = {4, 4, 9, 1};
  ASSERT_EQ(q.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(q[i], want[i]);
  q.push_back(5);
  EXPECT_EQ(q[4], 5);
}

TEST(RingQueue, MatchesDequeUnderRandomOperations) {
  rng r{0xD00D};
  ring_queue<std::uint32_t> q;
  std::deque<std::uint32_t> ref;
  for (int step = 0; step < 200000; ++step) {
    const auto op = r.below(10);
    if (op < 5) {
      const auto v = static_cast<std::uint32_t>(r.below(50));
      q.push_back(v);
      ref.push_back(v);
    } else if (op < 9) {
      if (!ref.empty()) {
        ASSERT_EQ(q.front(), ref.front());
        q.pop_front();
        ref.pop_front();
      }
    } else {
      const auto v = static_cast<std::uint32_t>(r.below(50));
      ASSERT_EQ(q.erase(v), std::erase(ref, v));
    }
    ASSERT_EQ(q.size(), ref.size());
    ASSERT_EQ(q.empty(), ref.empty());
  }
  for (std::size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(q[i], ref[i]);
}

}  // namespace
}  // namespace synack
