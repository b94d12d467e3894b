#pragma once
// Internal: the state behind synack::host, shared by host.cpp (commands, polls, timers) and
// host_input.cpp (packet input, listeners, TIME-WAIT records, ICMP).
#include <array>
#include <memory>
#include <functional>
#include <optional>
#include <queue>
#include <vector>

#include "synack/stack/fast_open_cache.hpp"
#include "synack/stack/host.hpp"
#include "synack/tcp/syn_cookie.hpp"
#include "synack/util/flat_hash_map.hpp"
#include "synack/util/ring_queue.hpp"
#include "synack/wire/icmp.hpp"
#include "synack/wire/icmpv6.hpp"

namespace synack {

// The host's ISN source: RFC 6528, except for a connection reopened from TIME-WAIT, whose ISS
// must exceed the old incarnation's SND.NXT (RFC 9293 §3.6.1 MAY-2 (1), RFC 6191 §2). The
// floor is set only around the reopening SYN's processing.
class host_isn final : public isn_source {
 public:
  explicit host_isn(siphash_key key) : base_(key) {}
  [[nodiscard]] seq_num isn(const four_tuple& t, instant now) const override { return above_floor(base_.isn(t, now)); }
  [[nodiscard]] std::uint32_t ts_offset(const four_tuple& t) const override { return base_.ts_offset(t); }
  [[nodiscard]] initial_numbers initial(const four_tuple& t, instant now) const override {
    initial_numbers n = base_.initial(t, now);
    n.isn = above_floor(n.isn);
    return n;
  }
  void set_floor(std::optional<seq_num> f) { floor_ = f; }

 private:
  [[nodiscard]] seq_num above_floor(seq_num v) const {
    if (!floor_ || v.after(*floor_)) return v;
    return *floor_ + seq_len{65535 + 2};  // as Linux (tcp_timewait_state_process)
  }
  rfc6528_isn base_;
  std::optional<seq_num> floor_;
};

// The addresses of a packet being processed, of either family.
struct ip_ends {
  ip_addr src;
  ip_addr dst;
  bytes packet = {};  // the whole IP packet (TCP input: what an ICMP error about it quotes)
  ecn_codepoint ecn = ecn_codepoint::not_ect;  // RFC 3168 §5: its ECN field (TCP input)
};

// ICMP errors this host sends, limited as RFC 4443 §2.4 (f) and RFC 1812 §4.3.2.8 ask: a token
// bucket of `burst`, refilled one per `interval` (Linux: 50, 1 ms), one per family.
struct icmp_error_bucket {
  static constexpr std::uint32_t burst = 50;
  static constexpr duration interval = std::chrono::milliseconds(1);
  std::uint32_t tokens = burst;
  instant refilled{};
  [[nodiscard]] bool allow(instant now);
};

// The index of the first entry of `v` that is not open (a closed listener or UDP binding),
// or of a new one appended: handles keep their index, their generation tells them apart.
template <class T>
std::uint32_t reuse_or_append(std::vector<T>& v) {
  for (std::uint32_t i = 0; i < v.size(); ++i) {
    if (!v[i].open) return i;
  }
  v.emplace_back();
  return static_cast<std::uint32_t>(v.size() - 1);
}

// The family a packet to `a` is of, as an index (0 IPv4, 1 IPv6) into per-family tables.
[[nodiscard]] constexpr std::size_t family_index(const ip_addr& a) { return a.is_v4() ? 0 : 1; }

// The IP header a packet to `dst` starts with: 20 octets for IPv4, 40 for IPv6 (no options or
// extension headers are sent).
[[nodiscard]] constexpr std::size_t ip_header_len(const ip_addr& dst) { return dst.is_v4() ? 20 : 40; }

struct host::impl final : tcp_tracer {
  explicit impl(const host_config& c);

  enum class owner : std::uint8_t { free, user, child, orphan };
  static constexpr instant never = instant::max();
  struct slot {
    std::optional<connection> conn;
    // This connection's options (the connection points here), shared with the connections
    // made with the same ones (share_config): 16 octets a slot, not a 272-octet copy.
    std::shared_ptr<const tcp_config> cfg;
    std::uint32_t gen = 1;
    owner own = owner::free;
    std::uint32_t listener = 0;  // children: the listener they belong to
    bool accept_queued = false;  // children: established, waiting in the accept queue
    bool fast_open_pending = false;  // RFC 7413 child still in SYN-RECEIVED (listener::fast_open_pending)
    bool tx_queued = false;      // in txq (may have output)
    // Readiness as data: what the user was last told (host::poll_ready), whether the slot's
    // index waits in `ready` (it may have been queued for an earlier connection in this slot:
    // the entry stays, so the queue holds each slot at most once, however many connections
    // the slot serves before the user polls), and whether the connection now in the slot had an
    // edge not yet reported.
    bool ready_queued = false;
    bool ready_edge = false;
    bool seen_eof = false;
    tcp_state seen_state = tcp_state::closed;
    std::size_t seen_readable = 0;
    std::size_t seen_free = 0;
    // The connection's next deadline, and the earliest entry this slot has in the timer heap
    // (`never` for none). A heap entry is pushed only when the deadline moves earlier than
    // `queued`; a deadline that moved later is found when the old entry pops, and pushed again
    // then (lazily). Plain instants rather than optionals: they stay in registers.
    instant deadline = never;
    mutable instant queued = never;  // updated by next_deadline() too, as the heap is
  };
  struct listener {
    std::uint16_t port = 0;
    listen_family family = listen_family::any;
    std::size_t backlog = 0;
    std::size_t half_open = 0;
    ring_queue<std::uint32_t> accept_q;
    tcp_config cfg;  // given to every connection this listener accepts
    std::uint32_t gen = 1;
    bool open = false;
    // SYN cookies and flood detection.
    std::uint64_t cookies_sent = 0;
    std::uint64_t cookies_recv = 0;
    std::uint64_t syn_drops = 0;
    std::size_t fast_open_pending = 0;  // RFC 7413 children in SYN-RECEIVED (bounded by cfg.fast_open_qlen)
    std::optional<instant> last_cookie;   // when a cookie SYN-ACK was last sent
    std::optional<instant> flood_logged;  // when the flood notice was last given
    // Any-address listeners (host::listen_any): `port` 0 takes every port; `filter` may refuse.
    bool any = false;
    any_address_filter filter;
    // Deferred answers (any_address_options::defer_syn; host_defer.cpp): SYNs held now.
    bool defer = false;
    std::size_t max_pending = 0;
    duration pending_timeout{0};
    std::size_t pending = 0;
    bool evict_oldest = false;  // any_address_options::evict_oldest_syn
    // The held SYNs in arrival order, a list through pending_entry::older/newer (none_held: empty).
    std::uint32_t oldest_held = none_held;
    std::uint32_t newest_held = none_held;
  };
  static constexpr std::uint32_t none_held = ~std::uint32_t{0};
  // A held SYN (host_defer.cpp): the segment (options kept, payload and unknown options not)
  // and the start of its IP packet, which an ICMP error quotes.
  struct pending_entry {
    four_tuple tuple;
    std::uint32_t listener = 0;
    std::uint32_t gen = 1;
    bool used = false;
    std::uint32_t older = none_held;  // the listener's arrival-order list
    std::uint32_t newer = none_held;
    instant arrived;
    instant expiry;
    tcp_repr syn;
    static constexpr std::size_t quote_max = 192;  // IP and TCP headers with options, and more
    std::array<std::byte, quote_max> quote{};
    std::size_t quote_len = 0;
  };
  struct pending_expiry {
    instant at;
    std::uint32_t idx = 0;
    std::uint32_t gen = 0;
    bool operator>(const pending_expiry& o) const { return at != o.at ? at > o.at : idx > o.idx; }
  };
  std::vector<pending_entry> pending;
  std::vector<std::uint32_t> pending_free;
  flat_hash_map<four_tuple, std::uint32_t, four_tuple_hash> pending_by_tuple;
  // Expiries, soonest first; entries of answered SYNs are stale and skipped (rebuilt when
  // stale ones dominate, so the heap stays bounded by the held SYNs).
  mutable std::priority_queue<pending_expiry, std::vector<pending_expiry>, std::greater<>> pending_expiries;
  [[nodiscard]] bool pending_live(const pending_expiry& e) const {
    return e.idx < pending.size() && pending[e.idx].used && pending[e.idx].gen == e.gen && pending[e.idx].expiry == e.at;
  }
  // A SYN to a deferring listener: held (an event for the application) or absorbed.
  void defer_syn(instant now, const ip_ends& ip, const tcp_repr& seg, std::uint32_t lidx);
  [[nodiscard]] bool withdraw_syn(const ip_ends& ip, const tcp_repr& seg);
  void store_syn(pending_entry& e, const ip_ends& ip, const tcp_repr& seg);
  [[nodiscard]] pending_entry* pending_of(syn_handle h);
  void release_pending(std::uint32_t idx);
  void expire_pending(instant now);
  [[nodiscard]] instant pending_deadline() const;
  // The half-open TCB a SYN makes (listen_input, accept_syn).
  void open_half(instant now, const ip_ends& ip, const tcp_repr& seg, std::uint32_t lidx,
                 std::optional<seq_num> iss_floor);
  // A cookie SYN-ACK waiting for poll_transmit: what it takes to build it, nothing more.
  struct cookie_synack {
    four_tuple tuple;
    seq_num iss;
    seq_num ack;
    std::uint32_t tsval = 0;
    std::uint32_t tsecr = 0;
    std::uint16_t window = 0;
    std::uint8_t wscale = 0;
    bool has_wscale = false;
    bool sack = false;
    bool ts = false;
    std::uint16_t mss = 0;  // announced: the listener's cap, bounded by the link (link_mss)
  };
  static constexpr std::size_t cookie_queue_max = 1024;  // beyond it: host_drop::reply_queue_full
  struct timer_entry {
    instant at;
    std::uint32_t idx = 0;
    std::uint32_t gen = 0;
    // Ties fire in slot order, so equal deadlines give a reproducible output order.
    bool operator>(const timer_entry& o) const { return at != o.at ? at > o.at : idx > o.idx; }
  };
  // A packet the host builds itself: RST for a closed port, TIME-WAIT ACK, echo reply.
  struct reply {
    std::vector<std::byte> buf;
    std::size_t len = 0;
  };
  static constexpr std::size_t reply_slots = 32;

  host_config cfg;
  // Declared before the slots: their connections give their charge back when destroyed.
  memory_budget budget;
  memory_level seen_level = memory_level::normal;  // the budget's level when last looked at
  std::size_t orphans = 0;  // slots owned by no one (closed by the user, finishing on their own)
  host_isn isns;
  syn_cookie_codec cookies;
  host_counters ctr;
  tcp_tracer* user_tracer = nullptr;
  host_log* log = nullptr;
  ring_queue<cookie_synack> cookie_q;
  // RFC 7413 (host_fastopen.cpp): the client's cookie cache, the host's cookie key, and a
  // listener's answer to a SYN's TFO option.
  fast_open_cache fo_cache{cfg.fast_open_cache_size};
  std::array<std::uint64_t, 2> fo_key = fast_open_host_key(cfg);
  [[nodiscard]] static std::array<std::uint64_t, 2> fast_open_host_key(const host_config& c);
  // An active open (host::connect, and connect_fast_open with `fo`).
  result<conn_handle, host_error> open_active(instant now, const ip_addr& remote, std::uint16_t port,
                                              std::optional<std::uint16_t> local_port, const tcp_config& conn_cfg,
                                              const fast_open_client* fo);
  [[nodiscard]] fast_open_server fast_open_answer(const listener& l, const ip_ends& ip, const tcp_repr& seg);
  [[nodiscard]] fast_open_server fast_open_take(const listener& l);
  void fast_open_learn(connection& c);
  void fast_open_queue_child(std::uint32_t idx, listener& l);

  // The connection slots. A slot's address stays put as the table grows: each is a heap node
  // of its own (as a std::deque made them, its elements being this large), and indexing is one
  // load, not the deque's iterator arithmetic on every lookup.
  class slot_table {
   public:
    slot& operator[](std::size_t i) { return *nodes_[i]; }
    const slot& operator[](std::size_t i) const { return *nodes_[i]; }
    [[nodiscard]] std::size_t size() const { return nodes_.size(); }
    void emplace_back() { nodes_.push_back(std::make_unique<slot>()); }

   private:
    std::vector<std::unique_ptr<slot>> nodes_;
  };
  slot_table slots;
  // The options of the last few distinct connection configurations, handed to every slot
  // made with equal ones (per connection they differ only when a listener's or a family's
  // do). Replaced round-robin.
  std::array<std::shared_ptr<const tcp_config>, 4> cfg_cache;
  std::size_t cfg_cache_next = 0;
  [[nodiscard]] std::shared_ptr<const tcp_config> share_config(const tcp_config& c);
  // The header every connection builds its segments in, one at a time
  // (connection::set_header_scratch).
  tcp_repr conn_header;
  std::vector<std::uint32_t> free_slots;
  // Flat tables: once grown to their high-water mark they never allocate again.
  flat_hash_map<four_tuple, std::uint32_t, four_tuple_hash> demux;
  std::vector<listener> listeners;
  // Listeners by port, one table per family (a dual-stack listener is in both).
  flat_hash_map<std::uint16_t, std::uint32_t> listen_by_port;
  flat_hash_map<std::uint16_t, std::uint32_t> listen_by_port6;
  [[nodiscard]] const std::uint32_t* find_listener(const ip_addr& local, std::uint16_t port) const {
    return local.is_v4() ? listen_by_port.find(port) : listen_by_port6.find(port);
  }
  // Any-address mode (host_any.cpp). The any-address listener and UDP binding of each family
  // (family_index), if open.
  std::array<std::optional<std::uint32_t>, 2> any_listener;
  std::array<std::optional<std::uint32_t>, 2> any_udp;
  // Set by the first listen_any or bind_udp_any and never cleared: from then on packets to
  // addresses not this host's get past the IP layer (connections and TIME-WAIT records with
  // such a local side outlive the listener that made them). Off: the IP layer is as before.
  bool any_seen = false;
  // A destination any-address mode may take: unicast, not loopback, class E or the directed
  // broadcast of our prefix (IPv4), not v4-mapped (IPv6).
  [[nodiscard]] bool any_destination(const ip_addr& dst) const;
  // Whether `opts` lets `t` in (port and filter).
  [[nodiscard]] static bool any_admits(std::uint16_t port, const any_address_filter& filter, const four_tuple& t);
  // The listener a segment without a TCB goes to: an ordinary one for the host's own
  // addresses, the any-address one otherwise (if its port and filter admit the 4-tuple).
  [[nodiscard]] const std::uint32_t* listener_for(const four_tuple& t) const;
  icmp_error_bucket icmp4_limit;
  icmp_error_bucket icmp6_limit;
  flat_hash_map<four_tuple, time_wait_record, four_tuple_hash> tw;
  // TIME-WAIT expiries, soonest first. A record closed late by its user may expire before
  // younger ones, so this is a heap, not a FIFO. Entries whose record is gone or was restarted
  // (expiry differs) are stale and skipped.
  struct tw_entry {
    instant at;
    four_tuple tuple;
    bool operator>(const tw_entry& o) const { return at > o.at; }
  };
  mutable std::priority_queue<tw_entry, std::vector<tw_entry>, std::greater<>> tw_expiry;
  // The top of tw_expiry was found live (its record still expires then) by deadline_or_max and
  // neither table changed since, so the next call needs no lookup. Every change to `tw` or
  // `tw_expiry` goes through tw_push, tw_pop and tw_erase, which clear it.
  mutable bool tw_top_live = false;
  void tw_push(instant at, const four_tuple& t) {
    tw_expiry.push(tw_entry{at, t});
    tw_top_live = false;
  }
  void tw_pop() const {
    tw_expiry.pop();
    tw_top_live = false;
  }
  void tw_erase(const four_tuple& t) {
    tw.erase(t);
    tw_top_live = false;
  }
  // UDP (host_udp.cpp).
  struct udp_socket {
    // Local address and port; the remote side is the unspecified address of the family and
    // port 0 unless connected.
    four_tuple key;
    udp_handler* handler = nullptr;
    std::uint32_t gen = 1;
    bool open = false;
    bool connected = false;
    bool any = false;  // any-address (bind_udp_any): `key` is unused, `port`/`filter` decide
    listen_family family = listen_family::any;
    std::uint16_t port = 0;
    any_address_filter filter;
  };
  std::vector<udp_socket> udp_socks;
  // Open non-any bindings by key: connected ones by their 4-tuple, unconnected ones by
  // (address or wildcard, port, unspecified, 0).
  flat_hash_map<four_tuple, std::uint32_t, four_tuple_hash> udp_demux;
  std::uint32_t udp_ephemeral_next = 0;
  // Datagrams send_udp queued for poll_transmit: a ring of cfg.udp_tx_queue buffers, each
  // sized to the MTU when first used.
  std::vector<reply> udp_tx;
  std::size_t udp_tx_head = 0;
  std::size_t udp_tx_len = 0;
  // The binding a datagram goes to; nullptr for none (port unreachable).
  [[nodiscard]] std::optional<std::uint32_t> udp_lookup(const four_tuple& t, bool local_dst) const;
  std::uint32_t new_udp_socket(udp_handler* h);  // an open slot, its key still to set
  [[nodiscard]] udp_socket* udp_sock(udp_handle h);  // nullptr if stale
  [[nodiscard]] const udp_socket* udp_sock(udp_handle h) const {
    return const_cast<impl*>(this)->udp_sock(h);  // NOLINT: same lookup, const view
  }
  // Datagram input. Returns true when nobody takes it and the caller answers with its
  // family's port unreachable (it holds the offending packet's view).
  [[nodiscard]] bool udp_input(instant now, const ip_ends& ip, bytes datagram, const rx_meta& meta);
  [[nodiscard]] bool udp_port_taken(const ip_addr& addr, std::uint16_t port) const;
  // An ICMP error quoting a datagram from t.local to t.remote: to the binding's handler
  // (udp_handler::on_error), or counted unmatched.
  void udp_error_input(instant now, const four_tuple& t, const icmp_report& rep);
  result<void, host_error> queue_udp(const four_tuple& t, bytes payload);
  ring_queue<std::uint32_t> txq;
  mutable std::priority_queue<timer_entry, std::vector<timer_entry>, std::greater<>> timers;
  std::array<reply, reply_slots> replies;
  tcp_repr tx_cookie;  // reused to build cookie SYN-ACKs
  tcp_repr rx_seg;  // the segment being processed, parsed in place (no copy of a ~300-byte repr)
  std::size_t reply_head = 0;
  std::size_t reply_len = 0;
  ring_queue<host_event> events;
  // Slots whose user connection's status changed (host::poll_ready), each at most once: never
  // longer than the slot table, whether or not the user polls it.
  ring_queue<std::uint32_t> ready;
  std::uint32_t ephemeral_next = 0;
  // The last destination's RFC 6056 offset (a SipHash), kept: a client opens many connections
  // to the same server, and the hash is a measurable part of each connect.
  struct ephemeral_offset {
    ip_addr remote;
    std::uint16_t port = 0;  // 0: nothing cached (connect never takes port 0)
    std::uint32_t offset = 0;
  };
  mutable ephemeral_offset last_ephemeral;
  std::uint16_t ip_ident = 0;

  // tcp_tracer: RFC 1213 counters from the state funnel, then the user's tracer.
  void on_state(const four_tuple& t, tcp_state from, tcp_state to) override;

  // RFC 9293 §3.7.1 (MUST-67), RFC 1122 §4.2.2.6: the MSS a SYN or SYN-ACK announces is the
  // link MTU less the fixed IPv4 and TCP headers, never above the configured `cap`.
  [[nodiscard]] std::uint16_t link_mss(std::uint16_t cap) const;
  // The same for a connection to `remote`: 60 octets of fixed headers over IPv6.
  [[nodiscard]] std::uint16_t link_mss(std::uint16_t cap, const ip_addr& remote) const;
  [[nodiscard]] bool is_local(const ip_addr& a) const;
  // An address a connection or datagram may be sent to: not unspecified, multicast, the
  // limited broadcast or v4-mapped.
  [[nodiscard]] static bool unicast_remote(const ip_addr& a) {
    const bool bad = a.is_v4() ? a.v4().is_multicast() || a.v4().is_broadcast()
                               : a.v6().is_multicast() || a.v6().is_v4_mapped();
    return !a.is_unspecified() && !bad;
  }
  [[nodiscard]] std::optional<ip_addr> source_for(const ip_addr& remote) const;

  // A listener slot, open, with no table entry yet (host::listen, host::listen_any).
  std::uint32_t new_listener(std::uint16_t port, std::size_t backlog, const tcp_config& c, listen_family family);
  // Slots and bookkeeping (host.cpp).
  // `remote`: the peer, whose family sets the MSS cap and whether offload applies.
  std::uint32_t alloc_slot(owner o, const tcp_config& c, const ip_addr& remote);
  // A slot owned by that listener, with its config.
  std::uint32_t alloc_child(std::uint32_t listener_idx, const ip_addr& remote);
  void free_slot(std::uint32_t idx);
  void make_orphan(slot& s) {
    if (s.own != owner::orphan) ++orphans;
    s.own = owner::orphan;
  }
  // The budget's level changed (host.cpp): on the way up every connection prunes and
  // releases at once; on the way down windows and send space reopen, a readiness edge each.
  void check_memory_level();
  // After a user's send or receive on slot `idx` (host::send, recv, recv_consume,
  // send_commit): what it made due (data, a window update, a SYN) is queued for transmission,
  // and a budget level it changed (a ring grown or released) is acted on.
  void after_user_io(std::uint32_t idx);
  void unlink(std::uint32_t idx);  // remove from demux (the TCB is CLOSED or freed)
  slot* user_slot(conn_handle h);
  const slot* user_slot(conn_handle h) const;
  void touch(instant now, std::uint32_t idx);
  void drain_events(instant now, std::uint32_t idx);
  void note_ready(std::uint32_t idx);
  void schedule(std::uint32_t idx);
  // Classifies the top of the timer heap: pops stale entries and re-pushes entries whose
  // deadline moved later, until the top is a live, current deadline (true) or the heap is empty.
  bool settle_timer_top() const;
  void maybe_reap(std::uint32_t idx);
  void add_time_wait(const time_wait_record& r);
  void expire_time_wait(instant now);
  std::optional<std::uint16_t> pick_ephemeral(const ip_addr& local, const ip_addr& remote, std::uint16_t port) const;
  [[nodiscard]] bool tuple_in_use(const four_tuple& t) const;
  // `tos`: the IPv4 TOS octet or IPv6 traffic class (a connection's IP_TOS; 0 for RSTs,
  // cookies and ICMP). Writes an IPv4 or IPv6 header by the family of `dst`; returns its length.
  std::size_t write_ip(mutable_bytes out, const ip_addr& src, const ip_addr& dst, ip_proto proto,
                       std::size_t payload_len, std::uint8_t tos = 0);

  // Input (host_input.cpp).
  [[nodiscard]] std::optional<host_drop> martian_source(ipv4_addr src) const;
  [[nodiscard]] std::optional<host_drop> martian_source_v6(const ipv6_addr& src) const;
  // The directed broadcast address of this host's IPv4 prefix (host_config::prefix_len).
  [[nodiscard]] bool directed_broadcast(ipv4_addr a) const;
  void ipv6_input(instant now, bytes packet, const rx_meta& meta);
  void tcp_input(instant now, const ip_ends& ip, bytes segment, const rx_meta& meta);
  // tcp_input's rare steps, out of line and cold (host_input.cpp).
  [[gnu::cold, gnu::noinline]] void count_tcp_error(wire_error e);
  [[gnu::cold, gnu::noinline]] void forget_reopened(const four_tuple& t);
  // `iss_floor`: the SYN reopens a TIME-WAIT 4-tuple; the new ISS must exceed it, so no cookie.
  void listen_input(instant now, const ip_ends& ip, const tcp_repr& seg, std::uint32_t lidx,
                    std::optional<seq_num> iss_floor = std::nullopt);
  // Returns true if the segment should go on to a listener (TIME-WAIT reopened by a SYN).
  bool time_wait_input(instant now, time_wait_record& r, const tcp_repr& seg);
  void icmp_input(instant now, const ipv4_view& ip);
  void icmpv6_input(instant now, const ipv6_view& ip, bytes message);
  // An ICMP error of either family, already classified: acts on the connection it quotes if
  // its sequence number is in flight (RFC 5927 §4.1), counts it otherwise.
  void icmp_error_to_connection(instant now, const four_tuple& t, seq_num quoted_seq, const icmp_report& rep);
  // Answers `offending` (an IPv6 packet) with an ICMPv6 error, rate-limited.
  void send_icmpv6_error(instant now, const ipv6_view& offending, icmpv6_type type, std::uint8_t code,
                         std::uint32_t pointer);
  // The IPv4 counterpart (RFC 1122 §3.2.2, RFC 1812 §4.3.2.3), rate-limited as well.
  void send_icmpv4_error(instant now, const ipv4_view& offending, icmp_type type, std::uint8_t code);
  // What both build: an ICMP or ICMPv6 error (by the family of `to`) from `from`, quoting as
  // much of `offending` (an IP packet, from its start) as the family's limit allows;
  // rate-limited.
  void queue_icmp_error(instant now, const ip_addr& from, const ip_addr& to, std::uint8_t type, std::uint8_t code,
                        std::uint32_t pointer, bytes offending);

  // SYN cookies and SYN-flood detection (host_cookie.cpp).
  [[nodiscard]] bool can_take_half_open(const listener& l) const;
  // A SYN the listener cannot take (accept queue full, SYN queue full, no TCB left): counted.
  [[gnu::cold, gnu::noinline]] void count_syn_drop(listener& l);
  [[nodiscard]] bool cookies_recent(const listener& l, instant now) const;
  void send_cookie(instant now, const ip_ends& ip, const tcp_repr& syn, listener& l);
  // A pure ACK to a listener that sent cookies lately: a connection if the cookie checks out.
  void cookie_ack(instant now, const ip_ends& ip, const tcp_repr& seg, std::uint32_t lidx);
  void note_syn_flood(instant now, listener& l, std::uint16_t port, bool sending_cookies);
  [[gnu::cold, gnu::noinline]] void negative_advice(instant now, const four_tuple& t, std::uint32_t retransmissions);
  std::optional<instant> advice_logged;  // when the last R1 notice was given (one a minute)
  std::size_t emit_cookie_synack(mutable_bytes out);
  [[gnu::noinline]] std::size_t pop_built(mutable_bytes out);
  void count_icmp(icmp_action a);
  reply* next_reply();
  // An echo request to answer with a reply of `len` octets (IP header included): counted, and
  // a reply slot, or nullptr when it exceeds our MTU (no fragmentation) or the queue is full.
  reply* echo_reply_slot(std::size_t len);
  void queue_tcp_reply(const ip_addr& src, const ip_addr& dst, const tcp_repr& r);
};

// A TCB's internals for TCP_INFO and `synack stat -i` (host_options.cpp).
[[nodiscard]] tcp_internals internals_of(const connection& c);

}  // namespace synack
