#include "synack/tcp/reassembler.hpp"

#include <algorithm>

namespace synack {

reassembler::reassembler(std::size_t max_ranges) : max_(std::clamp<std::size_t>(max_ranges, 1, max_ranges_limit)) {}

reassembler::add_result reassembler::add(seq_num left, seq_num right) {
  if (blocks_.empty()) {  // the first out-of-order segment of this connection
    blocks_.resize(max_);
    stamp_.resize(max_);
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
    std::copy_backward(blocks_.begin() + static_cast<std::ptrdiff_t>(first),
                       blocks_.begin() + static_cast<std::ptrdiff_t>(n_),
                       blocks_.begin() + static_cast<std::ptrdiff_t>(n_ + 1));
    std::copy_backward(stamp_.begin() + static_cast<std::ptrdiff_t>(first),
                       stamp_.begin() + static_cast<std::ptrdiff_t>(n_),
                       stamp_.begin() + static_cast<std::ptrdiff_t>(n_ + 1));
    blocks_[first] = sack_block{left, right};
    stamp_[first] = clock_;
    ++n_;
    return add_result::added;
  }
  const sack_block merged{seq_min(left, blocks_[first].left), seq_max(right, blocks_[last - 1].right)};
  const bool duplicate = last - first == 1 && merged == blocks_[first];
  blocks_[first] = merged;
  stamp_[first] = clock_;
  erase(first + 1, last - first - 1);
  return duplicate ? add_result::duplicate : add_result::added;
}

seq_num reassembler::advance(seq_num nxt) {
  // Ranges now wholly below RCV.NXT were filled by in-order text: forget them; one that
  // starts at or below it extends the in-order data to its right edge.
  std::size_t k = 0;
  while (k < n_ && blocks_[k].left.before_eq(nxt)) {
    nxt = seq_max(nxt, blocks_[k].right);
    ++k;
  }
  erase(0, k);
  return nxt;
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

void reassembler::erase(std::size_t first, std::size_t count) {
  if (count == 0) return;
  std::copy(blocks_.begin() + static_cast<std::ptrdiff_t>(first + count),
            blocks_.begin() + static_cast<std::ptrdiff_t>(n_), blocks_.begin() + static_cast<std::ptrdiff_t>(first));
  std::copy(stamp_.begin() + static_cast<std::ptrdiff_t>(first + count),
            stamp_.begin() + static_cast<std::ptrdiff_t>(n_), stamp_.begin() + static_cast<std::ptrdiff_t>(first));
  n_ -= count;
}

}  // namespace synack
