// Options changed on a live connection (setsockopt after connect) and MSG_PEEK.
#include <algorithm>

#include "synack/tcp/connection.hpp"

namespace synack {

std::size_t connection::peek(mutable_bytes out) const {
  const std::size_t n = std::min(out.size(), rcv_.buf.size());
  if (n != 0) rcv_.buf.peek(0, out.first(n));
  return n;
}

void connection::set_config(instant now, const tcp_config& cfg, const tcp_config& before) {
  const bool was_on = before.keepalive;
  const duration old_idle = before.keepalive_idle;
  cfg_ = &cfg;
  // RFC 9293 §3.8.4 (MUST-24): keep-alives are switched per connection. Off: no timer, no
  // probe. On (or a new idle time): the idle interval starts now (Linux measures it from the
  // last segment received; we have no such timestamp and start afresh).
  if (!cfg.keepalive) {
    timers_.clear(timer_kind::keepalive);
    keepalive_due_ = false;
    keepalive_probes_ = 0;
    return;
  }
  const bool live = is_synchronized(state_) && state_ != tcp_state::time_wait;
  if (live && (!was_on || old_idle != cfg.keepalive_idle)) {
    keepalive_probes_ = 0;
    keepalive_since_ = now;
    timers_.set(timer_kind::keepalive, now + cfg.keepalive_idle);
  }
}

}  // namespace synack
