#pragma once
// Time in the sans-IO core is a value passed in, never read (DESIGN.md §1). `instant` is a
// point in microseconds since an arbitrary epoch chosen by whoever drives the core (the event
// loop's steady clock, or the simulator's virtual clock starting at 0).
#include <chrono>
#include <compare>
#include <cstdint>

namespace synack {

using duration = std::chrono::microseconds;
using namespace std::chrono_literals;  // NOLINT: 1s, 200ms read like the RFC

struct instant {
  std::int64_t us = 0;

  static constexpr instant from_us(std::int64_t v) { return instant{v}; }
  static constexpr instant zero() { return instant{0}; }
  static constexpr instant max() { return instant{INT64_MAX}; }

  friend constexpr instant operator+(instant a, duration d) { return instant{a.us + d.count()}; }
  friend constexpr instant operator-(instant a, duration d) { return instant{a.us - d.count()}; }
  friend constexpr duration operator-(instant a, instant b) { return duration{a.us - b.us}; }
  constexpr instant& operator+=(duration d) {
    us += d.count();
    return *this;
  }
  friend constexpr auto operator<=>(instant, instant) = default;
  friend constexpr bool operator==(instant, instant) = default;

  [[nodiscard]] constexpr double seconds() const { return static_cast<double>(us) / 1e6; }
  [[nodiscard]] constexpr std::int64_t millis() const { return us / 1000; }
};

}  // namespace synack
