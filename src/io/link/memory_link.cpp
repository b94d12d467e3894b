#include "synack/io/link/memory_link.hpp"

namespace synack::io {

std::pair<std::unique_ptr<memory_link>, std::unique_ptr<memory_link>> memory_link::make_pair() {
  auto a = std::make_unique<memory_link>();
  auto b = std::make_unique<memory_link>();
  a->peer_ = b.get();
  b->peer_ = a.get();
  return {std::move(a), std::move(b)};
}

bool memory_link::send(instant /*now*/, bytes packet) {
  if (peer_ == nullptr) return false;
  peer_->queue_.emplace_back(packet.begin(), packet.end());
  return true;
}

std::size_t memory_link::receive(instant /*now*/, std::size_t max, const packet_sink& sink) {
  std::size_t n = 0;
  while (n < max && !queue_.empty()) {
    const std::vector<std::byte> p = std::move(queue_.front());
    queue_.pop_front();
    sink(bytes{p}, rx_meta{});
    ++n;
  }
  return n;
}

// Waiting packets are due at once: the driver has no descriptor to wait on.
std::optional<instant> memory_link::next_deadline() const {
  if (queue_.empty()) return std::nullopt;
  return instant::zero();
}

}  // namespace synack::io
