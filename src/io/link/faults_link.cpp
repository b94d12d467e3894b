#include "synack/io/link/faults_link.hpp"

#include <algorithm>

namespace synack::io {

faults_link::faults_link(link& inner, const fault_config& cfg) : link_decorator(inner), cfg_(cfg), rng_(cfg.seed) {}

std::optional<instant> faults_link::held_queues::next() const {
  std::optional<instant> d;
  if (!delayed.empty()) d = delayed.front().due;
  if (!reordered.empty() && (!d || reordered.front().due < *d)) d = reordered.front().due;
  return d;
}

std::optional<faults_link::held> faults_link::held_queues::pop_due(instant now) {
  const bool r = !reordered.empty() && reordered.front().due <= now;
  const bool d = !delayed.empty() && delayed.front().due <= now;
  if (!r && !d) return std::nullopt;
  // Both due: the earlier first; a tie goes to the delayed one, sent before the reordered one.
  std::deque<held>& q = r && (!d || reordered.front().due < delayed.front().due) ? reordered : delayed;
  held h = std::move(q.front());
  q.pop_front();
  return h;
}

// Draw order is fixed (loss, reorder, duplicate) so a seed replays the same decisions; the
// delay draws nothing.
int faults_link::judge(instant now, bytes packet, held_queues& hold, fault_stats& st, const rx_meta& meta) {
  if (rng_.chance(cfg_.loss)) {
    ++st.lost;
    return 0;
  }
  const bool reorder = rng_.chance(cfg_.reorder);
  const bool dup = rng_.chance(cfg_.duplicate);
  if (dup) ++st.duplicated;
  const auto keep = [&](std::deque<held>& q, duration d) {
    q.push_back(held{now + d, std::vector<std::byte>(packet.begin(), packet.end()), meta});
  };
  int now_copies = dup ? 2 : 1;
  if (reorder) {
    ++st.reordered;
    keep(hold.reordered, cfg_.delay + cfg_.reorder_delay);
    --now_copies;
  }
  if (cfg_.delay > duration{0}) {
    for (int i = 0; i < now_copies; ++i) keep(hold.delayed, cfg_.delay);
    return 0;
  }
  return now_copies;
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
  while (delivered < max) {
    const std::optional<held> h = in_hold_.pop_due(now);
    if (!h) break;
    sink(bytes{h->data}, h->meta);
    ++delivered;
  }
  const std::size_t budget = max - delivered;
  if (budget == 0) return delivered;
  const std::size_t got = inner().receive(now, budget, [&](bytes p, const rx_meta& meta) {
    const int copies = judge(now, p, in_hold_, in_stats_, meta);
    for (int i = 0; i < copies; ++i) sink(p, meta);
    delivered += static_cast<std::size_t>(copies);
  });
  // Report progress whenever the inner link produced packets, even if all were dropped or
  // held, so the driver keeps reading a busy device.
  return std::max(delivered, got);
}

std::optional<instant> faults_link::next_deadline() const {
  std::optional<instant> d = inner().next_deadline();
  for (const held_queues* q : {&out_hold_, &in_hold_}) {
    const std::optional<instant> n = q->next();
    if (n && (!d || *n < *d)) d = n;
  }
  return d;
}

void faults_link::on_timeout(instant now) {
  while (const std::optional<held> h = out_hold_.pop_due(now)) (void)inner().send(now, bytes{h->data});
  inner().on_timeout(now);
}

}  // namespace synack::io
