#pragma once
// Writes of whole segments for the sender tests: segment k (1-based) is `smss` octets of
// 'a' + k - 1, at sequence offset off(k) from l(1). The peer announces MSS 1460 and no
// timestamps are negotiated, so a full segment carries 1460 octets.
#include <cstdint>
#include <string>

namespace synack::test {

inline constexpr std::uint32_t smss = 1460;

inline std::string segment(int k) { return std::string(smss, static_cast<char>('a' + k - 1)); }
inline std::string segments(int from, int to) {
  std::string out;
  for (int k = from; k <= to; ++k) out += segment(k);
  return out;
}
inline std::uint32_t off(int k) { return 1 + static_cast<std::uint32_t>(k - 1) * smss; }

}  // namespace synack::test
