#pragma once
#include <CLI/CLI.hpp>

namespace synack::tools {

// Each subcommand registers itself and records its exit status.
void add_demo(CLI::App& app);
int exit_code();
void set_exit_code(int code);

}  // namespace synack::tools
