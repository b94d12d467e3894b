#pragma once
// TCP connections in a capture and what each segment meant: the RFC 9293 state of both ends
// after it, inferred from what each end sent and received, and marks (retransmission,
// out-of-order, duplicate ACK, zero window, window probe, keep-alive, reset, D-SACK).
// Pure functions over captured_segment values: no I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diagram/capture.hpp"
#include "synack/tcp/state.hpp"

namespace synack::diagram {

struct endpoint {
  ip_addr addr;
  std::uint16_t port = 0;
  friend bool operator==(const endpoint&, const endpoint&) = default;
  // "10.0.0.1:80", "[2001:db8::1]:80"
  [[nodiscard]] std::string to_string() const { return addr.with_port(port); }
};

namespace mark {
inline constexpr std::uint16_t retransmission = 1u << 0;
inline constexpr std::uint16_t out_of_order = 1u << 1;
inline constexpr std::uint16_t dup_ack = 1u << 2;
inline constexpr std::uint16_t zero_window = 1u << 3;
inline constexpr std::uint16_t window_probe = 1u << 4;
inline constexpr std::uint16_t keep_alive = 1u << 5;
inline constexpr std::uint16_t reset = 1u << 6;
inline constexpr std::uint16_t dsack = 1u << 7;
inline constexpr std::uint16_t window_update = 1u << 8;
inline constexpr std::uint16_t lost = 1u << 9;  // seen at one capture point only
}  // namespace mark

// A segment of a connection with what the analysis found.
struct segment {
  captured_segment wire;
  bool from_a = true;           // sent by end A (the connection's initiator when its SYN was seen)
  std::uint16_t marks = 0;      // mark:: bits
  std::uint32_t dup_ack_count = 0;  // the n of "duplicate ACK #n"
  std::optional<std::uint32_t> scaled_window;  // bytes, once both SYNs were seen
  tcp_state state_a = tcp_state::closed;  // after this segment
  tcp_state state_b = tcp_state::closed;
  std::optional<std::int64_t> t2_ns;  // receive time at the second capture point
};

struct connection {
  endpoint a;  // initiator (first SYN without ACK), else the first sender seen
  endpoint b;
  std::vector<segment> segments;
  bool handshake_seen = false;   // both SYNs
  bool opened_in_capture = false;  // A's SYN seen: states before it are CLOSED / LISTEN
  tcp_state initial_a = tcp_state::closed;
  tcp_state initial_b = tcp_state::listen;
  std::optional<seq_num> isn_a;  // first sequence number seen from each end
  std::optional<seq_num> isn_b;
  std::uint8_t wscale_a = 0;  // shift applied to A's windows (0 unless both offered)
  std::uint8_t wscale_b = 0;
  [[nodiscard]] std::string title() const { return a.to_string() + " <-> " + b.to_string(); }
};

// Groups the segments into connections (by 4-tuple; a new SYN after the old connection ended
// starts a new one), in order of first appearance, and analyses each.
[[nodiscard]] std::vector<connection> group_connections(const std::vector<captured_segment>& segs);

// Fills marks, windows and states of c.segments (called by group_connections).
void analyse(connection& c);

// "retransmission, dup-ack #2": the marks of a segment as words.
[[nodiscard]] std::vector<std::string> mark_names(const segment& s);

// One connection as seen from two capture points (near A and near B): each segment of `a`
// matched with the same segment in `b`; unmatched ones are marked lost. Returns the merged
// connection (send times from the sender's side, receive times in t2_ns).
[[nodiscard]] connection merge_two_points(const connection& at_a, const connection& at_b);

}  // namespace synack::diagram
