// RFC 3168 Explicit Congestion Notification: the marks of our SYNs (§6.1.1), the receiver's
// echo of a CE mark (§6.1.3), the sender's response to an echo (§6.1.2) and the ECN marks of
// new data. Negotiation itself is negotiate()'s (negotiation.hpp), on every path that opens a
// connection; a connection rebuilt from a SYN cookie goes without ECN (the cookie has no bit
// for it, and its SYN-ACK did not offer it).
#include "synack/tcp/connection.hpp"

namespace synack {

// §6.1.1: our SYN is ECN-setup (ECE and CWR) when ECN is on; our SYN-ACK answers an
// ECN-setup SYN we accepted with ECE alone. Both go Not-ECT (the host marks only what
// tcp_transmit::ect names).
void connection::ecn_mark_syn(tcp_repr& hdr) const {
  if (state_ == tcp_state::syn_sent) {
    if (cfg_->ecn == ecn_mode::on) hdr.flags |= tcp_flag::ece | tcp_flag::cwr;
  } else if (ecn_.ok) {
    hdr.flags |= tcp_flag::ece;
  }
}

// §6.1.3: a CE mark on a data segment is echoed with ECE on every ACK from now on, until a
// segment with CWR says the sender reduced its window ("After the receipt of the CWR packet,
// acknowledgments for subsequent non-CE data packets do not have the ECN-Echo flag set"); a
// CE mark on the CWR segment itself starts the echo again.
void connection::ecn_on_segment(const tcp_repr& seg) {
  if (!ecn_.ok) return;
  if ((seg.flags & tcp_flag::cwr) != 0) ecn_.echo = false;
  if (ecn_.rx == ecn_codepoint::ce && !seg.payload.empty()) {
    ++ecn_.ce_received;
    ecn_.echo = true;
  }
}

// §6.1.2: an ACK with ECE halves the window as a loss would (the congestion controller's own
// reduction), without a retransmission; at most once per window of data — not until an ACK
// passes what had been sent at the last reduction, by ECE or by a loss — and not during fast
// recovery, which has reduced for this window already. CWR goes on the next new segment.
void connection::ecn_on_ack(instant now, const tcp_repr& seg) {
  if (!ecn_.ok || (seg.flags & tcp_flag::ece) == 0 || !seg.ack) return;
  ++ecn_.ece_received;
  congestion_control& cc = *snd_.rec.cc;
  const seq_num ack = *seg.ack;
  if (cc.in_recovery()) return;
  // RFC 6582's `recover` is SND.MAX - 1 as the loss was found: the window it reduced for ends
  // at SND.MAX then, and the ACKs of it may still carry the echo of a mark from before.
  if (const auto r = cc.recover(); r && !ack.after(*r + seq_len{1})) return;
  if (ecn_.reduced_at && !ack.after(*ecn_.reduced_at)) return;
  ecn_.reduced_at = snd_.max;
  cc.on_ecn_echo(now, distance(snd_.una, snd_.max).n);
  ++ecn_.reductions;
  ecn_.cwr_due = true;
}

// A new data segment once ECN is negotiated goes as ECT(0) (§6.1.5, §6.1.6: never a
// retransmission, a pure ACK or a window probe: the caller decides `ect`). The first after a
// window reduction — by ECE, or "for any reason" (§6.1.2): a fast retransmit or a timeout,
// seen as a new `recover` — carries CWR.
void connection::ecn_mark_data(tcp_repr& hdr, bool ect) {
  if (!ect) return;
  last_tx_.ect = true;
  if (const auto r = snd_.rec.cc->recover(); r != ecn_.loss_recover) {
    ecn_.loss_recover = r;
    ecn_.cwr_due = true;
  }
  if (ecn_.cwr_due) {
    hdr.flags |= tcp_flag::cwr;
    ecn_.cwr_due = false;
  }
}

}  // namespace synack
