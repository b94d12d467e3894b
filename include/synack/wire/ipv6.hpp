#pragma once
// The IPv6 header (RFC 8200 §3) and its extension-header chain (§4), sans-IO like ipv4.hpp.
// ipv6_view::parse checks the fixed header against the buffer; walk_extension_headers() then
// follows the chain to the upper-layer header, bounded, and says why a packet must be dropped
// and, where RFC 8200 §4 asks for one, which ICMPv6 Parameter Problem answers it.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "synack/util/result.hpp"
#include "synack/wire/bytes.hpp"
#include "synack/wire/error.hpp"
#include "synack/wire/ipv6_addr.hpp"

namespace synack {

// Next Header values (IANA "Assigned Internet Protocol Numbers") the chain walk knows.
namespace ipv6_next {
inline constexpr std::uint8_t hop_by_hop = 0;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
inline constexpr std::uint8_t routing = 43;
inline constexpr std::uint8_t fragment = 44;
inline constexpr std::uint8_t icmpv6 = 58;
inline constexpr std::uint8_t no_next = 59;
inline constexpr std::uint8_t dest_options = 60;
}  // namespace ipv6_next

class ipv6_view {
 public:
  static constexpr std::size_t header_len = 40;

  // Version 6, and the payload length within the buffer (bytes after it, link padding, are
  // ignored). A payload length of 0 (a jumbogram, RFC 2675) is refused as bad_total_len.
  [[nodiscard]] static result<ipv6_view, wire_error> parse(bytes packet);

  [[nodiscard]] std::uint8_t traffic_class() const {
    return static_cast<std::uint8_t>((load_be16(&b_[0]) >> 4) & 0xFF);
  }
  [[nodiscard]] std::uint32_t flow_label() const { return load_be32(&b_[0]) & 0xFFFFF; }
  [[nodiscard]] std::uint16_t payload_len() const { return load_be16(&b_[4]); }
  [[nodiscard]] std::uint8_t next_header() const { return load_u8(&b_[6]); }
  [[nodiscard]] std::uint8_t hop_limit() const { return load_u8(&b_[7]); }
  [[nodiscard]] ipv6_addr src() const { return addr_at(8); }
  [[nodiscard]] ipv6_addr dst() const { return addr_at(24); }
  // Everything after the fixed header: extension headers, then the upper layer.
  [[nodiscard]] bytes payload() const { return b_.subspan(header_len, payload_len()); }
  [[nodiscard]] bytes packet() const { return b_.first(header_len + payload_len()); }

 private:
  explicit ipv6_view(bytes b) : b_(b) {}
  [[nodiscard]] ipv6_addr addr_at(std::size_t off) const {
    ipv6_addr a;
    for (std::size_t i = 0; i < 16; ++i) a.octets[i] = load_u8(&b_[off + i]);
    return a;
  }
  bytes b_;
};

// Where the chain ends: the upper-layer protocol and its bytes (offset from the start of the
// IPv6 header). `no_next` (59) has an empty payload.
struct ipv6_upper {
  std::uint8_t protocol = ipv6_next::no_next;
  std::size_t offset = ipv6_view::header_len;
  bytes payload;
};

// Why the walk dropped the packet, and the Parameter Problem (RFC 4443 §3.4) RFC 8200 asks to
// send back, if any: code 0 erroneous header field, 1 unrecognised Next Header, 2 unrecognised
// option; `pointer` is the offset of the offending octet from the start of the IPv6 header.
struct ipv6_drop {
  wire_error reason = wire_error::bad_ext_header;
  struct param_problem {
    std::uint8_t code = 0;
    std::uint32_t pointer = 0;
  };
  std::optional<param_problem> problem;
};

// At most this many extension headers are followed (RFC 8200 §4.1 orders at most seven kinds,
// each once but destination options twice); a longer chain is dropped as ext_header_chain.
inline constexpr std::size_t max_extension_headers = 8;

// Walks the chain: hop-by-hop options only first (§4.3), options processed by their action
// bits (§4.2), a routing header with Segments Left > 0 refused (a host does not forward; type
// 0 is deprecated by RFC 5095), an atomic fragment (offset 0, M clear; RFC 6946) passed, any
// other fragment dropped as `fragment` (no reassembly), an unknown Next Header answered with
// code 1. Lengths are checked against the payload at every step.
[[nodiscard]] result<ipv6_upper, ipv6_drop> walk_extension_headers(const ipv6_view& v);

// The meaning of the fixed header. Extension headers are not emitted.
struct ipv6_repr {
  ipv6_addr src;
  ipv6_addr dst;
  std::uint8_t next_header = ipv6_next::tcp;
  std::uint16_t payload_len = 0;
  std::uint8_t hop_limit = 64;
  std::uint8_t traffic_class = 0;
  std::uint32_t flow_label = 0;

  [[nodiscard]] static ipv6_repr parse(const ipv6_view& v);
  [[nodiscard]] static constexpr std::size_t buffer_len() { return ipv6_view::header_len; }
  // Writes the 40-byte header. Precondition: out.size() >= buffer_len().
  void emit(mutable_bytes out) const;

  friend bool operator==(const ipv6_repr&, const ipv6_repr&) = default;
};

// The IPv6 pseudo-header sum for TCP, UDP and ICMPv6 (RFC 8200 §8.1): source, destination,
// upper-layer packet length (32 bits), three zero octets, Next Header. Not folded.
[[nodiscard]] std::uint64_t pseudo_header_sum_v6(const ipv6_addr& src, const ipv6_addr& dst, std::uint8_t next_header,
                                                 std::uint32_t length);

}  // namespace synack
