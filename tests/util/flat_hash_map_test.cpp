#include "synack/util/flat_hash_map.hpp"

#include <gtest/gtest.h>

#include <unordered_map>

#include "synack/tcp/four_tuple.hpp"
#include "synack/util/rng.hpp"

namespace synack {
namespace {

// Every key's home is one of the last three slots, whatever the capacity: long probe runs that
// wrap round the end of the table, the hard case for backward-shift deletion.
struct low_entropy_hash {
  std::size_t operator()(std::uint32_t k) const noexcept { return ~std::size_t{0} - k % 3; }
};

TEST(FlatHashMap, InsertFindEraseBasics) {
  flat_hash_map<std::uint32_t, int> m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find(1), nullptr);
  EXPECT_FALSE(m.erase(1));
  m.insert_or_assign(1, 10);
  m.insert_or_assign(2, 20);
  EXPECT_EQ(m.size(), 2u);
  ASSERT_NE(m.find(1), nullptr);
  EXPECT_EQ(*m.find(1), 10);
  EXPECT_TRUE(m.contains(2));
  m.insert_or_assign(1, 11);  // overwrite
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(*m.find(1), 11);
  EXPECT_TRUE(m.erase(1));
  EXPECT_FALSE(m.contains(1));
  EXPECT_TRUE(m.contains(2));
  EXPECT_EQ(m.size(), 1u);
  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.contains(2));
}

TEST(FlatHashMap, StaysAtMostHalfFull) {
  flat_hash_map<std::uint32_t, std::uint32_t> m;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    m.insert_or_assign(i, i);
    ASSERT_LE(m.size() * 2, m.capacity());
  }
  for (std::uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(*m.find(i), i);
}

TEST(FlatHashMap, ChurnAtASteadySizeNeverGrows) {
  flat_hash_map<four_tuple, std::uint32_t, four_tuple_hash> m;
  const auto tuple = [](std::uint32_t i) {
    return four_tuple{ipv4_addr{0x0A000001}, static_cast<std::uint16_t>(32768 + i % 28000), ipv4_addr{0x0A000002}, 80};
  };
  for (std::uint32_t i = 0; i < 64; ++i) m.insert_or_assign(tuple(i), i);
  const std::size_t cap = m.capacity();
  for (std::uint32_t i = 64; i < 200000; ++i) {
    ASSERT_TRUE(m.erase(tuple(i - 64)));
    m.insert_or_assign(tuple(i), i);
  }
  EXPECT_EQ(m.capacity(), cap);
  EXPECT_EQ(m.size(), 64u);
  for (std::uint32_t i = 200000 - 64; i < 200000; ++i) ASSERT_EQ(*m.find(tuple(i)), i);
}

TEST(FlatHashMap, ReserveAvoidsGrowth) {
  flat_hash_map<std::uint32_t, int> m;
  m.reserve(100);
  const std::size_t cap = m.capacity();
  EXPECT_GE(cap, 200u);
  for (std::uint32_t i = 0; i < 100; ++i) m.insert_or_assign(i, 0);
  EXPECT_EQ(m.capacity(), cap);
}

TEST(FlatHashMap, ForEachVisitsEveryEntryOnce) {
  flat_hash_map<std::uint32_t, std::uint32_t> m;
  for (std::uint32_t i = 0; i < 300; ++i) m.insert_or_assign(i * 7, i);
  for (std::uint32_t i = 0; i < 300; i += 2) m.erase(i * 7);
  std::unordered_map<std::uint32_t, std::uint32_t> seen;
  m.for_each([&](std::uint32_t k, std::uint32_t v) { EXPECT_TRUE(seen.emplace(k, v).second); });
  ASSERT_EQ(seen.size(), 150u);
  for (const auto& [k, v] : seen) EXPECT_EQ(k, v * 7);
}

// Random operations against std::unordered_map, with a clustering hash (probe runs wrap round
// the table end) and with the real four-tuple hash.
template <class Hash>
void check_against_reference(std::uint64_t seed, std::uint32_t key_space) {
  rng r{seed};
  flat_hash_map<std::uint32_t, std::uint32_t, Hash> m;
  std::unordered_map<std::uint32_t, std::uint32_t> ref;
  for (std::uint32_t step = 0; step < 100000; ++step) {
    const auto k = static_cast<std::uint32_t>(r.below(key_space));
    switch (r.below(3)) {
      case 0:
        m.insert_or_assign(k, step);
        ref[k] = step;
        break;
      case 1:
        ASSERT_EQ(m.erase(k), ref.erase(k) == 1) << "step " << step;
        break;
      default: {
        const auto it = ref.find(k);
        const std::uint32_t* v = m.find(k);
        ASSERT_EQ(v != nullptr, it != ref.end()) << "step " << step;
        if (v != nullptr) {
          ASSERT_EQ(*v, it->second);
        }
      }
    }
    ASSERT_EQ(m.size(), ref.size());
  }
  for (std::uint32_t k = 0; k < key_space; ++k) {
    const auto it = ref.find(k);
    ASSERT_EQ(m.contains(k), it != ref.end()) << k;
    if (it != ref.end()) {
      ASSERT_EQ(*m.find(k), it->second);
    }
  }
}

TEST(FlatHashMap, MatchesUnorderedMapWithClusteringHash) { check_against_reference<low_entropy_hash>(1, 40); }
TEST(FlatHashMap, MatchesUnorderedMapWithStdHash) { check_against_reference<std::hash<std::uint32_t>>(2, 3000); }

}  // namespace
}  // namespace synack
