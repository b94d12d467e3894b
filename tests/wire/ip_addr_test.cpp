#include "synack/wire/ip_addr.hpp"

#include <gtest/gtest.h>

namespace synack {
namespace {

TEST(IpAddr, ParsesEitherFamily) {
  const auto v4 = ip_addr::parse("192.0.2.1");
  ASSERT_TRUE(v4.has_value());
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->v4(), ipv4_addr::from_octets(192, 0, 2, 1));
  const auto v6 = ip_addr::parse("2001:DB8:0:0:0:0:0:1");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->v6(), ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}));
  for (const char* bad : {"", "192.0.2", "[2001:db8::1]", "2001:db8::1%eth0", "10.0.0.1/24", "::g"}) {
    EXPECT_FALSE(ip_addr::parse(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(IpAddr, PrintsTheStandardForms) {
  EXPECT_EQ(ip_addr{ipv4_addr::from_octets(10, 0, 0, 1)}.to_string(), "10.0.0.1");
  EXPECT_EQ(ip_addr::parse("2001:DB8:0:0:1:0:0:1")->to_string(), "2001:db8::1:0:0:1");
  EXPECT_EQ(ip_addr{}.to_string(), "0.0.0.0");
  EXPECT_EQ(ip_addr{ipv4_addr::from_octets(10, 0, 0, 1)}.with_port(80), "10.0.0.1:80");
  EXPECT_EQ(ip_addr::parse("2001:db8::1")->with_port(443), "[2001:db8::1]:443");
  EXPECT_EQ(ip_addr::parse("::ffff:192.0.2.1")->with_port(7), "[::ffff:192.0.2.1]:7");
}

TEST(IpAddr, V4MappedIsV6UntilUnmapped) {
  const ip_addr mapped = *ip_addr::parse("::ffff:192.0.2.1");
  const ip_addr plain{ipv4_addr::from_octets(192, 0, 2, 1)};
  EXPECT_TRUE(mapped.is_v6());
  EXPECT_NE(mapped, plain);  // the same host, but not the same address of a socket
  EXPECT_EQ(mapped.unmapped(), plain);
  EXPECT_EQ(plain.unmapped(), plain);
  EXPECT_EQ(plain.v6(), mapped.v6());  // an IPv4 address seen as IPv6 is the mapped one
  const ip_addr v6 = *ip_addr::parse("2001:db8::1");
  EXPECT_EQ(v6.unmapped(), v6);
}

TEST(IpAddr, OrdersV4BeforeV6AndByOctets) {
  const ip_addr a{ipv4_addr::from_octets(10, 0, 0, 1)};
  const ip_addr b{ipv4_addr::from_octets(10, 0, 0, 2)};
  const ip_addr c = *ip_addr::parse("::1");
  const ip_addr d = *ip_addr::parse("2001:db8::1");
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);
  static_assert(ip_addr{ipv4_addr{1}} < ip_addr{ipv4_addr{2}});
  static_assert(ip_addr{ipv4_addr{1}}.is_v4() && ip_addr{ipv4_addr{1}}.v4() == ipv4_addr{1});
}

}  // namespace
}  // namespace synack
