// Window updates after a read (receiver SWS avoidance, RFC 9293 §3.8.6.2.2, MUST-39): by
// default the opened window is announced once its right edge can move by min(buffer / 2,
// MSS); with tcp_config::window_update_linux also Linux's rule (tcp_cleanup_rbuf): only when
// the window the peer still has had fallen to half the buffer or less and the read at least
// doubles it. An 8000-octet buffer and a 1000-octet MSS; no window scaling.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

tcp_config small_buffer(bool linux_rule) {
  tcp_config c;
  c.recv_buffer = 8000;
  c.mss = 1000;
  c.window_update_linux = linux_rule;
  return c;
}

// Two full segments: ACKed at once (every second segment), window 6000.
void receive_2000(tcp_harness& h, std::uint32_t from, int ms) {
  const std::string full(1000, 'x');
  h.send(at_ms(ms), seg{.seq = h.r(from), .ack = h.l(1), .payload = full});
  h.send(at_ms(ms), seg{.seq = h.r(from + 1000), .ack = h.l(1), .payload = full});
}

TEST(window_update, rfc_rule__announced_once_the_edge_moves_by_one_mss) {
  tcp_harness h(small_buffer(false));
  h.drive_to(tcp_state::established);
  receive_2000(h, 1, 10);
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(2001), .window = 6000}, true);
  EXPECT_EQ(h.read(500).size(), 500u);
  h.expect_nothing(at_ms(11));  // 500 octets: not yet an MSS
  EXPECT_EQ(h.read(500).size(), 500u);
  h.expect_recv(at_ms(12), seg{.seq = h.l(1), .ack = h.r(2001), .window = 7000}, true);
  EXPECT_EQ(h.read(1000).size(), 1000u);
  h.expect_recv(at_ms(13), seg{.seq = h.l(1), .ack = h.r(2001), .window = 8000}, true);
}

TEST(window_update, linux_rule__no_update_while_the_peer_has_more_than_half_the_buffer) {
  tcp_harness h(small_buffer(true));
  h.drive_to(tcp_state::established);
  receive_2000(h, 1, 10);
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(2001), .window = 6000}, true);
  EXPECT_EQ(h.read(2000).size(), 2000u);
  h.expect_nothing(at_ms(11));  // the peer still has 6000 of 8000: no ACK for the window alone
  // The peer's next segments are offered the whole buffer again by the next ACK.
  receive_2000(h, 2001, 20);
  h.expect_recv(at_ms(20), seg{.seq = h.l(1), .ack = h.r(4001), .window = 6000}, true);
  receive_2000(h, 4001, 21);
  h.expect_recv(at_ms(21), seg{.seq = h.l(1), .ack = h.r(6001), .window = 4000}, true);
  // 4000 left to the peer, half the buffer: a read that doubles it is announced, a smaller
  // one is not.
  EXPECT_EQ(h.read(1000).size(), 1000u);
  h.expect_nothing(at_ms(22));
  EXPECT_EQ(h.read(3000).size(), 3000u);
  h.expect_recv(at_ms(23), seg{.seq = h.l(1), .ack = h.r(6001), .window = 8000}, true);
}

TEST(window_update, linux_rule__a_closed_window_reopens_at_once) {
  tcp_harness h(small_buffer(true));
  h.drive_to(tcp_state::established);
  for (std::uint32_t i = 0; i < 4; ++i) {
    receive_2000(h, 1 + 2000 * i, 10 + static_cast<int>(i));
    h.expect_recv(at_ms(10 + static_cast<int>(i)),
                  seg{.seq = h.l(1), .ack = h.r(2001 + 2000 * i), .window = static_cast<std::uint16_t>(6000 - 2000 * i)}, true);
  }
  EXPECT_EQ(h.read(1000).size(), 1000u);  // window 0 -> 1000: an MSS, and more than twice 0
  h.expect_recv(at_ms(20), seg{.seq = h.l(1), .ack = h.r(8001), .window = 1000}, true);
}

}  // namespace
}  // namespace synack::test
