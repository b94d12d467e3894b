// Quick-ACK mode (tcp_config::quickack, Linux's tcp_incr_quickack / tcp_enter_quickack_mode):
// in-order text is ACKed at once, not every second segment, for the first `quickack` segments,
// after a silence longer than the RTO, and after a segment that repeats what we hold (our ACK
// was lost or late: the sender resent). Off, every second segment or the delayed-ACK timer.
// Exact segments on virtual time; 100-octet segments, no options.
#include <gtest/gtest.h>

#include <string>

#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

constexpr std::uint32_t len = 100;
std::uint32_t o(int k) { return 1 + static_cast<std::uint32_t>(k - 1) * len; }  // segment k's offset
std::string data(int k) { return std::string(len, static_cast<char>('a' + k - 1)); }

tcp_config cfg_with(std::uint8_t quickack) {
  tcp_config cfg;
  cfg.quickack = quickack;
  cfg.timestamps = false;
  cfg.sack = false;
  return cfg;
}

// Segment k from the peer at `ms`.
void text(tcp_harness& h, int k, int ms) {
  ASSERT_EQ(h.send(at_ms(ms), seg{.seq = h.r(o(k)), .ack = h.l(1), .flags = tcp_flag::psh, .payload = data(k)}),
            rx_verdict::accepted);
}
void acked(tcp_harness& h, int k, int ms) { h.expect_recv(at_ms(ms), seg{.seq = h.l(1), .ack = h.r(o(k + 1))}); }

TEST(quickack, off__every_second_segment) {
  tcp_harness h(cfg_with(0));
  h.drive_to(tcp_state::established);
  text(h, 1, 10);
  h.expect_nothing(at_ms(10));
  text(h, 2, 11);
  acked(h, 2, 11);
}

// With quickack 2: segments 1 and 2 ACKed at once, then 3 and 4 by one ACK.
void two_quick_then_delayed(tcp_harness& h) {
  h.drive_to(tcp_state::established);
  text(h, 1, 10);
  acked(h, 1, 10);
  text(h, 2, 11);
  acked(h, 2, 11);
  text(h, 3, 12);  // the two quick ACKs are spent: delayed again
  h.expect_nothing(at_ms(12));
  text(h, 4, 13);
  acked(h, 4, 13);
}

TEST(quickack, the_first_segments_are_acked_at_once) {
  tcp_harness h(cfg_with(2));
  two_quick_then_delayed(h);
}

TEST(quickack, a_repeated_segment_starts_it_again) {
  tcp_harness h(cfg_with(2));
  two_quick_then_delayed(h);
  // Segment 4 again: the sender did not see our ACK. A duplicate ACK at once (RFC 5681 §4.2),
  // and the next two segments are ACKed at once too.
  (void)h.send(at_ms(20), seg{.seq = h.r(o(4)), .ack = h.l(1), .flags = tcp_flag::psh, .payload = data(4)});
  acked(h, 4, 20);
  text(h, 5, 21);
  acked(h, 5, 21);
  text(h, 6, 22);
  acked(h, 6, 22);
  text(h, 7, 23);
  h.expect_nothing(at_ms(23));
}

}  // namespace
}  // namespace synack::test
