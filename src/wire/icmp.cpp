// ICMPv4 (RFC 792), with the next-hop MTU of RFC 1191 §4 and the quoted datagram that
// RFC 9293 §3.9 / RFC 5927 §4 use to match an error to a connection.
#include "synack/wire/icmp.hpp"

#include <algorithm>

#include "synack/wire/checksum.hpp"

namespace synack {

namespace {

constexpr std::size_t header_len = 8;
constexpr std::size_t quoted_transport_len = 8;  // RFC 792: "the first 64 bits of data"

// The quoted IPv4 header's length if `quote` holds a plausible header followed by at least 8
// octets of its payload; 0 otherwise. The quote's checksum and total length are not checked:
// routers may have rewritten them (RFC 5927 §4.1 says to match on the fields instead).
std::size_t quoted_header_len(bytes quote) {
  if (quote.size() < ipv4_view::min_header_len) return 0;
  const std::uint8_t vihl = load_u8(&quote[0]);
  if ((vihl >> 4) != 4) return 0;
  const std::size_t ihl_bytes = (vihl & 0x0Fu) * 4u;
  if (ihl_bytes < ipv4_view::min_header_len || ihl_bytes + quoted_transport_len > quote.size()) return 0;
  return ihl_bytes;
}

}  // namespace

result<icmpv4_repr, wire_error> icmpv4_repr::parse(bytes message) {
  if (message.size() < header_len) return unexpected{wire_error::truncated};
  // RFC 792: the checksum covers the whole ICMP message.
  if (internet_checksum(message) != 0) return unexpected{wire_error::bad_checksum};

  icmpv4_repr r;
  r.type = static_cast<icmp_type>(load_u8(&message[0]));
  r.code = load_u8(&message[1]);
  r.data = message.subspan(header_len);
  switch (r.type) {
    case icmp_type::echo_request:
    case icmp_type::echo_reply:
      r.ident = load_be16(&message[4]);
      r.seq_no = load_be16(&message[6]);
      return r;
    case icmp_type::dest_unreachable:
      // RFC 1191 §4: only "fragmentation needed" carries the MTU; for the other codes these
      // octets are unused and ignored.
      if (r.code == icmp_unreach_code::frag_needed) r.next_hop_mtu = load_be16(&message[6]);
      [[fallthrough]];
    case icmp_type::time_exceeded:
      if (quoted_header_len(r.data) == 0) return unexpected{wire_error::bad_icmp};
      return r;
  }
  // Any other type (open enum): bytes 4..7 kept verbatim.
  r.rest = load_be32(&message[4]);
  return r;
}

void icmpv4_repr::emit(mutable_bytes out) const {
  std::byte* const p = out.data();
  store_u8(p + 0, static_cast<std::uint8_t>(type));
  store_u8(p + 1, code);
  store_be16(p + 2, 0);
  switch (type) {
    case icmp_type::echo_request:
    case icmp_type::echo_reply:
      store_be16(p + 4, ident);
      store_be16(p + 6, seq_no);
      break;
    case icmp_type::dest_unreachable:
      store_be16(p + 4, 0);
      store_be16(p + 6, next_hop_mtu);
      break;
    case icmp_type::time_exceeded:
      store_be32(p + 4, 0);
      break;
    default:
      store_be32(p + 4, rest);
      break;
  }
  std::ranges::copy(data, p + header_len);
  store_be16(p + 2, internet_checksum(bytes{p, buffer_len()}));
}

std::optional<icmp_quote> icmpv4_repr::quote() const {
  if (!is_error()) return std::nullopt;
  const std::size_t ihl_bytes = quoted_header_len(data);
  if (ihl_bytes == 0) return std::nullopt;  // a hand-built repr; parse() refuses these
  icmp_quote q;
  q.protocol = static_cast<ip_proto>(load_u8(&data[9]));
  q.src = ipv4_addr{load_be32(&data[12])};
  q.dst = ipv4_addr{load_be32(&data[16])};
  const std::byte* t = data.data() + ihl_bytes;  // the quoted transport header
  q.src_port = load_be16(t);
  q.dst_port = load_be16(t + 2);
  q.seq = seq_num{load_be32(t + 4)};
  return q;
}

bool operator==(const icmpv4_repr& a, const icmpv4_repr& b) {
  return a.type == b.type && a.code == b.code && a.ident == b.ident && a.seq_no == b.seq_no &&
         a.next_hop_mtu == b.next_hop_mtu && a.rest == b.rest && std::ranges::equal(a.data, b.data);
}

}  // namespace synack
