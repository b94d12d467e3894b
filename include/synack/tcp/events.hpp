#pragma once
// What a connection tells its user: per-operation errors (returned) and events (polled).
// DESIGN.md §2: malformed input never reaches the user; API misuse and connection death do.
#include <cstdint>
#include <string_view>

namespace synack {

// Why a connection ended (sticky: later operations return it).
enum class close_reason : std::uint8_t {
  none,     // still open, or closed normally through FIN exchange / TIME-WAIT
  refused,  // RST in SYN-SENT (RFC 9293 §3.10.7.3: "connection reset" = ECONNREFUSED)
  reset,    // RST in a synchronized state or SYN-RECEIVED
  timeout,  // retransmission R2 or SYN timeout reached (MUST-20/23)
  aborted,  // the user called abort()
};

enum class tcp_error : std::uint8_t {
  invalid_state,        // the call makes no sense in this state (e.g. send on a LISTEN TCB)
  not_connected,        // no connection: CLOSED
  closing,              // send after the sending side was shut down ("connection closing")
  would_block,          // nothing to read yet / no buffer space
  connection_refused,   // see close_reason
  connection_reset,
  timed_out,
  aborted,
  already_exists,       // connect/listen on a TCB already in use
};

enum class tcp_event_kind : std::uint8_t {
  established,  // the handshake completed
  peer_closed,  // a FIN arrived: no more data will come
  closed,       // the TCB reached CLOSED; see the reason
  urgent,       // RFC 9293 §3.8.5 (MUST-32): the peer's urgent pointer appeared or advanced
  // RFC 9293 §3.8.3 (MUST-20, SHLD-9): the same segment has now been retransmitted R1 times
  // (tcp_config::r1_retransmissions) without an answer. A warning, not an end: the connection
  // goes on retransmitting until R2 or an ACK. Given at most once per stuck segment.
  retransmit_threshold,
};

struct tcp_event {
  tcp_event_kind kind = tcp_event_kind::established;
  close_reason reason = close_reason::none;
  friend bool operator==(const tcp_event&, const tcp_event&) = default;
};

[[nodiscard]] constexpr std::string_view to_string(close_reason r) {
  switch (r) {
    case close_reason::none: return "none";
    case close_reason::refused: return "connection refused";
    case close_reason::reset: return "connection reset";
    case close_reason::timeout: return "connection timed out";
    case close_reason::aborted: return "connection aborted";
  }
  return "?";
}

[[nodiscard]] constexpr std::string_view to_string(tcp_error e) {
  switch (e) {
    case tcp_error::invalid_state: return "invalid state for this operation";
    case tcp_error::not_connected: return "not connected";
    case tcp_error::closing: return "connection closing";
    case tcp_error::would_block: return "would block";
    case tcp_error::connection_refused: return "connection refused";
    case tcp_error::connection_reset: return "connection reset";
    case tcp_error::timed_out: return "connection timed out";
    case tcp_error::aborted: return "connection aborted";
    case tcp_error::already_exists: return "connection already exists";
  }
  return "?";
}

[[nodiscard]] constexpr tcp_error error_for(close_reason r) {
  switch (r) {
    case close_reason::none: return tcp_error::not_connected;
    case close_reason::refused: return tcp_error::connection_refused;
    case close_reason::reset: return tcp_error::connection_reset;
    case close_reason::timeout: return tcp_error::timed_out;
    case close_reason::aborted: return tcp_error::aborted;
  }
  return tcp_error::not_connected;
}

}  // namespace synack
