#pragma once
// IPv4 (RFC 791): a checked view over bytes and a repr of its meaning.
#include <cstdint>

#include "synack/util/result.hpp"
#include "synack/wire/bytes.hpp"
#include "synack/wire/error.hpp"
#include "synack/wire/ipv4_addr.hpp"

namespace synack {

enum class ip_proto : std::uint8_t { icmp = 1, tcp = 6, udp = 17 };  // open: any value is valid

// A validated IPv4 packet. parse() checks version, IHL, total length against the buffer and the
// header checksum, and refuses fragments (no reassembly; see wire_error::fragment). After that
// the accessors are unchecked. The view does not own its bytes.
class ipv4_view {
 public:
  static constexpr std::size_t min_header_len = 20;

  [[nodiscard]] static result<ipv4_view, wire_error> parse(bytes packet);

  [[nodiscard]] std::uint8_t header_len() const { return static_cast<std::uint8_t>((load_u8(&b_[0]) & 0x0F) * 4); }
  [[nodiscard]] std::uint8_t dscp_ecn() const { return load_u8(&b_[1]); }
  [[nodiscard]] std::uint16_t total_len() const { return load_be16(&b_[2]); }
  [[nodiscard]] std::uint16_t ident() const { return load_be16(&b_[4]); }
  [[nodiscard]] bool dont_fragment() const { return (load_u8(&b_[6]) & 0x40) != 0; }
  [[nodiscard]] bool more_fragments() const { return (load_u8(&b_[6]) & 0x20) != 0; }
  [[nodiscard]] std::uint16_t frag_offset() const { return load_be16(&b_[6]) & 0x1FFF; }
  [[nodiscard]] std::uint8_t ttl() const { return load_u8(&b_[8]); }
  [[nodiscard]] ip_proto protocol() const { return static_cast<ip_proto>(load_u8(&b_[9])); }
  [[nodiscard]] std::uint16_t checksum() const { return load_be16(&b_[10]); }
  [[nodiscard]] ipv4_addr src() const { return ipv4_addr{load_be32(&b_[12])}; }
  [[nodiscard]] ipv4_addr dst() const { return ipv4_addr{load_be32(&b_[16])}; }
  [[nodiscard]] bytes options() const { return b_.subspan(min_header_len, header_len() - min_header_len); }
  [[nodiscard]] bytes payload() const { return b_.subspan(header_len(), total_len() - header_len()); }
  [[nodiscard]] bytes header() const { return b_.first(header_len()); }

 private:
  explicit ipv4_view(bytes b) : b_(b) {}
  bytes b_;
};

// The meaning of an IPv4 header. Options are not emitted (received ones are skipped).
struct ipv4_repr {
  ipv4_addr src;
  ipv4_addr dst;
  ip_proto protocol = ip_proto::tcp;
  std::uint16_t payload_len = 0;
  std::uint8_t ttl = 64;
  std::uint16_t ident = 0;
  bool dont_fragment = true;
  std::uint8_t dscp_ecn = 0;

  [[nodiscard]] static ipv4_repr parse(const ipv4_view& v);
  [[nodiscard]] static constexpr std::size_t buffer_len() { return ipv4_view::min_header_len; }
  // Writes the 20-byte header, checksum included. Precondition: out.size() >= buffer_len().
  void emit(mutable_bytes out) const;

  friend bool operator==(const ipv4_repr&, const ipv4_repr&) = default;
};

}  // namespace synack
