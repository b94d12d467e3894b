// RFC 9293 §3.10.7.1: a segment for which no TCB (and no listener) exists is answered with a
// reset, never a reset for a reset.
#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

// No ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counted in SEG.LEN.
TEST(closed_port, syn_without_ack_gets_rst_ack_covering_the_syn) {
  stack_harness t;
  auto want = t.ctr();
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 81});
  t.expect_tcp(at_ms(0), seg{.seq = seq_num{0}, .ack = peer_iss + seq_len{1}, .flags = tcp_flag::rst,
                             .local = 81});
  t.expect_nothing(at_ms(0));
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.tcp(rx_verdict::no_connection);
  ++want.out_segs;
  ++want.out_rsts;
  ++want.ip_out_requests;
  t.expect_counters(want);
  EXPECT_EQ(t.h().connection_count(), 0u);
}

TEST(closed_port, data_and_fin_without_ack_counted_in_seg_len) {
  stack_harness t;
  // 5 octets of text + FIN: SEG.LEN = 6, and the sequence number wraps past 2^32.
  const seq_num s{0xFFFFFFFEu};
  t.send(at_ms(0), seg{.seq = s, .flags = tcp_flag::fin, .payload = "hello", .local = 81});
  t.expect_tcp(at_ms(0), seg{.seq = seq_num{0}, .ack = seq_num{4}, .flags = tcp_flag::rst, .local = 81});
  // SYN+FIN+data: SEG.LEN = 1 + 3 + 1.
  t.send(at_ms(0), seg{.seq = s, .flags = tcp_flag::syn | tcp_flag::fin, .payload = "abc", .local = 81});
  t.expect_tcp(at_ms(0), seg{.seq = seq_num{0}, .ack = seq_num{3}, .flags = tcp_flag::rst, .local = 81});
  // No flags at all, no text: SEG.LEN = 0.
  t.send(at_ms(0), seg{.seq = s, .local = 81});
  t.expect_tcp(at_ms(0), seg{.seq = seq_num{0}, .ack = s, .flags = tcp_flag::rst, .local = 81});
  t.expect_nothing(at_ms(0));
  EXPECT_EQ(t.ctr().out_rsts, 3u);
  EXPECT_EQ(t.ctr().tcp(rx_verdict::no_connection), 3u);
}

// With ACK: <SEQ=SEG.ACK><CTL=RST>, no ACK bit.
TEST(closed_port, segment_with_ack_gets_rst_at_seg_ack) {
  stack_harness t;
  t.send(at_ms(0), seg{.seq = peer_iss, .ack = seq_num{0xFFFFFFF0u}, .payload = "xyz", .local = 81});
  t.expect_tcp(at_ms(0), seg{.seq = seq_num{0xFFFFFFF0u}, .flags = tcp_flag::rst, .local = 81});
  t.send(at_ms(0), seg{.seq = peer_iss, .ack = seq_num{7}, .flags = tcp_flag::syn | tcp_flag::fin, .local = 81});
  t.expect_tcp(at_ms(0), seg{.seq = seq_num{7}, .flags = tcp_flag::rst, .local = 81});
  t.expect_nothing(at_ms(0));
  EXPECT_EQ(t.ctr().out_rsts, 2u);
  EXPECT_EQ(t.ctr().tcp(rx_verdict::no_connection), 2u);
}

TEST(closed_port, never_a_rst_for_a_rst) {
  stack_harness t;
  auto want = t.ctr();
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::rst, .local = 81});
  t.send(at_ms(0), seg{.seq = peer_iss, .ack = seq_num{5}, .flags = tcp_flag::rst, .local = 81});
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::rst | tcp_flag::syn, .local = 81});
  t.expect_nothing(at_ms(0));
  want.ip_in_receives += 3;
  want.in_segs += 3;
  want.tcp(rx_verdict::no_connection) += 3;
  t.expect_counters(want);
}

// A listener on another port does not catch the segment; the RST comes from the host's own
// reply queue with the peer's ports swapped.
TEST(closed_port, listener_on_other_port_does_not_answer) {
  stack_harness t;
  (void)t.listen(80);
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 1234, .local = 8080});
  t.expect_tcp(at_ms(0), seg{.seq = seq_num{0}, .ack = peer_iss + seq_len{1}, .flags = tcp_flag::rst,
                             .peer = 1234, .local = 8080});
  EXPECT_EQ(t.ctr().passive_opens, 0u);
  EXPECT_EQ(t.h().connection_count(), 0u);
}

// The reply queue is bounded (32 slots): the 33rd RST is dropped and counted, never queued.
TEST(closed_port, reply_queue_bounded) {
  stack_harness t;
  for (std::uint16_t i = 0; i < 33; ++i) {
    t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = static_cast<std::uint16_t>(2000 + i),
                         .local = 81});
  }
  EXPECT_EQ(t.ctr().host(host_drop::reply_queue_full), 1u);
  for (std::uint16_t i = 0; i < 32; ++i) {
    t.expect_tcp(at_ms(0), seg{.seq = seq_num{0}, .ack = peer_iss + seq_len{1}, .flags = tcp_flag::rst,
                               .peer = static_cast<std::uint16_t>(2000 + i), .local = 81});
  }
  t.expect_nothing(at_ms(0));
  EXPECT_EQ(t.ctr().out_rsts, 32u);
}

}  // namespace
}  // namespace synack::stest
