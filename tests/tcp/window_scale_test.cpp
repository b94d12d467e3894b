// RFC 7323 §2 window scaling, both directions: the peer's shift applies to its window field,
// ours to the field we send; SYN windows are never scaled; shifts above 14 count as 14; no
// scaling unless both SYNs carried the option.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using tcp_flag::syn;

// Default recv_buffer 256 KiB: the smallest shift that covers it is 3 (262144 >> 3 = 32768).
constexpr std::uint8_t our_shift = 3;

void open_active(tcp_harness& h, std::optional<std::uint8_t> peer_shift, std::uint16_t syn_window = 1000) {
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(1), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .window = syn_window, .wscale = peer_shift});
  ASSERT_EQ(h.conn().state(), tcp_state::established);
}

TEST(window_scale, our_syn_announces_the_shift_for_the_buffer__window_unscaled) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .window = 0xFFFF, .wscale = our_shift}, true);
}

TEST(window_scale, both_directions_scaled_when_both_offered) {
  tcp_harness h;
  open_active(h, 2);
  EXPECT_EQ(h.conn().snd().wnd, 1000u);  // the SYN-ACK's window is not scaled
  EXPECT_EQ(h.conn().snd().wscale, 2);
  EXPECT_EQ(h.conn().rcv().wscale, our_shift);
  // Ours: 262144 octets free, sent as 262144 >> 3.
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .window = 32768}, true);
  // Theirs: a later segment's field is shifted by 2.
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .window = 1000});
  EXPECT_EQ(h.conn().snd().wnd, 4000u);
}

TEST(window_scale, announced_window_shrinks_by_whole_units_as_data_is_held) {
  tcp_harness h;
  open_active(h, 0);
  ASSERT_TRUE(h.poll(at_ms(1)).has_value());
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .payload = std::string(100, 'x')});
  // (262144 - 100) >> 3 = 32755: the free space, in whole units of 2^3.
  h.expect_recv(at_ms(42), seg{.seq = h.l(1), .ack = h.r(101), .window = 32755}, true);
}

TEST(window_scale, peer_shift_above_14_used_as_14) {
  tcp_harness h;
  open_active(h, 15);
  EXPECT_EQ(h.conn().snd().wscale, 14);
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .window = 3});
  EXPECT_EQ(h.conn().snd().wnd, 3u << 14);
}

TEST(window_scale, peer_did_not_offer__neither_direction_scaled) {
  tcp_harness h;
  open_active(h, std::nullopt);
  EXPECT_EQ(h.conn().snd().wscale, 0);
  EXPECT_EQ(h.conn().rcv().wscale, 0);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1), .ack = h.r(1), .window = 0xFFFF}, true);  // capped, unscaled
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .window = 1000});
  EXPECT_EQ(h.conn().snd().wnd, 1000u);
}

TEST(window_scale, disabled__not_offered_and_peer_shift_ignored) {
  tcp_config cfg;
  cfg.window_scaling = false;
  tcp_harness h(cfg);
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  auto s = h.poll(at_ms(0));
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->options.window_scale.has_value());
  h.send(at_ms(1), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .window = 1000, .wscale = 5});
  h.send(at_ms(2), seg{.seq = h.r(1), .ack = h.l(1), .window = 1000});
  EXPECT_EQ(h.conn().snd().wnd, 1000u);
  h.expect_recv(at_ms(2), seg{.seq = h.l(1), .ack = h.r(1), .window = 0xFFFF}, true);
}

TEST(window_scale, passive__syn_ack_answers_only_if_the_syn_offered) {
  tcp_harness with;
  ASSERT_TRUE(with.conn().listen(local_addr, local_port).has_value());
  with.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .window = 1000, .wscale = 7});
  // The SYN-ACK's own window is unscaled (capped at 65535) and carries our shift.
  with.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = with.r(1), .flags = syn, .window = 0xFFFF, .wscale = our_shift},
                   true);
  with.send(at_ms(1), seg{.seq = with.r(1), .ack = with.l(1), .window = 10});
  EXPECT_EQ(with.conn().snd().wnd, 10u << 7);

  tcp_harness without;
  ASSERT_TRUE(without.conn().listen(local_addr, local_port).has_value());
  without.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .window = 1000});
  auto synack = without.poll(at_ms(0));
  ASSERT_TRUE(synack.has_value());
  EXPECT_FALSE(synack->options.window_scale.has_value());
  without.send(at_ms(1), seg{.seq = without.r(1), .ack = without.l(1), .window = 10});
  EXPECT_EQ(without.conn().snd().wnd, 10u);
}

TEST(window_scale, small_buffer__shift_zero_offered) {
  tcp_config cfg;
  cfg.recv_buffer = 60000;
  tcp_harness h(cfg);
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .window = 60000, .wscale = 0}, true);
}

TEST(window_scale, huge_buffer__shift_clamped_to_14) {
  tcp_config cfg;
  cfg.recv_buffer = std::size_t{1} << 31;
  tcp_harness h(cfg);
  EXPECT_EQ(h.conn().rcv().wscale, 14);
}

}  // namespace
}  // namespace synack::test
