#include "synack/tcp/isn.hpp"

#include <array>
#include <span>

#include "synack/wire/bytes.hpp"

namespace synack {

namespace {

// The 4-tuple as PRF input; `domain` separates the ISN's F from the timestamp offset, so one
// does not give the other away. IPv4 tuples take 13 octets (the ISN's F the first 12, as
// before the timestamp offset existed), IPv6 ones 37 (the addresses' 16 octets each).
struct tuple_msg {
  std::array<std::byte, 37> b{};
  std::size_t len = 0;
  std::size_t domain_at = 0;
};

tuple_msg tuple_message(const four_tuple& t, std::uint8_t domain) {
  tuple_msg m;
  if (t.remote_addr.is_v4()) {
    store_be32(&m.b[0], t.local_addr.low32());
    store_be16(&m.b[4], t.local_port);
    store_be32(&m.b[6], t.remote_addr.low32());
    store_be16(&m.b[10], t.remote_port);
    m.domain_at = 12;
  } else {
    for (std::size_t i = 0; i < 16; ++i) {
      m.b[i] = std::byte{t.local_addr.v6().octets[i]};
      m.b[18 + i] = std::byte{t.remote_addr.v6().octets[i]};
    }
    store_be16(&m.b[16], t.local_port);
    store_be16(&m.b[34], t.remote_port);
    m.domain_at = 36;
  }
  m.b[m.domain_at] = std::byte{domain};
  m.len = m.domain_at + 1;
  return m;
}

}  // namespace

std::uint32_t rfc6528_isn::ts_offset(const four_tuple& t) const {
  const auto msg = tuple_message(t, 1);
  return static_cast<std::uint32_t>(siphash24(key_, std::span{msg.b}.first(msg.len)));
}

seq_num rfc6528_isn::isn(const four_tuple& t, instant now) const {
  // The tuple without the domain octet, as before the timestamp offset existed (ISNs are unchanged).
  const auto msg = tuple_message(t, 0);
  const auto f = static_cast<std::uint32_t>(siphash24(key_, std::span{msg.b}.first(msg.domain_at)));
  // M: a timer that ticks every 4 microseconds (RFC 9293 §3.4.1).
  const auto m = static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.us) / 4);
  return seq_num{m + f};
}

}  // namespace synack
