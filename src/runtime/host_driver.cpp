// host_driver: the turn of a hand-driven host over a link (see the header).
#include "synack/runtime/host_driver.hpp"

#include <poll.h>

#include <algorithm>
#include <ctime>

#include "drain.hpp"
#include "synack/runtime/event_loop.hpp"

namespace synack::runtime {
namespace {

constexpr std::size_t rx_batch = 64;  // packets per link.receive(), answered before the next
// Packets sent per drain, so a host that keeps producing still lets input in; the rest goes at
// the next turn (turn_result::next is then `now`).
constexpr std::size_t tx_burst = 4096;

}  // namespace

turn_result& turn_result::operator+=(const turn_result& o) {
  received += o.received;
  sent += o.sent;
  dropped += o.dropped;
  host_timeout = host_timeout || o.host_timeout;
  link_timeout = link_timeout || o.link_timeout;
  next = o.next;  // the later turn knows
  return *this;
}

host_driver::host_driver(synack::host& h, io::link& l) : host_(h), link_(l), txbuf_(h.max_packet_len()) {}

turn_result host_driver::turn(instant now) {
  turn_result r;
  if (auto d = link_.next_deadline(); d && *d <= now) {
    link_.on_timeout(now);
    r.link_timeout = true;
  }
  bool more = false;
  while (r.received < turn_rx_max) {
    const std::size_t want = std::min(rx_batch, turn_rx_max - r.received);
    const std::size_t got =
        link_.receive(now, want, [&](bytes packet, const rx_meta& meta) { host_.on_packet(now, packet, meta); });
    r.received += got;
    if (got == 0) break;
    more = transmit(now, r) || more;  // answer each batch before the next one
    if (got < want) break;
  }
  more = more || r.received == turn_rx_max || link_.rx_pending();
  if (auto d = host_.next_deadline(); d && *d <= now) {
    host_.on_timeout(now);
    r.host_timeout = true;
  }
  more = transmit(now, r) || more;
  trimmer_.observe(now, host_.memory().level);

  r.next = host_.next_deadline();
  for (const auto d : {link_.next_deadline(), trimmer_.next_deadline()}) {
    if (d && (!r.next || *d < *r.next)) r.next = d;
  }
  if (more && (!r.next || now < *r.next)) r.next = now;
  return r;
}

bool host_driver::transmit(instant now, turn_result& r) {
  const drained d = drain_transmit(host_, link_, now, mutable_bytes{txbuf_}, tx_burst);
  r.sent += d.sent;
  r.dropped += d.dropped;
  return d.more;
}

turn_result host_driver::run_once(duration max_wait) {
  turn_result r = turn(clock_now());
  duration wait = max_wait;
  if (r.next) wait = std::min(wait, *r.next - clock_now());
  if (wait.count() > 0) {
    // ppoll: microsecond timeouts, so a deadline is not rounded to the millisecond. A negative
    // descriptor (a link without one) is ignored: the call only sleeps.
    pollfd p{link_.fd(), POLLIN, 0};
    const timespec ts = to_timespec(wait);
    (void)::ppoll(&p, 1, &ts, nullptr);  // EINTR: a turn anyway
  }
  r += turn(clock_now());
  return r;
}

}  // namespace synack::runtime
