// TCP header and options (RFC 9293 §3.1, RFC 7323 §2.2/§3.2, RFC 2018 §2/§3).
#include "synack/wire/tcp.hpp"

#include <algorithm>
#include <cassert>

#include "synack/wire/checksum.hpp"

namespace synack {

namespace {

constexpr std::uint8_t ip_proto_tcp = 6;

// Fixed option lengths (kind and length octets included).
constexpr std::size_t mss_len = 4;             // RFC 9293 §3.2
constexpr std::size_t window_scale_len = 3;    // RFC 7323 §2.2
constexpr std::size_t sack_permitted_len = 2;  // RFC 2018 §2
constexpr std::size_t timestamps_len = 10;     // RFC 7323 §3.2
constexpr std::size_t sack_block_len = 8;      // RFC 2018 §3: 2 + 8n octets
constexpr std::size_t fast_open_base = 2;      // RFC 7413 §4.1.1: kind, length, cookie
constexpr std::size_t fast_open_exp_base = 4;  // kind 254, length, ExID 0xF989, cookie

// The TFO option's octets on the wire, NOP padding included: Linux pads it to 4 octets with
// NOPs after it, so the option area stays aligned (our layout follows Linux's).
std::size_t fast_open_len(const tcp_fast_open& f) {
  const std::size_t n = (f.experimental ? fast_open_exp_base : fast_open_base) + f.len;
  return (n + 3) & ~std::size_t{3};
}

// Keeps a cookie option (kind 34, or 254 with the ExID) of a valid length as `o.fast_open`;
// false for anything else, which the caller keeps as an unknown option.
bool parse_fast_open(tcp_options& o, std::uint8_t kind, bytes body) {
  bool experimental = false;
  if (kind == tcp_option_kind::experimental) {
    if (body.size() < 2 || load_be16(body.data()) != tcp_fast_open::experimental_magic) return false;
    body = body.subspan(2);
    experimental = true;
  }
  if (!tcp_fast_open::valid_len(body.size())) return false;
  o.fast_open = tcp_fast_open::of(body, experimental);
  return true;
}

// Entries in use, never more than the arrays hold, even for a hand-built repr.
std::size_t sack_used(const tcp_options& o) {
  return std::min<std::size_t>(o.sack_count, tcp_options::max_sack_blocks);
}
std::size_t unknown_used(const tcp_options& o) {
  return std::min<std::size_t>(o.unknown_count, tcp_options::max_unknown);
}

// Parses one option whose kind and length octets have been checked to lie inside the area
// (len >= 2); `body` is the len - 2 octets after them.
std::optional<wire_error> parse_one(tcp_options& o, std::uint8_t kind, std::size_t len, bytes body) {
  // A duplicated known option overwrites the earlier one: the last one wins.
  switch (kind) {
    case tcp_option_kind::mss:
      if (len != mss_len) return wire_error::bad_option_len;
      o.mss = load_be16(body.data());
      return std::nullopt;
    case tcp_option_kind::window_scale:
      if (len != window_scale_len) return wire_error::bad_option_len;
      o.window_scale = load_u8(body.data());  // clamping to 14 is the TCP layer's (RFC 7323 §2.3)
      return std::nullopt;
    case tcp_option_kind::sack_permitted:
      if (len != sack_permitted_len) return wire_error::bad_option_len;
      o.sack_permitted = true;
      return std::nullopt;
    case tcp_option_kind::timestamps:
      if (len != timestamps_len) return wire_error::bad_option_len;
      o.timestamps = tcp_timestamps{load_be32(body.data()), load_be32(body.data() + 4)};
      return std::nullopt;
    case tcp_option_kind::sack: {
      const std::size_t blocks = body.size() / sack_block_len;
      if (body.size() % sack_block_len != 0 || blocks == 0 || blocks > tcp_options::max_sack_blocks) {
        return wire_error::bad_option_len;
      }
      for (std::size_t k = 0; k < blocks; ++k) {
        const std::byte* b = body.data() + k * sack_block_len;
        o.sack[k] = sack_block{seq_num{load_be32(b)}, seq_num{load_be32(b + 4)}};
      }
      o.sack_count = static_cast<std::uint8_t>(blocks);
      return std::nullopt;
    }
    case tcp_option_kind::fast_open:
    case tcp_option_kind::experimental:
      if (parse_fast_open(o, kind, body)) return std::nullopt;
      [[fallthrough]];  // a length RFC 7413 does not allow, or another experiment: unknown
    default:
      // RFC 9293 §3.2 (MUST-6): an unknown option is skipped by its length. We keep the
      // first max_unknown of them so they can be inspected and re-emitted.
      if (o.unknown_count < tcp_options::max_unknown) {
        o.unknown[o.unknown_count++] = unknown_option{kind, body};
      }
      return std::nullopt;
  }
}

// RFC 9293 §3.1 "Options" and §3.2 (MUST-4..7, MUST-64, MUST-68): an option may begin at any
// octet, in any segment; the area is walked kind by kind until its end or an EOL.
// Fills `o` in place, so tcp_repr::parse writes straight into its own options.
std::optional<wire_error> parse_options_into(tcp_options& o, bytes area) {
  std::size_t i = 0;
  while (i < area.size()) {
    const std::uint8_t kind = load_u8(&area[i]);
    if (kind == tcp_option_kind::eol) break;  // the rest is padding
    if (kind == tcp_option_kind::nop) {
      ++i;
      continue;
    }
    if (i + 1 >= area.size()) return wire_error::option_past_header;  // no length octet
    const std::size_t len = load_u8(&area[i + 1]);
    // A length below 2 cannot cover its own kind and length octets, and walking by it would
    // loop forever or misread the next octet (CVE-2020-24337: unknown kind, length 0).
    if (len < 2) return wire_error::option_len_zero;
    if (len > area.size() - i) return wire_error::option_past_header;
    if (const auto e = parse_one(o, kind, len, area.subspan(i + 2, len - 2))) return e;
    i += len;
  }
  return std::nullopt;
}

}  // namespace

bool operator==(const unknown_option& a, const unknown_option& b) {
  return a.kind == b.kind && std::ranges::equal(a.data, b.data);
}

tcp_fast_open tcp_fast_open::of(bytes b, bool experimental) {
  tcp_fast_open f;
  f.len = static_cast<std::uint8_t>(std::min(b.size(), max_cookie));
  std::ranges::copy(b.first(f.len), f.cookie.begin());
  f.experimental = experimental;
  return f;
}

bool operator==(const tcp_options& a, const tcp_options& b) {
  // Only the entries in use take part; spans compare by content.
  const auto sacks = [](const tcp_options& o) { return std::span{o.sack}.first(sack_used(o)); };
  const auto unknowns = [](const tcp_options& o) { return std::span{o.unknown}.first(unknown_used(o)); };
  return a.mss == b.mss && a.window_scale == b.window_scale && a.sack_permitted == b.sack_permitted &&
         a.timestamps == b.timestamps && a.sack_count == b.sack_count && std::ranges::equal(sacks(a), sacks(b)) &&
         a.unknown_count == b.unknown_count && std::ranges::equal(unknowns(a), unknowns(b)) &&
         a.fast_open == b.fast_open;
}

bool operator==(const tcp_repr& a, const tcp_repr& b) {
  return a.src_port == b.src_port && a.dst_port == b.dst_port && a.seq == b.seq && a.ack == b.ack &&
         a.flags == b.flags && a.window == b.window && a.urgent_ptr == b.urgent_ptr &&
         a.options == b.options && std::ranges::equal(a.payload, b.payload);
}

result<tcp_options, wire_error> tcp_options::parse(bytes area) {
  tcp_options o;
  if (const auto e = parse_options_into(o, area)) return unexpected{*e};
  return o;
}

std::size_t tcp_options::buffer_len() const {
  std::size_t n = 0;
  if (mss) n += mss_len;
  if (timestamps) {
    n += tcp_timestamps::space;  // SACK-permitted + TS, or NOP NOP TS
    static_assert(tcp_timestamps::space == 2 + timestamps_len);
  } else if (sack_permitted) {
    n += 2 + sack_permitted_len;
  }
  if (window_scale) n += 1 + window_scale_len;
  if (const std::size_t blocks = sack_used(*this); blocks > 0) n += 2 + 2 + sack_block_len * blocks;
  if (fast_open) n += fast_open_len(*fast_open);
  for (std::size_t k = 0; k < unknown_used(*this); ++k) n += 2 + unknown[k].data.size();
  return (n + 3) & ~std::size_t{3};
}

namespace {

// The options few segments carry, after the others: Fast Open's and the unknown ones kept from
// a parsed segment. Out of line and cold, so the common options' code stays dense
// (docs/performance.md, issue #12). Returns the offset past them.
[[gnu::cold, gnu::noinline]] std::size_t emit_rare_options(const tcp_options& o, std::byte* p, std::size_t i) {
  const auto put8 = [&](std::uint8_t v) { store_u8(p + i++, v); };
  if (o.fast_open) {  // RFC 7413 §4.1.1, after the others as Linux lays it out
    const std::size_t end = i + fast_open_len(*o.fast_open);
    const std::size_t base = o.fast_open->experimental ? fast_open_exp_base : fast_open_base;
    put8(o.fast_open->experimental ? tcp_option_kind::experimental : tcp_option_kind::fast_open);
    put8(static_cast<std::uint8_t>(base + o.fast_open->len));
    if (o.fast_open->experimental) {
      store_be16(p + i, tcp_fast_open::experimental_magic);
      i += 2;
    }
    std::ranges::copy(o.fast_open->value(), p + i);
    i += o.fast_open->len;
    while (i < end) put8(tcp_option_kind::nop);
  }
  for (std::size_t k = 0; k < unknown_used(o); ++k) {
    const unknown_option& u = o.unknown[k];
    put8(u.kind);
    put8(static_cast<std::uint8_t>(2 + u.data.size()));
    std::ranges::copy(u.data, p + i);
    i += u.data.size();
  }
  return i;
}

}  // namespace

// The layout Linux sends (tcp_options_write), so our segments look familiar in captures and
// every fixed-size option lands 4-byte aligned (RFC 7323 Appendix A's suggestion).
void tcp_options::emit(mutable_bytes out) const {
  std::byte* const p = out.data();
  std::size_t i = 0;
  const auto put8 = [&](std::uint8_t v) { store_u8(p + i++, v); };
  const auto put16 = [&](std::uint16_t v) {
    store_be16(p + i, v);
    i += 2;
  };
  const auto put32 = [&](std::uint32_t v) {
    store_be32(p + i, v);
    i += 4;
  };

  if (mss) {
    put8(tcp_option_kind::mss);
    put8(mss_len);
    put16(*mss);
  }
  if (timestamps) {
    if (sack_permitted) {
      put8(tcp_option_kind::sack_permitted);
      put8(sack_permitted_len);
    } else {
      put8(tcp_option_kind::nop);
      put8(tcp_option_kind::nop);
    }
    put8(tcp_option_kind::timestamps);
    put8(timestamps_len);
    put32(timestamps->tsval);
    put32(timestamps->tsecr);
  } else if (sack_permitted) {
    put8(tcp_option_kind::nop);
    put8(tcp_option_kind::nop);
    put8(tcp_option_kind::sack_permitted);
    put8(sack_permitted_len);
  }
  if (window_scale) {
    put8(tcp_option_kind::nop);
    put8(tcp_option_kind::window_scale);
    put8(window_scale_len);
    put8(*window_scale);
  }
  if (const std::size_t blocks = sack_used(*this); blocks > 0) {
    put8(tcp_option_kind::nop);
    put8(tcp_option_kind::nop);
    put8(tcp_option_kind::sack);
    put8(static_cast<std::uint8_t>(2 + sack_block_len * blocks));
    for (std::size_t k = 0; k < blocks; ++k) {
      put32(sack[k].left.raw);
      put32(sack[k].right.raw);
    }
  }
  if (fast_open || unknown_used(*this) > 0) [[unlikely]] i = emit_rare_options(*this, p, i);
  // RFC 9293 §3.1: the area ends on a 32-bit boundary, padded with zeros (EOL).
  const std::size_t end = buffer_len();
  while (i < end) put8(tcp_option_kind::eol);
}

result<tcp_view, wire_error> tcp_view::parse(bytes segment) {
  if (segment.size() < min_header_len) return unexpected{wire_error::truncated};
  const std::size_t offset = (load_u8(&segment[12]) >> 4) * 4u;
  if (offset < min_header_len || offset > segment.size()) return unexpected{wire_error::bad_data_offset};
  return tcp_view{segment};
}

bool tcp_view::verify_checksum(ipv4_addr src, ipv4_addr dst) const {
  if (b_.size() > 0xFFFF) return false;  // cannot be carried in one IPv4 datagram
  const auto len = static_cast<std::uint16_t>(b_.size());
  const std::uint64_t pseudo = pseudo_header_sum(src, dst, ip_proto_tcp, len);
  return checksum_finish(checksum_partial(b_, pseudo)) == 0;
}

namespace {
// The pseudo-header sum of either family for a TCP segment of `len` octets.
std::uint64_t tcp_pseudo_sum(const ip_addr& src, const ip_addr& dst, std::size_t len) {
  if (src.is_v4()) return pseudo_header_sum(src.v4(), dst.v4(), ip_proto_tcp, static_cast<std::uint16_t>(len));
  return pseudo_header_sum_v6(src.v6(), dst.v6(), ipv6_next::tcp, static_cast<std::uint32_t>(len));
}
}  // namespace

bool tcp_view::verify_checksum(const ip_addr& src, const ip_addr& dst) const {
  if (src.is_v4()) return verify_checksum(src.v4(), dst.v4());
  return checksum_finish(checksum_partial(b_, tcp_pseudo_sum(src, dst, b_.size()))) == 0;
}

std::optional<wire_error> tcp_repr::parse(const tcp_view& v, const ip_addr& src, const ip_addr& dst, tcp_repr& out) {
  if (!v.verify_checksum(src, dst)) return wire_error::bad_checksum;
  return parse_trusted(v, out);
}

std::optional<wire_error> tcp_repr::parse(const tcp_view& v, ipv4_addr src, ipv4_addr dst, tcp_repr& out) {
  // RFC 9293 §3.1 (MUST-2/3): a segment with a bad checksum is discarded before any of its
  // fields, options included, are believed.
  if (!v.verify_checksum(src, dst)) return wire_error::bad_checksum;
  return parse_trusted(v, out);
}

std::optional<wire_error> tcp_repr::parse_trusted(const tcp_view& v, tcp_repr& out) {
  tcp_options& o = out.options;
  o.clear();
  if (const auto e = parse_options_into(o, v.options())) return e;
  out.src_port = v.src_port();
  out.dst_port = v.dst_port();
  out.seq = v.seq();
  const std::uint8_t wire = v.flags();
  out.ack.reset();
  if ((wire & tcp_flag::ack) != 0) out.ack = v.ack_num();  // otherwise the field means nothing
  out.flags = static_cast<std::uint8_t>(wire & ~tcp_flag::ack);
  out.window = v.window();
  out.urgent_ptr = v.urgent_ptr();
  out.payload = v.payload();
  return std::nullopt;
}

void tcp_repr::emit_header(mutable_bytes out) const {
  // The data offset is 4 bits: more than 40 octets of options cannot be sent. A repr parsed
  // from a peer's tightly packed options can exceed that in our padded layout (tcp_fuzz), so
  // such a repr must never be re-emitted; none of ours is.
  assert(header_len() <= 60);
  std::byte* const p = out.data();
  store_be16(p + 0, src_port);
  store_be16(p + 2, dst_port);
  store_be32(p + 4, seq.raw);
  store_be32(p + 8, ack ? ack->raw : 0);  // RFC 9293 §3.1: zero when ACK is clear
  store_u8(p + 12, static_cast<std::uint8_t>((header_len() / 4) << 4));  // reserved bits zero
  store_u8(p + 13, wire_flags());
  store_be16(p + 14, window);
  store_be16(p + 16, 0);
  store_be16(p + 18, urgent_ptr);
  options.emit(out.subspan(tcp_view::min_header_len));
}

void tcp_repr::emit(mutable_bytes out, ipv4_addr src, ipv4_addr dst) const {
  emit_header(out);
  std::ranges::copy(payload, out.begin() + static_cast<std::ptrdiff_t>(header_len()));
  fill_checksum(out.first(buffer_len()), src, dst);
}

void tcp_repr::emit(mutable_bytes out, const ip_addr& src, const ip_addr& dst) const {
  emit_header(out);
  std::ranges::copy(payload, out.begin() + static_cast<std::ptrdiff_t>(header_len()));
  fill_checksum(out.first(buffer_len()), src, dst);
}

void tcp_repr::fill_checksum(mutable_bytes segment, const ip_addr& src, const ip_addr& dst) {
  store_be16(&segment[16], 0);
  store_be16(&segment[16], checksum_finish(checksum_partial(segment, tcp_pseudo_sum(src, dst, segment.size()))));
}

void tcp_repr::fill_partial_checksum(mutable_bytes segment, const ip_addr& src, const ip_addr& dst) {
  store_be16(&segment[16], static_cast<std::uint16_t>(~checksum_finish(tcp_pseudo_sum(src, dst, segment.size()))));
}

void tcp_repr::fill_checksum(mutable_bytes segment, ipv4_addr src, ipv4_addr dst) {
  store_be16(&segment[16], 0);
  const auto len = static_cast<std::uint16_t>(segment.size());
  const std::uint64_t pseudo = pseudo_header_sum(src, dst, ip_proto_tcp, len);
  store_be16(&segment[16], checksum_finish(checksum_partial(segment, pseudo)));
}

void tcp_repr::fill_partial_checksum(mutable_bytes segment, ipv4_addr src, ipv4_addr dst) {
  const auto len = static_cast<std::uint16_t>(segment.size());
  store_be16(&segment[16], static_cast<std::uint16_t>(~checksum_finish(pseudo_header_sum(src, dst, ip_proto_tcp, len))));
}

std::size_t emit_tcp_datagram(mutable_bytes out, ipv4_repr ip, const tcp_repr& seg) {
  const std::size_t len = seg.buffer_len();
  ip.protocol = ip_proto::tcp;
  ip.payload_len = static_cast<std::uint16_t>(len);
  ip.emit(out);
  seg.emit(out.subspan(ipv4_repr::buffer_len(), len), ip.src, ip.dst);
  return ipv4_repr::buffer_len() + len;
}

std::size_t emit_tcp_datagram(mutable_bytes out, ipv6_repr ip, const tcp_repr& seg) {
  const std::size_t len = seg.buffer_len();
  ip.next_header = ipv6_next::tcp;
  ip.payload_len = static_cast<std::uint16_t>(len);
  ip.emit(out);
  seg.emit(out.subspan(ipv6_repr::buffer_len(), len), ip_addr{ip.src}, ip_addr{ip.dst});
  return ipv6_repr::buffer_len() + len;
}

}  // namespace synack
