#pragma once
// Out-of-order reassembly (RFC 9293 §3.10.7.4 seventh step, §3.9 "segments that arrive out of
// order ... may be held"). The bytes themselves live in the receive ring buffer's free space
// beyond the in-order data (the connection writes them there with ring_buffer::write_at: no
// allocation per segment); this class only tracks which ranges of sequence space past RCV.NXT
// are held, and an out-of-order FIN.
//
// Bounded (DESIGN.md §2): at most `max_ranges` disjoint, non-adjacent ranges, in arrays
// allocated on the first out-of-order segment (once per connection: an in-order connection
// carries none of it, issue #13 "memory that follows the bytes"); a segment that would need
// one more range is refused (add_result::full) and the caller counts it.
// The caller bounds the bytes: it only adds ranges inside the receive window.
//
// Every range carries a stamp of when it last grew or was hit, so the SACK receiver can list
// the blocks most recently changed first (RFC 2018 §4).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "synack/wire/seq.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {

class reassembler {
 public:
  static constexpr std::size_t max_ranges_limit = 64;

  // `max_ranges` is clamped to 1 ..= max_ranges_limit.
  explicit reassembler(std::size_t max_ranges = 32);

  enum class add_result : std::uint8_t {
    added,      // new bytes held (possibly merged with neighbours)
    duplicate,  // every byte was already held (RFC 2883 D-SACK material)
    full,       // would need a range beyond max_ranges: refused, nothing held
  };
  // Records [left, right) as held. Precondition: the caller's RCV.NXT is before `left`,
  // left is before right, and the range lies within the receive window (< 2^31 wide).
  add_result add(seq_num left, seq_num right);

  // RCV.NXT moved to `nxt` (in-order text taken): forgets what is now below it and returns the
  // end of the contiguous data from `nxt` on — the new RCV.NXT (`nxt` itself if no held range
  // touches it).
  [[nodiscard]] seq_num advance(seq_num nxt);

  // An out-of-order FIN at sequence number `at` (after its segment's text): processed when
  // RCV.NXT reaches it.
  void hold_fin(seq_num at) { fin_ = at; }
  [[nodiscard]] std::optional<seq_num> held_fin() const { return fin_; }

  // The held range that contains [left, right), if any.
  [[nodiscard]] std::optional<sack_block> containing(seq_num left, seq_num right) const;

  // Writes up to out.size() held ranges, most recently changed first; returns the count.
  std::size_t recent_blocks(std::span<sack_block> out) const;

  [[nodiscard]] std::size_t ranges() const { return n_; }
  [[nodiscard]] bool empty() const { return n_ == 0; }
  [[nodiscard]] std::size_t max_ranges() const { return max_; }
  // Octets held out of order.
  [[nodiscard]] std::uint64_t held_bytes() const;
  // The held ranges in sequence order (for tests and snapshots).
  [[nodiscard]] std::span<const sack_block> blocks() const { return {blocks_.data(), n_}; }

  void clear() {
    n_ = 0;
    fin_.reset();
  }

 private:
  void erase(std::size_t first, std::size_t count);

  // max_ entries each once allocated (empty before the first add()); n_ of them in use.
  std::vector<sack_block> blocks_;  // sorted by left edge
  std::vector<std::uint64_t> stamp_;
  std::size_t n_ = 0;
  std::size_t max_;
  std::uint64_t clock_ = 0;
  std::optional<seq_num> fin_;
};

}  // namespace synack
