#include "synack/tcp/state.hpp"

#include <array>
#include <cctype>
#include <string>

namespace synack {

std::string_view to_string(tcp_state s) {
  switch (s) {
    case tcp_state::closed: return "CLOSED";
    case tcp_state::listen: return "LISTEN";
    case tcp_state::syn_sent: return "SYN-SENT";
    case tcp_state::syn_received: return "SYN-RECEIVED";
    case tcp_state::established: return "ESTABLISHED";
    case tcp_state::fin_wait_1: return "FIN-WAIT-1";
    case tcp_state::fin_wait_2: return "FIN-WAIT-2";
    case tcp_state::close_wait: return "CLOSE-WAIT";
    case tcp_state::closing: return "CLOSING";
    case tcp_state::last_ack: return "LAST-ACK";
    case tcp_state::time_wait: return "TIME-WAIT";
  }
  return "?";
}

std::optional<tcp_state> parse_tcp_state(std::string_view text) {
  std::string norm;
  for (char c : text) {
    norm.push_back(c == '_' ? '-' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (norm == "SYN-RECV") return tcp_state::syn_received;  // netstat / ss spelling
  if (norm == "ESTAB") return tcp_state::established;
  for (std::size_t i = 0; i < tcp_state_count; ++i) {
    auto s = static_cast<tcp_state>(i);
    if (to_string(s) == norm) return s;
  }
  return std::nullopt;
}

bool is_synchronized(tcp_state s) {
  switch (s) {
    case tcp_state::closed:
    case tcp_state::listen:
    case tcp_state::syn_sent:
    case tcp_state::syn_received:
      return false;
    case tcp_state::established:
    case tcp_state::fin_wait_1:
    case tcp_state::fin_wait_2:
    case tcp_state::close_wait:
    case tcp_state::closing:
    case tcp_state::last_ack:
    case tcp_state::time_wait:
      return true;
  }
  return false;
}

bool is_legal_transition(tcp_state from, tcp_state to) {
  using s = tcp_state;
  if (to == s::closed) return true;  // RST, abort, timeouts and CLOSE reach CLOSED from anywhere
  switch (from) {
    case s::closed: return to == s::listen || to == s::syn_sent;
    case s::listen: return to == s::syn_received || to == s::syn_sent;
    case s::syn_sent: return to == s::syn_received || to == s::established;
    case s::syn_received: return to == s::established || to == s::fin_wait_1 || to == s::listen;
    case s::established: return to == s::fin_wait_1 || to == s::close_wait;
    case s::fin_wait_1: return to == s::fin_wait_2 || to == s::closing || to == s::time_wait;
    case s::fin_wait_2: return to == s::time_wait;
    case s::close_wait: return to == s::last_ack;
    case s::closing: return to == s::time_wait;
    case s::last_ack: return false;
    case s::time_wait: return false;
  }
  return false;
}

}  // namespace synack
