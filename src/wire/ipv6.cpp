// IPv6 header (RFC 8200 §3) and extension-header chain (§4): validation and emission.
#include "synack/wire/ipv6.hpp"

#include "synack/wire/checksum.hpp"

namespace synack {
namespace {

ipv6_drop drop(wire_error reason) { return ipv6_drop{reason, std::nullopt}; }
ipv6_drop problem(wire_error reason, std::uint8_t code, std::size_t pointer) {
  return ipv6_drop{reason, ipv6_drop::param_problem{code, static_cast<std::uint32_t>(pointer)}};
}

// The TLV options of a hop-by-hop or destination options header [start, end) of the packet
// (RFC 8200 §4.2). Pad1 and PadN are skipped; any other option is unknown here and handled by
// the two high-order bits of its type: 00 skip, 01 drop, 10 drop with a Parameter Problem
// (code 2, pointer to the type), 11 the same unless the destination is multicast.
std::optional<ipv6_drop> check_options(bytes p, std::size_t start, std::size_t end, bool multicast_dst) {
  std::size_t i = start;
  while (i < end) {
    const std::uint8_t type = load_u8(&p[i]);
    if (type == 0) {  // Pad1
      ++i;
      continue;
    }
    if (i + 2 > end) return drop(wire_error::bad_ext_header);
    const std::size_t len = load_u8(&p[i + 1]);
    if (i + 2 + len > end) return drop(wire_error::bad_ext_header);
    if (type != 1) {  // not PadN: unrecognised
      switch (type >> 6) {
        case 0: break;
        case 1: return drop(wire_error::bad_ext_header);
        case 2: return problem(wire_error::bad_ext_header, 2, i);
        default:
          if (multicast_dst) return drop(wire_error::bad_ext_header);
          return problem(wire_error::bad_ext_header, 2, i);
      }
    }
    i += 2 + len;
  }
  return std::nullopt;
}

}  // namespace

result<ipv6_view, wire_error> ipv6_view::parse(bytes packet) {
  if (packet.size() < header_len) return unexpected{wire_error::truncated};
  if ((load_u8(&packet[0]) >> 4) != 6) return unexpected{wire_error::bad_version};
  const std::size_t payload = load_be16(&packet[4]);
  if (payload == 0 || header_len + payload > packet.size()) return unexpected{wire_error::bad_total_len};
  return ipv6_view{packet};
}

result<ipv6_upper, ipv6_drop> walk_extension_headers(const ipv6_view& v) {
  const bytes p = v.packet();
  const bool multicast_dst = v.dst().is_multicast();
  std::uint8_t next = v.next_header();
  std::size_t next_field = 6;  // offset of the Next Header field that named `next`
  std::size_t at = ipv6_view::header_len;
  for (std::size_t count = 0;; ++count) {
    switch (next) {
      case ipv6_next::tcp:
      case ipv6_next::udp:
      case ipv6_next::icmpv6:
        return ipv6_upper{next, at, p.subspan(at)};
      case ipv6_next::no_next:
        return ipv6_upper{next, at, bytes{}};
      case ipv6_next::hop_by_hop:
      case ipv6_next::routing:
      case ipv6_next::fragment:
      case ipv6_next::dest_options:
        break;
      default:
        return unexpected{problem(wire_error::unknown_next_header, 1, next_field)};
    }
    if (count == max_extension_headers) return unexpected{drop(wire_error::ext_header_chain)};
    // Hop-by-hop options only right after the fixed header (§4.3).
    if (next == ipv6_next::hop_by_hop && at != ipv6_view::header_len) {
      return unexpected{problem(wire_error::bad_ext_header, 1, next_field)};
    }
    if (at + 8 > p.size()) return unexpected{drop(wire_error::bad_ext_header)};
    const std::size_t len = next == ipv6_next::fragment ? 8 : (std::size_t{load_u8(&p[at + 1])} + 1) * 8;
    if (at + len > p.size()) return unexpected{drop(wire_error::bad_ext_header)};
    if (next == ipv6_next::hop_by_hop || next == ipv6_next::dest_options) {
      if (auto bad = check_options(p, at + 2, at + len, multicast_dst)) return unexpected{*bad};
    } else if (next == ipv6_next::routing) {
      // §4.4: Segments Left > 0 asks this host to forward; it does not (type 0 is deprecated,
      // RFC 5095, and no other type is implemented): code 0, pointer to the Routing Type.
      if (load_u8(&p[at + 3]) != 0) return unexpected{problem(wire_error::bad_ext_header, 0, at + 2)};
    } else {  // fragment
      const std::uint16_t off_flags = load_be16(&p[at + 2]);
      if ((off_flags & 0xFFF9) != 0) return unexpected{drop(wire_error::fragment)};  // offset or M set
    }
    next_field = at;
    next = load_u8(&p[at]);
    at += len;
  }
}

ipv6_repr ipv6_repr::parse(const ipv6_view& v) {
  ipv6_repr r;
  r.src = v.src();
  r.dst = v.dst();
  r.next_header = v.next_header();
  r.payload_len = v.payload_len();
  r.hop_limit = v.hop_limit();
  r.traffic_class = v.traffic_class();
  r.flow_label = v.flow_label();
  return r;
}

void ipv6_repr::emit(mutable_bytes out) const {
  store_be32(&out[0], (6u << 28) | (std::uint32_t{traffic_class} << 20) | (flow_label & 0xFFFFF));
  store_be16(&out[4], payload_len);
  out[6] = std::byte{next_header};
  out[7] = std::byte{hop_limit};
  for (std::size_t i = 0; i < 16; ++i) {
    out[8 + i] = std::byte{src.octets[i]};
    out[24 + i] = std::byte{dst.octets[i]};
  }
}

std::uint64_t pseudo_header_sum_v6(const ipv6_addr& src, const ipv6_addr& dst, std::uint8_t next_header,
                                   std::uint32_t length) {
  std::array<std::byte, 40> ph{};
  for (std::size_t i = 0; i < 16; ++i) {
    ph[i] = std::byte{src.octets[i]};
    ph[16 + i] = std::byte{dst.octets[i]};
  }
  store_be32(&ph[32], length);
  ph[39] = std::byte{next_header};
  return checksum_partial(ph);
}

}  // namespace synack
