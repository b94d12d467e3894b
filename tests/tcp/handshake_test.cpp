// RFC 9293 §3.5: the three-way handshake, with the numbers every textbook shows.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;

TEST(handshake, active_open__syn_synack_ack) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_state(tcp_state::syn_sent);
  // SYN seq=J (no ACK), MSS and window scale announced.
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .mss = 1460, .wscale = 3});  // 256 KiB >> 3 fits
  h.expect_nothing(at_ms(0));
  // SYN-ACK seq=K ack=J+1.
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .mss = 1460, .wscale = 7}),
            rx_verdict::accepted);
  h.expect_state(tcp_state::established);
  // ACK seq=J+1 ack=K+1.
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(1)});
  h.expect_nothing(at_ms(10));
  EXPECT_EQ(h.conn().poll_event(), (tcp_event{tcp_event_kind::established, close_reason::none}));
  EXPECT_EQ(h.conn().snd().wscale, 7);
}

TEST(handshake, passive_open__syn_synack_ack) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.expect_state(tcp_state::listen);
  EXPECT_EQ(h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1400}), rx_verdict::accepted);
  h.expect_state(tcp_state::syn_received);
  // SYN-ACK seq=K ack=J+1; no window scale because the SYN had none (RFC 7323 §2.2).
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .mss = 1460});
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = h.r(1), .ack = h.l(1)}), rx_verdict::accepted);
  h.expect_state(tcp_state::established);
  h.expect_nothing(at_ms(5));
  EXPECT_EQ(h.conn().snd().mss, 1400);
}

TEST(handshake, syn_sent__old_synack_with_wrong_ack__rst_and_no_connection) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn});
  // An old duplicate SYN-ACK acknowledges a different ISS: <SEQ=SEG.ACK><CTL=RST>.
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = remote_iss, .ack = seq_num{12345}, .flags = syn}),
            rx_verdict::syn_sent_bad_ack);
  h.expect_recv(at_ms(1), seg{.seq = seq_num{12345}, .flags = rst});
  h.expect_state(tcp_state::syn_sent);
}

TEST(handshake, simultaneous_open) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn});
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = remote_iss, .flags = syn}), rx_verdict::accepted);
  h.expect_state(tcp_state::syn_received);
  h.expect_recv(at_ms(1), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  // The peer's SYN-ACK carries SEQ=IRS again (RFC 9293 Figure 8, line 6).
  EXPECT_EQ(h.send(at_ms(2), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn}), rx_verdict::accepted);
  h.expect_state(tcp_state::established);
}

TEST(handshake, syn_retransmitted_with_backoff_then_timeout) {
  tcp_config cfg;
  cfg.syn_r2 = std::chrono::seconds(180);
  tcp_harness h(cfg);
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn});
  h.expect_nothing(at_ms(999));
  h.expect_recv(at_ms(1000), seg{.seq = local_iss, .flags = syn});  // RTO 1 s
  h.expect_nothing(at_ms(2999));
  h.expect_recv(at_ms(3000), seg{.seq = local_iss, .flags = syn});  // 2 s
  h.expect_recv(at_ms(7000), seg{.seq = local_iss, .flags = syn});  // 4 s
  h.expect_recv(at_ms(15000), seg{.seq = local_iss, .flags = syn});  // 8 s
  h.expect_recv(at_ms(31000), seg{.seq = local_iss, .flags = syn});  // 16 s
  h.expect_recv(at_ms(63000), seg{.seq = local_iss, .flags = syn});  // 32 s
  h.expect_recv(at_ms(123000), seg{.seq = local_iss, .flags = syn});  // 60 s (RTO max)
  h.expect_state(tcp_state::syn_sent);
  // MUST-23: at least 3 minutes before giving up.
  h.expect_nothing(at_ms(179999));
  h.expect_state(tcp_state::syn_sent);
  h.expect_nothing(at_ms(183000));
  h.expect_state(tcp_state::closed);
  EXPECT_EQ(h.conn().reason(), close_reason::timeout);
}

}  // namespace
}  // namespace synack::test
