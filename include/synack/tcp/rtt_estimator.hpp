#pragma once
// RFC 6298 retransmission timer computation: SRTT, RTTVAR, RTO with a minimum, a maximum and
// exponential backoff. Karn's rule is the caller's: only sample segments never retransmitted.
#include <algorithm>
#include <cstdint>
#include <optional>

#include "synack/util/time.hpp"

namespace synack {

class rtt_estimator {
 public:
  rtt_estimator(duration initial, duration min, duration max) : rto_(initial), min_(min), max_(max) {}

  // RFC 6298 §2.2/2.3 with alpha = 1/8, beta = 1/4, K = 4, G = 1 ms.
  void sample(duration r) {
    latest_ = r;
    ++samples_;
    if (!srtt_) {
      srtt_ = r;
      rttvar_ = r / 2;
    } else {
      const duration err = *srtt_ > r ? *srtt_ - r : r - *srtt_;
      rttvar_ = (3 * rttvar_ + err) / 4;
      srtt_ = (7 * *srtt_ + r) / 8;
    }
    const duration g = std::chrono::milliseconds(1);
    base_ = std::clamp(*srtt_ + std::max(g, 4 * rttvar_), min_, max_);  // §2.4, §2.5
    rto_ = base_;
  }
  // RFC 6298 §5.5: double on each expiry, up to the maximum.
  void backoff() { rto_ = std::min(rto_ * 2, max_); }
  // Karn's algorithm (RFC 6298 §3 and §5): a backed-off RTO is kept until a valid sample
  // "collapses" it (sample() above); an ACK of a retransmitted segment does not reset it.
  // RFC 6298 §5.7: after a SYN timed out, data starts with an RTO of at least 3 s.
  void after_syn_timeout() { rto_ = std::max(rto_, std::min<duration>(std::chrono::seconds(3), max_)); }

  [[nodiscard]] duration rto() const { return rto_; }
  [[nodiscard]] std::optional<duration> srtt() const { return srtt_; }
  [[nodiscard]] duration rttvar() const { return rttvar_; }
  // The last sample and how many there were (a caller tells a new sample by the count).
  [[nodiscard]] std::optional<duration> latest() const { return latest_; }
  [[nodiscard]] std::uint64_t samples() const { return samples_; }

 private:
  duration rto_;
  duration base_{0};
  duration min_;
  duration max_;
  std::optional<duration> srtt_;
  duration rttvar_{0};
  std::optional<duration> latest_;
  std::uint64_t samples_ = 0;
};

}  // namespace synack
