// synack: one binary, one subcommand per tool.
#include <CLI/CLI.hpp>
#include <malloc.h>

#include <string>
#include <utility>

#include "commands.hpp"

namespace {

// A connection's send and receive buffers (256 KiB each, tcp_config) are allocated when first
// needed and freed when it ends. With glibc's defaults each one went back to the kernel and was
// taken again (brk, trimming the heap top, fresh page faults) for every short connection: a
// third of `synack serve echo`'s time at 20,000 connections/s (docs/performance.md, "Over
// TUN"). Keep freed memory for the next connection; buffers above 1 MiB still get their own
// mapping.
void keep_freed_memory() {
  (void)mallopt(M_MMAP_THRESHOLD, 1 << 20);  // fixed: stops glibc's sliding threshold
  (void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
  (void)mallopt(M_TOP_PAD, 16 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  CLI::App app{"synack — a userspace TCP/IP stack you can watch work"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "synack " SYNACK_VERSION);
  synack::tools::add_demo(app);
  synack::tools::add_serve(app);
  synack::tools::add_connect(app);
  synack::tools::add_proxy(app);
  synack::tools::add_stat(app);
  synack::tools::add_pkt(app);
  synack::tools::add_diagram(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {  // CLI11's own codes (104, 105, 106, ...) become one
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      std::string names;
      for (const CLI::App* sub : std::as_const(app).get_subcommands([](const CLI::App*) { return true; })) names += (names.empty() ? "" : ", ") + sub->get_name();
      fmt::print(stderr, "synack: unknown command '{}' (one of: {}; see synack --help)\n", argv[1], names);
    } else {
      (void)app.exit(e);
    }
    return synack::tools::exit_usage;
  }
  return synack::tools::exit_code();
}
