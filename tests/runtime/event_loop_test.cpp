// The event loop and the link decorators over in-memory links: no device, no privilege.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "synack/io/link/faults_link.hpp"
#include "synack/io/link/memory_link.hpp"
#include "synack/io/link/pcap_link.hpp"
#include "synack/runtime/event_loop.hpp"

namespace synack {
namespace {

std::vector<std::byte> packet(std::uint8_t tag) { return std::vector<std::byte>(40, std::byte{tag}); }

std::vector<int> deliveries(const io::fault_config& cfg, int n) {
  auto [a, b] = io::memory_link::make_pair();
  io::faults_link f{*a, cfg};
  for (int i = 0; i < n; ++i) (void)f.send(instant::zero(), packet(static_cast<std::uint8_t>(i)));
  f.on_timeout(instant::max());  // release held (reordered) packets
  std::vector<int> got;
  (void)b->receive(instant::zero(), 1000, [&](bytes p, const rx_meta&) { got.push_back(static_cast<int>(p[0])); });
  return got;
}

TEST(FaultsLink, SameSeedSameFates) {
  io::fault_config cfg{.loss = 0.2, .duplicate = 0.2, .reorder = 0.2, .seed = 42};
  EXPECT_EQ(deliveries(cfg, 100), deliveries(cfg, 100));
  cfg.seed = 43;
  EXPECT_NE(deliveries(io::fault_config{.loss = 0.2, .duplicate = 0.2, .reorder = 0.2, .seed = 42}, 100),
            deliveries(cfg, 100));
}

TEST(FaultsLink, LossDuplicateReorderExtremes) {
  EXPECT_TRUE(deliveries({.loss = 1.0}, 10).empty());
  EXPECT_EQ(deliveries({.duplicate = 1.0}, 3), (std::vector<int>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(deliveries({}, 3), (std::vector<int>{0, 1, 2}));
  // Held packets come out after the ones that overtook them.
  auto [a, b] = io::memory_link::make_pair();
  io::faults_link f{*a, {.reorder = 1.0, .reorder_delay = std::chrono::milliseconds(5)}};
  (void)f.send(instant::zero(), packet(1));
  EXPECT_EQ(f.next_deadline(), instant::zero() + std::chrono::milliseconds(5));
  EXPECT_EQ(b->pending(), 0u);
  f.on_timeout(instant::zero() + std::chrono::milliseconds(5));
  EXPECT_EQ(b->pending(), 1u);
}

// --delay: every packet waits `delay` each way, a reordered one `delay + reorder_delay`, and
// they leave in the order of those times.
TEST(FaultsLink, DelayHoldsEveryPacketBothWays) {
  using std::chrono::milliseconds;
  auto [a, b] = io::memory_link::make_pair();
  io::faults_link f{*a, {.reorder = 0.5, .reorder_delay = milliseconds(3), .delay = milliseconds(10), .seed = 7}};
  EXPECT_TRUE((io::fault_config{.delay = milliseconds(1)}.any()));
  for (int i = 0; i < 20; ++i) (void)f.send(instant::zero() + milliseconds(i / 10), packet(static_cast<std::uint8_t>(i)));
  EXPECT_EQ(f.next_deadline(), instant::zero() + milliseconds(10));
  f.on_timeout(instant::zero() + milliseconds(9));
  EXPECT_EQ(b->pending(), 0u);
  f.on_timeout(instant::zero() + milliseconds(11));
  const std::size_t on_time = b->pending();
  EXPECT_EQ(on_time + f.stats(true).reordered, 20u);
  EXPECT_GT(f.stats(true).reordered, 0u);
  EXPECT_EQ(f.next_deadline(), instant::zero() + milliseconds(13));
  f.on_timeout(instant::zero() + milliseconds(14));
  std::vector<int> got;
  (void)b->receive(instant::zero(), 100, [&](bytes p, const rx_meta&) { got.push_back(static_cast<int>(p[0])); });
  ASSERT_EQ(got.size(), 20u);
  // The on-time ones first, in the order sent; each group of times in order.
  for (std::size_t i = 1; i < on_time; ++i) EXPECT_LT(got[i - 1], got[i]);
  for (std::size_t i = on_time + 1; i < got.size(); ++i) EXPECT_LT(got[i - 1], got[i]);

  // Inbound: read from the device at once, handed on only when due.
  (void)b->send(instant::zero(), packet(1));
  io::faults_link in{*a, {.delay = milliseconds(10)}};
  int seen = 0;
  const auto count = [&](bytes, const rx_meta&) { ++seen; };
  EXPECT_EQ(in.receive(instant::zero(), 10, count), 1u);  // progress: the device was read
  EXPECT_EQ(seen, 0);
  EXPECT_EQ(in.next_deadline(), instant::zero() + milliseconds(10));
  EXPECT_EQ(in.receive(instant::zero() + milliseconds(10), 10, count), 1u);
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(in.next_deadline(), std::nullopt);
}

TEST(PcapLink, CapturesBothDirections) {
  const std::string path = ::testing::TempDir() + "/pcap_link_test.pcap";
  auto [a, b] = io::memory_link::make_pair();
  auto w = pcap_writer::open(path);
  ASSERT_TRUE(w.has_value());
  io::pcap_link p{*a, std::move(*w)};
  (void)p.send(instant::zero(), packet(1));
  (void)b->send(instant::zero(), packet(2));
  EXPECT_EQ(p.receive(instant::zero(), 10, [](bytes, const rx_meta&) {}), 1u);
  EXPECT_EQ(p.packets(), 2u);
  EXPECT_EQ(p.name(), "pcap(memory)");
  std::remove(path.c_str());
}

// Two hosts, each driven by its own event loop, over memory links (one behind faults that
// duplicate): a connect, an echo, a close — through the callback API.
TEST(EventLoop, EchoBetweenTwoLoops) {
  auto [la, lb] = io::memory_link::make_pair();
  io::faults_link dup{*lb, {.duplicate = 0.3, .seed = 9}};
  host_config ca;
  ca.addr = ipv4_addr::from_octets(10, 0, 0, 1);
  host_config cb;
  cb.addr = ipv4_addr::from_octets(10, 0, 0, 2);
  runtime::event_loop server{*la, ca};
  runtime::event_loop client{dup, cb};

  std::string echoed;
  bool server_saw_eof = false;
  std::optional<close_reason> client_closed;
  auto l = server.listen(7, 8, [&](conn_handle h) {
    server.set_callbacks(h, {.on_established = {},
                             .on_readable =
                                 [&, h] {
                                   std::byte buf[256];
                                   for (;;) {
                                     auto r = server.recv(h, buf);
                                     if (!r) return;
                                     if (*r == 0) {
                                       server_saw_eof = true;
                                       (void)server.close(h);
                                       return;
                                     }
                                     (void)server.send(h, bytes{buf, *r});
                                   }
                                 },
                             .on_writable = {},
                             .on_closed = {}});
  });
  ASSERT_TRUE(l.has_value());
  conn_handle c{};
  const std::string msg = "hello over the event loop";
  auto r = client.connect(ca.addr, 7,
                          {.on_established =
                               [&] {
                                 (void)client.send(c, bytes{reinterpret_cast<const std::byte*>(msg.data()), msg.size()});
                                 (void)client.shutdown(c);
                               },
                           .on_readable =
                               [&] {
                                 std::byte buf[256];
                                 for (;;) {
                                   auto n = client.recv(c, buf);
                                   if (!n || *n == 0) return;
                                   echoed.append(reinterpret_cast<const char*>(buf), *n);
                                 }
                               },
                           .on_writable = {},
                           .on_closed = [&](close_reason why) { client_closed = why; }});
  ASSERT_TRUE(r.has_value());
  c = *r;
  for (int i = 0; i < 10000 && !(server_saw_eof && echoed == msg && client.host().state(c) == tcp_state::time_wait);
       ++i) {
    server.run_once(duration{0});
    client.run_once(duration{0});
  }
  EXPECT_EQ(echoed, msg);
  EXPECT_TRUE(server_saw_eof);
  EXPECT_EQ(client.host().state(c), tcp_state::time_wait);  // the client closed first
  EXPECT_FALSE(client_closed.has_value());
  EXPECT_GT(dup.stats(true).duplicated + dup.stats(false).duplicated, 0u);
}

TEST(EventLoop, TimersFireInOrder) {
  auto [a, b] = io::memory_link::make_pair();
  runtime::event_loop loop{*a, host_config{}};
  std::vector<int> order;
  loop.call_after(std::chrono::milliseconds(2), [&] { order.push_back(2); });
  loop.call_after(std::chrono::milliseconds(1), [&] { order.push_back(1); });
  const auto id = loop.call_after(std::chrono::milliseconds(1), [&] { order.push_back(99); });
  loop.cancel(id);
  for (int i = 0; i < 100 && order.size() < 2; ++i) loop.run_once(std::chrono::milliseconds(5));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(EventLoop, SleepTimeNeverEndsBeforeTheDeadline) {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  const instant now = instant::zero() + std::chrono::seconds(5);
  const auto at = [&](std::int64_t us) { return std::optional<instant>{now + microseconds(us)}; };
  const duration cap = milliseconds(100);
  // To the microsecond: exactly the time left.
  EXPECT_EQ(runtime::sleep_time(now, at(300), cap, runtime::wait_precision::fine), microseconds(300));
  EXPECT_EQ(runtime::sleep_time(now, at(1), cap, runtime::wait_precision::fine), microseconds(1));
  // Whole milliseconds, rounded up.
  EXPECT_EQ(runtime::sleep_time(now, at(300), cap, runtime::wait_precision::coarse), milliseconds(1));
  EXPECT_EQ(runtime::sleep_time(now, at(1000), cap, runtime::wait_precision::coarse), milliseconds(1));
  EXPECT_EQ(runtime::sleep_time(now, at(1001), cap, runtime::wait_precision::coarse), milliseconds(2));
  // Due or past: no sleep; none: max_wait; never beyond max_wait.
  for (const auto p : {runtime::wait_precision::fine, runtime::wait_precision::coarse}) {
    EXPECT_EQ(runtime::sleep_time(now, at(0), cap, p), duration{0});
    EXPECT_EQ(runtime::sleep_time(now, at(-50), cap, p), duration{0});
    EXPECT_EQ(runtime::sleep_time(now, std::nullopt, cap, p), cap);
    EXPECT_EQ(runtime::sleep_time(now, at(500'000), cap, p), cap);
  }
}

// A timer 300 us ahead, in each mode in the same run: neither fires early, and the fine mode
// (epoll_pwait2) is not held to the next whole millisecond as the coarse one (epoll_wait) is:
// its median lateness is below the coarse mode's, which is at least 0.7 ms by construction.
// On a kernel without epoll_pwait2 the fine mode falls back, says so, and is not compared.
TEST(EventLoop, FineWaitsAreNotHeldToTheMillisecond) {
  using std::chrono::microseconds;
  auto [a, b] = io::memory_link::make_pair();
  const auto median_lateness = [&](runtime::wait_precision p, runtime::event_loop& loop) {
    loop.set_wait_precision(p);
    std::vector<std::int64_t> late;
    for (int i = 0; i < 15; ++i) {
      const instant due = runtime::clock_now() + microseconds(300);
      std::optional<instant> fired;
      loop.call_at(due, [&] { fired = runtime::clock_now(); });
      for (int k = 0; k < 1000 && !fired; ++k) loop.run_once(std::chrono::milliseconds(50));
      EXPECT_TRUE(fired.has_value());
      if (!fired) return std::int64_t{-1};
      EXPECT_GE(*fired, due);  // never early
      late.push_back((*fired - due).count());
    }
    std::sort(late.begin(), late.end());
    return late[late.size() / 2];
  };
  runtime::event_loop loop{*a, host_config{}};
  const std::int64_t coarse = median_lateness(runtime::wait_precision::coarse, loop);
  EXPECT_GT(loop.stats().coarse_waits, 0u);
  EXPECT_EQ(loop.stats().fine_waits, 0u);
  const std::int64_t fine = median_lateness(runtime::wait_precision::fine, loop);
  if (loop.stats().fine_wait_fallbacks > 0) {
    EXPECT_EQ(loop.precision(), runtime::wait_precision::coarse);
    GTEST_SKIP() << "this kernel has no epoll_pwait2 (ENOSYS): the loop fell back to whole milliseconds";
  }
  EXPECT_GT(loop.stats().fine_waits, 0u);
  EXPECT_GE(coarse, 700);
  EXPECT_LT(fine, coarse) << "median lateness of a 300 us timer: fine " << fine << " us, coarse " << coarse << " us";
  std::printf("median lateness of a 300 us timer: fine %lld us, coarse %lld us\n", static_cast<long long>(fine),
              static_cast<long long>(coarse));
}

}  // namespace
}  // namespace synack
