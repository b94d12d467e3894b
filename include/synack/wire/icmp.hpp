#pragma once
// ICMPv4 (RFC 792): echo request/reply, destination unreachable (with the quoted header used
// by RFC 9293 §3.9 / RFC 5927 checks), time exceeded; any other type kept as type/code/bytes.
#include <cstdint>
#include <optional>

#include "synack/util/result.hpp"
#include "synack/wire/bytes.hpp"
#include "synack/wire/error.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/seq.hpp"

namespace synack {

enum class icmp_type : std::uint8_t {  // open enum: other values are valid
  echo_reply = 0,
  dest_unreachable = 3,
  echo_request = 8,
  time_exceeded = 11,
};

namespace icmp_unreach_code {
inline constexpr std::uint8_t net = 0;
inline constexpr std::uint8_t host = 1;
inline constexpr std::uint8_t protocol = 2;
inline constexpr std::uint8_t port = 3;
inline constexpr std::uint8_t frag_needed = 4;
inline constexpr std::uint8_t source_route_failed = 5;
inline constexpr std::uint8_t admin_prohibited = 13;  // RFC 1812 §5.2.7.1: communication administratively prohibited
}  // namespace icmp_unreach_code

// What an ICMP error quotes of the offending datagram: its IPv4 header and the first 8 octets
// of its payload, which for TCP are the ports and the sequence number.
struct icmp_quote {
  ipv4_addr src;
  ipv4_addr dst;
  ip_proto protocol = ip_proto::tcp;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  seq_num seq;  // meaningful for TCP
  friend bool operator==(const icmp_quote&, const icmp_quote&) = default;
};

struct icmpv4_repr {
  icmp_type type = icmp_type::echo_request;
  std::uint8_t code = 0;
  std::uint16_t ident = 0;         // echo request/reply
  std::uint16_t seq_no = 0;        // echo request/reply
  std::uint16_t next_hop_mtu = 0;  // destination unreachable, code frag_needed (RFC 1191)
  std::uint32_t rest = 0;          // bytes 4..7 for other types, kept verbatim
  bytes data;                      // echo payload, or the quoted datagram for errors

  // Checks length (>= 8) and checksum; for dest_unreachable and time_exceeded also that the
  // quote holds an IPv4 header plus 8 octets (bad_icmp otherwise).
  [[nodiscard]] static result<icmpv4_repr, wire_error> parse(bytes message);
  [[nodiscard]] std::size_t buffer_len() const { return 8 + data.size(); }
  void emit(mutable_bytes out) const;
  // The quoted datagram of an error message; nullopt for other types.
  [[nodiscard]] std::optional<icmp_quote> quote() const;
  [[nodiscard]] bool is_error() const {
    return type == icmp_type::dest_unreachable || type == icmp_type::time_exceeded;
  }

  friend bool operator==(const icmpv4_repr& a, const icmpv4_repr& b);
};

}  // namespace synack
