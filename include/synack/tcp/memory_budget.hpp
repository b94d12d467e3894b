#pragma once
// A host-wide budget for buffer memory, as Linux's net.ipv4.tcp_mem (issue #13 case 5): the
// host owns one; every connection charges to it what its buffers hold allocated now (send and
// receive ring storage, out-of-order blocks) through a memory_charge, and reads the level to
// adapt (tcp/connection.cpp):
//   normal    below `pressure` (or back below `low` after pressure): no restriction.
//   pressure  above `pressure` until back below `low`: advertised windows open by at most
//             4 MSS beyond what was offered (never retracted), out-of-order data is pruned and
//             not held, send buffers do not grow past their storage, drained rings give their
//             storage back, zero-window holders are given up after tcp_config::zero_window_timeout.
//   hard      above `hard`: send() takes nothing, receive windows do not open at all.
// Limits of 0 are "unlimited" (the level stays normal). Plain data: no clock, no globals.
#include <cstddef>
#include <cstdint>

namespace synack {

struct memory_limits {
  std::size_t low = 0;       // pressure ends below this (tcp_mem[0])
  std::size_t pressure = 0;  // pressure starts above this (tcp_mem[1]); 0: never
  std::size_t hard = 0;      // new data refused above this (tcp_mem[2]); 0: never
};

enum class memory_level : std::uint8_t { normal, pressure, hard };

[[nodiscard]] constexpr const char* to_string(memory_level l) {
  switch (l) {
    case memory_level::normal: return "normal";
    case memory_level::pressure: return "pressure";
    case memory_level::hard: return "hard";
  }
  return "?";
}

// What the budget's rules did (copied into host_counters::memory).
struct memory_stats {
  std::uint64_t pressure_entered = 0;    // times the level went from normal to pressure or hard
  std::uint64_t hard_entered = 0;        // times it went above the hard limit
  std::uint64_t ooo_pruned_bytes = 0;    // out-of-order octets freed (buffer charge or pressure)
  std::uint64_t send_refused = 0;        // send() calls that took less than offered for memory
  std::uint64_t window_clamped = 0;      // windows offered smaller than the free buffer
  std::uint64_t storage_released = 0;    // drained rings whose storage went back under pressure
  std::uint64_t zero_window_aborts = 0;  // zero-window holders reset under pressure
  std::uint64_t orphan_resets = 0;       // orphans reset: too many, or beyond the hard limit
};

class memory_budget {
 public:
  explicit memory_budget(memory_limits l = {}) : limits_(l) {}

  void set_limits(memory_limits l) {
    limits_ = l;
    update();
  }
  [[nodiscard]] const memory_limits& limits() const { return limits_; }

  void charge(std::size_t n) {
    allocated_ += n;
    if (allocated_ > peak_) peak_ = allocated_;
    if (level_may_change()) update();
  }
  void uncharge(std::size_t n) {
    allocated_ -= n < allocated_ ? n : allocated_;
    if (level_may_change()) update();
  }
  // Bytes of buffer storage the connections hold now, and the most they ever held.
  [[nodiscard]] std::size_t allocated() const { return allocated_; }
  [[nodiscard]] std::size_t peak() const { return peak_; }
  [[nodiscard]] memory_level level() const { return level_; }
  [[nodiscard]] memory_stats& stats() { return stats_; }
  [[nodiscard]] const memory_stats& stats() const { return stats_; }

 private:
  // False when update() would leave the level normal and count nothing: the budget is normal
  // and above neither limit (the common case, and every case without limits).
  [[nodiscard]] bool level_may_change() const {
    return level_ != memory_level::normal || (limits_.hard != 0 && allocated_ > limits_.hard) ||
           (limits_.pressure != 0 && allocated_ > limits_.pressure);
  }
  // Out of line and cold: under memory pressure only (docs/performance.md, issue #12).
  [[gnu::cold, gnu::noinline]] void update() {
    const memory_level before = level_;
    if (limits_.hard != 0 && allocated_ > limits_.hard) {
      level_ = memory_level::hard;
    } else if (limits_.pressure != 0 && allocated_ > limits_.pressure) {
      level_ = memory_level::pressure;
    } else if (level_ != memory_level::normal && (limits_.pressure == 0 || allocated_ < limits_.low)) {
      level_ = memory_level::normal;
    } else if (level_ == memory_level::hard) {
      level_ = memory_level::pressure;  // below hard, not yet below low: still pressure
    }
    if (before == memory_level::normal && level_ != memory_level::normal) ++stats_.pressure_entered;
    if (before != memory_level::hard && level_ == memory_level::hard) ++stats_.hard_entered;
  }
  memory_limits limits_;
  std::size_t allocated_ = 0;
  std::size_t peak_ = 0;
  memory_level level_ = memory_level::normal;
  memory_stats stats_;
};

// One connection's share of a budget: set(n) charges the difference since the last call.
// Detached (no budget: a connection on its own in tests) it only remembers. A copy (a TCB
// snapshot) is detached and charges nothing; destruction gives the share back.
class memory_charge {
 public:
  memory_charge() = default;
  memory_charge(const memory_charge&) {}
  memory_charge& operator=(const memory_charge& o) {
    if (this != &o) detach();
    return *this;
  }
  ~memory_charge() { detach(); }

  void attach(memory_budget* b) {
    detach();
    budget_ = b;
  }
  void detach() {
    set(0);
    budget_ = nullptr;
  }
  void set(std::size_t n) {
    if (budget_ != nullptr) {
      if (n > charged_) budget_->charge(n - charged_);
      if (n < charged_) budget_->uncharge(charged_ - n);
    }
    charged_ = n;
  }
  [[nodiscard]] std::size_t charged() const { return charged_; }
  [[nodiscard]] memory_level level() const { return budget_ != nullptr ? budget_->level() : memory_level::normal; }
  [[nodiscard]] bool attached() const { return budget_ != nullptr; }
  // Counting for the budget's stats (nothing when detached).
  void note_pruned(std::size_t n) {
    if (budget_ != nullptr && n != 0) budget_->stats().ooo_pruned_bytes += n;
  }
  void note(std::uint64_t memory_stats::*field) {
    if (budget_ != nullptr) ++(budget_->stats().*field);
  }

 private:
  memory_budget* budget_ = nullptr;
  std::size_t charged_ = 0;
};

}  // namespace synack
