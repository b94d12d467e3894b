#pragma once
// Shared by the transfer matrix and the golden table: the base configuration of a transfer
// scenario, small builders, and the checks every scenario must pass.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "synack/wire/error.hpp"
#include "transfer_scenario.hpp"

namespace synack {

inline constexpr std::size_t kib = 1024;

// R2 far beyond the default 100 s: at 20% loss a segment and its ACK fail together about a
// third of the time, and without congestion control or SACK recovery leans on the backed-off
// RTO, so the stock R2 would (correctly) give up on some seeds. The matrix tests delivery, not
// R2; lifecycle_loss_test keeps a stock-config case for that.
inline tcp_config patient_tcp() {
  tcp_config t;
  t.syn_r2 = std::chrono::seconds(900);
  t.data_r2 = std::chrono::seconds(900);
  return t;
}

inline transfer_config base_config(std::uint64_t seed) {
  transfer_config c;
  c.seed = seed;
  c.client_tcp = patient_tcp();
  c.server_tcp = patient_tcp();
  // No progress for 300 s: past five backed-off RTOs at rto_max (60 s), far past any recovery
  // the stack can make.
  c.stall = std::chrono::seconds(300);
  c.limit = std::chrono::hours(24);
  return c;
}

inline sim::link_config link(duration latency) {
  sim::link_config l;
  l.latency = latency;
  return l;
}

inline void set_buffers(transfer_config& c, std::size_t size) {
  c.client_tcp.send_buffer = c.client_tcp.recv_buffer = size;
  c.server_tcp.send_buffer = c.server_tcp.recv_buffer = size;
}

template <class T>
T pick(rng& r, std::initializer_list<T> xs) {
  return *(xs.begin() + static_cast<std::ptrdiff_t>(r.below(xs.size())));
}
template <class T>
T pick(rng& r, const std::vector<T>& xs) {
  return xs[static_cast<std::size_t>(r.below(xs.size()))];
}

inline std::uint64_t wire_drops(const host_counters& c) {
  std::uint64_t n = 0;
  for (const std::uint64_t d : c.drop_wire) n += d;
  return n;
}

// Everything a scenario must satisfy; an empty string if it did.
inline std::string check_outcome(const transfer_config& cfg, const transfer_outcome& o) {
  std::string p;
  auto problem = [&p](const std::string& s) { p += (p.empty() ? "" : "; ") + s; };
  if (!o.completed) problem("not completed: " + o.reason);
  if (!o.hashes_match) problem("hashes differ");
  if (o.server.received != cfg.bytes_c2s || o.client.received != cfg.bytes_s2c) problem("byte counts differ");
  if (!o.client.eof || !o.server.eof) problem("EOF not read on both sides");
  if (o.client.connections + o.server.connections + o.client.time_wait_records + o.server.time_wait_records != 0) {
    problem("connections or TIME-WAIT records left");
  }
  const std::uint64_t resets = o.client.counters.estab_resets + o.server.counters.estab_resets +
                               o.client.counters.attempt_fails + o.server.counters.attempt_fails;
  if (resets != 0) problem("a connection reset or a failed attempt: " + std::to_string(resets));
  // A RST is legitimate only as the answer of a host to a segment for a connection it no
  // longer has (RFC 9293 §3.10.7.1; to the listener: §3.10.7.2): a duplicate, or a spurious
  // retransmission still queued on the link when the connection closed. The peer is then in
  // TIME-WAIT, which ignores it (RFC 1337). Any other RST is a failure.
  auto stray_rsts = [&](const char* side, const host_counters& c) {
    const std::uint64_t answers = c.tcp(rx_verdict::no_connection) + c.tcp(rx_verdict::listen_ack);
    if (c.out_rsts > answers) {
      problem(std::string(side) + " sent " + std::to_string(c.out_rsts) + " RSTs, only " + std::to_string(answers) +
              " answering segments for no connection");
    }
  };
  stray_rsts("client", o.client.counters);
  stray_rsts("server", o.server.counters);
  if (o.livelocks != 0) problem("livelock");
  // Every corrupted packet (one flipped bit) is caught by a checksum or a header check before
  // it reaches TCP: exactly one wire drop each. Which check fires depends on the bit: a flip in
  // the IPv4 total length is caught as bad_total_len before the header checksum is looked at,
  // so a single corrupted packet need not be a bad_checksum; the class-level test asserts that
  // checksums catch corruption over the whole class.
  auto corruption = [&](const char* dir, const sim::link_stats& l, const host_counters& rx) {
    const std::uint64_t drops = wire_drops(rx);
    if (drops != l.corrupted) {
      problem(std::string(dir) + ": " + std::to_string(l.corrupted) + " corrupted packets but " +
              std::to_string(drops) + " wire drops");
    }
  };
  corruption("c2s", o.c2s, o.server.counters);
  corruption("s2c", o.s2c, o.client.counters);
  return p;
}

}  // namespace synack
