#pragma once
// HyStart++ (RFC 9406): slow start that watches the round trip time and leaves before it
// overshoots. Each round (a window of data: it ends when an ACK covers what SND.NXT was when
// it began) keeps the smallest RTT sample of its ACKs. Once a round has N_RTT_SAMPLE samples
// and its minimum exceeds the previous round's by RttThresh (1/8 of it, clamped to 4..16 ms),
// the queue at the bottleneck is growing: slow start gives way to Conservative Slow Start
// (CSS), which grows a quarter as fast. A CSS round whose minimum falls back below the RTT
// that triggered it was jitter: slow start resumes. After CSS_ROUNDS rounds of CSS, ssthresh
// becomes cwnd and congestion avoidance begins.
//
// §4.3: only the initial slow start uses it (ssthresh still "arbitrarily high"); the caller
// stops consulting it once a loss has set ssthresh. L (the cap on the bytes one ACK may add)
// is the congestion controller's own byte-counting limit (RFC 3465): the sender does not pace.
//
// Sans-IO: RTT samples and sequence numbers come in; no clock is read.
#include <cstdint>
#include <optional>

#include "synack/util/time.hpp"
#include "synack/wire/seq.hpp"

namespace synack {

class hystart {
 public:
  // RFC 9406 §4.3's recommended constants.
  static constexpr duration min_rtt_thresh = std::chrono::milliseconds(4);
  static constexpr duration max_rtt_thresh = std::chrono::milliseconds(16);
  static constexpr std::uint32_t min_rtt_divisor = 8;
  static constexpr std::uint32_t n_rtt_sample = 8;
  static constexpr std::uint32_t css_growth_divisor = 4;
  static constexpr std::uint32_t css_rounds = 5;

  enum class phase : std::uint8_t {
    slow_start,  // standard slow start, RTTs watched
    css,         // Conservative Slow Start
    done,        // CSS ran its rounds: the caller sets ssthresh = cwnd
  };

  // For every ACK of new data while in the initial slow start: the ACK, SND.NXT now, and the
  // RTT sample this ACK gave (none if it gave none). Returns the phase after it; `done` once
  // (the caller ends slow start), and `done` again on later calls.
  phase on_ack(seq_num ack, seq_num snd_nxt, std::optional<duration> rtt);
  // The bytes of slow-start growth one ACK earns in this phase (CSS: a quarter).
  [[nodiscard]] std::uint32_t growth(std::uint32_t octets) const {
    return phase_ == phase::css ? octets / css_growth_divisor : octets;
  }
  [[nodiscard]] phase current() const { return phase_; }
  // How often CSS was entered and how often jitter sent it back to slow start.
  [[nodiscard]] std::uint32_t css_entries() const { return css_entries_; }
  [[nodiscard]] std::uint32_t css_exits_to_slow_start() const { return css_back_; }

 private:
  void start_round(seq_num snd_nxt);

  phase phase_ = phase::slow_start;
  std::optional<seq_num> window_end_;
  std::optional<duration> last_round_min_;
  std::optional<duration> current_round_min_;
  std::optional<duration> css_baseline_;
  std::uint32_t samples_ = 0;
  std::uint32_t css_round_count_ = 0;
  std::uint32_t css_entries_ = 0;
  std::uint32_t css_back_ = 0;
};

}  // namespace synack
