#include "synack/wire/ipv4_addr.hpp"

#include <gtest/gtest.h>

#include "synack/util/rng.hpp"

namespace synack {
namespace {

TEST(Ipv4Addr, ParsesDottedQuads) {
  EXPECT_EQ(ipv4_addr::parse("10.0.0.1"), ipv4_addr::from_octets(10, 0, 0, 1));
  EXPECT_EQ(ipv4_addr::parse("0.0.0.0"), ipv4_addr{0});
  EXPECT_EQ(ipv4_addr::parse("255.255.255.255"), ipv4_addr{0xFFFFFFFFu});
  EXPECT_EQ(ipv4_addr::parse("192.168.100.254"), ipv4_addr::from_octets(192, 168, 100, 254));
}

TEST(Ipv4Addr, RejectsEverythingElse) {
  for (const char* bad : {"", "1", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3", "256.0.0.1",
                          "1.2.3.256", "1.2.3.1000", "+1.2.3.4", "1.+2.3.4", "-1.2.3.4", " 1.2.3.4",
                          "1.2.3.4 ", "1.2.3.4x", "1.2.3.4\n", "a.b.c.d", "0x1.2.3.4", "01.2.3.4",
                          "1.2.3.04", "1.2.3.0000", "999999999999.1.1.1", "1,2,3,4", "1.2.3.4.",
                          "1.2.3.4/24"}) {
    EXPECT_FALSE(ipv4_addr::parse(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(Ipv4Addr, ToString) {
  EXPECT_EQ(ipv4_addr::from_octets(10, 0, 0, 1).to_string(), "10.0.0.1");
  EXPECT_EQ(ipv4_addr{0}.to_string(), "0.0.0.0");
  EXPECT_EQ(ipv4_addr{0xFFFFFFFFu}.to_string(), "255.255.255.255");
  EXPECT_EQ(ipv4_addr::from_octets(1, 20, 200, 9).to_string(), "1.20.200.9");
}

TEST(Ipv4Addr, RoundTrip) {
  rng g{8};
  for (int i = 0; i < 2000; ++i) {
    const ipv4_addr a{g.next_u32()};
    ASSERT_EQ(ipv4_addr::parse(a.to_string()), a);
  }
}

TEST(Ipv4Addr, Classification) {
  EXPECT_TRUE(ipv4_addr::from_octets(224, 0, 0, 1).is_multicast());
  EXPECT_TRUE(ipv4_addr::from_octets(239, 255, 255, 255).is_multicast());
  EXPECT_FALSE(ipv4_addr::from_octets(240, 0, 0, 1).is_multicast());
  EXPECT_TRUE(ipv4_addr::from_octets(127, 0, 0, 1).is_loopback());
  EXPECT_TRUE(ipv4_addr{0xFFFFFFFFu}.is_broadcast());
  EXPECT_TRUE(ipv4_addr{}.is_unspecified());
  EXPECT_LT(ipv4_addr::from_octets(9, 255, 255, 255), ipv4_addr::from_octets(10, 0, 0, 0));
}

}  // namespace
}  // namespace synack
