// Out-of-order reassembly in the connection (RFC 9293 §3.10.7.4 seventh and eighth steps):
// held text becomes readable when the gap fills and RCV.NXT jumps; overlaps are trimmed; the
// bound on ranges drops and counts; an out-of-order FIN is held. The peer's ISN sits 999
// octets below the wrap, so the tests around r(1000) cross it.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using tcp_flag::fin;

TEST(reassembly, gap_filled__held_text_readable_and_rcv_nxt_jumps) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = h.r(4), .ack = h.l(1), .payload = "def"}), rx_verdict::accepted);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});  // dup ACK: the gap is at r(1)
  EXPECT_EQ(h.conn().recv_available(), 0u);
  EXPECT_EQ(h.conn().snapshot().recv_ooo_bytes, 3u);
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(7)});  // filling a gap is ACKed at once
  EXPECT_EQ(h.conn().rcv().nxt, h.r(7));
  EXPECT_EQ(h.read_all(), "abcdef");
  EXPECT_EQ(h.conn().snapshot().recv_ooo_ranges, 0u);
}

TEST(reassembly, holes_filled_in_reverse_order_across_the_wrap) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  // Put RCV.NXT 6 octets before the peer's sequence numbers wrap.
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = std::string(993, '.')});
  ASSERT_EQ(h.conn().rcv().nxt, h.r(994));
  EXPECT_EQ(h.read_all().size(), 993u);
  h.send(at_ms(2), seg{.seq = h.r(1006), .ack = h.l(1), .payload = "mno"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(994)});
  h.send(at_ms(3), seg{.seq = h.r(1000), .ack = h.l(1), .payload = "ghi"});  // r(1000) is 0: past the wrap
  h.expect_recv(at_ms(3), seg{.seq = h.l(1), .ack = h.r(994)});
  EXPECT_EQ(h.conn().snapshot().recv_ooo_ranges, 2u);
  h.send(at_ms(4), seg{.seq = h.r(997), .ack = h.l(1), .payload = "def"});  // joins ghi
  h.expect_recv(at_ms(4), seg{.seq = h.l(1), .ack = h.r(994)});
  EXPECT_EQ(h.conn().snapshot().recv_ooo_ranges, 2u);
  h.send(at_ms(5), seg{.seq = h.r(1003), .ack = h.l(1), .payload = "jkl"});  // bridges to mno
  h.expect_recv(at_ms(5), seg{.seq = h.l(1), .ack = h.r(994)});
  EXPECT_EQ(h.conn().snapshot().recv_ooo_ranges, 1u);
  h.send(at_ms(6), seg{.seq = h.r(994), .ack = h.l(1), .payload = "abc"});
  h.expect_recv(at_ms(6), seg{.seq = h.l(1), .ack = h.r(1009)});
  EXPECT_EQ(h.read_all(), "abcdefghijklmno");
}

TEST(reassembly, overlapping_out_of_order_segments_trimmed) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(3), .ack = h.l(1), .payload = "cde"});
  h.send(at_ms(1), seg{.seq = h.r(5), .ack = h.l(1), .payload = "efg"});
  EXPECT_EQ(h.conn().snapshot().recv_ooo_bytes, 5u);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});
  // In-order text that overlaps the held range: RCV.NXT goes to the range's end.
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abcd"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(8)});
  EXPECT_EQ(h.read_all(), "abcdefg");
}

TEST(reassembly, duplicate_out_of_order_segment__held_once_dup_ack) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(5), .ack = h.l(1), .payload = "efg"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});
  EXPECT_EQ(h.send(at_ms(2), seg{.seq = h.r(5), .ack = h.l(1), .payload = "efg"}), rx_verdict::accepted);
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(1)});
  EXPECT_EQ(h.conn().snapshot().recv_ooo_ranges, 1u);
  EXPECT_EQ(h.conn().snapshot().recv_ooo_bytes, 3u);
}

TEST(reassembly, user_reads_while_text_is_held__held_bytes_keep_their_place) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.send(at_ms(1), seg{.seq = h.r(7), .ack = h.l(1), .payload = "ghi"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(4)});
  EXPECT_EQ(h.read_all(), "abc");  // the ring empties; the held bytes stay past its end
  h.send(at_ms(2), seg{.seq = h.r(4), .ack = h.l(1), .payload = "def"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(10)});
  EXPECT_EQ(h.read_all(), "defghi");
}

TEST(reassembly, range_bound__segment_needing_one_more_dropped_and_counted) {
  tcp_config cfg;
  cfg.max_ooo_ranges = 2;
  tcp_harness h(cfg);
  h.drive_to(tcp_state::established);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = h.r(3), .ack = h.l(1), .payload = "c"}), rx_verdict::accepted);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = h.r(5), .ack = h.l(1), .payload = "e"}), rx_verdict::accepted);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = h.r(7), .ack = h.l(1), .payload = "g"}), rx_verdict::reassembly_full);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});
  h.expect_nothing(at_ms(1));
  // Growing a held range needs no new one.
  EXPECT_EQ(h.send(at_ms(2), seg{.seq = h.r(4), .ack = h.l(1), .payload = "d"}), rx_verdict::accepted);
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(1)});
  h.send(at_ms(3), seg{.seq = h.r(1), .ack = h.l(1), .payload = "ab"});
  h.expect_recv(at_ms(3), seg{.seq = h.l(1), .ack = h.r(6)});  // 'g' was dropped: asked for again
  EXPECT_EQ(h.read_all(), "abcde");
}

TEST(reassembly, bytes_bounded_by_the_window__beyond_it_trimmed) {
  tcp_config cfg;
  cfg.recv_buffer = 100;
  tcp_harness h(cfg);
  h.drive_to(tcp_state::established);
  // Window [r(1), r(101)): of 20 octets at r(90), the 11 inside are held.
  h.send(at_ms(1), seg{.seq = h.r(90), .ack = h.l(1), .payload = "0123456789abcdefghij"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .window = 100}, true);
  EXPECT_EQ(h.conn().snapshot().recv_ooo_bytes, 11u);
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = std::string(89, '.')});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(101), .window = 0}, true);
  EXPECT_EQ(h.read_all(), std::string(89, '.') + "0123456789a");
}

TEST(reassembly, out_of_order_data_with_fin__fin_processed_when_gap_fills) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(4), .ack = h.l(1), .flags = fin, .payload = "xyz"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});
  h.expect_state(tcp_state::established);
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_state(tcp_state::close_wait);
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(8)});  // 6 octets and the FIN
  h.expect_event(tcp_event{tcp_event_kind::peer_closed, close_reason::none});
  EXPECT_EQ(h.read_all(), "abcxyz");
}

TEST(reassembly, fin_beyond_trimmed_text_not_held) {
  tcp_config cfg;
  cfg.recv_buffer = 10;
  tcp_harness h(cfg);
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(5), .ack = h.l(1), .flags = fin, .payload = "efghijkl"});  // ends past r(11)
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abcd"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(11)});
  h.expect_state(tcp_state::established);  // the FIN's text was not all taken
}

TEST(reassembly, reset_discards_held_text) {
  tcp_harness h;
  h.drive_to(tcp_state::established);
  h.send(at_ms(1), seg{.seq = h.r(4), .ack = h.l(1), .payload = "def"});
  h.send(at_ms(2), seg{.seq = h.r(1), .flags = tcp_flag::rst});
  h.expect_state(tcp_state::closed);
  EXPECT_EQ(h.conn().snapshot().recv_ooo_ranges, 0u);
}

}  // namespace
}  // namespace synack::test
