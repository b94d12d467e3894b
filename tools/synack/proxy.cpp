// `synack proxy`: a transparent TCP proxy over a TUN device (issue #15), until SIGINT/SIGTERM.
// Every TCP connection routed into the device is terminated by synack and relayed to its
// original destination through a socket of the host's kernel (--direct; tools/lib/proxy.hpp),
// and every UDP datagram too, per client 4-tuple session (tools/lib/udp_relay.hpp; --no-udp).
#include <fmt/format.h>

#include <cstdio>

#include "commands.hpp"
#include "proxy.hpp"

namespace synack::tools {
namespace {

struct proxy_cli_options {
  net_options net;
  bool direct = false;
  std::string out_interface;
  std::optional<std::uint32_t> out_mark;
  std::size_t buffer_kib = 128;
  double connect_timeout_s = 30.0;
  std::size_t backlog = 4096;
  bool no_udp = false;
  double udp_timeout_s = 60.0;
  std::size_t udp_sessions = 1024;
};

int run_proxy(const proxy_cli_options& o) {
  if (!o.direct) {
    fmt::print(stderr, "synack proxy: only --direct is implemented (SOCKS5 is not yet)\n");
    return exit_usage;
  }
  auto s = net_session::open(o.net);
  if (!s) {
    fmt::print(stderr, "synack proxy: {}\n", s.error());
    return 1;
  }
  proxy_options po;
  po.out_interface = o.out_interface;
  po.out_mark = o.out_mark;
  po.buffer = o.buffer_kib * 1024;
  po.connect_timeout = std::chrono::microseconds(static_cast<std::int64_t>(o.connect_timeout_s * 1e6));
  po.backlog = o.backlog;
  po.verbose = o.net.verbose;
  auto p = proxy::start((*s)->loop(), po);
  if (!p) {
    fmt::print(stderr, "synack proxy: {}\n", p.error());
    return 1;
  }
  std::unique_ptr<udp_relay> udp;
  if (!o.no_udp) {
    udp_relay_options uo;
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
    if (ux != nullptr) st.udp = ux->stats();
    return st;
  });
  const std::string out = !o.out_interface.empty() ? fmt::format("interface {}", o.out_interface)
                          : o.out_mark             ? fmt::format("mark {}", *o.out_mark)
                                                   : std::string("the kernel's routes");
  // The line tests wait for: connections into the device are relayed from here on.
  fmt::print(stderr, "synack proxy: direct via {} ({}), out through {}, control {}{}\n", (*s)->ifname(),
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
  auto* cmd = app.add_subcommand(
      "proxy", "relay every TCP connection and UDP datagram routed into a TUN device to its destination");
  cmd->footer(
      "Example (as root): synack proxy --tun synack0 --addr 10.77.0.2/24 --direct --out-interface eth0\n"
      "  then route traffic into synack0 (README: `synack proxy`); the proxy's own sockets leave\n"
      "  through --out-interface (SO_BINDTODEVICE) or carry --out-mark (SO_MARK) for an ip rule.\n"
      "Stops on SIGINT/SIGTERM. Exit codes: 0 stopped by a signal, 1 setup failed, 2 usage.");
  add_net_options(*cmd, o->net);
  cmd->add_flag("--direct", o->direct, "connect to each original destination from this host's kernel");
  auto* oi = cmd->add_option("--out-interface", o->out_interface,
                             "the interface the proxy's own connections leave through (SO_BINDTODEVICE)");
  cmd->add_option("--out-mark", o->out_mark, "the firewall mark of the proxy's own connections (SO_MARK)")
      ->excludes(oi);
  cmd->add_option("--buffer", o->buffer_kib, "KiB buffered per direction per connection")
      ->check(in_range<std::size_t>(4, 16384))
      ->capture_default_str();
  cmd->add_option("--connect-timeout", o->connect_timeout_s, "seconds an upstream connect may take")
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
