#pragma once
// The fuzz targets by name (fuzz/CMakeLists.txt, fuzz/corpus/<name>/, fuzz/regressions/<name>/)
// and one entry point that runs any of them on an input: the libFuzzer binaries and the replay
// tests in tests/security call the same code.
#include <optional>
#include <string>
#include <string_view>

#include "synack/wire/bytes.hpp"

namespace synack::fuzz {

inline constexpr std::string_view target_names[] = {"ipv4_fuzz",   "tcp_fuzz",     "icmp_fuzz", "ipv6_fuzz",
                                                     "icmpv6_fuzz", "stack_fuzz",   "socks5_fuzz"};

// The first broken property for `input`, or nothing. An unknown target name is a failure.
[[nodiscard]] std::optional<std::string> run_target(std::string_view target, bytes input);

}  // namespace synack::fuzz
