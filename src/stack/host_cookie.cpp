// SYN cookies at the listener (RFC 4987 §3.6) and SYN-flood detection: stateless cookie
// SYN-ACKs, their validation on the final ACK, and the operator notice.
#include <algorithm>
#include <array>
#include <charconv>

#include "host_impl.hpp"
#include "synack/tcp/reset.hpp"

namespace synack {

bool host::impl::can_take_half_open(const listener& l) const {
  return l.open && l.accept_q.size() < l.backlog && l.half_open < cfg.syn_backlog &&
         demux.size() < cfg.max_connections;
}

void host::impl::count_syn_drop(listener& l) {
  ++l.syn_drops;
  ++ctr.listen_drops;  // Linux ListenDrops: every SYN a listener drops (tcp_listendrop)
  if (l.accept_q.size() >= l.backlog) {
    ++ctr.listen_overflows;  // Linux ListenOverflows: the accept queue was full
    ++ctr.host(host_drop::listen_overflow);
  } else if (l.half_open >= cfg.syn_backlog) {
    ++ctr.host(host_drop::syn_queue_full);
  } else {
    ++ctr.host(host_drop::too_many_connections);
  }
}

bool host::impl::cookies_recent(const listener& l, instant now) const {
  switch (cfg.syncookies) {
    case syncookies_mode::off:
      return false;
    case syncookies_mode::always:
      return true;
    case syncookies_mode::on_overflow:
      break;
  }
  // Only while a cookie we sent can still be valid (Linux tcp_synq_no_recent_overflow): other
  // ACKs to a listener get the plain LISTEN answer, a RST, without a MAC computed.
  const duration lifetime = syn_cookie_codec::counter_period * (syn_cookie_codec::max_age + 1);
  return l.last_cookie.has_value() && now - *l.last_cookie <= lifetime;
}

void host::impl::send_cookie(instant now, const ip_ends& ip, const tcp_repr& syn, listener& l) {
  ++ctr.in_accepted;  // answered, like a SYN that got a TCB
  if (cookie_q.size() >= cookie_queue_max) {
    ++ctr.host(host_drop::reply_queue_full);
    return;
  }
  const four_tuple t{ip.dst, syn.dst_port, ip.src, syn.src_port};
  // What a TCB would agree to, with the listener's own configuration (the connection
  // open_from_cookie builds uses it). ECN is not kept (the cookie has no bit for it): the
  // cookie SYN-ACK does not offer it and the connection goes without (syn_cookie_codec::encode).
  const syn_cookie_options offer = negotiate(l.cfg, syn_offer(syn));
  // The clock the connection will use: 1 ms ticks plus its offset.
  const std::uint32_t ts_now = offer.timestamps ? connection::ts_clock(now, isns.ts_offset(t)) : 0;
  const syn_cookie c = cookies.encode(now, t, syn.seq, offer, ts_now);
  cookie_synack p;
  p.tuple = t;
  p.iss = c.iss;
  p.ack = syn.seq + seq_len{1};
  p.window = static_cast<std::uint16_t>(std::min<std::size_t>(l.cfg.recv_buffer, 0xFFFF));
  p.has_wscale = c.options.wscale.has_value();
  p.wscale = connection::recv_window_shift(l.cfg);
  p.sack = c.options.sack_permitted;
  p.ts = c.options.timestamps;
  p.mss = link_mss(l.cfg.mss, ip.src);  // what the listener's TCB would announce (MUST-67)
  p.tsval = c.tsval.value_or(0);
  p.tsecr = offer.timestamps ? syn.options.timestamps->tsval : 0;
  cookie_q.push_back(p);
  ++ctr.syncookies_sent;
  ++l.cookies_sent;
  l.last_cookie = now;
}

// <SEQ=cookie><ACK=SEG.SEQ+1><CTL=SYN,ACK>, with the options a TCB's SYN-ACK would carry.
std::size_t host::impl::emit_cookie_synack(mutable_bytes out) {
  const cookie_synack p = cookie_q.front();
  cookie_q.pop_front();
  tcp_repr& hdr = tx_cookie;
  hdr.src_port = p.tuple.local_port;
  hdr.dst_port = p.tuple.remote_port;
  hdr.seq = p.iss;
  hdr.ack = p.ack;
  hdr.flags = tcp_flag::syn;
  hdr.window = p.window;  // RFC 7323 §2.2: never scaled on a SYN-ACK
  hdr.options.mss = p.mss;
  hdr.options.window_scale = p.has_wscale ? std::optional<std::uint8_t>{p.wscale} : std::nullopt;
  hdr.options.sack_permitted = p.sack;
  hdr.options.timestamps = p.ts ? std::optional{tcp_timestamps{p.tsval, p.tsecr}} : std::nullopt;
  const std::size_t len = hdr.buffer_len();
  const std::size_t hl = ip_header_len(p.tuple.remote_addr);
  hdr.emit(out.subspan(hl, len), p.tuple.local_addr, p.tuple.remote_addr);
  write_ip(out, p.tuple.local_addr, p.tuple.remote_addr, ip_proto::tcp, len);
  ++ctr.out_segs;
  return hl + len;
}

void host::impl::cookie_ack(instant now, const ip_ends& ip, const tcp_repr& seg, std::uint32_t lidx) {
  listener& l = listeners[lidx];
  const four_tuple t{ip.dst, seg.dst_port, ip.src, seg.src_port};
  std::optional<std::uint32_t> tsecr;
  if (seg.options.timestamps) tsecr = seg.options.timestamps->tsecr;
  const seq_num iss = *seg.ack - seq_len{1};
  const auto opts = cookies.decode(now, t, seg.seq - seq_len{1}, iss, tsecr);
  if (!opts) {
    // Forged, stale, or an ACK for a connection long gone. As Linux (cookie_v4_check hands the
    // segment back to the listener), the LISTEN rule answers: <SEQ=SEG.ACK><CTL=RST>
    // (RFC 9293 §3.10.7.2). A client whose cookie went stale learns at once; a forger gains
    // nothing it would not get from any ACK to a listener.
    ++ctr.syncookies_failed;
    ++ctr.tcp(rx_verdict::listen_ack);
    if (auto rst = reset_for_closed(seg)) queue_tcp_reply(ip.dst, ip.src, *rst);
    return;
  }
  ++ctr.syncookies_recv;
  ++l.cookies_recv;
  if (l.accept_q.size() >= l.backlog || demux.size() >= cfg.max_connections) {
    // Linux (tcp_v4_syn_recv_sock): no room, drop without a word; the peer's next
    // retransmission (its data, or a keep-alive) brings the same valid cookie back.
    count_syn_drop(l);
    return;
  }
  const std::uint32_t idx = alloc_child(lidx, ip.src);
  connection& c = *slots[idx].conn;
  (void)c.open_from_cookie(now, t, iss, *opts, seg);
  demux.insert_or_assign(t, idx);
  // The ACK itself, now in ESTABLISHED: it may carry data or a FIN.
  const rx_verdict v = c.on_segment(now, seg, ip.src);
  if (v != rx_verdict::accepted) {
    ++ctr.tcp(v);
  } else {
    ++ctr.in_accepted;
  }
  ++l.half_open;  // drain_events moves it from the SYN queue's count to the accept queue
  touch(now, idx);
}

void host::impl::note_syn_flood(instant now, listener& l, std::uint16_t port, bool sending_cookies) {
  constexpr duration quiet = std::chrono::seconds(60);
  if (l.flood_logged && now - *l.flood_logged < quiet) return;
  l.flood_logged = now;
  if (log == nullptr) return;
  // "possible SYN flooding on port N; sending cookies" (Linux: "Possible SYN flooding on port
  // N. Sending cookies."), formatted without allocating.
  std::array<char, 64> buf{};
  constexpr std::string_view head = "possible SYN flooding on port ";
  const std::string_view tail = sending_cookies ? "; sending cookies" : "; dropping request";
  char* p = std::copy(head.begin(), head.end(), buf.data());
  p = std::to_chars(p, buf.data() + buf.size(), port).ptr;  // an any-address listener's: the SYN's
  p = std::copy(tail.begin(), tail.end(), p);
  log->on_log(now, std::string_view{buf.data(), static_cast<std::size_t>(p - buf.data())});
}

}  // namespace synack
