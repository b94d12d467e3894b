// RFC 7413 TCP Fast Open at the host: the client's cookie cache (what connections start with
// and what their SYN-ACKs taught), and the listener's checking of a SYN's cookie.
#include <algorithm>

#include "host_impl.hpp"

namespace synack {

std::array<std::uint64_t, 2> host::impl::fast_open_host_key(const host_config& c) {
  if (c.fast_open_key) return *c.fast_open_key;
  // Derived from the host's secret, so that it is as seeded as the ISNs and SYN cookies and
  // no key is shared between hosts that were given different secrets.
  constexpr std::array<std::byte, 7> label{std::byte{'t'}, std::byte{'f'}, std::byte{'o'}, std::byte{'-'},
                                           std::byte{'k'}, std::byte{'e'}, std::byte{'y'}};
  const std::uint64_t k0 = siphash24(c.secret, label);
  const std::uint64_t k1 = siphash24(siphash_key{c.secret.k1, c.secret.k0}, label);
  return {k0, k1};
}

result<conn_handle, host_error> host::connect_fast_open(instant now, const ip_addr& remote, std::uint16_t port,
                                                        std::optional<std::uint16_t> local_port,
                                                        const tcp_config& cfg, bool defer) {
  impl& m = *impl_;
  fast_open_client fo;
  if (const fast_open_cache::entry* e = m.fo_cache.find(remote); e != nullptr) {
    fo.cookie = e->cookie;
    fo.peer_mss = e->mss;
  }
  fo.defer = defer;
  return m.open_active(now, remote, port, local_port, cfg, &fo);
}

bool host::fast_open_cookie_cached(const ip_addr& remote) const {
  const fast_open_cache::entry* e = impl_->fo_cache.find(remote);
  return e != nullptr && e->cookie.has_value();
}

void host::forget_fast_open_cookies() { impl_->fo_cache.clear(); }

// A client's SYN-ACK came: remember the cookie and MSS, count what became of its SYN data.
void host::impl::fast_open_learn(connection& c) {
  const auto n = c.take_fast_open_news();
  if (!n) return;
  if (n->syn_data > 0) ++(n->syn_data_acked ? ctr.fast_open_active : ctr.fast_open_active_fail);
  fo_cache.learn(c.tuple().remote_addr, *n);
}

// RFC 7413 §4.1.2 and §4.2.2: the listener's answer to a SYN's TFO option. A request gets a
// cookie; a valid cookie has its data taken while the listener's TFO queue has room (§5.1),
// an ordinary answer otherwise; an invalid one has its data ignored and gets a fresh cookie.
// Without cookies (tcp_config::fast_open_no_cookie), a SYN with data or with the option is
// taken as one with a valid cookie, and its SYN-ACK carries none.
fast_open_server host::impl::fast_open_answer(const listener& l, const ip_ends& ip, const tcp_repr& seg) {
  if (l.cfg.fast_open_qlen == 0) return {};
  if (!seg.options.fast_open) {  // only data, which only a listener without cookies takes
    return l.cfg.fast_open_no_cookie && !seg.payload.empty() ? fast_open_take(l) : fast_open_server{};
  }
  const tcp_fast_open& got = *seg.options.fast_open;
  if (got.request()) ++ctr.fast_open_cookie_reqd;
  if (l.cfg.fast_open_no_cookie) return fast_open_take(l);
  const tcp_fast_open mine = fast_open_cookie(l.cfg.fast_open_key.value_or(fo_key), ip.src, ip.dst, got.experimental);
  if (got.request()) return fast_open_server{false, mine};
  if (!std::ranges::equal(got.value(), mine.value())) {
    ++ctr.fast_open_passive_fail;
    return fast_open_server{false, mine};
  }
  return fast_open_take(l);
}

// A SYN whose data may be taken: a Fast Open child while the listener's TFO queue has room
// (§5.1), an ordinary answer otherwise.
fast_open_server host::impl::fast_open_take(const listener& l) {
  if (l.fast_open_pending >= l.cfg.fast_open_qlen) {
    ++ctr.fast_open_listen_overflow;
    return {};
  }
  ++ctr.fast_open_passive;
  return fast_open_server{true, std::nullopt};
}

// A Fast Open child goes to the accept queue at once, in SYN-RECEIVED, its SYN data readable
// (as Linux's): it counts in the listener's TFO queue, not its SYN queue, until it leaves
// SYN-RECEIVED (drain_events).
void host::impl::fast_open_queue_child(std::uint32_t idx, listener& l) {
  slot& s = slots[idx];
  s.fast_open_pending = true;
  ++l.fast_open_pending;
  s.accept_queued = true;
  l.accept_q.push_back(idx);
  events.push_back(host_event{host_event::kind::accept_ready, {},
                              listener_handle{static_cast<std::uint32_t>(&l - listeners.data()), l.gen}, {}, {}});
}

}  // namespace synack
