#include "synack/tcp/isn.hpp"

#include <array>
#include <span>

#include "synack/wire/bytes.hpp"

namespace synack {

namespace {

// RFC 9293 §3.4.1: M, a timer that ticks every 4 microseconds.
std::uint32_t isn_clock(instant now) { return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.us) / 4); }

}  // namespace

// F: SipHash-2-4 of the 4-tuple, 64 bits. Its low half is the ISN's F, its high half the
// timestamp offset: the halves of one pseudo-random output, so neither tells anything about
// the other, and a connection opening evaluates F once (initial()). IPv4 tuples take 12
// octets, IPv6 ones 36 (the addresses' 16 octets each).
std::uint64_t rfc6528_isn::prf(const four_tuple& t) const {
  std::array<std::byte, 36> b{};
  if (t.remote_addr.is_v4()) {
    store_be32(&b[0], t.local_addr.low32());
    store_be16(&b[4], t.local_port);
    store_be32(&b[6], t.remote_addr.low32());
    store_be16(&b[10], t.remote_port);
    return siphash24(key_, std::span{b}.first(12));
  }
  for (std::size_t i = 0; i < 16; ++i) {
    b[i] = std::byte{t.local_addr.v6().octets[i]};
    b[18 + i] = std::byte{t.remote_addr.v6().octets[i]};
  }
  store_be16(&b[16], t.local_port);
  store_be16(&b[34], t.remote_port);
  return siphash24(key_, std::span{b});
}

std::uint32_t rfc6528_isn::ts_offset(const four_tuple& t) const { return static_cast<std::uint32_t>(prf(t) >> 32); }

seq_num rfc6528_isn::isn(const four_tuple& t, instant now) const {
  return seq_num{isn_clock(now) + static_cast<std::uint32_t>(prf(t))};
}

initial_numbers rfc6528_isn::initial(const four_tuple& t, instant now) const {
  const std::uint64_t f = prf(t);
  return initial_numbers{seq_num{isn_clock(now) + static_cast<std::uint32_t>(f)}, static_cast<std::uint32_t>(f >> 32)};
}

}  // namespace synack
