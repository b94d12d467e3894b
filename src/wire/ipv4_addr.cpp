// IPv4 address text form: the dotted quad of RFC 791 §3.2 / RFC 1123 §2.1, parsed strictly.
#include "synack/wire/ipv4_addr.hpp"

namespace synack {

// Exactly four decimal octets 0..255 separated by '.', nothing else: no sign, no empty part,
// no surrounding space, no trailing junk. A leading zero ("010") is refused too, because
// inet_aton() reads it as octal and the two readings must never silently disagree.
std::optional<ipv4_addr> ipv4_addr::parse(std::string_view text) {
  std::uint32_t value = 0;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return std::nullopt;
      ++pos;
    }
    const std::size_t start = pos;
    unsigned octet = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start == 3) return std::nullopt;  // a fourth digit: out of range anyway
      octet = octet * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    const std::size_t digits = pos - start;
    if (digits == 0 || octet > 255) return std::nullopt;
    if (digits > 1 && text[start] == '0') return std::nullopt;
    value = (value << 8) | octet;
  }
  if (pos != text.size()) return std::nullopt;
  return ipv4_addr{value};
}

std::string ipv4_addr::to_string() const {
  std::string out;
  out.reserve(15);
  for (int shift = 24; shift >= 0; shift -= 8) {
    if (shift != 24) out.push_back('.');
    out += std::to_string((value >> shift) & 0xFF);
  }
  return out;
}

}  // namespace synack
