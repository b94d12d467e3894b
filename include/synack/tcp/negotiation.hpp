#pragma once
// Option negotiation on the handshake, as one pure function shared by every path that opens
// a connection: a TCB taking a SYN or SYN-ACK (connection::take_peer_options), the SYN-cookie
// SYN-ACK (host_cookie.cpp) and the connection rebuilt from a cookie (open_from_cookie).
//   syn_offer(syn)            what a peer's SYN (or SYN-ACK) offered, of the options that
//                             outlive the handshake, and ECN (RFC 3168 §6.1.1);
//   negotiate(cfg, offer, answer)  what a TCB configured with `cfg` agrees to; `answer`: the
//                             offer is a SYN-ACK answering our SYN (which asked for ECN only
//                             if cfg.ecn is on).
#include <cstdint>
#include <optional>

#include "synack/tcp/config.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {

// The options of a SYN that matter after the handshake; once negotiated, what both sides
// agreed on (a SYN cookie remembers this, syn_cookie.hpp).
struct agreed_options {
  std::uint16_t mss = 536;             // the peer's MSS
  bool timestamps = false;             // TSopt (RFC 7323 §3.2)
  bool sack_permitted = false;         // SACK-permitted (RFC 2018 §2)
  std::optional<std::uint8_t> wscale;  // the peer's window shift as sent (RFC 7323 §2.2)
  bool ecn = false;                    // ECN (RFC 3168 §6.1.1): the SYN was ECN-setup
  friend bool operator==(const agreed_options&, const agreed_options&) = default;
};

[[nodiscard]] inline agreed_options syn_offer(const tcp_options& syn) {
  agreed_options o;
  o.mss = syn.mss.value_or(536);  // RFC 9293 §3.7.1 (MUST-15): 536 unless the SYN says otherwise
  o.timestamps = syn.timestamps.has_value();
  o.sack_permitted = syn.sack_permitted;
  o.wscale = syn.window_scale;
  return o;
}

// RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR; an ECN-setup SYN-ACK carries ECE and
// not CWR (a SYN-ACK with both, or with CWR alone, is not one: §6.1.1's rule against a peer
// that reflects the flags it got).
[[nodiscard]] inline bool ecn_setup(const tcp_repr& syn) {
  const bool ece = (syn.flags & tcp_flag::ece) != 0;
  const bool cwr = (syn.flags & tcp_flag::cwr) != 0;
  return syn.ack ? ece && !cwr : ece && cwr;
}

[[nodiscard]] inline agreed_options syn_offer(const tcp_repr& syn) {
  agreed_options o = syn_offer(syn.options);
  o.ecn = ecn_setup(syn);
  return o;
}

// Each option is on only if both SYNs carry it; ours carry what `cfg` enables (RFC 2018 §2,
// RFC 7323 §2.2 and §3.2). The MSS is the peer's: our own bound is applied when sending.
// ECN (RFC 3168 §6.1.1): an ECN-setup SYN is accepted unless ECN is off; an ECN-setup SYN-ACK
// only if our SYN asked (ecn_mode::on).
[[nodiscard]] inline agreed_options negotiate(const tcp_config& cfg, const agreed_options& peer, bool answer = false) {
  agreed_options o;
  o.mss = peer.mss;
  o.timestamps = cfg.timestamps && peer.timestamps;
  o.sack_permitted = cfg.sack && peer.sack_permitted;
  if (cfg.window_scaling) o.wscale = peer.wscale;
  o.ecn = peer.ecn && (cfg.ecn == ecn_mode::on || (cfg.ecn == ecn_mode::passive && !answer));
  return o;
}

}  // namespace synack
