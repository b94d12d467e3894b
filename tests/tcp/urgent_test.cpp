// Urgent data, RFC 9293 §3.8.5 and RFC 6093: the urgent pointer names the first non-urgent
// octet (MUST-62); urgent data of any length (MUST-31) is read inline; the user is told
// when the pointer appears or advances (MUST-32) and can ask how much remains (MUST-33).
#include <gtest/gtest.h>

#include <string>

#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;

// The peer sends `payload` at r(offset) with URG and urgent pointer `up`.
rx_verdict send_urg(tcp_harness& h, std::uint32_t offset, std::string payload, std::uint16_t up) {
  return h.send(at_ms(0), seg{.seq = h.r(offset), .ack = h.l(1), .flags = urg, .payload = std::move(payload),
                              .urgent_ptr = up});
}

TEST(urgent, receive__signalled_once_per_advance_and_counted_down_by_reads) {
  tcp_harness h;
  h.drive_to(s::established);
  EXPECT_EQ(h.conn().urgent_remaining(), 0u);
  // Five urgent octets "abcde", the first non-urgent one at r(6); this segment has two.
  EXPECT_EQ(send_urg(h, 1, "ab", 5), rx_verdict::accepted);
  h.expect_event(tcp_event{tcp_event_kind::urgent, close_reason::none});
  EXPECT_EQ(h.conn().urgent_remaining(), 5u);
  // The rest, naming the same pointer: no second signal (MUST-32 signals an advance only).
  EXPECT_EQ(send_urg(h, 3, "cdef", 3), rx_verdict::accepted);
  h.expect_no_event();
  EXPECT_EQ(h.conn().urgent_remaining(), 5u);
  EXPECT_EQ(h.read(2), "ab");
  EXPECT_EQ(h.conn().urgent_remaining(), 3u);
  EXPECT_EQ(h.read(10), "cdef");  // inline (RFC 6093 §4), in stream order
  EXPECT_EQ(h.conn().urgent_remaining(), 0u);
}

TEST(urgent, receive__pointer_beyond_the_text__any_length) {
  tcp_harness h;
  h.drive_to(s::established);
  // MUST-31: the urgent sequence runs past this segment (5000 octets urgent, 2 here).
  EXPECT_EQ(send_urg(h, 1, "xy", 5000), rx_verdict::accepted);
  h.expect_event(tcp_event{tcp_event_kind::urgent, close_reason::none});
  EXPECT_EQ(h.conn().urgent_remaining(), 5000u);
  // It advances to r(3) + 6000: a new signal.
  EXPECT_EQ(send_urg(h, 3, "z", 6000), rx_verdict::accepted);
  h.expect_event(tcp_event{tcp_event_kind::urgent, close_reason::none});
  EXPECT_EQ(h.conn().urgent_remaining(), 6002u);
}

TEST(urgent, receive__ignored_after_the_peer_fin) {
  tcp_harness h;
  h.drive_to(s::close_wait);
  EXPECT_EQ(h.send(at_ms(0), seg{.seq = h.r(2), .ack = h.l(1), .flags = urg, .urgent_ptr = 10}), rx_verdict::accepted);
  h.expect_no_event();
  EXPECT_EQ(h.conn().urgent_remaining(), 0u);
}

TEST(urgent, send__urg_and_pointer_until_acknowledged__not_held_by_nagle) {
  tcp_harness h;
  h.drive_to(s::established);
  h.write("a");
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "a"});
  // Nagle would hold these two octets behind the unacknowledged "a"; urgent data goes now,
  // with the pointer at the octet after it (MUST-62).
  ASSERT_TRUE(h.conn().send_urgent(std::as_bytes(std::span{"!!", 2})).has_value());
  h.expect_recv(at_ms(0), seg{.seq = h.l(2), .ack = h.r(1), .flags = psh | urg, .payload = "!!", .urgent_ptr = 2});
  // A retransmission still carries it.
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(2)});
  h.expect_recv(at_ms(1010), seg{.seq = h.l(2), .ack = h.r(1), .flags = psh | urg, .payload = "!!", .urgent_ptr = 2});
  // Once SND.UNA passes SND.UP urgent mode is over: no URG on what follows.
  h.send(at_ms(1020), seg{.seq = h.r(1), .ack = h.l(4)});
  h.write("b");
  h.expect_recv(at_ms(1020), seg{.seq = h.l(4), .ack = h.r(1), .flags = psh, .payload = "b", .urgent_ptr = 0});
}

}  // namespace
}  // namespace synack::test
