#include "synack/tcp/isn.hpp"

#include <array>

#include "synack/wire/bytes.hpp"

namespace synack {

namespace {

// The 4-tuple as PRF input; `domain` separates the ISN's F from the timestamp offset, so one
// does not give the other away.
std::array<std::byte, 13> tuple_message(const four_tuple& t, std::uint8_t domain) {
  std::array<std::byte, 13> msg{};
  store_be32(&msg[0], t.local_addr.value);
  store_be16(&msg[4], t.local_port);
  store_be32(&msg[6], t.remote_addr.value);
  store_be16(&msg[10], t.remote_port);
  msg[12] = std::byte{domain};
  return msg;
}

}  // namespace

std::uint32_t rfc6528_isn::ts_offset(const four_tuple& t) const {
  return static_cast<std::uint32_t>(siphash24(key_, tuple_message(t, 1)));
}

seq_num rfc6528_isn::isn(const four_tuple& t, instant now) const {
  // The first 12 octets only, as before the timestamp offset existed (ISNs are unchanged).
  const auto msg = tuple_message(t, 0);
  const auto f = static_cast<std::uint32_t>(siphash24(key_, std::span{msg}.first(12)));
  // M: a timer that ticks every 4 microseconds (RFC 9293 §3.4.1).
  const auto m = static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.us) / 4);
  return seq_num{m + f};
}

}  // namespace synack
