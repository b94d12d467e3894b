#pragma once
// TIME-WAIT as a compact record (DESIGN.md §2 "Memory"): what remains of a connection after
// both FINs were exchanged and the TCB is freed — the 4-tuple, the final sequence numbers and
// the expiry, about 48 bytes instead of a full TCB. The full TCB in TIME-WAIT and the stack's
// record run the same rules, below.
#include <cstdint>

#include "synack/tcp/challenge_limiter.hpp"
#include "synack/tcp/config.hpp"
#include "synack/tcp/four_tuple.hpp"
#include "synack/util/time.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {

enum class time_wait_action : std::uint8_t {
  ignore,           // nothing to do (e.g. RST under RFC 1337, a duplicate of the last ACK)
  ack,              // answer <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
  ack_suppressed,   // an ACK was owed, but the challenge-ACK rate limit (RFC 5961 §7) held it
  ack_and_restart,  // a retransmitted FIN: ACK it and restart the 2 x MSL timer
  close,            // an acceptable RST with RFC 1337 protection off: go to CLOSED
  reset,            // tcp_config::rfc5961_syn off (RFC 793, opt-in): a SYN at RCV.NXT that
                    // may not reopen: send reset_segment() and go to CLOSED
  reopen,           // a new SYN may start a new incarnation (RFC 1122 §4.2.2.13, RFC 6191 §2:
                    // a newer timestamp, or a sequence number beyond RCV.NXT): close this and
                    // hand it to LISTEN, whose ISS must exceed snd_nxt (RFC 9293 §3.6.1 MAY-2)
};

struct time_wait_record {
  four_tuple tuple;
  seq_num snd_nxt;
  seq_num rcv_nxt;
  std::uint16_t window = 0;  // window field to put in our ACKs
  std::uint32_t rcv_wnd = 0;  // RCV.WND as TIME-WAIT began (what `window` advertises, scaled)
  instant expiry;
  challenge_limiter limiter;
  // RFC 6191 §2: whether the old incarnation used timestamps, and the last TSval it took.
  bool ts_on = false;
  std::uint32_t ts_recent = 0;

  // RFC 9293 §3.10.7.4 in TIME-WAIT, RFC 1337, RFC 5961 §4, RFC 6191 §2.
  [[nodiscard]] time_wait_action on_segment(instant now, const tcp_repr& seg, const tcp_config& cfg);
  // RFC 6191 §2: may this SYN start a new incarnation?
  [[nodiscard]] bool may_reopen(const tcp_repr& syn, const tcp_config& cfg) const;
  // The ACK to send for `ack`/`ack_and_restart` actions.
  [[nodiscard]] tcp_repr ack_segment() const;
  // The RST for the `reset` action: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, window 0.
  [[nodiscard]] tcp_repr reset_segment() const;
};

}  // namespace synack
