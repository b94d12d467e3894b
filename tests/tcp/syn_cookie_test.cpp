// The SYN cookie codec on its own (RFC 4987 §3.6): round trips over every MSS index and
// option combination, and each way a cookie must fail — wrong 4-tuple or ISN, stale counter,
// another key, tampered bits.
#include <gtest/gtest.h>

#include <set>

#include "synack/tcp/syn_cookie.hpp"

namespace synack {
namespace {

constexpr siphash_key secret{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
const four_tuple tuple{ipv4_addr::from_octets(192, 0, 2, 1), 80, ipv4_addr::from_octets(198, 51, 100, 7), 40000};
constexpr seq_num irs{0xFFFFFF00u};  // the peer's ISN, just below the wrap
constexpr auto period = syn_cookie_codec::counter_period;

instant at(duration d) { return instant{} + d; }
// Somewhere in the middle of counter 1000 (epoch 250).
const instant t0 = at(1000 * period + std::chrono::seconds(10));

std::vector<syn_cookie_options> every_option_set() {
  std::vector<syn_cookie_options> v;
  for (std::uint16_t mss : syn_cookie_codec::mss_table) {
    v.push_back(syn_cookie_options{mss, false, false, std::nullopt});
    for (bool sack : {false, true}) {
      v.push_back(syn_cookie_options{mss, true, sack, std::nullopt});
      for (std::uint8_t ws = 0; ws <= 14; ++ws) v.push_back(syn_cookie_options{mss, true, sack, ws});
    }
  }
  return v;
}

TEST(syn_cookie, round_trip_every_mss_index_and_option_set) {
  syn_cookie_codec codec(secret);
  for (const auto& o : every_option_set()) {
    const syn_cookie c = codec.encode(t0, tuple, irs, o, 0x12345678u);
    EXPECT_EQ(c.options, o);
    ASSERT_EQ(c.tsval.has_value(), o.timestamps);
    auto d = codec.decode(t0 + std::chrono::seconds(1), tuple, irs, c.iss, c.tsval);
    ASSERT_TRUE(d.has_value()) << "mss " << o.mss << ": " << to_string(d.error());
    EXPECT_EQ(*d, o);
  }
}

TEST(syn_cookie, mss_rounded_down_to_the_table) {
  EXPECT_EQ(syn_cookie_codec::mss_index(1460), 3u);
  EXPECT_EQ(syn_cookie_codec::mss_index(9000), 3u);
  EXPECT_EQ(syn_cookie_codec::mss_index(1459), 2u);
  EXPECT_EQ(syn_cookie_codec::mss_index(1440), 2u);
  EXPECT_EQ(syn_cookie_codec::mss_index(1300), 1u);
  EXPECT_EQ(syn_cookie_codec::mss_index(1299), 0u);
  EXPECT_EQ(syn_cookie_codec::mss_index(536), 0u);
  EXPECT_EQ(syn_cookie_codec::mss_index(100), 0u);  // as Linux: 536 (DEVIATION in the codec)
  syn_cookie_codec codec(secret);
  const auto c = codec.encode(t0, tuple, irs, syn_cookie_options{1400, false, false, std::nullopt}, 0);
  EXPECT_EQ(c.options.mss, 1300);
  auto d = codec.decode(t0, tuple, irs, c.iss, std::nullopt);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->mss, 1300);
}

// RFC 4987 §3.6: no timestamps, nowhere to keep SACK and window scale: they are not offered.
TEST(syn_cookie, without_timestamps_options_are_dropped) {
  syn_cookie_codec codec(secret);
  const auto c = codec.encode(t0, tuple, irs, syn_cookie_options{1460, false, true, 7}, 0);
  EXPECT_FALSE(c.tsval.has_value());
  EXPECT_EQ(c.options, (syn_cookie_options{1460, false, false, std::nullopt}));
}

TEST(syn_cookie, tsval_carries_the_options_and_never_runs_ahead_of_the_clock) {
  syn_cookie_codec codec(secret);
  for (std::uint32_t ts_now : {0x1000u, 0x1001u, 0x101Fu, 0x1020u, 0xFFFFFFFFu, 0x0u, 0x5u}) {
    for (const auto& o : every_option_set()) {
      if (!o.timestamps) continue;
      const auto c = codec.encode(t0, tuple, irs, o, ts_now);
      ASSERT_TRUE(c.tsval);
      EXPECT_LE(static_cast<std::int32_t>(*c.tsval - ts_now), 0) << std::hex << ts_now << " " << *c.tsval;
      EXPECT_LT(ts_now - *c.tsval, 2 * (syn_cookie_codec::ts_option_mask + 1));
    }
  }
}

// An IPv6 tuple uses IPv6's table (the minimum MTU's 1220 first), so a cookie never holds an
// IPv6 peer below 1220 nor rounds a 1420 down to 1300.
TEST(syn_cookie, ipv6_tuples_round_to_the_ipv6_table) {
  EXPECT_EQ(syn_cookie_codec::mss_index(1220, true), 0u);
  EXPECT_EQ(syn_cookie_codec::mss_index(1419, true), 0u);
  EXPECT_EQ(syn_cookie_codec::mss_index(1420, true), 1u);
  EXPECT_EQ(syn_cookie_codec::mss_index(1460, true), 2u);
  EXPECT_EQ(syn_cookie_codec::mss_index(8940, true), 3u);
  EXPECT_EQ(syn_cookie_codec::mss_index(536, true), 0u);  // as Linux: 1220
  const four_tuple t6{ip_addr{*ipv6_addr::parse("2001:db8::1")}, 80, ip_addr{*ipv6_addr::parse("2001:db8::7")}, 40000};
  syn_cookie_codec codec(secret);
  for (const std::uint16_t mss : syn_cookie_codec::mss_table_v6) {
    const auto c = codec.encode(t0, t6, irs, syn_cookie_options{mss, false, false, std::nullopt}, 0);
    EXPECT_EQ(c.options.mss, mss);
    auto d = codec.decode(t0, t6, irs, c.iss, std::nullopt);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->mss, mss);
  }
  const auto c = codec.encode(t0, t6, irs, syn_cookie_options{1440, false, false, std::nullopt}, 0);
  // The same bits decoded against an IPv4 tuple would name 1440 of IPv4's table too, but the
  // MAC covers the tuple: the cookie fails there.
  EXPECT_FALSE(codec.decode(t0, tuple, irs, c.iss, std::nullopt).has_value());
}

TEST(syn_cookie, cookie_bits_hold_counter_and_mss_index) {
  syn_cookie_codec codec(secret);
  const auto c = codec.encode(t0, tuple, irs, syn_cookie_options{1440, false, false, std::nullopt}, 0);
  EXPECT_EQ(c.iss.raw >> 29, syn_cookie_codec::counter(t0) % 8);
  EXPECT_EQ((c.iss.raw >> 27) & 3u, 2u);
}

TEST(syn_cookie, wrong_tuple_or_isn_fails) {
  syn_cookie_codec codec(secret);
  const auto c = codec.encode(t0, tuple, irs, syn_cookie_options{1460, true, true, 7}, 1000);
  auto other = tuple;
  other.remote_port = 40001;
  EXPECT_EQ(codec.decode(t0, other, irs, c.iss, c.tsval).error(), syn_cookie_error::bad_mac);
  other = tuple;
  other.remote_addr = ipv4_addr::from_octets(198, 51, 100, 8);
  EXPECT_EQ(codec.decode(t0, other, irs, c.iss, c.tsval).error(), syn_cookie_error::bad_mac);
  other = tuple;
  other.local_port = 81;
  EXPECT_EQ(codec.decode(t0, other, irs, c.iss, c.tsval).error(), syn_cookie_error::bad_mac);
  EXPECT_EQ(codec.decode(t0, tuple, irs + seq_len{1}, c.iss, c.tsval).error(), syn_cookie_error::bad_mac);
  EXPECT_TRUE(codec.decode(t0, tuple, irs, c.iss, c.tsval).has_value());
}

// Valid for max_age (2) full ticks after the one it was made in, never afterwards.
TEST(syn_cookie, stale_counter_fails) {
  syn_cookie_codec codec(secret);
  const instant made = at(1000 * period);  // the first microsecond of counter 1000
  const auto c = codec.encode(made, tuple, irs, syn_cookie_options{1460, false, false, std::nullopt}, 0);
  EXPECT_TRUE(codec.decode(made + 3 * period - duration{1}, tuple, irs, c.iss, std::nullopt).has_value());
  EXPECT_EQ(codec.decode(made + 3 * period, tuple, irs, c.iss, std::nullopt).error(), syn_cookie_error::too_old);
  for (std::uint32_t ticks = 3; ticks < 8; ++ticks) {
    EXPECT_EQ(codec.decode(made + ticks * period, tuple, irs, c.iss, std::nullopt).error(), syn_cookie_error::too_old)
        << ticks;
  }
  // Eight ticks later the 3 counter bits match again: the MAC (over the whole counter) fails.
  EXPECT_EQ(codec.decode(made + 8 * period, tuple, irs, c.iss, std::nullopt).error(), syn_cookie_error::bad_mac);
  // From the future (a counter ahead of ours) is refused too.
  syn_cookie_codec late(secret);
  const auto ahead = late.encode(made + period, tuple, irs, syn_cookie_options{}, 0);
  EXPECT_EQ(late.decode(made, tuple, irs, ahead.iss, std::nullopt).error(), syn_cookie_error::too_old);
}

// Keys rotate every counters_per_key ticks; a cookie made just before a rotation is checked
// with the previous key just after it. Another secret never validates.
TEST(syn_cookie, key_rotation) {
  syn_cookie_codec codec(secret);
  const instant epoch_end = at(1004 * period - duration{1});  // last microsecond of epoch 250
  const auto c = codec.encode(epoch_end, tuple, irs, syn_cookie_options{1460, true, false, 3}, 77);
  EXPECT_TRUE(codec.decode(epoch_end + duration{1}, tuple, irs, c.iss, c.tsval).has_value());
  EXPECT_TRUE(codec.decode(epoch_end + 2 * period, tuple, irs, c.iss, c.tsval).has_value());
  // A fresh codec (no cached keys) agrees: keys are a function of the secret and the epoch.
  syn_cookie_codec fresh(secret);
  EXPECT_TRUE(fresh.decode(epoch_end + period, tuple, irs, c.iss, c.tsval).has_value());

  // The same SYN in the same counter slot (mod 8) in another epoch gets another MAC.
  std::set<std::uint32_t> macs;
  for (std::uint32_t e = 0; e < 8; ++e) {
    const instant when = at((1000 + 8 * e) * period);
    macs.insert(codec.encode(when, tuple, irs, syn_cookie_options{}, 0).iss.raw);
  }
  EXPECT_EQ(macs.size(), 8u);

  syn_cookie_codec other(siphash_key{secret.k0, secret.k1 ^ 1});
  EXPECT_EQ(other.decode(epoch_end, tuple, irs, c.iss, c.tsval).error(), syn_cookie_error::bad_mac);
}

// Flipping any single bit of the cookie, or of the option bits echoed in TSecr, fails.
TEST(syn_cookie, tampered_bits_fail) {
  syn_cookie_codec codec(secret);
  const auto c = codec.encode(t0, tuple, irs, syn_cookie_options{1300, true, true, 9}, 0xABCDEF00u);
  ASSERT_TRUE(codec.decode(t0, tuple, irs, c.iss, c.tsval).has_value());
  for (std::uint32_t bit = 0; bit < 32; ++bit) {
    const seq_num bad{c.iss.raw ^ (1u << bit)};
    EXPECT_FALSE(codec.decode(t0, tuple, irs, bad, c.tsval).has_value()) << "cookie bit " << bit;
  }
  for (std::uint32_t bit = 0; bit < syn_cookie_codec::ts_option_bits; ++bit) {
    EXPECT_EQ(codec.decode(t0, tuple, irs, c.iss, *c.tsval ^ (1u << bit)).error(), syn_cookie_error::bad_mac)
        << "TSecr bit " << bit;
  }
  // The TSecr bits above the options are the clock: they do not matter.
  EXPECT_TRUE(codec.decode(t0, tuple, irs, c.iss, *c.tsval ^ 0x100u).has_value());
  // An ACK without timestamps cannot claim options that need them.
  EXPECT_EQ(codec.decode(t0, tuple, irs, c.iss, std::nullopt).error(), syn_cookie_error::bad_mac);
}

// Random guesses: about 3/8 x 2^-27 succeed; a million guesses find none.
TEST(syn_cookie, forged_cookies_fail) {
  syn_cookie_codec codec(secret);
  std::uint32_t x = 0x9E3779B9u;
  int accepted = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    if (codec.decode(t0, tuple, irs, seq_num{x}, std::nullopt)) ++accepted;
  }
  EXPECT_EQ(accepted, 0);
}

}  // namespace
}  // namespace synack
