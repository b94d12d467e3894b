// IPv4 header (RFC 791 §3.1): validation and emission.
#include "synack/wire/ipv4.hpp"

#include "synack/wire/checksum.hpp"

namespace synack {

namespace {
constexpr std::uint8_t flag_df = 0x40;  // byte 6: 0 DF MF, then the fragment offset
constexpr std::uint8_t flag_mf = 0x20;
}  // namespace

// The checks run in a fixed order so each malformed packet has exactly one reason.
result<ipv4_view, wire_error> ipv4_view::parse(bytes packet) {
  if (packet.size() < min_header_len) return unexpected{wire_error::truncated};
  const std::uint8_t vihl = load_u8(&packet[0]);
  if ((vihl >> 4) != 4) return unexpected{wire_error::bad_version};
  const std::size_t ihl_bytes = (vihl & 0x0Fu) * 4u;
  if (ihl_bytes < min_header_len || ihl_bytes > packet.size()) return unexpected{wire_error::bad_header_len};
  // Total length bounds the datagram; anything after it (Ethernet padding to 60 bytes) is
  // not part of the packet and is ignored, not rejected.
  const std::size_t total = load_be16(&packet[2]);
  if (total < ihl_bytes || total > packet.size()) return unexpected{wire_error::bad_total_len};
  // RFC 791 §3.1 "Header Checksum": the header, options included, sums to zero.
  if (internet_checksum(packet.first(ihl_bytes)) != 0) return unexpected{wire_error::bad_checksum};
  // No reassembly (RFC 791 §3.2): a fragment is recognised and refused, never misread as a
  // whole datagram.
  const std::uint8_t flags = load_u8(&packet[6]);
  const bool offset_nonzero = (load_be16(&packet[6]) & 0x1FFF) != 0;
  if ((flags & flag_mf) != 0 || offset_nonzero) return unexpected{wire_error::fragment};
  return ipv4_view{packet};
}

ipv4_repr ipv4_repr::parse(const ipv4_view& v) {
  ipv4_repr r;
  r.src = v.src();
  r.dst = v.dst();
  r.protocol = v.protocol();
  r.payload_len = static_cast<std::uint16_t>(v.total_len() - v.header_len());
  r.ttl = v.ttl();
  r.ident = v.ident();
  r.dont_fragment = v.dont_fragment();
  r.dscp_ecn = v.dscp_ecn();
  return r;
}

void ipv4_repr::emit(mutable_bytes out) const {
  std::byte* p = out.data();
  store_u8(p + 0, 0x45);  // version 4, IHL 5: we never send options
  store_u8(p + 1, dscp_ecn);
  store_be16(p + 2, static_cast<std::uint16_t>(buffer_len() + payload_len));
  store_be16(p + 4, ident);
  store_u8(p + 6, dont_fragment ? flag_df : 0);
  store_u8(p + 7, 0);
  store_u8(p + 8, ttl);
  store_u8(p + 9, static_cast<std::uint8_t>(protocol));
  store_be16(p + 10, 0);
  store_be32(p + 12, src.value);
  store_be32(p + 16, dst.value);
  store_be16(p + 10, internet_checksum(bytes{p, buffer_len()}));
}

}  // namespace synack
