// RFC 9293 §3.10.7.3: segment arrival in SYN-SENT, and the commands there.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;

void connect(tcp_harness& h) {
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .window = 65535, .mss = 1460, .wscale = 3}, true);
  h.expect_state(tcp_state::syn_sent);
}

TEST(syn_sent, connect__closed_to_syn_sent_one_syn) {
  tcp_harness h;
  connect(h);
  h.expect_last_arc(tcp_state::closed, tcp_state::syn_sent);
  h.expect_nothing(at_ms(0));
  EXPECT_EQ(h.conn().snd().una, local_iss);
  EXPECT_EQ(h.conn().snd().nxt, h.l(1));
  EXPECT_EQ(h.conn().next_deadline(), std::optional{at_ms(1000)});
}

TEST(syn_sent, synack__established_ack_and_event) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(20), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .window = 5000, .mss = 1200}),
            rx_verdict::accepted);
  h.expect_state(tcp_state::established);
  h.expect_last_arc(tcp_state::syn_sent, tcp_state::established);
  // No window scale from the peer: none is used either way, our window is 65535 unscaled.
  h.expect_recv(at_ms(20), seg{.seq = h.l(1), .ack = h.r(1), .window = 65535}, true);
  h.expect_nothing(at_ms(20));
  h.expect_event(tcp_event{tcp_event_kind::established, close_reason::none});
  EXPECT_EQ(h.conn().snd().wnd, 5000u);
  EXPECT_EQ(h.conn().snd().mss, 1200);
  EXPECT_EQ(h.conn().rcv().wscale, 0);
  EXPECT_FALSE(h.conn().next_deadline().has_value());  // SYN acknowledged: no timer left
}

TEST(syn_sent, synack_with_window_scale__our_window_field_is_scaled) {
  tcp_harness h;
  connect(h);
  h.send(at_ms(1), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .mss = 1460, .wscale = 1});
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .window = (256 * 1024) >> 3}, true);
  EXPECT_EQ(h.conn().snd().wscale, 1);
  EXPECT_EQ(h.conn().snd().wnd, 65535u);  // the SYN-ACK's own window is never scaled
}

TEST(syn_sent, synack_without_mss__send_mss_536) {
  tcp_harness h;
  connect(h);
  h.send(at_ms(1), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn});
  EXPECT_EQ(h.conn().snd().mss, 536);  // MUST-15
}

TEST(syn_sent, rst_without_ack__is_ignored) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = remote_iss, .flags = rst}), rx_verdict::syn_sent_rst_no_ack);
  h.expect_nothing(at_ms(5));
  h.expect_state(tcp_state::syn_sent);
  h.expect_no_event();
}

TEST(syn_sent, rst_with_acceptable_ack__refused) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = seq_num{0}, .ack = h.l(1), .flags = rst}), rx_verdict::accepted);
  h.expect_state(tcp_state::closed);
  h.expect_nothing(at_ms(5));
  EXPECT_EQ(h.conn().reason(), close_reason::refused);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::refused});
  EXPECT_EQ(h.conn().send(std::as_bytes(std::span{"x", 1})).error(), tcp_error::connection_refused);
  EXPECT_FALSE(h.conn().next_deadline().has_value());
}

TEST(syn_sent, rst_with_unacceptable_ack__is_dropped_without_reply) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = seq_num{0}, .ack = h.l(2), .flags = rst}), rx_verdict::syn_sent_bad_ack);
  h.expect_nothing(at_ms(5));
  h.expect_state(tcp_state::syn_sent);
}

TEST(syn_sent, ack_equal_to_iss__rst_seq_seg_ack) {
  tcp_harness h;
  connect(h);
  // SEG.ACK =< ISS is unacceptable.
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = remote_iss, .ack = local_iss, .flags = syn}), rx_verdict::syn_sent_bad_ack);
  h.expect_recv(at_ms(5), seg{.seq = local_iss, .flags = rst});
  h.expect_nothing(at_ms(5));
  h.expect_state(tcp_state::syn_sent);
}

TEST(syn_sent, ack_beyond_snd_nxt__rst_seq_seg_ack) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = remote_iss, .ack = h.l(2)}), rx_verdict::syn_sent_bad_ack);
  h.expect_recv(at_ms(5), seg{.seq = h.l(2), .flags = rst});
  h.expect_state(tcp_state::syn_sent);
  // The SYN is still retransmitted on time: the connection attempt goes on.
  h.expect_recv(at_ms(1000), seg{.seq = local_iss, .flags = syn});
}

TEST(syn_sent, acceptable_ack_without_syn__is_dropped) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = remote_iss, .ack = h.l(1)}), rx_verdict::syn_sent_no_syn);
  h.expect_nothing(at_ms(5));
  h.expect_state(tcp_state::syn_sent);
}

TEST(syn_sent, fin_without_syn__is_dropped) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = remote_iss, .flags = fin}), rx_verdict::syn_sent_no_syn);
  h.expect_nothing(at_ms(5));
  h.expect_state(tcp_state::syn_sent);
}

TEST(syn_sent, synack_with_fin__is_dropped) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn | fin}), rx_verdict::syn_fin);
  h.expect_nothing(at_ms(5));
  h.expect_state(tcp_state::syn_sent);
}

// tcp_config::drop_syn_fin off (FreeBSD's drop_synfin = 0): SYN+FIN is the SYN it carries.
// The text is held as for any SYN; the FIN is not taken (nothing acknowledges it), so the
// peer's FIN that follows the handshake is the one processed.
TEST(syn_sent, syn_fin_with_text__simultaneous_open_when_not_dropped) {
  tcp_config c;
  c.drop_syn_fin = false;
  tcp_harness h(c);
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = remote_iss, .flags = syn | fin, .payload = "abc", .mss = 1460}),
            rx_verdict::accepted);
  h.expect_state(tcp_state::syn_received);
  h.expect_recv(at_ms(5), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .mss = 1460});
  h.expect_nothing(at_ms(5));
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(4), .ack = h.l(1)}), rx_verdict::accepted);
  h.expect_state(tcp_state::established);
  EXPECT_EQ(h.read(100), "abc");
  EXPECT_EQ(h.send(at_ms(20), seg{.seq = h.r(4), .ack = h.l(1), .flags = fin}), rx_verdict::accepted);
  h.expect_state(tcp_state::close_wait);
  h.expect_recv(at_ms(20), seg{.seq = h.l(1), .ack = h.r(5)});
}

TEST(syn_sent, synack_fin__established_fin_not_taken_when_not_dropped) {
  tcp_config c;
  c.drop_syn_fin = false;
  tcp_harness h(c);
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn | fin, .mss = 1460}),
            rx_verdict::accepted);
  h.expect_state(tcp_state::established);
  h.expect_recv(at_ms(5), seg{.seq = h.l(1), .ack = h.r(1)});
  h.expect_nothing(at_ms(5));
}

TEST(syn_sent, syn_without_ack__simultaneous_open_to_syn_received) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = remote_iss, .flags = syn, .mss = 1460}), rx_verdict::accepted);
  h.expect_state(tcp_state::syn_received);
  h.expect_last_arc(tcp_state::syn_sent, tcp_state::syn_received);
  // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>
  h.expect_recv(at_ms(5), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .mss = 1460});
  h.expect_nothing(at_ms(5));
  h.expect_no_event();
}

// §3.10.7.3: "If there are other controls or text in the segment, then continue processing
// at the sixth step below": text on the SYN-ACK is taken and acknowledged at once.
TEST(syn_sent, synack_with_text__text_taken_and_acknowledged) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(20), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .payload = "abc", .mss = 1460}),
            rx_verdict::accepted);
  h.expect_state(tcp_state::established);
  h.expect_recv(at_ms(20), seg{.seq = h.l(1), .ack = h.r(4)});
  h.expect_nothing(at_ms(20));
  EXPECT_EQ(h.conn().rcv().nxt, h.r(4));
  EXPECT_EQ(h.read(100), "abc");
  h.expect_nothing(at_ms(1000));  // nothing owed: no delayed ACK left behind
}

TEST(syn_sent, synack_with_text_beyond_window__trimmed_to_it) {
  tcp_config c;
  c.recv_buffer = 2;
  tcp_harness h(c);
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(20), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .payload = "abc", .mss = 1460});
  h.expect_state(tcp_state::established);
  h.expect_recv(at_ms(20), seg{.seq = h.l(1), .ack = h.r(3), .window = 0}, true);
  EXPECT_EQ(h.read(100), "ab");
}

// §3.10.7.3 fourth, simultaneous open: the text of a SYN is queued "for processing after the
// ESTABLISHED state has been reached". The SYN-ACK acknowledges the SYN alone; the text becomes
// readable with the ACK that completes the handshake, and is acknowledged like in-order text.
TEST(syn_sent, syn_with_text__held_until_established) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.send(at_ms(5), seg{.seq = remote_iss, .flags = syn, .payload = "abc", .mss = 1460}),
            rx_verdict::accepted);
  h.expect_state(tcp_state::syn_received);
  h.expect_recv(at_ms(5), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .mss = 1460});
  h.expect_nothing(at_ms(5));
  EXPECT_EQ(h.read(100), "");
  EXPECT_EQ(h.conn().rcv().nxt, h.r(1));
  // The peer's ACK of our SYN-ACK, after its text.
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(4), .ack = h.l(1)}), rx_verdict::accepted);
  h.expect_state(tcp_state::established);
  EXPECT_EQ(h.conn().rcv().nxt, h.r(4));
  EXPECT_EQ(h.read(100), "abc");
  h.expect_nothing(at_ms(49));
  h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(4)});  // the delayed ACK (40 ms)
  h.expect_nothing(at_ms(1000));
}

TEST(syn_sent, syn_with_text_then_close__fin_acknowledges_the_text) {
  tcp_harness h;
  connect(h);
  h.send(at_ms(5), seg{.seq = remote_iss, .flags = syn, .payload = "abc", .mss = 1460});
  h.expect_recv(at_ms(5), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .mss = 1460});
  h.send(at_ms(10), seg{.seq = h.r(4), .ack = h.l(1)});
  EXPECT_EQ(h.read(100), "abc");
  ASSERT_TRUE(h.conn().close(at_ms(10)).has_value());
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(4), .flags = fin});
  h.expect_nothing(at_ms(60));
}

TEST(syn_sent, data_queued_before_established__sent_after) {
  tcp_harness h;
  connect(h);
  EXPECT_EQ(h.write("abc"), 3u);
  h.expect_nothing(at_ms(1));  // nothing but the SYN until synchronized
  h.send(at_ms(2), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn});
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "abc"});
  h.expect_nothing(at_ms(2));
}

TEST(syn_sent, close__closed_without_a_segment) {
  tcp_harness h;
  connect(h);
  EXPECT_TRUE(h.conn().close(at_ms(1)).has_value());
  h.expect_state(tcp_state::closed);
  h.expect_nothing(at_ms(1));
  h.expect_nothing(at_ms(5000));  // and no SYN retransmission
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::none});
}

TEST(syn_sent, abort__no_rst) {
  tcp_harness h;
  connect(h);
  h.conn().abort(at_ms(1));
  h.expect_state(tcp_state::closed);
  h.expect_nothing(at_ms(1));
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::aborted});
}

}  // namespace
}  // namespace synack::test
