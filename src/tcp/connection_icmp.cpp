// ICMP errors on a connection (RFC 9293 §3.9.2.2, RFC 1122 §4.2.3.9, RFC 5927, RFC 1191).
// The stack has already matched the message to this connection: the quoted 4-tuple is ours
// and the quoted sequence number lies in SND.UNA..SND.MAX (RFC 5927 §4.1).
#include <algorithm>

#include "synack/tcp/connection.hpp"

namespace synack {

icmp_action connection::on_icmp_error(instant now, const icmp_report& r) {
  switch (classify(r)) {
    case icmp_class::soft:
      break;
    case icmp_class::hard:
      // RFC 9293 §3.9.2.2 (SHLD-26): hard errors abort. We abort only a connection that is
      // not yet synchronized, as Linux does (tcp_v4_err): the peer's port or protocol is not
      // there, so the SYN will never be answered. ECONNREFUSED for port unreachable.
      if (state_ == tcp_state::syn_sent || state_ == tcp_state::syn_received) {
        hard_error_ = r;
        enter_closed(close_reason::refused);
        return icmp_action::aborted;
      }
      // DEVIATION: SHLD-26 in synchronized states. Like Linux (RFC 5461 §4: such errors are
      // forged or transient often enough), an established connection keeps trying and the
      // error is reported only if it then times out.
      break;
    case icmp_class::frag_needed:
      return on_frag_needed(now, r);
  }
  // MUST-56: a soft error never aborts; SHLD-25: the application learns of it, here when the
  // connection times out (the reason posix/ reports instead of ETIMEDOUT, as Linux does).
  soft_error_ = r;
  soft_error_una_ = snd_.una;
  return icmp_action::soft_recorded;
}

// RFC 1191 §6.3: Fragmentation Needed lowers the effective send MSS to the next-hop MTU less
// the IPv4 and TCP headers (never below tcp_config::min_pmtu, 552 as Linux) and what was lost
// to the too-big datagram goes again, resegmented — at most an initial window at once, then
// clocked by ACKs (snd_.rec.pmtu_burst), so a forged message cannot turn a large flight into a flood
// of small segments. It never raises the MSS: only the pmtu_raise timer does,
// `pmtu_raise_after` past the last reduction.
// The send MSS a Fragmentation Needed / Packet Too Big allows: the next-hop MTU, not below the
// floor, less the fixed headers. RFC 1191 §5: a router from before RFC 1191 quotes an MTU of
// 0; guess the next plateau below the datagram it could not forward. Over IPv6 (a Packet Too
// Big, RFC 8201 §4) the floor is 1280 and the fixed headers 60 octets.
std::uint16_t connection::path_mss_of(const icmp_report& r) const {
  const bool v6 = tuple_.remote_addr.is_v6();
  const std::uint16_t floor = v6 ? std::max(cfg_->min_pmtu_v6, min_ipv6_mtu) : std::max(cfg_->min_pmtu, min_ipv4_mtu);
  const std::uint16_t mtu = std::max(r.next_hop_mtu != 0 ? r.next_hop_mtu : mtu_plateau_below(r.quoted_len), floor);
  return static_cast<std::uint16_t>(mtu - (v6 ? 60 : 40));
}

icmp_action connection::on_frag_needed(instant now, const icmp_report& r) {
  // RFC 7413 §4.2.1: a Fast Open SYN with data may well be too big: it goes again at once
  // without the data (fast_open_syn_too_big).
  if (state_ == tcp_state::syn_sent && fast_open_syn_too_big(r)) return icmp_action::mss_lowered;
  // A SYN or SYN-ACK (at most 60 octets with every option) fits the 68-octet minimum MTU, so
  // a Fragmentation Needed quoting one is stale or forged; the MSS is not settled yet anyway.
  if (!is_synchronized(state_) || state_ == tcp_state::time_wait) return icmp_action::ignored;
  const std::uint16_t mss = path_mss_of(r);
  if (mss >= snd_.mss) return icmp_action::ignored;
  snd_.mss = mss;
  snd_.rec.cc->set_mss(mss);  // RFC 5681 / RFC 6675 SMSS follows the path
  snd_.rec.sb.set_smss(mss);
  snd_.rec.rk.set_smss(mss);
  ++pmtu_reductions_;
  // RFC 8201 §4: no attempt at a larger size sooner than 5 minutes after the last Packet Too
  // Big; RFC 1191 §6.3 recommends 10. Each reduction starts the wait again.
  timers_.set(timer_kind::pmtu_raise, now + cfg_->pmtu_raise_after);
  if (snd_.una != snd_.max) {
    // The datagram was dropped by the router: go back to SND.UNA and send again in segments
    // of the new size (Linux tcp_simple_retransmit). Not a congestion signal, so the window and
    // the RTO are left alone; Karn's rule still bars an RTT sample from what goes again.
    snd_.nxt = snd_.una;
    snd_.rtt_probe.reset();
    snd_.rec.pmtu_burst = std::max<std::uint32_t>(snd_.rec.cc->initial_window() / mss * mss, mss);
    snd_.rec.pmtu_sent = 0;
    // A retransmission owed from before (fast retransmit, a partial ACK) is part of what goes
    // again from SND.UNA.
    snd_.rec.rtx.reset();
  }
  return icmp_action::mss_lowered;
}

std::uint16_t connection::full_send_mss() const {
  // At least 64 whatever the peer says; at most ours, which a 68-octet link makes 28.
  return static_cast<std::uint16_t>(std::min<unsigned>(std::max<unsigned>(peer_mss_, 64u), cfg_->mss));
}

// RFC 1191 §6.3: when the timer runs out the estimate goes back to the first hop's — here
// the MSS the handshake settled on (the peer's, within our link's) — and new segments go out
// at that size. If the path is still narrow a router answers one of them with Fragmentation
// Needed and on_frag_needed lowers it again (and resends). Nothing is resent here: what is in
// flight was sent at the smaller size and is fine.
void connection::on_pmtu_raise_timeout() {
  timers_.clear(timer_kind::pmtu_raise);
  if (!is_synchronized(state_) || state_ == tcp_state::time_wait) return;
  const std::uint16_t full = full_send_mss();
  if (full <= snd_.mss) return;
  snd_.mss = full;
  snd_.rec.cc->set_mss(full);
  snd_.rec.sb.set_smss(full);
  snd_.rec.rk.set_smss(full);
  ++pmtu_raises_;
}

}  // namespace synack
