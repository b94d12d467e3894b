#include "why_world.hpp"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::why {
namespace {

host_config make_host(ipv4_addr a, const tcp_config& tcp, const world_config& c, std::uint64_t salt) {
  host_config h;
  h.addr = a;
  h.tcp = tcp;
  h.syncookies = c.syncookies;
  h.syn_backlog = c.syn_backlog;
  // Keys derive from the seed: a run is a pure function of it (DESIGN.md §1).
  rng r(c.seed ^ (salt * 0x9E3779B97F4A7C15ULL));
  h.secret = siphash_key{r.next_u64(), r.next_u64()};
  return h;
}

std::optional<seg_view> view_of(instant at, bytes packet) {
  const auto r = segment_row_of(at, packet, true, false);
  if (!r) return std::nullopt;
  return seg_view{at, r->flags, r->seq, r->ack, r->len};
}

tcp_state state_of(const host& h, const four_tuple& t, tcp_state otherwise) {
  if (const connection* c = h.lookup(t)) return c->state();
  if (h.lookup_time_wait(t) != nullptr) return tcp_state::time_wait;
  return otherwise;
}

}  // namespace

// ---- side ----------------------------------------------------------------------------------

void side::on_packet(instant now, bytes packet) {
  host& h = client_ ? w_.client : w_.server;
  // Packets for other addresses (SYN-ACKs to spoofed sources) end here, as at a router with no
  // route back to them.
  if (packet.size() < 20 || load_be32(packet.data() + 16) != h.addr().value) {
    ++swallowed_;
    return;
  }
  h.on_packet(now, packet);
  w_.report(now, packet, !client_, false);
}

void side::on_timeout(instant now) {
  host& h = client_ ? w_.client : w_.server;
  if (const auto d = h.next_deadline(); d && *d <= now) h.on_timeout(now);
}

std::optional<std::size_t> side::poll_transmit(instant now, mutable_bytes out) {
  host& h = client_ ? w_.client : w_.server;
  while (auto n = h.poll_transmit(now, out)) {
    const bytes p = out.first(*n);
    const auto s = view_of(now, p);
    const verdict v = filter && s ? filter(*s) : verdict{};
    switch (v.what) {
      case fate::pass:
        return n;
      case fate::drop:
        w_.report(now, p, client_, true);
        continue;
      case fate::delay:
        queue_.emplace(now + v.after, std::vector<std::byte>(p.begin(), p.end()));
        continue;
      case fate::duplicate_later:
        queue_.emplace(now + v.after, std::vector<std::byte>(p.begin(), p.end()));
        return n;
    }
  }
  // What the network holds or injects goes after the host's own packets of this instant.
  while (!queue_.empty() && queue_.begin()->first <= now && queue_.begin()->second.empty()) {
    queue_.erase(queue_.begin());  // a wake-up: done by being due
  }
  if (queue_.empty() || queue_.begin()->first > now) return std::nullopt;
  const auto& p = queue_.begin()->second;
  std::memcpy(out.data(), p.data(), p.size());
  const std::size_t n = p.size();
  queue_.erase(queue_.begin());
  return n;
}

std::optional<instant> side::next_deadline() const {
  const host& h = client_ ? w_.client : w_.server;
  std::optional<instant> d = h.next_deadline();
  if (!queue_.empty() && (!d || queue_.begin()->first < *d)) d = queue_.begin()->first;
  return d;
}

// ---- world ---------------------------------------------------------------------------------

world::world(const world_config& c)
    : client(make_host(client_addr, c.client_tcp, c, 1)),
      server(make_host(server_addr, c.server_tcp, c, 2)),
      cfg_(c),
      sim_(c.seed),
      client_node_(*this, true),
      server_node_(*this, false) {
  sim::link_config lc;
  lc.latency = c.latency;
  const auto a = sim_.add_node(client_node_, client_addr, "client");
  const auto b = sim_.add_node(server_node_, server_addr, "server");
  sim_.add_link(a, b, lc);
}

void world::listen(std::uint16_t port, const tcp_config& cfg) {
  listener = server.listen(port, 16, cfg).value();
  tuple.remote_addr = server_addr;
  tuple.remote_port = port;
  shown_server_ = tcp_state::listen;
}

result<conn_handle, host_error> world::connect(std::uint16_t local_port, std::uint16_t port) {
  auto c = client.connect(sim_.now(), server_addr, port, local_port);
  if (c) {
    client_conn = *c;
    server_conn.reset();
    tuple = four_tuple{client_addr, local_port, server_addr, port};
    report_states("client calls connect()", {});
  }
  return c;
}

tcp_state world::client_state() const { return state_of(client, tuple, tcp_state::closed); }

tcp_state world::server_state() const {
  const bool listening = listener.has_value();
  return state_of(server, server_tuple(), listening ? tcp_state::listen : tcp_state::closed);
}

void world::report(instant t, bytes packet, bool from_client, bool lost) {
  auto row = segment_row_of(t, packet, from_client, lost);
  if (!row) return;
  // The watched connection: the client's address and port on the client's side of the segment.
  const std::size_t ihl = (static_cast<std::size_t>(packet[0]) & 0x0F) * 4;
  const ipv4_addr client_side{load_be32(packet.data() + (from_client ? 12 : 16))};
  const std::uint16_t client_port = load_be16(packet.data() + ihl + (from_client ? 0 : 2));
  if (client_side != client_addr || client_port != tuple.local_port) {
    ++foreign_segments;
    return;
  }
  row->client_state = client_state();
  row->server_state = server_state();
  shown_client_ = row->client_state;
  shown_server_ = row->server_state;
  if (on_segment) on_segment(*row);
}

void world::report_states(std::string_view client_cause, std::string_view server_cause) {
  auto check = [&](bool is_client, tcp_state now_state, std::string_view cause) {
    tcp_state& before = is_client ? shown_client_ : shown_server_;
    if (before == now_state) return;
    std::string why(cause);
    if (why.empty()) why = before == tcp_state::time_wait ? "2 x MSL timer expires" : "timeout";
    why = cause_text(language, why);
    const state_row r{sim_.now(), is_client, before, now_state, why};
    before = now_state;
    if (on_state) on_state(r);
  };
  check(true, client_state(), client_cause);
  check(false, server_state(), server_cause);
}

bool world::run(const std::function<void()>& app, const std::function<bool()>& done, duration limit) {
  const instant end = sim_.now() + limit;
  for (int idle = 0;;) {
    if (app) app();
    report_states();
    if (done()) return true;
    if (sim_.now() > end) return false;
    if (sim_.step()) {
      idle = 0;
    } else if (++idle == 2) {
      return false;
    }
  }
}

std::vector<std::byte> make_syn(ipv4_addr src, std::uint16_t sport, ipv4_addr dst, std::uint16_t dport, seq_num seq) {
  tcp_repr s;
  s.src_port = sport;
  s.dst_port = dport;
  s.seq = seq;
  s.flags = tcp_flag::syn;
  s.window = 65535;
  s.options.mss = 1460;
  std::vector<std::byte> p(ipv4_repr::buffer_len() + s.buffer_len());
  p.resize(emit_tcp_datagram(p, ipv4_repr{.src = src, .dst = dst}, s));
  return p;
}

std::string_view tr(lang l, std::string_view en, std::string_view zh) { return l == lang::en ? en : zh; }

std::string setup_line(lang l, duration latency, std::uint64_t seed, std::string_view extra) {
  const double lat = static_cast<double>(latency.count()) / 1000.0;
  std::string s = l == lang::en ? fmt::format("client {} and server {} on a simulated link, latency {:g} ms each way, seed {}",
                                              client_addr.to_string(), server_addr.to_string(), lat, seed)
                                : fmt::format("客户端 {} 与服务器 {}，模拟链路，单向时延 {:g} ms，种子 {}", client_addr.to_string(),
                                              server_addr.to_string(), lat, seed);
  if (!extra.empty()) s += fmt::format("{}{}", l == lang::en ? "; " : "；", extra);
  return s;
}

std::string cause_text(lang l, std::string_view en) {
  static constexpr std::array<std::array<std::string_view, 2>, 10> zh{{
      {"client calls connect()", "客户端调用 connect()"},
      {"client calls close()", "客户端调用 close()"},
      {"server calls close()", "服务器调用 close()"},
      {"client calls shutdown()", "客户端调用 shutdown()"},
      {"server calls shutdown()", "服务器调用 shutdown()"},
      {"both call close()", "双方调用 close()"},
      {"2 x MSL timer expires", "2 x MSL 计时器到期"},
      {"timeout", "超时"},
      {"TIME-WAIT disabled", "TIME-WAIT 已关闭"},
      {"", ""},
  }};
  if (l == lang::zh) {
    for (const auto& [e, z] : zh) {
      if (e == en && !e.empty()) return std::string(z);
    }
  }
  return std::string(en);
}

void world::take_events() {
  while (auto e = server.poll_event()) {
    if (e->what == host_event::kind::accept_ready && listener && !server_conn) {
      if (auto c = server.accept(*listener)) server_conn = *c;
    }
  }
  while (client.poll_event()) {
  }
}

void drain(host& h, conn_handle c, std::string& into) {
  std::array<std::byte, 2048> buf{};
  while (true) {
    auto n = h.recv(c, buf);
    if (!n || *n == 0) return;
    into.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
}

void send_some(host& h, conn_handle c, const std::string& data, std::size_t& sent) {
  while (sent < data.size()) {
    auto n = h.send(c, std::as_bytes(std::span{data}).subspan(sent));
    if (!n || *n == 0) return;
    sent += *n;
  }
}

}  // namespace synack::why
