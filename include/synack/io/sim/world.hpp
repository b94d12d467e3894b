#pragma once
// io/sim: several hosts on simulated point-to-point links, in virtual time.
//
// A world owns links, not nodes: nodes are sans-IO hosts driven through the small `node`
// interface (any class with on_packet/on_timeout/poll_transmit/next_deadline fits, see
// node_adapter). Time jumps to the earliest pending event (packet arrival or node deadline),
// so a run is a pure function of its seed — no sleeping, no wall clock.
//
// Impairments per direction of each link, from one seeded generator: latency, bandwidth
// (serialisation delay, FIFO), queue limit (tail drop), loss, duplication, reordering (extra
// delay), corruption (one random bit flipped; the receiver's checksum must catch it).
// They apply to each packet in a fixed order (the order of random draws, so changing it changes
// every seeded run): mtu, loss (a lost packet uses no bandwidth), queue limit, bandwidth,
// latency, reorder, duplicate, corrupt (if duplicated, one of the two copies at random).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "synack/util/rng.hpp"
#include "synack/util/time.hpp"
#include "synack/wire/bytes.hpp"
#include "synack/wire/ipv4_addr.hpp"

namespace synack::sim {

class node {
 public:
  virtual ~node() = default;
  virtual void on_packet(instant now, bytes packet) = 0;
  virtual void on_timeout(instant now) = 0;
  // Writes the next outgoing IPv4 packet into `out` and returns its length; nullopt if none.
  virtual std::optional<std::size_t> poll_transmit(instant now, mutable_bytes out) = 0;
  [[nodiscard]] virtual std::optional<instant> next_deadline() const = 0;
};

// Wraps any host type with the same four members as `node` (e.g. synack::host).
template <class Host>
class node_adapter final : public node {
 public:
  explicit node_adapter(Host& h) : h_(h) {}
  void on_packet(instant now, bytes packet) override { h_.on_packet(now, packet); }
  void on_timeout(instant now) override { h_.on_timeout(now); }
  std::optional<std::size_t> poll_transmit(instant now, mutable_bytes out) override {
    return h_.poll_transmit(now, out);
  }
  [[nodiscard]] std::optional<instant> next_deadline() const override { return h_.next_deadline(); }

 private:
  Host& h_;
};

struct link_config {
  duration latency{0};
  std::uint64_t bandwidth_bps = 0;     // 0: unlimited (no serialisation delay)
  // 0: unlimited; else tail drop when the bytes waiting for the transmitter (not counting the
  // packet being serialised) would exceed it. Only meaningful with a bandwidth.
  std::size_t queue_limit_bytes = 0;
  std::size_t mtu = 65535;             // larger packets are dropped (counted as too_big)
  double loss = 0.0;                   // probability a packet is lost
  double duplicate = 0.0;              // probability a packet is delivered twice
  double reorder = 0.0;                // probability a packet is held back by reorder_delay
  duration reorder_delay{std::chrono::milliseconds(10)};
  double corrupt = 0.0;                // probability one random bit of the packet is flipped
};

struct link_stats {
  std::uint64_t sent = 0;        // packets offered to the link
  std::uint64_t delivered = 0;   // packets handed to the receiving node (duplicates included)
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t queue_drops = 0;
  std::uint64_t too_big = 0;
  std::uint64_t bytes_delivered = 0;
};

using node_id = std::size_t;
using link_id = std::size_t;

// What happened to a packet, reported to an observer (tracing, ladder diagrams, capture).
enum class packet_fate : std::uint8_t { sent, lost, queue_drop, too_big, delivered, duplicated, corrupted };

struct packet_event {
  instant at;
  link_id link = 0;
  node_id from = 0;
  node_id to = 0;
  packet_fate fate = packet_fate::sent;
  bytes packet;  // valid only during the callback
};

class world {
 public:
  explicit world(std::uint64_t seed = 1);
  ~world();
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  // Registers a node (not owned; it must outlive the world) with the address it answers to.
  node_id add_node(node& n, ipv4_addr addr, std::string name);
  // A bidirectional link; `ab` impairs packets from a to b, `ba` from b to a.
  link_id add_link(node_id a, node_id b, link_config ab, link_config ba);
  link_id add_link(node_id a, node_id b, link_config both) { return add_link(a, b, both, both); }

  // Observer of every packet event (optional).
  void set_observer(std::function<void(const packet_event&)> f);

  // Routing: a packet from node n goes on the link of n whose far end has the packet's
  // destination address; if none matches, on n's first link (a default route); if n has no
  // link it is dropped (counted in unroutable()).

  [[nodiscard]] instant now() const;
  // Processes one instant: delivers what is due, fires due timers, collects transmissions,
  // until a round does nothing. If nothing was due at the current time, time first jumps to
  // the next event. Time stays at the instant processed, so a driver acting between steps acts
  // at the moment things happened. Returns false when nothing at all is pending (idle).
  bool step();
  // Steps until virtual time would pass `t` (time is left at t) or the world is idle.
  void run_until(instant t);
  // Steps until idle or until `pred()` is true (checked after each step) or `limit` passes.
  // Returns true if pred became true. When the next event lies past `limit`, time is left at
  // `limit`.
  bool run_while_not(const std::function<bool()>& pred, instant limit);

  [[nodiscard]] const link_stats& stats(link_id l, bool a_to_b) const;
  [[nodiscard]] std::uint64_t unroutable() const;
  // Instants cut short because nodes kept exchanging packets (or one node kept transmitting)
  // without time advancing, past a large bound of rounds; nonzero means a livelock. After one,
  // step() returns true without advancing time, and run_until/run_while_not return at once.
  [[nodiscard]] std::uint64_t livelocks() const;
  // The bound on rounds per instant (and on packets one node transmits per round) beyond which
  // an instant counts as a livelock. Default 1,000,000.
  void set_round_limit(std::uint64_t rounds);
  [[nodiscard]] const std::string& name(node_id n) const;
  [[nodiscard]] std::size_t node_count() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace synack::sim
