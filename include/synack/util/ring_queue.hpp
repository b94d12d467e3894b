#pragma once
// A FIFO queue over one std::vector whose capacity doubles when full and never shrinks, so a
// queue that merely cycles (push at the back, pop at the front) stops allocating once it has
// reached its high-water mark. std::deque does not: libstdc++ frees a block when the front
// leaves it and allocates one when the back enters a new one (docs/performance.md).
//
// T must be default-constructible and copy- or move-assignable; popped elements are left in
// place (not destroyed) until overwritten, which suits the small value types it holds.
#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace synack {

template <class T>
class ring_queue {
 public:
  ring_queue() = default;
  explicit ring_queue(std::size_t capacity) { reserve(capacity); }

  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] std::size_t capacity() const { return buf_.size(); }

  [[nodiscard]] T& front() {
    assert(size_ > 0);
    return buf_[head_];
  }
  [[nodiscard]] const T& front() const {
    assert(size_ > 0);
    return buf_[head_];
  }
  // The i-th element from the front (0 is the front).
  [[nodiscard]] T& operator[](std::size_t i) {
    assert(i < size_);
    return buf_[(head_ + i) & mask()];
  }
  [[nodiscard]] const T& operator[](std::size_t i) const {
    assert(i < size_);
    return buf_[(head_ + i) & mask()];
  }

  void push_back(const T& v) {
    if (size_ == buf_.size()) grow(size_ + 1);
    buf_[(head_ + size_) & mask()] = v;
    ++size_;
  }
  void push_back(T&& v) {
    if (size_ == buf_.size()) grow(size_ + 1);
    buf_[(head_ + size_) & mask()] = std::move(v);
    ++size_;
  }
  void pop_front() {
    assert(size_ > 0);
    head_ = (head_ + 1) & mask();
    --size_;
  }
  void clear() {
    head_ = 0;
    size_ = 0;
  }
  // Makes room for n elements without further allocation.
  void reserve(std::size_t n) {
    if (n > buf_.size()) grow(n);
  }
  // Removes every element equal to v, keeping the order of the rest; returns how many went.
  std::size_t erase(const T& v) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < size_; ++i) {
      T& x = (*this)[i];
      if (x == v) continue;
      if (kept != i) (*this)[kept] = std::move(x);
      ++kept;
    }
    const std::size_t removed = size_ - kept;
    size_ = kept;
    return removed;
  }

 private:
  [[nodiscard]] std::size_t mask() const { return buf_.size() - 1; }

  // Capacity stays a power of two, so an index wraps with a mask. Out of line and cold: a
  // queue grows a few times in its life (docs/performance.md, issue #12).
  [[gnu::cold, gnu::noinline]] void grow(std::size_t at_least) {
    std::size_t cap = buf_.empty() ? 8 : buf_.size() * 2;
    while (cap < at_least) cap *= 2;
    std::vector<T> next(cap);
    for (std::size_t i = 0; i < size_; ++i) next[i] = std::move((*this)[i]);
    buf_ = std::move(next);
    head_ = 0;
  }

  std::vector<T> buf_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace synack
