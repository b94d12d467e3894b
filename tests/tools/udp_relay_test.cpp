// The UDP relay's session table (tools/lib/udp_relay.hpp), without sockets: lookup by the
// client's 4-tuple, expiry after the idle timeout, eviction of the least recently active
// session when full. Times are values; descriptors are plain numbers.
#include "udp_relay.hpp"

#include <gtest/gtest.h>

namespace synack::tools {
namespace {

four_tuple tuple(std::uint16_t client_port, std::uint16_t dst_port = 53) {
  return four_tuple{ip_addr{ipv4_addr::from_octets(198, 51, 100, 10)}, dst_port, ip_addr{ipv4_addr::from_octets(10, 99, 0, 2)}, client_port};
}

four_tuple tuple6(std::uint16_t client_port) {
  ipv6_addr dst{};
  dst.octets = {0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
  ipv6_addr client{};
  client.octets = {0xfd, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
  return four_tuple{ip_addr{dst}, 53, ip_addr{client}, client_port};
}

instant at_s(std::int64_t s) { return instant::from_us(s * 1'000'000); }

TEST(udp_session_table, finds_by_the_whole_four_tuple) {
  udp_session_table t(8, std::chrono::seconds(60));
  std::optional<udp_session_table::session> ev;
  t.insert(at_s(0), tuple(5000), 10, ev);
  EXPECT_FALSE(ev);
  t.insert(at_s(0), tuple6(5000), 11, ev);
  ASSERT_NE(t.find(tuple(5000)), nullptr);
  EXPECT_EQ(t.find(tuple(5000))->fd, 10);
  EXPECT_EQ(t.find(tuple6(5000))->fd, 11);
  EXPECT_EQ(t.find(tuple(5001)), nullptr);      // another client port
  EXPECT_EQ(t.find(tuple(5000, 54)), nullptr);  // another destination port
  four_tuple other_client = tuple(5000);
  other_client.remote_addr = ip_addr{ipv4_addr::from_octets(10, 99, 0, 3)};
  EXPECT_EQ(t.find(other_client), nullptr);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.opened(), 2u);
}

TEST(udp_session_table, expires_after_the_idle_timeout_and_activity_defers_it) {
  udp_session_table t(8, std::chrono::seconds(60));
  std::optional<udp_session_table::session> ev;
  t.insert(at_s(0), tuple(1), 1, ev);
  t.insert(at_s(10), tuple(2), 2, ev);
  EXPECT_EQ(t.next_expiry(), at_s(60));
  // Session 1 is active at 30 s: now session 2 falls idle first.
  t.touch(*t.find(tuple(1)), at_s(30));
  EXPECT_EQ(t.next_expiry(), at_s(70));
  std::vector<udp_session_table::session> out;
  t.expire(at_s(69), out);
  EXPECT_TRUE(out.empty());
  t.expire(at_s(70), out);  // idle exactly the timeout
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].fd, 2);
  EXPECT_EQ(t.find(tuple(2)), nullptr);
  EXPECT_EQ(t.next_expiry(), at_s(90));
  out.clear();
  t.expire(at_s(1000), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].fd, 1);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.next_expiry(), std::nullopt);
  EXPECT_EQ(t.expired(), 2u);
  EXPECT_EQ(t.evicted(), 0u);
}

TEST(udp_session_table, evicts_the_least_recently_active_when_full) {
  udp_session_table t(3, std::chrono::seconds(60));
  std::optional<udp_session_table::session> ev;
  t.insert(at_s(0), tuple(1), 1, ev);
  t.insert(at_s(1), tuple(2), 2, ev);
  t.insert(at_s(2), tuple(3), 3, ev);
  EXPECT_FALSE(ev);
  t.touch(*t.find(tuple(1)), at_s(3));  // the oldest is active again: 2 is now the idlest
  t.insert(at_s(4), tuple(4), 4, ev);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->fd, 2);
  EXPECT_EQ(ev->tuple, tuple(2));
  EXPECT_EQ(t.find(tuple(2)), nullptr);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.evicted(), 1u);
  EXPECT_EQ(t.opened(), 4u);
  // The order kept: 3, 1, 4.
  std::vector<int> fds;
  for (const auto& s : t.sessions()) fds.push_back(s.fd);
  EXPECT_EQ(fds, (std::vector<int>{3, 1, 4}));
}

TEST(udp_session_table, a_table_of_one_replaces_its_session) {
  udp_session_table t(1, std::chrono::seconds(5));
  std::optional<udp_session_table::session> ev;
  t.insert(at_s(0), tuple(1), 1, ev);
  t.insert(at_s(1), tuple(2), 2, ev);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->fd, 1);
  ASSERT_NE(t.find(tuple(2)), nullptr);
  EXPECT_EQ(t.next_expiry(), at_s(6));
}

TEST(udp_session_table, erase_removes_one_session) {
  udp_session_table t(4, std::chrono::seconds(60));
  std::optional<udp_session_table::session> ev;
  t.insert(at_s(0), tuple(1), 1, ev);
  t.insert(at_s(1), tuple(2), 2, ev);
  EXPECT_TRUE(t.erase(tuple(1)));
  EXPECT_FALSE(t.erase(tuple(1)));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.next_expiry(), at_s(61));
  // Erased is neither expired nor evicted.
  EXPECT_EQ(t.expired(), 0u);
  EXPECT_EQ(t.evicted(), 0u);
}

// Many clients through a small table: the table never grows past its bound, every session
// inserted is found until it is evicted or expires, and the counters add up.
TEST(udp_session_table, stays_bounded_under_many_clients) {
  udp_session_table t(16, std::chrono::seconds(2));
  std::optional<udp_session_table::session> ev;
  std::vector<udp_session_table::session> out;
  std::uint64_t evicted_seen = 0;
  for (std::uint16_t i = 1; i <= 1000; ++i) {
    const instant now = instant::from_us(std::int64_t{i} * 10'000);  // 10 ms apart
    t.expire(now, out);
    if (t.find(tuple(i)) == nullptr) t.insert(now, tuple(i), i, ev);
    if (ev) ++evicted_seen;
    EXPECT_LE(t.size(), 16u);
  }
  EXPECT_EQ(t.opened(), 1000u);
  EXPECT_EQ(t.evicted(), evicted_seen);
  EXPECT_EQ(t.opened(), t.size() + t.expired() + t.evicted());
}

}  // namespace
}  // namespace synack::tools
