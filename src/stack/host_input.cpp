// Packet input: IPv4 and IPv6 validation, demux by 4-tuple (TCBs, then TIME-WAIT records,
// then listeners, then the CLOSED reset), UDP (host_udp.cpp), ICMP and ICMPv6.
#include <algorithm>

#include "host_impl.hpp"
#include "synack/tcp/reset.hpp"
#include "synack/wire/icmp.hpp"
#include "synack/wire/icmpv6.hpp"

namespace synack {

// A constant: nothing is built on the stack per packet for the callee to reread.
void host::on_packet(instant now, bytes packet) {
  static constexpr rx_meta plain{};
  on_packet(now, packet, plain);
}

void host::on_packet(instant now, bytes packet, const rx_meta& meta) {
  impl& m = *impl_;
  ++m.ctr.ip_in_receives;
  if (!packet.empty() && (load_u8(&packet[0]) >> 4) == 6) {
    m.ipv6_input(now, packet, meta);
    return;
  }
  auto ip = ipv4_view::parse(packet);
  if (!ip) [[unlikely]] {
    ++m.ctr.wire(ip.error());
    return;
  }
  const bool local = (ip->dst() == m.cfg.addr && !m.cfg.addr.is_unspecified()) ||
                     (!m.cfg.addresses.empty() && m.is_local(ip->dst()));
  // Any-address mode takes other unicast destinations too (host_any.cpp).
  if (!local && !(m.any_seen && m.any_destination(ip->dst()))) [[unlikely]] {
    ++m.ctr.host(host_drop::not_for_us);
    return;
  }
  if (const auto martian = m.martian_source(ip->src())) [[unlikely]] {
    ++m.ctr.host(*martian);
    return;
  }
  if (!local && ip->src() == ip->dst()) [[unlikely]] {  // LAND at an address taken by any-address mode
    ++m.ctr.host(host_drop::martian_own_address);
    return;
  }
  switch (ip->protocol()) {
    case ip_proto::tcp:
      m.tcp_input(now, ip_ends{ip->src(), ip->dst(), bytes{ip->header().data(), ip->total_len()}, ecn_of(ip->dscp_ecn())},
                  ip->payload(), meta);
      return;
    case ip_proto::icmp:
      m.icmp_input(now, *ip);
      return;
    case ip_proto::udp:
      // RFC 1122 §4.1.3.1: a datagram for a port nobody takes SHOULD get Port Unreachable.
      if (m.udp_input(now, ip_ends{ip->src(), ip->dst()}, ip->payload(), meta)) {
        m.send_icmpv4_error(now, *ip, icmp_type::dest_unreachable, icmp_unreach_code::port);
      }
      return;
    default:
      ++m.ctr.host(host_drop::unsupported_protocol);
      return;
  }
}

// RFC 1122 §3.2.1.3 and §4.2.3.10, RFC 9293 §3.9 (MUST-59 spirit): a datagram whose source
// cannot be a host on the link is dropped silently, never answered — as Linux's martian
// filter (ip_route_input_slow) does. Such a source would make this host answer itself (LAND:
// a SYN from its own address to itself), a broadcast address or its loopback.
std::optional<host_drop> host::impl::martian_source(ipv4_addr src) const {
  if (src.is_unspecified() || src.is_broadcast() || src.is_multicast()) return host_drop::bad_source;
  if (src.is_loopback()) return host_drop::martian_loopback;
  if (src == cfg.addr || (!cfg.addresses.empty() && is_local(ip_addr{src}))) return host_drop::martian_own_address;
  if ((src.value >> 28) == 0xF) return host_drop::martian_class_e;
  if (directed_broadcast(src)) return host_drop::martian_broadcast;
  return std::nullopt;
}

bool host::impl::directed_broadcast(ipv4_addr a) const {
  if (cfg.prefix_len == 0 || cfg.prefix_len >= 31) return false;
  const std::uint32_t host_bits = ~std::uint32_t{0} >> cfg.prefix_len;
  return (a.value & ~host_bits) == (cfg.addr.value & ~host_bits) && (a.value & host_bits) == host_bits;
}

// RFC 8200 §4 and RFC 4291: the IPv6 counterpart of the checks above. The destination must be
// one of the host's addresses (multicast is not joined: no neighbour discovery over a layer-3
// TUN), the source a unicast address that is not ours, not loopback and not v4-mapped; then the
// extension-header chain is walked (ipv6.hpp) to TCP or ICMPv6.
void host::impl::ipv6_input(instant now, bytes packet, const rx_meta& meta) {
  auto ip = ipv6_view::parse(packet);
  if (!ip) {
    ++ctr.wire(ip.error());
    return;
  }
  const bool local = is_local(ip->dst());
  if (!local && !(any_seen && any_destination(ip->dst()))) {
    ++ctr.host(host_drop::not_for_us);
    return;
  }
  if (const auto martian = martian_source_v6(ip->src())) {
    ++ctr.host(*martian);
    return;
  }
  if (!local && ip->src() == ip->dst()) {  // LAND at an address taken by any-address mode
    ++ctr.host(host_drop::martian_own_address);
    return;
  }
  if (ip->hop_limit() == 0) {
    ++ctr.host(host_drop::zero_hop_limit);
    return;
  }
  auto up = walk_extension_headers(*ip);
  if (!up) {
    ++ctr.wire(up.error().reason);
    if (const auto& pp = up.error().problem) send_icmpv6_error(now, *ip, icmpv6_type::param_problem, pp->code, pp->pointer);
    return;
  }
  switch (up->protocol) {
    case ipv6_next::tcp:
      tcp_input(now, ip_ends{ip->src(), ip->dst(), ip->packet(), ecn_of(ip->traffic_class())}, up->payload, meta);
      return;
    case ipv6_next::icmpv6:
      icmpv6_input(now, *ip, up->payload);
      return;
    case ipv6_next::udp:
      if (udp_input(now, ip_ends{ip->src(), ip->dst()}, up->payload, meta)) {
        send_icmpv6_error(now, *ip, icmpv6_type::dest_unreachable, icmpv6_unreach_code::port, 0);
      }
      return;
    default:  // No Next Header, and protocols this host does not speak
      ++ctr.host(host_drop::unsupported_protocol);
      return;
  }
}

std::optional<host_drop> host::impl::martian_source_v6(const ipv6_addr& src) const {
  if (src.is_unspecified() || src.is_multicast()) return host_drop::bad_source;
  if (src.is_loopback()) return host_drop::martian_loopback;
  if (src.is_v4_mapped()) return host_drop::martian_v4_mapped;
  if (is_local(ip_addr{src})) return host_drop::martian_own_address;
  return std::nullopt;
}

void host::impl::tcp_input(instant now, const ip_ends& ip, bytes segment, const rx_meta& meta) {
  auto view = tcp_view::parse(segment);
  // A super-packet counts as the segments it stands for (as Linux counts a GRO packet).
  const std::size_t payload = view ? view->payload().size() : 0;
  const auto segments = static_cast<std::uint32_t>(
      meta.gso_size != 0 && payload > meta.gso_size ? (payload + meta.gso_size - 1) / meta.gso_size : 1);
  ctr.in_segs += segments;
  if (!view) [[unlikely]] {
    count_tcp_error(view.error());
    return;
  }
  // RFC 9293 §3.1 (MUST-2/3): checked here unless the link vouches for it (rx_meta).
  const auto err = meta.checksum_trusted() ? tcp_repr::parse_trusted(*view, rx_seg)
                                           : tcp_repr::parse(*view, ip.src, ip.dst, rx_seg);
  if (err) [[unlikely]] {
    count_tcp_error(*err);
    return;
  }
  const tcp_repr& seg = rx_seg;
  const four_tuple t{ip.dst, seg.dst_port, ip.src, seg.src_port};
  // Set when a SYN reopens a TIME-WAIT 4-tuple: the old incarnation's SND.NXT, which the new
  // ISS must exceed (RFC 9293 §3.6.1 MAY-2 (1)).
  std::optional<seq_num> iss_floor;

  if (const std::uint32_t* found = demux.find(t); found != nullptr) {
    const std::uint32_t idx = *found;
    connection& c = *slots[idx].conn;
    const tcp_state before = c.state();
    // Only a TIME-WAIT connection's is needed (a SYN that reopens it), and only then built.
    const seq_num old_snd_nxt = before == tcp_state::time_wait ? c.time_wait_state().snd_nxt : seq_num{};
    const std::uint64_t suppressed_before = c.challenge_acks_suppressed();
    const rx_verdict v = c.on_segment(now, seg, ip.src, segments, ip.ecn);
    ctr.challenge_acks_suppressed += c.challenge_acks_suppressed() - suppressed_before;
    if (before == tcp_state::syn_sent) fast_open_learn(c);  // RFC 7413: a SYN-ACK's cookie
    const bool reopened = before == tcp_state::time_wait && c.state() == tcp_state::closed && seg.syn() && !seg.ack;
    if (v != rx_verdict::accepted) {
      ++ctr.tcp(v);
    } else if (!reopened) {  // a reopening SYN is counted by the listener (or no_connection)
      ++ctr.in_accepted;
    }
    if (reopened) [[unlikely]] forget_reopened(t);  // the new incarnation goes to the listener below
    touch(now, idx);
    if (!reopened) return;
    iss_floor = old_snd_nxt;
  } else if (time_wait_record* rec = tw.find(t); rec != nullptr) {
    const seq_num old_snd_nxt = rec->snd_nxt;
    if (!time_wait_input(now, *rec, seg)) return;
    iss_floor = old_snd_nxt;
  }

  if (const std::uint32_t* l = listener_for(t); l != nullptr) {
    listen_input(now, ip, seg, *l, iss_floor);
    return;
  }
  // A destination not ours, with no any-address listener of its family (only UDP, or the
  // listener closed since): not this host's to answer.
  if (any_seen && !any_listener[family_index(ip.dst)] && !is_local(ip.dst)) {
    ++ctr.host(host_drop::not_for_us);
    return;
  }
  // RFC 9293 §3.10.7.1: no TCB (or a destination the any-address filter refuses): answer with
  // a reset (never to a reset).
  ++ctr.tcp(rx_verdict::no_connection);
  if (auto rst = reset_for_closed(seg)) queue_tcp_reply(ip.dst, ip.src, *rst);
}

// A segment TCP could not parse (too short, bad offset or checksum): counted, dropped. Out of
// line and cold, as every rare path of the per-packet code (docs/performance.md, issue #12).
void host::impl::count_tcp_error(wire_error e) {
  ++ctr.in_errs;
  ++ctr.wire(e);
}

// A SYN reopened a TIME-WAIT connection (RFC 9293 §3.6.1): its TCB leaves the demux.
void host::impl::forget_reopened(const four_tuple& t) { demux.erase(t); }

bool host::impl::time_wait_input(instant now, time_wait_record& r, const tcp_repr& seg) {
  switch (r.on_segment(now, seg, cfg.tcp)) {
    case time_wait_action::ignore:
      ++ctr.tcp(rx_verdict::time_wait);
      return false;
    case time_wait_action::ack_suppressed:
      ++ctr.tcp(rx_verdict::time_wait);
      ++ctr.challenge_acks_suppressed;
      return false;
    case time_wait_action::ack:
      ++ctr.tcp(rx_verdict::time_wait);
      queue_tcp_reply(r.tuple.local_addr, r.tuple.remote_addr, r.ack_segment());
      return false;
    case time_wait_action::ack_and_restart:
      ++ctr.tcp(rx_verdict::time_wait);
      r.expiry = now + 2 * cfg.tcp.msl;
      tw_push(r.expiry, r.tuple);
      queue_tcp_reply(r.tuple.local_addr, r.tuple.remote_addr, r.ack_segment());
      return false;
    case time_wait_action::close: {
      ++ctr.in_accepted;
      const four_tuple t = r.tuple;  // erasing moves entries: copy the key first
      tw_erase(t);
      return false;
    }
    case time_wait_action::reset: {
      ++ctr.tcp(rx_verdict::time_wait);
      queue_tcp_reply(r.tuple.local_addr, r.tuple.remote_addr, r.reset_segment());
      const four_tuple t = r.tuple;
      tw_erase(t);
      return false;
    }
    case time_wait_action::reopen: {
      // RFC 6191 §2: the record goes only if a listener takes the SYN as a new half-open
      // connection; otherwise the SYN is dropped and TIME-WAIT goes on.
      const std::uint32_t* lidx = listener_for(r.tuple);
      if (lidx == nullptr) {  // nobody would take it: answered as any other SYN (RFC 5961 §4)
        ++ctr.tcp(rx_verdict::time_wait);
        if (r.limiter.allow(now, cfg.tcp.challenge_ack_limit, cfg.tcp.challenge_ack_window)) {
          queue_tcp_reply(r.tuple.local_addr, r.tuple.remote_addr, r.ack_segment());
        } else {
          ++ctr.challenge_acks_suppressed;
        }
        return false;
      }
      if (!can_take_half_open(listeners[*lidx])) {
        count_syn_drop(listeners[*lidx]);
        return false;
      }
      const four_tuple t = r.tuple;
      tw_erase(t);
      return true;
    }
  }
  return false;
}

// RFC 9293 §3.10.7.2 (LISTEN), with the bounded queues of RFC 4987 §3.2 and its SYN cookies
// (§3.6).
void host::impl::listen_input(instant now, const ip_ends& ip, const tcp_repr& seg, std::uint32_t lidx,
                              std::optional<seq_num> iss_floor) {
  listener& l = listeners[lidx];
  if (seg.rst()) {
    if (l.defer && withdraw_syn(ip, seg)) return;
    ++ctr.tcp(rx_verdict::listen_rst);
    return;
  }
  if (seg.ack) {
    // RFC 4987 §3.6: while cookies sent lately may come back, an ACK that matches no TCB may
    // complete a handshake we kept no state for (Linux: unless tcp_synq_no_recent_overflow).
    if (!seg.syn() && cookies_recent(l, now)) {
      cookie_ack(now, ip, seg, lidx);
      return;
    }
    ++ctr.tcp(rx_verdict::listen_ack);
    if (auto rst = reset_for_closed(seg)) queue_tcp_reply(ip.dst, ip.src, *rst);  // <SEQ=SEG.ACK><CTL=RST>
    return;
  }
  if (!seg.syn()) {
    ++ctr.tcp(rx_verdict::listen_no_syn);
    return;
  }
  if (seg.fin() && cfg.tcp.drop_syn_fin) {
    ++ctr.tcp(rx_verdict::syn_fin);
    return;
  }
  // A full accept queue drops the SYN, cookies or not (as Linux: "drop SYN packets if accept
  // queue is full"): a cookie would only make a connection with nowhere to go.
  if (l.accept_q.size() >= l.backlog) {
    count_syn_drop(l);
    return;
  }
  // Held for the application's answer (host_defer.cpp), unless it reopens TIME-WAIT.
  if (l.defer && !iss_floor) {
    defer_syn(now, ip, seg, lidx);
    return;
  }
  // A SYN reopening TIME-WAIT needs a real half-open TCB (its ISS has a floor); time_wait_input
  // made sure there is room.
  const bool syn_queue_full = l.half_open >= cfg.syn_backlog;
  if (syn_queue_full && !iss_floor) note_syn_flood(now, l, seg.dst_port, cfg.syncookies != syncookies_mode::off);
  const bool cookie = !iss_floor && (cfg.syncookies == syncookies_mode::always ||
                                     (cfg.syncookies == syncookies_mode::on_overflow && syn_queue_full));
  if (cookie) {
    send_cookie(now, ip, seg, l);
    return;
  }
  if (syn_queue_full || demux.size() >= cfg.max_connections) {
    count_syn_drop(l);
    return;
  }
  open_half(now, ip, seg, lidx, iss_floor);
}

void host::impl::open_half(instant now, const ip_ends& ip, const tcp_repr& seg, std::uint32_t lidx,
                           std::optional<seq_num> iss_floor) {
  listener& l = listeners[lidx];
  const std::uint32_t idx = alloc_child(lidx, ip.src);
  slot& s = slots[idx];
  connection& c = *s.conn;
  (void)c.listen(ip.dst, seg.dst_port);
  s.fast_open_pending = false;
  const fast_open_server fo = fast_open_answer(l, ip, seg);  // RFC 7413
  if (fo.accept_data || fo.cookie) c.set_fast_open_server(fo);
  isns.set_floor(iss_floor);
  const rx_verdict v = c.on_segment(now, seg, ip.src);
  isns.set_floor(std::nullopt);
  if (v != rx_verdict::accepted) {  // not reached for a plain SYN; keep the books right anyway
    ++ctr.tcp(v);
    make_orphan(s);
    touch(now, idx);
    return;
  }
  ++ctr.in_accepted;
  if (fo.accept_data) {
    fast_open_queue_child(idx, l);
  } else {
    ++l.half_open;
  }
  demux.insert_or_assign(c.tuple(), idx);
  touch(now, idx);
}

host::impl::reply* host::impl::next_reply() {
  if (reply_len == reply_slots) {
    ++ctr.host(host_drop::reply_queue_full);
    return nullptr;
  }
  reply* r = &replies[(reply_head + reply_len) % reply_slots];
  ++reply_len;
  return r;
}

void host::impl::queue_tcp_reply(const ip_addr& src, const ip_addr& dst, const tcp_repr& seg) {
  reply* r = next_reply();
  if (r == nullptr) return;
  const std::size_t len = seg.buffer_len();
  const std::size_t hl = ip_header_len(dst);
  mutable_bytes out{r->buf};
  seg.emit(out.subspan(hl, len), src, dst);
  write_ip(out, src, dst, ip_proto::tcp, len);
  r->len = hl + len;
  ++ctr.out_segs;
  if (seg.rst()) ++ctr.out_rsts;
}

host::impl::reply* host::impl::echo_reply_slot(std::size_t len) {
  ++ctr.icmp_in_echos;
  if (len > std::size_t{cfg.mtu}) {
    ++ctr.host(host_drop::icmp_ignored);  // larger than our MTU: would need fragmentation
    return nullptr;
  }
  ++ctr.in_accepted;
  return next_reply();
}

void host::impl::count_icmp(icmp_action a) {
  switch (a) {
    case icmp_action::soft_recorded: ++ctr.icmp_soft_errors; return;
    case icmp_action::aborted: ++ctr.icmp_hard_aborts; return;
    case icmp_action::mss_lowered: ++ctr.pmtu_reductions; return;
    case icmp_action::ignored: ++ctr.icmp_errors_ignored; return;
  }
}

void host::impl::icmp_input(instant now, const ipv4_view& ip) {
  auto msg = icmpv4_repr::parse(ip.payload());
  if (!msg) {
    ++ctr.wire(msg.error());
    return;
  }
  switch (msg->type) {
    case icmp_type::echo_request: {
      if (!is_local(ip.dst())) {  // any-address mode terminates TCP and UDP, not ping
        ++ctr.host(host_drop::not_for_us);
        return;
      }
      icmpv4_repr rep = *msg;
      rep.type = icmp_type::echo_reply;
      rep.code = 0;
      reply* r = echo_reply_slot(20 + rep.buffer_len());
      if (r == nullptr) return;
      mutable_bytes out{r->buf};
      rep.emit(out.subspan(20, rep.buffer_len()));
      write_ip(out, ip.dst(), ip.src(), ip_proto::icmp, rep.buffer_len());
      r->len = 20 + rep.buffer_len();
      ++ctr.icmp_out_echo_reps;
      return;
    }
    case icmp_type::dest_unreachable:
    case icmp_type::time_exceeded: {
      // RFC 5927 §4.1: act only on errors that quote one of our connections with a sequence
      // number in flight ("SND.UNA =< SEG.SEQ < SND.NXT", with SND.MAX for SND.NXT: after a
      // timeout SND.NXT goes back, but what was sent before may still be quoted; SND.MAX itself
      // was never sent); the connection classifies them (RFC 9293 §3.9.2.2, RFC 1191:
      // connection_icmp.cpp).
      const auto q = msg->quote();
      if (!q || (q->protocol != ip_proto::tcp && q->protocol != ip_proto::udp)) {
        ++ctr.host(host_drop::icmp_unmatched);
        return;
      }
      const icmp_report rep{static_cast<std::uint8_t>(msg->type), msg->code, msg->next_hop_mtu,
                            load_be16(&msg->data[2])};  // parse() checked the quoted header is there
      if (q->protocol == ip_proto::udp) {
        udp_error_input(now, four_tuple{q->src, q->src_port, q->dst, q->dst_port}, rep);
        return;
      }
      icmp_error_to_connection(now, four_tuple{q->src, q->src_port, q->dst, q->dst_port}, q->seq, rep);
      return;
    }
    case icmp_type::echo_reply:
    default:
      ++ctr.host(host_drop::icmp_ignored);
      return;
  }
}

// RFC 5927 §4.1: act only on errors that quote one of our connections with a sequence number
// in flight ("SND.UNA =< SEG.SEQ < SND.NXT", with SND.MAX for SND.NXT: after a timeout SND.NXT
// goes back, but what was sent before may still be quoted; SND.MAX itself was never sent); the
// connection classifies them (RFC 9293 §3.9.2.2, RFC 1191, RFC 8201: connection_icmp.cpp).
void host::impl::icmp_error_to_connection(instant now, const four_tuple& t, seq_num quoted_seq,
                                          const icmp_report& rep) {
  // Under any-address mode a connection's local side may be any address: the demux decides.
  const std::uint32_t* idx = (any_seen || is_local(t.local_addr)) ? demux.find(t) : nullptr;
  if (idx == nullptr) {
    ++ctr.host(host_drop::icmp_unmatched);
    return;
  }
  connection& c = *slots[*idx].conn;
  if (!quoted_seq.in_window(c.snd().una, distance(c.snd().una, c.snd().max).n)) {
    ++ctr.host(host_drop::icmp_unmatched);
    return;
  }
  ++ctr.icmp_in_errors_matched;
  ++ctr.in_accepted;
  count_icmp(c.on_icmp_error(now, rep));
  touch(now, *idx);  // an abort's event, a resegmented retransmission
}

// RFC 4443: echo requests are answered (§4.2), errors quoting a connection reach it as their
// IPv4 equivalents (icmp_report_from_v6; Packet Too Big as RFC 8201 §4), everything else
// (replies, router and neighbour messages a layer-3 TUN never needs) is counted and dropped.
void host::impl::icmpv6_input(instant now, const ipv6_view& ip, bytes message) {
  auto msg = icmpv6_repr::parse(message, ip.src(), ip.dst());
  if (!msg) {
    ++ctr.wire(msg.error());
    return;
  }
  switch (msg->type) {
    case icmpv6_type::echo_request: {
      if (!is_local(ip.dst())) {  // any-address mode terminates TCP and UDP, not ping
        ++ctr.host(host_drop::not_for_us);
        return;
      }
      icmpv6_repr rep = *msg;
      rep.type = icmpv6_type::echo_reply;
      rep.code = 0;
      reply* r = echo_reply_slot(ipv6_repr::buffer_len() + rep.buffer_len());
      if (r == nullptr) return;
      mutable_bytes out{r->buf};
      rep.emit(out.subspan(ipv6_repr::buffer_len(), rep.buffer_len()), ip.dst(), ip.src());
      write_ip(out, ip.dst(), ip.src(), ip_proto{ipv6_next::icmpv6}, rep.buffer_len());
      r->len = ipv6_repr::buffer_len() + rep.buffer_len();
      ++ctr.icmp_out_echo_reps;
      return;
    }
    case icmpv6_type::dest_unreachable:
    case icmpv6_type::packet_too_big:
    case icmpv6_type::time_exceeded:
    case icmpv6_type::param_problem: {
      const auto q = msg->quote();
      const bool transport = q && (q->upper == ipv6_next::tcp || q->upper == ipv6_next::udp);
      if (!transport || msg->data.size() < ipv6_view::header_len) {
        ++ctr.host(host_drop::icmp_unmatched);
        return;
      }
      const std::uint32_t quoted_len = ipv6_view::header_len + load_be16(&msg->data[4]);
      const icmp_report rep = icmp_report_from_v6(static_cast<std::uint8_t>(msg->type), msg->code, msg->mtu, quoted_len);
      if (q->upper == ipv6_next::udp) {
        udp_error_input(now, four_tuple{q->src, q->src_port, q->dst, q->dst_port}, rep);
        return;
      }
      icmp_error_to_connection(now, four_tuple{q->src, q->src_port, q->dst, q->dst_port}, q->seq, rep);
      return;
    }
    default:
      ++ctr.host(host_drop::icmp_ignored);
      return;
  }
}

bool icmp_error_bucket::allow(instant now) {
  if (now > refilled) {
    const auto gained = static_cast<std::uint64_t>((now - refilled) / interval);
    if (gained > 0) {
      tokens = static_cast<std::uint32_t>(std::min<std::uint64_t>(burst, tokens + gained));
      refilled = tokens == burst ? now : refilled + gained * interval;
    }
  }
  if (tokens == 0) return false;
  --tokens;
  return true;
}

// RFC 4443 §2.4: as much of the offending packet as fits the minimum MTU, never in answer to
// an ICMPv6 error (e.1) or to a multicast destination (e.3; is_local never takes one), and at
// a limited rate (f).
void host::impl::send_icmpv6_error(instant now, const ipv6_view& offending, icmpv6_type type, std::uint8_t code,
                                   std::uint32_t pointer) {
  const bytes pkt = offending.packet();
  if (offending.next_header() == ipv6_next::icmpv6 && pkt.size() > ipv6_view::header_len &&
      load_u8(&pkt[ipv6_view::header_len]) < 128) {
    return;  // (e.1), when the error message is the first header after the fixed one
  }
  queue_icmp_error(now, offending.dst(), offending.src(), static_cast<std::uint8_t>(type), code, pointer, pkt);
}

void host::impl::queue_icmp_error(instant now, const ip_addr& from, const ip_addr& to, std::uint8_t type,
                                  std::uint8_t code, std::uint32_t pointer, bytes offending) {
  const bool v4 = to.is_v4();
  if (!(v4 ? icmp4_limit : icmp6_limit).allow(now)) {
    ++ctr.icmp_errors_rate_limited;
    return;
  }
  reply* r = next_reply();
  if (r == nullptr) return;
  mutable_bytes out{r->buf};
  if (v4) {
    icmpv4_repr err;
    err.type = static_cast<icmp_type>(type);
    err.code = code;
    constexpr std::size_t max_error_len = 576;  // RFC 1812 §4.3.2.3
    const std::size_t room = std::min<std::size_t>(max_error_len, cfg.mtu) - ipv4_repr::buffer_len() - 8;
    err.data = offending.first(std::min(offending.size(), room));
    err.emit(out.subspan(ipv4_repr::buffer_len(), err.buffer_len()));
    write_ip(out, from, to, ip_proto::icmp, err.buffer_len());
    r->len = ipv4_repr::buffer_len() + err.buffer_len();
  } else {
    icmpv6_repr err;
    err.type = static_cast<icmpv6_type>(type);
    err.code = code;
    err.pointer = pointer;
    const std::size_t room = std::min<std::size_t>(min_ipv6_mtu, cfg.mtu) - ipv6_repr::buffer_len() - 8;
    err.data = offending.first(std::min(offending.size(), room));
    err.emit(out.subspan(ipv6_repr::buffer_len(), err.buffer_len()), from.v6(), to.v6());
    write_ip(out, from, to, ip_proto{ipv6_next::icmpv6}, err.buffer_len());
    r->len = ipv6_repr::buffer_len() + err.buffer_len();
  }
  ++ctr.icmp_out_errors;
}

// RFC 1122 §3.2.2: never about an ICMP error, a datagram to a broadcast or multicast address
// (is_local and any_destination take neither) or from a source that is not one host (the
// martian filter dropped those), nor about a fragment (the IPv4 parser refuses them). The
// quote is the offending header and as much of its payload as keeps the error within 576
// octets (RFC 1812 §4.3.2.3); the rate is limited like ICMPv6's.
void host::impl::send_icmpv4_error(instant now, const ipv4_view& offending, icmp_type type, std::uint8_t code) {
  if (offending.protocol() == ip_proto::icmp) {
    const bytes p = offending.payload();
    const auto t = p.empty() ? icmp_type::echo_request : static_cast<icmp_type>(load_u8(&p[0]));
    if (t != icmp_type::echo_request && t != icmp_type::echo_reply) return;
  }
  const bytes pkt{offending.header().data(), offending.total_len()};
  queue_icmp_error(now, offending.dst(), offending.src(), static_cast<std::uint8_t>(type), code, 0, pkt);
}

}  // namespace synack
