#pragma once
// One host: IPv4 and IPv6 input validation, demux by 4-tuple, listeners with a bounded SYN
// queue (half-open, SYN-RECEIVED) and a bounded accept queue, ephemeral ports (RFC 6056), the
// TIME-WAIT table of compact records, ICMP echo, UDP datagrams (and the ICMP errors quoting
// them) to handlers, any-address termination (a proxy's mode), counters and a connection-table
// snapshot.
//
// Calling contract (sans-IO, like tcp::connection):
//   inputs    on_packet(now, ip_packet), on_timeout(now) when now >= next_deadline()
//   commands  listen, listen_any, connect, accept, send, recv (or in place: send_reserve +
//             send_commit, recv_view + recv_consume), shutdown, close, abort;
//             bind_udp, bind_udp_any, connect_udp, send_udp, close_udp
//   polls     poll_transmit(now, out) until nullopt after every input or command;
//             next_deadline(); poll_event().
// `out` for poll_transmit must hold at least max_packet_len() bytes. The host never reads a
// clock, never makes a syscall, and allocates only when a connection or listener is created.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "synack/stack/counters.hpp"
#include "synack/tcp/connection.hpp"
#include "synack/tcp/isn.hpp"
#include "synack/tcp/time_wait.hpp"
#include "synack/util/result.hpp"
#include "synack/util/siphash.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/offload.hpp"

namespace synack {

// SYN cookies (RFC 4987 §3.6), as Linux's net.ipv4.tcp_syncookies: 0 off, 1 when a
// listener's SYN queue is full (the default), 2 for every SYN.
enum class syncookies_mode : std::uint8_t { off, on_overflow, always };

// One more address of this host, with the length of its link's prefix (0: unknown).
struct host_address {
  ip_addr addr;
  std::uint8_t prefix_len = 0;
  friend bool operator==(const host_address&, const host_address&) = default;
};

// Which families a listener takes: both (a dual-stack listener; IPv4 peers keep their IPv4
// addresses in the 4-tuple), or one.
enum class listen_family : std::uint8_t { any, v4, v6 };

// Any-address termination (issue #15; what smoltcp calls any_ip and gVisor promiscuous mode):
// a listener or UDP binding that takes packets to destinations that are NOT this host's
// addresses, as a transparent proxy over TUN needs. The connection or datagram keeps the
// original destination as its local side: segments and replies leave with it as their source.
// The host's own addresses keep their ordinary listeners and bindings (a closed port there is
// answered as always, never handed to the any-address one); a destination that is multicast,
// broadcast, loopback, unspecified, class E or v4-mapped is never taken.
//
// `filter` sees the 4-tuple with the original destination as its local side (empty: every
// destination); `port` 0 takes every port. A destination refused by either is answered as a
// closed port would be: RST for TCP, ICMP port unreachable for UDP.
using any_address_filter = std::function<bool(const four_tuple&)>;
//
// Deferred answers (`defer_syn`): a SYN the listener takes is held unanswered, and the
// application decides what the original destination would have said, as a proxy can only know
// once its own connect upstream has succeeded or failed. The host queues a
// host_event::kind::syn_pending with a syn_handle (pending_syn() tells its 4-tuple and the SYN's
// options); the application answers with accept_syn (the SYN-ACK goes, the handshake goes on
// as for any SYN, the connection reaches the accept queue) or refuse_syn (a RST|ACK as a closed
// port sends, or an ICMP destination unreachable quoting the SYN, from the original
// destination). Retransmissions of a held SYN are absorbed (one entry, one event). At most
// `max_pending_syns` are held per listener: beyond it a SYN is dropped and counted — neither a
// cookie nor a SYN-ACK, which would answer for a destination nobody asked yet (the client
// retransmits, and gets its turn when room is back); memory stays bounded under a flood. With
// `evict_oldest_syn` the oldest held SYN is forgotten instead and the new one held (counted as
// an overflow too; the application's handle of the forgotten one goes stale, pending_syn()
// says nullopt): a flood of SYNs whose answers never come (a proxy's connects to addresses that
// never answer) then cycles through the set instead of filling it until they time out, so a SYN
// whose answer comes sooner than the set turns over is still served. A
// held SYN nobody answers within `pending_syn_timeout` is forgotten silently (counted; a later
// retransmission is a new pending SYN). A SYN that reopens a TIME-WAIT 4-tuple is not held
// (its ISS floor needs the TCB at once). Counters: host_counters::syn_deferred*.
struct any_address_options {
  listen_family family = listen_family::any;
  std::uint16_t port = 0;
  any_address_filter filter;
  bool defer_syn = false;
  std::size_t max_pending_syns = 1024;
  duration pending_syn_timeout = std::chrono::seconds(30);
  bool evict_oldest_syn = false;
};

// A SYN held for the application's decision (any_address_options::defer_syn).
struct syn_handle {
  std::uint32_t index = 0;
  std::uint32_t gen = 0;
  friend bool operator==(syn_handle, syn_handle) = default;
};
struct pending_syn_info {
  four_tuple tuple;  // local: the original destination; remote: the client
  seq_num seq;       // the SYN's (latest, if it was retransmitted with another ISN)
  tcp_options options;  // as the SYN carried them (unknown options left out)
  instant arrived;
};
// How a held SYN is refused: as a closed port (RST|ACK, RFC 9293 §3.10.7.1), or with the ICMP
// destination unreachable a router would send (RFC 792 / RFC 1812 §5.2.7.1 type 3 codes 1, 0,
// 13, 3; RFC 4443 §3.1 type 1 codes 3, 0, 1, 4).
enum class syn_refusal : std::uint8_t { reset, host_unreachable, net_unreachable, admin_prohibited, port_unreachable };

// A UDP address and port.
struct udp_endpoint {
  ip_addr addr;
  std::uint16_t port = 0;
  friend bool operator==(const udp_endpoint&, const udp_endpoint&) = default;
};

struct host_config {
  // The host's IPv4 address (0.0.0.0: none; an IPv6-only host).
  ipv4_addr addr;
  // The prefix length of the link's subnet (10.77.0.2/24: 24), so that a source that is the
  // subnet's directed broadcast is dropped as a martian. 0: unknown, not checked.
  std::uint8_t prefix_len = 0;
  // More addresses, of either family: every IPv6 address (a global and a link-local one, say)
  // and further IPv4 ones. Packets to any of them are taken; connect() picks the source of
  // the remote's family (host::source_for).
  std::vector<host_address> addresses;
  tcp_config tcp;
  // The interface index of the host's one link: the scope of its link-local addresses, which
  // an AF_INET6 socket reports as sin6_scope_id (posix/). The TUN driver sets the device's
  // index; an in-memory host keeps 1.
  std::uint32_t link_index = 1;
  std::uint16_t mtu = 1500;
  std::uint8_t ttl = 64;
  // Half-open connections per listener (SYN-RECEIVED); a SYN beyond it is dropped.
  std::size_t syn_backlog = 256;
  std::size_t max_connections = 1 << 20;
  std::size_t time_wait_max = 1 << 18;  // oldest record recycled beyond this
  // RFC 6056 / Linux default ephemeral range.
  std::uint16_t ephemeral_first = 32768;
  std::uint16_t ephemeral_last = 60999;
  // Keys ISNs (RFC 6528) and ephemeral ports (RFC 6056 algorithm 3). The runtime fills it from
  // the OS CSPRNG; the simulator derives it from its seed.
  siphash_key secret{0x736e61636b2d6b30ULL, 0x736e61636b2d6b31ULL};
  // When a listener answers a SYN with a stateless cookie SYN-ACK instead of a half-open TCB
  // (keyed by `secret` too). A SYN the SYN queue cannot take is dropped when off.
  syncookies_mode syncookies = syncookies_mode::on_overflow;
  // Segmentation offload (TSO): when the link cuts super-segments itself (a TUN device with
  // TUN_F_TSO4), the largest TCP payload of one, at most max_tso_payload; 0 (the default) is
  // off and every segment fits the MSS. Every connection's tcp_config::tso_max is set from it.
  // With it on, drive the host through poll_transmit(now, out, meta) and hand `meta` to the
  // link: a super-segment carries only a partial checksum (tx_meta).
  std::uint32_t tso_max = 0;
  // The host-wide buffer memory budget (tcp/memory_budget.hpp, like Linux's tcp_mem): what
  // every connection's rings and out-of-order blocks hold allocated, against three thresholds.
  // Sized for a userspace host serving a few hundred busy connections (each can hold 2 x
  // 256 KiB): pressure from 64 MiB until back under 48 MiB, nothing new beyond 96 MiB. Zero
  // limits turn it off (tests, benchmarks of one connection).
  memory_limits memory{48u << 20, 64u << 20, 96u << 20};
  // Orphans (closed by their user, still finishing: FIN-WAIT, CLOSING, LAST-ACK with data
  // queued) at most; one more is reset at close (Linux's tcp_max_orphans, whose default on a
  // machine of a few GiB is 65536).
  std::size_t max_orphans = 65536;
  // RFC 7413 TCP Fast Open: servers whose cookie and MSS the client remembers (LRU beyond it;
  // stack/fast_open_cache.hpp), and the key of the cookies this host's listeners give
  // (tcp_config::fast_open_key overrides it per listener; none: derived from `secret`).
  std::size_t fast_open_cache_size = 1024;
  std::optional<std::array<std::uint64_t, 2>> fast_open_key;
  // UDP datagrams queued by send_udp and not yet taken by poll_transmit; one more is refused
  // (host_error::no_buffer_space, ENOBUFS). Each queued one holds an MTU-sized buffer.
  std::size_t udp_tx_queue = 64;
};

// The budget as `synack stat` shows it.
struct host_memory {
  std::size_t allocated = 0;  // bytes of buffer storage the connections hold now
  std::size_t peak = 0;       // the most they held
  memory_level level = memory_level::normal;
  memory_limits limits;
  std::size_t orphans = 0;
  std::size_t max_orphans = 0;
};
// The largest super-segment payload: an IPv4 datagram of 65535 octets with a 60-octet TCP header.
// (IPv6 connections do not use segmentation offload: the links' TSO is IPv4's.)
inline constexpr std::uint32_t max_tso_payload = 65535 - 20 - 60;

// Operator notices (the host cannot print; whoever drives it does): e.g. "possible SYN
// flooding on port 80; sending cookies", at most once per listener per minute of `now`.
class host_log {
 public:
  virtual ~host_log() = default;
  virtual void on_log(instant now, std::string_view line) = 0;
};

// Handles carry a generation so a stale handle is detected, never aliased.
struct conn_handle {
  std::uint32_t index = 0;
  std::uint32_t gen = 0;
  friend bool operator==(conn_handle, conn_handle) = default;
};
struct listener_handle {
  std::uint32_t index = 0;
  std::uint32_t gen = 0;
  friend bool operator==(listener_handle, listener_handle) = default;
};
struct udp_handle {
  std::uint32_t index = 0;
  std::uint32_t gen = 0;
  friend bool operator==(udp_handle, udp_handle) = default;
};

// One UDP datagram delivered to its handler.
struct udp_datagram {
  udp_handle socket;  // the binding it was delivered to
  // The local side is the destination the peer sent to: one of this host's addresses, or the
  // original destination under any-address (reply with it as the source: send_udp(src, ...)).
  four_tuple tuple;
  bytes payload;  // points into the packet being processed: valid during on_datagram only
};

// An ICMP error (destination unreachable, time exceeded; ICMPv6's as their IPv4 equivalents,
// icmp_report_from_v6) quoting a datagram a binding sent: delivered to the binding a reply
// from the quoted destination would reach (udp_lookup's order), as Linux's __udp4_lib_err
// finds its socket.
struct udp_error {
  udp_handle socket;
  four_tuple tuple;  // local: the quoted source; remote: the quoted destination
  icmp_report report;
};

// Receives the datagrams of the bindings it was given to (never owned). Called from inside
// on_packet; it may call the host's UDP commands (send_udp queues, close_udp releases), but no
// TCP command.
class udp_handler {
 public:
  virtual ~udp_handler() = default;
  virtual void on_datagram(instant now, const udp_datagram& d) = 0;
  // ICMP errors about its datagrams (ignored unless overridden; posix/ turns them into SO_ERROR).
  virtual void on_error(instant /*now*/, const udp_error& /*e*/) {}
};

enum class host_error : std::uint8_t {
  bad_handle,         // unknown or stale handle
  address_in_use,     // port already listening, or 4-tuple in use
  no_ephemeral_port,  // every port of the range is taken for this destination
  too_many_connections,
  invalid_argument,   // port 0, unspecified remote address, backlog 0 ...
  would_block,        // accept with nothing queued
  network_unreachable,  // no address of the remote's family on this host (ENETUNREACH)
  message_too_long,     // a datagram larger than the MTU allows (no fragmentation; EMSGSIZE)
  no_buffer_space,      // the UDP transmit queue is full until the next poll (ENOBUFS)
  address_not_available,  // a source that is neither ours nor taken by any-address (EADDRNOTAVAIL)
};
[[nodiscard]] std::string_view to_string(host_error e);

struct host_event {
  enum class kind : std::uint8_t { connection, accept_ready, syn_pending } what = kind::connection;
  conn_handle conn;          // for kind::connection
  listener_handle listener;  // for kind::accept_ready and kind::syn_pending
  tcp_event ev;
  syn_handle syn;            // for kind::syn_pending (any_address_options::defer_syn)
};

// What the user of a connection can do now: readiness as data (DESIGN: the host reports it,
// drivers never read the TCB). `writable()` is the one rule for "writable" that the event loop
// and posix/ poll share.
struct conn_status {
  tcp_state state = tcp_state::closed;
  four_tuple tuple;
  std::size_t readable = 0;     // bytes recv() returns now
  bool eof = false;             // the peer's FIN came: recv() returns 0 once `readable` is 0
  std::size_t send_free = 0;    // bytes send() takes now
  std::size_t send_queued = 0;  // bytes sent but unacknowledged, or not sent yet
  std::size_t notsent = 0;      // of those, not sent yet (Linux's write_seq - snd_nxt)
  close_reason reason = close_reason::none;  // why it ended (state CLOSED or TIME-WAIT)
  std::optional<icmp_report> hard_error;
  std::optional<icmp_report> soft_error;
  // The most payload one segment carries now: the send MSS less the timestamp option when
  // timestamps are on (Linux's mss_cache, TCP_MAXSEG).
  std::uint16_t mss_cache = 0;
  // Linux's sk_stream_is_writeable(): free space of at least half of what is queued, so a
  // writer woken for space finds a useful amount.
  [[nodiscard]] bool writable() const { return send_free > 0 && send_free >= send_queued / 2; }
  // The connection is over for its user (CLOSED, or TIME-WAIT: only the record is left).
  [[nodiscard]] bool ended() const { return state == tcp_state::closed || state == tcp_state::time_wait; }
};

// A connection's internals, what `ss -ti` shows and TCP_INFO reports: RTT, RTO, windows,
// congestion control and byte counts. Byte counts come from sequence numbers past the SYNs
// (they wrap at 4 GiB, as Linux's 32-bit ones would without its 64-bit counters).
struct tcp_internals {
  std::optional<duration> srtt;   // none before the first RTT sample
  duration rttvar{0};
  duration rto{0};
  std::uint32_t mss = 0;          // payload per full segment (mss_cache: less the timestamps)
  std::uint32_t advmss = 0;       // the MSS this end announced
  std::uint32_t cwnd = 0;         // bytes
  std::uint32_t ssthresh = 0;     // bytes; infinite_ssthresh before the first loss
  std::uint32_t flight = 0;       // bytes sent and not acknowledged (SND.MAX - SND.UNA)
  std::uint32_t sacked = 0;       // of those, bytes the SACK scoreboard holds as SACKed
  std::uint32_t snd_wnd = 0;      // the peer's window, bytes
  std::uint32_t rcv_wnd = 0;      // the window we offer, bytes
  std::uint8_t snd_wscale = 0;    // shift the peer applies to its window field
  std::uint8_t rcv_wscale = 0;    // shift we apply to ours
  bool wscale_ok = false;
  bool timestamps = false;
  bool sack = false;
  congestion_kind congestion = default_congestion_kind;
  std::optional<bbr_summary> bbr;  // BBR's mode, BtlBw, RTprop and gains (congestion_kind::bbr)
  bool in_recovery = false;
  std::uint32_t dup_acks = 0;
  std::uint32_t rto_streak = 0;   // timer retransmissions of the oldest unacked segment
  std::uint64_t retransmissions = 0;
  std::uint64_t fast_retransmits = 0;  // recovery episodes begun on duplicate ACKs / RACK
  std::uint64_t timeouts = 0;          // retransmission timer expiries (Linux's tcpi_total_rto)
  std::uint64_t spurious_undos = 0;  // reductions undone (RFC 3708 D-SACK, RFC 3522 Eifel)
  std::uint64_t loss_probes = 0;       // Tail Loss Probes sent (RFC 8985 §7.3)
  std::uint64_t probe_recoveries = 0;  // probes that repaired a tail loss (RFC 8985 §7.4)
  std::uint64_t rack_losses = 0;          // segments RACK marked lost (RFC 8985 §6)
  std::uint64_t reo_wnd_adaptations = 0;  // RACK.reo_wnd_mult increments on D-SACK (§6.2 step 4)
  std::uint64_t pacing_rate = 0;  // octets per second data leaves at (tcp_config::pacing); 0: not pacing
  std::uint64_t frto_spurious = 0;        // timeouts F-RTO found spurious (RFC 5682)
  std::uint32_t dupthresh = 3;            // DupThresh now (tcp_config::adaptive_dupthresh)
  bool ecn = false;                       // RFC 3168 ECN negotiated (TCPI_OPT_ECN)
  std::uint64_t ecn_ce_received = 0;      // CE-marked data segments received (§6.1.3)
  std::uint64_t ecn_ece_received = 0;     // ACKs with ECE received
  std::uint64_t ecn_reductions = 0;       // cwnd reductions by ECE (§6.1.2)
  bool syn_data = false;          // RFC 7413: the SYN's data was taken (TCPI_OPT_SYN_DATA)
  bool fast_open_child = false;   // made by a SYN with a valid Fast Open cookie
  std::uint64_t bytes_sent = 0;      // SND.MAX past the SYN
  std::uint64_t bytes_acked = 0;     // SND.UNA past the SYN
  std::uint64_t bytes_received = 0;  // RCV.NXT past the SYN
  std::size_t notsent = 0;           // queued, not sent yet
  std::size_t ooo_ranges = 0;        // held out of order by the reassembler
  std::uint64_t ooo_bytes = 0;
  static constexpr std::uint32_t infinite_ssthresh = 0x7fffffff;
};

// One row of the connection table (tools: `synack stat`).
struct socket_info {
  tcp_state state = tcp_state::closed;
  four_tuple tuple;
  std::size_t send_queue = 0;
  std::size_t recv_queue = 0;
  std::optional<timer_kind> timer;
  std::optional<instant> deadline;
  bool time_wait_record = false;  // a compact TIME-WAIT record, not a full TCB
  bool orphan = false;            // closed by the user, finishing on its own
  std::optional<tcp_internals> internals;  // TCBs only (not listeners or TIME-WAIT records)
  // Listeners only.
  std::size_t syn_queue = 0;
  std::size_t accept_queue = 0;
  std::size_t backlog = 0;
  std::size_t syn_backlog = 0;          // the SYN queue's bound (host_config::syn_backlog)
  std::uint64_t cookies_sent = 0;       // cookie SYN-ACKs sent for this listener
  std::uint64_t cookies_recv = 0;       // valid cookie ACKs (connections made from cookies)
  std::uint64_t syn_drops = 0;          // SYNs dropped: SYN or accept queue full
};

class host {
 public:
  explicit host(const host_config& cfg);
  ~host();
  host(const host&) = delete;
  host& operator=(const host&) = delete;

  // ---- commands --------------------------------------------------------------------------
  result<listener_handle, host_error> listen(std::uint16_t port, std::size_t backlog);
  // With the options every accepted connection gets (a socket's setsockopt before listen).
  result<listener_handle, host_error> listen(std::uint16_t port, std::size_t backlog, const tcp_config& cfg);
  // Of one family only, or both (what the other overloads do). A port may have one IPv4 and one
  // IPv6 listener, or one of both families.
  result<listener_handle, host_error> listen(std::uint16_t port, std::size_t backlog, const tcp_config& cfg,
                                             listen_family family);
  // An any-address listener (any_address_options above); at most one per family, and
  // address_in_use for a second. Its connections are accepted like any other; their
  // status().tuple.local_addr/local_port is the original destination.
  result<listener_handle, host_error> listen_any(std::size_t backlog, const any_address_options& opts);
  result<listener_handle, host_error> listen_any(std::size_t backlog, const tcp_config& cfg,
                                                 const any_address_options& opts);
  void close_listener(instant now, listener_handle l);
  result<conn_handle, host_error> accept(listener_handle l);
  // Held SYNs (any_address_options::defer_syn; host_defer.cpp). A stale handle (answered,
  // expired, its listener closed): nullopt / bad_handle. accept_syn answers with the SYN-ACK
  // (too_many_connections and the SYN forgotten when the listener's queues are full now);
  // refuse_syn with the refusal.
  [[nodiscard]] std::optional<pending_syn_info> pending_syn(syn_handle s) const;
  result<void, host_error> accept_syn(instant now, syn_handle s);
  result<void, host_error> refuse_syn(instant now, syn_handle s, syn_refusal why);
  // RFC 7413 client (host_fastopen.cpp): connect() whose SYN carries the cookie cached for
  // `remote` and the first data sent (tcp/fast_open.hpp), or a cookie request when none is
  // cached. With `defer` and a cookie cached, the SYN waits for the first send()
  // (TCP_FASTOPEN_CONNECT).
  result<conn_handle, host_error> connect_fast_open(instant now, const ip_addr& remote, std::uint16_t port,
                                                    std::optional<std::uint16_t> local_port, const tcp_config& cfg,
                                                    bool defer);
  // Whether a cookie for `remote` is cached; forgets them all (Linux's `ip tcp_metrics flush`).
  [[nodiscard]] bool fast_open_cookie_cached(const ip_addr& remote) const;
  void forget_fast_open_cookies();
  // Active open from an ephemeral port (or `local_port` if given).
  // An IPv6 remote needs an IPv6 address of this host (network_unreachable otherwise).
  result<conn_handle, host_error> connect(instant now, const ip_addr& remote, std::uint16_t port,
                                          std::optional<std::uint16_t> local_port = std::nullopt);
  // With this connection's own options instead of host_config::tcp.
  result<conn_handle, host_error> connect(instant now, const ip_addr& remote, std::uint16_t port,
                                          std::optional<std::uint16_t> local_port, const tcp_config& cfg);
  result<std::size_t, tcp_error> send(conn_handle h, bytes data);
  // With `urgent`, the bytes are urgent data (connection::send_urgent; MSG_OOB).
  result<std::size_t, tcp_error> send(conn_handle h, bytes data, bool urgent);
  // With MSG_OOB's and MSG_MORE's meaning (send_flags).
  result<std::size_t, tcp_error> send(conn_handle h, bytes data, send_flags flags);
  result<std::size_t, tcp_error> recv(conn_handle h, mutable_bytes out);
  // Zero-copy receive and send (connection::recv_view, recv_consume, send_reserve,
  // send_commit): the receive buffer's unread bytes in place, and free send buffer to fill in
  // place, so that a relay moves bytes between a connection and a kernel socket with one copy
  // (readv, writev). recv_consume and send_commit do what recv and send do for the host (the
  // window update or data queued for transmission, the memory level). The spans stay valid
  // until any other call on the host (a reservation: until its send_commit, which must come
  // first, with 0 if nothing was written); a handle that is not the user's: not_connected.
  [[nodiscard]] result<ring_view, tcp_error> recv_view(conn_handle h) const;
  result<void, tcp_error> recv_consume(conn_handle h, std::size_t n);
  [[nodiscard]] result<ring_space, tcp_error> send_reserve(conn_handle h, std::size_t max);
  result<void, tcp_error> send_commit(conn_handle h, std::size_t n, send_flags flags = {});
  result<void, tcp_error> shutdown(instant now, conn_handle h);
  // Releases the handle: the connection finishes its close on its own (FIN, TIME-WAIT).
  result<void, tcp_error> close(instant now, conn_handle h);
  // Releases the handle after sending RST (if synchronized).
  result<void, tcp_error> abort(instant now, conn_handle h);
  // ---- per-connection options and queries for posix/ (host_options.cpp) -------------------
  // Changes a live connection's options: keep-alive (on/off, idle, interval, count) and
  // no_delay take effect now; buffer sizes, MSS and the SYN options were fixed at creation
  // and are kept.
  result<void, host_error> reconfigure(instant now, conn_handle h, const tcp_config& cfg);
  // The options a listener gives the connections it makes from now on (a listening socket's
  // setsockopt after listen, as Linux's children inherit the listener's current options).
  result<void, host_error> reconfigure_listener(listener_handle l, const tcp_config& cfg);
  // Sends a segment held by Nagle or TCP_CORK now (connection::push).
  result<void, host_error> push(instant now, conn_handle h);
  // Copies unread received bytes without consuming them (MSG_PEEK).
  result<std::size_t, tcp_error> peek(conn_handle h, mutable_bytes out) const;
  // Who holds a local port: a listener, live TCBs (any handle or none), TIME-WAIT records.
  struct port_use {
    bool listener = false;
    std::size_t connections = 0;
    std::size_t time_wait = 0;
  };
  [[nodiscard]] port_use local_port_use(std::uint16_t port) const;

  // ---- UDP (host_udp.cpp) ------------------------------------------------------------------
  // Datagrams to `local` go to `h`. An unspecified address (0.0.0.0, ::) takes the port on
  // every address of its family; port 0 picks a free one from the ephemeral range. A datagram
  // is delivered to the binding connected to its 4-tuple first, then to the one bound to its
  // destination address, then to the wildcard one, then (non-local destinations only) to the
  // any-address one; nobody: ICMP port unreachable, rate-limited.
  result<udp_handle, host_error> bind_udp(const udp_endpoint& local, udp_handler* h);
  // Any-address UDP (any_address_options above; at most one per family).
  result<udp_handle, host_error> bind_udp_any(const any_address_options& opts, udp_handler* h);
  // Takes only datagrams from `remote` (a connected UDP socket): they are delivered here
  // before any unconnected binding of the same port. Not for an any-address binding.
  result<void, host_error> connect_udp(udp_handle s, const udp_endpoint& remote);
  void close_udp(udp_handle s);
  // The address and port a binding has (the port picked for port 0); nullopt if stale.
  [[nodiscard]] std::optional<udp_endpoint> udp_local(udp_handle s) const;
  // How many more datagrams send_udp queues before no_buffer_space (host_config::udp_tx_queue
  // less those poll_transmit has not taken yet).
  [[nodiscard]] std::size_t udp_tx_room() const;
  // Queues a datagram from the binding's address (source_for(dst) when it is a wildcard) to
  // `dst`. Errors: bad_handle, invalid_argument (port 0, multicast or unspecified `dst`, the
  // wrong family), network_unreachable, message_too_long, no_buffer_space.
  result<void, host_error> send_udp(udp_handle s, const udp_endpoint& dst, bytes payload);
  // From any source this host may use: one of its addresses, or, while an any-address UDP
  // binding of the family is open, any unicast address (a proxy's reply from the original
  // destination). address_not_available otherwise.
  result<void, host_error> send_udp(const udp_endpoint& src, const udp_endpoint& dst, bytes payload);
  // ICMP port unreachable to t.remote about a datagram it sent to t.local carrying `payload`
  // (only its first 64 octets are quoted), from t.local: a proxy passing on its upstream's
  // refusal. The sources of send_udp(src, dst, ...) only; rate-limited as the host's own errors.
  // Errors: invalid_argument, address_not_available.
  result<void, host_error> send_udp_unreachable(instant now, const four_tuple& t, bytes payload);

  // ---- inputs ----------------------------------------------------------------------------
  void on_packet(instant now, bytes packet);
  // With what the link knows about it: a checksum it vouches for is not checked again, and a
  // super-packet (longer than the MTU) counts as gso_size-sized segments in in_segs.
  void on_packet(instant now, bytes packet, const rx_meta& meta);
  void on_timeout(instant now);

  // ---- polls -----------------------------------------------------------------------------
  // Inline over plain-valued private polls, so the optional dissolves in the caller: g++
  // returns an optional<size_t> out of line through a stack slot written with a byte store and
  // reread with a wider load, a store-forwarding stall per call (docs/performance.md).
  [[nodiscard]] std::optional<std::size_t> poll_transmit(instant now, mutable_bytes out) {
    tx_meta meta;
    const std::size_t n = transmit(now, out, meta);
    return n == 0 ? std::nullopt : std::optional<std::size_t>{n};
  }
  // The same, saying how the link must segment and checksum the packet (host_config::tso_max).
  [[nodiscard]] std::optional<std::size_t> poll_transmit(instant now, mutable_bytes out, tx_meta& meta) {
    meta = tx_meta{};
    const std::size_t n = transmit(now, out, meta);
    return n == 0 ? std::nullopt : std::optional<std::size_t>{n};
  }
  [[nodiscard]] std::optional<instant> next_deadline() const {
    const instant d = deadline_or_max();
    return d == instant::max() ? std::nullopt : std::optional<instant>{d};
  }
  [[nodiscard]] std::optional<host_event> poll_event();
  // Readiness edges: the next user connection whose status changed since it was last
  // returned (bytes or the peer's FIN arrived, send space freed, state changed), each handle
  // once until returned. Readable bytes going down or send space shrinking (the user's own
  // recv and send) are no edge. A driver keeps what it has not acted on.
  [[nodiscard]] std::optional<conn_handle> poll_ready();
  // The status of a connection behind a handle (nullopt if stale).
  [[nodiscard]] std::optional<conn_status> status(conn_handle h) const;
  // Its internals (TCP_INFO, `synack stat -i`); nullopt if stale.
  [[nodiscard]] std::optional<tcp_internals> internals(conn_handle h) const;

  // ---- queries ---------------------------------------------------------------------------
  [[nodiscard]] const host_config& config() const;
  [[nodiscard]] ipv4_addr addr() const { return config().addr; }
  // Whether `a` is one of this host's addresses.
  [[nodiscard]] bool is_local(const ip_addr& a) const;
  // The address a connection to `remote` leaves from: `addr` for IPv4, for IPv6 the address
  // sharing the longest prefix with it (a link-local one for a link-local remote). nullopt
  // when the host has no address of that family.
  [[nodiscard]] std::optional<ip_addr> source_for(const ip_addr& remote) const;
  [[nodiscard]] const host_counters& counters() const;
  // The memory budget now: allocated bytes, level, limits, orphans.
  [[nodiscard]] host_memory memory() const;
  // A super-segment's length when segmentation offload is on (host_config::tso_max); at least
  // the MTU (a UDP datagram or an echo reply may fill it whatever the MSS).
  [[nodiscard]] std::size_t max_packet_len() const {
    return std::max<std::size_t>(
        config().mtu, 40 + 60 + std::max<std::size_t>(config().tcp.mss, std::min(config().tso_max, max_tso_payload)));
  }
  // The connection behind a handle (nullptr if stale).
  [[nodiscard]] const connection* find(conn_handle h) const;
  [[nodiscard]] std::optional<tcp_state> state(conn_handle h) const;
  // The state of the TCB on a 4-tuple, handle or not (a closed socket finishing its FIN);
  // nullopt if none (a TIME-WAIT record is not a TCB).
  [[nodiscard]] std::optional<tcp_state> state(const four_tuple& t) const;
  // A connection by 4-tuple, handle or not (tests, tools). nullptr if none.
  [[nodiscard]] const connection* lookup(const four_tuple& t) const;
  [[nodiscard]] const time_wait_record* lookup_time_wait(const four_tuple& t) const;
  // Live TCBs (any state but CLOSED; a CLOSED one is unlinked even while its handle is held)
  // and compact TIME-WAIT records held now.
  [[nodiscard]] std::size_t connection_count() const;
  [[nodiscard]] std::size_t time_wait_count() const;
  [[nodiscard]] std::size_t half_open(listener_handle l) const;
  [[nodiscard]] std::size_t accept_queue_len(listener_handle l) const;
  // Entries waiting for poll_ready: at most one per connection slot, whether or not anyone polls.
  [[nodiscard]] std::size_t ready_queue_len() const;
  // Every listener, connection and TIME-WAIT record (allocates: for tools, not hot paths).
  [[nodiscard]] std::vector<socket_info> snapshot() const;

  // Observer of every state change of every connection (tracing, ladder diagrams).
  void set_tracer(tcp_tracer* t);
  // Receiver of operator notices (optional, never owned).
  void set_log(host_log* l);

 private:
  std::size_t transmit(instant now, mutable_bytes out, tx_meta& meta);  // packet length, 0 for none
  [[nodiscard]] instant deadline_or_max() const;         // instant::max() for none
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace synack
