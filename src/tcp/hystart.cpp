#include "synack/tcp/hystart.hpp"

#include <algorithm>

namespace synack {

// RFC 9406 §4.2: at the start of each round, the current round's minimum becomes the last
// round's and sampling starts again; the round ends when SND.NXT of now is acknowledged.
void hystart::start_round(seq_num snd_nxt) {
  last_round_min_ = current_round_min_;
  current_round_min_.reset();
  samples_ = 0;
  window_end_ = snd_nxt;
}

hystart::phase hystart::on_ack(seq_num ack, seq_num snd_nxt, std::optional<duration> rtt) {
  if (phase_ == phase::done) return phase_;
  if (!window_end_) {
    start_round(snd_nxt);
  } else if (!ack.before(*window_end_)) {
    start_round(snd_nxt);
    // §4.2: "If CSS_ROUNDS rounds are complete in CSS, enter congestion avoidance".
    if (phase_ == phase::css && ++css_round_count_ >= css_rounds) {
      phase_ = phase::done;
      return phase_;
    }
  }
  if (rtt) {
    current_round_min_ = current_round_min_ ? std::min(*current_round_min_, *rtt) : *rtt;
    ++samples_;
  }
  if (samples_ < n_rtt_sample || !current_round_min_) return phase_;
  if (phase_ == phase::slow_start) {
    if (!last_round_min_) return phase_;
    // RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR, MAX_RTT_THRESH))
    const duration thresh = std::clamp(*last_round_min_ / min_rtt_divisor, min_rtt_thresh, max_rtt_thresh);
    if (*current_round_min_ >= *last_round_min_ + thresh) {
      css_baseline_ = current_round_min_;
      css_round_count_ = 0;
      phase_ = phase::css;
      ++css_entries_;
    }
  } else if (phase_ == phase::css && css_baseline_ && *current_round_min_ < *css_baseline_) {
    // The RTT came back down: the increase was jitter, not a queue (§4.2).
    css_baseline_.reset();
    phase_ = phase::slow_start;
    ++css_back_;
  }
  return phase_;
}

}  // namespace synack
