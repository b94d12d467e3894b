#pragma once
// One TCP connection: the TCB and the state machine of RFC 9293 §3.10.
//
// Calling contract (sans-IO; the same for the stack, the simulator, tests and tools):
//   inputs    on_segment(now, seg)   a parsed, checksum-verified segment for this 4-tuple
//             on_timeout(now)        call when now >= next_deadline()
//   commands  connect, listen, send, recv, shutdown, close, abort (send and recv also in place:
//             send_reserve + send_commit, recv_view + recv_consume)
//   polls     poll_transmit(now, out) until it returns nullopt, after every input or command;
//             next_deadline() for when to call on_timeout; poll_event() for events.
// Time only enters as `now`; randomness only through the injected isn_source. No syscalls,
// no clock reads, no allocation per segment (buffers are allocated once, when first used).
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "synack/tcp/challenge_limiter.hpp"
#include "synack/tcp/config.hpp"
#include "synack/tcp/events.hpp"
#include "synack/tcp/fast_open.hpp"
#include "synack/tcp/four_tuple.hpp"
#include "synack/tcp/icmp_report.hpp"
#include "synack/tcp/isn.hpp"
#include "synack/tcp/memory_budget.hpp"
#include "synack/tcp/negotiation.hpp"
#include "synack/tcp/receiver.hpp"
#include "synack/tcp/sender.hpp"
#include "synack/tcp/state.hpp"
#include "synack/tcp/time_wait.hpp"
#include "synack/tcp/timers.hpp"
#include "synack/util/result.hpp"
#include "synack/wire/ecn.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {


// What became of an arriving segment. Everything but `accepted` is a drop the stack counts
// under that name (DESIGN.md §2 error channel (a)); replies, if any, come from poll_transmit.
enum class rx_verdict : std::uint8_t {
  accepted,
  no_connection,        // CLOSED: answered with RST per §3.10.7.1
  listen_rst,           // LISTEN: RST ignored
  listen_ack,           // LISTEN: ACK answered with RST
  listen_no_syn,        // LISTEN: neither SYN, RST nor ACK
  syn_fin,              // SYN with FIN: refused (as Linux does)
  syn_sent_bad_ack,     // SYN-SENT: ACK outside (ISS, SND.NXT], answered with RST
  syn_sent_rst_no_ack,  // SYN-SENT: RST without an acceptable ACK, ignored
  syn_sent_no_syn,      // SYN-SENT: neither SYN nor RST
  out_of_window,        // sequence check failed (ACKed unless RST)
  rst_in_window,        // RFC 5961 §3: RST not exactly at RCV.NXT, challenge ACK
  syn_synchronized,     // RFC 5961 §4: SYN in a synchronized state, challenge ACK
  no_ack,               // no ACK bit in a synchronized state
  ack_unacceptable,     // SYN-RECEIVED: bad ACK, answered with RST
  ack_too_new,          // ACK of data never sent, answered with ACK
  ack_too_old,          // RFC 5961 §5: ACK below SND.UNA - MAX.SND.WND
  reassembly_full,      // out-of-order text needing a range beyond max_ooo_ranges: ACKed, dropped
  ooo_memory,           // out-of-order text beyond the receive buffer's charge or under host memory pressure: ACKed, dropped
  time_wait,            // TIME-WAIT: handled by the TIME-WAIT rules (ACKed or ignored)
  paws,                 // RFC 7323 §5.3 R1: TSval older than TS.Recent; ACKed unless RST
  data_after_close,     // RFC 1122 §4.2.2.13: new text for an orphan (closed by the user): RST, aborted
  count_
};
[[nodiscard]] std::string_view to_string(rx_verdict v);


// A read-only picture of the TCB for tools and tests.
struct tcb_snapshot {
  tcp_state state = tcp_state::closed;
  four_tuple tuple;
  send_vars snd;
  recv_vars rcv;
  std::size_t send_queue = 0;  // bytes written but not yet acknowledged
  std::size_t recv_queue = 0;  // bytes received but not yet read
  std::size_t recv_ooo_ranges = 0;  // out-of-order ranges held by the reassembler
  std::uint64_t recv_ooo_bytes = 0;  // octets held out of order
  duration rto{0};
  std::uint32_t cwnd = 0;      // congestion window, bytes (RFC 5681)
  std::uint32_t ssthresh = 0;  // slow start threshold, bytes
  congestion_kind congestion = default_congestion_kind;
  std::optional<bbr_summary> bbr;  // with congestion_kind::bbr: its mode and model
  bool in_recovery = false;    // fast recovery (RFC 6582 / RFC 6675)
  std::uint32_t dup_acks = 0;  // duplicate ACKs counted since the last new ACK
  std::uint32_t sacked = 0;    // octets the SACK scoreboard holds as SACKed
  // DupThresh now (3 unless proven reordering raised it, tcp_config::adaptive_dupthresh; RACK
  // replaces it when on) and how often it was raised.
  std::uint32_t dupthresh = 3;
  std::uint64_t dupthresh_raises = 0;
  std::uint64_t sack_renegings = 0;  // ACKs that showed SACKed octets dropped (tcp_config::rto_keeps_sack)
  // RFC 8985 §6 RACK (tcp_config::rack, with SACK): whether it runs, RACK.reo_wnd as last
  // computed, RACK.reo_wnd_mult, segments it marked lost, reo_wnd_mult increments on D-SACK,
  // and segments the full transmit record could not hold; octets of transmit record allocated
  // (it follows the flight: none while nothing was sent, tcp/rack.hpp).
  bool rack = false;
  duration reo_wnd{0};
  std::uint32_t reo_wnd_mult = 1;
  std::uint64_t rack_losses = 0;
  std::uint64_t reo_wnd_adaptations = 0;
  std::uint64_t rack_overflows = 0;
  std::uint64_t pacing_rate = 0;  // octets per second; 0: not pacing (tcp_config::pacing)
  std::size_t rack_storage = 0;
  // RFC 3168: ECN negotiated; CE-marked segments received, ECE-flagged ACKs received, and
  // cwnd reductions they made (§6.1.2: at most one per window of data).
  bool ecn = false;
  std::uint64_t ecn_ce_received = 0;
  std::uint64_t ecn_ece_received = 0;
  std::uint64_t ecn_reductions = 0;
  bool wscale_ok = false;      // window scaling agreed (RFC 7323 §2.2)
  std::uint32_t rto_streak = 0;  // timer retransmissions of the oldest unacked segment (R1)
  std::optional<instant> deadline;
  std::optional<timer_kind> next_timer;
  close_reason reason = close_reason::none;
};

// What one poll_transmit wrote (as quinn's Transmit): the owner counts and routes the segment
// by this record instead of reading it back or diffing counters.
struct tcp_transmit {
  std::size_t len = 0;          // octets written: TCP header and payload
  std::uint16_t gso_size = 0;   // a super-segment to cut into segments of this payload size, 0: plain
  bool retransmission = false;  // sends again what was sent before (data, FIN, SYN or SYN-ACK)
  bool rst = false;             // a RST
  bool ect = false;             // RFC 3168 §6.1.1: ECN-capable, sent as ECT(0); Not-ECT otherwise
  // Another segment of new data certainly follows: has_pending_output() would say so (the
  // owner may skip asking). false says nothing.
  bool more = false;
};

// Observer for the single state funnel (tracing; optional, never owned).
// How send() queues its bytes: the flags of Linux's sendmsg that TCP acts on.
struct send_flags {
  bool urgent = false;  // MSG_OOB: urgent data (connection::send_urgent)
  // MSG_MORE: more follows. The bytes are not pushed (no PSH at their end), and a segment
  // shorter than the MSS of them is held, as by TCP_CORK, until a write without the flag, an
  // arriving ACK, push() or the persist timer lets it go (Linux's tcp_push with
  // TCP_NAGLE_CORK for this write only).
  bool more = false;
};

class tcp_tracer {
 public:
  virtual ~tcp_tracer() = default;
  virtual void on_state(const four_tuple& t, tcp_state from, tcp_state to) = 0;
};

class connection {
 public:
  connection(const tcp_config& cfg, const isn_source& isns);

  // ---- commands --------------------------------------------------------------------------
  // Active OPEN (RFC 9293 §3.10.1): CLOSED -> SYN-SENT; the SYN goes out on poll_transmit.
  result<void, tcp_error> connect(instant now, const four_tuple& t);
  // The same with TCP Fast Open (RFC 7413; tcp/fast_open.hpp, connection_fastopen.cpp).
  result<void, tcp_error> connect(instant now, const four_tuple& t, const fast_open_client& fo);
  // Passive OPEN: CLOSED -> LISTEN for a local address and port (remote unspecified).
  result<void, tcp_error> listen(const ip_addr& local_addr, std::uint16_t local_port);
  // Queues bytes to send; returns how many were taken (0 ..= data.size()).
  result<std::size_t, tcp_error> send(bytes data);
  result<std::size_t, tcp_error> send(bytes data, send_flags flags);
  // Queues bytes as urgent data (RFC 9293 §3.8.5, RFC 6093): SND.UP moves to the octet after
  // the last of them, and segments below it carry URG and the urgent pointer. They are sent
  // without waiting for Nagle's algorithm.
  result<std::size_t, tcp_error> send_urgent(bytes data);
  // Reads received bytes; 0 means end of stream (FIN received and all data read).
  // recv_view + copy + recv_consume.
  result<std::size_t, tcp_error> recv(mutable_bytes out);
  // Zero-copy receive, in two steps. recv_view: the received, unread bytes in place, as up to
  // two spans of the receive buffer, without consuming them; empty means end of stream; the
  // errors are recv()'s (would_block while nothing is readable). recv_consume(n): consumes the
  // first n of them (n <= the view's size) with everything recv() does after its copy: urgent
  // data accounting, the window-update ACK (RFC 9293 §3.8.6.2.2) and the memory level. The
  // spans stay valid until any other call on the connection (recv_consume included): an
  // input, a timeout or a command may move or free the buffer.
  [[nodiscard]] result<ring_view, tcp_error> recv_view() const;
  void recv_consume(std::size_t n);
  // Zero-copy send, in two steps; send() is send_reserve + copy + send_commit.
  // send_reserve: up to `max` bytes of free send buffer right after the queued bytes, as up to
  // two spans to fill in place: exactly what send() would take of `max` bytes (the state
  // checks, send_free() with the host's memory pressure, a Fast Open SYN's room) with send()'s
  // errors (would_block when `max` > 0 and no room). The reservation counts as send()'s write:
  // a SYN held for the first write (TCP_FASTOPEN_CONNECT) leaves with what is committed.
  // send_commit(n, flags): queues the first n bytes written into the spans (n <= their size;
  // 0 is allowed) as send() queues what it took, push point, MSG_MORE and urgent pointer
  // included. Call it before any other call on the connection: anything else may move or
  // free the storage the spans point at, and until the commit the grown storage is not
  // charged to the memory budget.
  [[nodiscard]] result<ring_space, tcp_error> send_reserve(std::size_t max);
  void send_commit(std::size_t n, send_flags flags = {});
  // Shuts down the sending side: the FIN follows queued data (§3.10.4). Receiving goes on.
  result<void, tcp_error> shutdown(instant now);
  // CLOSE by a user that will not read any more (shutdown + orphaned). Unread data -> abort.
  result<void, tcp_error> close(instant now);
  // ABORT (§3.10.5): RST in synchronized states, then CLOSED.
  void abort(instant now);
  // RFC 7413 server: how the next SYN in LISTEN is answered (its data taken, a cookie on the
  // SYN-ACK). Call between listen() and the SYN's on_segment.
  void set_fast_open_server(const fast_open_server& fo);
  // SYN cookies (RFC 4987 §3.6, connection_cookie.cpp): a passive connection rebuilt from a
  // validated cookie ACK `ack` on 4-tuple `t`, whose SYN-ACK had ISS `iss` and agreed on `o`.
  // CLOSED -> LISTEN -> SYN-RECEIVED -> ESTABLISHED through the state funnel, as the TCB
  // would have gone had it been kept. The caller then hands `ack` to on_segment (it may carry
  // data or a FIN).
  result<void, tcp_error> open_from_cookie(instant now, const four_tuple& t, seq_num iss, const agreed_options& o,
                                           const tcp_repr& ack);
  // RFC 7323 §2.3: the shift we announce for `cfg` (the smallest that lets the 16-bit window
  // field cover the receive buffer; at most 14; 0 without window scaling).
  // RFC 7323 §5.4: the TSval clock, 1 ms ticks plus a per-connection offset (the cookie
  // SYN-ACK uses it too, so a cookie connection's TSvals continue its SYN-ACK's).
  [[nodiscard]] static std::uint32_t ts_clock(instant now, std::uint32_t offset) {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.us) / 1000) + offset;
  }
  [[nodiscard]] static std::uint8_t recv_window_shift(const tcp_config& cfg);
  // Copies received, unread bytes without consuming them (MSG_PEEK); returns the count.
  [[nodiscard]] std::size_t peek(mutable_bytes out) const;
  // Points the connection at new options (TCP_NODELAY, keep-alives) while it lives; the
  // owner keeps `cfg` alive (it may be the current object, changed in place: `before` holds
  // the values it had). Turning keep-alives on or changing their idle time re-arms the timer
  // from `now` (connection_options.cpp).
  void set_config(instant now, const tcp_config& cfg, const tcp_config& before);
  // Lets a segment held by Nagle, TCP_CORK, MSG_MORE or sender SWS avoidance go out once, now
  // (Linux's push when TCP_NODELAY is set on a corked socket). With nothing held it does
  // nothing: a later write is not let through.
  void push() {
    if (!snd_.nxt.before(snd_.data_end())) return;
    snd_.sws_override = true;
    snd_.more_hold = false;
  }

  // ---- inputs ----------------------------------------------------------------------------
  // Segment arrival (§3.10.7). `seg` is valid only during the call. `remote` is the source
  // address; it matters only in LISTEN, where a SYN binds the TCB to its sender. In LISTEN
  // only a SYN changes anything: replies to other segments (RST for an ACK) are the owner's,
  // who knows where to send them (the stack, via reset_for_closed).
  rx_verdict on_segment(instant now, const tcp_repr& seg, const ip_addr& remote = {}) {
    const rx_verdict v = dispatch_segment(now, seg, remote);
    sync_memory();
    return v;
  }
  // The same for a segment that stands for `segments` received ones (a GSO super-packet or a
  // coalesced run, rx_meta::gso_size): more than one is ACKed at once, as two segments are.
  rx_verdict on_segment(instant now, const tcp_repr& seg, const ip_addr& remote, std::uint32_t segments) {
    rcv_.segments = segments;
    const rx_verdict v = on_segment(now, seg, remote);
    rcv_.segments = 1;
    return v;
  }
  // The same, with the ECN field of the IP packet that carried it (RFC 3168 §5: IPv4 TOS or
  // IPv6 Traffic Class, low two bits): a CE mark is echoed once ECN is negotiated.
  rx_verdict on_segment(instant now, const tcp_repr& seg, const ip_addr& remote, std::uint32_t segments,
                        ecn_codepoint ecn) {
    ecn_.rx = ecn;
    const rx_verdict v = on_segment(now, seg, remote, segments);
    ecn_.rx = ecn_codepoint::not_ect;
    return v;
  }
  void on_timeout(instant now) {
    dispatch_timeout(now);
    sync_memory();
  }
  // An ICMP error the stack matched to this connection (quoted SEQ within SND.UNA..SND.MAX,
  // RFC 5927 §4.1): soft errors are remembered, hard ones abort SYN-SENT, Fragmentation
  // Needed lowers the send MSS (RFC 1191). connection_icmp.cpp.
  icmp_action on_icmp_error(instant now, const icmp_report& r);

  // ---- polls -----------------------------------------------------------------------------
  // Writes the next TCP segment (header, payload, checksum) into `out` (which must hold at
  // least max_segment_len() bytes) and returns its length; nullopt when nothing is due.
  // Inline over a plain-valued private poll, as host::poll_transmit: the optional dissolves in
  // the caller instead of going through a stack slot (a store-forwarding stall per call).
  [[nodiscard]] std::optional<std::size_t> poll_transmit(instant now, mutable_bytes out) {
    const std::size_t n = transmit(now, out);
    return n == 0 ? std::nullopt : std::optional<std::size_t>{n};
  }
  // The same, and `sent` says what the segment was (unchanged when nothing is due).
  [[nodiscard]] std::optional<std::size_t> poll_transmit(instant now, mutable_bytes out, tcp_transmit& sent) {
    const std::size_t n = transmit(now, out);
    if (n == 0) return std::nullopt;
    sent = last_tx_;
    return n;
  }
  [[nodiscard]] std::optional<instant> next_deadline() const { return timers_.next(); }
  // The same, `none` when no timer is armed.
  [[nodiscard]] instant next_deadline_or(instant none) const { return timers_.next_or(none); }
  [[nodiscard]] std::optional<tcp_event> poll_event() {  // inline: the host drains it per input
    if (ev_len_ == 0) return std::nullopt;
    const tcp_event e = events_[ev_head_];
    ev_head_ = static_cast<std::uint8_t>((ev_head_ + 1) % events_.size());
    --ev_len_;
    return e;
  }
  [[nodiscard]] bool has_events() const { return ev_len_ != 0; }

  // ---- queries ---------------------------------------------------------------------------
  [[nodiscard]] tcp_state state() const { return state_; }
  [[nodiscard]] const four_tuple& tuple() const { return tuple_; }
  [[nodiscard]] const send_vars& snd() const { return snd_; }
  [[nodiscard]] const recv_vars& rcv() const { return rcv_; }
  [[nodiscard]] close_reason reason() const { return reason_; }
  [[nodiscard]] bool user_closed() const { return user_closed_; }
  [[nodiscard]] const tcp_config& config() const { return *cfg_; }
  // The last soft ICMP error, while nothing was acknowledged since it came (Linux clears
  // sk_err_soft on ACK progress); reported by posix/ in place of ETIMEDOUT on a timeout.
  [[nodiscard]] std::optional<icmp_report> soft_error() const {
    return soft_error_ && snd_.una == soft_error_una_ ? soft_error_ : std::nullopt;
  }
  // The hard ICMP error that aborted the connection (close_reason::refused), if one did.
  [[nodiscard]] std::optional<icmp_report> hard_error() const { return hard_error_; }
  [[nodiscard]] std::size_t recv_available() const { return rcv_.buf.size(); }
  // What send() takes now: the free send buffer, less under host memory pressure.
  [[nodiscard]] std::size_t send_free() const { return send_room(); }
  [[nodiscard]] std::size_t send_queued() const { return snd_.buf.size(); }
  [[nodiscard]] bool peer_fin_received() const { return rcv_.fin_received; }
  // RFC 9293 §3.8.5 (MUST-33): octets of urgent data not yet read (they are read inline, in
  // stream order, by recv): from the next octet recv returns up to the peer's urgent pointer.
  [[nodiscard]] std::size_t urgent_remaining() const;
  // RFC 7413: the SYN-ACK's cookie and MSS, once, for the host's cookie cache (client).
  [[nodiscard]] std::optional<fast_open_news> take_fast_open_news() {
    if (!fo_ || !fo_->news) return std::nullopt;
    auto n = fo_->news;
    fo_->news.reset();
    return n;
  }
  // Data rode on the SYN and was acknowledged by it (Linux's TCPI_OPT_SYN_DATA): a client's
  // SYN-ACK covered it, or a server took a valid cookie's data.
  // Linux's TCPI_OPT_SYN_DATA: a client's SYN data acknowledged by the SYN-ACK, a server's SYN
  // data taken (tp->syn_data_acked); TCPI_OPT_TFO_CHILD: made by a SYN with a valid cookie.
  [[nodiscard]] bool fast_open_syn_data() const { return fo_ && fo_->syn_data_acked && (fo_->client || fo_->syn_data > 0); }
  [[nodiscard]] bool fast_open_child() const { return fo_ && !fo_->client && fo_->syn_data_acked; }
  // A client whose SYN waits for the first send (TCP_FASTOPEN_CONNECT with a cookie).
  [[nodiscard]] bool fast_open_deferred() const { return fo_ && fo_->defer; }
  [[nodiscard]] bool sack_permitted() const { return sack_ok_; }
  [[nodiscard]] bool timestamps_on() const { return ts_ok_; }
  [[nodiscard]] std::uint32_t ts_recent() const { return ts_recent_; }
  [[nodiscard]] const rtt_estimator& rtt() const { return snd_.rtt; }
  [[nodiscard]] bool has_pending_output() const;
  [[nodiscard]] tcb_snapshot snapshot() const;
  [[nodiscard]] std::size_t max_segment_len() const {
    return 60 + std::max<std::size_t>(snd_.mss, cfg_->tso_max);
  }
  // The segment poll_transmit returned last is a super-segment to cut into segments of this
  // payload size, with a partial checksum (tcp_config::tso_max); 0 for a plain segment.
  [[nodiscard]] std::uint16_t tx_gso_size() const { return last_tx_.gso_size; }
  [[nodiscard]] std::uint64_t retransmissions() const { return snd_.retransmissions; }
  [[nodiscard]] std::uint64_t fast_retransmits() const { return snd_.fast_retransmits; }
  [[nodiscard]] std::uint64_t loss_probes() const { return snd_.loss_probes; }            // RFC 8985 §7.3
  [[nodiscard]] std::uint64_t probe_recoveries() const { return snd_.probe_recoveries; }  // RFC 8985 §7.4
  // Window reductions undone because their retransmissions proved spurious (RFC 3708, RFC 3522).
  [[nodiscard]] std::uint64_t spurious_undos() const { return snd_.spurious_undos; }
  // tcp_config::pacing: the rate data leaves at now, octets per second (BBR's pacing rate with
  // congestion_kind::bbr, paced whatever tcp_config::pacing says; otherwise max(cwnd, flight) /
  // RTT x 2 below half of ssthresh, x 1.2 above, the RTT RACK's smoothed one where it has a
  // sample, else SRTT); 0 when not pacing (off, no RTT sample yet, or — not with BBR — once
  // RACK has seen the path reorder, rack::reordering_seen).
  [[nodiscard]] std::uint64_t pacing_rate() const;
  // Whether this connection may pace: tcp_config::pacing, or BBR (which always does).
  // pacing_rate() says whether it paces now (0 once RACK has seen the path reorder).
  [[nodiscard]] bool pacing_on() const { return cfg_->pacing || snd_.rec.cc.as_bbr() != nullptr; }
  // Timeouts RFC 5682 F-RTO found spurious (tcp_config::frto).
  [[nodiscard]] std::uint64_t frto_spurious() const { return snd_.frto_spurious; }
  // RFC 8985 §6 RACK: segments it marked lost, and reo_wnd_mult increments on D-SACK (§6.2 step 4).
  [[nodiscard]] std::uint64_t rack_losses() const { return snd_.rec.rk.losses(); }
  [[nodiscard]] std::uint64_t reo_wnd_adaptations() const { return snd_.rec.rk.reo_wnd_adaptations(); }
  [[nodiscard]] std::uint64_t timeouts() const { return snd_.timeouts; }
  // RFC 3168: whether ECN was negotiated, CE marks and ECE flags received, reductions by ECE.
  [[nodiscard]] bool ecn_on() const { return ecn_.ok; }
  [[nodiscard]] std::uint64_t ecn_ce_received() const { return ecn_.ce_received; }
  [[nodiscard]] std::uint64_t ecn_ece_received() const { return ecn_.ece_received; }
  [[nodiscard]] std::uint64_t ecn_reductions() const { return ecn_.reductions; }
  [[nodiscard]] std::uint64_t challenge_acks_suppressed() const { return challenge_acks_suppressed_; }
  [[nodiscard]] std::uint64_t pmtu_reductions() const { return pmtu_reductions_; }
  [[nodiscard]] std::uint64_t pmtu_raises() const { return pmtu_raises_; }
  // TIME-WAIT: when it ends (2 x MSL after the last FIN was acknowledged).
  [[nodiscard]] std::optional<instant> time_wait_expiry() const { return timers_.get(timer_kind::time_wait); }
  // In TIME-WAIT: the compact record the stack keeps once the TCB is freed.
  // Made from the TCB's own fields (nothing in it changes in TIME-WAIT but the challenge-ACK
  // budget and the expiry, kept in challenge_ and the timer) and the two window values fixed
  // on entering TIME-WAIT; before TIME-WAIT its values mean nothing.
  [[nodiscard]] time_wait_record time_wait_state() const;

  void set_tracer(tcp_tracer* t) { tracer_ = t; }
  // Builds outgoing segments' headers in `r` (the owner's, shared by its connections: one is
  // being built at a time) instead of one of its own, allocated on first use; nullptr goes
  // back to its own. The owner keeps `r` alive. A header is 296 octets, a sixth of an idle
  // TCB (issue #13).
  void set_header_scratch(tcp_repr* r) { hdr_ = r != nullptr ? r : own_hdr_.get(); }
  // ---- memory (tcp/memory_budget.hpp) ----------------------------------------------------
  // Charges this connection's buffer storage to `b` (the host's budget) from now on, and
  // follows its level; nullptr detaches. The owner keeps `b` alive.
  void set_memory_budget(memory_budget* b) {
    mem_.attach(b);
    sync_memory();
  }
  // Bytes of buffer storage held now: the send and receive rings and out-of-order blocks.
  [[nodiscard]] std::size_t memory() const {
    return snd_.buf.storage() + rcv_.buf.storage() + rcv_.reasm.storage();
  }
  [[nodiscard]] memory_level memory_state() const { return mem_.level(); }
  // Re-reads the budget's level: prunes out-of-order data and releases drained rings under
  // pressure, and charges the storage held. Every input and command ends with it; the owner
  // calls it when the level changed with nothing happening on this connection.
  void sync_memory() {
    if (mem_.level() != memory_level::normal) release_under_pressure();
    mem_.set(memory());
  }
  // The budget's level went down: sync_memory, and a window held back under pressure is
  // announced (an ACK queued) once it opened as far as recv()'s window-update rule asks.
  void memory_relieved();

 private:
  friend struct tcb_test_access;
  rx_verdict dispatch_segment(instant now, const tcp_repr& seg, const ip_addr& remote);
  void dispatch_timeout(instant now);
  // The room the send buffer has for the user; the budget's pressure shrinks it (send_room_under).
  [[nodiscard]] std::size_t send_room() const {
    const memory_level level = mem_.level();
    return level == memory_level::normal ? snd_.buf.free() : send_room_under(level);
  }
  [[nodiscard]] std::size_t send_room_under(memory_level level) const;
  // Under memory pressure: out-of-order data goes (RFC 2018 §8 lets a receiver discard what it
  // SACKed), and a drained ring gives its storage back until it is needed again.
  void release_under_pressure();
  [[nodiscard]] bool zero_window_given_up(instant now);
  [[nodiscard]] bool window_update_due() const;

  // §3.10.7 segment arrival, one function per step (connection_input.cpp).
  rx_verdict on_segment_listen(instant now, const tcp_repr& seg, const ip_addr& remote);
  rx_verdict on_segment_syn_sent(instant now, const tcp_repr& seg);
  rx_verdict on_segment_synchronized(instant now, const tcp_repr& seg);
  rx_verdict on_simultaneous_synack(instant now, const tcp_repr& synack);
  rx_verdict on_segment_time_wait(instant now, const tcp_repr& seg);
  [[nodiscard]] bool segment_acceptable(const tcp_repr& seg) const;
  std::optional<rx_verdict> check_rst(instant now, const tcp_repr& seg);
  std::optional<rx_verdict> check_syn(instant now, const tcp_repr& seg);
  std::optional<rx_verdict> check_ack(instant now, const tcp_repr& seg, bool disordered = false);
  void process_ack_of_new_data(instant now, seq_num ack);
  void update_send_window(const tcp_repr& seg);
  void check_urg(const tcp_repr& seg);
  std::optional<rx_verdict> process_text(instant now, const tcp_repr& seg);
  std::optional<rx_verdict> take_in_order(instant now, const tcp_repr& seg, seq_num text_start, seq_num take_end,
                                          std::optional<rx_verdict> v);
  std::optional<rx_verdict> hold_out_of_order(const tcp_repr& seg, seq_num text_start, seq_num take_end,
                                              std::optional<rx_verdict> v);
  void check_fin(instant now, const tcp_repr& seg, bool all_text_taken);
  void hold_syn_text(const tcp_repr& syn);
  // RFC 7413 (connection_fastopen.cpp): the TFO option and data of our SYN, what a SYN-ACK
  // says of them, and a server's taking of SYN data.
  std::size_t fast_open_syn_payload(tcp_repr& hdr, bool first);
  [[nodiscard]] std::size_t fast_open_syn_room() const;
  void fast_open_on_synack(const tcp_repr& seg);
  void fast_open_take_syn_data(const tcp_repr& syn);
  [[nodiscard]] bool fast_open_syn_too_big(const icmp_report& r);
  // A Fast Open child in SYN-RECEIVED, its SYN-ACK sent: it may send data before the client's
  // ACK (RFC 7413 §4.2.2; Linux's TFO child does). fast_open_send_early plans and builds it.
  [[nodiscard]] bool fast_open_sends_early() const {
    return state_ == tcp_state::syn_received && passive_ && fast_open_child() && !syn_due_ && snd_.max.after(snd_.iss);
  }
  std::size_t fast_open_send_early(instant now, mutable_bytes out);
  // The ACK that ends the handshake of a child that sent data early: what it acknowledges of
  // that data, its SACK blocks and ECN echo, as any ACK in ESTABLISHED.
  void fast_open_handshake_ack(instant now, const tcp_repr& seg);
  void take_syn_text(instant now);
  void take_peer_options(instant now, const tcp_repr& syn);
  void apply_options(const agreed_options& a);
  std::optional<rx_verdict> check_timestamps(instant now, const tcp_repr& seg);
  // The rare verdicts of the per-segment checks, out of line and cold (connection_input.cpp).
  [[gnu::cold, gnu::noinline]] rx_verdict on_paws_failure(instant now, const tcp_repr& seg);
  [[gnu::cold, gnu::noinline]] rx_verdict on_unacceptable(instant now, const tcp_repr& seg);
  // Their D-SACK for a dropped data segment's text below RCV.NXT (RFC 2883 §4).
  void note_repeated_text(const tcp_repr& seg);
  [[nodiscard]] bool disordered_ack(const tcp_repr& seg, std::uint32_t lag) const;
  void update_ts_recent(instant now, const tcp_repr& seg);
  void sample_rtt_from_tsecr(instant now, const tcp_repr& seg);
  [[nodiscard]] std::uint32_t ts_clock(instant now) const { return ts_clock(now, ts_offset_); }
  // RFC 3168 (connection_ecn.cpp): a segment's CE mark and CWR flag (receiver, §6.1.3), an
  // ACK's ECE flag (sender, §6.1.2), and the ECN marks of an outgoing segment.
  void ecn_on_segment(const tcp_repr& seg);
  void ecn_on_ack(instant now, const tcp_repr& seg);
  void ecn_mark_syn(tcp_repr& hdr) const;
  void ecn_mark_data(tcp_repr& hdr, bool ect);
  void note_duplicate(seq_num left, seq_num right) {
    if (sack_ok_) rcv_.dsack = sack_block{left, right};  // RFC 2883: reported in the next ACK
  }

  // State funnel and helpers (connection.cpp).
  void set_state(tcp_state next);
  void enter_closed(close_reason why);
  void enter_fin_wait_2(instant now);
  void enter_time_wait(instant now);
  void push_event(tcp_event e);
  void queue_ack() { rcv_.ack_now = true; }
  void restart_quickack();
  void queue_delayed_ack(instant now, std::size_t len);
  // Answers to a peer's rare misbehaviour: cold, so the paths that call them leave the hot code.
  [[gnu::cold, gnu::noinline]] void queue_challenge_ack(instant now);
  [[gnu::cold, gnu::noinline]] void queue_reset(seq_num seq, std::optional<seq_num> ack);
  // The free buffer, before memory pressure. While the user still reads, the window is the free
  // receive buffer; an orphaned connection discards data, so it keeps offering the whole buffer.
  [[nodiscard]] std::uint32_t buffer_window() const {
    const std::size_t free = user_closed_ ? rcv_.buf.capacity() : rcv_.buf.free();
    const std::size_t cap = std::size_t{0xFFFF} << rcv_.wscale;
    return static_cast<std::uint32_t>(std::min(free, cap));
  }
  // The window to offer: the free buffer, clamped under memory pressure (recv_window_under).
  // Inline (with the helpers above and below): every segment in and out asks.
  [[nodiscard]] std::uint32_t recv_window() const {
    const memory_level level = mem_.level();
    return level == memory_level::normal ? buffer_window() : recv_window_under(level);
  }
  [[nodiscard]] std::uint32_t recv_window_under(memory_level level) const;
  [[nodiscard]] std::uint16_t window_field() const;
  void arm_retransmit(instant now);
  void on_retransmit_timeout(instant now);
  void on_persist_timeout(instant now);
  [[nodiscard]] bool persist_needed() const;
  // A segment arrived: the keep-alive idle interval starts again (if keep-alive is on).
  void note_keepalive_activity(instant now) {
    if (cfg_->keepalive) restart_keepalive(now);
  }
  void restart_keepalive(instant now);
  void on_keepalive_timeout(instant now);
  void on_window_ack(instant now, std::uint32_t old_wnd);

  // Congestion control and loss recovery (connection_recovery.cpp).
  void start_congestion_control();
  void on_ack_for_recovery(instant now, const tcp_repr& seg, seq_num prev_una, std::uint32_t prev_wnd);
  [[gnu::noinline]] void recover_on_ack(instant now, const tcp_repr& seg, seq_num prev_una, std::uint32_t prev_wnd,
                                        std::span<const sack_block> blocks);
  // An ACK without SACK blocks that acknowledges nothing new while nothing is outstanding (the
  // receiving side of a one-way transfer, an idle request/response connection), or that
  // acknowledges only our FIN, sent after all the data was acknowledged (every close): no
  // recovery, loss probe, undo episode or RACK state waits for it, so on_ack_for_recovery has
  // nothing to do.
  [[nodiscard]] bool nothing_to_recover(seq_num ack, seq_num prev_una) const {
    const bool only_fin = snd_.fin_queued && prev_una == fin_seq() && ack == prev_una + seq_len{1};
    return (ack == prev_una || only_fin) && snd_.una == snd_.max && !snd_.rec.undo && !snd_.rec.tlp_end &&
           snd_.rec.sb.range_count() == 0 && !snd_.rec.cc->in_recovery() && snd_.rec.rk.idle() &&
           !timers_.armed(timer_kind::rack_reorder);
  }
  void on_duplicate_ack(instant now, const sack_update& su);
  void begin_fast_recovery(const sack_update& su);
  void on_rto_for_recovery(instant now);
  // RFC 6937 / 9937 PRR: the window for this ACK of fast recovery (connection_recovery.cpp).
  void prr_on_ack(std::uint32_t delivered, const sack_update& su, std::uint32_t dup_acks_before, bool advanced);
  void prr_on_sent(std::uint32_t octets, bool retransmission);
  // Undo of spurious retransmissions (RFC 3708, RFC 3522; connection_recovery.cpp).
  void open_undo_episode();
  void note_episode_retransmission(instant now, seq_num seq, std::uint32_t len);
  void check_spurious(const tcp_repr& seg, seq_num prev_una, const sack_update& su);
  void try_undo();
  // RFC 5682 F-RTO's steps 2 and 3 on an ACK after a timeout (connection_recovery.cpp).
  void frto_on_ack(seq_num prev_una, bool dup, const sack_evidence& ev);
  // Fills `ev` (an out-parameter: the per-ACK path returns no struct through the stack).
  void read_sack_evidence(seq_num ack, std::span<const sack_block> blocks, sack_evidence& ev) const;
  // DupThresh raised by proven reordering (tcp_config::adaptive_dupthresh).
  void adapt_dupthresh(seq_num prev_una, const sack_evidence& ev);
  void raise_dupthresh(seq_num low, seq_num top);
  void set_dupthresh(std::uint32_t n);
  // RFC 8985 §7 Tail Loss Probe: arm the PTO, its expiry, the probe, and what an ACK says of it.
  // The PTO is cleared, and armed again (arm_loss_probe_now) only with SACK and data
  // outstanding and no probe in this flight yet.
  void arm_loss_probe(instant now) {
    timers_.clear(timer_kind::loss_probe);
    if (cfg_->tail_loss_probe && sack_ok_ && snd_.una != snd_.max && !snd_.rec.tlp_end) arm_loss_probe_now(now);
  }
  void arm_loss_probe_now(instant now);
  void on_loss_probe_timeout(instant now);
  void check_loss_probe(instant now, seq_num prev_una, const sack_update& su);
  [[nodiscard]] bool sack_recovery() const { return snd_.rec.sack_recovery(sack_ok_); }
  // RFC 8985 §6 RACK: on with SACK and tcp_config::rack; its steps on each ACK, loss detection
  // (which may start recovery) and the reorder timer's expiry.
  [[nodiscard]] bool rack_on() const { return sack_ok_ && cfg_->rack; }
  // The transmit record is kept: for RACK, or for BBR's delivery-rate snapshots (with or
  // without SACK; without RACK its loss detection does not run).
  [[nodiscard]] bool record_on() const { return rack_on() || snd_.rec.cc.as_bbr() != nullptr; }
  void on_sack_reneging();
  // Where a resend from SND.NXT goes on: SND.NXT itself unless SND.NXT < SND.MAX with SACK
  // (resend_past_sacked).
  [[nodiscard]] seq_num resend_from() const {
    return !sack_ok_ || !snd_.nxt.before(snd_.max) ? snd_.nxt : resend_past_sacked();
  }
  [[nodiscard]] seq_num resend_past_sacked() const;
  void rack_on_ack(instant now, const tcp_repr& seg, const sack_update& su, std::optional<delivered_segment>* newest);
  // BBR (tcp_config::congestion): the rate sample of one ACK and the model's update.
  void bbr_on_ack(instant now, std::uint32_t delivered, const std::optional<delivered_segment>& newest,
                  std::uint64_t losses_before);
  void rack_detect(instant now);
  void rack_start_recovery(instant now, const sack_update& su);
  void on_rack_timeout(instant now);
  // RFC 6675's pipe, less what RACK marked lost and was not sent again.
  [[nodiscard]] std::uint32_t recovery_pipe() const;
  [[nodiscard]] std::uint32_t sending_flight() const;
  [[nodiscard]] std::uint32_t cwnd_room() const;
  // Segmentation offload (tcp_config::tso_max) for new data only, outside every special case:
  // a retransmission, urgent data, a probe, SACK recovery and limited transmit go one MSS at a
  // time, as without offload.
  // After a segment of new data: a full segment more fits the peer's window and cwnd, so
  // has_pending_output() is true (tcp_transmit::more), found without planning it.
  [[nodiscard]] bool more_new_data_certain() const;
  [[nodiscard]] bool tso_allowed(bool fresh, bool urgent) const {
    return cfg_->tso_max > snd_.mss && fresh && !urgent && !snd_.probe_due && !sack_recovery() &&
           !snd_.rec.cc->in_recovery() && snd_.rec.cc->dup_acks() == 0 && snd_.rec.lt_budget == 0;
  }
  // psh_burst_linux: the segments of `seg` octets Linux would put in one TSO packet now.
  [[nodiscard]] std::uint32_t linux_tso_segs(std::uint32_t seg) const;
  // Linux's pacing rate for a window of `window` octets over a round trip of `srtt`
  // (tcp_update_pacing_rate): window / srtt, x 2 below half of ssthresh, x 1.2 after; octets
  // per second, 0 without a round trip. pacing_rate() and linux_tso_segs() both use it.
  [[nodiscard]] std::uint64_t linux_pacing_rate(std::uint64_t window, std::optional<duration> srtt) const;
  // The window both take it over: max(cwnd, SND.MAX - SND.UNA), as Linux's max(cwnd, packets_out).
  [[nodiscard]] std::uint64_t pacing_window() const {
    return std::max<std::uint64_t>(snd_.rec.cc->cwnd(), distance(snd_.una, snd_.max).n);
  }
  std::optional<next_segment> take_retransmission();

  // Output (connection_output.cpp): one pipeline. The sender plans the next data-bearing
  // segment (plan_segment: a retransmission, new data, a resend after a timeout, a zero-window
  // probe, a FIN) and emit_segment alone builds it; emit() completes every segment but a RST
  // and the SYN.
  enum class segment_kind : std::uint8_t {
    none,
    new_data,        // at SND.NXT == SND.MAX (a probe or a lone FIN too)
    resend,          // at SND.NXT < SND.MAX: go-back-N after a timeout; SND.NXT moves on
    retransmission,  // a hole fast retransmit, a partial ACK or NextSeg() chose; SND.NXT stays
  };
  struct segment_plan {
    segment_kind kind = segment_kind::none;
    seq_num seq;
    std::uint32_t len = 0;  // payload octets wanted, before the options take their room
    bool fin_ok = false;    // the FIN may ride on a segment that ends at the last queued octet
    next_segment hole{};    // retransmission: what the scoreboard is told was sent
    bool loss_probe = false;  // a tail loss probe (RFC 8985 §7.3)
  };
  [[nodiscard]] segment_plan plan_segment(instant now);
  [[nodiscard]] segment_plan plan_retransmission(const next_segment& s) const;
  [[nodiscard]] segment_plan plan_loss_probe() const;
  std::size_t emit_segment(instant now, mutable_bytes out, const segment_plan& p);
  // emit_segment's rare steps, out of line and cold (connection_output.cpp).
  [[gnu::cold, gnu::noinline]] bool linux_burst_candidate(const segment_plan& p, std::uint32_t len,
                                                          seq_num push_point) const;
  [[gnu::cold, gnu::noinline]] void mark_linux_burst_psh(tcp_repr& hdr, std::uint32_t len, std::uint32_t room);
  [[gnu::cold, gnu::noinline]] void note_retransmission_sent(instant now, const segment_plan& p, std::uint32_t used);
  [[gnu::cold, gnu::noinline]] void note_loss_probe_sent(const segment_plan& p);
  void note_sent(instant now, const segment_plan& p, std::uint32_t len, bool fin, std::uint32_t room);
  // tcp_config::pacing: `octets` of data left now; arms the pacing timer past the burst.
  void pace_sent(instant now, std::uint32_t octets);
  // Completes `hdr` in place (ports, ACK, window) and writes it: a ~300-octet repr is not
  // copied per segment. The ACK options are the caller's (ack_header), built once.
  std::size_t emit(instant now, mutable_bytes out, tcp_repr& hdr, std::size_t payload_offset,
                   std::size_t payload_len);
  // A fresh header with the options of every segment after the handshake.
  tcp_repr& ack_header(instant now) {
    tcp_repr& hdr = fresh_header();
    add_ack_options(now, hdr.options);
    return hdr;
  }
  void add_ack_options(instant now, tcp_options& o) const;
  void fill_sack(tcp_options& o) const;
  // Segment lengths, 0 for none: plain values, not optionals (see poll_transmit). transmit
  // records what it wrote in last_tx_.
  std::size_t transmit(instant now, mutable_bytes out) {
    last_tx_ = tcp_transmit{};
    last_tx_.len = write_next(now, out);
    return last_tx_.len;
  }
  std::size_t write_next(instant now, mutable_bytes out);
  // The rare segments write_next builds, out of line and cold (docs/performance.md, issue
  // #12): the RST owed (rst_ set), a keep-alive probe, a challenge ACK in SYN-RECEIVED.
  [[gnu::cold, gnu::noinline]] std::size_t emit_control(instant now, mutable_bytes out);
  [[gnu::cold, gnu::noinline]] std::size_t emit_keepalive(instant now, mutable_bytes out);
  [[gnu::cold, gnu::noinline]] std::size_t emit_syn_received_ack(instant now, mutable_bytes out);
  std::size_t emit_syn(instant now, mutable_bytes out);
  struct send_plan {
    std::uint32_t len = 0;
    bool fin = false;
    [[nodiscard]] bool any() const { return len > 0 || fin; }
  };
  // New data (or the FIN) that may go at SND.NXT now. Nothing is {0, false} (a plain value:
  // see poll_transmit).
  [[nodiscard]] send_plan next_send() const;
  [[nodiscard]] seq_num fin_seq() const { return snd_.data_end(); }

  const tcp_config* cfg_;
  const isn_source* isns_;
  tcp_tracer* tracer_ = nullptr;
  tcp_state state_ = tcp_state::closed;
  four_tuple tuple_;
  // The two halves of the TCB (sender.hpp, receiver.hpp). Their RFC variables are named
  // as in RFC 9293 §3.3.1: snd_.una, snd_.nxt, rcv_.nxt, ...
  sender snd_;
  receiver rcv_;
  timer_table timers_;

  // Handshake bookkeeping.
  bool passive_ = false;         // came from LISTEN (RST in SYN-RECEIVED returns there)
  bool peer_wscale_ok_ = false;  // both SYNs carried window scale (RFC 7323 §2.2)
  bool sack_ok_ = false;         // both SYNs carried SACK-permitted (RFC 2018 §2)
  // RFC 7323 timestamps: negotiated on both SYNs; TS.Recent and when it was taken (§5.5's
  // 24-day validity); Last.ACK.sent (§4.3); our clock's per-connection offset.
  bool ts_ok_ = false;
  std::uint32_t ts_recent_ = 0;
  instant ts_recent_at_{};
  seq_num last_ack_sent_;
  std::uint32_t ts_offset_ = 0;
  std::uint16_t peer_mss_ = 536;  // MUST-15: 536 unless the peer's SYN said otherwise
  bool syn_timed_out_ = false;    // RFC 6298 §5.7: the SYN/SYN-ACK timer expired
  // RFC 3168 ECN (connection_ecn.cpp).
  struct ecn_state {
    bool ok = false;         // negotiated on the SYNs (§6.1.1)
    ecn_codepoint rx = ecn_codepoint::not_ect;  // the ECN field of the segment being processed
    bool echo = false;       // receiver: ECE on every ACK until a CWR arrives (§6.1.3)
    bool cwr_due = false;    // sender: CWR on the next new data segment (§6.1.2)
    std::optional<seq_num> reduced_at;   // SND.MAX at the last ECE reduction: one per window
    std::optional<seq_num> loss_recover;  // the congestion controller's `recover` last seen
    std::uint32_t ce_received = 0;  // 32-bit counters: an idle TCB stays small (issue #13)
    std::uint32_t ece_received = 0;
    std::uint32_t reductions = 0;
  };
  ecn_state ecn_;


  // RFC 7413: made only for a TFO connection (on the heap: ~80 octets an ordinary TCB does
  // not carry, issue #13).
  std::unique_ptr<fast_open_state> fo_;

  // Close bookkeeping.
  bool user_closed_ = false;    // the user will not read: the connection is orphaned
  close_reason reason_ = close_reason::none;

  // TIME-WAIT's record (time_wait_state(), whose rules answer segments there) is not carried
  // by every TCB: only what the TCB does not hold already, the window our ACKs advertise as
  // TIME-WAIT began (the field and RCV.WND; the user may still read and open the buffer).
  std::uint16_t tw_window_ = 0;
  std::uint32_t tw_rcv_wnd_ = 0;

  // Output bookkeeping.
  // The header of the segment being built, reused (fresh_header()) rather than a local repr
  // zero-filled per segment: the owner's (set_header_scratch) or this connection's own.
  tcp_repr* hdr_ = nullptr;
  std::unique_ptr<tcp_repr> own_hdr_;
  tcp_repr& fresh_header() {
    if (hdr_ == nullptr) [[unlikely]] make_own_header();
    hdr_->clear();
    return *hdr_;
  }
  // A connection without its owner's scratch header makes its own, once (out of line and
  // cold, as every rare path of the per-segment functions: docs/performance.md, issue #12).
  [[gnu::cold, gnu::noinline]] void make_own_header();
  tcp_transmit last_tx_;  // what transmit() wrote last
  bool syn_due_ = false;        // (re)send SYN or SYN-ACK
  struct pending_rst {
    seq_num seq;
    std::optional<seq_num> ack;
    bool timestamps = false;  // carries TSopt (an active reset with tcp_config::active_reset_linux)
  };
  // The RST of an abort, a zero-window give-up or dead keep-alive (Linux's
  // tcp_send_active_reset): RFC 9293's <SEQ=SND.NXT><CTL=RST>, or with
  // tcp_config::active_reset_linux also ACK = RCV.NXT and timestamps.
  void queue_active_reset();
  std::optional<pending_rst> rst_;  // one RST owed (replaces an older one)
  [[nodiscard]] bool user_timed_out(instant now) const {
    return cfg_->user_timeout && now - snd_.progress_at >= *cfg_->user_timeout;
  }
  bool keepalive_due_ = false;  // RFC 9293 §3.8.4: send <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK>
  std::uint32_t keepalive_probes_ = 0;  // keep-alive probes sent since the last segment received
  instant keepalive_since_{};           // the idle interval started: last segment received

  // ICMP errors (connection_icmp.cpp).
  icmp_action on_frag_needed(instant now, const icmp_report& r);
  [[nodiscard]] std::uint16_t path_mss_of(const icmp_report& r) const;
  void on_pmtu_raise_timeout();
  // The send MSS before any Path MTU reduction: the peer's MSS within our own (MUST-15/16).
  [[nodiscard]] std::uint16_t full_send_mss() const;
  std::optional<icmp_report> soft_error_;
  seq_num soft_error_una_;  // SND.UNA when the soft error came
  std::optional<icmp_report> hard_error_;
  std::uint64_t pmtu_reductions_ = 0;  // RFC 1191: times Fragmentation Needed lowered SND.MSS
  std::uint64_t pmtu_raises_ = 0;      // RFC 1191 §6.3: times the timer put the full MSS back
  memory_charge mem_;  // this connection's share of the host's memory budget

  // RFC 5961 §7 per-connection challenge-ACK budget.
  challenge_limiter challenge_;
  std::uint64_t challenge_acks_suppressed_ = 0;

  // Events: a small ring, newest dropped if the user never polls (bounded).
  std::array<tcp_event, 5> events_{};
  std::uint8_t ev_head_ = 0;
  std::uint8_t ev_len_ = 0;
};

}  // namespace synack
