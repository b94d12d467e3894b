#include "synack/tcp/reassembler.hpp"

#include <algorithm>
#include <cstring>

namespace synack {

namespace {
using diff = std::ptrdiff_t;
}  // namespace

reassembler::reassembler(std::size_t max_ranges) : max_(std::clamp<std::size_t>(max_ranges, 1, max_ranges_limit)) {}

reassembler::add_result reassembler::add(seq_num left, bytes text) {
  const seq_num right = left + seq_len{static_cast<std::uint32_t>(text.size())};
  if (!t_) {  // the first out-of-order segment of this connection
    t_ = std::make_unique<table>();
    t_->blocks.resize(max_);
    t_->stamp.resize(max_);
    t_->text.resize(max_);
  }
  table& t = *t_;
  // The held ranges that overlap or touch [left, right) form one run [first, last).
  std::size_t first = 0;
  while (first < n_ && t.blocks[first].right.before(left)) ++first;
  std::size_t last = first;
  while (last < n_ && t.blocks[last].left.before_eq(right)) ++last;
  ++clock_;
  if (first == last) {
    // Nothing to merge with: a new range, if one is left.
    if (n_ == max_) return add_result::full;
    std::move_backward(t.blocks.begin() + diff(first), t.blocks.begin() + diff(n_), t.blocks.begin() + diff(n_ + 1));
    std::move_backward(t.stamp.begin() + diff(first), t.stamp.begin() + diff(n_), t.stamp.begin() + diff(n_ + 1));
    std::move_backward(t.text.begin() + diff(first), t.text.begin() + diff(n_), t.text.begin() + diff(n_ + 1));
    t.blocks[first] = sack_block{left, right};
    t.stamp[first] = clock_;
    t.text[first].assign(text.begin(), text.end());
    ++n_;
    return add_result::added;
  }
  const sack_block merged{seq_min(left, t.blocks[first].left), seq_max(right, t.blocks[last - 1].right)};
  t.stamp[first] = clock_;
  if (last - first == 1 && merged == t.blocks[first]) return add_result::duplicate;
  const auto at = [&](seq_num s) { return static_cast<std::size_t>(distance(merged.left, s).n); };
  std::vector<std::byte>& into = t.text[first];
  if (t.blocks[first].left == merged.left) {
    // The common case, text after the first block's start (a run growing at its end): grow
    // that block in place, then write the new octets past it and the later blocks over them.
    const std::size_t kept = into.size();
    into.resize(at(merged.right));
    if (at(right) > kept) {
      const std::size_t from = std::max(kept, at(left));
      std::memcpy(into.data() + from, text.data() + (from - at(left)), at(right) - from);
    }
  } else {
    // Text before the first block: a new block, the new octets first, the held ones over them.
    std::vector<std::byte> grown(at(merged.right));
    std::memcpy(grown.data() + at(left), text.data(), text.size());
    std::memcpy(grown.data() + at(t.blocks[first].left), into.data(), into.size());
    into = std::move(grown);
  }
  for (std::size_t i = first + 1; i < last; ++i) {
    std::memcpy(into.data() + at(t.blocks[i].left), t.text[i].data(), t.text[i].size());
  }
  t.blocks[first] = merged;
  erase(first + 1, last - first - 1);
  return add_result::added;
}

seq_num reassembler::advance(seq_num nxt, ring_buffer* out) {
  // Ranges now wholly below RCV.NXT were filled by in-order text: forget them; one that
  // starts at or below it extends the in-order data to its right edge, its octets past RCV.NXT
  // going to the ring.
  if (n_ == 0) return nxt;
  table& t = *t_;
  std::size_t k = 0;
  while (k < n_ && t.blocks[k].left.before_eq(nxt)) {
    if (t.blocks[k].right.after(nxt)) {
      const std::size_t skip = distance(t.blocks[k].left, nxt).n;
      if (out != nullptr) out->write(bytes{t.text[k]}.subspan(skip));
      nxt = t.blocks[k].right;
    }
    ++k;
  }
  erase(0, k);
  return nxt;
}

std::size_t reassembler::prune_after(seq_num at, std::size_t target) {
  std::size_t freed = 0;
  if (n_ == 0) return freed;
  table& t = *t_;
  while (n_ > 0 && charge() > target && t.blocks[n_ - 1].left.after(at)) {
    freed += t.text[n_ - 1].size();
    t.text[n_ - 1] = std::vector<std::byte>{};
    --n_;
  }
  return freed;
}

std::size_t reassembler::prune_all() {
  const auto freed = static_cast<std::size_t>(held_bytes());
  if (n_ == 0) return freed;
  table& t = *t_;
  for (std::size_t i = 0; i < n_; ++i) t.text[i] = std::vector<std::byte>{};
  n_ = 0;
  return freed;
}

std::optional<sack_block> reassembler::containing(seq_num left, seq_num right) const {
  if (n_ == 0) return std::nullopt;
  const table& t = *t_;
  for (std::size_t i = 0; i < n_; ++i) {
    if (t.blocks[i].left.before_eq(left) && right.before_eq(t.blocks[i].right)) return t.blocks[i];
  }
  return std::nullopt;
}

std::size_t reassembler::recent_blocks(std::span<sack_block> out) const {
  // A partial selection sort by stamp: out.size() is at most 4, n_ at most 64.
  std::size_t count = 0;
  if (n_ == 0) return count;
  const table& t = *t_;
  std::uint64_t below = UINT64_MAX;
  while (count < out.size()) {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < n_; ++i) {
      if (t.stamp[i] < below && (!best || t.stamp[i] > t.stamp[*best])) best = i;
    }
    if (!best) break;
    out[count++] = t.blocks[*best];
    below = t.stamp[*best];
  }
  return count;
}

std::uint64_t reassembler::held_bytes() const {
  std::uint64_t sum = 0;
  if (n_ == 0) return sum;
  const table& t = *t_;
  for (std::size_t i = 0; i < n_; ++i) sum += distance(t.blocks[i].left, t.blocks[i].right).n;
  return sum;
}

std::size_t reassembler::storage() const {
  if (!t_) return 0;
  const table& t = *t_;
  std::size_t sum = sizeof(table) + t.blocks.capacity() * (sizeof(sack_block) + sizeof(std::uint64_t) + sizeof(std::vector<std::byte>));
  for (std::size_t i = 0; i < n_; ++i) sum += t.text[i].capacity() + block_overhead;
  return sum;
}

void reassembler::erase(std::size_t first, std::size_t count) {
  if (count == 0) return;
  table& t = *t_;
  std::move(t.blocks.begin() + diff(first + count), t.blocks.begin() + diff(n_), t.blocks.begin() + diff(first));
  std::move(t.stamp.begin() + diff(first + count), t.stamp.begin() + diff(n_), t.stamp.begin() + diff(first));
  std::move(t.text.begin() + diff(first + count), t.text.begin() + diff(n_), t.text.begin() + diff(first));
  // Free what moved out or was dropped (move-assigned: `= {}` would keep the storage).
  for (std::size_t i = n_ - count; i < n_; ++i) t.text[i] = std::vector<std::byte>{};
  n_ -= count;
}

}  // namespace synack
