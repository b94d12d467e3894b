#pragma once
// Out-of-order reassembly (RFC 9293 §3.10.7.4 seventh step, §3.9 "segments that arrive out of
// order ... may be held"): which ranges of sequence space past RCV.NXT are held, their bytes,
// and an out-of-order FIN.
//
// Memory follows the bytes (issue #13, attack case 4): each held range keeps its own compact
// storage, exactly its length (merged with its neighbours on arrival), not a place at its
// offset in the receive ring: 32 one-byte segments spread over a 256 KiB window hold 32
// bytes and 32 block overheads, not a ring grown to the window. When RCV.NXT reaches a range,
// advance() copies its bytes into the ring and frees it. charge() is what the connection
// counts against its receive buffer (like Linux's truesize: bytes plus a per-block overhead);
// storage() is the memory actually allocated, charged to the host's budget.
//
// Bounded (DESIGN.md §2): at most `max_ranges` disjoint, non-adjacent ranges, in arrays
// allocated on the first out-of-order segment (once per connection: an in-order connection
// carries none of it); a segment that would need one more range is refused (add_result::full)
// and the caller counts it. The caller bounds the bytes: it only adds ranges inside the
// receive window and within its receive buffer's charge, pruning (prune_after, prune_all) to
// make room.
//
// Every range carries a stamp of when it last grew or was hit, so the SACK receiver can list
// the blocks most recently changed first (RFC 2018 §4).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "synack/tcp/ring_buffer.hpp"
#include "synack/wire/bytes.hpp"
#include "synack/wire/seq.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {

class reassembler {
 public:
  static constexpr std::size_t max_ranges_limit = 64;
  // What one held block costs beyond its bytes in charge(): the allocator's header and
  // rounding and the bookkeeping, as Linux's truesize counts an skb's overhead.
  static constexpr std::size_t block_overhead = 64;
  // The least charge a receive buffer allows (Linux's SOCK_MIN_RCVBUF, 2 KiB and an skb): see
  // charge_limit.
  static constexpr std::size_t min_charge_limit = 2304;
  // What the out-of-order charge and the unread in-order octets of a receive buffer of
  // `capacity` octets may reach. Linux offers about half its rcvbuf as window
  // (tcp_adv_win_scale 1), so its truesize limit is about twice the window; so is ours.
  [[nodiscard]] static constexpr std::size_t charge_limit(std::size_t capacity) {
    return capacity * 2 > min_charge_limit ? capacity * 2 : min_charge_limit;
  }

  // `max_ranges` is clamped to 1 ..= max_ranges_limit.
  explicit reassembler(std::size_t max_ranges = 32);

  enum class add_result : std::uint8_t {
    added,      // new bytes held (possibly merged with neighbours)
    duplicate,  // every byte was already held (RFC 2883 D-SACK material)
    full,       // would need a range beyond max_ranges: refused, nothing held
  };
  // Holds `text`, the octets [left, left + text.size()). Precondition: the caller's RCV.NXT
  // is before `left`, text is not empty, and the range lies within the receive window (< 2^31
  // wide). Octets already held keep their value (the first copy wins, as in the ring before).
  add_result add(seq_num left, bytes text);

  // RCV.NXT moved to `nxt` (in-order text taken): the held ranges that start at or below it
  // are appended to `out` from `nxt` on (nothing is written when `out` is null: an orphan
  // discards what it gets) and freed; returns the end of the contiguous data from `nxt` on —
  // the new RCV.NXT (`nxt` itself if no held range touches it). `out` has room for them: they
  // were held inside the window the ring offered.
  [[nodiscard]] seq_num advance(seq_num nxt, ring_buffer* out);

  // Frees the held ranges that lie wholly after `at`, highest first, until charge() is at
  // most `target`; returns the octets freed (RFC 2018 §8 allows a receiver to discard data
  // it SACKed: the sender keeps it until cumulatively acknowledged).
  std::size_t prune_after(seq_num at, std::size_t target);
  // Frees every held range (memory pressure); returns the octets freed.
  std::size_t prune_all();

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
  // Held octets plus block_overhead per held range: what the receive buffer is charged.
  [[nodiscard]] std::size_t charge() const { return static_cast<std::size_t>(held_bytes()) + n_ * block_overhead; }
  // Bytes allocated now: the blocks' storage and overheads, and the range table once made.
  [[nodiscard]] std::size_t storage() const;
  // The held ranges in sequence order (for tests and snapshots).
  [[nodiscard]] std::span<const sack_block> blocks() const {
    if (!t_) return {};
    return {t_->blocks.data(), n_};
  }

  // Forgets everything, freeing the held bytes and the range table.
  void clear() {
    t_.reset();
    n_ = 0;
    fin_.reset();
  }

 private:
  void erase(std::size_t first, std::size_t count);

  // max_ entries each, made by the first add() (an idle TCB carries one pointer, not three
  // vectors: issue #13); n_ of them in use.
  struct table {
    std::vector<sack_block> blocks;  // sorted by left edge
    std::vector<std::uint64_t> stamp;
    std::vector<std::vector<std::byte>> text;  // the octets of blocks[i] (appends grow it by doubling)
  };
  std::unique_ptr<table> t_;
  std::size_t n_ = 0;
  std::size_t max_;
  std::uint64_t clock_ = 0;
  std::optional<seq_num> fin_;
};

}  // namespace synack
