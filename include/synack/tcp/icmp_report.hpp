#pragma once
// An ICMP error the stack has matched to a connection (RFC 9293 §3.9.2.2, RFC 5927 §4.1), as
// the connection sees it: the message's type and code, and for Fragmentation Needed the
// next-hop MTU (RFC 1191 §4) and the length of the quoted datagram (for the plateau table).
// No errno here: posix/ maps type and code to one, as Linux's icmp_err_convert does.
#include <cstdint>

namespace synack {

struct icmp_report {
  std::uint8_t type = 3;  // 3 destination unreachable, 11 time exceeded
  std::uint8_t code = 0;
  std::uint16_t next_hop_mtu = 0;  // type 3 code 4 only; 0 from a pre-RFC 1191 router
  std::uint16_t quoted_len = 0;    // IPv4 total length of the quoted datagram
  friend bool operator==(const icmp_report&, const icmp_report&) = default;
};

// How an ICMP error was classified (RFC 1122 §4.2.3.9, RFC 9293 §3.9.2.2).
enum class icmp_class : std::uint8_t {
  soft,          // unreachable 0,1,5 and the other non-hard codes, time exceeded (MUST-56)
  hard,          // unreachable 2 (protocol), 3 (port), 9, 10, 13 (administratively prohibited)
  frag_needed,   // unreachable 4 (RFC 1191 path MTU discovery)
};

// What the connection did with it, for the stack's counters.
enum class icmp_action : std::uint8_t {
  soft_recorded,  // remembered; reported only if the connection later times out
  aborted,        // a hard error in SYN-SENT: the connection is CLOSED (close_reason::refused)
  mss_lowered,    // PMTU: the send MSS went down and unacknowledged data goes again
  ignored,        // e.g. Fragmentation Needed that would not lower the MSS, or on a SYN
};

[[nodiscard]] constexpr icmp_class classify(const icmp_report& r) {
  if (r.type != 3) return icmp_class::soft;  // time exceeded (and parameter problem)
  switch (r.code) {
    case 2:
    case 3:
    case 9:
    case 10:
    case 13:
      return icmp_class::hard;
    case 4:
      return icmp_class::frag_needed;
    default:
      return icmp_class::soft;
  }
}

// RFC 1191 §7 table 7-1: the MTU plateaus, for a Fragmentation Needed with a next-hop MTU of 0.
// The estimate is the largest plateau below the quoted datagram's total length.
[[nodiscard]] constexpr std::uint16_t mtu_plateau_below(std::uint16_t len) {
  constexpr std::uint16_t plateaus[] = {65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68};
  for (std::uint16_t p : plateaus) {
    if (p < len) return p;
  }
  return 68;
}

// RFC 791 / RFC 1191 §3: every IPv4 link carries at least 68 octets.
inline constexpr std::uint16_t min_ipv4_mtu = 68;
// RFC 8200 §5: every IPv6 link carries at least 1280 octets.
inline constexpr std::uint16_t min_ipv6_mtu = 1280;

// An ICMPv6 error (RFC 4443) as the IPv4 report with the same meaning, so that a connection and
// posix/ treat both families alike (Linux's icmpv6_err_convert): Packet Too Big is
// Fragmentation Needed (its MTU, at most 65535); unreachable "administratively prohibited",
// "source address failed policy" and "reject route" (1, 5, 6) are a hard "communication
// administratively prohibited" (13); "port unreachable" (4) a hard port unreachable (3); "no
// route", "beyond scope" and "address unreachable" (0, 2, 3) a soft host unreachable (1); time
// exceeded is time exceeded; parameter problem is IPv4's parameter problem (12, soft).
[[nodiscard]] constexpr icmp_report icmp_report_from_v6(std::uint8_t type, std::uint8_t code, std::uint32_t mtu,
                                                        std::uint32_t quoted_len) {
  const auto qlen = static_cast<std::uint16_t>(quoted_len > 0xFFFF ? 0xFFFF : quoted_len);
  switch (type) {
    case 1:  // destination unreachable
      switch (code) {
        case 1:
        case 5:
        case 6:
          return icmp_report{3, 13, 0, qlen};
        case 4:
          return icmp_report{3, 3, 0, qlen};
        default:
          return icmp_report{3, 1, 0, qlen};
      }
    case 2:  // packet too big
      return icmp_report{3, 4, static_cast<std::uint16_t>(mtu > 0xFFFF ? 0xFFFF : mtu), qlen};
    case 3:  // time exceeded
      return icmp_report{11, code, 0, qlen};
    default:  // parameter problem
      return icmp_report{12, code, 0, qlen};
  }
}

}  // namespace synack
