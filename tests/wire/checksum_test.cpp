#include "synack/wire/checksum.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "synack/util/rng.hpp"
#include "wire/test_bytes.hpp"

namespace synack {
namespace {

// The obvious RFC 1071 loop over big-endian 16-bit words; the reference the fast code must
// agree with. Lives only here.
std::uint16_t reference_sum(bytes data, std::uint32_t initial = 0) {
  std::uint64_t sum = initial;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += load_be16(&data[i]);
  if (i < data.size()) sum += static_cast<std::uint32_t>(load_u8(&data[i])) << 8;
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}
std::uint16_t reference_checksum(bytes data) { return static_cast<std::uint16_t>(~reference_sum(data)); }

std::vector<std::byte> random_bytes(rng& r, std::size_t n) {
  std::vector<std::byte> v(n);
  for (auto& b : v) b = static_cast<std::byte>(r.next_u32());
  return v;
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums (with end-around carry) to ddf2.
  const auto data = test::from_hex("00 01 f2 03 f4 f5 f6 f7");
  EXPECT_EQ(reference_sum(data), 0xddf2);
  EXPECT_EQ(static_cast<std::uint16_t>(~checksum_finish(checksum_partial(data))), 0xddf2);
  EXPECT_EQ(internet_checksum(data), 0x220d);
}

TEST(Checksum, EmptyAndZero) {
  EXPECT_EQ(internet_checksum({}), 0xFFFF);
  const std::vector<std::byte> zeros(37, std::byte{0});
  EXPECT_EQ(internet_checksum(zeros), 0xFFFF);
}

TEST(Checksum, OddLengthPadsTheHighByte) {
  EXPECT_EQ(internet_checksum(test::from_hex("ab")), static_cast<std::uint16_t>(~0xab00));
  EXPECT_EQ(internet_checksum(test::from_hex("12 34 56")), static_cast<std::uint16_t>(~(0x1234 + 0x5600)));
}

TEST(Checksum, CarriesAllTheWay) {
  // All-ones words: every addition carries. 65535 bytes is the largest IPv4 datagram.
  const std::vector<std::byte> ones(65535, std::byte{0xFF});
  EXPECT_EQ(internet_checksum(ones), reference_checksum(ones));
  const std::vector<std::byte> ones_even(65534, std::byte{0xFF});
  EXPECT_EQ(internet_checksum(ones_even), 0x0000);
}

TEST(Checksum, MatchesReferenceOnEveryLengthAndAlignment) {
  rng r{0xC5C5};
  // A backing buffer with room to start at any of 8 offsets, so unaligned loads are covered.
  for (std::size_t len = 0; len <= 2000; ++len) {
    const auto backing = random_bytes(r, len + 8);
    for (std::size_t off = 0; off < 8; ++off) {
      const bytes data{backing.data() + off, len};
      ASSERT_EQ(internet_checksum(data), reference_checksum(data)) << "len " << len << " off " << off;
    }
  }
}

// The tail after the last 8-byte word (0..7 bytes) is added with 4-, 2- and 1-byte loads:
// every tail length, after bodies that end in each loop (none, the 8-byte loop, the 32-byte
// loop), at every alignment, with all-ones bytes (carries) and random bytes.
TEST(Checksum, EveryTailLengthMatchesReference) {
  rng r{0x7A11};
  for (const std::size_t body : {std::size_t{0}, std::size_t{8}, std::size_t{16}, std::size_t{32}, std::size_t{40}}) {
    for (std::size_t tail = 0; tail < 8; ++tail) {
      const std::size_t len = body + tail;
      const std::vector<std::byte> ones(len + 8, std::byte{0xFF});
      const auto random = random_bytes(r, len + 8);
      for (std::size_t off = 0; off < 8; ++off) {
        for (const auto* backing : {&ones, &random}) {
          const bytes data{backing->data() + off, len};
          ASSERT_EQ(internet_checksum(data), reference_checksum(data))
              << "body " << body << " tail " << tail << " off " << off;
          ASSERT_EQ(checksum_finish(checksum_partial(data, 0x1234)),
                    static_cast<std::uint16_t>(~reference_sum(data, 0x1234)))
              << "body " << body << " tail " << tail << " off " << off;
        }
      }
    }
  }
  // Known values for the tail alone: 1..7 bytes of 01 02 03 ...
  const auto seq = test::from_hex("01 02 03 04 05 06 07");
  const std::uint16_t sums[] = {0x0000, 0x0100, 0x0102, 0x0402, 0x0406, 0x0906, 0x090c, 0x100c};
  for (std::size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(reference_sum(bytes{seq}.first(n)), sums[n]) << n;
    EXPECT_EQ(internet_checksum(bytes{seq}.first(n)), static_cast<std::uint16_t>(~sums[n])) << n;
  }
}

TEST(Checksum, MatchesReferenceOnSkewedData) {
  // Bytes near 0xff maximise carries; near 0 exercise the zero/0xffff corner.
  rng r{17};
  for (int round = 0; round < 2000; ++round) {
    const std::size_t len = r.below(300);
    std::vector<std::byte> v(len);
    const bool high = (round % 2) == 0;
    for (auto& b : v) b = static_cast<std::byte>(high ? 0xFF - r.below(2) : r.below(2));
    ASSERT_EQ(internet_checksum(v), reference_checksum(v)) << "len " << len;
  }
}

TEST(Checksum, InitialValueIsAdded) {
  rng r{23};
  for (int round = 0; round < 500; ++round) {
    const auto v = random_bytes(r, r.below(100));
    const auto init = static_cast<std::uint32_t>(r.below(0x10000));
    const std::uint16_t expected = static_cast<std::uint16_t>(~reference_sum(v, init));
    ASSERT_EQ(checksum_finish(checksum_partial(v, init)), expected);
  }
  // A full 64-bit initial value is accepted too (it is itself an unfolded sum).
  const auto v = test::from_hex("00 01");
  EXPECT_EQ(checksum_finish(checksum_partial(v, 0xFFFFFFFFFFFFFFFEULL)),
            checksum_finish(checksum_add(0xFFFFFFFFFFFFFFFEULL, 1)));
}

TEST(Checksum, PartialsCombine) {
  rng r{31};
  for (int round = 0; round < 2000; ++round) {
    const auto v = random_bytes(r, r.below(600));
    // Split at an even point: the first part must have even length to combine.
    const std::size_t cut = r.below(v.size() / 2 + 1) * 2;
    const bytes all{v};
    const std::uint64_t a = checksum_partial(all.first(cut));
    const std::uint64_t b = checksum_partial(all.subspan(cut));
    ASSERT_EQ(checksum_finish(checksum_add(a, b)), reference_checksum(v)) << v.size() << " cut " << cut;
    // Chaining through `initial` is the same thing.
    ASSERT_EQ(checksum_finish(checksum_partial(all.subspan(cut), a)), reference_checksum(v));
  }
}

TEST(Checksum, AddWrapsEndAround) {
  EXPECT_EQ(checksum_add(0xFFFFFFFFFFFFFFFFULL, 1), 1u);
  EXPECT_EQ(checksum_add(0x8000000000000000ULL, 0x8000000000000000ULL), 1u);
  EXPECT_EQ(checksum_finish(0x1FFFE), checksum_finish(0xFFFF));
}

TEST(Checksum, StoredChecksumVerifiesToZero) {
  rng r{41};
  for (int round = 0; round < 500; ++round) {
    auto v = random_bytes(r, 2 + 2 * r.below(200));
    v[0] = std::byte{0};
    v[1] = std::byte{0};
    store_be16(v.data(), internet_checksum(v));
    ASSERT_EQ(internet_checksum(v), 0);
  }
}

TEST(Checksum, PseudoHeaderMatchesExplicitBytes) {
  // RFC 9293 §3.1: src(4) dst(4) zero(1) PTCL(1) TCP length(2).
  rng r{53};
  for (int round = 0; round < 500; ++round) {
    const ipv4_addr src{r.next_u32()};
    const ipv4_addr dst{r.next_u32()};
    const auto len = static_cast<std::uint16_t>(r.below(0x10000));
    std::vector<std::byte> ph(12);
    store_be32(&ph[0], src.value);
    store_be32(&ph[4], dst.value);
    store_u8(&ph[8], 0);
    store_u8(&ph[9], 6);
    store_be16(&ph[10], len);
    ASSERT_EQ(checksum_finish(pseudo_header_sum(src, dst, 6, len)), reference_checksum(ph));
  }
}

}  // namespace
}  // namespace synack
