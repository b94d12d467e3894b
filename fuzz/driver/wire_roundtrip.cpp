// Round-trip properties of the wire parsers (see wire_roundtrip.hpp).
#include "wire_roundtrip.hpp"

#include <algorithm>
#include <vector>

#include "synack/wire/checksum.hpp"
#include "synack/wire/icmp.hpp"
#include "synack/wire/icmpv6.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"
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

// ---- IPv6 ------------------------------------------------------------------------------------

const ipv6_addr v6_src = ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 2});
const ipv6_addr v6_dst = ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});

// Where a walk ends, comparable across two copies of a packet.
struct walk_end {
  bool dropped = false;
  wire_error reason = wire_error::bad_ext_header;
  std::optional<ipv6_drop::param_problem> problem;
  std::uint8_t protocol = 0;
  std::size_t offset = 0;
  std::size_t payload_len = 0;
  friend bool operator==(const walk_end& a, const walk_end& b) {
    const bool same_problem = a.problem.has_value() == b.problem.has_value() &&
                              (!a.problem || (a.problem->code == b.problem->code && a.problem->pointer == b.problem->pointer));
    return a.dropped == b.dropped && a.reason == b.reason && same_problem && a.protocol == b.protocol &&
           a.offset == b.offset && a.payload_len == b.payload_len;
  }
};

failure walk_of(const ipv6_view& v, walk_end& end) {
  const std::size_t packet_len = ipv6_view::header_len + v.payload_len();
  const auto w = walk_extension_headers(v);
  if (!w) {
    end.dropped = true;
    end.reason = w.error().reason;
    end.problem = w.error().problem;
    if (end.problem && end.problem->pointer >= packet_len) return "ipv6: a Parameter Problem points beyond the packet";
    if (end.problem && end.problem->code > 2) return "ipv6: a Parameter Problem code RFC 4443 does not define";
    return std::nullopt;
  }
  end.protocol = w->protocol;
  end.offset = w->offset;
  end.payload_len = w->payload.size();
  if (w->offset < ipv6_view::header_len || w->offset > packet_len) return "ipv6: the walk ends outside the packet";
  if (w->protocol == ipv6_next::no_next) {
    // RFC 8200 §4.7: octets after a header whose Next Header is 59 are ignored.
    if (!w->payload.empty()) return "ipv6: No Next Header with a payload";
  } else if (w->offset + w->payload.size() != packet_len) {
    return "ipv6: the walk's upper layer is not the rest of the packet";
  }
  return std::nullopt;
}

failure ipv6_roundtrip(bytes packet) {
  const auto v = ipv6_view::parse(packet);
  if (!v) return std::nullopt;
  if (ipv6_view::header_len + v->payload_len() > packet.size()) return "ipv6: parse accepted a payload beyond the buffer";
  walk_end end;
  if (auto f = walk_of(*v, end)) return f;
  const ipv6_repr r = ipv6_repr::parse(*v);
  std::vector<std::byte> out(ipv6_repr::buffer_len() + v->payload().size());
  r.emit(out);
  std::ranges::copy(v->payload(), out.begin() + ipv6_repr::buffer_len());
  const auto v2 = ipv6_view::parse(out);
  if (!v2) return "ipv6: emit(parse(p)) does not parse: " + std::string(to_string(v2.error()));
  if (!(ipv6_repr::parse(*v2) == r)) return "ipv6: parse(emit(r)) != r";
  if (!std::ranges::equal(v2->payload(), v->payload())) return "ipv6: payload changed in the round trip";
  walk_end end2;
  if (auto f = walk_of(*v2, end2)) return f;
  if (!(end2 == end)) return "ipv6: the re-emitted packet walks to another end";
  return std::nullopt;
}

// ---- ICMPv6 ----------------------------------------------------------------------------------

failure icmpv6_roundtrip(bytes message) {
  const auto m = icmpv6_repr::parse(message, v6_src, v6_dst);
  if (!m) return std::nullopt;
  if (m->data.size() + 8 != message.size()) return "icmpv6: data is not the rest of the message";
  if (m->data.data() < message.data() || m->data.data() + m->data.size() > message.data() + message.size()) {
    return "icmpv6: data points outside the message";
  }
  const auto q = m->quote();
  // The four RFC 4443 errors are refused without a quotable IPv6 header; an error of unknown
  // type (0, 5..127: RFC 4443 §2.4 (a) passes them up) has a quote when it carries one.
  const auto t = static_cast<std::uint8_t>(m->type);
  if (t >= 1 && t <= 4 && !q) return "icmpv6: an accepted error message has no quote";
  if (m->is_error() && q.has_value() != (m->data.size() >= ipv6_view::header_len)) {
    return "icmpv6: an error's quote does not follow its length";
  }
  if (!m->is_error() && q) return "icmpv6: a non-error message has a quote";
  std::vector<std::byte> out(m->buffer_len());
  m->emit(out, v6_src, v6_dst);
  const auto m2 = icmpv6_repr::parse(out, v6_src, v6_dst);
  if (!m2) return "icmpv6: emit(parse(m)) does not parse: " + std::string(to_string(m2.error()));
  if (!(*m2 == *m)) return "icmpv6: parse(emit(r)) != r";
  if (m2->quote() != q) return "icmpv6: the quote changed in the round trip";
  return std::nullopt;
}

}  // namespace

failure check_ipv6(bytes input) {
  if (auto f = ipv6_roundtrip(input)) return f;
  // Again with the payload length made to fit the input (so the walk is reached).
  if (input.size() < ipv6_view::header_len || input.size() - ipv6_view::header_len > 0xFFFF) return std::nullopt;
  std::vector<std::byte> p = copy_of(input);
  store_u8(&p[0], static_cast<std::uint8_t>((static_cast<std::uint8_t>(p[0]) & 0x0Fu) | 0x60u));
  store_be16(&p[4], static_cast<std::uint16_t>(p.size() - ipv6_view::header_len));
  return ipv6_roundtrip(p);
}

failure check_icmpv6(bytes input) {
  if (auto f = icmpv6_roundtrip(input)) return f;
  if (input.size() < 8) return std::nullopt;
  std::vector<std::byte> m = copy_of(input);
  store_be16(&m[2], 0);
  store_be16(&m[2], checksum_finish(checksum_partial(
                        m, pseudo_header_sum_v6(v6_src, v6_dst, ipv6_next::icmpv6, static_cast<std::uint32_t>(m.size())))));
  return icmpv6_roundtrip(m);
}

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
