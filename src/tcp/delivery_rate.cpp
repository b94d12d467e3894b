// Delivery rate estimation, draft-cheng-iccrg-delivery-rate-estimation-02 §3.3 (see
// delivery_rate.hpp for the calling contract).
#include "synack/tcp/delivery_rate.hpp"

namespace synack {

rate_sample delivery_rate::on_ack(instant now, std::uint32_t delivered, const std::optional<delivered_segment>& newest,
                                  std::optional<duration> min_rtt) {
  rate_sample rs;
  rs.newly_delivered = delivered;
  if (delivered > 0) {
    delivered_ += delivered;  // C.delivered += P.data_length, for every segment delivered
    delivered_time_ = now;    // C.delivered_time = Now
  }
  // §3.3: "Clear app-limited field if bubble is ACKed and gone."
  if (app_limited_ != 0 && delivered_ > app_limited_) app_limited_ = 0;
  if (!newest || delivered == 0) return rs;
  const delivered_segment& p = *newest;
  rs.prior_delivered = p.snap.delivered;
  rs.app_limited = p.snap.app_limited;
  const duration send_elapsed = p.sent_time - p.snap.first_sent_time;
  const duration ack_elapsed = delivered_time_ - p.snap.delivered_time;
  first_sent_time_ = p.sent_time;  // the next interval starts at this segment's transmission
  if (!p.retransmitted) rs.rtt = now - p.sent_time;
  rs.delivered = delivered_ - p.snap.delivered;
  rs.interval = std::max(send_elapsed, ack_elapsed);
  // §3.3: an interval shorter than the minimum RTT is not a measurement of the path (the ACKs
  // were compressed, or the send interval was a burst); the sample is dropped.
  if (rs.interval.count() <= 0 || (min_rtt && rs.interval < *min_rtt)) return rs;
  rs.rate = rs.delivered * 1'000'000 / static_cast<std::uint64_t>(rs.interval.count());
  rs.valid = true;
  return rs;
}

}  // namespace synack
