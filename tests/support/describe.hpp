#pragma once
// One line per segment for failure messages, shared by the connection and host harnesses:
// flags, ports, sequence numbers, window, length and every option a test may compare.
#include <string>

#include "synack/wire/tcp.hpp"

namespace synack::test {

inline std::string describe(const tcp_repr& r) {
  std::string s;
  const char* names = "FSRPAUEC";
  for (unsigned i = 0; i < 8; ++i) {
    if (((r.wire_flags() >> i) & 1u) != 0) s += names[i];
  }
  s += " " + std::to_string(r.src_port) + ">" + std::to_string(r.dst_port);
  s += " seq=" + std::to_string(r.seq.raw);
  if (r.ack) s += " ack=" + std::to_string(r.ack->raw);
  s += " win=" + std::to_string(r.window) + " len=" + std::to_string(r.payload.size());
  if (r.options.mss) s += " mss=" + std::to_string(*r.options.mss);
  if (r.options.window_scale) s += " ws=" + std::to_string(*r.options.window_scale);
  if (r.options.sack_permitted) s += " sackOK";
  for (std::size_t i = 0; i < r.options.sack_count; ++i) {
    s += " sack=" + std::to_string(r.options.sack[i].left.raw) + ":" + std::to_string(r.options.sack[i].right.raw);
  }
  if (r.options.timestamps) {
    s += " ts=" + std::to_string(r.options.timestamps->tsval) + "/" + std::to_string(r.options.timestamps->tsecr);
  }
  return s;
}

}  // namespace synack::test
