// Connection commands (RFC 9293 §3.10.1-3.10.6), the state funnel, timers and events.
#include <cassert>

#include "synack/tcp/connection.hpp"

namespace synack {

std::string_view to_string(rx_verdict v) {
  switch (v) {
    case rx_verdict::accepted: return "accepted";
    case rx_verdict::no_connection: return "no_connection";
    case rx_verdict::listen_rst: return "listen_rst";
    case rx_verdict::listen_ack: return "listen_ack";
    case rx_verdict::listen_no_syn: return "listen_no_syn";
    case rx_verdict::syn_fin: return "syn_fin";
    case rx_verdict::syn_sent_bad_ack: return "syn_sent_bad_ack";
    case rx_verdict::syn_sent_rst_no_ack: return "syn_sent_rst_no_ack";
    case rx_verdict::syn_sent_no_syn: return "syn_sent_no_syn";
    case rx_verdict::out_of_window: return "out_of_window";
    case rx_verdict::rst_in_window: return "rst_in_window";
    case rx_verdict::syn_synchronized: return "syn_synchronized";
    case rx_verdict::no_ack: return "no_ack";
    case rx_verdict::ack_unacceptable: return "ack_unacceptable";
    case rx_verdict::ack_too_new: return "ack_too_new";
    case rx_verdict::ack_too_old: return "ack_too_old";
    case rx_verdict::reassembly_full: return "reassembly_full";
    case rx_verdict::ooo_memory: return "ooo_memory";
    case rx_verdict::data_after_close: return "data_after_close";
    case rx_verdict::time_wait: return "time_wait";
    case rx_verdict::paws: return "paws";
    case rx_verdict::count_: return "count_";
  }
  return "?";
}

connection::connection(const tcp_config& cfg, const isn_source& isns) : cfg_(&cfg), isns_(&isns), snd_(cfg), rcv_(cfg) {
  rcv_.wscale = recv_window_shift(cfg);
}

// ---- commands ------------------------------------------------------------------------------

result<void, tcp_error> connection::connect(instant now, const four_tuple& t) {
  if (state_ != tcp_state::closed || reason_ != close_reason::none) return unexpected{tcp_error::already_exists};
  tuple_ = t;
  // RFC 9293 §3.10.1: select an ISS, send <SEQ=ISS><CTL=SYN>, SND.UNA = ISS, SND.NXT = ISS+1.
  const initial_numbers init = isns_->initial(t, now);
  snd_.iss = init.isn;
  snd_.sml = snd_.iss;  // no short segment sent yet (Minshall's Nagle)
  ts_offset_ = init.ts_offset;
  snd_.una = snd_.iss;
  snd_.nxt = snd_.iss;
  snd_.max = snd_.iss;
  snd_.buf_start = snd_.iss + seq_len{1};
  passive_ = false;
  syn_due_ = true;
  set_state(tcp_state::syn_sent);
  return {};
}

result<void, tcp_error> connection::listen(const ip_addr& local_addr, std::uint16_t local_port) {
  if (state_ != tcp_state::closed || reason_ != close_reason::none) return unexpected{tcp_error::already_exists};
  tuple_ = four_tuple{local_addr, local_port, ip_addr{}, 0};
  passive_ = true;
  set_state(tcp_state::listen);
  return {};
}

result<std::size_t, tcp_error> connection::send(bytes data) { return send(data, send_flags{}); }

result<std::size_t, tcp_error> connection::send(bytes data, send_flags flags) {
  auto space = send_reserve(data.size());
  if (!space) return unexpected{space.error()};
  const std::size_t n = copy_in(*space, data);
  send_commit(n, flags);
  return n;
}

result<ring_space, tcp_error> connection::send_reserve(std::size_t max) {
  switch (state_) {
    case tcp_state::closed:
      return unexpected{reason_ == close_reason::none ? tcp_error::not_connected : error_for(reason_)};
    case tcp_state::listen:
      // DEVIATION: RFC 9293 §3.10.2 lets SEND turn a passive TCB active; we require connect().
      return unexpected{tcp_error::invalid_state};
    case tcp_state::syn_sent:
    case tcp_state::syn_received:
    case tcp_state::established:
    case tcp_state::close_wait:
      if (snd_.fin_queued) return unexpected{tcp_error::closing};
      break;
    case tcp_state::fin_wait_1:
    case tcp_state::fin_wait_2:
    case tcp_state::closing:
    case tcp_state::last_ack:
    case tcp_state::time_wait:
      return unexpected{tcp_error::closing};  // §3.10.2: "error: connection closing"
  }
  // RFC 7413 §4.2.1: a SYN held for the first write (TCP_FASTOPEN_CONNECT) leaves with what of
  // it fits on a SYN; the rest waits for the handshake, as the write's caller sees.
  const bool syn_write = fo_ && fo_->defer;
  if (syn_write) {
    fo_->defer = false;
    syn_due_ = true;
  }
  // The host's memory budget may allow less than the free buffer (send_room); what it holds
  // back is counted. Nothing taken is EAGAIN, as Linux's sk_stream_wait_memory answers a
  // non-blocking send when tcp_mem is exhausted.
  const std::size_t room = syn_write ? std::min(send_room(), fast_open_syn_room()) : send_room();
  const std::size_t n = std::min(room, max);
  if (n < max && room < snd_.buf.free()) mem_.note(&memory_stats::send_refused);
  if (n == 0) {
    sync_memory();  // as after any command; nothing was reserved that it could free
    if (max > 0) return unexpected{tcp_error::would_block};
    return ring_space{};
  }
  // No sync_memory here: under pressure it would release the still empty ring the spans are
  // in. send_commit charges the storage.
  return snd_.buf.reserve(n);
}

void connection::send_commit(std::size_t n, send_flags flags) {
  snd_.buf.commit(n);
  sync_memory();
  // MSG_MORE: the push point stays where the last write without it ended; a write without it
  // pushes everything queued (Linux's tcp_mark_push on the tail).
  // (Capped far below 2^31, so that the push point stays comparable as a sequence number.)
  if (n > 0) {
    snd_.more_hold = flags.more;
    snd_.more_len = flags.more ? std::min<std::uint32_t>(snd_.more_len + static_cast<std::uint32_t>(n), 1U << 30) : 0;
  }
  // SND.UP: after the last urgent octet taken (RFC 9293 §3.8.5).
  if (flags.urgent && n > 0) snd_.up = snd_.data_end();
}

// Send buffer the memory budget lets send() fill: all that is free normally; under pressure
// no more than the storage the ring has (it does not grow; a released one may take its first
// min_storage again); beyond the hard limit nothing.
std::size_t connection::send_room_under(memory_level level) const {
  const std::size_t free = snd_.buf.free();
  switch (level) {
    case memory_level::normal:
      return free;
    case memory_level::pressure:
      return std::min(free, std::max(snd_.buf.storage(), ring_buffer::min_storage) - snd_.buf.size());
    case memory_level::hard:
      return 0;
  }
  return free;
}

// Receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2, MUST-39): the opened window is announced
// once its right edge can move by min(buffer / 2, MSS) beyond the one last announced (RCV.WND
// as sent).
// With tcp_config::window_update_linux, also Linux's rule: the window the peer still has
// (the right edge last sent less RCV.NXT) was at most half the buffer, and the new one is at
// least twice it.
bool connection::window_update_due() const {
  const std::uint32_t now_wnd = recv_window();
  const auto threshold = static_cast<std::uint32_t>(std::min<std::size_t>(rcv_.buf.capacity() / 2, cfg_->mss));
  const bool due = is_synchronized(state_) && state_ != tcp_state::time_wait && now_wnd >= rcv_.wnd &&
                   now_wnd - rcv_.wnd >= threshold;
  if (!due || !cfg_->window_update_linux || !rcv_.adv_set) return due;
  const std::uint64_t left = rcv_.adv_edge.after(rcv_.nxt) ? distance(rcv_.nxt, rcv_.adv_edge).n : 0;
  return 2 * left <= rcv_.buf.capacity() && now_wnd >= 2 * left;
}

void connection::memory_relieved() {
  sync_memory();
  if (rcv_.adv_set && window_update_due()) queue_ack();
}

void connection::release_under_pressure() {
  mem_.note_pruned(rcv_.reasm.prune_all());
  if (snd_.buf.empty() && snd_.buf.allocated()) {
    snd_.buf.release();
    mem_.note(&memory_stats::storage_released);
  }
  if (rcv_.buf.empty() && rcv_.syn_text == 0 && rcv_.buf.allocated()) {
    rcv_.buf.release();
    mem_.note(&memory_stats::storage_released);
  }
}

result<std::size_t, tcp_error> connection::send_urgent(bytes data) { return send(data, send_flags{.urgent = true}); }

std::size_t connection::urgent_remaining() const {
  if (!rcv_.up) return 0;
  // The next octet recv returns: RCV.NXT less what is buffered (and less the FIN's number).
  const auto unread = static_cast<std::uint32_t>(rcv_.buf.size() + (rcv_.fin_received ? 1 : 0));
  const seq_num next_read = rcv_.nxt - seq_len{unread};
  return next_read.before(*rcv_.up) ? distance(next_read, *rcv_.up).n : 0;
}

result<std::size_t, tcp_error> connection::recv(mutable_bytes out) {
  auto view = recv_view();
  if (!view) return unexpected{view.error()};
  if (view->empty()) return std::size_t{0};  // end of stream
  const std::size_t n = copy_out(*view, out);
  recv_consume(n);
  return n;
}

result<ring_view, tcp_error> connection::recv_view() const {
  if (!rcv_.buf.empty() || rcv_.fin_received) return rcv_.buf.content();  // empty: end of stream
  switch (state_) {
    case tcp_state::closed:
      return unexpected{reason_ == close_reason::none ? tcp_error::not_connected : error_for(reason_)};
    case tcp_state::listen:
      return unexpected{tcp_error::invalid_state};
    case tcp_state::syn_sent:
    case tcp_state::syn_received:
    case tcp_state::established:
    case tcp_state::fin_wait_1:
    case tcp_state::fin_wait_2:
    case tcp_state::close_wait:
    case tcp_state::closing:
    case tcp_state::last_ack:
    case tcp_state::time_wait:
      break;
  }
  return unexpected{tcp_error::would_block};
}

void connection::recv_consume(std::size_t n) {
  rcv_.buf.consume(n);
  // Every urgent octet read: forget RCV.UP, so that sequence numbers 2^31 on cannot make an
  // old pointer look ahead (urgent_remaining) or a new one look old (check_urg).
  if (rcv_.up && urgent_remaining() == 0) rcv_.up.reset();
  // Receiver-side SWS avoidance (RFC 9293 §3.8.6.2.2, MUST-39): announce the opened window
  // once its right edge can move by min(buffer / 2, MSS) beyond the one last announced
  // (RCV.WND as sent), however many reads that took.
  if (window_update_due()) queue_ack();
  sync_memory();
}

result<void, tcp_error> connection::shutdown(instant /*now*/) {
  switch (state_) {
    case tcp_state::closed:
      return unexpected{reason_ == close_reason::none ? tcp_error::not_connected : error_for(reason_)};
    case tcp_state::listen:
    case tcp_state::syn_sent:
      // §3.10.4: delete the TCB; nothing was synchronized, nothing to tell the peer.
      enter_closed(close_reason::none);
      return {};
    case tcp_state::syn_received:
      // §3.10.4: with data pending, "queue for processing after entering ESTABLISHED"; we
      // always defer, so the FIN never overtakes the SYN-ACK.
      snd_.fin_queued = true;
      return {};
    case tcp_state::established:
      snd_.fin_queued = true;
      set_state(tcp_state::fin_wait_1);
      return {};
    case tcp_state::close_wait:
      snd_.fin_queued = true;
      set_state(tcp_state::last_ack);
      return {};
    case tcp_state::fin_wait_1:
    case tcp_state::fin_wait_2:
    case tcp_state::closing:
    case tcp_state::last_ack:
    case tcp_state::time_wait:
      return {};  // already shut down: idempotent, like shutdown(2)
  }
  return {};
}

result<void, tcp_error> connection::close(instant now) {
  user_closed_ = true;
  // A Fast Open child holds the SYN's data in SYN-RECEIVED (Linux resets it too).
  const bool holds_text = is_synchronized(state_) || (state_ == tcp_state::syn_received && fast_open_child());
  if (!rcv_.buf.empty() && holds_text && state_ != tcp_state::time_wait) {
    // RFC 2525 §2.17 / RFC 9293 §3.10.4 note: closing with unread data loses it, so tell the
    // peer with a RST rather than a FIN.
    abort(now);
    return {};
  }
  rcv_.buf.release();
  auto r = shutdown(now);
  sync_memory();
  if (state_ == tcp_state::fin_wait_2) timers_.set(timer_kind::fin_wait_2, now + cfg_->fin_wait_2_timeout);
  if (!r && state_ == tcp_state::closed) return {};  // closing a dead connection is fine
  return r;
}

void connection::abort(instant /*now*/) {
  user_closed_ = true;
  switch (state_) {
    case tcp_state::closed:
      return;
    case tcp_state::listen:
    case tcp_state::syn_sent:
    case tcp_state::closing:
    case tcp_state::last_ack:
    case tcp_state::time_wait:
      break;  // §3.10.5: no RST
    case tcp_state::syn_received:
    case tcp_state::established:
    case tcp_state::fin_wait_1:
    case tcp_state::fin_wait_2:
    case tcp_state::close_wait:
      // §3.10.5: <SEQ=SND.NXT><CTL=RST>. The RFC's SND.NXT never goes back; ours does on
      // a retransmission timeout, so SND.MAX is the RFC's SND.NXT (the peer may hold it all).
      queue_active_reset();
      break;
  }
  rcv_.buf.release();
  enter_closed(close_reason::aborted);
  sync_memory();
}

// ---- state funnel, events ------------------------------------------------------------------

void connection::set_state(tcp_state next) {
  assert(is_legal_transition(state_, next));
  if (next == tcp_state::established && (state_ == tcp_state::syn_sent || state_ == tcp_state::syn_received) &&
      !(fo_ && fo_->early_cc)) {
    start_congestion_control();
  }
  if (tracer_ != nullptr) tracer_->on_state(tuple_, state_, next);
  state_ = next;
}

void connection::push_event(tcp_event e) {
  // Bounded: established, peer_closed and closed happen at most once per lifetime, and
  // urgent and R1 notices coalesce into one pending event each, so five slots always suffice.
  if (ev_len_ == events_.size()) return;
  // Urgent notices coalesce: one pending says "look at urgent_remaining()"; so do R1 warnings.
  if (e.kind == tcp_event_kind::urgent || e.kind == tcp_event_kind::retransmit_threshold) {
    for (std::uint8_t i = 0; i < ev_len_; ++i) {
      if (events_[(ev_head_ + i) % events_.size()].kind == e.kind) return;
    }
  }
  events_[(ev_head_ + ev_len_) % events_.size()] = e;
  ++ev_len_;
}

void connection::enter_closed(close_reason why) {
  if (reason_ == close_reason::none) reason_ = why;
  set_state(tcp_state::closed);
  timers_.clear_all();
  snd_.buf.release();
  // §3.10.7.4: a reset flushes the queues (DEVIATION with tcp_config::reset_keeps_received_linux:
  // the peer's reset leaves what arrived readable, as Linux's tcp_reset does).
  if (why != close_reason::none && !(why == close_reason::reset && cfg_->reset_keeps_received_linux)) rcv_.buf.clear();
  rcv_.reasm.clear();
  rcv_.ack_now = false;
  syn_due_ = false;
  snd_.first_tx.reset();
  snd_.rto_streak = 0;
  snd_.rtt_probe.reset();
  snd_.probe_due = false;
  keepalive_due_ = false;
  push_event(tcp_event{tcp_event_kind::closed, why});
}

void connection::enter_fin_wait_2(instant now) {
  set_state(tcp_state::fin_wait_2);
  // An orphan (closed by the user) must not wait forever for a silent peer's FIN.
  if (user_closed_) timers_.set(timer_kind::fin_wait_2, now + cfg_->fin_wait_2_timeout);
}

void connection::enter_time_wait(instant now) {
  set_state(tcp_state::time_wait);
  timers_.clear_all();
  // tcp_config::time_wait off (demos, tests): 1 us, long enough for the last ACK to leave.
  const duration hold = cfg_->time_wait ? 2 * cfg_->msl : duration{1};
  timers_.set(timer_kind::time_wait, now + hold);
  keepalive_due_ = false;
  snd_.buf.release();
  rcv_.reasm.clear();
  snd_.first_tx.reset();
  tw_window_ = window_field();
  tw_rcv_wnd_ = recv_window();
  challenge_ = challenge_limiter{};  // TIME-WAIT's challenge-ACK budget starts afresh
}

time_wait_record connection::time_wait_state() const {
  time_wait_record tw;
  tw.tuple = tuple_;
  tw.snd_nxt = snd_.nxt;
  tw.rcv_nxt = rcv_.nxt;
  tw.window = tw_window_;
  tw.rcv_wnd = tw_rcv_wnd_;
  tw.expiry = timers_.armed(timer_kind::time_wait) ? timers_.at(timer_kind::time_wait) : instant{};
  tw.limiter = challenge_;
  tw.ts_on = ts_ok_;  // RFC 6191 §2
  tw.ts_recent = ts_recent_;
  return tw;
}

void connection::queue_challenge_ack(instant now) {
  if (challenge_.allow(now, cfg_->challenge_ack_limit, cfg_->challenge_ack_window)) {
    queue_ack();
  } else {
    ++challenge_acks_suppressed_;
  }
}

// tcp_config::quickack: text we already hold came again, so the sender did not see our ACK in
// time (lost, or held by the delayed-ACK timer); the next segments are ACKed at once too
// (Linux's DELAYEDACKLOST: tcp_enter_quickack_mode).
void connection::restart_quickack() {
  if (cfg_->quickack > 0) rcv_.quickack_left = cfg_->quickack;
}

// RFC 9293 §3.8.6.3 (SHLD-18/19, MUST-40) and RFC 5681 §4.2: an ACK for in-order text waits
// for a second segment or the delayed-ACK timer, never longer. Text longer than our MSS, or
// standing for several segments (a super-packet or a coalesced run), counts as two: ACKed at once.
void connection::queue_delayed_ack(instant now, std::size_t len) {
  if (cfg_->quickack > 0) {
    if (!rcv_.last_data_at || now - *rcv_.last_data_at > snd_.rtt.rto()) rcv_.quickack_left = cfg_->quickack;
    rcv_.last_data_at = now;
    if (rcv_.quickack_left > 0) {
      --rcv_.quickack_left;
      rcv_.unacked_segments = 0;
      queue_ack();
      return;
    }
  }
  const int credit = len > cfg_->mss || rcv_.segments > 1 ? 2 : 1;
  rcv_.unacked_segments = static_cast<std::uint8_t>(std::min(rcv_.unacked_segments + credit, 2));
  if (!cfg_->delayed_ack || rcv_.unacked_segments >= 2) {
    if (cfg_->delayed_ack) {
      if (rcv_.ack_points_len == rcv_.ack_points.size()) --rcv_.ack_points_len;  // bounded: merge the last two
      rcv_.ack_points[rcv_.ack_points_len++] = rcv_.nxt;
      rcv_.unacked_segments = 0;
    }
    queue_ack();
    return;
  }
  if (!timers_.armed(timer_kind::delayed_ack)) timers_.set(timer_kind::delayed_ack, now + cfg_->delayed_ack_timeout);
}

void connection::queue_reset(seq_num seq, std::optional<seq_num> ack) { rst_ = pending_rst{seq, ack}; }

// RFC 7323 §3.2: a RST SHOULD carry TSopt once timestamps are on; Linux's active resets carry
// it and ACK = RCV.NXT. The receiver takes either (§5.3 R1 exempts RSTs from PAWS).
void connection::queue_active_reset() {
  if (!cfg_->active_reset_linux) {
    queue_reset(snd_.max, std::nullopt);
    return;
  }
  rst_ = pending_rst{snd_.max, rcv_.nxt, ts_ok_};
}

std::uint32_t connection::recv_window_under(memory_level level) const {
  const std::uint32_t wnd = buffer_window();
  // Host memory pressure (as Linux's tcp_clamp_window): the right edge moves at most 4 MSS
  // past RCV.NXT, and beyond the hard limit not at all. RFC 9293 §3.8.6 (SHLD-14): the window
  // is not shrunk, what was offered stays offered: it closes only as data fills it.
  const std::uint32_t offered = rcv_.adv_set && rcv_.adv_edge.after(rcv_.nxt) ? distance(rcv_.nxt, rcv_.adv_edge).n : 0;
  const std::uint32_t open = level == memory_level::hard ? 0 : 4u * cfg_->mss;
  return std::min(wnd, std::max(offered, open));
}

std::uint16_t connection::window_field() const {
  return static_cast<std::uint16_t>(std::min<std::uint32_t>(recv_window() >> rcv_.wscale, 0xFFFF));
}

// ---- timers --------------------------------------------------------------------------------

void connection::arm_retransmit(instant now) { timers_.set(timer_kind::retransmit, now + snd_.rtt.rto()); }

void connection::dispatch_timeout(instant now) {
  if (timers_.expired(timer_kind::time_wait, now)) {
    enter_closed(close_reason::none);  // 2 x MSL passed: the connection is gone for good
    return;
  }
  if (timers_.expired(timer_kind::fin_wait_2, now)) {
    enter_closed(close_reason::timeout);
    return;
  }
  if (timers_.expired(timer_kind::delayed_ack, now)) {
    timers_.clear(timer_kind::delayed_ack);
    queue_ack();
  }
  if (timers_.expired(timer_kind::retransmit, now)) on_retransmit_timeout(now);
  if (timers_.expired(timer_kind::persist, now)) on_persist_timeout(now);
  if (timers_.expired(timer_kind::keepalive, now)) on_keepalive_timeout(now);
  if (timers_.expired(timer_kind::pmtu_raise, now)) on_pmtu_raise_timeout();
  if (timers_.expired(timer_kind::loss_probe, now)) on_loss_probe_timeout(now);
  if (timers_.expired(timer_kind::rack_reorder, now)) on_rack_timeout(now);
  if (timers_.expired(timer_kind::pacing, now)) timers_.clear(timer_kind::pacing);  // the rate allows the next now
}

void connection::on_retransmit_timeout(instant now) {
  timers_.clear(timer_kind::retransmit);
  timers_.clear(timer_kind::pacing);  // the timeout's retransmission is not held back
  const bool handshake = state_ == tcp_state::syn_sent || state_ == tcp_state::syn_received;
  // Nothing outstanding. If the window is zero with data queued, persist_needed() now holds
  // and the next poll_transmit arms the persist timer (RFC 9293 §3.8.6.1).
  if (!handshake && snd_.una == snd_.max) return;
  // RFC 9293 §3.8.3 (MUST-20, MUST-23): give up after R2; at least 3 minutes for a SYN.
  const duration r2 = handshake ? cfg_->syn_r2 : cfg_->data_r2;
  // The user timeout bounds an active open's SYN too, as Linux's since 5.4 (tcp_write_timeout);
  // a passive SYN-RECEIVED keeps R2 (Linux's request socks ignore it).
  // DEVIATION(Linux tcp_clamp_rto_to_user_timeout): it is checked when this timer fires, so
  // the connection ends at the first expiry past it; Linux shortens the timer to end it there.
  const bool user_bound = !handshake || !passive_;
  if ((snd_.first_tx && now - *snd_.first_tx >= r2) || (user_bound && user_timed_out(now))) {
    enter_closed(close_reason::timeout);
    return;
  }
  if (zero_window_given_up(now)) return;
  // RFC 9293 §3.8.3 (MUST-20): R1 retransmissions of the same segment and still no answer —
  // tell the user (SHLD-9) and, through the host, the IP layer (negative advice). Once per
  // stuck segment: the streak starts over when an ACK shows the peer alive.
  ++snd_.rto_streak;
  if (cfg_->r1_retransmissions != 0 && snd_.rto_streak == cfg_->r1_retransmissions) {
    push_event(tcp_event{tcp_event_kind::retransmit_threshold, close_reason::none});
  }
  // RFC 6298 §5.5-5.6: back off, retransmit the earliest unacknowledged segment. Karn's rule:
  // no RTT sample from anything sent before this point.
  snd_.rtt.backoff();
  snd_.rtt_probe.reset();
  if (handshake) {
    syn_due_ = true;
    syn_timed_out_ = true;
    // A Fast Open child's data sent before the handshake's ACK goes again after the SYN-ACK,
    // from the loss window, as after any timeout (RFC 5681 §3.1).
    if (fo_ && fo_->early_cc && snd_.max.after(snd_.iss + seq_len{1})) {
      timers_.clear(timer_kind::loss_probe);
      on_rto_for_recovery(now);
    }
  } else {
    timers_.clear(timer_kind::loss_probe);
    on_rto_for_recovery(now);
    snd_.nxt = snd_.una;  // go back: resend from the oldest unacknowledged byte (or FIN)
    // RFC 9293 §3.8.6.1 (MUST-36): into a zero window what goes again is a one-octet probe;
    // this timer's backoff (capped at rto_max) spaces the probes (SHLD-30).
    if (snd_.wnd == 0) snd_.probe_due = true;
  }
}

// RFC 9293 §3.8.6.1: a zero window with data queued and nothing in flight has lasted an RTO
// (SHLD-29): send a zero-window probe, one octet of new data beyond the window (MUST-35/36).
// Once sent, the probe is in flight and the retransmission timer repeats it with exponential
// backoff (SHLD-30); the backoff starts here, so the probes go out at 1, 2, 4, ... x RTO.
// With a window that is open but too small for the sender's SWS rules (§3.8.6.2.1), the same
// timer is the override timeout: when it fires, what fits is sent.
void connection::on_persist_timeout(instant now) {
  timers_.clear(timer_kind::persist);
  if (snd_.wnd == 0 && user_timed_out(now)) {
    enter_closed(close_reason::timeout);  // RFC 5482: held back longer than the user allows
    return;
  }
  if (zero_window_given_up(now)) return;
  if (snd_.wnd != 0) {
    snd_.sws_override = true;
    snd_.more_len = 0;  // what the timer forces out is pushed (Linux's tcp_write_wakeup)
    return;
  }
  snd_.rtt.backoff();
  snd_.probe_due = true;
}

// A zero-window holder under host memory pressure (issue #13 case 5, sockstress): the peer
// kept its window at zero for tcp_config::zero_window_timeout while we hold data for it. Its
// buffers go back to the host: RST (as Linux's tcp_out_of_resources resets a socket it gives
// up for memory), CLOSED with close_reason::timeout (ETIMEDOUT, as a user timeout reports),
// counted in memory_stats::zero_window_aborts.
bool connection::zero_window_given_up(instant now) {
  if (snd_.wnd != 0 || !cfg_->zero_window_timeout || mem_.level() == memory_level::normal) return false;
  if (state_ == tcp_state::syn_sent || state_ == tcp_state::syn_received) return false;  // no window seen yet
  if (snd_.buf.empty() || now - snd_.progress_at < *cfg_->zero_window_timeout) return false;
  mem_.note(&memory_stats::zero_window_aborts);
  queue_active_reset();
  rcv_.buf.release();
  enter_closed(close_reason::timeout);
  return true;
}

// The persist timer is due: unsent data held back — by a zero window or by the SWS rules —
// with nothing in flight to bring an ACK, and no timer running.
bool connection::persist_needed() const {
  return snd_.una == snd_.max && snd_.nxt.before(snd_.data_end()) && !snd_.probe_due && !snd_.sws_override &&
         !timers_.armed(timer_kind::persist) && !timers_.armed(timer_kind::retransmit) && !next_send().any();
}

// RFC 9293 §3.8.4 (MUST-26): an acceptable segment arrived — data, an ACK, or the answer to a
// keep-alive probe. The peer is alive: the probe count starts over and the idle interval is
// measured from now. Nothing at all happens unless keep-alives are on (MUST-25).
void connection::restart_keepalive(instant now) {
  keepalive_probes_ = 0;
  keepalive_since_ = now;
  timers_.set(timer_kind::keepalive, now + cfg_->keepalive_idle);
}

// RFC 9293 §3.8.4: the keep-alive timer is due — `keepalive_idle` since the last segment
// received, or `keepalive_interval` since the last unanswered probe.
void connection::on_keepalive_timeout(instant now) {
  timers_.clear(timer_kind::keepalive);
  switch (state_) {
    case tcp_state::established:
    case tcp_state::close_wait:
    case tcp_state::fin_wait_2:
      break;  // synchronized, our FIN unsent or acknowledged (as Linux probes)
    case tcp_state::closed:
    case tcp_state::listen:
    case tcp_state::syn_sent:
    case tcp_state::syn_received:
    case tcp_state::fin_wait_1:
    case tcp_state::closing:
    case tcp_state::last_ack:
    case tcp_state::time_wait:
      return;  // the handshake or FIN retransmission owns liveness here
  }
  // MUST-26: "only ... when no sent data is outstanding". Data in flight or queued is the
  // retransmission (R2) and persist timers' business; look again an idle interval later
  // (Linux tcp_keepalive_timer does the same).
  if (snd_.una != snd_.max || snd_.buf.size() != 0) {
    timers_.set(timer_kind::keepalive, now + cfg_->keepalive_idle);
    return;
  }
  // MUST-29: a single unanswered probe proves nothing; `keepalive_count` of them, each given
  // `keepalive_interval` to be answered, mean the peer is gone: close with the same reason as
  // R2 (MUST-20). Like Linux (tcp_keepalive_timer, tcp_send_active_reset) we also send
  // <SEQ=SND.NXT><CTL=RST>, as abort() does (§3.10.5): should the peer be alive behind a path
  // that only loses its replies, it learns the connection is gone instead of holding it.
  // With a user timeout (RFC 5482; Linux TCP_USER_TIMEOUT) that decides instead of the count:
  // the peer is gone once a probe is out and nothing has been heard for that long.
  const bool gone = cfg_->user_timeout
                        ? keepalive_probes_ > 0 && now - keepalive_since_ >= *cfg_->user_timeout
                        : keepalive_probes_ >= cfg_->keepalive_count;
  if (gone) {
    queue_active_reset();
    enter_closed(close_reason::timeout);
    return;
  }
  ++keepalive_probes_;
  keepalive_due_ = true;
  timers_.set(timer_kind::keepalive, now + cfg_->keepalive_interval);
}

// ---- queries -------------------------------------------------------------------------------

tcb_snapshot connection::snapshot() const {
  tcb_snapshot s;
  s.state = state_;
  s.tuple = tuple_;
  s.snd = snd_;
  s.rcv = rcv_;
  s.rcv.wnd = recv_window();
  s.send_queue = snd_.buf.size();
  s.recv_queue = rcv_.buf.size();
  s.recv_ooo_ranges = rcv_.reasm.ranges();
  s.recv_ooo_bytes = rcv_.reasm.held_bytes();
  s.rto = snd_.rtt.rto();
  s.cwnd = snd_.rec.cc->cwnd();
  s.ssthresh = snd_.rec.cc->ssthresh();
  s.congestion = snd_.rec.cc->kind();
  s.bbr = snd_.rec.cc.bbr_state();
  s.rto_streak = snd_.rto_streak;
  s.in_recovery = snd_.rec.cc->in_recovery();
  s.dup_acks = snd_.rec.cc->dup_acks();
  s.sacked = sack_ok_ ? snd_.rec.sb.sacked_bytes() : 0;
  s.dupthresh = rack_on() ? 3 : snd_.rec.cc->dup_thresh();
  s.dupthresh_raises = snd_.dupthresh_raises;
  s.sack_renegings = snd_.rec.sb.renegings();
  s.rack = rack_on();
  s.reo_wnd = snd_.rec.rk.reo_wnd();
  s.reo_wnd_mult = snd_.rec.rk.reo_wnd_mult();
  s.rack_losses = snd_.rec.rk.losses();
  s.reo_wnd_adaptations = snd_.rec.rk.reo_wnd_adaptations();
  s.rack_overflows = snd_.rec.rk.overflows();
  s.rack_storage = snd_.rec.rk.storage();
  s.pacing_rate = pacing_rate();
  s.ecn = ecn_.ok;
  s.ecn_ce_received = ecn_.ce_received;
  s.ecn_ece_received = ecn_.ece_received;
  s.ecn_reductions = ecn_.reductions;
  s.wscale_ok = peer_wscale_ok_;
  s.deadline = timers_.next();
  s.next_timer = timers_.next_kind();
  s.reason = reason_;
  return s;
}

}  // namespace synack
