#pragma once
// UDP (RFC 768) over IPv4 and IPv6: the 8-octet header, the length, and the checksum over each
// family's pseudo-header (RFC 768; RFC 8200 §8.1). The host delivers datagrams to handlers
// (host::bind_udp, host_udp.cpp).
#include <cstdint>

#include "synack/util/result.hpp"
#include "synack/wire/bytes.hpp"
#include "synack/wire/error.hpp"
#include "synack/wire/ipv4_addr.hpp"
#include "synack/wire/ipv6_addr.hpp"

namespace synack {

struct udp_repr {
  static constexpr std::size_t header_len = 8;

  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  bytes payload;  // points into the parsed datagram

  // `datagram` is the IP payload. Its Length field must be at least 8 and at most the
  // datagram's size (bad_total_len); octets past it are link padding and ignored. Over IPv4 a
  // checksum of zero means the sender computed none (RFC 768); any other must verify.
  [[nodiscard]] static result<udp_repr, wire_error> parse(bytes datagram, ipv4_addr src, ipv4_addr dst);
  // Over IPv6 the checksum is mandatory: a zero one is refused (RFC 8200 §8.1, bad_checksum).
  [[nodiscard]] static result<udp_repr, wire_error> parse(bytes datagram, const ipv6_addr& src, const ipv6_addr& dst);
  // The lengths only, for a datagram whose checksum the link vouches for (rx_meta).
  [[nodiscard]] static result<udp_repr, wire_error> parse_trusted(bytes datagram);

  [[nodiscard]] std::size_t buffer_len() const { return header_len + payload.size(); }
  // Writes header, payload and checksum; a checksum that computes to zero is sent as 0xFFFF
  // (RFC 768). Preconditions: out.size() >= buffer_len() <= 65535.
  void emit(mutable_bytes out, ipv4_addr src, ipv4_addr dst) const;
  void emit(mutable_bytes out, const ipv6_addr& src, const ipv6_addr& dst) const;

  friend bool operator==(const udp_repr& a, const udp_repr& b);
};

}  // namespace synack
