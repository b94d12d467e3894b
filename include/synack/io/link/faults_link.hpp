#pragma once
// Fault injection over any link, in both directions, from one seeded generator: loss,
// duplication and reordering (a packet held back by `reorder_delay`, so later ones overtake it),
// and a fixed one-way delay for every packet that is not lost (a round trip over a TUN device
// that has none: the kernel this runs on may have no netem). Deterministic for a seed given the
// same packet sequence and times.
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "synack/io/link.hpp"
#include "synack/util/rng.hpp"

namespace synack::io {

struct fault_config {
  double loss = 0.0;       // probability a packet is dropped
  double duplicate = 0.0;  // probability a packet is delivered twice
  double reorder = 0.0;    // probability a packet is held back by reorder_delay
  duration reorder_delay{std::chrono::milliseconds(5)};
  duration delay{0};       // added to every packet each way (a reordered one: delay + reorder_delay)
  std::uint64_t seed = 1;
  [[nodiscard]] bool any() const { return loss > 0 || duplicate > 0 || reorder > 0 || delay > duration{0}; }
};

struct fault_stats {
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
};

class faults_link final : public link_decorator {
 public:
  faults_link(link& inner, const fault_config& cfg);
  bool send(instant now, bytes packet) override;
  std::size_t receive(instant now, std::size_t max, const packet_sink& sink) override;
  // Faults act on packets as the wire carries them: no super-segments through this decorator.
  [[nodiscard]] std::uint32_t tso_max() const override { return 0; }
  [[nodiscard]] std::optional<instant> next_deadline() const override;
  void on_timeout(instant now) override;
  [[nodiscard]] std::string name() const override { return "faults(" + inner().name() + ")"; }
  [[nodiscard]] const fault_stats& stats(bool outbound) const { return outbound ? out_stats_ : in_stats_; }

 private:
  struct held {
    instant due;
    std::vector<std::byte> data;
    rx_meta meta;  // received packets: what the inner link said of it
  };
  // One direction's packets not yet passed on. Each queue is in due order (its packets all wait
  // the same time); `pop_due` takes the earlier front of the two.
  struct held_queues {
    std::deque<held> delayed;    // held by `delay`
    std::deque<held> reordered;  // held by `delay + reorder_delay`
    [[nodiscard]] std::optional<instant> next() const;
    std::optional<held> pop_due(instant now);
  };
  // How many copies to pass on now (0, 1 or 2); the others are queued in `hold`.
  int judge(instant now, bytes packet, held_queues& hold, fault_stats& st, const rx_meta& meta = {});
  fault_config cfg_;
  rng rng_;
  held_queues out_hold_;
  held_queues in_hold_;
  fault_stats out_stats_;
  fault_stats in_stats_;
};

}  // namespace synack::io
