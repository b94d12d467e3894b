// The stack-level fuzz driver (see stack_driver.hpp for the input format and invariants).
#include "stack_driver.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <ostream>
#include <sstream>

#include "packets.hpp"
#include "synack/stack/host.hpp"
#include "synack/wire/checksum.hpp"
#include "synack/wire/icmp.hpp"
#include "synack/wire/icmpv6.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::fuzz {

namespace {

constexpr ipv4_addr addr_a = ipv4_addr::from_octets(10, 0, 0, 1);
constexpr ipv4_addr addr_b = ipv4_addr::from_octets(10, 0, 0, 2);
constexpr ipv4_addr router = ipv4_addr::from_octets(10, 0, 0, 254);
const ipv6_addr addr6_a = ipv6_addr::from_groups({0xfd00, 0, 0, 0, 0, 0, 0, 1});
const ipv6_addr addr6_b = ipv6_addr::from_groups({0xfd00, 0, 0, 0, 0, 0, 0, 2});
const ipv6_addr router6 = ipv6_addr::from_groups({0xfd00, 0, 0, 0, 0, 0, 0, 0xfe});
constexpr std::array<std::uint16_t, 4> ports{80, 81, 5000, 5001};
constexpr std::array<duration, 10> steps{1ms, 10ms, 40ms, 200ms, 1s, 3s, 30s, 120s, 600s, 7200s};
constexpr std::size_t wire_cap = 64;      // packets queued per direction (tail drop beyond)
constexpr std::size_t max_handles = 8;    // connection handles remembered per side
constexpr std::size_t max_listeners = 4;
constexpr std::size_t drain_limit = 4096;  // packets one output drain may produce
constexpr int stuck_timer_limit = 64;      // on_timeout(d) calls leaving the deadline at <= d

// Reads the program; past the end every byte is 0.
struct reader {
  bytes b;
  std::size_t i = 0;
  [[nodiscard]] bool done() const { return i >= b.size(); }
  std::uint8_t u8() { return i < b.size() ? std::to_integer<std::uint8_t>(b[i++]) : std::uint8_t{0}; }
  std::uint16_t u16() { return static_cast<std::uint16_t>((u8() << 8) | u8()); }
  std::uint32_t u32() { return (std::uint32_t{u16()} << 16) | u16(); }
};

// Every state change must be an arc of RFC 9293's diagram.
class legal_tracer final : public tcp_tracer {
 public:
  explicit legal_tracer(std::string& failure) : failure_(&failure) {}
  void on_state(const four_tuple& t, tcp_state from, tcp_state to) override {
    if (is_legal_transition(from, to) || !failure_->empty()) return;
    std::ostringstream o;
    o << "illegal transition " << to_string(from) << " -> " << to_string(to) << " on port " << t.local_port << "<->"
      << t.remote_port;
    *failure_ = o.str();
  }

 private:
  std::string* failure_;
};

host_config make_config(ipv4_addr addr, std::uint8_t bits) {
  host_config c;
  c.addr = addr;
  c.tcp.mss = 536;
  c.tcp.send_buffer = 8192;  // small buffers: zero windows and full queues are a few ops away
  c.tcp.recv_buffer = 8192;
  c.tcp.max_ooo_ranges = 4;
  c.tcp.sack = (bits & config_bits::no_sack) == 0;
  c.tcp.timestamps = (bits & config_bits::no_timestamps) == 0;
  c.tcp.window_scaling = (bits & config_bits::no_window_scaling) == 0;
  c.tcp.delayed_ack = (bits & config_bits::no_delayed_ack) == 0;
  c.tcp.keepalive = (bits & config_bits::keepalive) != 0;
  c.tcp.rfc1337 = (bits & config_bits::no_rfc1337) == 0;
  c.syncookies = (bits & config_bits::syncookies_off) != 0      ? syncookies_mode::off
                 : (bits & config_bits::syncookies_always) != 0 ? syncookies_mode::always
                                                                 : syncookies_mode::on_overflow;
  c.syn_backlog = 4;
  c.max_connections = 16;
  c.time_wait_max = 4;
  c.secret = siphash_key{0x66757a7a00000000ULL | addr.value, 0x6b6579ULL};
  c.addresses.push_back(host_address{addr == addr_a ? ip_addr{addr6_a} : ip_addr{addr6_b}, 64});
  return c;
}

// The hosts' options with the link's full MSS (1440 over IPv6, 1460 over IPv4) instead of 536:
// a listener or connect whose selector byte has its high bit set. Only then does a Packet Too
// Big have an IPv6 MSS to lower (the floor, 1280 - 60, is above 536), and segments get long.
tcp_config full_mss(const tcp_config& c) {
  tcp_config f = c;
  f.mss = 1460;
  return f;
}

// Whom an injected segment is aimed at: a TCB, a TIME-WAIT record, a listener or a closed port.
struct target {
  four_tuple tuple;
  seq_num rcv_nxt, snd_una, snd_nxt;
  std::uint32_t rcv_wnd = 0, max_snd_wnd = 0, ts_recent = 0;
};

void fix_checksums(std::vector<std::byte>& p) {
  if (p.size() < 20) return;
  const std::size_t ihl = (std::to_integer<std::size_t>(p[0]) & 0x0Fu) * 4u;
  if (ihl < 20 || ihl > p.size()) return;
  store_be16(&p[10], 0);
  store_be16(&p[10], internet_checksum(bytes{p}.first(ihl)));
  const mutable_bytes payload = mutable_bytes{p}.subspan(ihl);
  const auto proto = std::to_integer<std::uint8_t>(p[9]);
  if (proto == 6 && payload.size() >= 20 && payload.size() <= 0xFFFF) {
    tcp_repr::fill_checksum(payload, ipv4_addr{load_be32(&p[12])}, ipv4_addr{load_be32(&p[16])});
  } else if (proto == 1 && payload.size() >= 8) {
    store_be16(&payload[2], 0);
    store_be16(&payload[2], internet_checksum(payload));
  }
}

struct side {
  std::unique_ptr<host> h;
  std::vector<conn_handle> conns;
  std::vector<listener_handle> listeners;
  std::vector<conn_handle> all_conns;  // every handle ever obtained, for the final close
  std::vector<listener_handle> all_listeners;
  std::size_t conn_adds = 0;
  std::size_t listener_adds = 0;
};

class world {
 public:
  world(std::uint8_t bits, std::string& failure) : tracer_(failure), failure_(&failure) {
    for (std::size_t i = 0; i < 2; ++i) {
      s_[i].h = std::make_unique<host>(make_config(i == 0 ? addr_a : addr_b, bits));
      s_[i].h->set_tracer(&tracer_);
    }
  }

  void step(reader& r);
  void check_invariants();
  void wind_down();
  void trace_step(std::ostream& o, std::size_t n, bytes op_bytes);

 private:
  host& h(std::size_t i) { return *s_[i].h; }
  static ipv4_addr addr_of(std::size_t i) { return i == 0 ? addr_a : addr_b; }
  static const ipv6_addr& addr6_of(std::size_t i) { return i == 0 ? addr6_a : addr6_b; }
  // A datagram from the target's remote end (or `from`) to it, IPv4 or IPv6 as its 4-tuple.
  static std::vector<std::byte> to_target(const target& t, std::uint8_t proto, bytes payload,
                                          std::optional<ip_addr> from = std::nullopt);
  void fail(const std::string& what) {
    if (failure_->empty()) *failure_ = what;
  }
  void drain(std::size_t i);
  void feed(std::size_t i, bytes packet) {
    h(i).on_packet(now_, packet);
    drain(i);
  }
  void deliver(std::size_t dir);
  void advance(duration d);
  void command(op o, reader& r);
  template <class T>
  static void remember(std::vector<T>& v, std::size_t& adds, std::size_t cap, T x) {
    if (v.size() < cap) {
      v.push_back(x);
    } else {
      v[adds % cap] = x;
    }
    ++adds;
  }
  static conn_handle pick(const side& s, std::uint8_t k) {
    return s.conns.empty() ? conn_handle{} : s.conns[k % s.conns.size()];
  }
  std::optional<target> pick_target(std::size_t i, std::uint8_t k);
  void inject(reader& r);
  void inject_icmp(reader& r);
  void inject_raw(reader& r);
  void inject_ptb(reader& r);
  void ooo_flood(reader& r);
  [[nodiscard]] std::vector<std::byte> icmp_error(const target& t, std::uint8_t kind, std::uint32_t mtu, seq_num q,
                                                  bool from_router) const;
  void check_host(std::size_t i);
  void check_tcb(const tcp_config& cfg, const connection& conn);

  legal_tracer tracer_;
  std::string* failure_;
  std::array<side, 2> s_;
  std::array<std::deque<std::vector<std::byte>>, 2> wire_;  // [0] A->B, [1] B->A
  instant now_ = instant::zero();
  std::array<std::byte, 2048> buf_{};
  std::vector<std::byte> data_ = std::vector<std::byte>(16384, std::byte{0x5a});
  // What the last drain sent on watch_ (the PTB burst check): data segments and payload octets.
  std::optional<four_tuple> watch_;
  std::size_t watched_segments_ = 0;
  std::size_t watched_bytes_ = 0;
};

// Takes every packet host i has to send, checks it, and puts it on the wire to the other.
void world::drain(std::size_t i) {
  for (std::size_t n = 0;; ++n) {
    if (n == drain_limit) return fail("output drain does not end");
    const auto len = h(i).poll_transmit(now_, buf_);
    if (!len) break;
    const bytes pkt{buf_.data(), *len};
    ip_addr src;
    ip_addr dst;
    bytes upper;
    bool is_tcp = false;
    if ((std::to_integer<std::uint8_t>(pkt[0]) >> 4) == 6) {
      const auto ip = ipv6_view::parse(pkt);
      if (!ip) return fail("host emitted an unparsable IPv6 packet: " + std::string(to_string(ip.error())));
      src = ip->src();
      dst = ip->dst();
      upper = ip->payload();
      is_tcp = ip->next_header() == ipv6_next::tcp;
      if (!is_tcp && (ip->next_header() != ipv6_next::icmpv6 || !icmpv6_repr::parse(upper, ip->src(), ip->dst()))) {
        return fail("host emitted neither TCP nor a valid ICMPv6 message");
      }
    } else {
      const auto ip = ipv4_view::parse(pkt);
      if (!ip) return fail("host emitted an unparsable IPv4 packet: " + std::string(to_string(ip.error())));
      src = ip->src();
      dst = ip->dst();
      upper = ip->payload();
      is_tcp = ip->protocol() == ip_proto::tcp;
      if (!is_tcp && (ip->protocol() != ip_proto::icmp || !icmpv4_repr::parse(upper))) {
        return fail("host emitted neither TCP nor a valid ICMP message");
      }
    }
    if (src != ip_addr{addr_of(i)} && src != ip_addr{addr6_of(i)}) return fail("host emitted a packet from another address");
    if (is_tcp) {
      const auto v = tcp_view::parse(upper);
      tcp_repr seg;
      if (!v || tcp_repr::parse(*v, src, dst, seg)) return fail("host emitted a bad TCP segment");
      if (watch_ && !seg.payload.empty() && seg.src_port == watch_->local_port && seg.dst_port == watch_->remote_port &&
          dst == watch_->remote_addr) {
        ++watched_segments_;
        watched_bytes_ += seg.payload.size();
      }
    }
    auto& w = wire_[i];
    if ((dst == ip_addr{addr_of(1 - i)} || dst == ip_addr{addr6_of(1 - i)}) && w.size() < wire_cap) {
      w.emplace_back(pkt.begin(), pkt.end());
    }
  }
  while (h(i).poll_event()) {
  }
}

void world::deliver(std::size_t dir) {
  auto& w = wire_[dir];
  if (w.empty()) return;
  const std::vector<std::byte> p = std::move(w.front());
  w.pop_front();
  feed(1 - dir, p);
}

// Runs both hosts' timers in deadline order up to now + d, as an event loop would.
void world::advance(duration d) {
  const instant to = now_ + d;
  int stuck = 0;
  for (;;) {
    std::optional<std::size_t> who;
    instant when = instant::max();
    for (std::size_t i = 0; i < 2; ++i) {
      if (const auto dl = h(i).next_deadline(); dl && *dl <= to && *dl < when) {
        who = i;
        when = *dl;
      }
    }
    if (!who) break;
    if (when < now_) return fail("a deadline lies in the past after the timers up to it ran");
    now_ = when;
    h(*who).on_timeout(now_);
    drain(*who);
    const auto again = h(*who).next_deadline();
    if (again && *again <= now_) {
      if (++stuck == stuck_timer_limit) return fail("on_timeout(d) leaves the deadline at or before d");
    } else {
      stuck = 0;
    }
    if (!failure_->empty()) return;
  }
  now_ = to;
}

void world::command(op o, reader& r) {
  const std::size_t i = r.u8() & 1u;
  side& s = s_[i];
  host& x = h(i);
  switch (o) {
    case op::listen: {
      const std::uint16_t port = ports[r.u8() % ports.size()];
      const std::uint8_t b = r.u8();
      const std::size_t backlog = 1u + b % 4u;
      // High bit: full-size segments (see full_mss).
      if (auto l = (b & 0x80u) != 0 ? x.listen(port, backlog, full_mss(x.config().tcp)) : x.listen(port, backlog)) {
        remember(s.listeners, s.listener_adds, max_listeners, *l);
        s.all_listeners.push_back(*l);
      }
      break;
    }
    case op::connect:
    case op::connect6: {
      const std::uint16_t port = ports[r.u8() % ports.size()];
      const std::uint8_t lb = r.u8();
      const std::uint8_t lp = (lb & 0x7Fu) % (ports.size() + 1);
      const auto local = lp == 0 ? std::nullopt : std::optional<std::uint16_t>{ports[lp - 1u]};
      const ip_addr remote = o == op::connect6 ? ip_addr{addr6_of(1 - i)} : ip_addr{addr_of(1 - i)};
      // High bit: full-size segments (see full_mss).
      if (auto c = (lb & 0x80u) != 0 ? x.connect(now_, remote, port, local, full_mss(x.config().tcp))
                                     : x.connect(now_, remote, port, local)) {
        remember(s.conns, s.conn_adds, max_handles, *c);
        s.all_conns.push_back(*c);
      }
      break;
    }
    case op::accept: {
      const std::uint8_t k = r.u8();
      if (s.listeners.empty()) break;
      if (auto c = x.accept(s.listeners[k % s.listeners.size()])) {
        remember(s.conns, s.conn_adds, max_handles, *c);
        s.all_conns.push_back(*c);
      }
      break;
    }
    case op::send: {
      const conn_handle c = pick(s, r.u8());
      const std::size_t len = (std::size_t{r.u8()} + 1) * 64;
      (void)x.send(c, bytes{data_}.first(len));
      break;
    }
    case op::recv: {
      const conn_handle c = pick(s, r.u8());
      std::vector<std::byte> out((std::size_t{r.u8()} + 1) * 64);
      if (auto n = x.recv(c, out); n && *n > out.size()) fail("recv returned more than the buffer");
      break;
    }
    case op::shutdown: (void)x.shutdown(now_, pick(s, r.u8())); break;
    case op::close: (void)x.close(now_, pick(s, r.u8())); break;
    case op::abort: (void)x.abort(now_, pick(s, r.u8())); break;
    case op::close_listener: {
      const std::uint8_t k = r.u8();
      if (!s.listeners.empty()) x.close_listener(now_, s.listeners[k % s.listeners.size()]);
      break;
    }
    case op::deliver:
    case op::deliver_all:
    case op::drop:
    case op::duplicate:
    case op::corrupt:
    case op::advance:
    case op::inject:
    case op::inject_icmp:
    case op::inject_raw:
    case op::inject_ptb:
    case op::ooo_flood:
    case op::count_: break;  // not commands: step() handles them
  }
  drain(i);
}

std::optional<target> world::pick_target(std::size_t i, std::uint8_t k) {
  std::vector<target> ts;
  for (const socket_info& row : h(i).snapshot()) {
    target t;
    t.tuple = row.tuple;
    if (row.time_wait_record) {
      if (const time_wait_record* tw = h(i).lookup_time_wait(row.tuple)) {
        t.rcv_nxt = tw->rcv_nxt;
        t.snd_una = t.snd_nxt = tw->snd_nxt;
      }
    } else if (row.state == tcp_state::listen) {
      t.tuple.local_addr = addr_of(i);  // a listener of both families shows "::"
      t.tuple.remote_addr = addr_of(1 - i);
      t.tuple.remote_port = static_cast<std::uint16_t>(40000 + k);
    } else if (const connection* c = h(i).lookup(row.tuple)) {
      const tcb_snapshot n = c->snapshot();
      t.rcv_nxt = n.rcv.nxt;
      t.rcv_wnd = n.rcv.wnd;
      t.snd_una = n.snd.una;
      t.snd_nxt = n.snd.nxt;
      t.max_snd_wnd = n.snd.max_wnd;
      t.ts_recent = c->ts_recent();
    }
    ts.push_back(t);
  }
  if (ts.empty()) return std::nullopt;
  return ts[k % ts.size()];
}

// A segment crafted around the target's sequence space, from its remote end.
void world::inject(reader& r) {
  const std::size_t i = r.u8() & 1u;
  const auto t = pick_target(i, r.u8());
  if (!t) return;
  tcp_repr seg;
  seg.src_port = t->tuple.remote_port;
  seg.dst_port = t->tuple.local_port;
  switch (static_cast<seq_sel>(r.u8() % static_cast<std::uint8_t>(seq_sel::count_))) {
    case seq_sel::rcv_nxt: seg.seq = t->rcv_nxt; break;
    case seq_sel::plus_one: seg.seq = t->rcv_nxt.next(); break;
    case seq_sel::minus_one: seg.seq = t->rcv_nxt - seq_len{1}; break;
    case seq_sel::wnd_last: seg.seq = t->rcv_nxt + seq_len{t->rcv_wnd - 1}; break;
    case seq_sel::wnd_end: seg.seq = t->rcv_nxt + seq_len{t->rcv_wnd}; break;
    case seq_sel::wnd_beyond: seg.seq = t->rcv_nxt + seq_len{t->rcv_wnd + 1u + r.u8()}; break;
    case seq_sel::half_space: seg.seq = t->rcv_nxt + seq_len{0x80000000u}; break;
    case seq_sel::raw:
    case seq_sel::count_: seg.seq = seq_num{r.u32()}; break;
  }
  switch (static_cast<ack_sel>(r.u8() % static_cast<std::uint8_t>(ack_sel::count_))) {
    case ack_sel::snd_una: seg.ack = t->snd_una; break;
    case ack_sel::snd_nxt: seg.ack = t->snd_nxt; break;
    case ack_sel::beyond_nxt: seg.ack = t->snd_nxt + seq_len{1u + r.u8()}; break;
    case ack_sel::below_una: seg.ack = t->snd_una - seq_len{1}; break;
    case ack_sel::max_wnd_edge: seg.ack = t->snd_una - seq_len{t->max_snd_wnd}; break;
    case ack_sel::below_max_wnd: seg.ack = t->snd_una - seq_len{t->max_snd_wnd + 1}; break;
    case ack_sel::none: break;
    case ack_sel::raw:
    case ack_sel::count_: seg.ack = seq_num{r.u32()}; break;
  }
  seg.flags = static_cast<std::uint8_t>(r.u8() & ~tcp_flag::ack);
  const std::uint8_t wsel = r.u8();
  constexpr std::array<std::uint16_t, 4> windows{0, 1, 536, 0xFFFF};
  seg.window = wsel < 4 ? windows[wsel] : static_cast<std::uint16_t>(wsel * 257u);
  seg.urgent_ptr = (seg.flags & tcp_flag::urg) != 0 ? r.u16() : std::uint16_t{0};
  const std::uint8_t plen = r.u8();
  seg.payload = bytes{data_}.first(plen == 0xFF ? std::size_t{1460} : std::size_t{plen});
  const std::uint8_t opts = r.u8();
  tcp_options& o = seg.options;
  if ((opts & 0x01) != 0) {
    constexpr std::array<std::uint16_t, 8> mss{0, 1, 48, 64, 536, 1460, 9000, 0xFFFF};
    o.mss = mss[r.u8() % mss.size()];
  }
  if ((opts & 0x02) != 0) o.window_scale = r.u8();
  o.sack_permitted = (opts & 0x04) != 0;
  if ((opts & 0x08) != 0) {
    const std::uint8_t d = r.u8();
    const std::uint32_t tsval = d == 0xFF ? t->ts_recent + 0x80000000u : t->ts_recent + d - 16u;
    o.timestamps = tcp_timestamps{tsval, r.u32()};
  }
  if ((opts & 0x10) != 0) {
    const std::size_t n = 1u + r.u8() % 4u;
    for (std::size_t k = 0; k < n; ++k) {
      const seq_num left = t->snd_una + seq_len{static_cast<std::uint32_t>(static_cast<std::int8_t>(r.u8())) * 64u};
      o.add_sack(sack_block{left, left + seq_len{static_cast<std::uint32_t>(static_cast<std::int8_t>(r.u8())) * 64u}});
    }
  }
  while (o.buffer_len() > 40 && o.sack_count > 0) --o.sack_count;  // a TCP header holds 40 octets
  std::vector<std::byte> tcp(seg.buffer_len());
  seg.emit(tcp, t->tuple.remote_addr, t->tuple.local_addr);
  feed(i, to_target(*t, 6, tcp));
}

std::vector<std::byte> world::to_target(const target& t, std::uint8_t proto, bytes payload, std::optional<ip_addr> from) {
  const ip_addr src = from.value_or(t.tuple.remote_addr);
  if (t.tuple.local_addr.is_v6()) return ip6_packet(src.v6(), t.tuple.local_addr.v6(), proto, payload);
  return ip_packet(src.v4(), t.tuple.local_addr.v4(), static_cast<ip_proto>(proto), payload);
}

// An ICMP (or ICMPv6) message to the target, quoting a segment it sent with sequence number
// `q`: kind 0 port unreachable, 1 host unreachable, 2 Fragmentation Needed / Packet Too Big
// with `mtu` (16 bits over IPv4), 3 time exceeded, 4 source quench (RFC 6633: ignored; a
// parameter problem over IPv6), else an echo request.
std::vector<std::byte> world::icmp_error(const target& t, std::uint8_t kind, std::uint32_t mtu, seq_num q,
                                         bool from_router) const {
  // The quote: the IP header of a segment the target sent, and its first 8 octets.
  std::array<std::byte, 8> th{};
  store_be16(&th[0], t.tuple.local_port);
  store_be16(&th[2], t.tuple.remote_port);
  store_be32(&th[4], q.raw);
  std::vector<std::byte> msg;
  if (t.tuple.local_addr.is_v6()) {
    const std::vector<std::byte> quote = ip6_packet(t.tuple.local_addr.v6(), t.tuple.remote_addr.v6(), 6, th);
    icmpv6_repr m;
    switch (kind % 6) {
      case 0: m.type = icmpv6_type::dest_unreachable; m.code = 4; break;
      case 1: m.type = icmpv6_type::dest_unreachable; m.code = 3; break;
      case 2: m.type = icmpv6_type::packet_too_big; m.mtu = mtu; break;
      case 3: m.type = icmpv6_type::time_exceeded; break;
      case 4: m.type = icmpv6_type::param_problem; m.pointer = 6; break;
      default: m.type = icmpv6_type::echo_request; break;
    }
    m.data = quote;
    const ipv6_addr src = from_router ? router6 : t.tuple.remote_addr.v6();
    msg.resize(m.buffer_len());
    m.emit(msg, src, t.tuple.local_addr.v6());
    return to_target(t, ipv6_next::icmpv6, msg, ip_addr{src});
  }
  const std::vector<std::byte> quote = ip_packet(t.tuple.local_addr.v4(), t.tuple.remote_addr.v4(), ip_proto::tcp, th);
  icmpv4_repr m;
  switch (kind % 6) {
    case 0: m.type = icmp_type::dest_unreachable; m.code = icmp_unreach_code::port; break;
    case 1: m.type = icmp_type::dest_unreachable; m.code = icmp_unreach_code::host; break;
    case 2:
      m.type = icmp_type::dest_unreachable;
      m.code = icmp_unreach_code::frag_needed;
      m.next_hop_mtu = static_cast<std::uint16_t>(mtu);
      break;
    case 3: m.type = icmp_type::time_exceeded; break;
    case 4: m.type = static_cast<icmp_type>(4); break;  // source quench (RFC 6633: ignored)
    default: m.type = icmp_type::echo_request; break;
  }
  m.data = quote;
  msg.resize(m.buffer_len());
  m.emit(msg);
  return to_target(t, 1, msg, from_router ? ip_addr{router} : t.tuple.remote_addr);
}

// An ICMP error (or echo) quoting the target's 4-tuple with a sequence number near SND.UNA.
void world::inject_icmp(reader& r) {
  const std::size_t i = r.u8() & 1u;
  const auto t = pick_target(i, r.u8());
  if (!t) return;
  const std::uint8_t kind = r.u8();
  const std::uint16_t mtu = kind % 6 == 2 ? r.u16() : std::uint16_t{0};
  seq_num q;
  switch (r.u8() % 5) {
    case 0: q = t->snd_una; break;
    case 1: q = t->snd_nxt; break;
    case 2: q = t->snd_una - seq_len{1}; break;
    case 3: q = t->snd_nxt.next(); break;
    default: q = seq_num{r.u32()}; break;
  }
  const bool from_router = r.u8() % 2 != 0;
  feed(i, icmp_error(*t, kind, mtu, q, from_router));
}

// Issue #13 cases 2 and 3: a Fragmentation Needed (IPv4) or Packet Too Big (IPv6) quoting a
// segment in flight, with an MTU from the input — below the floors, 0 (a pre-RFC 1191 router),
// huge. What the connection sends at once in answer is watched: at most an initial window of
// segments (not the flight cut into 28-octet pieces), and its MSS stays at or above the floor.
void world::inject_ptb(reader& r) {
  const std::size_t i = r.u8() & 1u;
  const auto t = pick_target(i, r.u8());
  if (!t) return;
  const std::uint8_t qsel = r.u8();
  const seq_num q = qsel % 3 == 0   ? t->snd_una
                    : qsel % 3 == 1 ? t->snd_una + seq_len{distance(t->snd_una, t->snd_nxt).n / 2}
                                    : t->snd_nxt - seq_len{1};
  constexpr std::array<std::uint32_t, 11> mtus{0, 1, 67, 68, 296, 551, 552, 1279, 1280, 0xFFFF, 0xFFFFFFFF};
  const std::uint8_t msel = r.u8();
  const std::uint32_t mtu = msel < mtus.size() ? mtus[msel] : msel == 0xFF ? r.u32() : std::uint32_t{msel} * 8u;
  const bool from_router = r.u8() % 2 != 0;
  // What the host had to send before the message (data an earlier step queued) is not part of
  // the answer: it goes out first.
  drain(i);
  if (!failure_->empty()) return;
  const connection* c = h(i).lookup(t->tuple);
  const std::uint16_t mss_before = c != nullptr ? c->snapshot().snd.mss : std::uint16_t{0};
  watch_ = t->tuple;
  watched_segments_ = watched_bytes_ = 0;
  feed(i, icmp_error(*t, 2, mtu, q, from_router));
  watch_.reset();
  c = h(i).lookup(t->tuple);
  if (c == nullptr || !failure_->empty()) return;
  const tcp_config& cfg = h(i).config().tcp;
  const bool v6 = t->tuple.local_addr.is_v6();
  const std::uint16_t floor_mss = v6 ? static_cast<std::uint16_t>(std::max<int>(cfg.min_pmtu_v6, 1280) - 60)
                                     : static_cast<std::uint16_t>(std::max<int>(cfg.min_pmtu, 68) - 40);
  const std::uint16_t mss = c->snapshot().snd.mss;
  if (mss < std::min(mss_before, floor_mss)) {
    return fail("Packet Too Big set the send MSS to " + std::to_string(mss) + ", below the floor " +
                std::to_string(floor_mss));
  }
  // RFC 5681 §3.1 allows at most 4 segments in an initial window, RFC 6928 10.
  const std::size_t iw_segments = cfg.initial_window == initial_window_rule::rfc6928 ? 10 : 4;
  if (watched_segments_ > iw_segments) {
    return fail("a Packet Too Big made the connection send " + std::to_string(watched_segments_) +
                " segments at once (" + std::to_string(watched_bytes_) + " octets), more than an initial window");
  }
}

// Issue #13 case 4: many small segments spread over the receive window past a gap at RCV.NXT
// (so none is in order), acceptable in every other respect: each may be held out of order, and
// what the receiver holds must stay within its bounds (checked after the step).
void world::ooo_flood(reader& r) {
  const std::size_t i = r.u8() & 1u;
  const auto t = pick_target(i, r.u8());
  if (!t) return;
  const std::size_t count = 1u + r.u8() % 64u;
  const std::uint32_t gap = 1u + r.u8();
  const std::size_t size = 1u + r.u8() % 16u;
  const std::uint8_t spread = r.u8();
  // Dense (one octet apart), or spread evenly over what the window leaves past the gap.
  const std::uint32_t room = t->rcv_wnd > gap ? t->rcv_wnd - gap : 0;
  const std::uint32_t stride = spread % 2 == 0 ? static_cast<std::uint32_t>(size) + 1u
                                               : std::max<std::uint32_t>(room / static_cast<std::uint32_t>(count), 1u);
  for (std::size_t k = 0; k < count && failure_->empty(); ++k) {
    tcp_repr seg;
    seg.src_port = t->tuple.remote_port;
    seg.dst_port = t->tuple.local_port;
    seg.seq = t->rcv_nxt + seq_len{gap + static_cast<std::uint32_t>(k) * stride};
    seg.ack = t->snd_una;
    seg.flags = tcp_flag::psh;
    seg.window = 0xFFFF;
    if (t->ts_recent != 0) seg.options.timestamps = tcp_timestamps{t->ts_recent + 1u, 0};
    seg.payload = bytes{data_}.first(size);
    std::vector<std::byte> tcp(seg.buffer_len());
    seg.emit(tcp, t->tuple.remote_addr, t->tuple.local_addr);
    feed(i, to_target(*t, 6, tcp));
  }
}

// Raw bytes; optionally addressed to the host from its peer, with lengths and checksums right.
void world::inject_raw(reader& r) {
  const std::size_t i = r.u8() & 1u;
  const std::uint8_t fix = r.u8();
  std::vector<std::byte> p(r.u8());
  for (auto& b : p) b = std::byte{r.u8()};
  if ((fix & 0x04) != 0 && p.size() >= 20) {
    store_be32(&p[12], addr_of(1 - i).value);
    store_be32(&p[16], addr_of(i).value);
  }
  if ((fix & 0x01) != 0 && p.size() >= 20) store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
  if ((fix & 0x02) != 0) fix_checksums(p);
  feed(i, p);
}

void world::step(reader& r) {
  const op o = static_cast<op>(r.u8() % static_cast<std::uint8_t>(op::count_));
  switch (o) {
    case op::listen:
    case op::connect:
    case op::accept:
    case op::send:
    case op::recv:
    case op::shutdown:
    case op::close:
    case op::abort:
    case op::close_listener: command(o, r); break;
    case op::deliver: deliver(r.u8() & 1u); break;
    case op::deliver_all:
      for (int round = 0; round < 64 && (!wire_[0].empty() || !wire_[1].empty()); ++round) {
        deliver(0);
        deliver(1);
      }
      break;
    case op::drop: {
      auto& w = wire_[r.u8() & 1u];
      if (!w.empty()) w.pop_front();
      break;
    }
    case op::duplicate: {
      auto& w = wire_[r.u8() & 1u];
      if (!w.empty() && w.size() < wire_cap) w.push_back(w.front());
      break;
    }
    case op::corrupt: {
      auto& w = wire_[r.u8() & 1u];
      const std::uint8_t at = r.u8();
      const std::uint8_t x = r.u8();
      const bool fix = (r.u8() & 1u) != 0;
      if (w.empty() || w.front().empty()) break;
      w.front()[at % w.front().size()] ^= std::byte{x == 0 ? std::uint8_t{1} : x};
      if (fix) fix_checksums(w.front());
      break;
    }
    case op::advance: advance(steps[r.u8() % steps.size()]); break;
    case op::inject: inject(r); break;
    case op::inject_icmp: inject_icmp(r); break;
    case op::inject_raw: inject_raw(r); break;
    case op::connect6: command(o, r); break;
    case op::inject_ptb: inject_ptb(r); break;
    case op::ooo_flood: ooo_flood(r); break;
    case op::count_: break;
  }
}

void world::check_host(std::size_t i) {
  host& x = h(i);
  const host_config& cfg = x.config();
  const host_counters& c = x.counters();
  if (c.ip_in_receives != c.in_accepted + c.total_drops() - c.host(host_drop::reply_queue_full)) {
    std::ostringstream o;
    o << "counters: ip_in_receives " << c.ip_in_receives << " != in_accepted " << c.in_accepted << " + drops "
      << c.total_drops() << " - reply_queue_full " << c.host(host_drop::reply_queue_full);
    return fail(o.str());
  }
  if (x.connection_count() > cfg.max_connections) return fail("connection_count above max_connections");
  if (x.time_wait_count() > cfg.time_wait_max) return fail("time_wait_count above time_wait_max");
  for (const socket_info& row : x.snapshot()) {
    if (row.state == tcp_state::listen) {  // every listener, against its own bounds
      if (row.syn_queue > cfg.syn_backlog) return fail("half-open connections above syn_backlog");
      if (row.accept_queue > row.backlog) return fail("accept queue above the backlog");
      continue;
    }
    // CLOSED TCBs whose handle the user still holds are listed but unlinked (checked below).
    if (row.time_wait_record || row.state == tcp_state::closed) continue;
    const connection* conn = x.lookup(row.tuple);
    if (conn == nullptr) return fail("snapshot lists a connection lookup cannot find");
    check_tcb(cfg.tcp, *conn);
  }
  for (const conn_handle held : s_[i].conns) {
    if (const connection* conn = x.find(held)) check_tcb(cfg.tcp, *conn);
  }
}

void world::check_tcb(const tcp_config& cfg, const connection& conn) {
  const tcb_snapshot n = conn.snapshot();
  const auto broken = [&](const char* what) {
    std::ostringstream o;
    o << what << ": " << to_string(n.state) << " una=" << n.snd.una.raw << " nxt=" << n.snd.nxt.raw
      << " max=" << n.snd.max.raw << " sndq=" << n.send_queue << " rcvq=" << n.recv_queue << " rcv.wnd=" << n.rcv.wnd
      << " ooo=" << n.recv_ooo_ranges << "/" << n.recv_ooo_bytes;
    fail(o.str());
  };
  if (n.snd.nxt.before(n.snd.una)) return broken("SND.NXT before SND.UNA");
  if (n.snd.max.before(n.snd.nxt)) return broken("SND.MAX before SND.NXT");
  if (n.send_queue > cfg.send_buffer) return broken("send queue above send_buffer");
  if (n.recv_queue > cfg.recv_buffer) return broken("receive queue above recv_buffer");
  if (n.recv_ooo_ranges > cfg.max_ooo_ranges) return broken("out-of-order ranges above max_ooo_ranges");
  if (n.recv_ooo_bytes > cfg.recv_buffer) return broken("out-of-order octets above recv_buffer");
  if (n.rcv.wnd > cfg.recv_buffer) return broken("RCV.WND above recv_buffer");
}

void world::trace_step(std::ostream& o, std::size_t n, bytes op_bytes) {
  const auto code = std::to_integer<std::uint8_t>(op_bytes[0]) % static_cast<std::uint8_t>(op::count_);
  o << "step " << n << " t=" << now_.us << "us " << to_string(static_cast<op>(code)) << " [";
  for (std::size_t k = 1; k < op_bytes.size(); ++k) o << (k > 1 ? " " : "") << std::to_integer<int>(op_bytes[k]);
  o << "]\n";
  for (std::size_t i = 0; i < 2; ++i) {
    const host_counters& c = h(i).counters();
    o << "  " << (i == 0 ? 'A' : 'B') << ": in " << c.ip_in_receives << " accepted " << c.in_accepted << " drops "
      << c.total_drops() << " |";
    for (std::size_t k = 0; k < c.drop_wire.size(); ++k) {
      if (c.drop_wire[k] != 0) o << " wire:" << synack::to_string(static_cast<wire_error>(k)) << "=" << c.drop_wire[k];
    }
    for (std::size_t k = 0; k < c.drop_tcp.size(); ++k) {
      if (c.drop_tcp[k] != 0) o << " tcp:" << synack::to_string(static_cast<rx_verdict>(k)) << "=" << c.drop_tcp[k];
    }
    for (std::size_t k = 0; k < c.drop_host.size(); ++k) {
      if (c.drop_host[k] != 0) o << " host:" << synack::to_string(static_cast<host_drop>(k)) << "=" << c.drop_host[k];
    }
    if (c.pmtu_reductions != 0) o << " pmtu_reductions=" << c.pmtu_reductions;
    o << " |";
    for (const socket_info& row : h(i).snapshot()) {
      o << " " << row.tuple.local_port << "-" << row.tuple.remote_port << ":" << synack::to_string(row.state)
        << (row.time_wait_record ? "(tw)" : "") << (row.tuple.local_addr.is_v6() ? "(v6)" : "");
      if (row.internals && row.internals->ooo_ranges != 0) o << "(ooo=" << row.internals->ooo_ranges << ")";
    }
    o << "\n";
  }
}

// The end of every program: both applications close everything they hold, and the network
// turns lossless. Every connection must then end on its own (FIN exchange, RST, R2 or the
// FIN-WAIT-2 and TIME-WAIT timers) within bounded virtual time: a TCB left behind is a stuck
// state (FreeBSD's LAST-ACK advisory) or a leak of the table, not something ASan would see.
void world::wind_down() {
  for (std::size_t i = 0; i < 2; ++i) {
    for (const conn_handle c : s_[i].all_conns) (void)h(i).close(now_, c);
    for (const listener_handle l : s_[i].all_listeners) h(i).close_listener(now_, l);
    drain(i);
  }
  for (int round = 0; round < 40 && failure_->empty(); ++round) {  // 40 x 30 s: beyond every R2
    for (int k = 0; k < 64 && (!wire_[0].empty() || !wire_[1].empty()); ++k) {
      deliver(0);
      deliver(1);
    }
    advance(30s);
    check_invariants();
  }
  for (std::size_t i = 0; i < 2; ++i) {
    if (h(i).connection_count() != 0 || h(i).time_wait_count() != 0) {
      std::ostringstream o;
      o << "after closing everything and 20 quiet minutes, host " << (i == 0 ? 'A' : 'B') << " still holds";
      for (const socket_info& row : h(i).snapshot()) {
        if (row.state == tcp_state::closed) continue;  // handles still held, already unlinked
        o << " " << row.tuple.local_port << "-" << row.tuple.remote_port << ":" << synack::to_string(row.state)
          << (row.time_wait_record ? "(tw)" : "") << (row.orphan ? "(orphan)" : "");
      }
      return fail(o.str());
    }
  }
}

void world::check_invariants() {
  check_host(0);
  check_host(1);
}

}  // namespace

std::string_view to_string(op o) {
  switch (o) {
    case op::listen: return "listen";
    case op::connect: return "connect";
    case op::accept: return "accept";
    case op::send: return "send";
    case op::recv: return "recv";
    case op::shutdown: return "shutdown";
    case op::close: return "close";
    case op::abort: return "abort";
    case op::close_listener: return "close_listener";
    case op::deliver: return "deliver";
    case op::deliver_all: return "deliver_all";
    case op::drop: return "drop";
    case op::duplicate: return "duplicate";
    case op::corrupt: return "corrupt";
    case op::advance: return "advance";
    case op::inject: return "inject";
    case op::inject_icmp: return "inject_icmp";
    case op::inject_raw: return "inject_raw";
    case op::connect6: return "connect6";
    case op::inject_ptb: return "inject_ptb";
    case op::ooo_flood: return "ooo_flood";
    case op::count_: return "count_";
  }
  return "?";
}

std::optional<std::string> run_stack_program(bytes input, std::ostream* trace) {
  std::string failure;
  reader r{input};
  {
    world w(r.u8(), failure);
    for (std::size_t n = 0; !r.done() && failure.empty(); ++n) {
      const std::size_t at = r.i;
      w.step(r);
      if (trace != nullptr) w.trace_step(*trace, n, input.subspan(at, r.i - at));
      w.check_invariants();
      if (!failure.empty()) failure = "step " + std::to_string(n) + ": " + failure;
    }
    if (failure.empty()) {
      w.wind_down();
      if (!failure.empty()) failure = "wind-down: " + failure;
    }
  }  // teardown: the hosts and their connections are freed here (LeakSanitizer checks)
  if (failure.empty()) return std::nullopt;
  return failure;
}

}  // namespace synack::fuzz
