#pragma once
// One line per segment for failure messages, shared by the connection and host harnesses:
// flags, ports, sequence numbers, window, length and every option a test may compare.
#include <string>

#include "synack/wire/tcp.hpp"

namespace synack::test {

inline std::string describe(const tcp_repr& r) {
  std::string s;
  // Appended piece by piece: `" x=" + std::to_string(n)` inserts at the front of a temporary,
  // which g++ 12 at -O3 flags with a false -Wrestrict in its inlined memcpy.
  auto add = [&s](const char* label, auto n) {
    s += label;
    s += std::to_string(n);
  };
  const char* names = "FSRPAUEC";
  for (unsigned i = 0; i < 8; ++i) {
    if (((r.wire_flags() >> i) & 1u) != 0) s += names[i];
  }
  add(" ", r.src_port);
  add(">", r.dst_port);
  add(" seq=", r.seq.raw);
  if (r.ack) add(" ack=", r.ack->raw);
  add(" win=", r.window);
  add(" len=", r.payload.size());
  if (r.options.mss) add(" mss=", *r.options.mss);
  if (r.options.window_scale) add(" ws=", *r.options.window_scale);
  if (r.options.sack_permitted) s += " sackOK";
  for (std::size_t i = 0; i < r.options.sack_count; ++i) {
    add(" sack=", r.options.sack[i].left.raw);
    add(":", r.options.sack[i].right.raw);
  }
  if (r.options.timestamps) {
    add(" ts=", r.options.timestamps->tsval);
    add("/", r.options.timestamps->tsecr);
  }
  return s;
}

}  // namespace synack::test
