// TIME-WAIT records in the host: a SYN that reopens one gets an ISS above the old
// incarnation's SND.NXT (RFC 9293 §3.6.1 MAY-2 (1)); the timestamp rule of RFC 6191 §2; a
// SYN the listener cannot take leaves the record alone; a full table recycles the record
// nearest expiry (time_wait_recycled).
#include "stack/stack_harness.hpp"
#include "synack/tcp/syn_cookie.hpp"

namespace synack::stest {
namespace {

// The peer's side of one passive connection driven to a compact TIME-WAIT record on the
// host (the host's user closes first). With `ts`, both sides use timestamps; the peer's TSval
// counts up from 100.
struct tw_peer {
  stack_harness& t;
  listener_handle l;
  std::uint16_t port;
  bool ts = false;
  conn_info c{};
  std::uint32_t tsval = 100;
  std::uint32_t echo = 0;  // the host's last TSval

  seg with_ts(seg s) {
    s.peer = port;
    if (ts) s.ts = tcp_timestamps{tsval++, echo};
    return s;
  }
  void take(const tcp_repr& r) {
    if (r.options.timestamps) echo = r.options.timestamps->tsval;
  }
  void open(instant at) {
    c.peer = port;
    t.send(at, with_ts(seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1460}));
    auto sa = t.poll(at);
    ASSERT_TRUE(sa && sa->tcp);
    take(*sa->tcp);
    c.iss = sa->tcp->seq;
    t.send(at, with_ts(seg{.seq = c.r(1), .ack = c.l(1)}));
    auto a = t.h().accept(l);
    ASSERT_TRUE(a.has_value());
    c.h = *a;
  }
  // The host's user writes `n` bytes; the peer acknowledges everything it gets. Returns the
  // time it took (1 ms per round).
  instant transfer(instant at, std::size_t n) {
    const std::string data(n, 'd');
    std::size_t written = 0;
    std::uint32_t acked = 1;
    for (int round = 0; round < 10000 && acked < n + 1; ++round) {
      if (written < n) written += t.write(c.h, std::string_view{data}.substr(written));
      std::uint32_t top = acked;
      while (auto p = t.poll(at)) {
        if (!p->tcp) continue;
        take(*p->tcp);
        top = std::max(top, distance(c.iss, p->tcp->seq).n + static_cast<std::uint32_t>(p->tcp->payload.size()));
      }
      if (top != acked) t.send(at, with_ts(seg{.seq = c.r(1), .ack = c.l(top)}));
      acked = top;
      at += std::chrono::milliseconds(1);
    }
    EXPECT_EQ(acked, n + 1);
    return at;
  }
  // Host closes: FIN, the peer ACKs it and sends its own FIN, the host ACKs: TIME-WAIT.
  void close(instant at, std::uint32_t sent) {
    ASSERT_TRUE(t.h().close(at, c.h).has_value());
    auto fin = t.poll(at);
    ASSERT_TRUE(fin && fin->tcp);
    take(*fin->tcp);
    EXPECT_EQ(fin->tcp->wire_flags(), tcp_flag::fin | tcp_flag::ack) << describe(*fin->tcp);
    t.send(at, with_ts(seg{.seq = c.r(1), .ack = c.l(sent + 2), .flags = tcp_flag::fin}));
    auto last = t.poll(at);
    ASSERT_TRUE(last && last->tcp);
    ASSERT_NE(t.h().lookup_time_wait(c.tuple()), nullptr);
    EXPECT_EQ(t.h().lookup_time_wait(c.tuple())->snd_nxt, c.l(sent + 2));
  }
};

// The old incarnation sent 200,000 octets in well under a second, faster than the RFC 6528
// clock (250,000 per second) moves, so the keyed ISN would fall inside its old sequence space;
// the ISS is lifted above the old SND.NXT instead (by 65,537, as Linux).
TEST(time_wait_reopen, iss_above_old_snd_nxt_after_a_fast_transfer) {
  stack_harness t;
  const auto l = t.listen(80, 4);
  tw_peer p{t, l, 5000};
  p.open(at_ms(0));
  const instant done = p.transfer(at_ms(1), 200000);
  p.close(done, 200000);
  const seq_num old_snd_nxt = t.h().lookup_time_wait(p.c.tuple())->snd_nxt;
  const instant at = done + std::chrono::milliseconds(10);
  // The keyed ISN alone would not do: it is at or below the old SND.NXT.
  const seq_num keyed = rfc6528_isn(t.h().config().secret).isn(p.c.tuple(), at);
  ASSERT_FALSE(keyed.after(old_snd_nxt));
  t.send(at, seg{.seq = p.c.r(2) + seq_len{1000}, .flags = tcp_flag::syn, .peer = 5000});
  auto sa = t.expect_tcp(at, seg{.seq = old_snd_nxt + seq_len{65537}, .ack = p.c.r(1003),
                                 .flags = tcp_flag::syn, .peer = 5000});
  ASSERT_TRUE(sa);
  EXPECT_EQ(t.h().lookup_time_wait(p.c.tuple()), nullptr);
  EXPECT_EQ(t.h().half_open(l), 1u);
}

// When the clock has moved past the old sequence space, the keyed ISN stands.
TEST(time_wait_reopen, keyed_iss_kept_when_already_above) {
  stack_harness t;
  const auto l = t.listen(80, 4);
  tw_peer p{t, l, 5000};
  p.open(at_ms(0));
  p.close(at_ms(1), 0);
  const instant at = at_s(30);
  const seq_num old_snd_nxt = t.h().lookup_time_wait(p.c.tuple())->snd_nxt;
  const seq_num keyed = rfc6528_isn(t.h().config().secret).isn(p.c.tuple(), at);
  ASSERT_TRUE(keyed.after(old_snd_nxt));
  t.send(at, seg{.seq = p.c.r(100), .flags = tcp_flag::syn, .peer = 5000});
  t.expect_tcp(at, seg{.seq = keyed, .ack = p.c.r(101), .flags = tcp_flag::syn, .peer = 5000});
}

// RFC 6191 §2 with timestamps on both incarnations: a newer TSval reopens even with a lower
// sequence number; an older TSval does not, whatever the sequence number (challenge ACK, the
// record stays).
TEST(time_wait_reopen, timestamps_decide_when_both_incarnations_use_them) {
  stack_harness t;
  const auto l = t.listen(80, 4);
  tw_peer p{t, l, 5000, true};
  p.open(at_ms(0));
  p.close(at_ms(1), 0);
  const time_wait_record* rec = t.h().lookup_time_wait(p.c.tuple());
  ASSERT_NE(rec, nullptr);
  EXPECT_TRUE(rec->ts_on);
  EXPECT_EQ(rec->ts_recent, p.tsval - 1);
  // Older TSval, sequence number far beyond RCV.NXT: an old duplicate as far as PAWS can tell.
  t.send(at_ms(100), seg{.seq = p.c.r(50000), .flags = tcp_flag::syn, .peer = 5000, .ts = tcp_timestamps{50, 0}});
  t.expect_tcp(at_ms(100), seg{.seq = p.c.l(2), .ack = p.c.r(2), .peer = 5000});
  ASSERT_NE(t.h().lookup_time_wait(p.c.tuple()), nullptr);
  // Newer TSval, sequence number below RCV.NXT: a new incarnation.
  t.send(at_ms(200), seg{.seq = p.c.r(0), .flags = tcp_flag::syn, .peer = 5000, .ts = tcp_timestamps{p.tsval + 10, 0}});
  auto sa = t.poll(at_ms(200));
  ASSERT_TRUE(sa && sa->tcp);
  EXPECT_EQ(sa->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack) << describe(*sa->tcp);
  EXPECT_EQ(sa->tcp->ack, p.c.r(1));
  EXPECT_EQ(t.h().lookup_time_wait(p.c.tuple()), nullptr);
  EXPECT_EQ(t.h().half_open(l), 1u);
}

// RFC 6191 §2 "otherwise, silently drop the incoming SYN segment, thus leaving the previous
// incarnation of the connection in the TIME-WAIT state": a reopening SYN the listener has no
// room for leaves the record as it was.
TEST(time_wait_reopen, listener_without_room__record_stays) {
  host_config cfg = default_config();
  cfg.syn_backlog = 1;
  stack_harness t(cfg);
  const auto l = t.listen(80, 4);
  tw_peer p{t, l, 5000};
  p.open(at_ms(0));
  p.close(at_ms(1), 0);
  (void)t.syn_to_listener(at_ms(2), 6000);  // the SYN queue is full now
  auto want = t.ctr();
  t.send(at_ms(3), seg{.seq = p.c.r(1000), .flags = tcp_flag::syn, .peer = 5000});
  t.expect_nothing(at_ms(3));
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.listen_drops;
  ++want.host(host_drop::syn_queue_full);
  t.expect_counters(want);
  EXPECT_NE(t.h().lookup_time_wait(p.c.tuple()), nullptr);
  EXPECT_EQ(t.ctr().syncookies_sent, 0u);  // a reopening SYN is never answered with a cookie
}

// A SYN+FIN beyond RCV.NXT: the listener would drop it (drop_syn_fin), so it reopens
// nothing and TIME-WAIT stays; it is answered as any SYN there, with the RFC 5961 §4 ACK
// <SEQ=SND.NXT><ACK=RCV.NXT>. (Before, the record was erased and the listener dropped the SYN.)
TEST(time_wait_reopen, syn_fin_keeps_the_record_and_is_acked) {
  stack_harness t;
  const auto l = t.listen(80, 4);
  tw_peer p{t, l, 5000};
  p.open(at_ms(0));
  p.close(at_ms(1), 0);
  t.send(at_ms(3), seg{.seq = p.c.r(1000), .flags = tcp_flag::syn | tcp_flag::fin, .peer = 5000});
  t.expect_tcp(at_ms(3), seg{.seq = p.c.l(2), .ack = p.c.r(2), .peer = 5000});
  t.expect_nothing(at_ms(3));
  EXPECT_NE(t.h().lookup_time_wait(p.c.tuple()), nullptr);
  EXPECT_EQ(t.h().half_open(l), 0u);
}

// With drop_syn_fin off the listener takes a SYN+FIN as a SYN, so it reopens like one.
TEST(time_wait_reopen, syn_fin_reopens_when_not_dropped) {
  host_config cfg = default_config();
  cfg.tcp.drop_syn_fin = false;
  stack_harness t(cfg);
  const auto l = t.listen(80, 4);
  tw_peer p{t, l, 5000};
  p.open(at_ms(0));
  p.close(at_ms(1), 0);
  t.send(at_ms(3), seg{.seq = p.c.r(1000), .flags = tcp_flag::syn | tcp_flag::fin, .peer = 5000});
  auto sa = t.poll(at_ms(3));
  ASSERT_TRUE(sa && sa->tcp);
  EXPECT_EQ(sa->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(sa->tcp->ack, p.c.r(1001));
  EXPECT_EQ(t.h().lookup_time_wait(p.c.tuple()), nullptr);
  EXPECT_EQ(t.h().half_open(l), 1u);
}

// Beyond time_wait_max records, the one nearest expiry is recycled — not the oldest: a
// retransmitted FIN restarted the first record's 2 x MSL.
TEST(time_wait_reopen, full_table_recycles_the_record_nearest_expiry) {
  host_config cfg = default_config();
  cfg.time_wait_max = 2;
  stack_harness t(cfg);
  const auto l = t.listen(80, 4);
  tw_peer a{t, l, 5000};
  tw_peer b{t, l, 5001};
  tw_peer c{t, l, 5002};
  a.open(at_s(0));
  a.close(at_s(0), 0);  // expires at 60 s
  b.open(at_s(10));
  b.close(at_s(10), 0);  // expires at 70 s
  EXPECT_EQ(t.h().time_wait_count(), 2u);
  // a's peer retransmits its FIN: acknowledged, a now expires at 80 s.
  t.send(at_s(20), seg{.seq = a.c.r(1), .ack = a.c.l(2), .flags = tcp_flag::fin, .peer = 5000});
  t.expect_tcp(at_s(20), seg{.seq = a.c.l(2), .ack = a.c.r(2), .peer = 5000});
  EXPECT_EQ(t.h().lookup_time_wait(a.c.tuple())->expiry, at_s(80));
  c.open(at_s(30));
  c.close(at_s(30), 0);
  EXPECT_EQ(t.h().time_wait_count(), 2u);
  EXPECT_EQ(t.ctr().time_wait_recycled, 1u);
  EXPECT_NE(t.h().lookup_time_wait(a.c.tuple()), nullptr);
  EXPECT_EQ(t.h().lookup_time_wait(b.c.tuple()), nullptr);
  EXPECT_NE(t.h().lookup_time_wait(c.c.tuple()), nullptr);
  // b's 4-tuple is free again: a SYN for it is a plain new connection.
  t.send(at_s(31), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 5001});
  auto sa = t.poll(at_s(31));
  ASSERT_TRUE(sa && sa->tcp);
  EXPECT_EQ(sa->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack);
}

}  // namespace
}  // namespace synack::stest
