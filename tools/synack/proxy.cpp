// `synack proxy`: a transparent TCP proxy over a TUN device (issue #15), until SIGINT/SIGTERM.
// Every TCP connection routed into the device is terminated by synack and relayed to its
// original destination through a socket of the host's kernel (--direct), or through a SOCKS5
// server it asks to connect there (--socks5 HOST:PORT; tools/lib/proxy.hpp, tools/lib/socks5.hpp);
// every UDP datagram too, per client 4-tuple session, directly or through the SOCKS5 server's
// UDP ASSOCIATE (tools/lib/udp_relay.hpp; --no-udp).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdio>

#include "commands.hpp"
#include "proxy.hpp"

namespace synack::tools {
namespace {

struct proxy_cli_options {
  net_options net;
  bool direct = false;
  std::string socks5;  // HOST:PORT
  std::string user;
  std::string password;
  std::string out_interface;
  std::optional<std::uint32_t> out_mark;
  std::size_t buffer_kib = tcp_config{}.send_buffer / 1024;  // 256: synack's default
  double connect_timeout_s = 30.0;
  std::size_t backlog = 4096;
  bool no_udp = false;
  double udp_timeout_s = 60.0;
  std::size_t udp_sessions = 1024;
};

// "HOST:PORT" or "[IPv6]:PORT" split; the message says what is wrong.
result<std::pair<std::string, std::uint16_t>, std::string> split_host_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") {
      return unexpected{fmt::format("--socks5: '{}' is not [IPv6]:PORT", text)};
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return unexpected{fmt::format("--socks5: '{}' is not HOST:PORT (an IPv6 address goes in brackets)", text)};
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (host.empty() || ec != std::errc{} || end != port.data() + port.size() || p == 0 || p > 65535) {
    return unexpected{fmt::format("--socks5: '{}' is not HOST:PORT with a port from 1 to 65535", text)};
  }
  return std::pair{std::string(host), static_cast<std::uint16_t>(p)};
}

// The server's address: an IP literal, or a name resolved once at start (before the event loop).
result<ip_addr, std::string> resolve(const std::string& host) {
  if (auto a = ip_addr::parse(host)) return *a;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0) {
    return unexpected{fmt::format("--socks5: cannot resolve '{}': {}", host, ::gai_strerror(rc))};
  }
  std::optional<ip_addr> a;
  for (const addrinfo* r = res; r != nullptr && !a; r = r->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* src = r->ai_family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(r->ai_addr)->sin_addr)
                                              : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(r->ai_addr)->sin6_addr);
    if ((r->ai_family == AF_INET || r->ai_family == AF_INET6) && ::inet_ntop(r->ai_family, src, text, sizeof text)) {
      a = ip_addr::parse(text);
    }
  }
  ::freeaddrinfo(res);
  if (!a) return unexpected{fmt::format("--socks5: '{}' has no IPv4 or IPv6 address", host)};
  return *a;
}

// The upstream options, checked before anything is opened (usage errors exit 2); `host` gets
// the SOCKS5 server's name or address, to resolve.
result<std::optional<socks5_upstream>, std::string> upstream_of(const proxy_cli_options& o, std::string& host) {
  if (o.direct && !o.socks5.empty()) return unexpected{std::string("--direct and --socks5 exclude each other: choose one upstream")};
  if (!o.direct && o.socks5.empty()) return unexpected{std::string("choose the upstream: --direct or --socks5 HOST:PORT")};
  const bool has_auth = !o.user.empty() || !o.password.empty();
  if (o.direct) {
    if (has_auth) return unexpected{std::string("--user and --password are for --socks5 only")};
    return std::optional<socks5_upstream>{};
  }
  auto hp = split_host_port(o.socks5);
  if (!hp) return unexpected{hp.error()};
  socks5_upstream up;
  up.port = hp->second;
  if (has_auth) {
    if (o.user.empty() || o.password.empty()) return unexpected{std::string("--user and --password go together")};
    if (auto bad = socks5::check_credentials(o.user, o.password)) return unexpected{*bad};
    up.auth = socks5::credentials{o.user, o.password};
  }
  host = hp->first;
  return std::optional<socks5_upstream>{std::move(up)};
}

int run_proxy(const proxy_cli_options& o) {
  std::string host;
  auto upstream = upstream_of(o, host);
  if (!upstream) {
    fmt::print(stderr, "synack proxy: {}\n", upstream.error());
    return exit_usage;
  }
  if (*upstream) {
    auto a = resolve(host);
    if (!a) {
      fmt::print(stderr, "synack proxy: {}\n", a.error());
      return 1;
    }
    (*upstream)->addr = *a;
  }
  net_options net = o.net;
  net.tcp_buffer = o.buffer_kib * 1024;  // the relay holds bytes in synack's buffers only
  auto s = net_session::open(net);
  if (!s) {
    fmt::print(stderr, "synack proxy: {}\n", s.error());
    return 1;
  }
  proxy_options po;
  po.socks5 = *upstream;
  po.out_interface = o.out_interface;
  po.out_mark = o.out_mark;
  po.connect_timeout = std::chrono::microseconds(static_cast<std::int64_t>(o.connect_timeout_s * 1e6));
  po.backlog = o.backlog;
  po.verbose = o.net.verbose;
  auto p = proxy::start((*s)->loop(), po);
  if (!p) {
    fmt::print(stderr, "synack proxy: {}\n", p.error());
    return 1;
  }
  std::unique_ptr<udp_relay> udp;
  // With --socks5 nothing goes around the server: UDP goes through its UDP ASSOCIATE.
  if (!o.no_udp) {
    udp_relay_options uo;
    uo.socks5 = po.socks5;
    uo.connect_timeout = po.connect_timeout;
    uo.out_interface = o.out_interface;
    uo.out_mark = o.out_mark;
    uo.idle_timeout = std::chrono::microseconds(static_cast<std::int64_t>(o.udp_timeout_s * 1e6));
    uo.max_sessions = o.udp_sessions;
    uo.verbose = o.net.verbose;
    auto u = udp_relay::start((*s)->loop(), uo);
    if (!u) {
      fmt::print(stderr, "synack proxy: {}\n", u.error());
      return 1;
    }
    udp = std::move(*u);
  }
  (*s)->set_proxy_stats([px = p->get(), ux = udp.get()] {
    proxy_stats st = px->stats();
    if (ux != nullptr) {
      st.udp = ux->stats();
      st.socks5_udp = ux->socks5_stats();
    }
    return st;
  });
  (*s)->set_proxy_links([px = p->get()] { return px->links(); });
  const std::string out = !o.out_interface.empty() ? fmt::format("interface {}", o.out_interface)
                          : o.out_mark             ? fmt::format("mark {}", *o.out_mark)
                                                   : std::string("the kernel's routes");
  // The line tests wait for: connections into the device are relayed from here on.
  const std::string mode = po.socks5 ? fmt::format("socks5 {}{}", po.socks5->addr.with_port(po.socks5->port),
                                                    po.socks5->auth ? " (username/password)" : "")
                                     : std::string("direct");
  fmt::print(stderr, "synack proxy: {} via {} ({}), out through {}, control {}{}\n", mode, (*s)->ifname(),
             (*s)->io_desc(), out, (*s)->ctl_path().empty() ? "off" : (*s)->ctl_path(), udp ? "" : ", no UDP");
  std::fflush(stderr);
  (*s)->loop().run();
  const proxy_stats& st = (*p)->stats();
  if (o.net.verbose) {
    fmt::print(stderr, "synack proxy: {} sessions, {} bytes up, {} bytes down; {}\n", st.sessions_opened, st.bytes_up,
               st.bytes_down, (*s)->summary());
  }
  udp.reset();
  p->reset();  // the kernel sockets close before the host goes
  return (*s)->write_ladders("synack proxy") ? 0 : 1;
}

}  // namespace

void add_proxy(CLI::App& app) {
  auto o = std::make_shared<proxy_cli_options>();
  auto* cmd = app.add_subcommand("proxy",
                                 "relay every TCP connection and UDP datagram (directly or via SOCKS5) "
                                 "routed into a TUN device to its destination");
  cmd->footer(
      "Example (as root): synack proxy --tun synack0 --addr 10.77.0.2/24 --direct --out-interface eth0\n"
      "  or, through a SOCKS5 server: ... --socks5 192.0.2.1:1080 [--user U --password P] --out-interface eth0\n"
      "  then route traffic into synack0 (README: `synack proxy`); the proxy's own sockets leave\n"
      "  through --out-interface (SO_BINDTODEVICE) or carry --out-mark (SO_MARK) for an ip rule.\n"
      "Stops on SIGINT/SIGTERM. Exit codes: 0 stopped by a signal, 1 setup failed, 2 usage.");
  add_net_options(*cmd, o->net);
  cmd->add_flag("--direct", o->direct, "connect to each original destination from this host's kernel");
  cmd->add_option("--socks5", o->socks5,
                  "HOST:PORT ([IPv6]:PORT) of a SOCKS5 server to connect through (RFC 1928 CONNECT, "
                  "UDP ASSOCIATE)");
  cmd->add_option("--user", o->user, "--socks5: the user name (RFC 1929 username/password)");
  cmd->add_option("--password", o->password, "--socks5: the password (RFC 1929)");
  auto* oi = cmd->add_option("--out-interface", o->out_interface,
                             "the interface the proxy's own connections leave through (SO_BINDTODEVICE)");
  cmd->add_option("--out-mark", o->out_mark, "the firewall mark of the proxy's own connections (SO_MARK)")
      ->excludes(oi);
  cmd->add_option("--buffer", o->buffer_kib,
                  "KiB of send and of receive buffer per synack connection: what the relay holds per "
                  "direction beyond the kernel socket's")
      ->check(in_range<std::size_t>(4, 16384))
      ->capture_default_str();
  cmd->add_option("--connect-timeout", o->connect_timeout_s,
                  "seconds an upstream connect (with --socks5: or a UDP association) may take")
      ->check(in_range(0.1, 600.0))
      ->capture_default_str();
  cmd->add_option("--backlog", o->backlog, "accept queue of the any-address listeners")->capture_default_str();
  auto* nu = cmd->add_flag("--no-udp", o->no_udp, "relay no UDP (datagrams into the device are dropped)");
  cmd->add_option("--udp-timeout", o->udp_timeout_s, "seconds a UDP session may stay idle")
      ->check(in_range(0.1, 86400.0))
      ->capture_default_str()
      ->excludes(nu);
  cmd->add_option("--udp-sessions", o->udp_sessions, "UDP sessions at most (the least recently active is evicted)")
      ->check(in_range<std::size_t>(1, 1 << 20))
      ->capture_default_str()
      ->excludes(nu);
  cmd->callback([o] { set_exit_code(run_proxy(*o)); });
}

}  // namespace synack::tools
