#pragma once
// Helpers of the SOCKS5 client's tests (socks5_test.cpp, socks5_udp_test.cpp): bytes as
// octet lists, the client's output taken and the server's replies fed.
#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "socks5.hpp"

namespace synack::tools::socks5::test {

using B = std::vector<std::uint8_t>;

inline std::vector<std::byte> raw(const B& b) {
  std::vector<std::byte> r;
  for (const std::uint8_t v : b) r.push_back(std::byte{v});
  return r;
}
inline B out_of(const client& c) {
  B r;
  for (const std::byte v : c.output()) r.push_back(std::to_integer<std::uint8_t>(v));
  return r;
}
// Sends the whole output (state write -> read).
inline B take_output(client& c) {
  EXPECT_EQ(c.current(), client::state::write);
  B r = out_of(c);
  c.on_output_sent(r.size());
  return r;
}
// Feeds all of `reply` at once; returns how many bytes the client took.
inline std::size_t feed(client& c, const B& reply) {
  const auto r = raw(reply);
  return c.on_input(r);
}

// REP 0x01..0x08 (RFC 1928 §6) and the reason each stands for.
inline constexpr std::pair<std::uint8_t, error> rep_codes[] = {
    {0x01, error::general_failure},       {0x02, error::not_allowed},
    {0x03, error::network_unreachable},   {0x04, error::host_unreachable},
    {0x05, error::connection_refused},    {0x06, error::ttl_expired},
    {0x07, error::command_not_supported}, {0x08, error::address_type_not_supported},
};
// Feeds a reply with failure code `rep` to a client waiting for its request's reply.
inline void expect_rep_failure(client& c, std::uint8_t rep, error e) {
  const B reply = {5, rep, 0, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(feed(c, reply), reply.size());
  ASSERT_EQ(c.current(), client::state::failed) << int{rep};
  EXPECT_EQ(c.failure(), e) << int{rep};
  EXPECT_EQ(c.failure_rep(), rep);
}

}  // namespace synack::tools::socks5::test
