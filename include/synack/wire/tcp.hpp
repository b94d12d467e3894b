#pragma once
// TCP header (RFC 9293 §3.1) with every option of RFC 9293, RFC 7323 and RFC 2018: a checked
// view over bytes and a repr of its meaning.
//
// Option policy (RFC 9293 MUST-4..7, MUST-64, MUST-68): options are parsed wherever they
// begin (no alignment assumed), in any segment. A known option with the wrong length, a
// length of 0 or 1, or an option running past the data offset rejects the whole segment with
// a named wire_error (the stack drops and counts it). Unknown kinds with a valid length are
// kept as kind + bytes (up to tcp_options::max_unknown; further unknown options are skipped,
// MUST-6). EOL ends option processing.
//
// Lifetime rule: a repr's payload and unknown-option data are spans into the parsed buffer,
// valid only as long as that buffer.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "synack/util/result.hpp"
#include "synack/wire/bytes.hpp"
#include "synack/wire/error.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ip_addr.hpp"
#include "synack/wire/ipv4_addr.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/seq.hpp"

namespace synack {

// Control bits, as on the wire (byte 13). ACK is carried by tcp_repr::ack instead.
namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
inline constexpr std::uint8_t ece = 0x40;
inline constexpr std::uint8_t cwr = 0x80;
}  // namespace tcp_flag

namespace tcp_option_kind {
inline constexpr std::uint8_t eol = 0;
inline constexpr std::uint8_t nop = 1;
inline constexpr std::uint8_t mss = 2;
inline constexpr std::uint8_t window_scale = 3;
inline constexpr std::uint8_t sack_permitted = 4;
inline constexpr std::uint8_t sack = 5;
inline constexpr std::uint8_t timestamps = 8;
inline constexpr std::uint8_t fast_open = 34;     // RFC 7413 §4.1.1
inline constexpr std::uint8_t experimental = 254;  // RFC 6994 shared experimental option
}  // namespace tcp_option_kind

// RFC 7413 §4.1.1: the TCP Fast Open cookie option, kind 34, or the experimental form that
// predates its code point (kind 254 with the RFC 6994 ExID 0xF989, which Linux still sends
// after a peer used it). A cookie is 4 to 16 octets of even length; an option without one is a
// cookie request. An option of another length is no TFO option: it is kept as an unknown
// option, and the segment is processed as if it carried none (as Linux ignores it).
struct tcp_fast_open {
  static constexpr std::size_t min_cookie = 4;
  static constexpr std::size_t max_cookie = 16;
  static constexpr std::uint16_t experimental_magic = 0xF989;
  std::array<std::byte, max_cookie> cookie{};
  std::uint8_t len = 0;       // octets of cookie in use; 0: a cookie request
  bool experimental = false;  // sent (or to be sent) in the kind 254 form
  [[nodiscard]] bool request() const { return len == 0; }
  [[nodiscard]] bytes value() const { return bytes{cookie}.first(len); }
  // A cookie of `b` (precondition: a valid length, 4..16 and even).
  [[nodiscard]] static tcp_fast_open of(bytes b, bool experimental = false);
  [[nodiscard]] static bool valid_len(std::size_t n) {
    return n == 0 || (n >= min_cookie && n <= max_cookie && n % 2 == 0);
  }
  friend bool operator==(const tcp_fast_open& a, const tcp_fast_open& b) {
    return a.len == b.len && a.experimental == b.experimental && std::ranges::equal(a.value(), b.value());
  }
};

struct sack_block {
  seq_num left;   // first sequence number of the block
  seq_num right;  // sequence number just after the block
  friend bool operator==(const sack_block&, const sack_block&) = default;
};

struct tcp_timestamps {
  std::uint32_t tsval = 0;
  std::uint32_t tsecr = 0;
  friend bool operator==(const tcp_timestamps&, const tcp_timestamps&) = default;
  // What the option takes in every segment that carries it: 10 octets (RFC 7323 §3.2) behind
  // two NOPs, or beside SACK-permitted on a SYN (RFC 7323 Appendix A) — 12 either way.
  static constexpr std::size_t space = 12;
};

struct unknown_option {
  std::uint8_t kind = 0;
  bytes data;  // the option's bytes after kind and length
  friend bool operator==(const unknown_option& a, const unknown_option& b);
};

struct tcp_options {
  static constexpr std::size_t max_sack_blocks = 4;  // (40 - 2) / 8
  static constexpr std::size_t max_unknown = 8;

  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;  // as received; the TCP layer clamps to 14
  bool sack_permitted = false;
  std::optional<tcp_timestamps> timestamps;
  std::array<sack_block, max_sack_blocks> sack{};
  std::uint8_t sack_count = 0;
  std::array<unknown_option, max_unknown> unknown{};
  std::uint8_t unknown_count = 0;
  std::optional<tcp_fast_open> fast_open;  // RFC 7413

  // Parses an option area (the bytes between the fixed header and the data offset).
  [[nodiscard]] static result<tcp_options, wire_error> parse(bytes area);
  // Bytes emit() writes, padded to a multiple of 4. At most 40 for a valid segment.
  [[nodiscard]] std::size_t buffer_len() const;
  // Writes the options, padded with EOL to buffer_len(). Precondition: out.size() >= buffer_len().
  void emit(mutable_bytes out) const;

  void add_sack(sack_block b) {
    if (sack_count < max_sack_blocks) sack[sack_count++] = b;
  }
  // No options: only what says which are present is reset. The SACK and unknown-option
  // arrays beyond their counts are never read, and zero-filling their ~220 octets per segment
  // is measurable (docs/performance.md).
  void clear() {
    mss.reset();
    window_scale.reset();
    sack_permitted = false;
    timestamps.reset();
    sack_count = 0;
    unknown_count = 0;
    fast_open.reset();
  }
  friend bool operator==(const tcp_options& a, const tcp_options& b);
};

// A validated TCP segment: at least 20 bytes and 20 <= data offset <= length.
class tcp_view {
 public:
  static constexpr std::size_t min_header_len = 20;

  [[nodiscard]] static result<tcp_view, wire_error> parse(bytes segment);

  [[nodiscard]] std::uint16_t src_port() const { return load_be16(&b_[0]); }
  [[nodiscard]] std::uint16_t dst_port() const { return load_be16(&b_[2]); }
  [[nodiscard]] seq_num seq() const { return seq_num{load_be32(&b_[4])}; }
  [[nodiscard]] seq_num ack_num() const { return seq_num{load_be32(&b_[8])}; }
  [[nodiscard]] std::size_t header_len() const { return (load_u8(&b_[12]) >> 4) * 4u; }
  [[nodiscard]] std::uint8_t flags() const { return load_u8(&b_[13]); }
  [[nodiscard]] std::uint16_t window() const { return load_be16(&b_[14]); }
  [[nodiscard]] std::uint16_t checksum() const { return load_be16(&b_[16]); }
  [[nodiscard]] std::uint16_t urgent_ptr() const { return load_be16(&b_[18]); }
  [[nodiscard]] bytes options() const { return b_.subspan(min_header_len, header_len() - min_header_len); }
  [[nodiscard]] bytes payload() const { return b_.subspan(header_len()); }
  [[nodiscard]] bytes all() const { return b_; }
  // Checks the checksum over the pseudo-header (RFC 9293 §3.1) and the whole segment.
  [[nodiscard]] bool verify_checksum(ipv4_addr src, ipv4_addr dst) const;
  // Either family: the IPv6 pseudo-header (RFC 8200 §8.1) for IPv6 addresses. Precondition:
  // src and dst of the same family.
  [[nodiscard]] bool verify_checksum(const ip_addr& src, const ip_addr& dst) const;

 private:
  explicit tcp_view(bytes b) : b_(b) {}
  bytes b_;
};

struct tcp_repr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  seq_num seq;
  std::optional<seq_num> ack;  // present iff the ACK bit is set
  std::uint8_t flags = 0;      // tcp_flag bits except ACK
  std::uint16_t window = 0;    // the raw 16-bit field (unscaled)
  std::uint16_t urgent_ptr = 0;
  tcp_options options;
  bytes payload;

  [[nodiscard]] bool syn() const { return (flags & tcp_flag::syn) != 0; }
  [[nodiscard]] bool fin() const { return (flags & tcp_flag::fin) != 0; }
  [[nodiscard]] bool rst() const { return (flags & tcp_flag::rst) != 0; }
  [[nodiscard]] bool psh() const { return (flags & tcp_flag::psh) != 0; }
  [[nodiscard]] bool urg() const { return (flags & tcp_flag::urg) != 0; }
  // SEG.LEN (RFC 9293 §3.4): payload octets plus one each for SYN and FIN.
  [[nodiscard]] std::uint32_t seg_len() const {
    return static_cast<std::uint32_t>(payload.size()) + (syn() ? 1u : 0u) + (fin() ? 1u : 0u);
  }
  // The flags byte as on the wire (ACK included when ack is present).
  [[nodiscard]] std::uint8_t wire_flags() const {
    return static_cast<std::uint8_t>((flags & ~tcp_flag::ack) | (ack ? tcp_flag::ack : 0));
  }
  // Back to a default-constructed repr's meaning (equal to tcp_repr{}), without zero-filling
  // the option arrays: for a repr reused for every segment.
  void clear() {
    src_port = 0;
    dst_port = 0;
    seq = seq_num{};
    ack.reset();
    flags = 0;
    window = 0;
    urgent_ptr = 0;
    options.clear();
    payload = {};
  }

  // Parses a validated view into `out`; verifies the checksum against the pseudo-header first.
  // Returns the error, if any (then `out` holds no meaningful segment). Parsing in place lets
  // the host reuse one repr for every segment instead of building and copying a ~300-byte
  // value per segment (docs/performance.md).
  [[nodiscard]] static std::optional<wire_error> parse(const tcp_view& v, ipv4_addr src, ipv4_addr dst,
                                                       tcp_repr& out);
  [[nodiscard]] static std::optional<wire_error> parse(const tcp_view& v, const ip_addr& src, const ip_addr& dst,
                                                       tcp_repr& out);
  // The same without the checksum check, for a segment whose link vouches for it (a TUN
  // device's virtio-net header: the local kernel made it, or verified it; rx_meta).
  [[nodiscard]] static std::optional<wire_error> parse_trusted(const tcp_view& v, tcp_repr& out);
  [[nodiscard]] std::size_t header_len() const { return tcp_view::min_header_len + options.buffer_len(); }
  [[nodiscard]] std::size_t buffer_len() const { return header_len() + payload.size(); }
  // Writes header, options, payload and checksum. Preconditions: out.size() >= buffer_len(),
  // options.buffer_len() <= 40 (a peer's packed options may not fit our padded layout).
  void emit(mutable_bytes out, ipv4_addr src, ipv4_addr dst) const;
  void emit(mutable_bytes out, const ip_addr& src, const ip_addr& dst) const;
  // Writes only header and options (checksum zero), for callers that place the payload
  // themselves and then call fill_checksum on the whole segment.
  void emit_header(mutable_bytes out) const;
  static void fill_checksum(mutable_bytes segment, ipv4_addr src, ipv4_addr dst);
  static void fill_checksum(mutable_bytes segment, const ip_addr& src, const ip_addr& dst);
  // Stores only the pseudo-header sum (folded, not complemented) over the segment's length: a
  // partial checksum that a device with checksum offload completes (tx_meta::csum_partial).
  static void fill_partial_checksum(mutable_bytes segment, ipv4_addr src, ipv4_addr dst);
  static void fill_partial_checksum(mutable_bytes segment, const ip_addr& src, const ip_addr& dst);

  friend bool operator==(const tcp_repr& a, const tcp_repr& b);
};

// A whole IPv4 datagram carrying `seg`: the header `ip` describes (its protocol and payload
// length are set here) followed by the segment, checksums included — for whoever crafts
// packets (tests, benchmarks, floods). Returns the datagram's length. Precondition:
// out.size() >= ipv4_repr::buffer_len() + seg.buffer_len().
std::size_t emit_tcp_datagram(mutable_bytes out, ipv4_repr ip, const tcp_repr& seg);
// The same over IPv6: a 40-octet header (no extension headers) and the segment.
std::size_t emit_tcp_datagram(mutable_bytes out, ipv6_repr ip, const tcp_repr& seg);

}  // namespace synack
