#pragma once
// A byte ring of fixed capacity whose storage follows the bytes it holds (DESIGN.md §2
// "Buffers are allocated when first needed"; issue #13 "memory that follows the bytes"): the
// first write allocates min_storage (or the capacity if smaller), and a write that needs more
// doubles it, up to the capacity. A connection that carried a few bytes holds a few KiB, not
// its whole buffer; a bulk one reaches the capacity after log2(capacity / min_storage) copies,
// once. Never per segment.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>
#include <memory>

#include "synack/wire/bytes.hpp"

namespace synack {

class ring_buffer {
 public:
  static constexpr std::size_t min_storage = 2048;

  explicit ring_buffer(std::size_t capacity = 0) : cap_(capacity) {}

  [[nodiscard]] std::size_t capacity() const { return cap_; }
  [[nodiscard]] std::size_t size() const { return len_; }
  [[nodiscard]] std::size_t free() const { return cap_ - len_; }
  [[nodiscard]] bool empty() const { return len_ == 0; }
  [[nodiscard]] bool allocated() const { return data_ != nullptr; }
  // Bytes of storage held now (<= capacity()).
  [[nodiscard]] std::size_t storage() const { return alloc_; }

  // Changes the capacity; only while empty (returns false otherwise).
  bool set_capacity(std::size_t cap) {
    if (len_ != 0) return false;
    if (cap != cap_) data_.reset(), alloc_ = 0;
    cap_ = cap;
    head_ = 0;
    return true;
  }

  // Appends as much of `in` as fits; returns the number of bytes taken.
  std::size_t write(bytes in) {
    const std::size_t n = std::min(in.size(), free());
    if (n == 0) return 0;
    ensure(len_ + n);
    std::size_t tail = (head_ + len_) % alloc_;
    const std::size_t first = std::min(n, alloc_ - tail);
    std::memcpy(data_.get() + tail, in.data(), first);
    std::memcpy(data_.get(), in.data() + first, n - first);
    len_ += n;
    return n;
  }

  // Writes `in` at content offset `offset` >= size(), into the free space beyond the content
  // (out-of-order bytes held for reassembly); they become content only through commit().
  // Returns false (writing nothing) if it does not fit within the capacity.
  bool write_at(std::size_t offset, bytes in) {
    if (offset < len_ || offset > cap_ || in.size() > cap_ - offset) return false;
    if (in.empty()) return true;
    ensure(offset + in.size());
    const std::size_t start = (head_ + offset) % alloc_;
    const std::size_t first = std::min(in.size(), alloc_ - start);
    std::memcpy(data_.get() + start, in.data(), first);
    std::memcpy(data_.get(), in.data() + first, in.size() - first);
    return true;
  }
  // Makes n bytes already placed by write_at just past the content part of it (n <= free()).
  void commit(std::size_t n) { len_ += std::min(n, free()); }

  // Copies bytes [offset, offset + out.size()) of the content; precondition: in range.
  void peek(std::size_t offset, mutable_bytes out) const {
    if (out.empty()) return;
    const std::size_t start = (head_ + offset) % alloc_;
    const std::size_t first = std::min(out.size(), alloc_ - start);
    std::memcpy(out.data(), data_.get() + start, first);
    std::memcpy(out.data() + first, data_.get(), out.size() - first);
  }

  // Drops the first n bytes (n <= size()).
  void consume(std::size_t n) {
    n = std::min(n, len_);
    if (n == 0) return;
    // head_ moves even when the ring empties: bytes held beyond the content by write_at keep
    // their place.
    len_ -= n;
    head_ = (head_ + n) % alloc_;
  }

  // Copies out and consumes up to out.size() bytes; returns the count.
  std::size_t read(mutable_bytes out) {
    const std::size_t n = std::min(out.size(), len_);
    peek(0, out.first(n));
    consume(n);
    return n;
  }

  void clear() {
    len_ = 0;
    head_ = 0;
  }
  // Frees the storage (e.g. when a connection shrinks to TIME-WAIT).
  void release() {
    clear();
    data_.reset();
    alloc_ = 0;
  }

 private:
  // Storage for content offsets [0, need): doubles (from min_storage) until it covers them.
  // Growing keeps every byte at its offset from head_, including those write_at placed beyond
  // the content, by copying the old ring rotated so that head_ becomes 0.
  void ensure(std::size_t need) {
    if (need <= alloc_) return;
    std::size_t next = std::max(alloc_ == 0 ? min_storage : alloc_ * 2, std::bit_ceil(need));
    next = std::min(next, cap_);
    auto grown = std::make_unique_for_overwrite<std::byte[]>(next);
    if (data_) {
      std::memcpy(grown.get(), data_.get() + head_, alloc_ - head_);
      std::memcpy(grown.get() + (alloc_ - head_), data_.get(), head_);
    }
    data_ = std::move(grown);
    alloc_ = next;
    head_ = 0;
  }
  std::unique_ptr<std::byte[]> data_;
  std::size_t cap_ = 0;
  std::size_t alloc_ = 0;  // storage size; the ring wraps at alloc_
  std::size_t head_ = 0;
  std::size_t len_ = 0;
};

}  // namespace synack
