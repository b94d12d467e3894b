#pragma once
// Delivery rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02, §3): how fast the
// network delivered data over the interval a sample spans, for BBR (tcp/congestion.hpp).
//
// The connection keeps C.delivered, C.delivered_time, C.first_sent_time and C.app_limited
// (this class); every transmitted segment keeps a snapshot of them (delivery_snapshot, in the
// RACK transmit record's entry, tcp/rack.hpp); when an ACK delivers segments (cumulatively or
// by SACK) the newest of them by P.delivered gives the sample:
//
//   delivery_rate = (C.delivered - P.delivered) / max(send_elapsed, ack_elapsed)
//   send_elapsed  = P.sent_time - P.first_sent_time
//   ack_elapsed   = C.delivered_time - P.delivered_time
//
// Sans-IO: time comes in as `now`. No allocation. Octets, not packets.
//
// Calling contract:
//   on_send(now, flight)                  before a data segment leaves, with the flight before
//                                         it; returns the snapshot to record with the segment.
//   on_ack(now, delivered, newest)        on every ACK that delivered octets (cumulatively or
//                                         newly SACKed, `delivered` of them), with the newest
//                                         delivered segment's snapshot if the record held one;
//                                         returns the rate sample.
//   on_app_limited(flight)                the sender has nothing to send and cwnd is not full
//                                         (§3.4): samples until this data is delivered are
//                                         marked application-limited.
#include <algorithm>
#include <cstdint>
#include <optional>

#include "synack/util/time.hpp"

namespace synack {

// §3.2 "Transmitting a data packet": the connection's delivery state when a segment was sent.
struct delivery_snapshot {
  std::uint64_t delivered = 0;  // P.delivered
  instant delivered_time{};     // P.delivered_time
  instant first_sent_time{};    // P.first_sent_time
  bool app_limited = false;     // P.is_app_limited
};

// A segment an ACK delivered, with the snapshot taken when it was (last) sent.
struct delivered_segment {
  delivery_snapshot snap;
  instant sent_time{};       // P.sent_time
  bool retransmitted = false;  // its RTT is ambiguous (Karn)
};

// §3.3 "Upon receiving ACK": the rate sample.
struct rate_sample {
  std::uint64_t delivered = 0;        // rs.delivered: octets delivered over the interval
  duration interval{0};               // rs.interval = max(send_elapsed, ack_elapsed)
  std::uint64_t rate = 0;             // rs.delivery_rate, octets per second (0: no sample)
  std::uint64_t prior_delivered = 0;  // rs.prior_delivered (P.delivered of the newest segment)
  std::optional<duration> rtt;        // rs.rtt: now - P.sent_time, if not retransmitted
  std::uint32_t newly_delivered = 0;  // octets this ACK delivered
  bool app_limited = false;           // rs.is_app_limited
  bool valid = false;                 // a rate was measured (rate may still be 0)
};

class delivery_rate {
 public:
  // §3.2: a segment sent while nothing is in flight starts the sampling intervals afresh.
  [[nodiscard]] delivery_snapshot on_send(instant now, std::uint32_t flight) {
    if (flight == 0) {
      first_sent_time_ = now;
      delivered_time_ = now;
    }
    return delivery_snapshot{delivered_, delivered_time_, first_sent_time_, app_limited_ != 0};
  }
  // §3.3, for one ACK: C.delivered moves by what it delivered; the newest segment gives the
  // interval. `min_rtt`: a sample over a shorter interval is not trusted (§3.3, "ACK
  // compression"), unless none is known yet.
  rate_sample on_ack(instant now, std::uint32_t delivered, const std::optional<delivered_segment>& newest,
                     std::optional<duration> min_rtt);
  // §3.4: C.app_limited = (C.delivered + inflight) or 1.
  void on_app_limited(std::uint32_t flight) { app_limited_ = std::max<std::uint64_t>(delivered_ + flight, 1); }

  [[nodiscard]] std::uint64_t delivered() const { return delivered_; }  // C.delivered, octets
  [[nodiscard]] bool app_limited() const { return app_limited_ != 0; }
  [[nodiscard]] instant delivered_time() const { return delivered_time_; }
  [[nodiscard]] instant first_sent_time() const { return first_sent_time_; }

 private:
  std::uint64_t delivered_ = 0;    // C.delivered
  std::uint64_t app_limited_ = 0;  // C.app_limited: 0, or the C.delivered mark that ends it
  instant delivered_time_{};       // C.delivered_time
  instant first_sent_time_{};      // C.first_sent_time
};

}  // namespace synack
