#include "echo_scenario.hpp"

#include <array>
#include <memory>

#include "synack/io/pcap/pcap_writer.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {
namespace {

// Passes packets to a host and reports each one after the host has processed it, so the
// report can show the receiver's state after the segment.
class traced_node final : public sim::node {
 public:
  traced_node(host& h, std::function<void(instant, bytes)> after) : h_(h), after_(std::move(after)) {}
  void on_packet(instant now, bytes packet) override {
    h_.on_packet(now, packet);
    after_(now, packet);
  }
  void on_timeout(instant now) override { h_.on_timeout(now); }
  std::optional<std::size_t> poll_transmit(instant now, mutable_bytes out) override {
    return h_.poll_transmit(now, out);
  }
  [[nodiscard]] std::optional<instant> next_deadline() const override { return h_.next_deadline(); }

 private:
  host& h_;
  std::function<void(instant, bytes)> after_;
};

host_config make_host(ipv4_addr a, const ipv6_addr& a6, const echo_config& c, std::uint64_t salt) {
  host_config h;
  h.addr = a;
  if (c.ipv6) h.addresses = {host_address{a6, 64}};
  h.tcp = c.tcp;
  // Keys derive from the seed: a run is a pure function of it (DESIGN.md §1).
  rng r(c.seed ^ (salt * 0x9E3779B97F4A7C15ULL));
  h.secret = siphash_key{r.next_u64(), r.next_u64()};
  return h;
}

}  // namespace

std::optional<segment_row> segment_row_of(instant at, bytes packet, bool from_client, bool lost) {
  // The TCP segment behind an IPv4 or IPv6 header (extension headers walked).
  bytes segment;
  if (!packet.empty() && (load_u8(&packet[0]) >> 4) == 6) {
    auto ip6 = ipv6_view::parse(packet);
    if (!ip6) return std::nullopt;
    auto up = walk_extension_headers(*ip6);
    if (!up || up->protocol != ipv6_next::tcp) return std::nullopt;
    segment = up->payload;
  } else {
    auto ip = ipv4_view::parse(packet);
    if (!ip || ip->protocol() != ip_proto::tcp) return std::nullopt;
    segment = ip->payload();
  }
  auto v = tcp_view::parse(segment);
  if (!v) return std::nullopt;
  segment_row row;
  row.at = at;
  row.from_client = from_client;
  row.lost = lost;
  row.flags = v->flags();
  row.seq = v->seq();
  if ((v->flags() & tcp_flag::ack) != 0) row.ack = v->ack_num();
  row.len = static_cast<std::uint32_t>(v->payload().size());
  row.window = v->window();
  if (auto opts = tcp_options::parse(v->options())) {
    row.options = *opts;
    row.options.unknown_count = 0;  // their bytes point into the packet
  }
  return row;
}

struct echo_scenario::impl {
  explicit impl(const echo_config& c)
      : cfg(c),
        client(make_host(c.client_addr, c.client_addr6, c, 1)),
        server(make_host(c.server_addr, c.server_addr6, c, 2)),
        world(c.seed),
        client_node(client, [this](instant t, bytes p) { report(t, p, false, false); }),
        server_node(server, [this](instant t, bytes p) { report(t, p, true, false); }) {}

  echo_config cfg;
  host client;
  host server;
  sim::world world;
  traced_node client_node;
  traced_node server_node;
  std::unique_ptr<pcap_writer> pcap;
  std::function<void(const segment_row&)>* on_segment = nullptr;
  std::function<void(const state_row&)>* on_state = nullptr;
  std::function<void(const sim::packet_event&)>* on_packet = nullptr;

  std::optional<conn_handle> client_conn;
  std::optional<conn_handle> server_conn;
  std::optional<listener_handle> listener;
  four_tuple client_tuple;  // as the client sees it
  std::size_t sent = 0;
  std::string echoed;
  std::string pending_echo;  // read by the server, not yet written back
  bool client_closed = false;
  bool server_closed = false;
  bool client_eof = false;
  tcp_state shown_client = tcp_state::closed;
  tcp_state shown_server = tcp_state::closed;
  echo_outcome out;

  [[nodiscard]] four_tuple server_tuple() const {
    return four_tuple{client_tuple.remote_addr, client_tuple.remote_port, client_tuple.local_addr,
                      client_tuple.local_port};
  }

  static tcp_state state_of(const host& h, const four_tuple& t, tcp_state otherwise) {
    if (const connection* c = h.lookup(t)) return c->state();
    if (h.lookup_time_wait(t) != nullptr) return tcp_state::time_wait;
    return otherwise;
  }
  [[nodiscard]] tcp_state client_state() const { return state_of(client, client_tuple, tcp_state::closed); }
  [[nodiscard]] tcp_state server_state() const {
    const bool listening = listener.has_value() && !server_conn && !server_closed;
    return state_of(server, server_tuple(), listening ? tcp_state::listen : tcp_state::closed);
  }

  void report(instant t, bytes packet, bool to_server, bool lost) {
    auto parsed = segment_row_of(t, packet, to_server, lost);
    if (!parsed) return;
    segment_row& row = *parsed;
    row.client_state = client_state();
    row.server_state = server_state();
    shown(true, row.client_state, t);
    shown(false, row.server_state, t);
    if (on_segment != nullptr && *on_segment) (*on_segment)(row);
  }

  // Records what the diagram now shows for a side, and when TIME-WAIT began and ended.
  void shown(bool is_client, tcp_state s, instant t) {
    tcp_state& prev = is_client ? shown_client : shown_server;
    auto& start = is_client ? out.client_time_wait_start : out.server_time_wait_start;
    auto& end = is_client ? out.client_time_wait_end : out.server_time_wait_end;
    if (s == tcp_state::time_wait && prev != tcp_state::time_wait) start = t;
    if (prev == tcp_state::time_wait && s != tcp_state::time_wait) end = t;
    prev = s;
  }

  // State changes that no segment caused (application calls, timers) become rows of their own.
  void report_state_changes(std::string_view client_cause = {}, std::string_view server_cause = {}) {
    const instant t = world.now();
    auto check = [&](bool is_client, tcp_state now_state, std::string_view cause) {
      const tcp_state before = is_client ? shown_client : shown_server;
      if (before == now_state) return;
      std::string why(cause);
      if (why.empty()) why = before == tcp_state::time_wait ? "2 x MSL timer expires" : "timeout";
      shown(is_client, now_state, t);
      if (on_state != nullptr && *on_state) (*on_state)(state_row{t, is_client, before, now_state, why});
    };
    check(true, client_state(), client_cause);
    check(false, server_state(), server_cause);
  }

  void start() {
    sim::link_config lc;
    lc.latency = cfg.latency;
    lc.loss = cfg.loss;
    const auto a = world.add_node(client_node, cfg.client_addr, "client");
    const auto b = world.add_node(server_node, cfg.server_addr, "server");
    world.add_link(a, b, lc);
    world.set_observer([this](const sim::packet_event& e) {
      if (on_packet != nullptr && *on_packet) (*on_packet)(e);
      if (e.fate == sim::packet_fate::sent && pcap) pcap->write(e.at, e.packet);
      if (e.fate == sim::packet_fate::lost) report(e.at, e.packet, e.from == 0, true);
    });
    const instant t0 = world.now();
    if (cfg.simultaneous_open) {
      // Both SYNs leave at the same instant and cross on the link (RFC 9293 Figure 8).
      client_conn = client.connect(t0, cfg.server_ip(), cfg.server_port, cfg.client_port).value();
      server_conn = server.connect(t0, cfg.client_ip(), cfg.client_port, cfg.server_port).value();
    } else {
      listener = server.listen(cfg.server_port, 16).value();
      shown_server = tcp_state::listen;
      client_conn = client.connect(t0, cfg.server_ip(), cfg.server_port).value();
    }
    client_tuple = client.find(*client_conn)->tuple();
    // The applications' calls are the first transitions (CLOSED -> SYN-SENT), each named.
    report_state_changes("client calls connect()", cfg.simultaneous_open ? "server calls connect()" : "");
  }

  // The applications: what each side does after every step.
  void act() {
    const instant now = world.now();
    while (auto e = server.poll_event()) {
      if (e->what == host_event::kind::accept_ready && !server_conn) {
        if (auto c = server.accept(*listener)) server_conn = *c;
      }
    }
    while (client.poll_event()) {
    }
    if (client_conn && !client_closed && client.state(*client_conn) == tcp_state::established) {
      while (sent < cfg.message.size()) {
        auto n = client.send(*client_conn, std::as_bytes(std::span{cfg.message}).subspan(sent));
        if (!n || *n == 0) break;
        sent += *n;
      }
    }
    server_app(now);
    client_app(now);
  }

  void server_app(instant now) {
    if (!server_conn || server_closed) return;
    std::array<std::byte, 2048> buf{};
    while (true) {
      auto n = server.recv(*server_conn, buf);
      if (!n) break;
      if (*n == 0) {  // the client's FIN: echo done, close our side (passive close)
        if (pending_echo.empty() && !cfg.simultaneous_close) {
          (void)server.close(now, *server_conn);
          server_closed = true;
          report_state_changes({}, "server calls close()");
          return;
        }
        break;
      }
      pending_echo.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    while (!pending_echo.empty()) {
      auto n = server.send(*server_conn, std::as_bytes(std::span{pending_echo}));
      if (!n || *n == 0) break;
      pending_echo.erase(0, *n);
    }
  }

  void client_app(instant now) {
    if (!client_conn || client_closed) return;
    std::array<std::byte, 2048> buf{};
    while (true) {
      auto n = client.recv(*client_conn, buf);
      if (!n || *n == 0) break;
      echoed.append(reinterpret_cast<const char*>(buf.data()), *n);
    }
    if (echoed.size() < cfg.message.size()) return;
    if (!cfg.simultaneous_close) {
      (void)client.close(now, *client_conn);  // active close: the client closes first
      client_closed = true;
      report_state_changes("client calls close()", {});
      return;
    }
    // Simultaneous close: once the echo is back and acknowledged, both close at one instant.
    const connection* s = server_conn ? server.find(*server_conn) : nullptr;
    if (s != nullptr && s->send_queued() == 0 && !server_closed) {
      (void)client.close(now, *client_conn);
      (void)server.close(now, *server_conn);
      client_closed = true;
      server_closed = true;
      report_state_changes("both call close()", "both call close()");
    }
  }

  [[nodiscard]] bool finished() const {
    return client_closed && server_closed && client.connection_count() == 0 && client.time_wait_count() == 0 &&
           server.connection_count() == 0 && server.time_wait_count() == 0;
  }
};

echo_scenario::echo_scenario(echo_config cfg) : impl_(std::make_unique<impl>(cfg)) {}
echo_scenario::~echo_scenario() = default;

echo_outcome echo_scenario::run() {
  impl& m = *impl_;
  m.on_segment = &on_segment_;
  m.on_state = &on_state_;
  m.on_packet = &on_packet_;
  if (!m.cfg.pcap_path.empty()) {
    auto w = pcap_writer::open(m.cfg.pcap_path);
    if (!w) {
      m.out.error = "cannot write pcap: " + w.error();
      return m.out;
    }
    m.pcap = std::move(w).value();
  }
  m.start();
  const instant limit = instant{} + m.cfg.limit;
  // step() returns false once nothing is pending; the applications get one more turn (they
  // may have something to say) before an idle world counts as a stall.
  for (int idle = 0;;) {
    m.act();
    m.report_state_changes();
    if (m.finished()) break;
    if (m.world.now() > limit) {
      m.out.error = "virtual time limit reached";
      break;
    }
    if (m.world.step()) {
      idle = 0;
    } else if (++idle == 2) {
      m.out.error = "stalled: nothing pending but the scenario is not finished";
      break;
    }
  }
  m.report_state_changes();
  if (m.pcap) m.pcap->flush();
  m.out.echoed = m.echoed;
  m.out.end = m.world.now();
  m.out.client = m.client.counters();
  m.out.server = m.server.counters();
  m.out.client_connections = m.client.connection_count();
  m.out.client_time_wait_records = m.client.time_wait_count();
  m.out.server_connections = m.server.connection_count();
  m.out.server_time_wait_records = m.server.time_wait_count();
  const auto& ab = m.world.stats(0, true);
  const auto& ba = m.world.stats(0, false);
  m.out.packets_lost = ab.lost + ba.lost;
  m.out.packets_delivered = ab.delivered + ba.delivered;
  if (m.out.error.empty() && m.echoed != m.cfg.message) m.out.error = "echo does not match";
  m.out.completed = m.out.error.empty();
  return m.out;
}

}  // namespace synack
