#pragma once
// The eleven states of RFC 9293 §3.3.2, printed the RFC way ("SYN-RECEIVED").
// Switches over tcp_state have no default: a new state must break every place that forgot it.
#include <cstdint>
#include <optional>
#include <string_view>

namespace synack {

enum class tcp_state : std::uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
};

inline constexpr std::size_t tcp_state_count = 11;

[[nodiscard]] std::string_view to_string(tcp_state s);
// Accepts the RFC name ("SYN-RECEIVED"), netstat's ("SYN_RECV") or lower case with '-'/'_'.
[[nodiscard]] std::optional<tcp_state> parse_tcp_state(std::string_view text);
// RFC 9293 §3.3.2: states after the handshake completed (ESTABLISHED and later).
[[nodiscard]] bool is_synchronized(tcp_state s);
// True if RFC 9293's state diagram (Figure 5, plus the transitions §3.10 adds: RST, abort,
// timeouts, simultaneous open) has an arc from `from` to `to`.
[[nodiscard]] bool is_legal_transition(tcp_state from, tcp_state to);

}  // namespace synack
