#pragma once
#include <CLI/CLI.hpp>

#include "net_session.hpp"

namespace synack::tools {

// Each subcommand registers itself and records its exit status.
void add_demo(CLI::App& app);
void add_serve(CLI::App& app);
void add_connect(CLI::App& app);
void add_stat(CLI::App& app);
void add_pkt(CLI::App& app);
void add_diagram(CLI::App& app);
int exit_code();
void set_exit_code(int code);

// --tun, --addr, --kernel-addr, --pcap, --loss, --reorder, --duplicate, --seed, --ctl ...
void add_net_options(CLI::App& cmd, net_options& o);

}  // namespace synack::tools
