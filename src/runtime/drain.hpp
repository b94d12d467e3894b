#pragma once
// What event_loop and host_driver both do after a host had input: take up to `burst` packets
// from host::poll_transmit into the link (io::send_packet picks plain or offload), then submit
// the batch. Private to runtime/.
#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <ctime>

#include "synack/io/link.hpp"
#include "synack/stack/host.hpp"

namespace synack::runtime {

// A sleep in microseconds as the timespec of ppoll(2) and epoll_pwait2(2) (seconds clamped to
// INT_MAX), shared by host_driver and event_loop.
inline timespec to_timespec(duration d) {
  const auto secs = std::min<std::int64_t>(d.count() / 1'000'000, INT_MAX);
  return timespec{static_cast<time_t>(secs), static_cast<long>(d.count() % 1'000'000) * 1000};
}

struct drained {
  std::size_t sent = 0;     // packets the link took
  std::size_t dropped = 0;  // packets it refused (TCP retransmits them)
  bool more = false;        // the burst ran out before the host did
};

inline drained drain_transmit(host& h, io::link& l, instant now, mutable_bytes buf, std::size_t burst = 4096) {
  drained d;
  d.more = true;
  for (std::size_t i = 0; i < burst; ++i) {
    tx_meta meta;
    const auto len = h.poll_transmit(now, buf, meta);
    if (!len) {
      d.more = false;
      break;
    }
    ++(io::send_packet(l, now, bytes{buf.data(), *len}, meta) ? d.sent : d.dropped);
  }
  l.submit();  // a batching link sends the burst in one call
  return d;
}

}  // namespace synack::runtime
