#pragma once
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <string>

#include "net_session.hpp"

namespace synack::tools {

// Each subcommand registers itself and records its exit status.
void add_demo(CLI::App& app);
void add_serve(CLI::App& app);
void add_connect(CLI::App& app);
void add_proxy(CLI::App& app);
void add_stat(CLI::App& app);
void add_pkt(CLI::App& app);
void add_diagram(CLI::App& app);
int exit_code();
void set_exit_code(int code);

// Exit status of a command line CLI11 cannot parse or a value outside its range (all
// subcommands; like getopt-based tools). --help and --version exit 0.
inline constexpr int exit_usage = 2;

// A range check whose message names the option's valid range in plain numbers
// ("--loss: 2 is out of range: 0 to 0.9"), where CLI::Range prints "0.000000 to 0.900000".
template <typename T>
CLI::Validator in_range(T lo, T hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        T v{};
        if (!CLI::detail::lexical_cast(text, v)) return fmt::format("'{}' is not a number", text);
        if (v < lo || v > hi) return fmt::format("{} is out of range: {} to {}", text, lo, hi);
        return {};
      },
      fmt::format("{} to {}", lo, hi));
}

// --tun, --addr, --kernel-addr, --pcap, --loss, --reorder, --duplicate, --seed, --ctl ...
void add_net_options(CLI::App& cmd, net_options& o);
// `--buffer KiB` of `serve` and `connect`: tcp_config::send_buffer and recv_buffer.
void add_buffer_option(CLI::App& cmd, net_options& o);

}  // namespace synack::tools
