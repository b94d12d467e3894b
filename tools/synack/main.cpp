// synack: one binary, one subcommand per tool.
#include <CLI/CLI.hpp>
#include <malloc.h>

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
  synack::tools::add_demo(app);
  synack::tools::add_serve(app);
  synack::tools::add_connect(app);
  synack::tools::add_stat(app);
  synack::tools::add_pkt(app);
  synack::tools::add_diagram(app);
  CLI11_PARSE(app, argc, argv);
  return synack::tools::exit_code();
}
