#include "transfer_scenario.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace synack {
namespace {

constexpr std::uint64_t golden_gamma = 0x9E3779B97F4A7C15ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;
constexpr std::size_t chunk_size = 64 * 1024;

std::uint64_t splitmix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The two directions' streams differ, and both differ per seed.
payload_stream stream_for(std::uint64_t seed, bool c2s) {
  return payload_stream{splitmix64(seed * golden_gamma + (c2s ? 0x6332730000000001ULL : 0x7332630000000002ULL))};
}

host_config make_host(ipv4_addr a, const tcp_config& tcp, std::uint16_t mtu, std::uint64_t seed,
                      std::uint64_t salt) {
  host_config h;
  h.addr = a;
  h.tcp = tcp;
  h.mtu = mtu;
  // Keys derive from the seed: a run is a pure function of it (DESIGN.md §1).
  rng r(seed ^ (salt * golden_gamma));
  h.secret = siphash_key{r.next_u64(), r.next_u64()};
  return h;
}

std::string describe_link(const sim::link_config& l) {
  std::string s = fmt::format("lat={}us", l.latency.count());
  if (l.bandwidth_bps != 0) s += fmt::format(" bw={}bps", l.bandwidth_bps);
  if (l.queue_limit_bytes != 0) s += fmt::format(" queue={}B", l.queue_limit_bytes);
  if (l.mtu != 65535) s += fmt::format(" mtu={}", l.mtu);
  if (l.loss > 0) s += fmt::format(" loss={}", l.loss);
  if (l.duplicate > 0) s += fmt::format(" dup={}", l.duplicate);
  if (l.reorder > 0) s += fmt::format(" reorder={}/{}us", l.reorder, l.reorder_delay.count());
  if (l.corrupt > 0) s += fmt::format(" corrupt={}", l.corrupt);
  return s;
}

// Nonzero drop buckets by name, e.g. "bad_checksum=3 out_of_window=2".
std::string describe_drops(const host_counters& c) {
  std::string s;
  auto add = [&s](std::string_view name, std::uint64_t n) {
    if (n != 0) s += fmt::format("{}{}={}", s.empty() ? "" : " ", name, n);
  };
  for (std::size_t i = 0; i < c.drop_wire.size(); ++i) add(to_string(static_cast<wire_error>(i)), c.drop_wire[i]);
  for (std::size_t i = 0; i < c.drop_tcp.size(); ++i) add(to_string(static_cast<rx_verdict>(i)), c.drop_tcp[i]);
  for (std::size_t i = 0; i < c.drop_host.size(); ++i) add(to_string(static_cast<host_drop>(i)), c.drop_host[i]);
  return s;
}

std::string describe_tcp(const tcp_config& t) {
  return fmt::format(
      "mss={} sndbuf={} rcvbuf={} wscale={} ooo_ranges={} delack={}/{}us rto={}/{}/{}us r2={}/{}us msl={}us",
      t.mss, t.send_buffer, t.recv_buffer, t.window_scaling, t.max_ooo_ranges, t.delayed_ack,
      t.delayed_ack_timeout.count(), t.rto_initial.count(), t.rto_min.count(), t.rto_max.count(),
      t.syn_r2.count(), t.data_r2.count(), t.msl.count());
}

}  // namespace

// ---- payload and hash -------------------------------------------------------------------

void payload_stream::fill(std::uint64_t offset, std::span<std::byte> out) const {
  std::size_t i = 0;
  while (i < out.size()) {
    const std::uint64_t pos = offset + i;
    const std::uint64_t w = splitmix64(key_ + (pos / 8) * golden_gamma);
    if (pos % 8 == 0 && out.size() - i >= 8) {
      // Whole words, little-endian, the common case.
      std::array<std::byte, 8> le{};
      for (std::size_t b = 0; b < 8; ++b) le[b] = static_cast<std::byte>(w >> (8 * b));
      std::memcpy(out.data() + i, le.data(), 8);
      i += 8;
      continue;
    }
    out[i] = static_cast<std::byte>(w >> (8 * (pos % 8)));
    ++i;
  }
}

void stream_hash::mix(std::uint64_t w) {
  h_ ^= w;
  h_ *= fnv_prime;
  h_ ^= h_ >> 29;
}

void stream_hash::update(std::span<const std::byte> data) {
  for (const std::byte b : data) {
    word_ |= std::uint64_t{std::to_integer<std::uint8_t>(b)} << (8 * (len_ % 8));
    ++len_;
    if (len_ % 8 == 0) {
      mix(word_);
      word_ = 0;
    }
  }
}

std::uint64_t stream_hash::digest() const {
  stream_hash t = *this;
  if (t.len_ % 8 != 0) t.mix(t.word_);
  t.mix(t.len_);
  return t.h_;
}

std::uint64_t expected_hash(const payload_stream& s, std::uint64_t len) {
  std::vector<std::byte> buf(static_cast<std::size_t>(std::min<std::uint64_t>(len, chunk_size)));
  stream_hash h;
  for (std::uint64_t off = 0; off < len;) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(len - off, buf.size()));
    s.fill(off, std::span{buf}.first(n));
    h.update(std::span{buf}.first(n));
    off += n;
  }
  return h.digest();
}

std::string describe(const transfer_config& c) {
  const bool same_tcp = describe_tcp(c.client_tcp) == describe_tcp(c.server_tcp);
  return fmt::format("seed={} bytes_c2s={} bytes_s2c={} host_mtu={} limit={}us stall={}us | c2s: {} | s2c: {} | {}{}",
                     c.seed, c.bytes_c2s, c.bytes_s2c, c.mtu, c.limit.count(), c.stall.count(),
                     describe_link(c.c2s), describe_link(c.s2c),
                     same_tcp ? "tcp: " : "client tcp: ", describe_tcp(c.client_tcp),
                     same_tcp ? std::string{} : " | server tcp: " + describe_tcp(c.server_tcp));
}

double transfer_outcome::throughput() const {
  const double secs = transfer_seconds();
  if (!transfer_done || secs <= 0.0) return 0.0;
  return static_cast<double>(client.received + server.received) / secs;
}

std::string transfer_outcome::summary() const {
  auto side = [](const char* name, const transfer_side& s) {
    return fmt::format(
        "{}: sent={} read={}/{}{} hash={:016x}/{:016x}{} out_segs={} retrans={} in_errs={} out_rsts={} "
        "drops=[{}] left: conns={} time_wait={}",
        name, s.sent, s.received, s.expected, s.eof ? "+EOF" : "", s.received_hash, s.expected_hash,
        s.first_mismatch ? fmt::format(" FIRST MISMATCH at {}", *s.first_mismatch) : std::string{},
        s.counters.out_segs, s.counters.retrans_segs, s.counters.in_errs, s.counters.out_rsts,
        describe_drops(s.counters), s.connections,
        s.time_wait_records);
  };
  auto link = [](const char* name, const sim::link_stats& l) {
    return fmt::format("{}: sent={} delivered={} lost={} dup={} reordered={} corrupted={} queue_drops={} too_big={}",
                       name, l.sent, l.delivered, l.lost, l.duplicated, l.reordered, l.corrupted, l.queue_drops,
                       l.too_big);
  };
  return fmt::format("{} {} transfer_done={} end={}us throughput={:.0f}B/s livelocks={}\n  {}\n  {}\n  {}\n  {}",
                     completed ? "completed" : "FAILED:", reason,
                     transfer_done ? fmt::format("{}us", transfer_done->us) : std::string{"never"}, end.us,
                     throughput(), livelocks, side("client", client), side("server", server), link("c2s", c2s),
                     link("s2c", s2c));
}

// ---- the run ------------------------------------------------------------------------------

namespace {

// One application: a connection, the stream it writes and the stream it checks.
struct app {
  app(const char* n, host& hst, payload_stream out, payload_stream in, std::uint64_t send_total,
      std::uint64_t receive_total)
      : name(n), h(hst), tx_stream(out), rx_stream(in), to_send(send_total), chunk(chunk_size), check(chunk_size),
        rx_buf(chunk_size) {
    side.expected = receive_total;
  }

  const char* name;
  host& h;
  payload_stream tx_stream;
  payload_stream rx_stream;
  std::uint64_t to_send;
  std::optional<conn_handle> conn;
  std::optional<four_tuple> tuple;  // kept for reports after the handle is released
  bool established = false;
  bool shut = false;
  bool closed = false;
  transfer_side side;
  stream_hash tx_hash;
  stream_hash rx_hash;
  // The chunk of the outgoing stream being written: bytes [chunk_off, chunk_off + chunk_len).
  std::vector<std::byte> chunk;
  std::uint64_t chunk_off = 0;
  std::size_t chunk_len = 0;
  std::vector<std::byte> check;
  std::vector<std::byte> rx_buf;

  // Returns an error text if the application hit one.
  std::optional<std::string> act(instant now) {
    if (!conn || closed || !established) return std::nullopt;
    if (auto e = write()) return e;
    if (side.sent == to_send && !shut) {
      if (auto r = h.shutdown(now, *conn); !r) return fmt::format("{} shutdown: {}", name, to_string(r.error()));
      shut = true;
    }
    if (auto e = read()) return e;
    if (shut && side.eof) {
      if (auto r = h.close(now, *conn); !r) return fmt::format("{} close: {}", name, to_string(r.error()));
      closed = true;
    }
    return std::nullopt;
  }

  std::optional<std::string> write() {
    while (side.sent < to_send) {
      if (side.sent == chunk_off + chunk_len) {
        chunk_off = side.sent;
        chunk_len = static_cast<std::size_t>(std::min<std::uint64_t>(to_send - side.sent, chunk.size()));
        tx_stream.fill(chunk_off, std::span{chunk}.first(chunk_len));
      }
      const auto at = static_cast<std::size_t>(side.sent - chunk_off);
      const auto data = std::span<const std::byte>{chunk}.subspan(at, chunk_len - at);
      auto n = h.send(*conn, data);
      if (!n) {
        if (n.error() == tcp_error::would_block) return std::nullopt;
        return fmt::format("{} send: {}", name, to_string(n.error()));
      }
      if (*n == 0) return std::nullopt;
      tx_hash.update(data.first(*n));
      side.sent += *n;
    }
    return std::nullopt;
  }

  std::optional<std::string> read() {
    while (!side.eof) {
      auto n = h.recv(*conn, rx_buf);
      if (!n) {
        if (n.error() == tcp_error::would_block) return std::nullopt;
        return fmt::format("{} recv: {}", name, to_string(n.error()));
      }
      if (*n == 0) {
        side.eof = true;
        break;
      }
      const auto got = std::span<const std::byte>{rx_buf}.first(*n);
      if (!side.first_mismatch) {
        // Byte-exact check against the generator, beyond the hash: it names the offset.
        const auto want = std::span{check}.first(*n);
        rx_stream.fill(side.received, want);
        if (std::memcmp(want.data(), got.data(), *n) != 0) {
          std::size_t i = 0;
          while (want[i] == got[i]) ++i;
          side.first_mismatch = side.received + i;
        }
      }
      rx_hash.update(got);
      side.received += *n;
    }
    return std::nullopt;
  }
};

// What a host still holds, TCB by TCB: the picture a failure report needs.
std::string dump_host(const char* name, const host& h, const std::optional<four_tuple>& tuple) {
  const connection* c = tuple ? h.lookup(*tuple) : nullptr;
  if (c == nullptr) return fmt::format("{}: no TCB; {} TCB(s), {} TIME-WAIT record(s)", name,
                                       h.connection_count(), h.time_wait_count());
  const tcb_snapshot t = c->snapshot();
  return fmt::format(
      "{}: {} snd.una={} nxt={} max={} wnd={} mss={} rcv.nxt={} wnd={} send_queue={} recv_queue={} "
      "ooo={}/{}B rto={}us timer={}@{}",
      name, to_string(t.state), t.snd.una.raw, t.snd.nxt.raw, t.snd.max.raw, t.snd.wnd, t.snd.mss, t.rcv.nxt.raw,
      t.rcv.wnd, t.send_queue, t.recv_queue, t.recv_ooo_ranges, t.recv_ooo_bytes, t.rto.count(),
      t.next_timer ? to_string(*t.next_timer) : std::string_view{"none"}, t.deadline ? t.deadline->us : -1);
}

}  // namespace

transfer_outcome run_transfer(const transfer_config& cfg) {
  host client(make_host(cfg.client_addr, cfg.client_tcp, cfg.mtu, cfg.seed, 1));
  host server(make_host(cfg.server_addr, cfg.server_tcp, cfg.mtu, cfg.seed, 2));
  sim::node_adapter<host> client_node(client);
  sim::node_adapter<host> server_node(server);
  sim::world world(cfg.seed);
  const auto a = world.add_node(client_node, cfg.client_addr, "client");
  const auto b = world.add_node(server_node, cfg.server_addr, "server");
  world.add_link(a, b, cfg.c2s, cfg.s2c);
  if (cfg.observer) world.set_observer(cfg.observer);

  const payload_stream c2s = stream_for(cfg.seed, true);
  const payload_stream s2c = stream_for(cfg.seed, false);
  app capp("client", client, c2s, s2c, cfg.bytes_c2s, cfg.bytes_s2c);
  app sapp("server", server, s2c, c2s, cfg.bytes_s2c, cfg.bytes_c2s);

  transfer_outcome out;
  auto fail = [&out](std::string why) {
    if (out.reason.empty()) out.reason = std::move(why);
  };

  const instant t0 = world.now();
  auto listener = server.listen(cfg.server_port, 4);
  if (!listener) fail(fmt::format("listen: {}", to_string(listener.error())));
  if (auto c = client.connect(t0, cfg.server_addr, cfg.server_port)) {
    capp.conn = *c;
  } else {
    fail(fmt::format("connect: {}", to_string(c.error())));
  }

  // Connection events: accept, established, and any death other than a normal close.
  auto events = [&](host& h, app& ap) {
    while (auto e = h.poll_event()) {
      if (e->what == host_event::kind::accept_ready) {
        if (!ap.conn) {
          if (auto c = h.accept(*listener)) ap.conn = *c;
        }
        continue;
      }
      if (e->ev.kind == tcp_event_kind::established) ap.established = true;
      if (e->ev.kind == tcp_event_kind::closed && e->ev.reason != close_reason::none) {
        fail(fmt::format("{} connection lost at {}us: {}", ap.name, world.now().us, to_string(e->ev.reason)));
      }
    }
    // A connection accepted already synchronized may have reported establishment before accept.
    if (ap.conn && !ap.established && !ap.closed) {
      const auto st = h.state(*ap.conn);
      ap.established = st && *st != tcp_state::syn_sent && *st != tcp_state::syn_received && *st != tcp_state::closed;
    }
    if (ap.conn && !ap.tuple) {
      if (const connection* c = h.find(*ap.conn)) ap.tuple = c->tuple();
    }
  };

  auto delivered = [&] {
    return capp.side.received + sapp.side.received + (capp.side.eof ? 1U : 0U) + (sapp.side.eof ? 1U : 0U);
  };
  auto finished = [&] {
    return capp.closed && sapp.closed && client.connection_count() == 0 && client.time_wait_count() == 0 &&
           server.connection_count() == 0 && server.time_wait_count() == 0;
  };

  const instant limit = t0 + cfg.limit;
  std::uint64_t last_delivered = 0;
  instant last_progress = t0;
  for (int idle = 0; out.reason.empty();) {
    const instant now = world.now();
    events(client, capp);
    events(server, sapp);
    if (auto e = capp.act(now)) fail(*e);
    if (auto e = sapp.act(now)) fail(*e);
    if (!out.transfer_done && capp.side.eof && sapp.side.eof) out.transfer_done = now;
    if (finished() || !out.reason.empty()) break;
    if (const std::uint64_t d = delivered(); d != last_delivered) {
      last_delivered = d;
      last_progress = now;
    } else if (!out.transfer_done && now - last_progress > cfg.stall) {
      fail(fmt::format("stalled: nothing delivered from {}us to {}us", last_progress.us, now.us));
      break;
    }
    if (now > limit) {
      fail(out.transfer_done ? "virtual time limit reached while closing" : "virtual time limit reached");
      break;
    }
    if (world.livelocks() != 0) {
      fail(fmt::format("livelock at {}us", now.us));
      break;
    }
    if (world.step()) {
      idle = 0;
    } else if (++idle == 2) {
      fail("idle: nothing pending but the run is not finished");
    }
  }

  out.end = world.now();
  if (!out.reason.empty()) {
    out.reason += "\n    " + dump_host("client", client, capp.tuple) + "\n    " +
                  dump_host("server", server, sapp.tuple);
  }
  out.livelocks = world.livelocks();
  auto settle = [](app& ap, const host& h, const app& peer) {
    ap.side.received_hash = ap.rx_hash.digest();
    ap.side.expected_hash = peer.tx_hash.digest();
    ap.side.counters = h.counters();
    ap.side.connections = h.connection_count();
    ap.side.time_wait_records = h.time_wait_count();
  };
  settle(capp, client, sapp);
  settle(sapp, server, capp);
  out.client = capp.side;
  out.server = sapp.side;
  out.c2s = world.stats(0, true);
  out.s2c = world.stats(0, false);

  // The hash the peer's application wrote must be the generator's: the writer is checked too.
  const bool writers_ok = capp.side.sent == cfg.bytes_c2s && sapp.side.sent == cfg.bytes_s2c &&
                          capp.tx_hash.digest() == expected_hash(c2s, cfg.bytes_c2s) &&
                          sapp.tx_hash.digest() == expected_hash(s2c, cfg.bytes_s2c);
  out.hashes_match = writers_ok && out.client.received_hash == out.client.expected_hash &&
                     out.server.received_hash == out.server.expected_hash &&
                     out.client.received == cfg.bytes_s2c && out.server.received == cfg.bytes_c2s;
  if (out.reason.empty() && !out.hashes_match) fail("streams do not match");
  if (out.reason.empty() && (out.client.first_mismatch || out.server.first_mismatch)) fail("a byte differs");
  out.completed = out.reason.empty();
  return out;
}

}  // namespace synack
