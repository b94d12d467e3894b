// RFC 7413 TCP Fast Open: the connection's part (tcp/fast_open.hpp).
#include <algorithm>

#include "synack/tcp/connection.hpp"

namespace synack {

namespace {
// Linux's MAX_TCP_OPTION_SPACE: the SYN's data leaves room for 40 octets of options, so that a
// middlebox adding options does not push it past the MSS (tcp_send_syn_data).
constexpr std::uint32_t syn_option_space = 40;
// RFC 9293 §3.7.1 (MUST-15): the MSS of a peer that announced none.
constexpr std::uint16_t default_peer_mss = 536;
}  // namespace

result<void, tcp_error> connection::connect(instant now, const four_tuple& t, const fast_open_client& fo) {
  if (auto r = connect(now, t); !r) return r;
  fo_ = std::make_unique<fast_open_state>();
  fo_->client = true;
  // Without cookies the SYN carries no option at all, even with a cookie cached (Linux's
  // tcp_fastopen_cookie_check), though the remembered MSS still sizes its data.
  fo_->no_cookie = cfg_->fast_open_no_cookie;
  if (!fo_->no_cookie) fo_->cookie = fo.cookie;
  fo_->peer_mss = fo.peer_mss;
  // Only a SYN with a cookie, or one that needs none, may carry data, so only it waits for
  // some (TCP_FASTOPEN_CONNECT).
  fo_->defer = fo.defer && (fo_->cookie.has_value() || fo_->no_cookie);
  if (fo_->defer) syn_due_ = false;
  return {};
}

void connection::set_fast_open_server(const fast_open_server& fo) {
  fo_ = std::make_unique<fast_open_state>();
  fo_->cookie = fo.cookie;
  fo_->syn_data_acked = fo.accept_data;
}

// The TFO option of a SYN or SYN-ACK about to be sent, and the length of the data the SYN
// carries from the send buffer (the caller places it).
std::size_t connection::fast_open_syn_payload(tcp_repr& hdr, bool first) {
  if (!fo_) return 0;
  if (!fo_->client) {  // SYN-ACK: a fresh cookie for a request or a bad cookie (§4.1.2)
    if (state_ == tcp_state::syn_received && fo_->cookie) hdr.options.fast_open = fo_->cookie;
    return 0;
  }
  // RFC 7413 §4.2.1: a retransmitted SYN goes without the option or data (the SYN or its
  // SYN-ACK may have been dropped for carrying them); a simultaneous open's SYN-ACK too.
  if (state_ == tcp_state::syn_sent && fo_->path_mss != 0) hdr.options.mss = std::min(cfg_->mss, fo_->path_mss);
  if (state_ != tcp_state::syn_sent || !first) return 0;
  if (!fo_->no_cookie) hdr.options.fast_open = fo_->cookie.value_or(tcp_fast_open{});
  if (!fo_->cookie && !fo_->no_cookie) return 0;
  fo_->syn_data = static_cast<std::uint32_t>(std::min(snd_.buf.size(), fast_open_syn_room()));
  return fo_->syn_data;
}

// The data a client's SYN may carry: the MSS remembered with the cookie (within ours) less 40.
// Without cookies and nothing remembered of the server, our own MSS less 40 (Linux's
// tcp_send_syn_data: the advertised MSS when none is cached).
std::size_t connection::fast_open_syn_room() const {
  if (!fo_ || !fo_->client || (!fo_->cookie && !fo_->no_cookie)) return 0;
  const std::uint16_t unknown = fo_->no_cookie ? cfg_->mss : default_peer_mss;
  const std::uint32_t mss = std::min<std::uint32_t>(fo_->peer_mss != 0 ? fo_->peer_mss : unknown, cfg_->mss);
  return mss > syn_option_space ? mss - syn_option_space : 0;
}

// Fragmentation Needed quoting our SYN while it carried data: the data made it too big, so
// the SYN goes again now, without option or data, announcing an MSS within the path's MTU, as
// Linux does (tcp_simple_retransmit; its advertised MSS follows the route's). The data follows
// the handshake. Anything else in SYN-SENT is left to on_frag_needed (ignored).
bool connection::fast_open_syn_too_big(const icmp_report& r) {
  // Once: a repeated (or forged) message must not make a SYN flood.
  if (!fo_ || !fo_->client || fo_->syn_data == 0 || fo_->path_mss != 0 || snd_.una != snd_.iss || !snd_.first_tx) {
    return false;
  }
  fo_->path_mss = path_mss_of(r);
  syn_due_ = true;
  return true;
}

// A client's SYN-ACK, its ACK processed (SND.UNA = SEG.ACK): what to cache, and data on the SYN
// it did not acknowledge goes again now (§4.2.2), as new data would, from SND.UNA.
void connection::fast_open_on_synack(const tcp_repr& seg) {
  if (!fo_ || !fo_->client) return;  // an unsolicited cookie is ignored
  fast_open_news n;
  // A cookie our SYN did not ask for (it carried no option: no_cookie) is not cached.
  if (seg.options.fast_open && !seg.options.fast_open->request() && !fo_->no_cookie) n.cookie = seg.options.fast_open;
  n.mss = seg.options.mss.value_or(0);
  const seq_num syn_data_end = snd_.iss + seq_len{1 + fo_->syn_data};
  fo_->syn_data_acked = fo_->syn_data > 0 && !snd_.una.before(syn_data_end);
  n.syn_data = fo_->syn_data;
  n.syn_data_acked = fo_->syn_data_acked;
  fo_->news = n;
  if (snd_.nxt.after(snd_.una)) snd_.nxt = snd_.una;
}

// A server's SYN with a valid cookie (§4.2.2): its text is taken now, RCV.NXT moves past it, and
// the SYN-ACK acknowledges it; what exceeds the window we offer is left for the peer to resend.
void connection::fast_open_take_syn_data(const tcp_repr& syn) {
  if (!fo_ || fo_->client || !fo_->syn_data_acked || syn.payload.empty()) return;
  const std::size_t len = std::min<std::size_t>(syn.payload.size(), recv_window());
  const std::size_t n = rcv_.buf.write(syn.payload.first(len));
  rcv_.nxt += seq_len{static_cast<std::uint32_t>(n)};
  fo_->syn_data = static_cast<std::uint32_t>(n);
}

// RFC 7413 §4.2.2: a server that accepted a SYN's data may send data before the handshake
// completes, as Linux's TFO child does (its socket is accepted and writable in SYN_RECV).
// Congestion control starts now rather than at ESTABLISHED, with the initial window; the FIN
// waits for ESTABLISHED (a close in SYN-RECEIVED is queued, RFC 9293 §3.10.4).
std::size_t connection::fast_open_send_early(instant now, mutable_bytes out) {
  if (!fo_->early_cc) {
    start_congestion_control();
    fo_->early_cc = true;
  }
  segment_plan p = plan_segment(now);
  p.fin_ok = false;
  if (p.kind == segment_kind::none || p.len == 0) return 0;
  return emit_segment(now, out, p);
}

// The handshake's ACK after early data, processed as in ESTABLISHED (check_ack): data
// acknowledged, SACK, ECN, with the SYN's sequence number (ISS + 1) as the SND.UNA before it,
// so that an ACK of the SYN alone reads as a duplicate. The window was updated by the caller.
void connection::fast_open_handshake_ack(instant now, const tcp_repr& seg) {
  const seq_num syn_end = snd_.iss + seq_len{1};
  process_ack_of_new_data(now, *seg.ack);
  on_window_ack(now, snd_.wnd);
  on_ack_for_recovery(now, seg, syn_end, snd_.wnd);  // RFC 5681, 6582, 6675
  ecn_on_ack(now, seg);                             // RFC 3168 §6.1.2
}

}  // namespace synack
