#pragma once
// Timers are data (DESIGN.md §2): one small table of optional deadlines per connection;
// next() is their minimum; the driver calls on_timeout when it passes.
#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <string_view>

#include "synack/util/time.hpp"

namespace synack {

enum class timer_kind : std::uint8_t {
  retransmit,   // SYN, SYN-ACK, data and FIN retransmission (RFC 6298)
  time_wait,    // 2 x MSL (RFC 9293 §3.4.2)
  fin_wait_2,   // orphaned FIN-WAIT-2 (Linux tcp_fin_timeout)
  delayed_ack,  // an ACK owed for in-order data (RFC 9293 §3.8.6.3)
  persist,      // zero-window probe, nothing in flight (RFC 9293 §3.8.6.1)
  keepalive,    // keep-alive idle / probe interval, off unless configured (RFC 9293 §3.8.4)
  pmtu_raise,   // try the full MSS again after a Path MTU reduction (RFC 1191 §6.3, RFC 8201 §4)
  loss_probe,   // the probe timeout (PTO) of a Tail Loss Probe (RFC 8985 §7.2)
  rack_reorder, // RACK: a segment becomes lost when its reordering window ends (RFC 8985 §6.2 step 5)
  pacing,       // the next data segment may leave (tcp_config::pacing)
};
inline constexpr std::size_t timer_kind_count = 10;

[[nodiscard]] constexpr std::string_view to_string(timer_kind k) {
  switch (k) {
    case timer_kind::retransmit: return "retransmit";
    case timer_kind::time_wait: return "time-wait";
    case timer_kind::fin_wait_2: return "fin-wait-2";
    case timer_kind::delayed_ack: return "delayed-ack";
    case timer_kind::persist: return "persist";
    case timer_kind::keepalive: return "keepalive";
    case timer_kind::pmtu_raise: return "pmtu-raise";
    case timer_kind::loss_probe: return "loss-probe";
    case timer_kind::rack_reorder: return "rack-reorder";
    case timer_kind::pacing: return "pacing";
  }
  return "?";
}

class timer_table {
 public:
  void set(timer_kind k, instant at) {
    at_[idx(k)] = at;
    armed_ = static_cast<std::uint16_t>(armed_ | bit(k));
  }
  void clear(timer_kind k) { armed_ = static_cast<std::uint16_t>(armed_ & ~bit(k)); }
  void clear_all() { armed_ = 0; }
  [[nodiscard]] std::optional<instant> get(timer_kind k) const {
    if (!armed(k)) return std::nullopt;
    return at_[idx(k)];
  }
  [[nodiscard]] bool armed(timer_kind k) const { return (armed_ & bit(k)) != 0; }
  [[nodiscard]] bool expired(timer_kind k, instant now) const { return armed(k) && at_[idx(k)] <= now; }
  // The deadline of an armed timer (armed(k) must hold).
  [[nodiscard]] instant at(timer_kind k) const { return at_[idx(k)]; }
  // next() as a plain value, `none` when nothing is armed: no optional built and reread on
  // the host's per-event path (schedule).
  [[nodiscard]] instant next_or(instant none) const { return armed_ == 0 ? none : at_[earliest()]; }
  [[nodiscard]] std::optional<instant> next() const {
    const std::optional<timer_kind> k = next_kind();
    if (!k) return std::nullopt;
    return at_[idx(*k)];
  }
  // The earliest armed timer; of equal deadlines, the one listed first in timer_kind.
  [[nodiscard]] std::optional<timer_kind> next_kind() const {
    if (armed_ == 0) return std::nullopt;
    return static_cast<timer_kind>(earliest());
  }

 private:
  // The index of the earliest armed timer (armed_ != 0): only the armed ones are visited, in
  // timer_kind order, and a strict < keeps the first of equal deadlines.
  [[nodiscard]] std::size_t earliest() const {
    unsigned rest = armed_;
    auto best = static_cast<std::size_t>(std::countr_zero(rest));
    for (rest &= rest - 1; rest != 0; rest &= rest - 1) {
      const auto i = static_cast<std::size_t>(std::countr_zero(rest));
      if (at_[i] < at_[best]) best = i;
    }
    return best;
  }
  static constexpr std::size_t idx(timer_kind k) { return static_cast<std::size_t>(k); }
  static constexpr std::uint16_t bit(timer_kind k) { return static_cast<std::uint16_t>(1U << idx(k)); }
  static_assert(timer_kind_count <= 16, "armed_ holds one bit per timer");
  // A deadline per timer and which are armed: 10 x 8 + 2 octets in every TCB, where one
  // std::optional<instant> each took 9 x 16 (an idle connection's size, issue #13).
  std::array<instant, timer_kind_count> at_{};
  std::uint16_t armed_ = 0;
};

}  // namespace synack
