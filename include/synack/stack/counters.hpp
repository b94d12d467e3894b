#pragma once
// MIB-style counters (RFC 1213 / RFC 4022 names) and a drop counter per reason: every dropped
// packet lands in exactly one named bucket (DESIGN.md §2 error channel (a)).
#include <array>
#include <cstdint>
#include <string_view>

#include "synack/tcp/connection.hpp"
#include "synack/wire/error.hpp"

namespace synack {

enum class host_drop : std::uint8_t {
  not_for_us,            // destination is not this host
  bad_source,            // source is multicast, limited broadcast or unspecified (either family)
  martian_loopback,      // source in 127.0.0.0/8 (RFC 1122 §3.2.1.3 (g)) or ::1, arriving from a link
  martian_own_address,   // source is this host's own address (LAND: src = dst)
  martian_broadcast,     // source is the directed broadcast of this host's prefix
  martian_class_e,       // source in 240.0.0.0/4 (reserved, RFC 1112 §4)
  martian_v4_mapped,     // IPv6 source ::ffff:a.b.c.d (RFC 4291 §2.5.5.2: never on the wire)
  zero_hop_limit,        // IPv6 hop limit 0: no router forwards it, so it was forged
  unsupported_protocol,  // neither TCP, UDP nor ICMP
  listen_overflow,       // accept queue full: SYN dropped (ListenOverflows)
  syn_queue_full,        // half-open (SYN-RECEIVED) queue full: SYN dropped
  syn_pending_full,      // a deferring listener's held SYNs at their bound: SYN dropped
  too_many_connections,  // the connection table is full
  reply_queue_full,      // no room to queue a RST / ACK / echo reply
  icmp_unmatched,        // ICMP error quoting no connection, or out of window (RFC 5927)
  icmp_ignored,          // ICMP type we do not act on
  udp_no_port,           // UDP datagram nobody takes (answered with ICMP port unreachable)
  udp_zero_checksum,     // UDP over IPv6 without a checksum (RFC 8200 §8.1: MUST be dropped)
  count_
};
inline constexpr std::size_t host_drop_count = static_cast<std::size_t>(host_drop::count_);
[[nodiscard]] std::string_view to_string(host_drop d);

// The memory budget's counters (host_counters::memory) by name, in one order: what `synack
// stat` prints ("memory_" + name in JSON) and tests read.
struct named_counter {
  std::string_view name;
  std::uint64_t value = 0;
};
inline constexpr std::size_t memory_counter_count = 8;
[[nodiscard]] std::array<named_counter, memory_counter_count> memory_counters(const memory_stats& m);

struct host_counters {
  // RFC 1213 tcp group.
  std::uint64_t active_opens = 0;   // CLOSED -> SYN-SENT
  std::uint64_t passive_opens = 0;  // LISTEN -> SYN-RECEIVED
  std::uint64_t attempt_fails = 0;  // SYN-SENT/SYN-RECEIVED -> CLOSED
  std::uint64_t estab_resets = 0;   // ESTABLISHED/CLOSE-WAIT -> CLOSED directly
  std::uint64_t curr_estab = 0;     // now in ESTABLISHED or CLOSE-WAIT
  std::uint64_t in_segs = 0;        // TCP segments received, errors included
  std::uint64_t out_segs = 0;       // sent, excluding retransmissions
  std::uint64_t retrans_segs = 0;
  std::uint64_t in_errs = 0;        // TCP segments with a header or checksum error
  std::uint64_t out_rsts = 0;       // segments sent with RST
  // Linux-style listener counters.
  // ListenOverflows: a SYN or a completing handshake met a full accept queue. ListenDrops:
  // every SYN or handshake a listener dropped (overflows included, so >= ListenOverflows).
  std::uint64_t listen_overflows = 0;
  std::uint64_t listen_drops = 0;
  // SYN cookies (RFC 4987 §3.6; Linux SyncookiesSent/Recv/Failed): cookie SYN-ACKs sent,
  // cookie ACKs that made a connection, ACKs to a listener whose cookie did not check out.
  std::uint64_t syncookies_sent = 0;
  std::uint64_t syncookies_recv = 0;
  std::uint64_t syncookies_failed = 0;
  // Deferred SYN answers (any_address_options::defer_syn): SYNs held for the application,
  // retransmissions of held ones absorbed, and how each ended: accepted (SYN-ACK), refused
  // (RST|ACK), unreachable (ICMP destination unreachable), expired unanswered, withdrawn by the
  // client's RST (at exactly SYN.SEQ + 1, RFC 5961 §3); SYNs dropped because the pending set
  // was full (also host_drop::syn_pending_full).
  std::uint64_t syn_deferred = 0;
  std::uint64_t syn_deferred_retransmits = 0;
  std::uint64_t syn_deferred_accepted = 0;
  std::uint64_t syn_deferred_refused = 0;
  std::uint64_t syn_deferred_unreachable = 0;
  std::uint64_t syn_deferred_expired = 0;
  std::uint64_t syn_deferred_reset = 0;
  std::uint64_t syn_deferred_overflow = 0;
  // IP / ICMP.
  // RFC 7413 Fast Open (Linux's TCPFastOpen* names). Server: SYNs whose valid cookie's data was
  // taken (Passive), with a cookie that did not check out (PassiveFail: data ignored, a fresh
  // cookie sent), cookie requests answered (CookieReqd), valid cookies answered as ordinary
  // SYNs because the listener's TFO queue was full (ListenOverflow). Client: SYN data the
  // SYN-ACK acknowledged (Active) or did not (ActiveFail: sent again).
  std::uint64_t fast_open_passive = 0;
  std::uint64_t fast_open_passive_fail = 0;
  std::uint64_t fast_open_cookie_reqd = 0;
  std::uint64_t fast_open_listen_overflow = 0;
  std::uint64_t fast_open_active = 0;
  std::uint64_t fast_open_active_fail = 0;
  std::uint64_t ip_in_receives = 0;
  // Packets taken in without a drop: segments a TCB, TIME-WAIT record or listener accepted,
  // echo requests answered, ICMP errors matched. Every packet counted in ip_in_receives lands
  // either here or in exactly one drop bucket:
  //   ip_in_receives == in_accepted + total_drops() - host(reply_queue_full)
  // (reply_queue_full counts a reply we could not queue, on top of its input's own bucket).
  std::uint64_t in_accepted = 0;
  std::uint64_t ip_out_requests = 0;
  std::uint64_t icmp_in_echos = 0;
  std::uint64_t icmp_out_echo_reps = 0;
  // ICMP errors sent (ICMPv6 Parameter Problem, port unreachable of either family), and those
  // not sent for the rate (RFC 4443 §2.4 (f), RFC 1812 §4.3.2.8; a token bucket per family).
  std::uint64_t icmp_out_errors = 0;
  std::uint64_t icmp_errors_rate_limited = 0;
  std::uint64_t icmp_in_errors_matched = 0;
  // What the matched errors did (RFC 9293 §3.9.2.2, RFC 1191); they sum to the above.
  std::uint64_t icmp_soft_errors = 0;     // remembered on the connection (MUST-56: no abort)
  std::uint64_t icmp_hard_aborts = 0;     // hard error: SYN-SENT / SYN-RECEIVED aborted
  std::uint64_t pmtu_reductions = 0;      // Fragmentation Needed lowered a send MSS
  std::uint64_t icmp_errors_ignored = 0;  // Fragmentation Needed that lowered nothing
  // UDP (RFC 4113 names). A datagram received lands in exactly one of: in_datagrams
  // (delivered), no_ports (host_drop::udp_no_port), in_errors (a length or checksum error,
  // also counted in its drop_wire bucket, or host_drop::udp_zero_checksum).
  std::uint64_t udp_in_datagrams = 0;
  std::uint64_t udp_no_ports = 0;
  std::uint64_t udp_in_errors = 0;
  std::uint64_t udp_out_datagrams = 0;
  // TIME-WAIT table.
  std::uint64_t time_wait_recycled = 0;  // oldest record evicted because the table was full
  std::uint64_t challenge_acks_suppressed = 0;
  // RFC 9293 §3.8.3 (MUST-20): a connection retransmitted one segment R1 times without an
  // answer and gave the IP layer negative advice about the path to its peer.
  std::uint64_t r1_negative_advice = 0;
  // The memory budget's rules (tcp/memory_budget.hpp, host_config::memory): pressure entered,
  // out-of-order octets pruned, sends refused, windows clamped, storage released, zero-window
  // holders and orphans reset. Out-of-order segments dropped for memory are drop_tcp's
  // ooo_memory.
  memory_stats memory;

  std::array<std::uint64_t, static_cast<std::size_t>(wire_error::count_)> drop_wire{};
  std::array<std::uint64_t, static_cast<std::size_t>(rx_verdict::count_)> drop_tcp{};
  std::array<std::uint64_t, host_drop_count> drop_host{};

  [[nodiscard]] std::uint64_t& wire(wire_error e) { return drop_wire[static_cast<std::size_t>(e)]; }
  [[nodiscard]] std::uint64_t& tcp(rx_verdict v) { return drop_tcp[static_cast<std::size_t>(v)]; }
  [[nodiscard]] std::uint64_t& host(host_drop d) { return drop_host[static_cast<std::size_t>(d)]; }
  [[nodiscard]] std::uint64_t wire(wire_error e) const { return drop_wire[static_cast<std::size_t>(e)]; }
  [[nodiscard]] std::uint64_t tcp(rx_verdict v) const { return drop_tcp[static_cast<std::size_t>(v)]; }
  [[nodiscard]] std::uint64_t host(host_drop d) const { return drop_host[static_cast<std::size_t>(d)]; }
  [[nodiscard]] std::uint64_t total_drops() const;
};

}  // namespace synack
