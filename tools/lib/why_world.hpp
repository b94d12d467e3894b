#pragma once
// The driver under `synack demo --why`: a client and a server host on one simulated link, each
// behind a node that can drop, delay or duplicate what its host sends and inject packets of its
// own (an old duplicate SYN, spoofed SYNs) — the faults each topic needs. Every segment of the
// watched 4-tuple is reported after the receiver processed it, with both sides' states.
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "echo_scenario.hpp"
#include "why_scenario.hpp"

namespace synack::why {

enum class fate : std::uint8_t { pass, drop, delay, duplicate_later };
struct verdict {
  fate what = fate::pass;
  duration after{};  // for delay / duplicate_later
};

// What a filter sees of an outgoing segment.
struct seg_view {
  instant at;
  std::uint8_t flags = 0;
  seq_num seq;
  std::optional<seq_num> ack;
  std::uint32_t len = 0;
};

class world;

class side final : public sim::node {
 public:
  side(world& w, bool is_client) : w_(w), client_(is_client) {}
  std::function<verdict(const seg_view&)> filter;
  void inject(instant at, std::vector<std::byte> packet) { queue_.emplace(at, std::move(packet)); }
  // A wake-up with nothing to send: the applications act at `at` (a user's pause).
  void wake_at(instant at) { queue_.emplace(at, std::vector<std::byte>{}); }
  [[nodiscard]] std::size_t swallowed() const { return swallowed_; }

  void on_packet(instant now, bytes packet) override;
  void on_timeout(instant now) override;
  std::optional<std::size_t> poll_transmit(instant now, mutable_bytes out) override;
  [[nodiscard]] std::optional<instant> next_deadline() const override;

 private:
  world& w_;
  bool client_;
  std::multimap<instant, std::vector<std::byte>> queue_;
  std::size_t swallowed_ = 0;
};

struct world_config {
  duration latency = std::chrono::milliseconds(10);
  tcp_config client_tcp{};
  tcp_config server_tcp{};
  syncookies_mode syncookies = syncookies_mode::on_overflow;
  std::size_t syn_backlog = 256;
  std::uint64_t seed = 1;
};

class world {
 public:
  explicit world(const world_config& c);

  host client;
  host server;
  std::optional<listener_handle> listener;
  std::optional<conn_handle> client_conn;
  std::optional<conn_handle> server_conn;
  four_tuple tuple;  // the watched connection, as the client sees it

  std::function<void(const segment_row&)> on_segment;
  std::function<void(const state_row&)> on_state;
  std::size_t foreign_segments = 0;  // segments of other 4-tuples (a flood), not reported
  lang language = lang::en;          // of the causes of state rows

  side& client_side() { return client_node_; }
  side& server_side() { return server_node_; }
  [[nodiscard]] instant now() const { return sim_.now(); }

  void listen(std::uint16_t port, const tcp_config& cfg);
  // connect() from a fixed local port; nullopt (and the error) if the host refused.
  result<conn_handle, host_error> connect(std::uint16_t local_port, std::uint16_t port);
  // Steps the simulation, calling `app` between steps, until `done()` or `limit` (virtual).
  // Returns whether done() became true.
  bool run(const std::function<void()>& app, const std::function<bool()>& done, duration limit);
  // Takes the hosts' events: the server accepts the watched connection when it is ready.
  void take_events();
  // A state change that no segment caused (an application call, a timer).
  void report_states(std::string_view client_cause = {}, std::string_view server_cause = {});

  [[nodiscard]] tcp_state client_state() const;
  [[nodiscard]] tcp_state server_state() const;
  [[nodiscard]] four_tuple server_tuple() const {
    return four_tuple{tuple.remote_addr, tuple.remote_port, tuple.local_addr, tuple.local_port};
  }

  // Called by the sides.
  void report(instant t, bytes packet, bool from_client, bool lost);

 private:
  world_config cfg_;
  sim::world sim_;
  side client_node_;
  side server_node_;
  tcp_state shown_client_ = tcp_state::closed;
  tcp_state shown_server_ = tcp_state::closed;
};

// The text of `l`; the setup line of a part (addresses, latency, then `extra`).
[[nodiscard]] std::string_view tr(lang l, std::string_view en, std::string_view zh);
[[nodiscard]] std::string setup_line(lang l, duration latency, std::uint64_t seed, std::string_view extra);
// The cause of a state row ("client calls close()") in `l`.
[[nodiscard]] std::string cause_text(lang l, std::string_view en);
[[nodiscard]] inline bool has(std::uint8_t flags, std::uint8_t bit) { return (flags & bit) != 0; }

// Reads what a connection has, appending to `into`.
void drain(host& h, conn_handle c, std::string& into);
// Sends as much of `data` from `sent` on as the connection takes.
void send_some(host& h, conn_handle c, const std::string& data, std::size_t& sent);

// A bare SYN with an MSS option, as an old duplicate or a spoofed one looks.
std::vector<std::byte> make_syn(ipv4_addr src, std::uint16_t sport, ipv4_addr dst, std::uint16_t dport, seq_num seq);

// The topics (why_topics.cpp, why_topics_close.cpp).
void time_wait_topic(lang l, std::uint64_t seed, sink& out, time_wait_facts& f);
void simultaneous_close_topic(lang l, std::uint64_t seed, sink& out, simultaneous_close_facts& f);
void syn_flood_topic(lang l, std::uint64_t seed, sink& out, syn_flood_facts& f);

inline constexpr ipv4_addr client_addr = ipv4_addr::from_octets(192, 0, 2, 1);
inline constexpr ipv4_addr server_addr = ipv4_addr::from_octets(192, 0, 2, 2);

}  // namespace synack::why
