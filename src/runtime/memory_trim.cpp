// memory_trimmer: malloc_trim(0) when a host's memory pressure ends (see the header).
#include "synack/runtime/memory_trim.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace synack::runtime {

void release_free_memory() {
#if defined(__GLIBC__)
  (void)::malloc_trim(0);
#endif
}

void memory_trimmer::observe(instant now, memory_level level) {
  const memory_level before = last_;
  last_ = level;
  if (!opt_.enabled) return;
  if (level != memory_level::normal) {
    pending_ = false;  // pressure again: the trim waits for its end
    return;
  }
  if (before != memory_level::normal) pending_ = true;
  if (pending_ && (!last_trim_ || now - *last_trim_ >= opt_.min_interval)) trim(now);
}

std::optional<instant> memory_trimmer::next_deadline() const {
  if (!pending_ || !last_trim_) return std::nullopt;
  return *last_trim_ + opt_.min_interval;
}

void memory_trimmer::trim(instant now) {
  pending_ = false;
  last_trim_ = now;
  ++trims_;
  if (opt_.trim) {
    opt_.trim();
  } else {
    release_free_memory();
  }
}

}  // namespace synack::runtime
