#pragma once
// A byte ring of fixed capacity whose storage is allocated on first write (DESIGN.md §2
// "Buffers are allocated when first needed"), never per segment.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>

#include "synack/wire/bytes.hpp"

namespace synack {

class ring_buffer {
 public:
  explicit ring_buffer(std::size_t capacity = 0) : cap_(capacity) {}

  [[nodiscard]] std::size_t capacity() const { return cap_; }
  [[nodiscard]] std::size_t size() const { return len_; }
  [[nodiscard]] std::size_t free() const { return cap_ - len_; }
  [[nodiscard]] bool empty() const { return len_ == 0; }
  [[nodiscard]] bool allocated() const { return data_ != nullptr; }

  // Changes the capacity; only while empty (returns false otherwise).
  bool set_capacity(std::size_t cap) {
    if (len_ != 0) return false;
    if (cap != cap_) data_.reset();
    cap_ = cap;
    head_ = 0;
    return true;
  }

  // Appends as much of `in` as fits; returns the number of bytes taken.
  std::size_t write(bytes in) {
    const std::size_t n = std::min(in.size(), free());
    if (n == 0) return 0;
    ensure();
    std::size_t tail = (head_ + len_) % cap_;
    const std::size_t first = std::min(n, cap_ - tail);
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
    ensure();
    const std::size_t start = (head_ + offset) % cap_;
    const std::size_t first = std::min(in.size(), cap_ - start);
    std::memcpy(data_.get() + start, in.data(), first);
    std::memcpy(data_.get(), in.data() + first, in.size() - first);
    return true;
  }
  // Makes n bytes already placed by write_at just past the content part of it (n <= free()).
  void commit(std::size_t n) { len_ += std::min(n, free()); }

  // Copies bytes [offset, offset + out.size()) of the content; precondition: in range.
  void peek(std::size_t offset, mutable_bytes out) const {
    if (out.empty()) return;
    const std::size_t start = (head_ + offset) % cap_;
    const std::size_t first = std::min(out.size(), cap_ - start);
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
    head_ = (head_ + n) % cap_;
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
  }

 private:
  void ensure() {
    if (!data_) data_ = std::make_unique_for_overwrite<std::byte[]>(cap_);
  }
  std::unique_ptr<std::byte[]> data_;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;
  std::size_t len_ = 0;
};

}  // namespace synack
