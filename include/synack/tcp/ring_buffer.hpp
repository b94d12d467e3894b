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

// Up to two spans of a ring's storage, in order: `second` is empty unless the range wraps
// around the end of the storage. Callers read or fill them in place (readv/writev straight
// from or into a connection's buffers).
template <class Span>
struct ring_spans {
  Span first;
  Span second;
  [[nodiscard]] std::size_t size() const { return first.size() + second.size(); }
  [[nodiscard]] bool empty() const { return first.empty() && second.empty(); }
};
using ring_view = ring_spans<bytes>;           // content, read in place (ring_buffer::content)
using ring_space = ring_spans<mutable_bytes>;  // free space, filled in place (ring_buffer::reserve)

// Copies the first min(v.size(), out.size()) bytes of `v` into `out`; returns the count.
inline std::size_t copy_out(const ring_view& v, mutable_bytes out) {
  const std::size_t a = std::min(v.first.size(), out.size());
  const std::size_t b = std::min(v.second.size(), out.size() - a);
  if (a > 0) std::memcpy(out.data(), v.first.data(), a);
  if (b > 0) std::memcpy(out.data() + a, v.second.data(), b);
  return a + b;
}
// Copies the first min(s.size(), in.size()) bytes of `in` into `s`; returns the count.
inline std::size_t copy_in(const ring_space& s, bytes in) {
  const std::size_t a = std::min(s.first.size(), in.size());
  const std::size_t b = std::min(s.second.size(), in.size() - a);
  if (a > 0) std::memcpy(s.first.data(), in.data(), a);
  if (b > 0) std::memcpy(s.second.data(), in.data() + a, b);
  return a + b;
}

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
    const std::size_t n = copy_in(reserve(in.size()), in);
    commit(n);
    return n;
  }

  // The content in place, as up to two spans (empty when the ring is). Valid until the next
  // call that changes the ring (a write, reserve, consume, read, clear or release).
  [[nodiscard]] ring_view content() const {
    const ring_space s = storage_for(0, len_);
    return {s.first, s.second};
  }

  // The first min(max, free()) bytes of free space right after the content, as up to two
  // spans to fill in place, the storage grown to hold them as write() grows it (doubling,
  // within the capacity). Filling a prefix of them and calling commit(n) appends those n
  // bytes: write() is reserve + copy + commit. Valid until the next call other than commit;
  // the space is the one write_at fills, so bytes placed there are overwritten.
  [[nodiscard]] ring_space reserve(std::size_t max) {
    const std::size_t n = std::min(max, free());
    if (n == 0) return {};
    ensure(len_ + n);
    return storage_for(len_, n);
  }

  // Writes `in` at content offset `offset` >= size(), into the free space beyond the content
  // (out-of-order bytes held for reassembly); they become content only through commit().
  // Returns false (writing nothing) if it does not fit within the capacity.
  bool write_at(std::size_t offset, bytes in) {
    if (offset < len_ || offset > cap_ || in.size() > cap_ - offset) return false;
    if (in.empty()) return true;
    ensure(offset + in.size());
    (void)copy_in(storage_for(offset, in.size()), in);
    return true;
  }
  // Makes n bytes placed just past the content (by write_at, or into reserve()'s spans) part
  // of it (n <= free()).
  void commit(std::size_t n) { len_ += std::min(n, free()); }

  // Copies bytes [offset, offset + out.size()) of the content; precondition: in range.
  void peek(std::size_t offset, mutable_bytes out) const {
    const ring_space s = storage_for(offset, out.size());
    (void)copy_out({s.first, s.second}, out);
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
    const std::size_t n = copy_out(content(), out);
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
  // The storage of content offsets [offset, offset + n), which it must cover (ensure).
  [[nodiscard]] ring_space storage_for(std::size_t offset, std::size_t n) const {
    if (n == 0) return {};
    const std::size_t start = (head_ + offset) % alloc_;
    const std::size_t first = std::min(n, alloc_ - start);
    return {{data_.get() + start, first}, {data_.get(), n - first}};
  }
  // Storage for content offsets [0, need): doubles (from min_storage) until it covers them.
  // Growing keeps every byte at its offset from head_, including those write_at placed beyond
  // the content, by copying the old ring rotated so that head_ becomes 0.
  void ensure(std::size_t need) {
    if (need > alloc_) grow(need);
  }
  // Out of line and cold: storage grows a few times in a connection's life.
  [[gnu::cold, gnu::noinline]] void grow(std::size_t need) {
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
