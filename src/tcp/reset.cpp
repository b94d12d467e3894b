#include "synack/tcp/reset.hpp"

namespace synack {

std::optional<tcp_repr> reset_for_closed(const tcp_repr& seg) {
  if (seg.rst()) return std::nullopt;
  tcp_repr r;
  r.src_port = seg.dst_port;
  r.dst_port = seg.src_port;
  r.flags = tcp_flag::rst;
  if (seg.ack) {
    r.seq = *seg.ack;
  } else {
    r.seq = seq_num{0};
    r.ack = seg.seq + seq_len{seg.seg_len()};
  }
  return r;
}

}  // namespace synack
