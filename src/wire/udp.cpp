// UDP (RFC 768) and its checksum over the IPv4 (RFC 768) and IPv6 (RFC 8200 §8.1)
// pseudo-headers.
#include "synack/wire/udp.hpp"

#include <algorithm>
#include <cstring>

#include "synack/wire/checksum.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"

namespace synack {

namespace {

constexpr std::uint8_t udp_protocol = 17;

// The header's Length field checked against the datagram: the UDP datagram it describes.
result<bytes, wire_error> udp_datagram(bytes datagram) {
  if (datagram.size() < udp_repr::header_len) return unexpected{wire_error::truncated};
  const std::uint16_t len = load_be16(&datagram[4]);
  if (len < udp_repr::header_len || len > datagram.size()) return unexpected{wire_error::bad_total_len};
  return datagram.first(len);
}

udp_repr fields_of(bytes d) {
  udp_repr r;
  r.src_port = load_be16(&d[0]);
  r.dst_port = load_be16(&d[2]);
  r.payload = d.subspan(udp_repr::header_len);
  return r;
}

void write(const udp_repr& r, mutable_bytes out, std::uint64_t pseudo) {
  store_be16(&out[0], r.src_port);
  store_be16(&out[2], r.dst_port);
  store_be16(&out[4], static_cast<std::uint16_t>(r.buffer_len()));
  store_be16(&out[6], 0);
  if (!r.payload.empty()) std::memcpy(&out[udp_repr::header_len], r.payload.data(), r.payload.size());
  const std::uint16_t sum = checksum_finish(checksum_partial(bytes{out.data(), r.buffer_len()}, pseudo));
  store_be16(&out[6], sum == 0 ? 0xFFFF : sum);  // RFC 768: zero is "no checksum"
}

}  // namespace

result<udp_repr, wire_error> udp_repr::parse(bytes datagram, ipv4_addr src, ipv4_addr dst) {
  auto d = udp_datagram(datagram);
  if (!d) return unexpected{d.error()};
  const std::uint64_t pseudo = pseudo_header_sum(src, dst, udp_protocol, static_cast<std::uint16_t>(d->size()));
  if (load_be16(&(*d)[6]) != 0 && checksum_finish(checksum_partial(*d, pseudo)) != 0) {
    return unexpected{wire_error::bad_checksum};
  }
  return fields_of(*d);
}

result<udp_repr, wire_error> udp_repr::parse(bytes datagram, const ipv6_addr& src, const ipv6_addr& dst) {
  auto d = udp_datagram(datagram);
  if (!d) return unexpected{d.error()};
  const std::uint64_t pseudo = pseudo_header_sum_v6(src, dst, ipv6_next::udp, static_cast<std::uint32_t>(d->size()));
  if (load_be16(&(*d)[6]) == 0 || checksum_finish(checksum_partial(*d, pseudo)) != 0) {
    return unexpected{wire_error::bad_checksum};
  }
  return fields_of(*d);
}

result<udp_repr, wire_error> udp_repr::parse_trusted(bytes datagram) {
  auto d = udp_datagram(datagram);
  if (!d) return unexpected{d.error()};
  return fields_of(*d);
}

void udp_repr::emit(mutable_bytes out, ipv4_addr src, ipv4_addr dst) const {
  write(*this, out, pseudo_header_sum(src, dst, udp_protocol, static_cast<std::uint16_t>(buffer_len())));
}

void udp_repr::emit(mutable_bytes out, const ipv6_addr& src, const ipv6_addr& dst) const {
  write(*this, out, pseudo_header_sum_v6(src, dst, ipv6_next::udp, static_cast<std::uint32_t>(buffer_len())));
}

bool operator==(const udp_repr& a, const udp_repr& b) {
  return a.src_port == b.src_port && a.dst_port == b.dst_port &&
         std::equal(a.payload.begin(), a.payload.end(), b.payload.begin(), b.payload.end());
}

}  // namespace synack
