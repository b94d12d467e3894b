// RFC 7323 timestamps: negotiation on the SYNs, TSval/TSecr on every segment, the TS.Recent
// rule (§4.3), PAWS (§5), RTT samples from TSecr (§4.1). Our clock is 1 ms from `now` plus a
// per-connection offset that wraps 10 ms in (local_ts_offset), so the tests cross 2^32.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using tcp_flag::fin;
using tcp_flag::psh;
using tcp_flag::rst;
using tcp_flag::syn;

tcp_timestamps ts(std::uint32_t val, std::uint32_t ecr) { return tcp_timestamps{val, ecr}; }

// Passive open with timestamps; the peer's clock starts at 1000.
void establish_ts(tcp_harness& h) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460, .ts = ts(1000, 0)});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .ts = ts(our_ts(0), 1000)});
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .ts = ts(1001, our_ts(0))});
  ASSERT_EQ(h.conn().state(), tcp_state::established);
  ASSERT_TRUE(h.conn().timestamps_on());
}

TEST(timestamps, active_open__syn_offers_syn_ack_accepts_ack_echoes) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .ts = ts(our_ts(0), 0)});
  h.send(at_ms(30), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .ts = ts(7, our_ts(0))});
  h.expect_recv(at_ms(30), seg{.seq = h.l(1), .ack = h.r(1), .ts = ts(our_ts(30), 7)});
  EXPECT_TRUE(h.conn().timestamps_on());
  // The SYN-ACK's TSecr timed the handshake: 30 ms.
  ASSERT_TRUE(h.conn().rtt().srtt().has_value());
  EXPECT_EQ(*h.conn().rtt().srtt(), std::chrono::milliseconds(30));
}

TEST(timestamps, passive_open__syn_ack_carries_them_only_if_the_syn_did) {
  tcp_harness with;
  establish_ts(with);
  tcp_harness without;
  ASSERT_TRUE(without.conn().listen(local_addr, local_port).has_value());
  without.send(at_ms(0), seg{.seq = remote_iss, .flags = syn});
  auto synack = without.poll(at_ms(0));
  ASSERT_TRUE(synack.has_value());
  EXPECT_FALSE(synack->options.timestamps.has_value());
  without.send(at_ms(1), seg{.seq = without.r(1), .ack = without.l(1)});
  EXPECT_FALSE(without.conn().timestamps_on());
  without.send(at_ms(2), seg{.seq = without.r(1), .ack = without.l(1), .payload = "a"});  // no TS: fine
  EXPECT_EQ(without.conn().recv_available(), 1u);
}

TEST(timestamps, disabled__never_offered_nor_answered) {
  tcp_config cfg;
  cfg.timestamps = false;
  tcp_harness h(cfg);
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .ts = ts(1000, 0)});
  auto synack = h.poll(at_ms(0));
  ASSERT_TRUE(synack.has_value());
  EXPECT_FALSE(synack->options.timestamps.has_value());
  EXPECT_FALSE(h.conn().timestamps_on());
}

TEST(timestamps, every_segment_carries_tsval_and_ts_recent) {
  tcp_harness h;
  establish_ts(h);
  h.write("hello");
  h.expect_recv(at_ms(20), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello", .ts = ts(our_ts(20), 1001)});
  h.send(at_ms(25), seg{.seq = h.r(1), .ack = h.l(6), .flags = fin, .ts = ts(1025, our_ts(20))});
  h.expect_recv(at_ms(25), seg{.seq = h.l(6), .ack = h.r(2), .ts = ts(our_ts(25), 1025)});
  ASSERT_TRUE(h.conn().shutdown(at_ms(30)).has_value());
  h.expect_recv(at_ms(30), seg{.seq = h.l(6), .ack = h.r(2), .flags = fin, .ts = ts(our_ts(30), 1025)});
}

TEST(timestamps, delayed_ack_echoes_the_earliest_unacknowledged_segment) {
  tcp_harness h;
  establish_ts(h);
  // RFC 7323 §4.3: the second segment starts beyond Last.ACK.sent, so TS.Recent stays 1010.
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .payload = "ab", .ts = ts(1010, our_ts(0))});
  h.send(at_ms(12), seg{.seq = h.r(3), .ack = h.l(1), .payload = "cd", .ts = ts(1012, our_ts(0))});
  h.expect_recv(at_ms(12), seg{.seq = h.l(1), .ack = h.r(5), .ts = ts(our_ts(12), 1010)});
  EXPECT_EQ(h.conn().ts_recent(), 1010u);
  // The next one starts at Last.ACK.sent: it updates TS.Recent.
  h.send(at_ms(14), seg{.seq = h.r(5), .ack = h.l(1), .payload = "ef", .ts = ts(1014, our_ts(0))});
  EXPECT_EQ(h.conn().ts_recent(), 1014u);
}

TEST(timestamps, paws__old_tsval_dropped_and_acked) {
  tcp_harness h;
  establish_ts(h);
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .payload = "new", .ts = ts(1010, our_ts(0))});
  h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(4), .ts = ts(our_ts(50), 1010)});
  // An old duplicate from a previous wrap of the peer's sequence space: in window, old TSval.
  EXPECT_EQ(h.send(at_ms(60), seg{.seq = h.r(4), .ack = h.l(1), .payload = "old", .ts = ts(900, our_ts(0))}),
            rx_verdict::paws);
  h.expect_recv(at_ms(60), seg{.seq = h.l(1), .ack = h.r(4), .ts = ts(our_ts(60), 1010)});
  EXPECT_EQ(h.read_all(), "new");
  EXPECT_EQ(h.conn().ts_recent(), 1010u);
}

// Passive open with timestamps and SACK (so D-SACK blocks can be reported).
void establish_ts_sack(tcp_harness& h) {
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460, .sack_ok = true, .ts = ts(1000, 0)});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .sack_ok = true, .ts = ts(our_ts(0), 1000)});
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .ts = ts(1001, our_ts(0))});
  ASSERT_TRUE(h.conn().timestamps_on());
  ASSERT_TRUE(h.conn().sack_permitted());
}

// RFC 2883 §4: a reordered original that arrives after its retransmission is older than
// TS.Recent (the retransmission's newer TSval raised it), so PAWS drops it; its text is below
// RCV.NXT, a duplicate, and the answer reports it as a D-SACK block (Linux tcp_send_dupack),
// so the sender can tell its retransmission was spurious.
TEST(timestamps, paws__a_duplicate_below_rcv_nxt_is_reported_as_dsack) {
  tcp_harness h;
  establish_ts_sack(h);
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc", .ts = ts(1010, our_ts(0))});
  h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(4), .sack = std::vector<sack_block>{}, .ts = ts(our_ts(50), 1010)});
  h.send(at_ms(60), seg{.seq = h.r(4), .ack = h.l(1), .payload = "def", .ts = ts(1060, our_ts(50))});
  EXPECT_EQ(h.conn().ts_recent(), 1060u);
  EXPECT_EQ(h.send(at_ms(61), seg{.seq = h.r(1), .ack = h.l(1), .payload = "abc", .ts = ts(1010, our_ts(0))}),
            rx_verdict::paws);
  h.expect_recv(at_ms(61), seg{.seq = h.l(1), .ack = h.r(7), .sack = std::vector<sack_block>{sack_block{h.r(1), h.r(4)}},
                               .ts = ts(our_ts(61), 1060)});
  // Partly below RCV.NXT: only that part is the duplicate.
  EXPECT_EQ(h.send(at_ms(62), seg{.seq = h.r(5), .ack = h.l(1), .payload = "efgh", .ts = ts(1020, our_ts(0))}),
            rx_verdict::paws);
  h.expect_recv(at_ms(62), seg{.seq = h.l(1), .ack = h.r(7), .sack = std::vector<sack_block>{sack_block{h.r(5), h.r(7)}},
                               .ts = ts(our_ts(62), 1060)});
  // Wholly past RCV.NXT it is not a duplicate: answered, no D-SACK (and not held: PAWS).
  EXPECT_EQ(h.send(at_ms(63), seg{.seq = h.r(7), .ack = h.l(1), .payload = "gh", .ts = ts(1030, our_ts(0))}),
            rx_verdict::paws);
  h.expect_recv(at_ms(63), seg{.seq = h.l(1), .ack = h.r(7), .sack = std::vector<sack_block>{}, .ts = ts(our_ts(63), 1060)});
  EXPECT_EQ(h.read_all(), "abcdef");
}

TEST(timestamps, paws__does_not_apply_to_rst) {
  tcp_harness h;
  establish_ts(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .flags = rst, .ts = ts(5, 0)}), rx_verdict::accepted);
  h.expect_state(tcp_state::closed);
}

TEST(timestamps, paws__peer_clock_wrapping_is_newer_not_older) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .ts = ts(0xFFFFFFF0u, 0)});
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .ts = ts(0xFFFFFFF8u, our_ts(0))});
  EXPECT_EQ(h.send(at_ms(30), seg{.seq = h.r(1), .ack = h.l(1), .payload = "x", .ts = ts(0x10, our_ts(0))}),
            rx_verdict::accepted);
  EXPECT_EQ(h.conn().ts_recent(), 0x10u);
}

TEST(timestamps, paws__ts_recent_idle_24_days_no_longer_valid) {
  tcp_harness h;
  establish_ts(h);
  const instant later = at_ms(1) + std::chrono::hours(24 * 24) + std::chrono::milliseconds(1);
  EXPECT_EQ(h.send(later, seg{.seq = h.r(1), .ack = h.l(1), .payload = "x", .ts = ts(5, 0)}), rx_verdict::accepted);
  EXPECT_EQ(h.conn().ts_recent(), 5u);
}

// DEVIATION(Linux): processed without PAWS rather than dropped (RFC 7323 §3.2 SHOULD) —
// a compact TIME-WAIT record answers without options.
TEST(timestamps, segment_without_them_processed_without_paws) {
  tcp_harness h;
  establish_ts(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .payload = "x"}), rx_verdict::accepted);
  EXPECT_EQ(h.conn().recv_available(), 1u);
  EXPECT_EQ(h.conn().ts_recent(), 1001u);  // unchanged
  h.expect_state(tcp_state::established);
}

TEST(timestamps, rtt_from_tsecr__also_after_a_retransmission) {
  tcp_harness h;
  establish_ts(h);
  h.write("abc");
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "abc", .ts = ts(our_ts(10), 1001)});
  const auto rto = h.conn().snapshot().rto;
  h.expect_recv(at_ms(10) + rto, seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "abc"});
  EXPECT_EQ(h.conn().snapshot().rto, 2 * rto);  // backed off
  // The ACK echoes the retransmission's TSval: an unambiguous 40 ms round trip, which
  // collapses the backed-off RTO (Karn's rule concerns ambiguous samples only).
  const instant ack_at = at_ms(10) + rto + std::chrono::milliseconds(40);
  const std::uint32_t retx_ts = our_ts(static_cast<std::uint32_t>((at_ms(10) + rto).us / 1000));
  h.send(ack_at, seg{.seq = h.r(1), .ack = h.l(4), .ts = ts(2000, retx_ts)});
  // SRTT: the handshake's 1 ms sample, then this one (RFC 6298 §2.3, alpha 1/8).
  ASSERT_TRUE(h.conn().rtt().srtt().has_value());
  EXPECT_EQ(*h.conn().rtt().srtt(), std::chrono::microseconds((7 * 1000 + 40000) / 8));
  EXPECT_LT(h.conn().snapshot().rto, 2 * rto);
}

TEST(timestamps, sack_blocks_beside_timestamps__at_most_three) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .sack_ok = true, .ts = ts(1000, 0)});
  ASSERT_TRUE(h.poll(at_ms(0)).has_value());
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .ts = ts(1001, our_ts(0))});
  for (std::uint32_t off : {3u, 5u, 7u, 9u}) {
    h.send(at_ms(2), seg{.seq = h.r(off), .ack = h.l(1), .payload = "x", .ts = ts(1002, our_ts(0))});
  }
  h.expect_recv(at_ms(2), seg{.seq = h.l(1),
                              .ack = h.r(1),
                              .sack = std::vector{sack_block{h.r(9), h.r(10)}, sack_block{h.r(7), h.r(8)},
                                                  sack_block{h.r(5), h.r(6)}},
                              .ts = ts(our_ts(2), 1001)});
}


// RFC 9293 §3.10.5's abort RST is <SEQ=SND.NXT><CTL=RST>; with active_reset_linux it is
// Linux's tcp_send_active_reset: ACK = RCV.NXT and TSopt (RFC 7323 §3.2: a RST SHOULD carry
// it), TSval from the clock of now and TSecr = TS.Recent.
TEST(timestamps, active_reset_linux__close_with_unread_data_sends_rst_ack_with_timestamps) {
  for (const bool linux_rst : {false, true}) {
    tcp_config cfg;
    cfg.active_reset_linux = linux_rst;
    tcp_harness h(cfg);
    establish_ts(h);
    h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .payload = "unread", .ts = ts(1010, our_ts(0))});
    h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(7), .ts = ts(our_ts(50), 1010)});  // delayed ACK
    ASSERT_TRUE(h.conn().close(at_ms(1050)).has_value());
    const auto reset = h.poll(at_ms(1050));
    ASSERT_TRUE(reset.has_value());
    EXPECT_TRUE(reset->rst());
    EXPECT_EQ(reset->seq.raw, h.l(1).raw);
    if (linux_rst) {
      ASSERT_TRUE(reset->ack.has_value());
      EXPECT_EQ(reset->ack->raw, h.r(7).raw);
      EXPECT_EQ(reset->options.timestamps, ts(our_ts(1050), 1010));
    } else {
      EXPECT_FALSE(reset->ack.has_value());
      EXPECT_FALSE(reset->options.timestamps.has_value());
    }
  }
}

// A FIN whose ACK acknowledges data never sent, with a TSval far ahead (packetdrill's
// ts_recent/invalid_ack). RFC 9293 §3.10.7.4 fifth answers it with an ACK and drops it, after
// RFC 7323 §5.3 R3 took its TSval, so the peer's next real segment fails PAWS. Linux 6.18 also
// answers it with an ACK; the script, written for older kernels, wants silence.
TEST(timestamps, ack_of_unsent_data__answered_after_its_tsval_was_taken) {
  tcp_harness h;
  establish_ts(h);
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(9999), .flags = fin, .ts = ts(200000, our_ts(0))}),
            rx_verdict::ack_too_new);
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(1), .ts = ts(our_ts(10), 200000)});
  h.expect_state(tcp_state::established);
  EXPECT_EQ(h.send(at_ms(20), seg{.seq = h.r(1), .ack = h.l(1), .payload = "data", .ts = ts(1020, our_ts(0))}),
            rx_verdict::paws);
}

}  // namespace
}  // namespace synack::test
