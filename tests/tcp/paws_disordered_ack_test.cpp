// PAWS and the disordered duplicate ACK (tcp_config::paws_disordered_ack; RFC 7323 §5.3 R1 and
// its DEVIATION, as Linux's tcp_disordered_ack): a path that holds an ACK back by more than a
// round trip lets a later ACK raise TS.Recent first, and PAWS would drop the held one with the
// D-SACK it may carry. Exact segments on virtual time: a passive open with SACK and timestamps
// (the peer's clock starts at 1000, ours is our_ts), four segments of 1448 octets, RACK finding
// the first lost and resending it, then the ACKs around the D-SACK of that retransmission.
#include <gtest/gtest.h>

#include <string>

#include "support/tcp_harness.hpp"
#include "synack/tcp/congestion.hpp"

namespace synack::test {
namespace {

constexpr std::uint32_t mss = 1448;  // 1460 less the timestamps option

tcp_timestamps ts(std::uint32_t val, std::uint32_t ecr) { return tcp_timestamps{val, ecr}; }
std::uint32_t o(int k) { return 1 + static_cast<std::uint32_t>(k - 1) * mss; }  // segment k's offset
std::string data(int k) { return std::string(mss, static_cast<char>('a' + k - 1)); }

tcp_config cfg_with(bool disordered) {
  tcp_config cfg;
  cfg.paws_disordered_ack = disordered;
  cfg.tail_loss_probe = false;  // nothing but what the ACKs below ask for
  cfg.initial_window = initial_window_rule::rfc6928;
  cfg.no_delay = true;  // the fourth segment is 1448 octets, below snd.mss (1460 before TSopt)
  return cfg;
}

// Established at 1 ms; segments 1-4 sent at 100 ms; at 110 ms the peer SACKs 2-4 and RACK
// resends 1 (three segments SACKed above it: reo_wnd 0, RFC 8985 §6.2); at 111 ms everything is
// acknowledged: the retransmission arrived first (the ACK echoes its TSval, so Eifel cannot tell)
// and recovery ends at the reduced window.
void spurious_fast_retransmit(tcp_harness& h) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = tcp_flag::syn, .mss = 1460, .sack_ok = true, .ts = ts(1000, 0)});
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .ts = ts(1001, our_ts(0))});
  ASSERT_TRUE(h.conn().timestamps_on());
  ASSERT_GE(h.conn().snapshot().cwnd, 4 * mss);
  ASSERT_EQ(h.write(data(1) + data(2) + data(3) + data(4)), 4 * mss);
  for (int k = 1; k <= 4; ++k) {
    h.expect_recv(at_ms(100), seg{.seq = h.l(o(k)), .ack = h.r(1), .flags = static_cast<std::uint8_t>(k == 4 ? tcp_flag::psh : 0),
                                  .payload = data(k), .ts = ts(our_ts(100), 1001)});
  }
  h.send(at_ms(110), seg{.seq = h.r(1), .ack = h.l(1), .sack = {{sack_block{h.l(o(2)), h.l(o(5))}}}, .ts = ts(1110, our_ts(100))});
  h.expect_recv(at_ms(110), seg{.seq = h.l(1), .ack = h.r(1), .payload = data(1), .ts = ts(our_ts(110), 1110)});
  h.expect_nothing(at_ms(110));
  ASSERT_TRUE(h.conn().snapshot().in_recovery);
  ASSERT_EQ(h.send(at_ms(111), seg{.seq = h.r(1), .ack = h.l(o(5)), .ts = ts(1111, our_ts(110))}), rx_verdict::accepted);
  ASSERT_FALSE(h.conn().snapshot().in_recovery);
  ASSERT_LT(h.conn().snapshot().cwnd, 4 * mss) << "reduced";
  // The receiver's next ACK (a window update, say) overtakes the one before it on the path.
  ASSERT_EQ(h.send(at_ms(112), seg{.seq = h.r(1), .ack = h.l(o(5)), .ts = ts(1113, our_ts(110))}), rx_verdict::accepted);
  ASSERT_EQ(h.conn().ts_recent(), 1113u);
}

// The held ACK: the D-SACK of the retransmission of 1 (RFC 2883 §4.2), TSval 1112.
seg held_dsack(tcp_harness& h, std::uint32_t tsval = 1112) {
  return seg{.seq = h.r(1), .ack = h.l(o(5)), .sack = {{sack_block{h.l(o(1)), h.l(o(2))}}}, .ts = ts(tsval, our_ts(110))};
}

TEST(paws_disordered_ack, the_held_dsack_is_processed_and_undoes_the_reduction) {
  tcp_harness h(cfg_with(true));
  spurious_fast_retransmit(h);
  const std::uint32_t reduced = h.conn().snapshot().cwnd;
  EXPECT_EQ(h.send(at_ms(113), held_dsack(h)), rx_verdict::accepted);
  EXPECT_EQ(h.conn().spurious_undos(), 1u);
  EXPECT_GT(h.conn().snapshot().cwnd, reduced) << "the window before the reduction";
  EXPECT_EQ(h.conn().snapshot().ssthresh, congestion_control::max_window);
  EXPECT_EQ(h.conn().ts_recent(), 1113u) << "an older TSval never becomes TS.Recent";
  h.expect_nothing(at_ms(113));  // no answer: it was a duplicate ACK, not an old segment
}

TEST(paws_disordered_ack, switched_off__dropped_by_paws_and_answered_the_undo_is_lost) {
  tcp_harness h(cfg_with(false));
  spurious_fast_retransmit(h);
  EXPECT_EQ(h.send(at_ms(113), held_dsack(h)), rx_verdict::paws);
  EXPECT_EQ(h.conn().spurious_undos(), 0u);
  h.expect_recv(at_ms(113), seg{.seq = h.l(o(5)), .ack = h.r(1), .ts = ts(our_ts(113), 1113)});
}

TEST(paws_disordered_ack, an_older_cumulative_ack_is_still_dropped) {
  tcp_harness h(cfg_with(true));
  spurious_fast_retransmit(h);
  seg old = held_dsack(h);
  old.ack = h.l(o(4));  // below SND.UNA: not a duplicate ACK
  EXPECT_EQ(h.send(at_ms(113), old), rx_verdict::paws);
  EXPECT_EQ(h.conn().spurious_undos(), 0u);
}

TEST(paws_disordered_ack, a_larger_window_or_data_or_fin_is_still_dropped) {
  {
    tcp_harness h(cfg_with(true));
    spurious_fast_retransmit(h);
    seg s = held_dsack(h);
    s.window = 0x7FFF;  // smaller than SND.WND (0xFFFF): taken, but not applied
    EXPECT_EQ(h.send(at_ms(113), s), rx_verdict::accepted);
    EXPECT_EQ(h.conn().snapshot().snd.wnd, 0xFFFFu) << "a stale window is not applied";
  }
  {
    tcp_harness h(cfg_with(true));
    spurious_fast_retransmit(h);
    h.send(at_ms(112), seg{.seq = h.r(1), .ack = h.l(o(5)), .window = 0x7FFF, .ts = ts(1114, our_ts(110))});
    ASSERT_EQ(h.conn().snapshot().snd.wnd, 0x7FFFu);
    EXPECT_EQ(h.send(at_ms(113), held_dsack(h)), rx_verdict::paws) << "its window 0xFFFF would update SND.WND";
  }
  {
    tcp_harness h(cfg_with(true));
    spurious_fast_retransmit(h);
    seg s = held_dsack(h);
    s.payload = "x";
    EXPECT_EQ(h.send(at_ms(113), s), rx_verdict::paws);
    EXPECT_EQ(h.conn().recv_available(), 0u);
  }
  {
    tcp_harness h(cfg_with(true));
    spurious_fast_retransmit(h);
    seg s = held_dsack(h);
    s.flags = tcp_flag::fin;
    EXPECT_EQ(h.send(at_ms(113), s), rx_verdict::paws);
    h.expect_state(tcp_state::established);
  }
}

TEST(paws_disordered_ack, a_tsval_more_than_one_rto_behind_is_still_dropped) {
  tcp_harness h(cfg_with(true));
  spurious_fast_retransmit(h);
  const auto rto = std::chrono::duration_cast<std::chrono::milliseconds>(h.conn().snapshot().rto).count();
  ASSERT_EQ(rto, 1000) << "RFC 6298's 1 s floor";
  // Replay window: TS.Recent (1113) - TSval <= RTO in 1 ms ticks.
  EXPECT_EQ(h.send(at_ms(113), held_dsack(h, 1113 - 1001)), rx_verdict::paws);
  EXPECT_EQ(h.conn().spurious_undos(), 0u);
  EXPECT_EQ(h.send(at_ms(114), held_dsack(h, 1113 - 1000)), rx_verdict::accepted);
  EXPECT_EQ(h.conn().spurious_undos(), 1u);
}

}  // namespace
}  // namespace synack::test
