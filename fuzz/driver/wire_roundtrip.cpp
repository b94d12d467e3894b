// Round-trip properties of the wire parsers (see wire_roundtrip.hpp).
#include "wire_roundtrip.hpp"

#include <algorithm>
#include <vector>

#include "synack/wire/checksum.hpp"
#include "synack/wire/icmp.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::fuzz {

namespace {

constexpr ipv4_addr tcp_src = ipv4_addr::from_octets(192, 0, 2, 2);
constexpr ipv4_addr tcp_dst = ipv4_addr::from_octets(192, 0, 2, 1);

std::vector<std::byte> copy_of(bytes b) { return {b.begin(), b.end()}; }

// ---- IPv4 ------------------------------------------------------------------------------------

failure ipv4_roundtrip(bytes packet) {
  const auto v = ipv4_view::parse(packet);
  if (!v) return std::nullopt;  // refused with a named reason: fine
  if (v->header_len() < 20 || v->total_len() > packet.size() || v->total_len() < v->header_len()) {
    return "ipv4: parse accepted a header whose lengths do not fit the buffer";
  }
  const ipv4_repr r = ipv4_repr::parse(*v);
  const bytes payload = v->payload();
  if (payload.size() != r.payload_len) return "ipv4: repr payload_len differs from the view's payload";
  std::vector<std::byte> out(ipv4_repr::buffer_len() + payload.size());
  r.emit(out);
  std::ranges::copy(payload, out.begin() + ipv4_repr::buffer_len());
  const auto v2 = ipv4_view::parse(out);
  if (!v2) return "ipv4: emit(parse(p)) does not parse: " + std::string(to_string(v2.error()));
  if (!(ipv4_repr::parse(*v2) == r)) return "ipv4: parse(emit(r)) != r";
  if (!std::ranges::equal(v2->payload(), payload)) return "ipv4: payload changed in the round trip";
  return std::nullopt;
}

// ---- TCP -------------------------------------------------------------------------------------

failure tcp_roundtrip(bytes segment) {
  const auto v = tcp_view::parse(segment);
  if (!v) return std::nullopt;
  if (v->header_len() < 20 || v->header_len() > segment.size()) return "tcp: view accepted a bad data offset";
  tcp_repr r;
  if (tcp_repr::parse(*v, tcp_src, tcp_dst, r)) return std::nullopt;
  if (r.options.sack_count > tcp_options::max_sack_blocks || r.options.unknown_count > tcp_options::max_unknown) {
    return "tcp: option counts beyond their arrays";
  }
  // A parsed repr re-emits in our canonical layout (NOP padding, fixed order), which can be
  // longer than the peer's packed layout. Only options that fit a TCP header (40 octets)
  // can be emitted at all; a repr beyond that is not a segment anyone can send.
  if (r.options.buffer_len() > 40) return std::nullopt;
  std::vector<std::byte> out(r.buffer_len());
  r.emit(out, tcp_src, tcp_dst);
  const auto v2 = tcp_view::parse(out);
  if (!v2) return "tcp: emit(parse(s)) does not parse: " + std::string(to_string(v2.error()));
  tcp_repr r2;
  if (const auto e = tcp_repr::parse(*v2, tcp_src, tcp_dst, r2)) {
    return "tcp: emit(parse(s)) refused: " + std::string(to_string(*e));
  }
  if (!(r2 == r)) return "tcp: parse(emit(r)) != r";
  return std::nullopt;
}

// ---- ICMP ------------------------------------------------------------------------------------

failure icmp_roundtrip(bytes message) {
  const auto m = icmpv4_repr::parse(message);
  if (!m) return std::nullopt;
  if (m->data.size() + 8 != message.size()) return "icmp: data is not the rest of the message";
  const auto q = m->quote();
  if (m->is_error() && !q) return "icmp: an accepted error message has no usable quote";
  if (!m->is_error() && q) return "icmp: a non-error message has a quote";
  std::vector<std::byte> out(m->buffer_len());
  m->emit(out);
  const auto m2 = icmpv4_repr::parse(out);
  if (!m2) return "icmp: emit(parse(m)) does not parse: " + std::string(to_string(m2.error()));
  if (!(*m2 == *m)) return "icmp: parse(emit(r)) != r";
  if (m2->quote() != q) return "icmp: the quote changed in the round trip";
  return std::nullopt;
}

}  // namespace

failure check_ipv4(bytes input) {
  if (auto f = ipv4_roundtrip(input)) return f;
  // Again with the header checksum right, so IHL, total length and fragments are judged.
  if (input.size() < 20) return std::nullopt;
  std::vector<std::byte> p = copy_of(input);
  const std::size_t ihl = (static_cast<std::size_t>(p[0]) & 0x0Fu) * 4u;
  if (ihl < 20 || ihl > p.size()) return ipv4_roundtrip(p);
  store_be16(&p[10], 0);
  store_be16(&p[10], internet_checksum(bytes{p}.first(ihl)));
  return ipv4_roundtrip(p);
}

failure check_tcp(bytes input) {
  if (auto f = tcp_roundtrip(input)) return f;
  if (input.size() < 20 || input.size() > 0xFFFF) return std::nullopt;
  std::vector<std::byte> s = copy_of(input);
  tcp_repr::fill_checksum(s, tcp_src, tcp_dst);
  return tcp_roundtrip(s);
}

failure check_icmp(bytes input) {
  if (auto f = icmp_roundtrip(input)) return f;
  if (input.size() < 8) return std::nullopt;
  std::vector<std::byte> m = copy_of(input);
  store_be16(&m[2], 0);
  store_be16(&m[2], internet_checksum(m));
  return icmp_roundtrip(m);
}

}  // namespace synack::fuzz
