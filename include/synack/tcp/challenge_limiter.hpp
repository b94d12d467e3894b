#pragma once
// RFC 5961 §7: a per-connection budget for challenge ACKs (and other dataless ACKs sent in
// answer to unacceptable segments). Never global: a shared counter is a side channel
// (CVE-2016-5696).
#include <cstdint>

#include "synack/util/time.hpp"

namespace synack {

class challenge_limiter {
 public:
  // True if one more ACK may go out at `now` given `limit` per `window`.
  bool allow(instant now, std::uint32_t limit, duration window) {
    if (now - start_ >= window) {
      start_ = now;
      count_ = 0;
    }
    if (count_ >= limit) return false;
    ++count_;
    return true;
  }

 private:
  instant start_{INT64_MIN / 2};
  std::uint32_t count_ = 0;
};

}  // namespace synack
