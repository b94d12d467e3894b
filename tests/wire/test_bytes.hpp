#pragma once
// Test helpers: byte vectors from hex text ("45 00 00 3c ..."), and back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "synack/wire/bytes.hpp"

namespace synack::test {

inline std::vector<std::byte> from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  int nibbles = 0;
  unsigned acc = 0;
  for (char c : hex) {
    unsigned v = 0;
    if (c >= '0' && c <= '9') {
      v = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v = static_cast<unsigned>(c - 'A' + 10);
    } else {
      continue;  // spaces, newlines
    }
    acc = (acc << 4) | v;
    if (++nibbles == 2) {
      out.push_back(static_cast<std::byte>(acc));
      nibbles = 0;
      acc = 0;
    }
  }
  return out;
}

inline std::string to_hex(bytes b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i > 0) s.push_back(' ');
    const auto v = static_cast<unsigned>(b[i]);
    s.push_back(digits[v >> 4]);
    s.push_back(digits[v & 0xF]);
  }
  return s;
}

inline std::vector<std::byte> from_string(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

}  // namespace synack::test
