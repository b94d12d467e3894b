#pragma once
// Two in-memory link ends joined back to back (tests of decorators and of the event loop
// without a device): what one end sends, the other receives. No descriptor (fd() is -1).
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "synack/io/link.hpp"

namespace synack::io {

class memory_link final : public link {
 public:
  // Two connected ends.
  static std::pair<std::unique_ptr<memory_link>, std::unique_ptr<memory_link>> make_pair();
  bool send(instant now, bytes packet) override;
  std::size_t receive(instant now, std::size_t max, const packet_sink& sink) override;
  [[nodiscard]] int fd() const override { return -1; }
  [[nodiscard]] std::optional<instant> next_deadline() const override;
  [[nodiscard]] std::string name() const override { return "memory"; }
  [[nodiscard]] std::size_t pending() const { return queue_.size(); }

 private:
  memory_link* peer_ = nullptr;
  std::deque<std::vector<std::byte>> queue_;
};

}  // namespace synack::io
