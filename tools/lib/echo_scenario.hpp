#pragma once
// The echo scenario: two hosts on a simulated link. The client connects, sends a line, the
// server echoes it, the client closes, then the server — the full TCP lifecycle, observable
// segment by segment. `synack demo` draws it as a ladder diagram; the lifecycle tests run it
// under loss for many seeds.
#include <functional>
#include <optional>
#include <string>

#include "synack/io/sim/world.hpp"
#include "synack/stack/host.hpp"

namespace synack {

struct echo_config {
  std::uint64_t seed = 1;
  double loss = 0.0;
  duration latency = std::chrono::milliseconds(10);  // one way
  bool simultaneous_open = false;   // both sides connect at once, no listener
  bool simultaneous_close = false;  // both sides close at once once the echo is back
  std::string message = "hello, synack\n";
  tcp_config tcp{};
  ipv4_addr client_addr = ipv4_addr::from_octets(192, 0, 2, 1);
  ipv4_addr server_addr = ipv4_addr::from_octets(192, 0, 2, 2);
  // Over IPv6 (`synack demo --ipv6`): both hosts also get these addresses and connect to them.
  bool ipv6 = false;
  ipv6_addr client_addr6 = ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});
  ipv6_addr server_addr6 = ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 2});
  [[nodiscard]] ip_addr client_ip() const { return ipv6 ? ip_addr{client_addr6} : ip_addr{client_addr}; }
  [[nodiscard]] ip_addr server_ip() const { return ipv6 ? ip_addr{server_addr6} : ip_addr{server_addr}; }
  std::uint16_t server_port = 7;
  std::uint16_t client_port = 40000;  // used for simultaneous open; else ephemeral
  duration limit = std::chrono::seconds(3600);  // virtual time budget
  std::string pcap_path;  // capture of the link, if set
};

// One segment as it crossed the link, with both sides' states after it arrived.
struct segment_row {
  instant at;
  bool from_client = true;
  bool lost = false;
  std::uint8_t flags = 0;  // wire flags, ACK included
  seq_num seq;
  std::optional<seq_num> ack;
  std::uint32_t len = 0;
  std::uint16_t window = 0;
  tcp_options options;  // as sent (unknown kinds dropped)
  tcp_state client_state = tcp_state::closed;
  tcp_state server_state = tcp_state::closed;
};

// A TCP packet's fields as a row (the states left CLOSED for the caller to fill); nullopt if the
// IPv4 packet does not hold a valid TCP segment.
[[nodiscard]] std::optional<segment_row> segment_row_of(instant at, bytes packet, bool from_client, bool lost);

// A state change with no arriving segment behind it: an application call (close()) or a
// timer (the 2 x MSL of TIME-WAIT, a retransmission timeout).
struct state_row {
  instant at;
  bool client = true;
  tcp_state from = tcp_state::closed;
  tcp_state to = tcp_state::closed;
  std::string cause;
};

struct echo_outcome {
  bool completed = false;     // echo matched and both sides reached CLOSED
  std::string error;          // why not, if not
  std::string echoed;
  instant end;
  std::optional<instant> client_time_wait_start;
  std::optional<instant> client_time_wait_end;
  std::optional<instant> server_time_wait_start;
  std::optional<instant> server_time_wait_end;
  host_counters client;
  host_counters server;
  std::uint64_t packets_lost = 0;
  std::uint64_t packets_delivered = 0;
  // What each host still holds when the run ends: live TCBs and compact TIME-WAIT records.
  // A completed run leaves all four at zero.
  std::size_t client_connections = 0;
  std::size_t client_time_wait_records = 0;
  std::size_t server_connections = 0;
  std::size_t server_time_wait_records = 0;
};

class echo_scenario {
 public:
  explicit echo_scenario(echo_config cfg);
  ~echo_scenario();
  echo_scenario(const echo_scenario&) = delete;
  echo_scenario& operator=(const echo_scenario&) = delete;

  void on_segment(std::function<void(const segment_row&)> f) { on_segment_ = std::move(f); }
  void on_state(std::function<void(const state_row&)> f) { on_state_ = std::move(f); }
  // Every packet event of the link (sent, lost, delivered...), at its virtual time; node 0 is
  // the client, node 1 the server. `synack demo --svg/--html` draws from the send and
  // delivery times.
  void on_packet(std::function<void(const sim::packet_event&)> f) { on_packet_ = std::move(f); }
  [[nodiscard]] echo_outcome run();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::function<void(const segment_row&)> on_segment_;
  std::function<void(const state_row&)> on_state_;
  std::function<void(const sim::packet_event&)> on_packet_;
};

}  // namespace synack
