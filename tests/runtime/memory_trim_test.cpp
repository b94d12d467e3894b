// runtime::memory_trimmer: malloc_trim(0) when a host's memory pressure ends (issue #13 case 5),
// at most once per interval; and a host_driver whose host goes into pressure and out of it, in
// virtual time over memory links, trims once per transition (the trim is injected and counted).
#include "synack/runtime/memory_trim.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <vector>

#include "synack/io/link/memory_link.hpp"
#include "synack/runtime/event_loop.hpp"
#include "synack/runtime/host_driver.hpp"

namespace synack {
namespace {

using namespace std::chrono_literals;
using runtime::memory_trim_options;
using runtime::memory_trimmer;

constexpr instant t0 = instant::from_us(1'000'000);

memory_trim_options counting(int& calls) {
  return memory_trim_options{.enabled = true, .min_interval = 1s, .trim = [&calls] { ++calls; }};
}

TEST(memory_trimmer, trims_when_pressure_ends_not_while_it_lasts_or_before_it_came) {
  int calls = 0;
  memory_trimmer t{counting(calls)};
  t.observe(t0, memory_level::normal);
  t.observe(t0 + 10ms, memory_level::pressure);
  t.observe(t0 + 20ms, memory_level::hard);
  t.observe(t0 + 30ms, memory_level::pressure);
  EXPECT_EQ(calls, 0);
  t.observe(t0 + 40ms, memory_level::normal);
  EXPECT_EQ(calls, 1);
  t.observe(t0 + 50ms, memory_level::normal);  // still normal: no new transition
  t.observe(t0 + 5s, memory_level::normal);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(t.trims(), 1u);
  EXPECT_FALSE(t.next_deadline().has_value());
}

TEST(memory_trimmer, a_second_end_of_pressure_within_the_interval_waits_for_it) {
  int calls = 0;
  memory_trimmer t{counting(calls)};
  t.observe(t0, memory_level::pressure);
  t.observe(t0 + 100ms, memory_level::normal);  // trims
  t.observe(t0 + 200ms, memory_level::pressure);
  t.observe(t0 + 300ms, memory_level::normal);  // 200 ms after the last trim: held back
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(t.next_deadline().has_value());
  EXPECT_EQ(*t.next_deadline(), t0 + 1100ms);
  t.observe(t0 + 1099ms, memory_level::normal);
  EXPECT_EQ(calls, 1);
  t.observe(t0 + 1100ms, memory_level::normal);
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(t.next_deadline().has_value());
  // Pressure coming back cancels a held-back trim; its end asks for one again.
  t.observe(t0 + 1200ms, memory_level::pressure);
  t.observe(t0 + 1300ms, memory_level::normal);
  ASSERT_TRUE(t.next_deadline().has_value());
  t.observe(t0 + 1400ms, memory_level::pressure);
  EXPECT_FALSE(t.next_deadline().has_value());
  t.observe(t0 + 3s, memory_level::pressure);
  EXPECT_EQ(calls, 2);
  t.observe(t0 + 3100ms, memory_level::normal);
  EXPECT_EQ(calls, 3);
}

TEST(memory_trimmer, disabled_never_trims) {
  int calls = 0;
  memory_trimmer t{memory_trim_options{.enabled = false, .min_interval = 1s, .trim = [&calls] { ++calls; }}};
  t.observe(t0, memory_level::pressure);
  t.observe(t0 + 2s, memory_level::normal);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(t.trims(), 0u);
}

// A server whose budget enters pressure at 64 KiB (back to normal under 32 KiB): a client
// sends 200 KB it does not read, then it reads everything; the drained receive ring gives its
// storage back, the level returns to normal and the driver trims — once per round.
TEST(memory_trim, host_driver_trims_once_each_time_the_hosts_pressure_ends) {
  constexpr ipv4_addr server_ip = ipv4_addr::from_octets(10, 0, 0, 1);
  constexpr ipv4_addr client_ip = ipv4_addr::from_octets(10, 0, 0, 2);
  // Not a structured binding: clang 14 cannot capture one in the lambda below.
  auto ends = io::memory_link::make_pair();
  io::memory_link* const client_end = ends.first.get();
  io::memory_link* const server_end = ends.second.get();
  host_config sc;
  sc.addr = server_ip;
  sc.memory = memory_limits{32u << 10, 64u << 10, 4u << 20};
  host_config cc;
  cc.addr = client_ip;
  cc.memory = {};
  host server{sc};
  host client{cc};
  runtime::host_driver sd{server, *server_end};
  runtime::host_driver cd{client, *client_end};
  int calls = 0;
  sd.set_memory_trim(counting(calls));
  cd.set_memory_trim(memory_trim_options{.enabled = false, .min_interval = std::chrono::seconds(1), .trim = {}});

  instant now = t0;
  const auto l = server.listen(7, 4);
  ASSERT_TRUE(l.has_value());
  const auto c = client.connect(now, server_ip, 7);
  ASSERT_TRUE(c.has_value());
  std::optional<conn_handle> s;
  const std::vector<std::byte> data(200'000, std::byte{0x42});
  std::array<std::byte, 16384> buf{};
  // Turns of both hosts at `now` until the links are quiet, then a jump to the next deadline
  // if it comes before `until`.
  const auto run_until = [&](instant until, const auto& app) {
    for (int turns = 0; turns < 20'000; ++turns) {
      app();
      const auto rc = cd.turn(now);
      const auto rs = sd.turn(now);
      if (client_end->pending() != 0 || server_end->pending() != 0) continue;
      std::optional<instant> next = rc.next;
      if (rs.next && (!next || *rs.next < *next)) next = rs.next;
      if (!next || *next > until) break;
      now = std::max(now, *next);
    }
    now = std::max(now, until);
  };
  for (int round = 1; round <= 2; ++round) {
    std::size_t written = 0;
    run_until(now + 2s, [&] {
      if (!s) {
        if (auto a = server.accept(*l)) s = *a;
      }
      if (written < data.size()) {
        if (auto n = client.send(*c, bytes{data}.subspan(written))) written += *n;
      }
    });
    ASSERT_TRUE(s.has_value());
    EXPECT_NE(server.memory().level, memory_level::normal) << "round " << round;
    EXPECT_EQ(calls, round - 1) << "no trim while the pressure lasts";
    std::size_t read = 0;
    run_until(now + 2s, [&] {
      while (auto n = server.recv(*s, buf)) {
        if (*n == 0) break;
        read += *n;
      }
      if (written < data.size()) {
        if (auto n = client.send(*c, bytes{data}.subspan(written))) written += *n;
      }
    });
    EXPECT_EQ(read, data.size()) << "round " << round;
    EXPECT_EQ(server.memory().level, memory_level::normal) << "round " << round;
    EXPECT_EQ(calls, round) << "one trim per end of pressure";
    EXPECT_EQ(sd.memory_trims(), static_cast<std::uint64_t>(round));
  }
  EXPECT_EQ(server.counters().memory.pressure_entered, 2u);
}

// The event loop makes the same call after each round: a server loop whose host goes into
// pressure (a client writes 200 KB it does not read) and out of it (it reads them) trims once,
// counted in loop_stats::memory_trims.
TEST(memory_trim, event_loop_trims_when_the_hosts_pressure_ends) {
  auto [la, lb] = io::memory_link::make_pair();
  host_config sc;
  sc.addr = ipv4_addr::from_octets(10, 0, 0, 1);
  sc.memory = memory_limits{32u << 10, 64u << 10, 4u << 20};
  host_config cc;
  cc.addr = ipv4_addr::from_octets(10, 0, 0, 2);
  cc.memory = {};
  runtime::event_loop server{*la, sc};
  runtime::event_loop client{*lb, cc};
  int calls = 0;
  server.set_memory_trim(counting(calls));
  std::optional<conn_handle> s;
  ASSERT_TRUE(server.listen(7, 4, [&](conn_handle h) { s = h; }).has_value());
  const auto c = client.connect(sc.addr, 7, {});
  ASSERT_TRUE(c.has_value());
  const std::vector<std::byte> data(200'000, std::byte{0x42});
  std::size_t written = 0;
  const auto round = [&] {
    if (written < data.size()) {
      if (auto n = client.send(*c, bytes{data}.subspan(written))) written += *n;
    }
    server.run_once(duration{0});
    client.run_once(duration{0});
  };
  for (int i = 0; i < 5000 && server.host().memory().level == memory_level::normal; ++i) round();
  ASSERT_TRUE(s.has_value());
  EXPECT_NE(server.host().memory().level, memory_level::normal);
  EXPECT_EQ(calls, 0);
  std::size_t read = 0;
  std::array<std::byte, 16384> buf{};
  for (int i = 0; i < 5000 && read < data.size(); ++i) {
    while (auto n = server.recv(*s, buf)) {
      if (*n == 0) break;
      read += *n;
    }
    round();
  }
  round();
  EXPECT_EQ(read, data.size());
  EXPECT_EQ(server.host().memory().level, memory_level::normal);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(server.stats().memory_trims, 1u);
}

}  // namespace
}  // namespace synack
