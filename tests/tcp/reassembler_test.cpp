// The reassembler on its own: range bookkeeping in sequence space across the 2^32 wrap, and the
// held octets in storage of their own (memory that follows the bytes, issue #13 case 4).
#include "synack/tcp/reassembler.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "synack/tcp/ring_buffer.hpp"

namespace synack {
namespace {

constexpr seq_num base{0xFFFFFFFFu - 9};  // RCV.NXT: the ranges below cross the wrap
seq_num at(std::uint32_t off) { return base + seq_len{off}; }
sack_block blk(std::uint32_t l, std::uint32_t r) { return sack_block{at(l), at(r)}; }

// The octet at offset `off` from `base`: its offset's low byte plus `tag`, so each copy of a
// range can be told apart.
std::vector<std::byte> text(std::uint32_t l, std::uint32_t r, std::uint8_t tag = 0) {
  std::vector<std::byte> t;
  for (std::uint32_t i = l; i < r; ++i) t.push_back(static_cast<std::byte>((i + tag) & 0xFF));
  return t;
}
reassembler::add_result hold(reassembler& r, std::uint32_t l, std::uint32_t rr, std::uint8_t tag = 0) {
  const std::vector<std::byte> t = text(l, rr, tag);
  return r.add(at(l), bytes{t});
}
std::vector<std::byte> read_all(ring_buffer& b) {
  std::vector<std::byte> out(b.size());
  b.read(out);
  return out;
}

TEST(reassembler, disjoint_ranges_kept_in_sequence_order) {
  reassembler r(8);
  EXPECT_EQ(hold(r, 20, 30), reassembler::add_result::added);
  EXPECT_EQ(hold(r, 5, 10), reassembler::add_result::added);
  ASSERT_EQ(r.ranges(), 2u);
  EXPECT_EQ(r.blocks()[0], blk(5, 10));
  EXPECT_EQ(r.blocks()[1], blk(20, 30));
  EXPECT_EQ(r.held_bytes(), 15u);
}

TEST(reassembler, adjacent_and_overlapping_ranges_merge) {
  reassembler r(8);
  hold(r, 5, 10);
  hold(r, 20, 30);
  EXPECT_EQ(hold(r, 10, 12), reassembler::add_result::added);  // touches the first
  EXPECT_EQ(hold(r, 11, 21), reassembler::add_result::added);  // bridges both
  ASSERT_EQ(r.ranges(), 1u);
  EXPECT_EQ(r.blocks()[0], blk(5, 30));
}

TEST(reassembler, covered_range_is_a_duplicate) {
  reassembler r(8);
  hold(r, 5, 15);
  EXPECT_EQ(hold(r, 7, 9), reassembler::add_result::duplicate);
  EXPECT_EQ(hold(r, 5, 15), reassembler::add_result::duplicate);
  EXPECT_EQ(hold(r, 4, 15), reassembler::add_result::added);
  EXPECT_EQ(r.containing(at(7), at(9)), blk(4, 15));
  EXPECT_FALSE(r.containing(at(14), at(16)).has_value());
}

TEST(reassembler, bounded_by_max_ranges) {
  reassembler r(2);
  hold(r, 10, 11);
  hold(r, 20, 21);
  EXPECT_EQ(hold(r, 30, 31), reassembler::add_result::full);
  EXPECT_EQ(r.ranges(), 2u);
  // Growing an existing range needs no new slot.
  EXPECT_EQ(hold(r, 11, 15), reassembler::add_result::added);
  EXPECT_EQ(r.blocks()[0], blk(10, 15));
}

TEST(reassembler, max_ranges_clamped) {
  EXPECT_EQ(reassembler(0).max_ranges(), 1u);
  EXPECT_EQ(reassembler(1000).max_ranges(), reassembler::max_ranges_limit);
}

TEST(reassembler, advance_jumps_over_filled_gap) {
  reassembler r(8);
  hold(r, 5, 10);
  hold(r, 20, 30);
  EXPECT_EQ(r.advance(at(3), nullptr), at(3));  // gap not filled yet
  EXPECT_EQ(r.ranges(), 2u);
  EXPECT_EQ(r.advance(at(5), nullptr), at(10));  // exactly filled
  EXPECT_EQ(r.ranges(), 1u);
  EXPECT_EQ(r.advance(at(25), nullptr), at(30));  // in-order text overlapped part of the range
  EXPECT_TRUE(r.empty());
}

TEST(reassembler, advance_forgets_ranges_overtaken) {
  reassembler r(8);
  hold(r, 5, 10);
  EXPECT_EQ(r.advance(at(12), nullptr), at(12));
  EXPECT_TRUE(r.empty());
}

TEST(reassembler, recent_blocks_most_recent_first) {
  reassembler r(8);
  hold(r, 10, 11);
  hold(r, 20, 21);
  hold(r, 30, 31);
  hold(r, 40, 41);
  hold(r, 21, 22);  // touches the second: it becomes the most recent
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

TEST(reassembler, advance_writes_held_octets_in_order) {
  reassembler r(8);
  hold(r, 5, 10);
  hold(r, 12, 20);
  hold(r, 9, 13);  // bridges both; 9 and 12 were held: the first copy is kept
  ring_buffer b(64);
  EXPECT_EQ(r.advance(at(3), &b), at(3));
  EXPECT_TRUE(b.empty());  // the gap [3, 5) is not filled
  const std::vector<std::byte> in = text(3, 5);
  b.write(bytes{in});
  EXPECT_EQ(r.advance(at(5), &b), at(20));
  EXPECT_EQ(read_all(b), text(3, 20));
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.charge(), 0u);
}

TEST(reassembler, overlap_keeps_first_copy_on_both_sides) {
  reassembler r(8);
  hold(r, 10, 20);
  EXPECT_EQ(hold(r, 5, 25, 7), reassembler::add_result::added);  // new text around the held one
  ring_buffer b(64);
  EXPECT_EQ(r.advance(at(5), &b), at(25));
  std::vector<std::byte> want = text(5, 10, 7);
  for (const std::byte x : text(10, 20)) want.push_back(x);
  for (const std::byte x : text(20, 25, 7)) want.push_back(x);
  EXPECT_EQ(read_all(b), want);
}

TEST(reassembler, in_order_text_overlapping_a_range_takes_only_its_rest) {
  reassembler r(8);
  hold(r, 10, 20);
  ring_buffer b(64);
  EXPECT_EQ(r.advance(at(15), &b), at(20));  // RCV.NXT already past 15: only [15, 20) is new
  EXPECT_EQ(read_all(b), text(15, 20));
}

// Attack case 4: one-octet segments spread over a wide window cost their octets and a block
// overhead each, not a buffer the width of the window.
TEST(reassembler, memory_follows_the_bytes) {
  reassembler r(32);
  for (std::uint32_t i = 0; i < 32; ++i) hold(r, 1 + i * 8000, 2 + i * 8000);
  EXPECT_EQ(r.held_bytes(), 32u);
  EXPECT_EQ(r.charge(), 32u * (1 + reassembler::block_overhead));
  EXPECT_LT(r.storage(), 8u * 1024);  // the window they span is 248,000 octets
  r.clear();
  EXPECT_EQ(r.storage(), 0u);
}

TEST(reassembler, prune_after_frees_highest_ranges_first) {
  reassembler r(8);
  hold(r, 10, 20);
  hold(r, 30, 40);
  hold(r, 50, 60);
  const std::size_t one = 10 + reassembler::block_overhead;
  EXPECT_EQ(r.prune_after(at(25), 2 * one), 10u);  // [50, 60) goes, enough
  ASSERT_EQ(r.ranges(), 2u);
  EXPECT_EQ(r.blocks()[1], blk(30, 40));
  EXPECT_EQ(r.prune_after(at(30), 0), 0u);  // [30, 40) does not lie after 30
  EXPECT_EQ(r.prune_after(at(25), 0), 10u);
  EXPECT_EQ(r.ranges(), 1u);
  EXPECT_EQ(r.prune_all(), 10u);
  EXPECT_TRUE(r.empty());
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
