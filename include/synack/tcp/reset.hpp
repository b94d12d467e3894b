#pragma once
#include <optional>

#include "synack/wire/tcp.hpp"

namespace synack {

// RFC 9293 §3.10.7.1 (CLOSED): the reset that answers a segment for which no TCB exists.
// An incoming RST is never answered. If the segment had no ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
// <CTL=RST,ACK>; otherwise <SEQ=SEG.ACK><CTL=RST>. Ports are swapped; window 0.
[[nodiscard]] std::optional<tcp_repr> reset_for_closed(const tcp_repr& seg);

}  // namespace synack
