// `synack serve`: a service on this host's TCP, over a TUN device, until SIGINT/SIGTERM.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "servers.hpp"

namespace synack::tools {
namespace {

struct serve_options {
  net_options net;
  std::uint16_t port = 0;
  std::size_t backlog = 1024;
  std::string service;
  std::string dir;
};

int run_serve(const serve_options& o) {
  // Usage errors are found before the TUN device is made.
  if (o.service == "http") {
    std::error_code ec;
    if (o.dir.empty()) {
      fmt::print(stderr, "synack serve: http needs a directory (synack serve ... http DIR)\n");
      return exit_usage;
    }
    if (!std::filesystem::is_directory(o.dir, ec)) {
      fmt::print(stderr, "synack serve: http: '{}' is not a directory\n", o.dir);
      return exit_usage;
    }
  } else if (!o.dir.empty()) {
    fmt::print(stderr, "synack serve: only http takes a directory ('{}' given to {})\n", o.dir, o.service);
    return exit_usage;
  }
  auto s = net_session::open(o.net);
  if (!s) {
    fmt::print(stderr, "synack serve: {}\n", s.error());
    return 1;
  }
  auto& loop = (*s)->loop();
  std::unique_ptr<server_app> app;
  std::uint16_t port = o.port;
  if (o.service == "echo") {
    app = make_echo_server(loop), port = port ? port : 7;
  } else if (o.service == "discard") {
    app = make_discard_server(loop), port = port ? port : 9;
  } else if (o.service == "chargen") {
    app = make_chargen_server(loop), port = port ? port : 19;
  } else {
    app = make_http_server(loop, o.dir, o.net.verbose), port = port ? port : 80;
  }
  server_app* a = app.get();
  auto l = loop.listen(port, o.backlog, [a](conn_handle h) { a->on_accept(h); });
  if (!l) {
    fmt::print(stderr, "synack serve: listen on port {}: {}\n", port, to_string(l.error()));
    return 1;
  }
  // The line tests wait for: the service is reachable from here on.
  fmt::print(stderr, "synack serve: {} on {} via {} ({}, kernel side {}), control {}\n", o.service,
             (*s)->addr().with_port(port), (*s)->ifname(), (*s)->io_desc(), (*s)->kernel_addr().to_string(),
             (*s)->ctl_path().empty() ? "off" : (*s)->ctl_path());
  std::fflush(stderr);
  loop.run();
  if (o.net.verbose) fmt::print(stderr, "synack serve: {}\n", (*s)->summary());
  return (*s)->write_ladders("synack serve") ? 0 : 1;
}

}  // namespace

void add_serve(CLI::App& app) {
  auto o = std::make_shared<serve_options>();
  auto* cmd = app.add_subcommand("serve", "serve echo, discard, chargen or static files over a TUN device");
  cmd->footer(
      "Example (as root): synack serve --tun synack0 --addr 10.77.0.2/24 http ./www\n"
      "  then from the kernel: curl http://10.77.0.2/file\n"
      "Default ports: echo 7, discard 9, chargen 19, http 80. Stops on SIGINT/SIGTERM.\n"
      "Exit codes: 0 stopped by a signal, 1 setup failed (TUN, privilege, listen), 2 usage.");
  add_net_options(*cmd, o->net);
  add_buffer_option(*cmd, o->net);
  cmd->add_option("-p,--port", o->port, "TCP port to listen on (default: the service's)");
  cmd->add_option("--backlog", o->backlog, "accept queue length")->capture_default_str();
  cmd->add_option("service", o->service, "echo | discard | chargen | http")
      ->required()
      ->check(CLI::IsMember({"echo", "discard", "chargen", "http"}));
  cmd->add_option("dir", o->dir, "for http: the directory to serve");
  cmd->callback([o] { set_exit_code(run_serve(*o)); });
}

}  // namespace synack::tools
