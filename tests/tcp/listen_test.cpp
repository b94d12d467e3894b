// RFC 9293 §3.10.7.2: segment arrival in LISTEN, and the commands that leave it.
#include "support/tcp_harness.hpp"
#include "synack/tcp/reset.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;

void listen(tcp_harness& h) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.expect_state(tcp_state::listen);
}

TEST(listen, passive_open__closed_to_listen_sends_nothing) {
  tcp_harness h;
  listen(h);
  h.expect_last_arc(tcp_state::closed, tcp_state::listen);
  h.expect_nothing(at_ms(0));
  EXPECT_FALSE(h.conn().next_deadline().has_value());
  h.expect_no_event();
}

TEST(listen, rst__is_ignored) {
  tcp_harness h;
  listen(h);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = remote_iss, .flags = rst}), rx_verdict::listen_rst);
  h.expect_nothing(at_ms(1));
  h.expect_state(tcp_state::listen);
}

TEST(listen, rst_ack__is_ignored) {
  tcp_harness h;
  listen(h);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = remote_iss, .ack = seq_num{77}, .flags = rst}), rx_verdict::listen_rst);
  h.expect_nothing(at_ms(1));
  h.expect_state(tcp_state::listen);
}

TEST(listen, ack__verdict_listen_ack__the_stack_sends_the_rst) {
  tcp_harness h;
  listen(h);
  const seg a{.seq = remote_iss, .ack = seq_num{4242}};
  EXPECT_EQ(h.send(at_ms(1), a), rx_verdict::listen_ack);
  // The connection itself stays silent: it does not know where to send (remote unbound).
  h.expect_nothing(at_ms(1));
  h.expect_state(tcp_state::listen);
  // What the owner sends: <SEQ=SEG.ACK><CTL=RST>.
  tcp_repr in;
  in.seq = remote_iss;
  in.ack = seq_num{4242};
  auto r = reset_for_closed(in);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->seq.raw, 4242u);
  EXPECT_FALSE(r->ack.has_value());
  EXPECT_EQ(r->flags, rst);
}

TEST(listen, syn_ack__verdict_listen_ack) {
  tcp_harness h;
  listen(h);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = remote_iss, .ack = seq_num{9}, .flags = syn}), rx_verdict::listen_ack);
  h.expect_nothing(at_ms(1));
  h.expect_state(tcp_state::listen);
}

TEST(listen, syn_fin__is_dropped) {
  tcp_harness h;
  listen(h);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = remote_iss, .flags = syn | fin}), rx_verdict::syn_fin);
  h.expect_nothing(at_ms(1));
  h.expect_state(tcp_state::listen);
}

// drop_syn_fin off: the SYN is processed, its FIN (like its text) is not queued: the SYN-ACK
// acknowledges the SYN alone.
TEST(listen, syn_fin__processed_as_syn_when_not_dropped) {
  tcp_config c;
  c.drop_syn_fin = false;
  tcp_harness h(c);
  listen(h);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = remote_iss, .flags = syn | fin, .payload = "abc", .mss = 1460}),
            rx_verdict::accepted);
  h.expect_state(tcp_state::syn_received);
  h.expect_recv(at_ms(1), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .mss = 1460});
  h.expect_nothing(at_ms(1));
}

TEST(listen, fin_without_syn__is_dropped) {
  tcp_harness h;
  listen(h);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = remote_iss, .flags = fin}), rx_verdict::listen_no_syn);
  EXPECT_EQ(h.send(at_ms(1), seg{.seq = remote_iss, .payload = "data"}), rx_verdict::listen_no_syn);
  h.expect_nothing(at_ms(1));
  h.expect_state(tcp_state::listen);
}

TEST(listen, syn__syn_received_and_synack) {
  tcp_harness h;
  listen(h);
  EXPECT_EQ(h.send(at_ms(3), seg{.seq = remote_iss, .flags = syn, .window = 4000, .mss = 1000}),
            rx_verdict::accepted);
  h.expect_state(tcp_state::syn_received);
  h.expect_last_arc(tcp_state::listen, tcp_state::syn_received);
  // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, window unscaled, our MSS, no window scale.
  h.expect_recv(at_ms(3), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .window = 65535, .mss = 1460}, true);
  h.expect_nothing(at_ms(3));
  EXPECT_EQ(h.conn().tuple(), h.tuple());  // the SYN bound the remote end
  EXPECT_EQ(h.conn().rcv().irs, remote_iss);
  EXPECT_EQ(h.conn().snd().wnd, 4000u);
  EXPECT_EQ(h.conn().snd().mss, 1000);
  h.expect_no_event();  // established only after the final ACK
}

TEST(listen, syn_with_window_scale__synack_announces_ours) {
  tcp_harness h;
  listen(h);
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460, .wscale = 2});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .window = 65535, .wscale = 3}, true);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .window = 100});
  EXPECT_EQ(h.conn().snd().wnd, 400u);  // scaled by the peer's shift once synchronized
}

TEST(listen, syn_with_window_scale_but_scaling_disabled__no_option) {
  tcp_config cfg;
  cfg.window_scaling = false;
  tcp_harness h(cfg);
  listen(h);
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .wscale = 2});
  auto synack = h.poll(at_ms(0));
  ASSERT_TRUE(synack.has_value());
  EXPECT_FALSE(synack->options.window_scale.has_value());
}

TEST(listen, syn_with_data__synack_acknowledges_only_the_syn) {
  tcp_harness h;
  listen(h);
  EXPECT_EQ(h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .payload = "early"}), rx_verdict::accepted);
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  EXPECT_EQ(h.conn().recv_available(), 0u);
}

TEST(listen, second_listen_or_connect__already_exists) {
  tcp_harness h;
  listen(h);
  EXPECT_EQ(h.conn().listen(local_addr, local_port).error(), tcp_error::already_exists);
  EXPECT_EQ(h.conn().connect(at_ms(0), h.tuple()).error(), tcp_error::already_exists);
  h.expect_state(tcp_state::listen);
}

TEST(listen, close__closed_without_a_segment) {
  tcp_harness h;
  listen(h);
  EXPECT_TRUE(h.conn().close(at_ms(1)).has_value());
  h.expect_state(tcp_state::closed);
  h.expect_nothing(at_ms(1));
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::none});
}

TEST(listen, abort__closed_without_rst) {
  tcp_harness h;
  listen(h);
  h.conn().abort(at_ms(1));
  h.expect_state(tcp_state::closed);
  h.expect_nothing(at_ms(1));
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::aborted});
}

// RFC 9293 Figure 9: an old duplicate SYN reaches the listener. The SYN-ACK it draws is
// refused by the real client in SYN-SENT (<SEQ=SEG.ACK><CTL=RST>, see syn_sent_test); that RST
// sits exactly at RCV.NXT, so the half-open TCB goes away and the listener is undisturbed.
// This is why the handshake has three segments: the third one proves the SYN was fresh.
TEST(listen, old_duplicate_syn__peer_rst__no_connection) {
  tcp_harness h;
  listen(h);
  const seq_num old_isn{0xFFFFFFFFu - 5000};
  h.send(at_ms(0), seg{.seq = old_isn, .flags = syn});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = old_isn + seq_len{1}, .flags = syn});
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = old_isn + seq_len{1}, .flags = rst}), rx_verdict::accepted);
  h.expect_state(tcp_state::closed);
  h.expect_last_arc(tcp_state::syn_received, tcp_state::closed);
  h.expect_nothing(at_ms(5));
  EXPECT_EQ(h.conn().reason(), close_reason::reset);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::reset});
  EXPECT_FALSE(h.conn().next_deadline().has_value());  // no SYN-ACK retransmission pending
}

}  // namespace
}  // namespace synack::test
