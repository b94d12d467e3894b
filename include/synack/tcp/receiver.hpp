#pragma once
// The receiving half of a TCB (as gVisor's receiver): the RFC 9293 §3.3.1 receive variables,
// the receive buffer with its reassembler, urgent and FIN state, and ACK scheduling (delayed
// ACK, quick-ACK, SHLD-19 ACK points, the D-SACK to report). Plain data owned by `connection`;
// the rules are in connection_input.cpp and connection.cpp. Sans-IO.
#include <array>
#include <cstdint>
#include <optional>

#include "synack/tcp/config.hpp"
#include "synack/tcp/reassembler.hpp"
#include "synack/tcp/ring_buffer.hpp"
#include "synack/util/time.hpp"
#include "synack/wire/seq.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {

// The TCB receive variables of RFC 9293 §3.3.1, named as there.
struct recv_vars {
  seq_num nxt;
  std::uint32_t wnd = 0;
  seq_num irs;
  std::uint8_t wscale = 0;  // shift we apply to the window field we send
};

struct receiver : recv_vars {
  explicit receiver(const tcp_config& cfg) : buf(cfg.recv_buffer), reasm(cfg.max_ooo_ranges) {}

  ring_buffer buf;  // in-order bytes not yet read by the user (and held SYN text beyond them)
  reassembler reasm;  // out-of-order ranges past RCV.NXT and their bytes
  // Text of a simultaneous-open SYN (RFC 9293 §3.10.7.3), placed in buf at RCV.NXT but not
  // yet content: it becomes readable when SYN-RECEIVED reaches ESTABLISHED.
  std::uint32_t syn_text = 0;
  std::optional<seq_num> up;  // RCV.UP, once the peer sent URG
  bool fin_received = false;  // the peer's FIN was accepted
  // The right edge of the window last sent (RCV.NXT + RCV.WND then): under host memory
  // pressure the window is not opened further, and never shrunk below it (SHLD-14).
  seq_num adv_edge;
  bool adv_set = false;

  // ACK scheduling.
  bool ack_now = false;                   // an ACK is owed
  std::optional<sack_block> dsack;        // RFC 2883: a duplicate the next ACK reports first
  std::uint8_t unacked_segments = 0;      // in-order data segments not yet ACKed (delayed ACK)
  std::uint8_t quickack_left = 0;         // segments still ACKed at once (tcp_config::quickack)
  std::optional<instant> last_data_at;    // when in-order data last arrived (quick-ACK mode)
  std::uint32_t segments = 1;             // received segments the one being processed stands for
  // RFC 9293 §3.8.6.3 (SHLD-19): an ACK for at least every second full-sized segment, even when
  // several arrive before the next poll_transmit (a batch from the link). Each pair completed
  // in a batch leaves its RCV.NXT here; the bare ACKs go out in order, each a cumulative ACK
  // further than the last, so the sender's ACK clock keeps ticking (no stretch ACK).
  std::array<seq_num, 16> ack_points{};
  std::uint8_t ack_points_len = 0;
};

}  // namespace synack
