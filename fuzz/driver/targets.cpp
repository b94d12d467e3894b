#include "targets.hpp"

#include "socks5_check.hpp"
#include "stack_driver.hpp"
#include "wire_roundtrip.hpp"

namespace synack::fuzz {

std::optional<std::string> run_target(std::string_view target, bytes input) {
  if (target == "ipv4_fuzz") return check_ipv4(input);
  if (target == "tcp_fuzz") return check_tcp(input);
  if (target == "icmp_fuzz") return check_icmp(input);
  if (target == "ipv6_fuzz") return check_ipv6(input);
  if (target == "icmpv6_fuzz") return check_icmpv6(input);
  if (target == "stack_fuzz") return run_stack_program(input);
  if (target == "socks5_fuzz") return check_socks5(input);
  return "unknown fuzz target " + std::string(target);
}

}  // namespace synack::fuzz
