#pragma once
// ICMPv6 (RFC 4443): the error messages (destination unreachable, packet too big, time
// exceeded, parameter problem) with the quoted IPv6 packet, and echo request/reply. The
// checksum covers the IPv6 pseudo-header (RFC 4443 §2.3), so parse and emit take the addresses.
#include <cstdint>
#include <optional>

#include "synack/util/result.hpp"
#include "synack/wire/bytes.hpp"
#include "synack/wire/error.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/seq.hpp"

namespace synack {

enum class icmpv6_type : std::uint8_t {  // open enum: other values are valid
  dest_unreachable = 1,
  packet_too_big = 2,
  time_exceeded = 3,
  param_problem = 4,
  echo_request = 128,
  echo_reply = 129,
};

// Destination Unreachable codes (RFC 4443 §3.1).
namespace icmpv6_unreach_code {
inline constexpr std::uint8_t no_route = 0;
inline constexpr std::uint8_t prohibited = 1;
inline constexpr std::uint8_t address = 3;
inline constexpr std::uint8_t port = 4;
}  // namespace icmpv6_unreach_code

// What an ICMPv6 error quotes of the offending packet (as much of it as fits in the minimum
// MTU; RFC 4443 §2.4 (c)): its fixed header and, when the walk reaches TCP within the quote,
// the ports and the sequence number.
struct icmpv6_quote {
  ipv6_addr src;
  ipv6_addr dst;
  std::uint8_t next_header = ipv6_next::tcp;  // of the fixed header
  std::optional<std::uint8_t> upper;          // the upper-layer protocol, if the walk got there
  std::uint16_t src_port = 0;                 // TCP/UDP, when at least 8 octets of it are quoted
  std::uint16_t dst_port = 0;
  seq_num seq;                                // TCP only
  friend bool operator==(const icmpv6_quote&, const icmpv6_quote&) = default;
};

struct icmpv6_repr {
  icmpv6_type type = icmpv6_type::echo_request;
  std::uint8_t code = 0;
  std::uint16_t ident = 0;   // echo request/reply
  std::uint16_t seq_no = 0;  // echo request/reply
  std::uint32_t mtu = 0;     // packet too big
  std::uint32_t pointer = 0; // parameter problem
  std::uint32_t rest = 0;    // bytes 4..7 of other types, kept verbatim
  bytes data;                // echo payload, or the quoted packet of an error

  // Checks length (>= 8) and the checksum over the pseudo-header of src/dst; for the four
  // error types also that the quote holds at least an IPv6 fixed header (bad_icmp otherwise).
  [[nodiscard]] static result<icmpv6_repr, wire_error> parse(bytes message, const ipv6_addr& src,
                                                             const ipv6_addr& dst);
  [[nodiscard]] std::size_t buffer_len() const { return 8 + data.size(); }
  // Writes the message with its checksum. Precondition: out.size() >= buffer_len().
  void emit(mutable_bytes out, const ipv6_addr& src, const ipv6_addr& dst) const;
  [[nodiscard]] bool is_error() const { return static_cast<std::uint8_t>(type) < 128; }
  // The quoted packet of an error message; nullopt for other types.
  [[nodiscard]] std::optional<icmpv6_quote> quote() const;

  friend bool operator==(const icmpv6_repr& a, const icmpv6_repr& b);
};

}  // namespace synack
