// The reassembler on its own: range bookkeeping in sequence space across the 2^32 wrap.
#include "synack/tcp/reassembler.hpp"

#include <gtest/gtest.h>

#include "synack/tcp/ring_buffer.hpp"

namespace synack {
namespace {

constexpr seq_num base{0xFFFFFFFFu - 9};  // RCV.NXT: the ranges below cross the wrap
seq_num at(std::uint32_t off) { return base + seq_len{off}; }
sack_block blk(std::uint32_t l, std::uint32_t r) { return sack_block{at(l), at(r)}; }

TEST(reassembler, disjoint_ranges_kept_in_sequence_order) {
  reassembler r(8);
  EXPECT_EQ(r.add(at(20), at(30)), reassembler::add_result::added);
  EXPECT_EQ(r.add(at(5), at(10)), reassembler::add_result::added);
  ASSERT_EQ(r.ranges(), 2u);
  EXPECT_EQ(r.blocks()[0], blk(5, 10));
  EXPECT_EQ(r.blocks()[1], blk(20, 30));
  EXPECT_EQ(r.held_bytes(), 15u);
}

TEST(reassembler, adjacent_and_overlapping_ranges_merge) {
  reassembler r(8);
  r.add(at(5), at(10));
  r.add(at(20), at(30));
  EXPECT_EQ(r.add(at(10), at(12)), reassembler::add_result::added);  // touches the first
  EXPECT_EQ(r.add(at(11), at(21)), reassembler::add_result::added);  // bridges both
  ASSERT_EQ(r.ranges(), 1u);
  EXPECT_EQ(r.blocks()[0], blk(5, 30));
}

TEST(reassembler, covered_range_is_a_duplicate) {
  reassembler r(8);
  r.add(at(5), at(15));
  EXPECT_EQ(r.add(at(7), at(9)), reassembler::add_result::duplicate);
  EXPECT_EQ(r.add(at(5), at(15)), reassembler::add_result::duplicate);
  EXPECT_EQ(r.add(at(4), at(15)), reassembler::add_result::added);
  EXPECT_EQ(r.containing(at(7), at(9)), blk(4, 15));
  EXPECT_FALSE(r.containing(at(14), at(16)).has_value());
}

TEST(reassembler, bounded_by_max_ranges) {
  reassembler r(2);
  r.add(at(10), at(11));
  r.add(at(20), at(21));
  EXPECT_EQ(r.add(at(30), at(31)), reassembler::add_result::full);
  EXPECT_EQ(r.ranges(), 2u);
  // Growing an existing range needs no new slot.
  EXPECT_EQ(r.add(at(11), at(15)), reassembler::add_result::added);
  EXPECT_EQ(r.blocks()[0], blk(10, 15));
}

TEST(reassembler, max_ranges_clamped) {
  EXPECT_EQ(reassembler(0).max_ranges(), 1u);
  EXPECT_EQ(reassembler(1000).max_ranges(), reassembler::max_ranges_limit);
}

TEST(reassembler, advance_jumps_over_filled_gap) {
  reassembler r(8);
  r.add(at(5), at(10));
  r.add(at(20), at(30));
  EXPECT_EQ(r.advance(at(3)), at(3));  // gap not filled yet
  EXPECT_EQ(r.ranges(), 2u);
  EXPECT_EQ(r.advance(at(5)), at(10));  // exactly filled
  EXPECT_EQ(r.ranges(), 1u);
  EXPECT_EQ(r.advance(at(25)), at(30));  // in-order text overlapped part of the range
  EXPECT_TRUE(r.empty());
}

TEST(reassembler, advance_forgets_ranges_overtaken) {
  reassembler r(8);
  r.add(at(5), at(10));
  EXPECT_EQ(r.advance(at(12)), at(12));
  EXPECT_TRUE(r.empty());
}

TEST(reassembler, recent_blocks_most_recent_first) {
  reassembler r(8);
  r.add(at(10), at(11));
  r.add(at(20), at(21));
  r.add(at(30), at(31));
  r.add(at(40), at(41));
  r.add(at(21), at(22));  // touches the second: it becomes the most recent
  std::array<sack_block, 3> out{};
  ASSERT_EQ(r.recent_blocks(out), 3u);
  EXPECT_EQ(out[0], blk(20, 22));
  EXPECT_EQ(out[1], blk(40, 41));
  EXPECT_EQ(out[2], blk(30, 31));
}

TEST(reassembler, held_fin) {
  reassembler r(8);
  EXPECT_FALSE(r.held_fin().has_value());
  r.hold_fin(at(50));
  EXPECT_EQ(r.held_fin(), at(50));
  r.clear();
  EXPECT_FALSE(r.held_fin().has_value());
}

// The storage half: bytes placed beyond the content keep their place while the user reads,
// also across the ring's end, and become content on commit.
TEST(ring_buffer_ooo, write_at_then_commit) {
  ring_buffer b(8);
  b.write(std::as_bytes(std::span{"abcdef", 6}));
  std::array<std::byte, 6> sink{};
  b.read(sink);  // empty now; head at 6
  ASSERT_TRUE(b.write_at(2, std::as_bytes(std::span{"CDEF", 4})));  // wraps the ring end
  EXPECT_FALSE(b.write_at(6, std::as_bytes(std::span{"xyz", 3})));  // beyond the capacity
  b.write(std::as_bytes(std::span{"AB", 2}));
  b.commit(4);
  ASSERT_EQ(b.size(), 6u);
  std::array<char, 6> got{};
  b.peek(0, std::as_writable_bytes(std::span{got}));
  EXPECT_EQ(std::string(got.data(), 6), "ABCDEF");
}

}  // namespace
}  // namespace synack
