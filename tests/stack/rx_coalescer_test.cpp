// rx_coalescer (GRO-like receive coalescing): which runs of segments merge, and what the host
// gets from a merged run.
#include "stack/stack_harness.hpp"
#include "synack/stack/rx_coalescer.hpp"

namespace synack::stest {
namespace {

struct delivered {
  std::vector<std::byte> packet;
  rx_meta meta;
};

struct sink {
  std::vector<delivered> out;
  void operator()(bytes p, const rx_meta& m) { out.push_back({std::vector<std::byte>(p.begin(), p.end()), m}); }
};

seg data(std::uint32_t seq, std::size_t len, std::uint8_t flags = 0, char fill = 'd') {
  return seg{.seq = seq_num{seq}, .ack = seq_num{7}, .flags = flags, .payload = std::string(len, fill)};
}

void feed_all(rx_coalescer& c, sink& s, const std::vector<std::vector<std::byte>>& packets) {
  for (const auto& p : packets) c.feed(p, rx_meta{}, std::ref(s));
  c.flush(std::ref(s));
}

tcp_repr parse_trusted(const delivered& d) {
  auto ip = ipv4_view::parse(d.packet);
  EXPECT_TRUE(ip.has_value()) << "bad IPv4 header";
  tcp_repr r;
  auto v = tcp_view::parse(ip->payload());
  EXPECT_TRUE(v.has_value());
  EXPECT_FALSE(tcp_repr::parse_trusted(*v, r).has_value());
  return r;
}

TEST(rx_coalescer, merges_an_in_order_run_ending_with_a_short_push) {
  rx_coalescer c;
  sink s;
  feed_all(c, s, {stack_harness::tcp_packet(data(1000, 100, 0, 'a')), stack_harness::tcp_packet(data(1100, 100, 0, 'b')),
                  stack_harness::tcp_packet(data(1200, 40, tcp_flag::psh, 'c'))});
  ASSERT_EQ(s.out.size(), 1u);
  EXPECT_EQ(s.out[0].meta.checksum, rx_checksum::verified);
  EXPECT_EQ(s.out[0].meta.gso_size, 100);
  const tcp_repr r = parse_trusted(s.out[0]);
  EXPECT_EQ(r.seq, seq_num{1000});
  EXPECT_EQ(r.wire_flags(), tcp_flag::ack | tcp_flag::psh);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.payload.data()), r.payload.size()),
            std::string(100, 'a') + std::string(100, 'b') + std::string(40, 'c'));
  EXPECT_EQ(c.stats().runs, 1u);
  EXPECT_EQ(c.stats().merged, 3u);
}

TEST(rx_coalescer, a_lone_segment_goes_unchanged) {
  rx_coalescer c;
  sink s;
  const auto p = stack_harness::tcp_packet(data(1000, 100));
  feed_all(c, s, {p});
  ASSERT_EQ(s.out.size(), 1u);
  EXPECT_EQ(s.out[0].packet, p);
  EXPECT_EQ(s.out[0].meta.checksum, rx_checksum::unverified);
}

TEST(rx_coalescer, out_of_order_fin_and_other_acks_break_the_run) {
  rx_coalescer c;
  sink s;
  seg other_ack = data(1300, 100);
  other_ack.ack = seq_num{8};
  feed_all(c, s, {stack_harness::tcp_packet(data(1000, 100)), stack_harness::tcp_packet(data(1200, 100)),  // a hole
                  stack_harness::tcp_packet(other_ack), stack_harness::tcp_packet(data(1400, 100, tcp_flag::fin))});
  EXPECT_EQ(s.out.size(), 4u);
  EXPECT_EQ(c.stats().runs, 0u);
}

TEST(rx_coalescer, different_timestamps_or_windows_are_not_merged) {
  rx_coalescer c;
  sink s;
  seg a = data(1000, 100);
  a.ts = tcp_timestamps{5, 1};
  seg b = data(1100, 100);
  b.ts = tcp_timestamps{6, 1};
  seg w = data(1200, 100);
  w.ts = tcp_timestamps{6, 1};
  w.window = 1000;
  feed_all(c, s, {stack_harness::tcp_packet(a), stack_harness::tcp_packet(b), stack_harness::tcp_packet(w)});
  EXPECT_EQ(s.out.size(), 3u);
}

TEST(rx_coalescer, a_bad_checksum_is_left_to_the_host) {
  rx_coalescer c;
  sink s;
  auto bad = stack_harness::tcp_packet(data(1100, 100));
  bad[20 + 16] ^= std::byte{0x5A};
  feed_all(c, s, {stack_harness::tcp_packet(data(1000, 100)), bad, stack_harness::tcp_packet(data(1200, 100))});
  ASSERT_EQ(s.out.size(), 3u);
  EXPECT_EQ(s.out[1].packet, bad);
  EXPECT_EQ(s.out[1].meta.checksum, rx_checksum::unverified);
}

TEST(rx_coalescer, the_host_takes_a_merged_run_as_its_segments) {
  stack_harness t;
  auto l = t.listen();
  auto conn = t.establish_passive(at_ms(0), l);
  rx_coalescer c;
  const host_counters before = t.ctr();
  auto to_host = [&](bytes p, const rx_meta& m) { t.h().on_packet(at_ms(5), p, m); };
  for (std::uint32_t i = 0; i < 4; ++i) {
    const auto p = stack_harness::tcp_packet(seg{.seq = conn.r(1 + i * 1000), .ack = conn.l(1),
                                                 .payload = std::string(1000, static_cast<char>('0' + i))});
    c.feed(p, rx_meta{}, to_host);
  }
  c.flush(to_host);
  EXPECT_EQ(t.read_all(conn.h), std::string(1000, '0') + std::string(1000, '1') + std::string(1000, '2') +
                                    std::string(1000, '3'));
  EXPECT_EQ(t.ctr().in_segs - before.in_segs, 4u);
  EXPECT_EQ(t.ctr().in_errs, before.in_errs);
  t.expect_tcp(at_ms(5), seg{.seq = conn.l(1), .ack = conn.r(4001)});  // one ACK for the run
  t.expect_nothing(at_ms(5));
}

// A run of small segments (shorter in all than the MSS) still stands for several segments:
// ACKed at once, as its second segment would have been without coalescing.
TEST(rx_coalescer, a_run_of_small_segments_is_acked_at_once) {
  stack_harness t;
  auto l = t.listen();
  auto conn = t.establish_passive(at_ms(0), l);
  rx_coalescer c;
  auto to_host = [&](bytes p, const rx_meta& m) { t.h().on_packet(at_ms(5), p, m); };
  for (std::uint32_t i = 0; i < 3; ++i) {
    c.feed(stack_harness::tcp_packet(seg{.seq = conn.r(1 + i * 100), .ack = conn.l(1), .payload = std::string(100, 's')}),
           rx_meta{}, to_host);
  }
  c.flush(to_host);
  EXPECT_EQ(t.read_all(conn.h).size(), 300u);
  t.expect_tcp(at_ms(5), seg{.seq = conn.l(1), .ack = conn.r(301)});
}

}  // namespace
}  // namespace synack::stest
