// A connection rebuilt from a SYN cookie (RFC 4987 §3.6): what the SYN-RECEIVED TCB would have
// held, recovered from the final ACK and the cookie, so the connection starts in ESTABLISHED.
#include <algorithm>

#include "synack/tcp/connection.hpp"
#include "synack/tcp/syn_cookie.hpp"

namespace synack {

std::uint8_t connection::recv_window_shift(const tcp_config& cfg) {
  if (!cfg.window_scaling) return 0;
  std::uint8_t s = 0;
  while (s < 14 && (cfg.recv_buffer >> s) > 0xFFFF) ++s;
  return s;
}

result<void, tcp_error> connection::open_from_cookie(instant now, const four_tuple& t, seq_num iss,
                                                     const agreed_options& o, const tcp_repr& ack) {
  if (state_ != tcp_state::closed || reason_ != close_reason::none || !ack.ack) {
    return unexpected{tcp_error::already_exists};
  }
  // The listener's passive OPEN, then its SYN: LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2).
  tuple_ = four_tuple{t.local_addr, t.local_port, ip_addr{}, 0};
  passive_ = true;
  set_state(tcp_state::listen);
  tuple_ = t;
  rcv_.irs = ack.seq - seq_len{1};
  rcv_.nxt = ack.seq;
  snd_.iss = iss;
  snd_.sml = snd_.iss;  // no short segment sent yet (Minshall's Nagle)
  ts_offset_ = isns_->ts_offset(t);
  snd_.una = iss + seq_len{1};  // the SYN-ACK is acknowledged: SND.UNA = SEG.ACK = ISS + 1
  snd_.nxt = snd_.una;
  snd_.max = snd_.una;
  snd_.buf_start = snd_.una;
  // The SYN's options as the cookie kept them, agreed as a kept TCB would (take_peer_options);
  // without window scaling the cookie SYN-ACK announced no shift either.
  apply_options(negotiate(*cfg_, o));
  if (ts_ok_ && ack.options.timestamps) {
    ts_recent_ = ack.options.timestamps->tsval;  // RFC 7323 §4.3: TS.Recent from the ACK
    ts_recent_at_ = now;
  }
  set_state(tcp_state::syn_received);
  // §3.10.7.4 fifth, SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT, so ESTABLISHED, and the
  // window from this ACK (scaled: it is not a SYN). No RTT sample: the SYN-ACK's send time
  // was not kept (as Linux).
  snd_.wnd = static_cast<std::uint32_t>(ack.window) << snd_.wscale;
  snd_.max_wnd = snd_.wnd;
  snd_.wl1 = ack.seq;
  snd_.wl2 = *ack.ack;
  rcv_.wnd = recv_window();
  rcv_.adv_edge = rcv_.nxt + seq_len{rcv_.wnd};  // the right edge offered (memory pressure keeps it)
  rcv_.adv_set = true;
  last_ack_sent_ = rcv_.nxt;  // the SYN-ACK acknowledged up to here (RFC 7323 §4.3)
  set_state(tcp_state::established);
  note_keepalive_activity(now);
  push_event(tcp_event{tcp_event_kind::established, close_reason::none});
  return {};
}

}  // namespace synack
