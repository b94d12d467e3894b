#pragma once
// A 20-octet IPv4 header (DF, TTL 64, no options) in front of a payload, with `padding` zero
// octets after the datagram (link padding the total length does not count); ip6_packet, the
// 40-octet IPv6 header without extension headers.
#include <algorithm>
#include <vector>

#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"

namespace synack::fuzz {

inline std::vector<std::byte> ip_packet(ipv4_addr src, ipv4_addr dst, ip_proto proto, bytes payload,
                                        std::size_t padding = 0) {
  std::vector<std::byte> p(ipv4_repr::buffer_len() + payload.size() + padding);
  ipv4_repr ip;
  ip.src = src;
  ip.dst = dst;
  ip.protocol = proto;
  ip.payload_len = static_cast<std::uint16_t>(payload.size());
  ip.emit(p);
  std::ranges::copy(payload, p.begin() + ipv4_repr::buffer_len());
  return p;
}

inline std::vector<std::byte> ip6_packet(const ipv6_addr& src, const ipv6_addr& dst, std::uint8_t next_header,
                                         bytes payload) {
  std::vector<std::byte> p(ipv6_repr::buffer_len() + payload.size());
  const ipv6_repr ip{.src = src, .dst = dst, .next_header = next_header,
                     .payload_len = static_cast<std::uint16_t>(payload.size())};
  ip.emit(p);
  std::ranges::copy(payload, p.begin() + ipv6_repr::buffer_len());
  return p;
}

}  // namespace synack::fuzz
