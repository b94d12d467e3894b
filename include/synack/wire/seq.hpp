#pragma once
// Sequence numbers are a type (DESIGN.md §2): a point modulo 2^32 (`seq_num`) and a distance
// (`seq_len`). Comparisons are named, RFC 9293 §3.4 style; there is deliberately no operator<,
// because modular order is not a strict weak ordering.
#include <compare>
#include <cstdint>

namespace synack {

struct seq_len {
  std::uint32_t n = 0;
  friend constexpr bool operator==(seq_len, seq_len) = default;
  friend constexpr auto operator<=>(seq_len, seq_len) = default;  // lengths are plain numbers
  friend constexpr seq_len operator+(seq_len a, seq_len b) { return seq_len{a.n + b.n}; }
  friend constexpr seq_len operator-(seq_len a, seq_len b) { return seq_len{a.n - b.n}; }
};

struct seq_num {
  std::uint32_t raw = 0;

  friend constexpr bool operator==(seq_num, seq_num) = default;
  friend constexpr seq_num operator+(seq_num a, seq_len d) { return seq_num{a.raw + d.n}; }
  friend constexpr seq_num operator-(seq_num a, seq_len d) { return seq_num{a.raw - d.n}; }
  constexpr seq_num& operator+=(seq_len d) {
    raw += d.n;
    return *this;
  }
  [[nodiscard]] constexpr seq_num next(std::uint32_t k = 1) const { return seq_num{raw + k}; }

  // Signed modular difference this - other, in (-2^31, 2^31].
  [[nodiscard]] constexpr std::int32_t diff(seq_num other) const {
    return static_cast<std::int32_t>(raw - other.raw);
  }
  // RFC 9293 §3.4: a < b, a <= b, a > b, a >= b modulo 2^32.
  [[nodiscard]] constexpr bool before(seq_num b) const { return diff(b) < 0; }
  [[nodiscard]] constexpr bool before_eq(seq_num b) const { return diff(b) <= 0; }
  [[nodiscard]] constexpr bool after(seq_num b) const { return diff(b) > 0; }
  [[nodiscard]] constexpr bool after_eq(seq_num b) const { return diff(b) >= 0; }
  // left <= this < left + len. An empty window contains nothing.
  [[nodiscard]] constexpr bool in_window(seq_num left, std::uint32_t len) const {
    return raw - left.raw < len;
  }
  // left <= this <= right (inclusive on both ends, modulo 2^32).
  [[nodiscard]] constexpr bool between(seq_num left, seq_num right) const {
    return raw - left.raw <= right.raw - left.raw;
  }
};

// Distance from `from` to `to` (to - from), which the caller knows is non-negative.
[[nodiscard]] constexpr seq_len distance(seq_num from, seq_num to) { return seq_len{to.raw - from.raw}; }
[[nodiscard]] constexpr seq_num seq_max(seq_num a, seq_num b) { return a.after(b) ? a : b; }
[[nodiscard]] constexpr seq_num seq_min(seq_num a, seq_num b) { return a.before(b) ? a : b; }

}  // namespace synack
