// The SACK receiver (RFC 2018) and D-SACK (RFC 2883): SACK-permitted on the SYNs, and ACKs
// that report held out-of-order ranges (most recent first, at most four without timestamps)
// and duplicates (first). Sequence numbers cross the 2^32 wrap (the peer's ISN is 999 below).
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using tcp_flag::syn;
using blocks = std::vector<sack_block>;

sack_block b(seq_num l, seq_num r) { return sack_block{l, r}; }

// Passive open in which both SYNs carry SACK-permitted (and nothing else but the MSS).
void establish_sack(tcp_harness& h) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460, .sack_ok = true});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .sack_ok = true});
  h.send(at_ms(0), seg{.seq = h.r(1), .ack = h.l(1)});
  ASSERT_EQ(h.conn().state(), tcp_state::established);
  ASSERT_TRUE(h.conn().sack_permitted());
}

TEST(sack_receiver, our_syn_offers_sack_permitted) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .sack_ok = true});
  h.send(at_ms(1), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .sack_ok = true});
  EXPECT_TRUE(h.conn().sack_permitted());
}

TEST(sack_receiver, peer_syn_ack_without_it__not_negotiated) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .sack_ok = true});
  h.send(at_ms(1), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1)});
  EXPECT_FALSE(h.conn().sack_permitted());
  h.send(at_ms(2), seg{.seq = h.r(4), .ack = h.l(1), .payload = "def"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(1), .sack = blocks{}});
}

TEST(sack_receiver, syn_ack_answers_sack_permitted_only_if_offered) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .sack_ok = false});
}

TEST(sack_receiver, disabled__never_offered_nor_answered) {
  tcp_config cfg;
  cfg.sack = false;
  tcp_harness a(cfg);
  ASSERT_TRUE(a.conn().connect(at_ms(0), a.tuple()).has_value());
  a.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .sack_ok = false});
  tcp_harness p(cfg);
  ASSERT_TRUE(p.conn().listen(local_addr, local_port).has_value());
  p.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .sack_ok = true});
  p.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = p.r(1), .flags = syn, .sack_ok = false});
  EXPECT_FALSE(p.conn().sack_permitted());
}

TEST(sack_receiver, out_of_order_segment__one_block) {
  tcp_harness h;
  establish_sack(h);
  h.send(at_ms(1), seg{.seq = h.r(4), .ack = h.l(1), .payload = "def"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .sack = blocks{b(h.r(4), h.r(7))}});
}

TEST(sack_receiver, blocks_most_recent_first_at_most_four) {
  tcp_harness h;
  establish_sack(h);
  // Ranges at r(995), r(1000) (just past the wrap), r(1005), r(1010), r(1015), sent in this
  // order: r(1000) last touched, then the others newest first; five do not fit.
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = std::string(990, '.')});
  for (std::uint32_t off : {995u, 1005u, 1010u, 1015u, 1000u}) {
    h.send(at_ms(2), seg{.seq = h.r(off), .ack = h.l(1), .payload = "xy"});
  }
  h.expect_recv(at_ms(2), seg{.seq = h.l(1),
                              .ack = h.r(991),
                              .sack = blocks{b(h.r(1000), h.r(1002)), b(h.r(1015), h.r(1017)),
                                             b(h.r(1010), h.r(1012)), b(h.r(1005), h.r(1007))}});
  // A segment growing an older range puts it first.
  h.send(at_ms(3), seg{.seq = h.r(997), .ack = h.l(1), .payload = "z"});
  h.expect_recv(at_ms(3), seg{.seq = h.l(1),
                              .ack = h.r(991),
                              .sack = blocks{b(h.r(995), h.r(998)), b(h.r(1000), h.r(1002)),
                                             b(h.r(1015), h.r(1017)), b(h.r(1010), h.r(1012))}});
}

TEST(sack_receiver, gap_fill__acked_ranges_leave_the_option) {
  tcp_harness h;
  establish_sack(h);
  h.send(at_ms(1), seg{.seq = h.r(4), .ack = h.l(1), .payload = "def"});
  h.send(at_ms(1), seg{.seq = h.r(10), .ack = h.l(1), .payload = "jkl"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .sack = blocks{b(h.r(10), h.r(13)), b(h.r(4), h.r(7))}});
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(7), .sack = blocks{b(h.r(10), h.r(13))}});
  h.send(at_ms(3), seg{.seq = h.r(7), .ack = h.l(1), .payload = "ghi"});
  h.expect_recv(at_ms(3), seg{.seq = h.l(1), .ack = h.r(13), .sack = blocks{}});
}

TEST(sack_receiver, dsack_for_a_duplicate_below_rcv_nxt__reported_once) {
  tcp_harness h;
  establish_sack(h);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_recv(at_ms(41), seg{.seq = h.l(1), .ack = h.r(4), .sack = blocks{}});
  h.send(at_ms(50), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(4), .sack = blocks{b(h.r(1), h.r(4))}});
  h.send(at_ms(60), seg{.seq = h.r(4), .ack = h.l(1), .payload = "d"});
  h.expect_recv(at_ms(100), seg{.seq = h.l(1), .ack = h.r(5), .sack = blocks{}});
}

TEST(sack_receiver, dsack_for_the_old_part_of_a_partial_duplicate) {
  tcp_harness h;
  establish_sack(h);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc"});
  h.send(at_ms(2), seg{.seq = h.r(2), .ack = h.l(1), .payload = "bcde"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(6), .sack = blocks{b(h.r(2), h.r(4))}});
}

TEST(sack_receiver, dsack_for_a_duplicate_held_range__then_the_range_then_the_rest) {
  tcp_harness h;
  establish_sack(h);
  h.send(at_ms(1), seg{.seq = h.r(4), .ack = h.l(1), .payload = "defgh"});
  h.send(at_ms(1), seg{.seq = h.r(20), .ack = h.l(1), .payload = "t"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .sack = blocks{b(h.r(20), h.r(21)), b(h.r(4), h.r(9))}});
  h.send(at_ms(2), seg{.seq = h.r(5), .ack = h.l(1), .payload = "ef"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1),
                              .ack = h.r(1),
                              .sack = blocks{b(h.r(5), h.r(7)), b(h.r(4), h.r(9)), b(h.r(20), h.r(21))}});
}

// RFC 2883 §4.1.3: a segment that brings new bytes and repeats held ones reports the repeated
// part first, then the block that now holds it (FreeBSD's rcv-data-segments/overlapping-*).
TEST(sack_receiver, dsack_for_the_held_part_of_an_overlapping_out_of_order_segment) {
  tcp_harness h;
  establish_sack(h);
  h.send(at_ms(1), seg{.seq = h.r(10), .ack = h.l(1), .payload = "jklmn"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .sack = blocks{b(h.r(10), h.r(15))}});
  h.send(at_ms(2), seg{.seq = h.r(8), .ack = h.l(1), .payload = "hijk"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(1), .sack = blocks{b(h.r(10), h.r(12)), b(h.r(8), h.r(15))}});
}

TEST(sack_receiver, dsack_for_the_held_part_of_a_gap_filling_segment__the_first_one_only) {
  tcp_harness h;
  establish_sack(h);
  h.send(at_ms(1), seg{.seq = h.r(4), .ack = h.l(1), .payload = "def"});
  h.send(at_ms(1), seg{.seq = h.r(8), .ack = h.l(1), .payload = "h"});
  h.send(at_ms(1), seg{.seq = h.r(12), .ack = h.l(1), .payload = "lmn"});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1),
                              .ack = h.r(1),
                              .sack = blocks{b(h.r(12), h.r(15)), b(h.r(8), h.r(9)), b(h.r(4), h.r(7))}});
  // [1, 10) fills the gap and repeats [4, 7) and [8, 9): the first repeated part is reported.
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abcdefghi"});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(10), .sack = blocks{b(h.r(4), h.r(7)), b(h.r(12), h.r(15))}});
}

TEST(sack_receiver, blocks_ride_on_data__payload_makes_room_for_them) {
  tcp_harness h;
  establish_sack(h);
  h.send(at_ms(1), seg{.seq = h.r(4), .ack = h.l(1), .payload = "def"});
  h.write(std::string(2000, 'q'));
  // RFC 9293 §3.7.1: the MSS excludes options; 12 octets of SACK option leave 1448.
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .payload = std::string(1448, 'q'),
                              .sack = blocks{b(h.r(4), h.r(7))}});
}

}  // namespace
}  // namespace synack::test
