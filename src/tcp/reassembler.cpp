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
  if (blocks_.empty()) {  // the first out-of-order segment of this connection
    blocks_.resize(max_);
    stamp_.resize(max_);
    text_.resize(max_);
  }
  // The held ranges that overlap or touch [left, right) form one run [first, last).
  std::size_t first = 0;
  while (first < n_ && blocks_[first].right.before(left)) ++first;
  std::size_t last = first;
  while (last < n_ && blocks_[last].left.before_eq(right)) ++last;
  ++clock_;
  if (first == last) {
    // Nothing to merge with: a new range, if one is left.
    if (n_ == max_) return add_result::full;
    std::move_backward(blocks_.begin() + diff(first), blocks_.begin() + diff(n_), blocks_.begin() + diff(n_ + 1));
    std::move_backward(stamp_.begin() + diff(first), stamp_.begin() + diff(n_), stamp_.begin() + diff(n_ + 1));
    std::move_backward(text_.begin() + diff(first), text_.begin() + diff(n_), text_.begin() + diff(n_ + 1));
    blocks_[first] = sack_block{left, right};
    stamp_[first] = clock_;
    text_[first].assign(text.begin(), text.end());
    ++n_;
    return add_result::added;
  }
  const sack_block merged{seq_min(left, blocks_[first].left), seq_max(right, blocks_[last - 1].right)};
  stamp_[first] = clock_;
  if (last - first == 1 && merged == blocks_[first]) return add_result::duplicate;
  const auto at = [&](seq_num s) { return static_cast<std::size_t>(distance(merged.left, s).n); };
  std::vector<std::byte>& into = text_[first];
  if (blocks_[first].left == merged.left) {
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
    std::memcpy(grown.data() + at(blocks_[first].left), into.data(), into.size());
    into = std::move(grown);
  }
  for (std::size_t i = first + 1; i < last; ++i) {
    std::memcpy(into.data() + at(blocks_[i].left), text_[i].data(), text_[i].size());
  }
  blocks_[first] = merged;
  erase(first + 1, last - first - 1);
  return add_result::added;
}

seq_num reassembler::advance(seq_num nxt, ring_buffer* out) {
  // Ranges now wholly below RCV.NXT were filled by in-order text: forget them; one that
  // starts at or below it extends the in-order data to its right edge, its octets past RCV.NXT
  // going to the ring.
  std::size_t k = 0;
  while (k < n_ && blocks_[k].left.before_eq(nxt)) {
    if (blocks_[k].right.after(nxt)) {
      const std::size_t skip = distance(blocks_[k].left, nxt).n;
      if (out != nullptr) out->write(bytes{text_[k]}.subspan(skip));
      nxt = blocks_[k].right;
    }
    ++k;
  }
  erase(0, k);
  return nxt;
}

std::size_t reassembler::prune_after(seq_num at, std::size_t target) {
  std::size_t freed = 0;
  while (n_ > 0 && charge() > target && blocks_[n_ - 1].left.after(at)) {
    freed += text_[n_ - 1].size();
    text_[n_ - 1] = std::vector<std::byte>{};
    --n_;
  }
  return freed;
}

std::size_t reassembler::prune_all() {
  const auto freed = static_cast<std::size_t>(held_bytes());
  for (std::size_t i = 0; i < n_; ++i) text_[i] = std::vector<std::byte>{};
  n_ = 0;
  return freed;
}

std::optional<sack_block> reassembler::containing(seq_num left, seq_num right) const {
  for (std::size_t i = 0; i < n_; ++i) {
    if (blocks_[i].left.before_eq(left) && right.before_eq(blocks_[i].right)) return blocks_[i];
  }
  return std::nullopt;
}

std::size_t reassembler::recent_blocks(std::span<sack_block> out) const {
  // A partial selection sort by stamp: out.size() is at most 4, n_ at most 64.
  std::size_t count = 0;
  std::uint64_t below = UINT64_MAX;
  while (count < out.size()) {
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < n_; ++i) {
      if (stamp_[i] < below && (!best || stamp_[i] > stamp_[*best])) best = i;
    }
    if (!best) break;
    out[count++] = blocks_[*best];
    below = stamp_[*best];
  }
  return count;
}

std::uint64_t reassembler::held_bytes() const {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < n_; ++i) sum += distance(blocks_[i].left, blocks_[i].right).n;
  return sum;
}

std::size_t reassembler::storage() const {
  std::size_t sum = blocks_.capacity() * (sizeof(sack_block) + sizeof(std::uint64_t) + sizeof(std::vector<std::byte>));
  for (std::size_t i = 0; i < n_; ++i) sum += text_[i].capacity() + block_overhead;
  return sum;
}

void reassembler::erase(std::size_t first, std::size_t count) {
  if (count == 0) return;
  std::move(blocks_.begin() + diff(first + count), blocks_.begin() + diff(n_), blocks_.begin() + diff(first));
  std::move(stamp_.begin() + diff(first + count), stamp_.begin() + diff(n_), stamp_.begin() + diff(first));
  std::move(text_.begin() + diff(first + count), text_.begin() + diff(n_), text_.begin() + diff(first));
  // Free what moved out or was dropped (move-assigned: `= {}` would keep the storage).
  for (std::size_t i = n_ - count; i < n_; ++i) text_[i] = std::vector<std::byte>{};
  n_ -= count;
}

}  // namespace synack
