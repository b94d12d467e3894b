// IPv6 address text forms: RFC 4291 §2.2 in, RFC 5952 out.
#include "synack/wire/ipv6_addr.hpp"

#include <algorithm>

namespace synack {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Groups of one side of "::" (or of the whole address): hex groups separated by ':', the last
// one possibly a dotted IPv4 address (counted as two groups). False on any malformation.
bool parse_groups(std::string_view s, std::array<std::uint16_t, 8>& out, std::size_t& n, bool v4_allowed) {
  n = 0;
  if (s.empty()) return true;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t end = std::min(s.find(':', pos), s.size());
    const std::string_view part = s.substr(pos, end - pos);
    if (part.find('.') != std::string_view::npos) {  // a dotted IPv4 tail: only last
      if (!v4_allowed || end != s.size() || n > 6) return false;
      auto v4 = ipv4_addr::parse(part);
      if (!v4) return false;
      out[n++] = static_cast<std::uint16_t>(v4->value >> 16);
      out[n++] = static_cast<std::uint16_t>(v4->value & 0xFFFF);
      return true;
    }
    if (part.empty() || part.size() > 4 || n == 8) return false;
    unsigned v = 0;
    for (char c : part) {
      const int d = hex_digit(c);
      if (d < 0) return false;
      v = v * 16 + static_cast<unsigned>(d);
    }
    out[n++] = static_cast<std::uint16_t>(v);
    if (end == s.size()) return true;
    pos = end + 1;
  }
}

}  // namespace

std::optional<ipv6_addr> ipv6_addr::parse(std::string_view text) {
  if (text.size() < 2 || text.size() > 45) return std::nullopt;
  std::array<std::uint16_t, 8> head{};
  std::array<std::uint16_t, 8> tail{};
  std::size_t nh = 0;
  std::size_t nt = 0;
  const std::size_t gap = text.find("::");
  if (gap == std::string_view::npos) {
    if (!parse_groups(text, head, nh, true) || nh != 8) return std::nullopt;
    return from_groups(head);
  }
  if (text.find("::", gap + 1) != std::string_view::npos) return std::nullopt;  // "::" twice
  const std::string_view left = text.substr(0, gap);
  const std::string_view right = text.substr(gap + 2);
  if (!parse_groups(left, head, nh, false) || !parse_groups(right, tail, nt, true)) return std::nullopt;
  if (nh + nt > 7) return std::nullopt;  // "::" stands for at least one group
  std::array<std::uint16_t, 8> g{};
  for (std::size_t i = 0; i < nh; ++i) g[i] = head[i];
  for (std::size_t i = 0; i < nt; ++i) g[8 - nt + i] = tail[i];
  return from_groups(g);
}

std::string ipv6_addr::to_string() const {
  if (is_v4_mapped()) return "::ffff:" + to_v4()->to_string();
  // The longest run of zero groups, two or more long; the first of equal ones.
  std::size_t best = 8;
  std::size_t best_len = 1;
  for (std::size_t i = 0; i < 8;) {
    if (group(i) != 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < 8 && group(j) == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  std::string out;
  out.reserve(39);
  for (std::size_t i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    const std::uint16_t v = group(i);
    bool digits = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned d = (v >> shift) & 0xFu;
      if (d == 0 && !digits && shift != 0) continue;  // leading zeros dropped (§4.1)
      out += "0123456789abcdef"[d];
      digits = true;
    }
  }
  return out;
}

}  // namespace synack
