#include "synack/io/link/faults_link.hpp"

#include <algorithm>

namespace synack::io {

faults_link::faults_link(link& inner, const fault_config& cfg) : link_decorator(inner), cfg_(cfg), rng_(cfg.seed) {}

// Draw order is fixed (loss, reorder, duplicate) so a seed replays the same decisions.
int faults_link::judge(instant now, bytes packet, std::deque<held>& hold, fault_stats& st, const rx_meta& meta) {
  if (rng_.chance(cfg_.loss)) {
    ++st.lost;
    return 0;
  }
  const bool reorder = rng_.chance(cfg_.reorder);
  const bool dup = rng_.chance(cfg_.duplicate);
  if (dup) ++st.duplicated;
  if (reorder) {
    ++st.reordered;
    hold.push_back(held{now + cfg_.reorder_delay, std::vector<std::byte>(packet.begin(), packet.end()), meta});
    return dup ? 1 : 0;
  }
  return dup ? 2 : 1;
}

bool faults_link::send(instant now, bytes packet) {
  on_timeout(now);
  const int copies = judge(now, packet, out_hold_, out_stats_);
  bool ok = true;
  for (int i = 0; i < copies; ++i) ok = inner().send(now, packet) && ok;
  return ok;
}

std::size_t faults_link::receive(instant now, std::size_t max, const packet_sink& sink) {
  std::size_t delivered = 0;
  while (!in_hold_.empty() && in_hold_.front().due <= now && delivered < max) {
    const held h = std::move(in_hold_.front());
    in_hold_.pop_front();
    sink(bytes{h.data}, h.meta);
    ++delivered;
  }
  const std::size_t budget = max - delivered;
  if (budget == 0) return delivered;
  const std::size_t got = inner().receive(now, budget, [&](bytes p, const rx_meta& meta) {
    const int copies = judge(now, p, in_hold_, in_stats_, meta);
    for (int i = 0; i < copies; ++i) sink(p, meta);
    delivered += static_cast<std::size_t>(copies);
  });
  // Report progress whenever the inner link produced packets, even if all were dropped, so the
  // driver keeps reading a busy device.
  return std::max(delivered, got);
}

std::optional<instant> faults_link::next_deadline() const {
  std::optional<instant> d = inner().next_deadline();
  auto consider = [&](const std::deque<held>& q) {
    if (!q.empty() && (!d || q.front().due < *d)) d = q.front().due;
  };
  consider(out_hold_);
  consider(in_hold_);
  return d;
}

void faults_link::on_timeout(instant now) {
  while (!out_hold_.empty() && out_hold_.front().due <= now) {
    const held h = std::move(out_hold_.front());
    out_hold_.pop_front();
    (void)inner().send(now, bytes{h.data});
  }
  inner().on_timeout(now);
}

}  // namespace synack::io
