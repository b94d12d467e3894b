// The TCP Fast Open option (RFC 7413 §4.1.1) and its experimental form (kind 254, ExID 0xF989):
// what parses as a cookie or a cookie request, what is left as an unknown option, and the bytes
// we emit (Linux's layout: after the other options, NOP-padded to 4 octets).
#pragma GCC diagnostic ignored "-Wnull-dereference"  // see tcp_test.cpp

#include <gtest/gtest.h>

#include <vector>

#include "synack/wire/tcp.hpp"
#include "wire/test_bytes.hpp"

namespace synack {
namespace {

const ipv4_addr host_a = ipv4_addr::from_octets(10, 0, 0, 1);
const ipv4_addr host_b = ipv4_addr::from_octets(10, 0, 0, 2);

// A SYN (ports 1234 -> 80) with `area` (a multiple of 4 octets) as its options.
std::vector<std::byte> syn_with(std::string_view area_hex) {
  const auto area = test::from_hex(area_hex);
  auto seg = test::from_hex("04 d2 00 50 ff ff ff f0 00 00 00 00 00 02 20 00 00 00 00 00");
  seg[12] = static_cast<std::byte>(((20 + area.size()) / 4) << 4);
  seg.insert(seg.end(), area.begin(), area.end());
  tcp_repr::fill_checksum(seg, host_a, host_b);
  return seg;
}

tcp_repr parsed(const std::vector<std::byte>& seg) {
  tcp_repr r;
  const auto v = tcp_view::parse(seg);
  EXPECT_TRUE(v.has_value());
  EXPECT_FALSE(tcp_repr::parse(*v, host_a, host_b, r).has_value());
  return r;
}

std::string options_hex(const tcp_options& o) {
  std::vector<std::byte> out(o.buffer_len());
  o.emit(out);
  return test::to_hex(out);
}

TEST(TcpFastOpen, EmptyOptionIsACookieRequest) {
  const auto seg = syn_with("22 02 01 01");
  const tcp_repr r = parsed(seg);
  ASSERT_TRUE(r.options.fast_open.has_value());
  EXPECT_TRUE(r.options.fast_open->request());
  EXPECT_FALSE(r.options.fast_open->experimental);
  EXPECT_EQ(r.options.unknown_count, 0);
}

TEST(TcpFastOpen, EightOctetCookie) {
  const auto seg = syn_with("22 0a 30 21 b9 d8 89 01 7e eb 01 01");
  const tcp_repr r = parsed(seg);
  ASSERT_TRUE(r.options.fast_open.has_value());
  EXPECT_EQ(test::to_hex(r.options.fast_open->value()), "30 21 b9 d8 89 01 7e eb");
}

TEST(TcpFastOpen, SmallestAndLargestCookies) {
  EXPECT_EQ(parsed(syn_with("22 06 ab cd 12 34 01 01")).options.fast_open->len, 4);
  const auto big = syn_with("22 12 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 01 01");
  EXPECT_EQ(parsed(big).options.fast_open->len, 16);
}

TEST(TcpFastOpen, ExperimentalFormWithMagic) {
  const auto seg = syn_with("fe 0c f9 89 30 21 b9 d8 89 01 7e eb");
  const tcp_repr r = parsed(seg);
  ASSERT_TRUE(r.options.fast_open.has_value());
  EXPECT_TRUE(r.options.fast_open->experimental);
  EXPECT_EQ(r.options.fast_open->len, 8);
  EXPECT_TRUE(parsed(syn_with("fe 04 f9 89")).options.fast_open->request());
}

// Lengths RFC 7413 §4.1.1 does not allow (odd, below 4, above 16) and other experiments are no
// TFO option: kept as unknown options, the segment still parses.
TEST(TcpFastOpen, BadLengthsAndOtherExperimentsAreUnknownOptions) {
  for (const char* area : {"22 03 aa 01", "22 04 aa bb", "22 07 aa bb cc dd ee 01",
                           "22 14 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11", "fe 06 12 34 aa bb 01 01",
                           "fe 05 f9 89 aa 01 01 01", "fe 03 f9 01"}) {
    const tcp_repr r = parsed(syn_with(area));
    EXPECT_FALSE(r.options.fast_open.has_value()) << area;
    EXPECT_EQ(r.options.unknown_count, 1) << area;
  }
}

// The SYN Linux sends with a cookie request and with a cookie (the packetdrill scripts'
// `mss 1460,nop,nop,sackOK,nop,wscale 8,FO,nop,nop` and `...,FO abcd1234,nop,nop`).
TEST(TcpFastOpen, EmittedLikeLinux) {
  tcp_options o;
  o.mss = 1460;
  o.sack_permitted = true;
  o.window_scale = 8;
  o.fast_open = tcp_fast_open{};
  EXPECT_EQ(options_hex(o), "02 04 05 b4 01 01 04 02 01 03 03 08 22 02 01 01");
  o.fast_open = tcp_fast_open::of(test::from_hex("ab cd 12 34"));
  EXPECT_EQ(options_hex(o), "02 04 05 b4 01 01 04 02 01 03 03 08 22 06 ab cd 12 34 01 01");
  o.fast_open = tcp_fast_open::of(test::from_hex("30 21 b9 d8 89 01 7e eb"), true);
  EXPECT_EQ(options_hex(o), "02 04 05 b4 01 01 04 02 01 03 03 08 fe 0c f9 89 30 21 b9 d8 89 01 7e eb");
}

TEST(TcpFastOpen, RoundTripEveryLengthAndForm) {
  for (const bool exp : {false, true}) {
    for (std::size_t n = 0; n <= tcp_fast_open::max_cookie; n += 2) {
      if (n == 2) continue;
      tcp_repr r;
      r.src_port = 1234;
      r.dst_port = 80;
      r.seq = seq_num{0xFFFFFFF0};
      r.flags = tcp_flag::syn;
      r.options.mss = 1460;
      tcp_fast_open f;
      f.len = static_cast<std::uint8_t>(n);
      for (std::size_t k = 0; k < n; ++k) f.cookie[k] = static_cast<std::byte>(0x10 + k);
      f.experimental = exp;
      r.options.fast_open = f;
      std::vector<std::byte> buf(r.buffer_len());
      r.emit(buf, host_a, host_b);
      EXPECT_EQ(parsed(buf), r) << n << (exp ? " exp" : "");
    }
  }
}

}  // namespace
}  // namespace synack
