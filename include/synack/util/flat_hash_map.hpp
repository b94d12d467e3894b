#pragma once
// An open-addressing hash map: one std::vector of slots, linear probing, capacity a power of
// two that doubles when half full and never shrinks, and tombstone-free deletion by backward
// shift (each later entry of the probe run moves back when that brings it no further from its
// home slot). Once it has reached its high-water mark it never allocates again, which is what
// the host's demux and TIME-WAIT tables need ("no allocation per segment", DESIGN.md §1).
//
// Unlike std::unordered_map, a pointer returned by find() is invalidated by any insert or
// erase (entries move). K and V must be default-constructible and movable; the hash must mix
// into its low bits, which are the ones used.
#include <cassert>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace synack {

template <class K, class V, class Hash = std::hash<K>, class Eq = std::equal_to<K>>
class flat_hash_map {
 public:
  flat_hash_map() = default;

  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] std::size_t capacity() const { return slots_.size(); }

  [[nodiscard]] V* find(const K& k) {
    const std::size_t i = locate(k);
    return i == npos ? nullptr : &slots_[i].value;
  }
  [[nodiscard]] const V* find(const K& k) const {
    const std::size_t i = locate(k);
    return i == npos ? nullptr : &slots_[i].value;
  }
  [[nodiscard]] bool contains(const K& k) const { return locate(k) != npos; }

  // Inserts k -> v, or overwrites the value of an existing k. Returns the stored value.
  V& insert_or_assign(const K& k, V v) {
    if (slots_.empty() || (size_ + 1) * 2 > slots_.size()) grow();
    const std::size_t m = mask();
    for (std::size_t i = home(k);; i = (i + 1) & m) {
      slot& s = slots_[i];
      if (!s.used) {
        s.used = true;
        s.key = k;
        s.value = std::move(v);
        ++size_;
        return s.value;
      }
      if (eq_(s.key, k)) {
        s.value = std::move(v);
        return s.value;
      }
    }
  }

  // Removes k; false if it was not there.
  bool erase(const K& k) {
    std::size_t hole = locate(k);
    if (hole == npos) return false;
    const std::size_t m = mask();
    // Backward shift: walk the rest of the probe run; an entry whose home lies cyclically at
    // or before the hole (so the hole is on its probe path) moves into it, leaving a new hole.
    for (std::size_t j = (hole + 1) & m; slots_[j].used; j = (j + 1) & m) {
      const std::size_t h = home(slots_[j].key);
      if (((j - h) & m) >= ((j - hole) & m)) {
        slots_[hole].key = std::move(slots_[j].key);
        slots_[hole].value = std::move(slots_[j].value);
        hole = j;
      }
    }
    slots_[hole].used = false;
    --size_;
    return true;
  }

  void clear() {
    for (slot& s : slots_) s.used = false;
    size_ = 0;
  }

  // Room for n entries without growing.
  void reserve(std::size_t n) {
    while (slots_.size() < 2 * n) grow();
  }

  // Calls f(key, value) for every entry, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (const slot& s : slots_) {
      if (s.used) f(s.key, s.value);
    }
  }

 private:
  struct slot {
    K key{};
    V value{};
    bool used = false;
  };
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  [[nodiscard]] std::size_t mask() const { return slots_.size() - 1; }
  [[nodiscard]] std::size_t home(const K& k) const { return hash_(k) & mask(); }

  [[nodiscard]] std::size_t locate(const K& k) const {
    if (size_ == 0) return npos;
    const std::size_t m = mask();
    for (std::size_t i = home(k);; i = (i + 1) & m) {
      const slot& s = slots_[i];
      if (!s.used) return npos;  // the load factor stays <= 1/2, so a free slot exists
      if (eq_(s.key, k)) return i;
    }
  }

  // Out of line and cold: a table grows a few times in its life, and inlined into every
  // insert it would sit in the hot demux and TIME-WAIT paths (docs/performance.md, issue #12).
  [[gnu::cold, gnu::noinline]] void grow() {
    std::vector<slot> old(slots_.empty() ? 16 : slots_.size() * 2);
    old.swap(slots_);
    size_ = 0;
    for (slot& s : old) {
      if (s.used) insert_or_assign(s.key, std::move(s.value));
    }
  }

  std::vector<slot> slots_;
  std::size_t size_ = 0;
  [[no_unique_address]] Hash hash_{};
  [[no_unique_address]] Eq eq_{};
};

}  // namespace synack
