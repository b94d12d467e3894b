#pragma once
// Per-connection configuration. Every bound is a named value (DESIGN.md §2 "Bounded
// everything"); defaults are documented in docs/architecture.md.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "synack/tcp/congestion.hpp"
#include "synack/util/time.hpp"

namespace synack {

// RFC 3168 ECN, as Linux's net.ipv4.tcp_ecn: off (0), on (1: requested on our SYNs and accepted
// on a peer's), passive (2: accepted when a peer's SYN requests it, never requested).
enum class ecn_mode : std::uint8_t { off, on, passive };
[[nodiscard]] constexpr std::string_view to_string(ecn_mode m) {
  switch (m) {
    case ecn_mode::off: return "off";
    case ecn_mode::on: return "on";
    case ecn_mode::passive: return "passive";
  }
  return "?";
}

struct tcp_config {
  // Our receive MSS, announced in the MSS option of every SYN (RFC 9293 §3.7.1, SHLD-5).
  std::uint16_t mss = 1460;
  std::size_t send_buffer = 256 * 1024;
  std::size_t recv_buffer = 256 * 1024;
  // RFC 7323 window scaling: announce a shift on SYNs (clamped to 14).
  bool window_scaling = true;
  // Out-of-order reassembly (RFC 9293 §3.10.7.4 seventh step): at most this many disjoint
  // ranges are held past RCV.NXT (the bytes are bounded by the receive window); a segment that
  // would need one more is dropped and counted (rx_verdict::reassembly_full). At most 64. The
  // ranges' octets and a per-range overhead are charged to the receive buffer (reassembler::
  // charge, charge_limit); what does not fit is pruned or dropped (rx_verdict::ooo_memory).
  std::size_t max_ooo_ranges = 32;

  // Delayed ACK (RFC 9293 §3.8.6.3 SHLD-18/MUST-40, RFC 1122 §4.2.3.2, RFC 5681 §4.2): in-order
  // data is ACKed on every second segment or after `delayed_ack_timeout`, whichever is first;
  // out-of-order text, text that fills a gap, a FIN and trimmed text are ACKed at once. The
  // timeout must stay below 500 ms (MUST-40); 40 ms is Linux's minimum delayed-ACK time, short
  // enough not to stall a sender waiting on the ACK of a lone segment (Nagle).
  bool delayed_ack = true;
  duration delayed_ack_timeout = std::chrono::milliseconds(40);
  // Linux's quick-ACK mode (tcp_incr_quickack, TCP_MAX_QUICKACKS 16): this many in-order data
  // segments are ACKed at once when data first arrives, again after a silence longer than the
  // RTO, and again after text we already held arrives (our ACK was lost or late: Linux's
  // DELAYEDACKLOST), so a peer in slow start or in recovery is not held back by the delayed-ACK
  // timer. 0: off (the tools turn it on: `--quickack`, 16).
  std::uint8_t quickack = 0;

  // RFC 2018: offer SACK-permitted on our SYN (and answer it on a SYN-ACK). When both SYNs
  // carry it, ACKs report held out-of-order ranges and (RFC 2883) duplicates.
  bool sack = true;
  // RFC 7323 §3-5: offer timestamps on our SYN (and answer them on a SYN-ACK). When both SYNs
  // carry them, every segment carries TSval (a 1 ms clock from `now` plus a per-connection
  // offset) and TSecr; PAWS drops old duplicates; TSecr gives RTT samples.
  bool timestamps = true;
  // DEVIATION(RFC 7323 §5.3 R1; Linux tcp_disordered_ack): a pure duplicate ACK whose TSval
  // fails PAWS only because a later ACK overtook it on the path is processed, not dropped —
  // SEG.SEQ = RCV.NXT, SEG.ACK = SND.UNA, no data or SYN/FIN, a window no larger than SND.WND
  // (it is not applied) and a TSval at most one RTO (in 1 ms ticks) behind TS.Recent. Its SACK
  // and D-SACK blocks reach loss detection and the undo. Off: every such ACK is dropped as PAWS.
  bool paws_disordered_ack = true;

  // RFC 6298 §2: initial RTO 1 s, minimum 1 s (configurable), a maximum of 60 s.
  duration rto_initial = std::chrono::seconds(1);
  duration rto_min = std::chrono::seconds(1);
  duration rto_max = std::chrono::seconds(60);
  // RFC 8985 §7 Tail Loss Probe, with SACK: when the ACK of a flight's tail is overdue (2 x
  // SRTT, plus `tlp_delayed_ack` for a flight of one segment, the worst case of a delayed ACK:
  // WCDelAckT), send one probe — a new segment if the window allows, else the last one again —
  // so that the ACK it draws shows the loss, instead of waiting for the RTO. At most one probe
  // per flight; a loss the probe repaired reduces cwnd as fast recovery would (§7.4).
  bool tail_loss_probe = true;
  duration tlp_delayed_ack = std::chrono::milliseconds(200);
  // Linux's probe timer (tcp_schedule_loss_probe): PTO = 2 x SRTT + 2 ms (TCP_TIMEOUT_MIN at
  // HZ 1000) with no 10 ms floor; a probe due after the RTO goes at the RTO's time instead of
  // it (one timer serves both), and the RTO is armed again from the probe (RFC 8985 §7.3).
  // Off: PTO = max(2 x SRTT, 10 ms), no probe when the RTO comes first, and the RTO keeps
  // its deadline after a probe (see DEVIATION in connection::emit_segment).
  bool tlp_linux = false;
  // DEVIATION(RFC 8985 §7.2): the probe also in fast recovery and with SACKed data outstanding,
  // where the RFC (and Linux) leave a stalled ACK clock to the RTO. In recovery the flight can
  // be two segments (a retransmission and one new segment at cwnd 2-3); when both, or their
  // ACKs, are lost nothing is left to SACK and RACK cannot see the loss. The PTO is armed by
  // every segment sent in recovery; the probe (as §7.3: new data, else the last segment again)
  // draws an ACK whose SACK shows RACK what was lost. A probe sent in recovery never reduces
  // cwnd again (§7.4 is for a loss found outside recovery). Off: no probe in recovery.
  bool recovery_probe = true;
  // RFC 8985 §6 RACK, used when SACK is negotiated: each sent segment's latest transmit time
  // is recorded, and a segment is deemed lost once one sent after it was delivered (ACKed or
  // SACKed) and RACK.rtt + RACK.reo_wnd have passed since it was sent — at once on an ACK, or
  // by the RACK reorder timer. That starts fast recovery (in place of RFC 6675's DupThresh
  // duplicate ACKs and IsLost(SND.UNA)), finds lost retransmissions without an RTO, and lets
  // reordering shorter than reo_wnd (min_RTT / 4, grown by D-SACKs) pass without a spurious
  // retransmission. Off, or without SACK: RFC 6675 / RFC 5681 DupThresh as before. At most
  // `rack_segments` ranges of sequence numbers are recorded (adjacent segments sent at one
  // instant share one; the array follows the flight: allocated at the first data segment,
  // doubled as needed up to this, a grown one freed once everything is acknowledged); a full
  // record merges two adjacent entries in the same state into a coarser one (rack::coarsen,
  // judged on its newest part), so a paced flight larger than it stays tracked; only what no
  // merge makes room for is left to RFC 6675's rules and counted
  // (connection::snapshot().rack_overflows).
  bool rack = true;
  std::uint32_t rack_segments = 256;
  // What was SACKed stays SACKed across a retransmission timeout (RFC 8985 §6.3 marks only the
  // segments "not acknowledged yet" lost on RTO; Linux keeps its SACK tags in tcp_enter_loss):
  // the resend from SND.UNA skips what the receiver holds, and those octets do not count as in
  // flight while it runs. RFC 6675 §5.1 allows this "as long as robust tests for reneging are
  // present": an ACK whose cumulative ACK stops at octets SACKed before (the receiver dropped
  // them, RFC 2018 §8) expunges every SACK at once and the resend goes back to SND.UNA
  // (connection::snapshot().sack_renegings; Linux's TCPSACKReneging). Off: RFC 2018 §8's rule,
  // every SACK forgotten on a timeout.
  bool rto_keeps_sack = true;
  // DupThresh that follows reordering when RACK does not run (off, or without SACK), as
  // RFC 4653 suggests and Linux's tp->reordering does: a segment proven reordered rather than
  // lost — its original, never retransmitted, delivered (cumulatively or by SACK) by an ACK that
  // closes the hole below octets SACKed before it, or a fast recovery undone because its
  // retransmissions proved spurious (undo_spurious) — raises RFC 5681 / RFC 6675 DupThresh
  // (the duplicate ACKs that start fast retransmit, and IsLost's count) to the extent of that
  // reordering in segments, never below 3 and at most `dupthresh_max` (127, below
  // Linux's tcp_max_reordering of 300: the default 256 KiB send buffer holds about 180 full
  // segments, and a threshold a flight cannot reach leaves every loss to the RTO). Limited transmit then
  // sends a new segment on every duplicate ACK below it (RFC 4653 §3.1). A timeout puts it
  // back to 3. Counted in connection::snapshot().dupthresh_raises.
  bool adaptive_dupthresh = true;
  std::uint32_t dupthresh_max = 127;
  // RFC 9293 §3.8.3 (MUST-20/21/23): R2 thresholds, as total time since the first
  // transmission of the unacknowledged segment. SYN: at least 3 minutes (MUST-23).
  duration syn_r2 = std::chrono::seconds(180);
  duration data_r2 = std::chrono::seconds(100);
  // R1 (MUST-20, SHLD-10): when the same segment — SYN, SYN-ACK, data, FIN or a zero-window
  // probe — has been retransmitted this many times by the retransmission timer without an
  // answer, the connection tells its user (tcp_event_kind::retransmit_threshold, SHLD-9) and
  // the host passes negative advice to its IP layer (counter r1_negative_advice). RFC 1122
  // §4.2.3.5 recommends at least 3 retransmissions; Linux's tcp_retries1 is 3. 0 turns it off.
  std::uint32_t r1_retransmissions = 3;
  // The user timeout of RFC 9293 §3.9.1.1 OPEN / RFC 5482 (Linux TCP_USER_TIMEOUT): when set,
  // a connection whose sent data has gone unacknowledged — or whose queued data a zero window
  // has held back, probes answered or not — for this long is closed (close_reason::timeout).
  // Unset, answered zero-window probes keep a connection open for ever (MUST-37).
  std::optional<duration> user_timeout;
  // A zero-window holder under host memory pressure (tcp/memory_budget.hpp; sockstress,
  // issue #13 case 5): while the host's budget is above its pressure threshold, a connection
  // whose queued data a zero window has held back this long is reset (RST) and closed with
  // close_reason::timeout (ETIMEDOUT), giving its buffers back. Checked when a zero-window
  // probe is due. Without pressure MUST-37 holds: answered probes keep it open. Unset: never.
  std::optional<duration> zero_window_timeout = std::chrono::seconds(60);
  // RFC 1191 §6.3 / RFC 8201 §4: after Fragmentation Needed lowered the send MSS, the full MSS
  // is tried again this long after the last reduction (10 minutes, the recommended value;
  // RFC 8201 forbids less than 5). A path still too small answers with another reduction.
  duration pmtu_raise_after = std::chrono::minutes(10);
  // The lowest path MTU a Fragmentation Needed may set (Linux's ip_rt_min_pmtu, 552): RFC 1191
  // allows 68, but one forged ICMP quoting a connection would then make it send 28-octet
  // segments (security-catalogue: PMTU attacks, RFC 5927 §7). Never below 68.
  std::uint16_t min_pmtu = 552;
  // The same for IPv6 Packet Too Big (RFC 8201 §4: never below the IPv6 minimum link MTU,
  // 1280, which is also the floor this may be set to).
  std::uint16_t min_pmtu_v6 = 1280;

  // Maximum segment lifetime; TIME-WAIT lasts exactly 2 x MSL (RFC 9293 §3.4.2). The default
  // 30 s gives Linux's 60 s TIME-WAIT; RFC 9293 suggests 2 minutes, set it for that.
  duration msl = std::chrono::seconds(30);
  // For demos and tests only (`synack demo --why time-wait`): false skips TIME-WAIT — the
  // connection sends its last ACK and is gone 1 us later — to show what TIME-WAIT protects
  // against. Never turn it off on a real host.
  bool time_wait = true;
  // An orphaned (closed by the user) connection in FIN-WAIT-2 is dropped after this long, as
  // Linux's tcp_fin_timeout does; otherwise a silent peer would hold it forever.
  duration fin_wait_2_timeout = std::chrono::seconds(60);

  // RFC 9293 §3.8.4 keep-alives (MAY-5): per connection, on or off (MUST-24), off by default
  // (MUST-25). When on, a connection in ESTABLISHED, CLOSE-WAIT or FIN-WAIT-2 with nothing
  // unacknowledged and nothing unsent (MUST-26) that has received no segment for
  // `keepalive_idle` (configurable, MUST-27; two hours by default, never less, MUST-28) sends
  // a dataless probe (SHLD-12), then one every `keepalive_interval` while none is answered;
  // one unanswered probe is not a dead peer (MUST-29): only `keepalive_count` of them close
  // the connection (close_reason::timeout). The interval and count are Linux's
  // tcp_keepalive_intvl and tcp_keepalive_probes defaults.
  bool keepalive = false;
  duration keepalive_idle = std::chrono::seconds(7200);
  duration keepalive_interval = std::chrono::seconds(75);
  std::uint32_t keepalive_count = 9;

  // RFC 5961 §7: challenge ACKs are rate-limited per connection (never globally, which is
  // CVE-2016-5696): at most `challenge_ack_limit` per `challenge_ack_window`.
  std::uint32_t challenge_ack_limit = 10;
  duration challenge_ack_window = std::chrono::seconds(1);

  // RFC 5961 §3 (RST) and §4 (SYN) in the synchronized states, as RFC 9293 §3.10.7.4
  // recommends: an RST not exactly at RCV.NXT and any SYN get a challenge ACK. Turning one off
  // selects the RFC's older rule (RFC 793 §3.9, before RFC 5961), opt-in like FreeBSD's
  // net.inet.tcp.insecure_rst / insecure_syn = 1: rfc5961_rst = false resets on an RST
  // anywhere in the receive window; rfc5961_syn = false answers a SYN in the window with
  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> and closes (a SYN outside it is still ACKed).
  bool rfc5961_rst = true;
  bool rfc5961_syn = true;

  // RFC 1337: ignore RST in TIME-WAIT (TIME-WAIT assassination hazards).
  bool rfc1337 = true;

  // RFC 9293 §3.6.1 (MAY-2): a SYN may reopen a connection from TIME-WAIT (with RFC 6191's
  // timestamp rule, or RFC 1122's sequence rule without timestamps), as Linux and FreeBSD do.
  // Off, a SYN in TIME-WAIT is answered as in the other synchronized states (§3.10.7.4
  // fourth: the RFC 5961 §4 challenge ACK, or RFC 793's reset with rfc5961_syn off).
  bool time_wait_reopen = true;

  // A SYN that also carries FIN, in LISTEN or SYN-SENT: dropped (as Linux, and FreeBSD's
  // net.inet.tcp.drop_synfin = 1), or, when false, processed as the SYN it is (RFC 9293
  // §3.10.7.2 / §3.10.7.3 have no rule for the pair). The FIN is then not acknowledged (like
  // text on a SYN in LISTEN it is not queued): the peer sends it again once synchronized.
  bool drop_syn_fin = true;

  // Congestion control (RFC 5681, RFC 6582, RFC 3042; RFC 9438 CUBIC by default), chosen per
  // connection.
  congestion_kind congestion = default_congestion_kind;
  // RFC 6937 / RFC 9937 Proportional Rate Reduction: during fast recovery each ACK lets out
  // ssthresh/RecoverFS of what it delivered (one segment per two ACKs with Reno's halving),
  // and after heavy loss no more than slow start would (PRR-SSRB), instead of RFC 6675's
  // cwnd - pipe (a pause, then a burst) or NewReno's inflation. Fixed at the handshake.
  // Off by default for now: without RACK's time-based loss detection, sending less during
  // recovery leaves later losses to the RTO, and over TUN against the kernel (interop.impair,
  // 5% loss + reordering + duplication) the synack sender took 26.5 s for 16 MiB with it and
  // 11.4 s without (docs/performance.md). With RACK (below) on, it still made the simulator's
  // lossy transfers slower over 40 seeds (up to 1.9x at 20 % loss, docs/performance.md "RACK"),
  // so it stays off.
  bool prr = false;
  // RFC 9406 HyStart++: the initial slow start watches each round's minimum RTT and, when it
  // rises (a queue building at the bottleneck), grows a quarter as fast (Conservative Slow
  // Start) and then hands over to congestion avoidance before the queue overflows. RTT samples
  // come from timestamps (one per ACK) or the timed segment. Fixed at the handshake.
  bool hystart = true;
  // Undo of spurious retransmissions: when every retransmission of a fast recovery or a
  // timeout proves unnecessary — D-SACK reports each as a duplicate (RFC 2883, RFC 3708), or
  // the ACK of the first echoes a timestamp older than it (Eifel, RFC 3522) — cwnd and
  // ssthresh go back to their values before the reduction (RFC 4015), counted in
  // connection::spurious_undos(). After a spurious timeout sending resumes with new data.
  bool undo_spurious = true;
  // Pacing: data segments (new data and retransmissions; not a loss probe) leave no faster
  // than the pacing rate, max(cwnd, flight) / RTT x 2 while cwnd is below half of ssthresh
  // (slow start doubles it each round) and x 1.2 after, Linux's ratios, the RTT RACK's smoothed
  // over every ACK (connection::pacing_rate()). A burst
  // of up to 1 ms at that rate (at least two segments) goes at once, then the pacing timer
  // (timer_kind::pacing) holds the next until the rate allows it: no busy loop, nothing sent
  // early. No pacing before the first RTT sample, and none once RACK has seen the path
  // reorder (rack::reordering_seen): a paced window is then released slower than RACK's
  // reordering window lets its ACKs return (the recovery matrix's 25 % / 30 ms column lost
  // 8-11 of 45 cells to unpaced without this rule, none with it). Spreading a window over the
  // round trip keeps a bottleneck's queue from overflowing on a burst (docs/performance.md
  // "Pacing under reordering"; a 64 KiB queue at 1 Gbit/s: up to 1.98 x the goodput). On by
  // default, as issue #12 asks; exact-segment tests of bursts set it off, and the packetdrill
  // plug-in does too (Linux paces CUBIC only under the fq qdisc or SO_MAX_PACING_RATE).
  bool pacing = true;
  // RFC 5682 F-RTO (Linux's tcp_frto, on by default there too): after a timeout that starts no
  // recovery of its own (none in progress), the first segment goes again as before; if the
  // ACK that follows covers it but not everything sent, two new segments go instead of more
  // retransmissions, and if the next ACK then acknowledges more data never retransmitted (or,
  // with SACK, §3.1, SACKs some below what was sent before them), the timeout was spurious:
  // undone as above (undo_spurious) and counted in connection::frto_spurious(), sending goes on
  // with new data. Otherwise (a duplicate ACK) go-back-N and slow start as without it. With
  // timestamps Eifel decides on the first ACK (undo_spurious), and F-RTO steps aside.
  bool frto = true;
  // The initial window: RFC 5681 §3.1 (2 to 4 segments) or RFC 6928 (about 10, as Linux).
  initial_window_rule initial_window = initial_window_rule::rfc5681;
  // Nagle's algorithm (RFC 9293 §3.7.4, SHLD-7) is on unless `no_delay` (TCP_NODELAY, MUST-17).
  bool no_delay = false;
  // Minshall's variant of Nagle (draft-minshall-nagle, Linux's tcp_minshall_check): a
  // segment shorter than the MSS waits only while an earlier short segment is unacknowledged,
  // not while any data is — so the tail of a large write leaves with it.
  bool nagle_minshall = false;
  // Linux's window update after a read (tcp_cleanup_rbuf): besides receiver SWS avoidance,
  // the read must have at least doubled a window that had fallen to half the buffer or less.
  // A reader that keeps up with a large buffer then sends no window-only ACKs; RFC 9293's rule
  // alone (off: the default) announces every MSS the read frees.
  bool window_update_linux = false;
  // Linux's active reset (tcp_send_active_reset): the RST of an abort (close with unread
  // data, SO_LINGER 0), a zero-window give-up or dead keep-alive also carries ACK = RCV.NXT and,
  // with timestamps on, TSopt (RFC 7323 §3.2's SHOULD). Off: RFC 9293 §3.10.5's
  // <SEQ=SND.NXT><CTL=RST>.
  bool active_reset_linux = false;
  // Linux's reset (tcp_reset, tcp_done): the peer's RST leaves what was received and not yet
  // read readable (a read returns it, then the error), and a child reset in the accept queue
  // stays there, CLOSED, for accept() to return (Linux never unlinks it). Off: RFC 9293
  // §3.10.7.4's "All segment queues should be flushed", and the listener forgets the child.
  bool reset_keeps_received_linux = false;
  // Linux's PSH placement as packetdrill sees it: besides the push point (the end of the last
  // write without MSG_MORE, MUST-61), PSH on the last segment of new data a burst sends — where
  // the window, cwnd or the data stop it — and on the last of every TSO packet Linux would cut
  // the burst into (tcp_tso_autosize: about 1 ms at its pacing rate, at least 2 segments;
  // connection::linux_tso_segs), unless that segment is a loss probe, is sent on duplicate
  // ACKs (limited transmit, recovery) or ends among MSG_MORE's bytes. Off: PSH on the push
  // point only.
  bool psh_burst_linux = false;
  // Linux's TCP_CORK: a segment shorter than the MSS is held (whatever `no_delay` says) until
  // the cork is removed, a FIN follows it, connection::push() lets it go, or the persist
  // timer's SWS override fires (about an RTO: Linux's 200 ms ceiling is its probe timer).
  bool cork = false;
  // RFC 3168 Explicit Congestion Notification (ecn_mode above; Linux's default, passive).
  // Negotiated on the SYNs (§6.1.1: an ECN-setup SYN carries ECE and CWR, its SYN-ACK ECE
  // alone; a SYN-cookie connection goes without, see docs/architecture.md). Once on, new data
  // leaves as ECT(0) (retransmissions, pure ACKs, window probes and the SYNs as Not-ECT:
  // tcp_transmit::ect), a CE mark received is echoed with ECE on every ACK until a CWR comes
  // (§6.1.3), and an ECE received reduces cwnd as a loss would, at most once per window of
  // data and not during fast recovery, with CWR on the next new segment (§6.1.2).
  ecn_mode ecn = ecn_mode::passive;
  // The IPv4 TOS octet (DSCP and ECN fields) of this connection's packets (IP_TOS), or the
  // IPv6 Traffic Class. Its ECN field is the stack's, as on Linux's stream sockets: ECT(0) on
  // the segments tcp_transmit::ect names, Not-ECT on the rest.
  std::uint8_t tos = 0;
  // Segmentation offload (TSO; the host sets it from host_config::tso_max, 0 = off): new data
  // in order may leave as one super-segment of up to this many payload octets, made of whole
  // segments of the send MSS less options, which the link cuts apart (connection::
  // tx_gso_size()). Retransmissions, urgent data, probes, SACK recovery and the runt Nagle
  // holds back still go as single segments of at most one MSS.
  std::uint32_t tso_max = 0;

  // RFC 7413 TCP Fast Open (tcp/fast_open.hpp). Server, on a listener: SYNs with a valid cookie
  // have their data taken and the connection queued for accept at once, while at most this
  // many such connections are still in SYN-RECEIVED (§5.1's max_qlen, Linux's TCP_FASTOPEN
  // queue length); beyond it a SYN is answered as an ordinary one. 0: off.
  std::uint32_t fast_open_qlen = 0;
  // The listener's cookie key (TCP_FASTOPEN_KEY; SipHash-2-4's 128 bits, Linux's layout); none:
  // the host's own (host_config::fast_open_key).
  std::optional<std::array<std::uint64_t, 2>> fast_open_key;
  // Fast Open without cookies (Linux's TFO_SERVER_COOKIE_NOT_REQD and TFO_CLIENT_NO_COOKIE,
  // TCP_FASTOPEN_NO_COOKIE). On a listener with a fast_open_qlen: a SYN that carries data or
  // any TFO option opens a Fast Open child with no cookie checked (the queue's bound and the
  // counters as for a valid cookie; a request is counted but gets no cookie, nor does the
  // SYN-ACK carry one). On a connection opened with Fast Open: the SYN carries data without a
  // TFO option, cookie cached or not, and a cookie in the SYN-ACK, unasked for, is not cached.
  // What it gives up: RFC 7413 §4.1's cookie proves the client owns its source address, so
  // that SYN data from spoofed sources is not processed (§5.2, reflection; §5.1, SYN floods
  // with data). Off by default; for networks whose clients are trusted (a data centre) or
  // whose first flight authenticates itself.
  bool fast_open_no_cookie = false;

  friend bool operator==(const tcp_config&, const tcp_config&) = default;
};

}  // namespace synack
