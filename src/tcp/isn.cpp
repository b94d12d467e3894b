#include "synack/tcp/isn.hpp"

#include <array>

#include "synack/wire/bytes.hpp"

namespace synack {

seq_num rfc6528_isn::isn(const four_tuple& t, instant now) const {
  std::array<std::byte, 12> msg{};
  store_be32(&msg[0], t.local_addr.value);
  store_be16(&msg[4], t.local_port);
  store_be32(&msg[6], t.remote_addr.value);
  store_be16(&msg[10], t.remote_port);
  const auto f = static_cast<std::uint32_t>(siphash24(key_, msg));
  // M: a timer that ticks every 4 microseconds (RFC 9293 §3.4.1).
  const auto m = static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.us) / 4);
  return seq_num{m + f};
}

}  // namespace synack
