#pragma once
// The transfer scenario: two hosts on one simulated link move a seeded pseudo-random byte
// stream in one or both directions, then close (DESIGN.md §3 "Simulation matrices").
//
// Each application writes as its send buffer accepts, reads everything, checks every byte
// against the generator and hashes what it read; after its data each side shuts down its
// sending half, reads to EOF, then closes. A run completes when both streams arrived intact
// and both hosts hold nothing any more (TIME-WAIT expired). It fails with a reason otherwise:
// a connection lost, a virtual-time limit passed, or a stall (no byte delivered for a while).
// A run is a pure function of its configuration (seed included).
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "synack/io/sim/world.hpp"
#include "synack/stack/host.hpp"

namespace synack {

// The payload of one direction: byte i of the stream is byte i % 8 (little-endian) of
// splitmix64(key + (i / 8) * golden), so any range is generated on its own, chunk by chunk.
class payload_stream {
 public:
  explicit payload_stream(std::uint64_t key) : key_(key) {}
  // Writes bytes [offset, offset + out.size()) of the stream into out.
  void fill(std::uint64_t offset, std::span<std::byte> out) const;

 private:
  std::uint64_t key_;
};

// A 64-bit streaming hash: FNV-1a over little-endian 64-bit words (a byte at a time would cost
// more than the stack under test on 64 MiB runs), with an xor-shift after each multiply and the
// length folded in at the end. The result does not depend on how the stream was chunked.
class stream_hash {
 public:
  void update(std::span<const std::byte> data);
  [[nodiscard]] std::uint64_t digest() const;
  [[nodiscard]] std::uint64_t length() const { return len_; }

 private:
  void mix(std::uint64_t w);
  std::uint64_t h_ = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  std::uint64_t word_ = 0;
  std::uint64_t len_ = 0;
};

// The hash of the first `len` bytes of a stream (generated in chunks).
[[nodiscard]] std::uint64_t expected_hash(const payload_stream& s, std::uint64_t len);

struct transfer_config {
  std::uint64_t seed = 1;
  sim::link_config c2s;  // impairments of packets from client to server
  sim::link_config s2c;  // ... and from server to client
  tcp_config client_tcp{};
  tcp_config server_tcp{};
  std::uint16_t mtu = 1500;  // both hosts' IP MTU (the MSS follows from it and tcp.mss)
  std::uint64_t bytes_c2s = 0;
  std::uint64_t bytes_s2c = 0;
  // Virtual-time budget of the whole run (transfer, close and TIME-WAIT).
  duration limit = std::chrono::seconds(3600);
  // Fails the run when no application byte (or EOF) was delivered for this long before the
  // transfer finished. Must exceed the longest retransmission backoff (rto_max).
  duration stall = std::chrono::seconds(300);
  ipv4_addr client_addr = ipv4_addr::from_octets(192, 0, 2, 1);
  ipv4_addr server_addr = ipv4_addr::from_octets(192, 0, 2, 2);
  std::uint16_t server_port = 5001;
  // Sees every packet's fate on the link (sim::world::set_observer; link 0, the client is node
  // 0): benches count what the wire carried, e.g. data delivered twice. Not part of describe().
  std::function<void(const sim::packet_event&)> observer;
};

// Every parameter on one line: a failing run printed this way can be rebuilt by hand.
[[nodiscard]] std::string describe(const transfer_config& c);

struct transfer_side {
  std::uint64_t sent = 0;            // bytes the application handed to send()
  std::uint64_t received = 0;        // bytes the application read
  std::uint64_t expected = 0;        // bytes the peer was to send
  bool eof = false;                  // read the peer's FIN
  std::uint64_t received_hash = 0;   // stream_hash of what was read
  std::uint64_t expected_hash = 0;   // stream_hash of what the peer's application wrote
  std::optional<std::uint64_t> first_mismatch;  // offset of the first wrong byte read
  host_counters counters;
  std::size_t connections = 0;       // live TCBs left at the end
  std::size_t time_wait_records = 0;
};

struct transfer_outcome {
  bool completed = false;
  std::string reason;  // why not, if not
  bool hashes_match = false;
  // Both streams read to EOF (the transfer proper); nullopt if that never happened.
  std::optional<instant> transfer_done;
  instant end;  // when the run stopped (after TIME-WAIT, if completed)
  transfer_side client;
  transfer_side server;
  sim::link_stats c2s;
  sim::link_stats s2c;
  std::uint64_t livelocks = 0;

  [[nodiscard]] double transfer_seconds() const { return transfer_done ? transfer_done->seconds() : 0.0; }
  // Application bytes delivered (both directions) per virtual second, up to transfer_done; 0
  // if the transfer took no virtual time at all (a zero-latency, unlimited link).
  [[nodiscard]] double throughput() const;
  [[nodiscard]] std::string summary() const;
};

[[nodiscard]] transfer_outcome run_transfer(const transfer_config& cfg);

}  // namespace synack
