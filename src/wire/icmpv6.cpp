// ICMPv6 messages (RFC 4443 §2.1, §3, §4): validation and emission.
#include "synack/wire/icmpv6.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "synack/wire/checksum.hpp"

namespace synack {
namespace {

constexpr std::size_t header_len = 8;

std::uint16_t checksum_of(bytes message, const ipv6_addr& src, const ipv6_addr& dst) {
  return checksum_finish(
      checksum_partial(message, pseudo_header_sum_v6(src, dst, ipv6_next::icmpv6, static_cast<std::uint32_t>(message.size()))));
}

}  // namespace

result<icmpv6_repr, wire_error> icmpv6_repr::parse(bytes message, const ipv6_addr& src, const ipv6_addr& dst) {
  if (message.size() < header_len) return unexpected{wire_error::truncated};
  if (checksum_of(message, src, dst) != 0) return unexpected{wire_error::bad_checksum};
  icmpv6_repr r;
  r.type = static_cast<icmpv6_type>(load_u8(&message[0]));
  r.code = load_u8(&message[1]);
  r.data = message.subspan(header_len);
  const std::uint32_t word = load_be32(&message[4]);
  switch (r.type) {
    case icmpv6_type::echo_request:
    case icmpv6_type::echo_reply:
      r.ident = static_cast<std::uint16_t>(word >> 16);
      r.seq_no = static_cast<std::uint16_t>(word & 0xFFFF);
      break;
    case icmpv6_type::packet_too_big: r.mtu = word; break;
    case icmpv6_type::param_problem: r.pointer = word; break;
    default: r.rest = word; break;
  }
  if (r.is_error() && r.data.size() < ipv6_view::header_len &&
      (r.type == icmpv6_type::dest_unreachable || r.type == icmpv6_type::packet_too_big ||
       r.type == icmpv6_type::time_exceeded || r.type == icmpv6_type::param_problem)) {
    return unexpected{wire_error::bad_icmp};
  }
  return r;
}

void icmpv6_repr::emit(mutable_bytes out, const ipv6_addr& src, const ipv6_addr& dst) const {
  out[0] = std::byte{static_cast<std::uint8_t>(type)};
  out[1] = std::byte{code};
  store_be16(&out[2], 0);
  std::uint32_t word = rest;
  switch (type) {
    case icmpv6_type::echo_request:
    case icmpv6_type::echo_reply: word = (std::uint32_t{ident} << 16) | seq_no; break;
    case icmpv6_type::packet_too_big: word = mtu; break;
    case icmpv6_type::param_problem: word = pointer; break;
    default: break;
  }
  store_be32(&out[4], word);
  if (!data.empty()) std::memcpy(&out[header_len], data.data(), data.size());
  const bytes message{out.data(), buffer_len()};
  store_be16(&out[2], checksum_of(message, src, dst));
}

std::optional<icmpv6_quote> icmpv6_repr::quote() const {
  if (!is_error() || data.size() < ipv6_view::header_len) return std::nullopt;
  icmpv6_quote q;
  for (std::size_t i = 0; i < 16; ++i) {
    q.src.octets[i] = load_u8(&data[8 + i]);
    q.dst.octets[i] = load_u8(&data[24 + i]);
  }
  q.next_header = load_u8(&data[6]);
  // The quote is usually cut short of the payload length it names: walk what is there, with a
  // copy of the header whose payload length says so.
  std::array<std::byte, 1280> copy{};
  const std::size_t n = std::min(data.size(), copy.size());
  std::memcpy(copy.data(), data.data(), n);
  if (n == ipv6_view::header_len) return q;
  store_be16(&copy[4], static_cast<std::uint16_t>(n - ipv6_view::header_len));
  auto v = ipv6_view::parse(bytes{copy.data(), n});
  if (!v) return q;
  auto up = walk_extension_headers(*v);
  if (!up) return q;
  q.upper = up->protocol;
  if ((up->protocol == ipv6_next::tcp || up->protocol == ipv6_next::udp) && up->payload.size() >= 8) {
    q.src_port = load_be16(&data[up->offset]);
    q.dst_port = load_be16(&data[up->offset + 2]);
    if (up->protocol == ipv6_next::tcp) q.seq = seq_num{load_be32(&data[up->offset + 4])};
  }
  return q;
}

bool operator==(const icmpv6_repr& a, const icmpv6_repr& b) {
  return a.type == b.type && a.code == b.code && a.ident == b.ident && a.seq_no == b.seq_no && a.mtu == b.mtu &&
         a.pointer == b.pointer && a.rest == b.rest && std::equal(a.data.begin(), a.data.end(), b.data.begin(), b.data.end());
}

}  // namespace synack
