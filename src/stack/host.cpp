// synack::host: commands, polls, timers and slot bookkeeping. Packet input is in
// host_input.cpp.
#include <algorithm>
#include <cstring>
#include <array>
#include <cassert>
#include <bit>
#include <charconv>
#include <span>

#include "host_impl.hpp"

namespace synack {

host::impl::impl(const host_config& c) : cfg(c), budget(c.memory), isns(c.secret), cookies(c.secret) {
  for (auto& r : replies) r.buf.resize(std::size_t{cfg.mtu});
  udp_tx.resize(cfg.udp_tx_queue);  // buffers sized when first used (queue_udp)
}

host::host(const host_config& cfg) : impl_(std::make_unique<impl>(cfg)) {}
host::~host() = default;

const host_config& host::config() const { return impl_->cfg; }
const host_counters& host::counters() const {
  impl_->ctr.memory = impl_->budget.stats();  // the budget counts what the connections' rules did
  return impl_->ctr;
}

host_memory host::memory() const {
  const impl& m = *impl_;
  return host_memory{m.budget.allocated(), m.budget.peak(), m.budget.level(), m.budget.limits(), m.orphans,
                     m.cfg.max_orphans};
}
void host::set_tracer(tcp_tracer* t) { impl_->user_tracer = t; }
void host::set_log(host_log* l) { impl_->log = l; }
std::size_t host::connection_count() const { return impl_->demux.size(); }
std::size_t host::time_wait_count() const { return impl_->tw.size(); }
std::size_t host::ready_queue_len() const { return impl_->ready.size(); }

std::string_view to_string(host_error e) {
  switch (e) {
    case host_error::bad_handle: return "bad handle";
    case host_error::address_in_use: return "address in use";
    case host_error::no_ephemeral_port: return "no ephemeral port available";
    case host_error::too_many_connections: return "too many connections";
    case host_error::invalid_argument: return "invalid argument";
    case host_error::would_block: return "would block";
    case host_error::network_unreachable: return "no local address of the remote's family";
    case host_error::message_too_long: return "message too long";
    case host_error::no_buffer_space: return "no buffer space";
    case host_error::address_not_available: return "address not available";
  }
  return "?";
}

// ---- RFC 1213 counters from the state funnel -----------------------------------------------

void host::impl::on_state(const four_tuple& t, tcp_state from, tcp_state to) {
  auto estab_like = [](tcp_state s) { return s == tcp_state::established || s == tcp_state::close_wait; };
  if (from == tcp_state::closed && to == tcp_state::syn_sent) ++ctr.active_opens;
  if (from == tcp_state::listen && to == tcp_state::syn_received) ++ctr.passive_opens;
  if ((from == tcp_state::syn_sent || from == tcp_state::syn_received) && to == tcp_state::closed) ++ctr.attempt_fails;
  if (estab_like(from) && to == tcp_state::closed) ++ctr.estab_resets;
  if (!estab_like(from) && estab_like(to)) ++ctr.curr_estab;
  if (estab_like(from) && !estab_like(to)) --ctr.curr_estab;
  if (user_tracer != nullptr) user_tracer->on_state(t, from, to);
}

// ---- slots -----------------------------------------------------------------------------------

std::uint16_t host::impl::link_mss(std::uint16_t cap) const {
  const auto link = static_cast<std::uint16_t>(std::max(cfg.mtu, min_ipv4_mtu) - 40);
  return std::min(cap, link);
}

// RFC 8200 §5 and RFC 9293 §3.7.1: over IPv6 the link MTU (at least 1280) less 60 octets of
// fixed IPv6 and TCP headers, so never below 1220.
std::uint16_t host::impl::link_mss(std::uint16_t cap, const ip_addr& remote) const {
  if (remote.is_v4()) return link_mss(cap);
  const auto link = static_cast<std::uint16_t>(std::max(cfg.mtu, min_ipv6_mtu) - 60);
  return std::min(cap, link);
}

bool host::impl::is_local(const ip_addr& a) const {
  if (a.is_v4() && a.v4() == cfg.addr && !cfg.addr.is_unspecified()) return true;
  return std::ranges::any_of(cfg.addresses, [&](const host_address& h) { return h.addr == a; });
}

namespace {
// Leading bits two IPv6 addresses share.
std::size_t common_prefix(const ipv6_addr& a, const ipv6_addr& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    const auto x = static_cast<std::uint8_t>(a.octets[i] ^ b.octets[i]);
    if (x == 0) {
      n += 8;
      continue;
    }
    return n + static_cast<std::size_t>(std::countl_zero(x));
  }
  return n;
}
}  // namespace

// RFC 6724 in short, for a host whose addresses all sit on one link: the same scope as the
// remote (link-local for link-local), then the longest common prefix (rule 8), then the first
// configured.
std::optional<ip_addr> host::impl::source_for(const ip_addr& remote) const {
  if (remote.is_v4()) {
    if (!cfg.addr.is_unspecified()) return ip_addr{cfg.addr};
    for (const host_address& h : cfg.addresses) {
      if (h.addr.is_v4()) return h.addr;
    }
    return std::nullopt;
  }
  std::optional<ip_addr> best;
  std::size_t best_len = 0;
  bool best_scope = false;
  for (const host_address& h : cfg.addresses) {
    if (!h.addr.is_v6()) continue;
    const bool scope = h.addr.v6().is_link_local() == remote.v6().is_link_local();
    const std::size_t len = common_prefix(h.addr.v6(), remote.v6());
    if (!best || (scope && !best_scope) || (scope == best_scope && len > best_len)) {
      best = h.addr;
      best_len = len;
      best_scope = scope;
    }
  }
  return best;
}

bool host::is_local(const ip_addr& a) const { return impl_->is_local(a); }
std::optional<ip_addr> host::source_for(const ip_addr& remote) const { return impl_->source_for(remote); }

namespace {
// Out of line: the field-by-field compare is long code, and the common case never needs it.
[[gnu::noinline]] bool same_config(const tcp_config& a, const tcp_config& b) { return a == b; }
}  // namespace

std::shared_ptr<const tcp_config> host::impl::share_config(const tcp_config& c) {
  // Octet for octet first: a configuration copied from the one that made the cached entry (a
  // listener's or the host's, as nearly always) matches at once. Equal ones that differ in
  // padding still match by ==.
  for (const auto& p : cfg_cache) {
    if (p && (std::memcmp(p.get(), &c, sizeof c) == 0 || same_config(*p, c))) return p;
  }
  auto p = std::make_shared<const tcp_config>(c);
  cfg_cache[cfg_cache_next] = p;
  cfg_cache_next = (cfg_cache_next + 1) % cfg_cache.size();
  return p;
}

std::uint32_t host::impl::alloc_slot(owner o, const tcp_config& c, const ip_addr& remote) {
  std::uint32_t idx = 0;
  if (!free_slots.empty()) {
    idx = free_slots.back();
    free_slots.pop_back();
  } else {
    idx = static_cast<std::uint32_t>(slots.size());
    slots.emplace_back();
  }
  slot& s = slots[idx];
  tcp_config own = c;
  own.mss = link_mss(c.mss, remote);  // announced on the SYN / SYN-ACK and the cap of the send MSS
  // What the link can segment: IPv4 only (TUN_F_TSO4).
  own.tso_max = remote.is_v4() ? std::min(cfg.tso_max, max_tso_payload) : 0;
  s.cfg = share_config(own);
  s.conn.emplace(*s.cfg, isns);
  s.conn->set_tracer(this);
  s.conn->set_header_scratch(&conn_header);
  s.conn->set_memory_budget(&budget);
  s.own = o;
  s.accept_queued = false;
  s.tx_queued = false;
  s.ready_edge = false;  // ready_queued stays: an entry queued for the slot's last connection
  s.seen_eof = false;
  s.seen_state = tcp_state::closed;
  s.seen_readable = 0;
  s.seen_free = 0;
  s.deadline = never;
  s.queued = never;
  return idx;
}

std::uint32_t host::impl::alloc_child(std::uint32_t listener_idx, const ip_addr& remote) {
  const std::uint32_t idx = alloc_slot(owner::child, listeners[listener_idx].cfg, remote);
  slots[idx].listener = listener_idx;
  return idx;
}

void host::impl::unlink(std::uint32_t idx) {
  const four_tuple& t = slots[idx].conn->tuple();
  const std::uint32_t* owner_idx = demux.find(t);
  if (owner_idx != nullptr && *owner_idx == idx) demux.erase(t);
}

void host::impl::free_slot(std::uint32_t idx) {
  slot& s = slots[idx];
  unlink(idx);
  s.conn.reset();
  if (s.own == owner::orphan) --orphans;
  ++s.gen;
  s.own = owner::free;
  s.deadline = never;
  s.queued = never;
  free_slots.push_back(idx);
}

host::impl::slot* host::impl::user_slot(conn_handle h) {
  if (h.index >= slots.size()) return nullptr;
  slot& s = slots[h.index];
  return (s.gen == h.gen && s.own == owner::user) ? &s : nullptr;
}
const host::impl::slot* host::impl::user_slot(conn_handle h) const {
  return const_cast<impl*>(this)->user_slot(h);  // NOLINT: same lookup, const view
}

// After any input, command or output on a connection: route its events, queue it for output,
// reschedule its deadline, and free it once nothing is left to do.
void host::impl::touch(instant now, std::uint32_t idx) {
  slot& s = slots[idx];
  drain_events(now, idx);
  if (!s.conn) return;
  if (s.own == owner::user) note_ready(idx);
  // RFC 9293 §3.10.7: "enter the CLOSED state, delete the TCB". A handle the user still holds
  // keeps its sticky error, but the 4-tuple is free: segments for it are answered as for
  // CLOSED (§3.10.7.1) and a new connection may use it.
  if (s.conn->state() == tcp_state::closed) unlink(idx);
  if (!s.tx_queued && s.conn->has_pending_output()) {
    s.tx_queued = true;
    txq.push_back(idx);
  }
  schedule(idx);
  if (!s.tx_queued) maybe_reap(idx);
  if (budget.level() != seen_level) check_memory_level();
}

// An edge for the user when something it may wait for happened: more bytes to read, the
// peer's FIN, more send space, a state change (established, closed). Readable bytes going
// down (the user read) or send space shrinking (the user wrote) are no edge.
void host::impl::note_ready(std::uint32_t idx) {
  slot& s = slots[idx];
  const connection& c = *s.conn;
  const std::size_t readable = c.recv_available();
  const std::size_t free = c.send_free();
  const bool edge = readable > s.seen_readable || free > s.seen_free || (c.peer_fin_received() && !s.seen_eof) ||
                    c.state() != s.seen_state;
  s.seen_readable = readable;
  s.seen_free = free;
  s.seen_eof = c.peer_fin_received();
  s.seen_state = c.state();
  if (!edge) return;
  s.ready_edge = true;
  if (!s.ready_queued) {
    s.ready_queued = true;
    ready.push_back(idx);
  }
}

void host::impl::drain_events(instant now, std::uint32_t idx) {
  slot& s = slots[idx];
  while (auto e = s.conn->poll_event()) {
    if (e->kind == tcp_event_kind::retransmit_threshold) {
      negative_advice(now, s.conn->tuple(), s.cfg->r1_retransmissions);
    }
    if (s.fast_open_pending && (e->kind == tcp_event_kind::established || e->kind == tcp_event_kind::closed))
        [[unlikely]] {
      s.fast_open_pending = false;  // RFC 7413 §5.1: out of SYN-RECEIVED, out of the TFO queue
      listener& fl = listeners[s.listener];
      if (fl.fast_open_pending > 0) --fl.fast_open_pending;
      if (e->kind == tcp_event_kind::established && s.own == owner::child) continue;  // queued already
    }
    switch (s.own) {
      case owner::user:
        events.push_back(host_event{host_event::kind::connection, conn_handle{idx, s.gen}, {}, *e, {}});
        break;
      case owner::child: {
        listener& l = listeners[s.listener];
        if (e->kind == tcp_event_kind::established) {
          --l.half_open;
          if (!l.open || l.accept_q.size() >= l.backlog) [[unlikely]] {
            // The accept queue filled up while this one was half-open (ListenOverflows).
            // The segment that completed the handshake was counted in_accepted by tcp_input
            // just before this drain; it is a drop after all, so it moves to the overflow
            // bucket and ip_in_receives == in_accepted + drops still holds (found by
            // stack_fuzz, fuzz/regressions/stack_fuzz/listen_overflow_counted_twice).
            --ctr.in_accepted;
            ++ctr.listen_overflows;
            ++ctr.listen_drops;
            ++ctr.host(host_drop::listen_overflow);
            make_orphan(s);
            s.conn->abort(now);
            break;
          }
          s.accept_queued = true;
          l.accept_q.push_back(idx);
          events.push_back(host_event{host_event::kind::accept_ready, {}, listener_handle{s.listener, l.gen}, *e, {}});
        } else if (e->kind == tcp_event_kind::closed) {
          // tcp_config::reset_keeps_received_linux: a reset child stays queued for accept().
          if (s.accept_queued && s.conn->reason() == close_reason::reset && s.conn->config().reset_keeps_received_linux) {
            break;
          }
          if (s.accept_queued) {
            l.accept_q.erase(idx);
            s.accept_queued = false;
          } else {
            --l.half_open;  // a half-open connection timed out or was reset
          }
          make_orphan(s);
        }
        break;
      }
      case owner::orphan:
      case owner::free:
        break;
    }
  }
}

// RFC 9293 §3.8.3 (MUST-20), RFC 1122 §4.2.3.5: a connection retransmitted one segment R1
// times unanswered, and "passes negative advice to the IP layer, to trigger dead-gateway
// diagnosis". This host's IP layer is one interface with no gateway of its own to choose
// (RFC 1122 §3.3.1.4: the link, TUN or simulated, and whatever routes behind it own that), so
// the advice is counted and given to the operator — at most one notice a minute, e.g.
// "no answer from 10.0.0.2:80 after 3 retransmissions: the path may be down".
void host::impl::negative_advice(instant now, const four_tuple& t, std::uint32_t retransmissions) {
  ++ctr.r1_negative_advice;
  constexpr duration quiet = std::chrono::seconds(60);
  if (advice_logged && now - *advice_logged < quiet) return;
  advice_logged = now;
  if (log == nullptr) return;
  std::array<char, 96> buf{};
  char* p = buf.data();
  char* const end = buf.data() + buf.size();
  auto put = [&](std::string_view sv) {
    const std::size_t n = std::min(sv.size(), static_cast<std::size_t>(end - p));
    p = std::copy_n(sv.data(), n, p);
  };
  auto num = [&](std::uint32_t v) { p = std::to_chars(p, end, v).ptr; };
  put("no answer from ");
  if (t.remote_addr.is_v4()) {
    for (int i = 3; i >= 0; --i) {
      num((t.remote_addr.low32() >> (8 * i)) & 0xFFu);
      if (i != 0) put(".");
    }
    put(":");
  } else {  // "[2001:db8::1]:" (RFC 5952 §6), in hex groups without the "::" shortening
    put("[");
    for (std::size_t i = 0; i < 8; ++i) {
      p = std::to_chars(p, end, t.remote_addr.v6().group(i), 16).ptr;
      if (i != 7) put(":");
    }
    put("]:");
  }
  num(t.remote_port);
  put(" after ");
  num(retransmissions);
  put(" retransmissions: the path may be down");
  log->on_log(now, std::string_view{buf.data(), static_cast<std::size_t>(p - buf.data())});
}

void host::impl::schedule(std::uint32_t idx) {
  slot& s = slots[idx];
  s.deadline = s.conn->next_deadline_or(never);
  // Push only when the deadline moved earlier than the heap knows; a later or cancelled one
  // is dealt with when the old entry reaches the top (settle_timer_top).
  if (s.deadline < s.queued) {
    timers.push(timer_entry{s.deadline, idx, s.gen});
    s.queued = s.deadline;
  }
}

bool host::impl::settle_timer_top() const {
  while (!timers.empty()) {
    const timer_entry e = timers.top();
    const slot& s = slots[e.idx];
    if (!s.conn || s.gen != e.gen || s.queued != e.at) {
      timers.pop();  // freed slot, or superseded by an earlier entry of the same slot
      continue;
    }
    if (s.deadline == e.at) return true;
    timers.pop();
    s.queued = s.deadline;  // moved later: re-push at the new deadline; or cancelled (never)
    if (s.deadline != never) timers.push(timer_entry{s.deadline, e.idx, e.gen});
  }
  return false;
}

void host::impl::maybe_reap(std::uint32_t idx) {
  slot& s = slots[idx];
  const connection& c = *s.conn;
  // A reset child kept in the accept queue (tcp_config::reset_keeps_received_linux) waits for
  // accept() or its listener's close.
  if (c.state() == tcp_state::closed && s.own != owner::user && !s.accept_queued) {
    free_slot(idx);
  } else if (c.state() == tcp_state::time_wait && s.own == owner::orphan) {
    // Shrink to a compact record: the TCB and its buffers go, the rules stay.
    add_time_wait(c.time_wait_state());
    free_slot(idx);
  }
}

void host::impl::add_time_wait(const time_wait_record& r) {
  while (tw.size() >= cfg.time_wait_max && !tw_expiry.empty()) {
    const tw_entry e = tw_expiry.top();  // the one closest to expiry goes first
    tw_pop();
    const time_wait_record* rec = tw.find(e.tuple);
    if (rec != nullptr && rec->expiry == e.at) {
      tw_erase(e.tuple);
      ++ctr.time_wait_recycled;
    }
  }
  tw.insert_or_assign(r.tuple, r);
  tw_push(r.expiry, r.tuple);
}

void host::impl::expire_time_wait(instant now) {
  while (!tw_expiry.empty() && tw_expiry.top().at <= now) {
    const tw_entry e = tw_expiry.top();
    tw_pop();
    const time_wait_record* rec = tw.find(e.tuple);
    if (rec != nullptr && rec->expiry == e.at) tw_erase(e.tuple);  // else restarted: a later entry
  }
}

bool host::impl::tuple_in_use(const four_tuple& t) const { return demux.contains(t) || tw.contains(t); }

// RFC 6056 §3.3.3 (algorithm 3): start at a keyed hash of the destination, then walk the range.
std::optional<std::uint16_t> host::impl::pick_ephemeral(const ip_addr& local, const ip_addr& remote,
                                                        std::uint16_t port) const {
  const std::uint32_t first = cfg.ephemeral_first;
  const std::uint32_t count = std::uint32_t{cfg.ephemeral_last} - first + 1;
  if (last_ephemeral.port != port || last_ephemeral.remote != remote) {
    // F(local, remote, port): IPv4 as 10 octets, IPv6 with the addresses' 16 octets each.
    std::array<std::byte, 34> msg{};
    std::size_t n = 10;
    if (remote.is_v4()) {
      store_be32(&msg[0], local.low32());
      store_be32(&msg[4], remote.low32());
      store_be16(&msg[8], port);
    } else {
      for (std::size_t i = 0; i < 16; ++i) {
        msg[i] = std::byte{local.v6().octets[i]};
        msg[16 + i] = std::byte{remote.v6().octets[i]};
      }
      store_be16(&msg[32], port);
      n = 34;
    }
    last_ephemeral = {remote, port, static_cast<std::uint32_t>(siphash24(cfg.secret, std::span{msg}.first(n)))};
  }
  const std::uint32_t offset = last_ephemeral.offset;
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto p = static_cast<std::uint16_t>(first + (offset + ephemeral_next + i) % count);
    if (!tuple_in_use(four_tuple{local, p, remote, port}) && find_listener(local, p) == nullptr) return p;
  }
  return std::nullopt;
}

std::size_t host::impl::write_ip(mutable_bytes out, const ip_addr& src, const ip_addr& dst, ip_proto proto,
                                 std::size_t payload_len, std::uint8_t tos) {
  ++ctr.ip_out_requests;
  if (dst.is_v6()) {
    ipv6_repr ip;
    ip.src = src.v6();
    ip.dst = dst.v6();
    ip.next_header = static_cast<std::uint8_t>(proto);
    ip.payload_len = static_cast<std::uint16_t>(payload_len);
    ip.hop_limit = cfg.ttl;
    ip.traffic_class = tos;
    ip.emit(out);
    return ipv6_repr::buffer_len();
  }
  ipv4_repr ip;
  ip.dscp_ecn = tos;
  ip.src = src.v4();
  ip.dst = dst.v4();
  ip.protocol = proto;
  ip.payload_len = static_cast<std::uint16_t>(payload_len);
  ip.ttl = cfg.ttl;
  ip.ident = ip_ident++;  // DF is set: any value will do (RFC 6864 §4.1)
  ip.dont_fragment = true;
  ip.emit(out);
  return ipv4_repr::buffer_len();
}

// ---- commands --------------------------------------------------------------------------------

result<listener_handle, host_error> host::listen(std::uint16_t port, std::size_t backlog) {
  return listen(port, backlog, impl_->cfg.tcp);
}

result<listener_handle, host_error> host::listen(std::uint16_t port, std::size_t backlog, const tcp_config& cfg) {
  return listen(port, backlog, cfg, listen_family::any);
}

result<listener_handle, host_error> host::listen(std::uint16_t port, std::size_t backlog, const tcp_config& cfg,
                                                 listen_family family) {
  impl& m = *impl_;
  if (port == 0) return unexpected{host_error::invalid_argument};
  const bool v4 = family != listen_family::v6;
  const bool v6 = family != listen_family::v4;
  if ((v4 && m.listen_by_port.contains(port)) || (v6 && m.listen_by_port6.contains(port))) {
    return unexpected{host_error::address_in_use};
  }
  const std::uint32_t idx = m.new_listener(port, backlog, cfg, family);
  if (v4) m.listen_by_port.insert_or_assign(port, idx);
  if (v6) m.listen_by_port6.insert_or_assign(port, idx);
  return listener_handle{idx, m.listeners[idx].gen};
}

std::uint32_t host::impl::new_listener(std::uint16_t port, std::size_t backlog, const tcp_config& c,
                                       listen_family family) {
  const std::uint32_t idx = reuse_or_append(listeners);
  listener& l = listeners[idx];
  l.port = port;
  l.family = family;
  l.backlog = std::max<std::size_t>(backlog, 1);
  l.half_open = 0;
  l.fast_open_pending = 0;
  l.accept_q.clear();
  l.cfg = c;
  l.open = true;
  l.cookies_sent = 0;
  l.cookies_recv = 0;
  l.syn_drops = 0;
  l.last_cookie.reset();
  l.flood_logged.reset();
  l.any = false;
  l.filter = nullptr;
  l.defer = false;
  l.pending = 0;
  l.evict_oldest = false;
  l.oldest_held = l.newest_held = impl::none_held;
  return idx;
}

void host::close_listener(instant now, listener_handle h) {
  impl& m = *impl_;
  if (h.index >= m.listeners.size() || m.listeners[h.index].gen != h.gen || !m.listeners[h.index].open) return;
  impl::listener& l = m.listeners[h.index];
  l.open = false;
  ++l.gen;
  if (l.any) {
    for (auto& a : m.any_listener) {
      if (a == h.index) a.reset();
    }
  } else {
    if (l.family != listen_family::v6) m.listen_by_port.erase(l.port);
    if (l.family != listen_family::v4) m.listen_by_port6.erase(l.port);
  }
  // Connections not yet accepted are reset, as closing a listening socket does on Linux.
  for (std::uint32_t i = 0; i < m.slots.size(); ++i) {
    impl::slot& s = m.slots[i];
    if (s.listener == h.index) s.fast_open_pending = false;  // the listener's TFO queue goes with it
    if (s.conn && s.own == impl::owner::child && s.listener == h.index) {
      m.make_orphan(s);
      s.accept_queued = false;
      s.conn->abort(now);
      m.touch(now, i);
    }
  }
  l.accept_q.clear();
  l.half_open = 0;
  l.fast_open_pending = 0;
  // Held SYNs are forgotten unanswered (their handles go stale), as a closed listener's
  // unanswered SYNs would be.
  for (std::uint32_t i = 0; l.pending > 0 && i < m.pending.size(); ++i) {
    if (m.pending[i].used && m.pending[i].listener == h.index) m.release_pending(i);
  }
}

result<conn_handle, host_error> host::accept(listener_handle h) {
  impl& m = *impl_;
  if (h.index >= m.listeners.size() || m.listeners[h.index].gen != h.gen || !m.listeners[h.index].open) {
    return unexpected{host_error::bad_handle};
  }
  impl::listener& l = m.listeners[h.index];
  if (l.accept_q.empty()) return unexpected{host_error::would_block};
  const std::uint32_t idx = l.accept_q.front();
  l.accept_q.pop_front();
  impl::slot& s = m.slots[idx];
  s.accept_queued = false;
  s.own = impl::owner::user;
  m.note_ready(idx);  // bytes or a FIN that came before accept are an edge for the new user
  return conn_handle{idx, s.gen};
}

result<conn_handle, host_error> host::connect(instant now, const ip_addr& remote, std::uint16_t port,
                                              std::optional<std::uint16_t> local_port) {
  return connect(now, remote, port, local_port, impl_->cfg.tcp);
}

result<conn_handle, host_error> host::connect(instant now, const ip_addr& remote, std::uint16_t port,
                                              std::optional<std::uint16_t> local_port, const tcp_config& cfg) {
  return impl_->open_active(now, remote, port, local_port, cfg, nullptr);
}

result<conn_handle, host_error> host::impl::open_active(instant now, const ip_addr& remote, std::uint16_t port,
                                                        std::optional<std::uint16_t> local_port, const tcp_config& conn_cfg,
                                                        const fast_open_client* fo) {
  impl& m = *this;
  if (!impl::unicast_remote(remote) || port == 0) return unexpected{host_error::invalid_argument};
  const auto local = m.source_for(remote);
  if (!local) return unexpected{host_error::network_unreachable};
  if (m.demux.size() >= m.cfg.max_connections) return unexpected{host_error::too_many_connections};
  std::uint16_t lport = 0;
  if (local_port) [[unlikely]] {
    if (*local_port == 0) return unexpected{host_error::invalid_argument};
    if (m.tuple_in_use(four_tuple{*local, *local_port, remote, port})) {
      return unexpected{host_error::address_in_use};
    }
    lport = *local_port;
  } else {
    auto p = m.pick_ephemeral(*local, remote, port);
    if (!p) return unexpected{host_error::no_ephemeral_port};
    lport = *p;
    ++m.ephemeral_next;
  }
  const four_tuple t{*local, lport, remote, port};
  const std::uint32_t idx = m.alloc_slot(impl::owner::user, conn_cfg, remote);
  auto r = fo != nullptr ? m.slots[idx].conn->connect(now, t, *fo) : m.slots[idx].conn->connect(now, t);
  assert(r.has_value());
  (void)r;
  m.demux.insert_or_assign(t, idx);
  m.touch(now, idx);
  return conn_handle{idx, m.slots[idx].gen};
}

result<std::size_t, tcp_error> host::send(conn_handle h, bytes data) { return send(h, data, false); }

result<std::size_t, tcp_error> host::send(conn_handle h, bytes data, bool urgent) {
  return send(h, data, send_flags{.urgent = urgent});
}

result<std::size_t, tcp_error> host::send(conn_handle h, bytes data, send_flags flags) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  auto r = s->conn->send(data, flags);
  impl_->after_user_io(h.index);
  return r;
}

result<std::size_t, tcp_error> host::recv(conn_handle h, mutable_bytes out) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  auto r = s->conn->recv(out);
  impl_->after_user_io(h.index);
  return r;
}

result<ring_view, tcp_error> host::recv_view(conn_handle h) const {
  const impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  return s->conn->recv_view();
}

result<void, tcp_error> host::recv_consume(conn_handle h, std::size_t n) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  s->conn->recv_consume(n);
  impl_->after_user_io(h.index);
  return {};
}

result<ring_space, tcp_error> host::send_reserve(conn_handle h, std::size_t max) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  auto r = s->conn->send_reserve(max);
  // A refusal is a finished send (it may have let a Fast Open SYN go, or released a ring); a
  // reservation is finished by send_commit, and nothing may touch its storage before.
  if (!r) impl_->after_user_io(h.index);
  return r;
}

result<void, tcp_error> host::send_commit(conn_handle h, std::size_t n, send_flags flags) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  s->conn->send_commit(n, flags);
  impl_->after_user_io(h.index);
  return {};
}

void host::impl::after_user_io(std::uint32_t idx) {
  slot& s = slots[idx];
  if (!s.tx_queued && s.conn->has_pending_output()) {
    s.tx_queued = true;
    txq.push_back(idx);
  }
  // A grown ring may raise the level; reading may release a drained ring under pressure and
  // so lower it.
  if (budget.level() != seen_level) check_memory_level();
}

result<void, tcp_error> host::shutdown(instant now, conn_handle h) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  auto r = s->conn->shutdown(now);
  impl_->touch(now, h.index);
  return r;
}

result<void, tcp_error> host::close(instant now, conn_handle h) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  auto r = s->conn->close(now);
  // Orphans bounded like Linux's tcp_max_orphans (tcp_close -> tcp_check_oom): one more than
  // the limit, or any beyond the hard memory limit, is reset now rather than left to finish
  // (LINUX_MIB_TCPABORTONMEMORY; here memory_stats::orphan_resets).
  const tcp_state st = s->conn->state();
  if (st != tcp_state::closed && st != tcp_state::time_wait &&
      (impl_->orphans >= impl_->cfg.max_orphans || impl_->budget.level() == memory_level::hard)) {
    s->conn->abort(now);
    ++impl_->budget.stats().orphan_resets;
  }
  impl_->make_orphan(*s);
  // Nothing left to send: leave the transmit queue now, so that touch() can shrink a
  // TIME-WAIT TCB to its record (or free a CLOSED one) at once rather than at the next poll.
  if (s->tx_queued && !s->conn->has_pending_output()) {
    impl_->txq.erase(h.index);
    s->tx_queued = false;
  }
  impl_->touch(now, h.index);
  return r;
}

result<void, tcp_error> host::abort(instant now, conn_handle h) {
  impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return unexpected{tcp_error::not_connected};
  s->conn->abort(now);
  impl_->make_orphan(*s);
  impl_->touch(now, h.index);
  return {};
}

// ---- memory budget ---------------------------------------------------------------------------

void host::impl::check_memory_level() {
  const memory_level before = seen_level;
  seen_level = budget.level();
  for (std::uint32_t i = 0; i < slots.size(); ++i) {
    slot& s = slots[i];
    if (!s.conn) continue;
    // Either may change the level again: seen_level catches up at the next touch.
    if (seen_level > before) {
      s.conn->sync_memory();
      continue;
    }
    s.conn->memory_relieved();
    if (s.own == owner::user) note_ready(i);  // send space may have opened
    if (!s.tx_queued && s.conn->has_pending_output()) {  // a window update
      s.tx_queued = true;
      txq.push_back(i);
    }
  }
}

// ---- polls -----------------------------------------------------------------------------------

// Packets built whole in a ring (replies, then UDP datagrams): the first copied out. Its own
// function, so that transmit's connection loop stays dense (docs/performance.md, issue #12).
std::size_t host::impl::pop_built(mutable_bytes out) {
  auto pop = [&out](auto& ring, std::size_t& head, std::size_t& len) {
    const reply& r = ring[head];
    head = (head + 1) % ring.size();
    --len;
    std::copy_n(r.buf.begin(), r.len, out.begin());
    return r.len;
  };
  if (reply_len > 0) return pop(replies, reply_head, reply_len);
  return pop(udp_tx, udp_tx_head, udp_tx_len);
}

std::size_t host::transmit(instant now, mutable_bytes out, tx_meta& meta) {
  impl& m = *impl_;
  if (m.reply_len > 0 || m.udp_tx_len > 0) [[unlikely]] return m.pop_built(out);
  if (!m.cookie_q.empty()) return m.emit_cookie_synack(out);
  while (!m.txq.empty()) {
    const std::uint32_t idx = m.txq.front();
    impl::slot& s = m.slots[idx];
    if (!s.conn) {
      m.txq.pop_front();
      continue;
    }
    connection& c = *s.conn;
    tcp_transmit sent;
    const four_tuple& t = c.tuple();
    const std::size_t hl = ip_header_len(t.remote_addr);
    if (auto n = c.poll_transmit(now, out.subspan(hl), sent)) {
      // The DSCP is the socket's (IP_TOS / IPV6_TCLASS), the ECN field the connection's (RFC 3168).
      m.write_ip(out, t.local_addr, t.remote_addr, ip_proto::tcp, *n,
                 with_ecn(c.config().tos, sent.ect ? ecn_codepoint::ect0 : ecn_codepoint::not_ect));
      std::uint64_t segs = 1;
      if (const std::uint16_t gso = sent.gso_size; gso != 0) {
        // A super-segment: the link cuts it into segments of `gso` payload octets and
        // completes their checksums; it counts as those segments.
        const std::size_t header = hl + ((static_cast<std::uint8_t>(out[hl + 12]) >> 4) * 4u);
        meta.gso_size = gso;
        meta.csum_partial = true;
        meta.csum_start = static_cast<std::uint16_t>(hl);
        meta.csum_offset = 16;
        meta.header_len = static_cast<std::uint16_t>(header);
        segs = (hl + *n - header + gso - 1) / gso;
      }
      if (sent.retransmission) {
        m.ctr.retrans_segs += segs;
      } else {
        m.ctr.out_segs += segs;
      }
      if (sent.rst) ++m.ctr.out_rsts;
      // A bulk sender's many segments in a row: the connection says more is certain.
      assert(!sent.more || c.has_pending_output());
      if (sent.more || c.has_pending_output()) {
        m.schedule(idx);
      } else {
        // Its last segment: leave the queue now, so a connection that has reached TIME-WAIT
        // or CLOSED is shrunk or freed without waiting for another poll.
        m.txq.pop_front();
        s.tx_queued = false;
        m.touch(now, idx);
      }
      return hl + *n;
    }
    m.txq.pop_front();
    s.tx_queued = false;
    m.touch(now, idx);
  }
  return 0;
}

instant host::deadline_or_max() const {
  const impl& m = *impl_;
  // Drop stale heap entries (freed slots, rescheduled deadlines) from the top.
  const bool have_timer = m.settle_timer_top();
  instant d = have_timer ? m.timers.top().at : impl::never;
  // A TIME-WAIT expiry matters only if it comes first; only then is it looked up.
  while (!m.tw_expiry.empty() && m.tw_expiry.top().at < d) {
    if (!m.tw_top_live) {
      const time_wait_record* rec = m.tw.find(m.tw_expiry.top().tuple);
      m.tw_top_live = rec != nullptr && rec->expiry == m.tw_expiry.top().at;
    }
    if (m.tw_top_live) {
      d = m.tw_expiry.top().at;
      break;
    }
    m.tw_pop();
  }
  return m.pending_expiries.empty() ? d : std::min(d, m.pending_deadline());
}

void host::on_timeout(instant now) {
  impl& m = *impl_;
  // Every connection due at `now` fires, in batches of 64 collected before any of them runs.
  // The pass takes at most as many entries as the heap held when it started, so a connection
  // that reschedules itself at `now` cannot make it spin: it may run again in a later batch of
  // the same pass, but the pass ends after that many entries.
  std::size_t budget = m.timers.size();
  std::array<impl::timer_entry, 64> batch{};
  while (budget > 0) {
    std::size_t due = 0;
    while (due < batch.size() && due < budget && m.settle_timer_top() && m.timers.top().at <= now) {
      const auto e = m.timers.top();
      m.timers.pop();
      impl::slot& s = m.slots[e.idx];
      s.queued = impl::never;  // its one live entry is out of the heap now
      batch[due++] = e;
    }
    if (due == 0) break;
    budget -= due;
    for (std::size_t i = 0; i < due; ++i) {
      impl::slot& s = m.slots[batch[i].idx];
      if (!s.conn || s.gen != batch[i].gen) continue;
      s.deadline = impl::never;
      s.conn->on_timeout(now);
      m.touch(now, batch[i].idx);
    }
  }
  m.expire_time_wait(now);
  m.expire_pending(now);
}

std::optional<conn_handle> host::poll_ready() {
  impl& m = *impl_;
  while (!m.ready.empty()) {
    const std::uint32_t idx = m.ready.front();
    m.ready.pop_front();
    impl::slot& s = m.slots[idx];
    s.ready_queued = false;
    // Closed and released since, or the slot's next connection with nothing to report yet.
    if (!s.ready_edge || s.own != impl::owner::user) continue;
    s.ready_edge = false;
    return conn_handle{idx, s.gen};
  }
  return std::nullopt;
}

std::optional<conn_status> host::status(conn_handle h) const {
  const impl::slot* s = impl_->user_slot(h);
  if (s == nullptr) return std::nullopt;
  const connection& c = *s->conn;
  conn_status st;
  st.state = c.state();
  st.tuple = c.tuple();
  st.readable = c.recv_available();
  st.eof = c.peer_fin_received();
  st.send_free = c.send_free();
  st.send_queued = c.send_queued();
  // SND.NXT may count our FIN, hence the clamp.
  st.notsent = c.send_queued() - std::min<std::size_t>(c.send_queued(), distance(c.snd().una, c.snd().nxt).n);
  st.reason = c.reason();
  st.hard_error = c.hard_error();
  st.soft_error = c.soft_error();
  st.mss_cache = static_cast<std::uint16_t>(c.snd().mss - (c.timestamps_on() ? 12 : 0));
  return st;
}

std::optional<host_event> host::poll_event() {
  if (impl_->events.empty()) return std::nullopt;
  host_event e = impl_->events.front();
  impl_->events.pop_front();
  return e;
}

// ---- queries ---------------------------------------------------------------------------------

const connection* host::find(conn_handle h) const {
  const impl::slot* s = impl_->user_slot(h);
  return s != nullptr ? &*s->conn : nullptr;
}

std::optional<tcp_state> host::state(conn_handle h) const {
  const connection* c = find(h);
  return c != nullptr ? std::optional{c->state()} : std::nullopt;
}

std::optional<tcp_state> host::state(const four_tuple& t) const {
  const connection* c = lookup(t);
  return c != nullptr ? std::optional{c->state()} : std::nullopt;
}

const connection* host::lookup(const four_tuple& t) const {
  const std::uint32_t* idx = impl_->demux.find(t);
  return idx == nullptr ? nullptr : &*impl_->slots[*idx].conn;
}

const time_wait_record* host::lookup_time_wait(const four_tuple& t) const {
  return impl_->tw.find(t);
}

std::size_t host::half_open(listener_handle l) const {
  const auto& ls = impl_->listeners;
  return l.index < ls.size() && ls[l.index].gen == l.gen ? ls[l.index].half_open : 0;
}

std::size_t host::accept_queue_len(listener_handle l) const {
  const auto& ls = impl_->listeners;
  return l.index < ls.size() && ls[l.index].gen == l.gen ? ls[l.index].accept_q.size() : 0;
}

std::vector<socket_info> host::snapshot() const {
  const impl& m = *impl_;
  std::vector<socket_info> out;
  const bool has_v6 = std::ranges::any_of(m.cfg.addresses, [](const host_address& h) { return h.addr.is_v6(); });
  for (const auto& l : m.listeners) {
    if (!l.open) continue;
    socket_info i;
    i.state = tcp_state::listen;
    // A listener of IPv6, or of both families on a host with IPv6 addresses, shows "::" (as
    // Linux's ss shows "[::]:port"); on an IPv4-only host the IPv4 address.
    const bool shows_v6 = l.family == listen_family::v6 || (l.family == listen_family::any && has_v6);
    // An any-address listener shows the unspecified address (and port 0 when it takes every port).
    const ipv4_addr shown_v4 = l.any ? ipv4_addr{} : m.cfg.addr;
    i.tuple = shows_v6 ? four_tuple{ipv6_addr{}, l.port, ipv6_addr{}, 0} : four_tuple{shown_v4, l.port, ipv4_addr{}, 0};
    i.syn_queue = l.half_open;
    i.accept_queue = l.accept_q.size();
    i.backlog = l.backlog;
    i.syn_backlog = m.cfg.syn_backlog;
    i.cookies_sent = l.cookies_sent;
    i.cookies_recv = l.cookies_recv;
    i.syn_drops = l.syn_drops;
    out.push_back(i);
  }
  for (std::size_t si = 0; si < m.slots.size(); ++si) {
    const impl::slot& s = m.slots[si];
    if (!s.conn) continue;
    const tcb_snapshot t = s.conn->snapshot();
    socket_info i;
    i.state = t.state;
    i.tuple = t.tuple;
    i.send_queue = t.send_queue;
    i.recv_queue = t.recv_queue;
    i.timer = t.next_timer;
    i.deadline = t.deadline;
    i.orphan = s.own == impl::owner::orphan;
    i.internals = internals_of(*s.conn);
    out.push_back(i);
  }
  m.tw.for_each([&](const four_tuple& t, const time_wait_record& r) {
    socket_info i;
    i.state = tcp_state::time_wait;
    i.tuple = t;
    i.timer = timer_kind::time_wait;
    i.deadline = r.expiry;
    i.time_wait_record = true;
    i.orphan = true;
    out.push_back(i);
  });
  return out;
}

}  // namespace synack
