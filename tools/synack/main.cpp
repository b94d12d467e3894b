// synack: one binary, one subcommand per tool.
#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"synack — a userspace TCP/IP stack you can watch work"};
  app.require_subcommand(1);
  synack::tools::add_demo(app);
  synack::tools::add_serve(app);
  synack::tools::add_connect(app);
  synack::tools::add_stat(app);
  CLI11_PARSE(app, argc, argv);
  return synack::tools::exit_code();
}
