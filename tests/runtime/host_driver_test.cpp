// runtime::host_driver: one call for the turn every hand-driven host makes (read the link into
// on_packet, fire due timers, drain poll_transmit into the link, report the next deadline).
// Virtual-time tests over in-memory and scripted links; run_once on the real clock with a pipe
// standing in for a device's descriptor.
#include "synack/runtime/host_driver.hpp"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "synack/io/link/memory_link.hpp"
#include "synack/runtime/event_loop.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {
namespace {

constexpr ipv4_addr server_ip = ipv4_addr::from_octets(10, 0, 0, 1);
constexpr ipv4_addr client_ip = ipv4_addr::from_octets(10, 0, 0, 2);
constexpr instant t0 = instant::from_us(1'000'000);

host_config config_for(ipv4_addr a) {
  host_config c;
  c.addr = a;
  return c;
}

using packet = std::vector<std::byte>;

// A link the test scripts: packets to receive, a record of what was sent, a deadline of its
// own, optionally a refusal to send; with `gate` >= 0, a packet is released to receive() only
// for each byte read from that descriptor (a device whose readiness fd() signals).
class script_link final : public io::link {
 public:
  std::deque<packet> inbox;
  std::vector<packet> sent;
  bool refuse = false;
  std::optional<instant> deadline;
  int timeouts = 0;
  int submits = 0;
  int gate = -1;

  bool send(instant /*now*/, bytes p) override {
    if (refuse) return false;
    sent.emplace_back(p.begin(), p.end());
    return true;
  }
  void submit() override { ++submits; }
  std::size_t receive(instant /*now*/, std::size_t max, const io::packet_sink& sink) override {
    std::size_t allowed = max;
    if (gate >= 0) {
      char c = 0;
      allowed = 0;
      while (allowed < max && ::read(gate, &c, 1) == 1) ++allowed;
    }
    std::size_t n = 0;
    while (n < allowed && !inbox.empty()) {
      const packet p = std::move(inbox.front());
      inbox.pop_front();
      sink(bytes{p}, rx_meta{});
      ++n;
    }
    return n;
  }
  [[nodiscard]] int fd() const override { return gate; }
  [[nodiscard]] std::optional<instant> next_deadline() const override { return deadline; }
  void on_timeout(instant /*now*/) override {
    ++timeouts;
    deadline.reset();
  }
  [[nodiscard]] std::string name() const override { return "script"; }
};

bool is_syn(const packet& p, bool with_ack) {
  auto ip = ipv4_view::parse(bytes{p});
  if (!ip) return false;
  auto tcp = tcp_view::parse(ip->payload());
  if (!tcp) return false;
  const bool syn = (tcp->flags() & tcp_flag::syn) != 0;
  const bool ack = (tcp->flags() & tcp_flag::ack) != 0;
  return syn && ack == with_ack;
}

// The SYN a client host sends to server_ip:7 (built by a real host, not by hand).
packet client_syn() {
  host c{config_for(client_ip)};
  script_link l;
  runtime::host_driver d{c, l};
  EXPECT_TRUE(c.connect(t0, server_ip, 7).has_value());
  (void)d.turn(t0);
  EXPECT_EQ(l.sent.size(), 1u);
  return l.sent.empty() ? packet{} : l.sent.front();
}

TEST(host_driver, a_turn_sends_what_a_command_queued_and_reports_the_hosts_deadline) {
  host h{config_for(client_ip)};
  script_link l;
  runtime::host_driver d{h, l};
  ASSERT_TRUE(h.connect(t0, server_ip, 80).has_value());
  const auto r = d.turn(t0);
  EXPECT_EQ(r.received, 0u);
  EXPECT_EQ(r.sent, 1u);
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_FALSE(r.host_timeout);
  ASSERT_EQ(l.sent.size(), 1u);
  EXPECT_TRUE(is_syn(l.sent[0], false));
  EXPECT_GE(l.submits, 1);
  ASSERT_TRUE(r.next.has_value());
  EXPECT_EQ(r.next, h.next_deadline());
  EXPECT_EQ(*r.next, t0 + h.config().tcp.rto_initial);

  // Just before the retransmission timer: nothing; at it: the SYN again.
  const auto early = d.turn(*r.next - duration{1});
  EXPECT_FALSE(early.host_timeout);
  EXPECT_EQ(early.sent, 0u);
  const auto due = d.turn(*r.next);
  EXPECT_TRUE(due.host_timeout);
  EXPECT_EQ(due.sent, 1u);
  ASSERT_EQ(l.sent.size(), 2u);
  EXPECT_TRUE(is_syn(l.sent[1], false));
  ASSERT_TRUE(due.next.has_value());
  EXPECT_GT(*due.next, *r.next);  // backed off
}

TEST(host_driver, received_packets_reach_the_host_and_its_answers_leave_in_the_same_turn) {
  host h{config_for(server_ip)};
  script_link l;
  runtime::host_driver d{h, l};
  const auto lh = h.listen(7, 4);
  ASSERT_TRUE(lh.has_value());
  l.inbox.push_back(client_syn());
  const auto r = d.turn(t0);
  EXPECT_EQ(r.received, 1u);
  EXPECT_EQ(r.sent, 1u);
  ASSERT_EQ(l.sent.size(), 1u);
  EXPECT_TRUE(is_syn(l.sent[0], true));
  EXPECT_EQ(h.half_open(*lh), 1u);
  EXPECT_TRUE(r.next.has_value());  // the SYN-ACK's retransmission timer
}

TEST(host_driver, a_turn_takes_a_bounded_number_of_packets_and_says_to_come_back_at_once) {
  host h{config_for(server_ip)};
  script_link l;
  runtime::host_driver d{h, l};
  const packet syn = client_syn();  // to a closed port: each is answered with a RST
  const std::size_t total = runtime::turn_rx_max + 88;
  for (std::size_t i = 0; i < total; ++i) l.inbox.push_back(syn);
  const auto first = d.turn(t0);
  EXPECT_EQ(first.received, runtime::turn_rx_max);
  EXPECT_EQ(first.next, t0);
  EXPECT_EQ(l.inbox.size(), 88u);
  const auto second = d.turn(t0);
  EXPECT_EQ(second.received, 88u);
  EXPECT_TRUE(l.inbox.empty());
  EXPECT_NE(second.next, std::optional<instant>{t0});
}

TEST(host_driver, a_packet_the_link_refuses_is_counted_as_dropped) {
  host h{config_for(client_ip)};
  script_link l;
  l.refuse = true;
  runtime::host_driver d{h, l};
  ASSERT_TRUE(h.connect(t0, server_ip, 80).has_value());
  const auto r = d.turn(t0);
  EXPECT_EQ(r.sent, 0u);
  EXPECT_EQ(r.dropped, 1u);
  EXPECT_TRUE(l.sent.empty());
}

TEST(host_driver, the_links_deadline_counts_and_its_timer_fires_when_due) {
  host h{config_for(server_ip)};  // idle: no deadline of its own
  script_link l;
  l.deadline = t0 + std::chrono::milliseconds(5);
  runtime::host_driver d{h, l};
  const auto r = d.turn(t0);
  EXPECT_FALSE(r.link_timeout);
  EXPECT_EQ(l.timeouts, 0);
  EXPECT_EQ(r.next, l.deadline);
  const auto due = d.turn(t0 + std::chrono::milliseconds(5));
  EXPECT_TRUE(due.link_timeout);
  EXPECT_EQ(l.timeouts, 1);
  EXPECT_FALSE(due.next.has_value());
}

// Two hosts back to back over in-memory links, each a driver: the whole program is "turn both,
// jump to the earliest deadline". 200 KB go out and come back byte-exact.
TEST(host_driver, two_hosts_echo_over_memory_links_in_virtual_time) {
  auto [client_end, server_end] = io::memory_link::make_pair();
  host client{config_for(client_ip)};
  host server{config_for(server_ip)};
  runtime::host_driver cd{client, *client_end};
  runtime::host_driver sd{server, *server_end};

  std::string sent_data;
  for (int i = 0; sent_data.size() < 200'000; ++i) sent_data += "line " + std::to_string(i) + "\n";
  const bytes payload{reinterpret_cast<const std::byte*>(sent_data.data()), sent_data.size()};  // NOLINT

  instant now = t0;
  const auto l = server.listen(7, 4);
  ASSERT_TRUE(l.has_value());
  const auto c = client.connect(now, server_ip, 7);
  ASSERT_TRUE(c.has_value());
  std::optional<conn_handle> s;
  std::size_t written = 0;
  std::string echoed;
  std::array<std::byte, 4096> buf{};
  int turns = 0;
  bool closed = false;
  while (echoed.size() < sent_data.size() && ++turns < 100'000) {
    // The application: the server echoes what it reads (no more than it can send back), the
    // client writes what its buffer takes and reads the echo.
    if (!s) {
      if (auto a = server.accept(*l)) s = *a;
    }
    if (s) {
      const auto st = server.status(*s);
      const std::size_t room = st ? std::min(buf.size(), st->send_free) : 0;
      if (auto n = server.recv(*s, mutable_bytes{buf.data(), room}); n && *n > 0) {
        const auto sent = server.send(*s, bytes{buf.data(), *n});
        ASSERT_TRUE(sent.has_value());
        ASSERT_EQ(*sent, *n);
      }
    }
    if (written < payload.size()) {
      if (auto n = client.send(*c, payload.subspan(written))) written += *n;
    }
    while (auto n = client.recv(*c, buf)) {
      if (*n == 0) break;
      echoed.append(reinterpret_cast<const char*>(buf.data()), *n);  // NOLINT
    }
    // The network: a turn of each host sends what the commands queued and takes what came.
    const auto rc = cd.turn(now);
    const auto rs = sd.turn(now);
    // Stay at this instant while packets are in flight; else jump to the earliest deadline.
    std::optional<instant> next = rc.next;
    if (rs.next && (!next || *rs.next < *next)) next = rs.next;
    if (client_end->pending() == 0 && server_end->pending() == 0 && next && *next > now) now = *next;
  }
  EXPECT_EQ(echoed, sent_data);
  ASSERT_TRUE(client.close(now, *c).has_value());
  ASSERT_TRUE(s.has_value());
  for (int i = 0; i < 100 && !closed; ++i) {
    (void)cd.turn(now);
    (void)sd.turn(now);
    if (auto st = server.status(*s); st && st->eof) closed = true;
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(now - t0, std::chrono::seconds(5));  // no timer had to rescue the transfer
}

TEST(host_driver, run_once_wakes_when_the_links_descriptor_becomes_readable) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK), 0);
  host h{config_for(server_ip)};
  script_link l;
  l.gate = fds[0];
  runtime::host_driver d{h, l};
  ASSERT_TRUE(h.listen(7, 4).has_value());
  l.inbox.push_back(client_syn());  // held until a byte comes through the pipe
  std::thread writer([w = fds[1]] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const char c = 'x';
    (void)::write(w, &c, 1);
  });
  const auto start = std::chrono::steady_clock::now();
  const auto r = d.run_once(std::chrono::seconds(20));
  const auto took = std::chrono::steady_clock::now() - start;
  writer.join();
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(r.received, 1u);
  EXPECT_EQ(r.sent, 1u);  // the SYN-ACK
  EXPECT_GE(took, std::chrono::milliseconds(40));
  EXPECT_LT(took, std::chrono::seconds(10));  // woken by the descriptor, not by max_wait
}

TEST(host_driver, run_once_sleeps_until_the_hosts_deadline_or_max_wait) {
  host_config cfg = config_for(client_ip);
  cfg.tcp.rto_initial = std::chrono::milliseconds(60);
  cfg.tcp.rto_min = std::chrono::milliseconds(60);
  host h{cfg};
  script_link l;  // no descriptor: run_once only sleeps
  runtime::host_driver d{h, l};
  ASSERT_TRUE(h.connect(runtime::clock_now(), server_ip, 80).has_value());

  // max_wait first: 10 ms pass, the SYN is out, no timer yet.
  auto start = std::chrono::steady_clock::now();
  auto r = d.run_once(std::chrono::milliseconds(10));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.sent, 1u);
  EXPECT_FALSE(r.host_timeout);
  EXPECT_GE(took, std::chrono::milliseconds(10));

  // Then the retransmission timer, well before max_wait.
  start = std::chrono::steady_clock::now();
  r = d.run_once(std::chrono::seconds(20));
  took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.host_timeout);
  EXPECT_EQ(r.sent, 1u);
  EXPECT_EQ(l.sent.size(), 2u);
  EXPECT_LT(took, std::chrono::seconds(10));
}

}  // namespace
}  // namespace synack
