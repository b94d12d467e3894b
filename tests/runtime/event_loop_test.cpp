// The event loop and the link decorators over in-memory links: no device, no privilege.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace synack
