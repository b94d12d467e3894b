#pragma once
// Receive coalescing (GRO-like), for a link without offloads: consecutive in-order data
// segments of one connection, received in one batch, are handed to the host as one large
// segment, so it demultiplexes, processes and ACKs once per run instead of once per segment.
// Sans-IO: the driver feeds every packet of a batch and flushes at the end of the batch.
//
// A packet joins the pending run only if everything but its payload repeats the run's first
// segment (as Linux's tcp_gro_receive asks), so nothing the host would act on is lost:
//  - IPv4 without options, not a fragment, same addresses, same TOS (ECN marks kept apart),
//    same DF bit; TCP with the same ports, ACK number, window and option bytes (timestamps
//    included: a new TSval starts a new run), flags ACK or ACK|PSH only (no SYN, FIN, RST, URG,
//    ECE, CWR), non-empty payload, SEG.SEQ = the run's end;
//  - each segment no longer than the first; a shorter one, or one with PSH, ends the run (and
//    PSH is set on the run);
//  - its TCP checksum verified here (the run is then marked rx_checksum::verified); a segment
//    that fails goes to the host on its own, which counts the drop;
//  - at most 64 KiB in all.
// A single packet that met no partner goes out unchanged with its own rx_meta.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "synack/wire/bytes.hpp"
#include "synack/wire/offload.hpp"

namespace synack {

struct coalescer_stats {
  std::uint64_t runs = 0;    // super-segments made (two or more segments each)
  std::uint64_t merged = 0;  // segments that went into them
};

class rx_coalescer {
 public:
  rx_coalescer() : buf_(max_len) {}

  // Offers one received packet (valid during the call only). `deliver(bytes, const rx_meta&)`
  // is called for whatever must go to the host now: an earlier run this packet cannot join,
  // or this packet itself when it cannot start one.
  template <typename Deliver>
  void feed(bytes packet, const rx_meta& meta, Deliver&& deliver) {
    if (len_ > 0 && try_append(packet, meta)) return;
    flush(deliver);
    if (!start(packet, meta)) deliver(packet, meta);
  }
  // The end of a batch: the pending run (or single packet) goes to the host.
  template <typename Deliver>
  void flush(Deliver&& deliver) {
    if (len_ == 0) return;
    rx_meta m = first_meta_;
    if (segments_ > 1) {
      finish();
      m = rx_meta{rx_checksum::verified, seg_size_};
    }
    len_ = 0;
    deliver(bytes{buf_.data(), total_}, m);
  }
  [[nodiscard]] const coalescer_stats& stats() const { return stats_; }

  static constexpr std::size_t max_len = 65535;

 private:
  bool start(bytes packet, const rx_meta& meta);
  bool try_append(bytes packet, const rx_meta& meta);
  void finish();  // IPv4 total length and header checksum, PSH

  std::vector<std::byte> buf_;
  std::size_t len_ = 0;     // 0: nothing pending
  std::size_t total_ = 0;   // octets in buf_ (headers + payload)
  std::size_t header_ = 0;  // IPv4 + TCP header octets
  std::uint32_t next_seq_ = 0;
  std::uint16_t seg_size_ = 0;  // payload of the first segment
  std::uint32_t segments_ = 0;
  bool closed_ = false;  // a short or PSH segment ended the run
  bool psh_ = false;
  bool first_verified_ = false;
  rx_meta first_meta_;
  coalescer_stats stats_;
};

}  // namespace synack
