// Any-address termination (issue #15): a listener that takes SYNs to destinations that are not
// this host's addresses, as a transparent proxy over TUN needs (every connection the routes
// send into the link ends here, with its original destination as the local side).
//
// Where it sits in the input path: the IP layer lets such packets through once any-address
// mode was used (any_seen); TCBs and TIME-WAIT records match them by 4-tuple like any other;
// a segment without one goes to listener_for, which gives the host's own addresses to the
// ordinary listeners and everything else to the any-address listener of its family, whose
// port and filter may refuse it (answered as a closed port: RST). Segments leave with the
// 4-tuple's local side as their source, so with the original destination.
#include "host_impl.hpp"

namespace synack {

// Unicast destinations only: a proxy answering for a broadcast, multicast or loopback
// address, or for this network's directed broadcast, would answer for many hosts or none.
bool host::impl::any_destination(const ip_addr& dst) const {
  if (dst.is_v6()) {
    const ipv6_addr& a = dst.v6();
    return !a.is_unspecified() && !a.is_multicast() && !a.is_loopback() && !a.is_v4_mapped();
  }
  const ipv4_addr a = dst.v4();
  if ((a.value >> 24) == 0 || a.is_broadcast() || a.is_multicast() || a.is_loopback() || (a.value >> 28) == 0xF) {
    return false;  // 0/8 "this network" (RFC 1122 §3.2.1.3 (a)), 224/4, 127/8, 240/4
  }
  return !directed_broadcast(a);
}

bool host::impl::any_admits(std::uint16_t port, const any_address_filter& filter, const four_tuple& t) {
  if (t.local_port == 0 || (port != 0 && t.local_port != port)) return false;  // port 0 is nobody's
  return !filter || filter(t);
}

const std::uint32_t* host::impl::listener_for(const four_tuple& t) const {
  if (!any_seen || is_local(t.local_addr)) return find_listener(t.local_addr, t.local_port);
  const std::optional<std::uint32_t>& a = any_listener[family_index(t.local_addr)];
  if (!a) return nullptr;
  const listener& l = listeners[*a];
  return any_admits(l.port, l.filter, t) ? &*a : nullptr;
}

result<listener_handle, host_error> host::listen_any(std::size_t backlog, const any_address_options& opts) {
  return listen_any(backlog, impl_->cfg.tcp, opts);
}

result<listener_handle, host_error> host::listen_any(std::size_t backlog, const tcp_config& cfg,
                                                     const any_address_options& opts) {
  impl& m = *impl_;
  const bool v4 = opts.family != listen_family::v6;
  const bool v6 = opts.family != listen_family::v4;
  if ((v4 && m.any_listener[0]) || (v6 && m.any_listener[1])) return unexpected{host_error::address_in_use};
  const std::uint32_t idx = m.new_listener(opts.port, backlog, cfg, opts.family);
  impl::listener& l = m.listeners[idx];
  l.any = true;
  l.filter = opts.filter;
  l.defer = opts.defer_syn;
  l.max_pending = opts.max_pending_syns;
  l.pending_timeout = opts.pending_syn_timeout;
  l.evict_oldest = opts.evict_oldest_syn;
  if (v4) m.any_listener[0] = idx;
  if (v6) m.any_listener[1] = idx;
  m.any_seen = true;
  return listener_handle{idx, l.gen};
}

}  // namespace synack
