#pragma once
// Proportional Rate Reduction (RFC 6937, as revised by RFC 9937): how much may be sent on each
// ACK during fast recovery, so that the flight falls smoothly from RecoverFS to ssthresh —
// ssthresh/RecoverFS octets sent per octet delivered while pipe > ssthresh — instead of
// RFC 6675's pause for half a window followed by a burst, or NewReno's inflation. When pipe
// has fallen to ssthresh or below (heavy loss), the reduction bound lets it grow back towards
// ssthresh no faster than slow start would (PRR-SSRB), or only by what was delivered (PRR-CRB)
// when the ACK suggests more loss.
//
// Pure arithmetic in octets: no clock, no allocation. Calling contract:
//   start(recover_fs)          on entering fast recovery (RecoverFS: the flight then).
//   on_ack(delivered, pipe, ssthresh, smss, safe_ack) -> sndcnt
//                              on every ACK that starts or continues recovery (not the ACK
//                              that ends it): octets that may be sent now. The sender's window
//                              for this ACK is then pipe + sndcnt (RFC 9937 §4: cwnd = pipe +
//                              sndcnt).
//   on_sent(octets)            for every octet sent during recovery, retransmitted or new.
#include <algorithm>
#include <cstdint>

namespace synack {

class prr {
 public:
  void start(std::uint32_t recover_fs) {
    recover_fs_ = std::max<std::uint32_t>(recover_fs, 1);
    delivered_ = 0;
    out_ = 0;
  }

  // RFC 9937 §4 "On every ACK starting or during fast recovery". `delivered` is
  // DeliveredData: octets newly cumulatively acknowledged plus octets newly SACKed (without
  // SACK, an estimate: one SMSS per duplicate ACK). `safe_ack`: SND.UNA advanced and the ACK
  // indicates no further loss.
  [[nodiscard]] std::uint32_t on_ack(std::uint32_t delivered, std::uint32_t pipe, std::uint32_t ssthresh,
                                     std::uint32_t smss, bool safe_ack) {
    std::uint64_t sndcnt = 0;
    if (delivered != 0) {  // §4: an ACK that delivered nothing changes nothing
      delivered_ += delivered;
      if (pipe > ssthresh) {
        // Proportional Rate Reduction: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
        const std::uint64_t allowed = (delivered_ * ssthresh + recover_fs_ - 1) / recover_fs_;
        sndcnt = allowed > out_ ? allowed - out_ : 0;
      } else {
        // The reduction bound: PRR-CRB (send what was delivered), plus one SMSS — slow start's
        // pace, PRR-SSRB — when the ACK is safe; never beyond ssthresh.
        std::uint64_t limit = std::max<std::uint64_t>(delivered_ > out_ ? delivered_ - out_ : 0, delivered);
        if (safe_ack) limit += smss;
        sndcnt = std::min<std::uint64_t>(ssthresh - pipe, limit);
      }
    }
    // §4: the fast retransmit goes even if the proportion allows nothing yet.
    if (out_ == 0 && sndcnt == 0) sndcnt = smss;
    last_sndcnt_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(sndcnt, UINT32_MAX));
    return last_sndcnt_;
  }

  void on_sent(std::uint32_t octets) { out_ += octets; }

  [[nodiscard]] std::uint64_t delivered() const { return delivered_; }  // prr_delivered
  [[nodiscard]] std::uint64_t out() const { return out_; }              // prr_out
  [[nodiscard]] std::uint32_t recover_fs() const { return recover_fs_; }  // RecoverFS
  [[nodiscard]] std::uint32_t last_sndcnt() const { return last_sndcnt_; }

 private:
  std::uint64_t delivered_ = 0;
  std::uint64_t out_ = 0;
  std::uint32_t recover_fs_ = 1;
  std::uint32_t last_sndcnt_ = 0;
};

}  // namespace synack
