// Deferred SYN answers (issue #15; any_address_options::defer_syn): a SYN an any-address
// listener takes is held, and the application answers it later as the original destination
// would have — SYN-ACK once its own connect upstream succeeded, RST|ACK for a refused one,
// ICMP destination unreachable for an unreachable one.
//
// The held SYNs are a bounded table (per listener: max_pending_syns; beyond it a SYN is
// dropped and counted, or with evict_oldest_syn the oldest held one is) indexed by 4-tuple, so a
// retransmitted SYN is absorbed, and listed per listener in arrival order; each expires
// after pending_syn_timeout of the time passed in (a heap of expiries, like TIME-WAIT's).
// Accepting replays the stored SYN through the listener's ordinary path (open_half): the
// half-open TCB answers with a SYN-ACK negotiated from the SYN's options.
#include <algorithm>

#include "host_impl.hpp"
#include "synack/tcp/reset.hpp"

namespace synack {

void host::impl::store_syn(pending_entry& e, const ip_ends& ip, const tcp_repr& seg) {
  e.syn = seg;
  e.syn.payload = {};  // DEVIATION: data on a held SYN is not kept; unacknowledged, the peer resends it
  e.syn.options.unknown_count = 0;  // their bytes point into the packet; no TCB acts on them
  e.quote_len = std::min(ip.packet.size(), pending_entry::quote_max);
  std::copy_n(ip.packet.begin(), e.quote_len, e.quote.begin());
}

void host::impl::defer_syn(instant now, const ip_ends& ip, const tcp_repr& seg, std::uint32_t lidx) {
  listener& l = listeners[lidx];
  const four_tuple t{ip.dst, seg.dst_port, ip.src, seg.src_port};
  if (const std::uint32_t* held = pending_by_tuple.find(t); held != nullptr) {
    // A retransmission (or, with another ISN, the client starting over): one entry, one
    // event; the answer, when it comes, is to the latest SYN.
    ++ctr.syn_deferred_retransmits;
    ++ctr.in_accepted;
    store_syn(pending[*held], ip, seg);
    return;
  }
  if (l.pending >= l.max_pending && l.evict_oldest && l.oldest_held != none_held) {
    // Room for the new SYN at the expense of the oldest: the flood's own SYNs age out first.
    ++ctr.syn_deferred_overflow;
    ++l.syn_drops;
    ++ctr.listen_drops;
    note_syn_flood(now, l, seg.dst_port, false);
    release_pending(l.oldest_held);
  }
  if (l.pending >= l.max_pending) {
    ++ctr.syn_deferred_overflow;
    ++ctr.host(host_drop::syn_pending_full);
    ++l.syn_drops;
    ++ctr.listen_drops;
    note_syn_flood(now, l, seg.dst_port, false);
    return;
  }
  std::uint32_t idx = 0;
  if (!pending_free.empty()) {
    idx = pending_free.back();
    pending_free.pop_back();
  } else {
    pending.emplace_back();
    idx = static_cast<std::uint32_t>(pending.size() - 1);
  }
  pending_entry& e = pending[idx];
  e.used = true;
  e.tuple = t;
  e.listener = lidx;
  e.older = l.newest_held;
  e.newer = none_held;
  (l.newest_held == none_held ? l.oldest_held : pending[l.newest_held].newer) = idx;
  l.newest_held = idx;
  e.arrived = now;
  e.expiry = now + l.pending_timeout;
  store_syn(e, ip, seg);
  pending_by_tuple.insert_or_assign(t, idx);
  ++l.pending;
  ++ctr.syn_deferred;
  ++ctr.in_accepted;
  pending_expiries.push(pending_expiry{e.expiry, idx, e.gen});
  if (pending_expiries.size() > 2 * pending_by_tuple.size() + 64) {
    // Answered SYNs left stale entries behind: keep only the live ones.
    decltype(pending_expiries) live;
    while (!pending_expiries.empty()) {
      if (pending_live(pending_expiries.top())) live.push(pending_expiries.top());
      pending_expiries.pop();
    }
    pending_expiries = std::move(live);
  }
  host_event ev;
  ev.what = host_event::kind::syn_pending;
  ev.listener = listener_handle{lidx, l.gen};
  ev.syn = syn_handle{idx, e.gen};
  events.push_back(ev);
}

// The client resets the connection its held SYN began (it gave up, or another stack on its
// side answered for it): the entry goes, as a SYN-RECEIVED TCB would (RFC 9293 §3.10.7.4
// first check), and the application's later answer finds it gone (host_error::bad_handle).
// Acceptable only at exactly the RCV.NXT the SYN implies, SYN.SEQ + 1 (RFC 5961 §3: a blind
// RST must guess it); any other RST is a listener's to ignore.
bool host::impl::withdraw_syn(const ip_ends& ip, const tcp_repr& seg) {
  const four_tuple t{ip.dst, seg.dst_port, ip.src, seg.src_port};
  const std::uint32_t* held = pending_by_tuple.find(t);
  if (held == nullptr || seg.seq != pending[*held].syn.seq + seq_len{1}) return false;
  ++ctr.syn_deferred_reset;
  ++ctr.in_accepted;
  release_pending(*held);
  return true;
}

host::impl::pending_entry* host::impl::pending_of(syn_handle h) {
  if (h.index >= pending.size()) return nullptr;
  pending_entry& e = pending[h.index];
  return e.used && e.gen == h.gen ? &e : nullptr;
}

void host::impl::release_pending(std::uint32_t idx) {
  pending_entry& e = pending[idx];
  const four_tuple t = e.tuple;
  pending_by_tuple.erase(t);
  listener& l = listeners[e.listener];
  --l.pending;
  (e.older == none_held ? l.oldest_held : pending[e.older].newer) = e.newer;
  (e.newer == none_held ? l.newest_held : pending[e.newer].older) = e.older;
  e.older = e.newer = none_held;
  e.used = false;
  ++e.gen;
  pending_free.push_back(idx);
}

void host::impl::expire_pending(instant now) {
  while (!pending_expiries.empty() && pending_expiries.top().at <= now) {
    const pending_expiry x = pending_expiries.top();
    pending_expiries.pop();
    if (!pending_live(x)) continue;
    ++ctr.syn_deferred_expired;
    release_pending(x.idx);
  }
}

instant host::impl::pending_deadline() const {
  while (!pending_expiries.empty() && !pending_live(pending_expiries.top())) pending_expiries.pop();
  return pending_expiries.empty() ? never : pending_expiries.top().at;
}

std::optional<pending_syn_info> host::pending_syn(syn_handle s) const {
  const impl::pending_entry* e = const_cast<impl&>(*impl_).pending_of(s);  // NOLINT: same lookup, const view
  if (e == nullptr) return std::nullopt;
  return pending_syn_info{e->tuple, e->syn.seq, e->syn.options, e->arrived};
}

result<void, host_error> host::accept_syn(instant now, syn_handle s) {
  impl& m = *impl_;
  impl::pending_entry* e = m.pending_of(s);
  if (e == nullptr) return unexpected{host_error::bad_handle};
  const std::uint32_t lidx = e->listener;
  const four_tuple t = e->tuple;
  const tcp_repr syn = e->syn;
  m.release_pending(s.index);
  impl::listener& l = m.listeners[lidx];
  if (!m.can_take_half_open(l) || m.demux.find(t) != nullptr) {
    m.count_syn_drop(l);
    return unexpected{host_error::too_many_connections};
  }
  ++m.ctr.syn_deferred_accepted;
  const std::uint64_t taken = m.ctr.in_accepted;  // the SYN was counted as taken in when held
  m.open_half(now, ip_ends{t.remote_addr, t.local_addr}, syn, lidx, std::nullopt);
  m.ctr.in_accepted = taken;
  return {};
}

result<void, host_error> host::refuse_syn(instant now, syn_handle s, syn_refusal why) {
  impl& m = *impl_;
  impl::pending_entry* e = m.pending_of(s);
  if (e == nullptr) return unexpected{host_error::bad_handle};
  const four_tuple t = e->tuple;
  const bool v4 = t.local_addr.is_v4();
  std::uint8_t code = 0;
  switch (why) {
    case syn_refusal::reset:
      // RFC 9293 §3.10.7.1, as a closed port: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
      if (auto rst = reset_for_closed(e->syn)) m.queue_tcp_reply(t.local_addr, t.remote_addr, *rst);
      ++m.ctr.syn_deferred_refused;
      m.release_pending(s.index);
      return {};
    case syn_refusal::host_unreachable: code = v4 ? icmp_unreach_code::host : icmpv6_unreach_code::address; break;
    case syn_refusal::net_unreachable: code = v4 ? icmp_unreach_code::net : icmpv6_unreach_code::no_route; break;
    case syn_refusal::admin_prohibited:
      code = v4 ? icmp_unreach_code::admin_prohibited : icmpv6_unreach_code::prohibited;
      break;
    case syn_refusal::port_unreachable: code = v4 ? icmp_unreach_code::port : icmpv6_unreach_code::port; break;
  }
  // RFC 792 / RFC 4443 §3.1: destination unreachable from the original destination (as the
  // router before it would send it), quoting the SYN.
  const std::uint8_t type = v4 ? static_cast<std::uint8_t>(icmp_type::dest_unreachable)
                               : static_cast<std::uint8_t>(icmpv6_type::dest_unreachable);
  m.queue_icmp_error(now, t.local_addr, t.remote_addr, type, code, 0, bytes{e->quote}.first(e->quote_len));
  ++m.ctr.syn_deferred_unreachable;
  m.release_pending(s.index);
  return {};
}

}  // namespace synack
