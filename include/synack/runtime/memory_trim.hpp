#pragma once
// Freed buffer memory given back to the system when a host's memory pressure ends (issue #13
// case 5). The host is sans-IO: under pressure it frees ring storage (tcp/memory_budget.hpp),
// but glibc's allocator keeps freed pages in its arenas, so the process's RSS stays at its peak
// (five rounds of 500 zero-window holders levelled off at 252 MB). Only the runtime may make
// the call that returns them, malloc_trim(0); it makes it when host::memory().level goes from
// pressure (or hard) back to normal — the moment the memory pressure freed is free — and not
// more often than once per `min_interval`, because a trim walks every arena (milliseconds with
// hundreds of MiB) and a host hovering around its `low` threshold would otherwise trim on every
// turn. A transition sooner than that waits (next_deadline()); pressure coming back cancels it.
#include <cstdint>
#include <functional>
#include <optional>

#include "synack/tcp/memory_budget.hpp"
#include "synack/util/time.hpp"

namespace synack::runtime {

struct memory_trim_options {
  bool enabled = true;
  duration min_interval = std::chrono::seconds(1);
  // What a trim does; empty: malloc_trim(0) (glibc; nothing with another C library). Tests
  // inject a counter.
  std::function<void()> trim;
};

// malloc_trim(0) where the C library has it.
void release_free_memory();

class memory_trimmer {
 public:
  explicit memory_trimmer(memory_trim_options o = {}) : opt_(std::move(o)) {}

  void set_options(memory_trim_options o) {
    opt_ = std::move(o);
    if (!opt_.enabled) pending_ = false;
  }
  // After each turn, with the host's level at `now`.
  void observe(instant now, memory_level level);
  // When a held-back trim is due (the loop wakes for it); nullopt when none waits.
  [[nodiscard]] std::optional<instant> next_deadline() const;
  // Trims made.
  [[nodiscard]] std::uint64_t trims() const { return trims_; }

 private:
  void trim(instant now);

  memory_trim_options opt_;
  memory_level last_ = memory_level::normal;
  bool pending_ = false;  // pressure ended within min_interval of the last trim
  std::optional<instant> last_trim_;
  std::uint64_t trims_ = 0;
};

}  // namespace synack::runtime
