// Segmentation and checksum offload through the host (host_config::tso_max, rx_meta, tx_meta):
// a super-packet from a link that vouches for its checksum is taken whole, a bad checksum is
// still dropped when nothing vouches for it, and the sender builds super-segments of whole
// MSS-sized segments only when the configuration allows them.
#include "stack/stack_harness.hpp"

namespace synack::stest {
namespace {

// A data segment from the peer carrying `len` octets, its checksum left partial (the
// pseudo-header sum only), as the kernel hands over a TSO packet with NEEDS_CSUM.
std::vector<std::byte> partial_checksum_segment(const conn_info& c, std::uint32_t off, std::size_t len) {
  seg s{.seq = c.r(off), .ack = c.l(1), .flags = tcp_flag::psh, .payload = std::string(len, 'x')};
  auto p = stack_harness::tcp_packet(s);
  tcp_repr::fill_partial_checksum(mutable_bytes{p}.subspan(20), peer_ip, host_ip);
  return p;
}

struct emitted {
  std::vector<std::byte> buf;
  tx_meta meta;
  tcp_repr tcp;  // parsed after completing a partial checksum as the link would
};

std::optional<emitted> poll_meta(stack_harness& t, instant at) {
  t.advance(at);
  emitted e;
  e.buf.resize(t.h().max_packet_len());
  auto n = t.h().poll_transmit(at, e.buf, e.meta);
  if (!n) return std::nullopt;
  e.buf.resize(*n);
  const mutable_bytes tcp = mutable_bytes{e.buf}.subspan(20);
  if (e.meta.csum_partial) {
    // The field holds the pseudo-header sum over the whole segment; the device completes it.
    const auto len = static_cast<std::uint16_t>(tcp.size());
    EXPECT_EQ(load_be16(&tcp[16]), static_cast<std::uint16_t>(~checksum_finish(pseudo_header_sum(host_ip, peer_ip, 6, len))));
    tcp_repr::fill_checksum(tcp, host_ip, peer_ip);
  }
  auto ip = ipv4_view::parse(e.buf);
  EXPECT_TRUE(ip.has_value());
  auto v = tcp_view::parse(ip->payload());
  EXPECT_TRUE(v.has_value());
  EXPECT_FALSE(tcp_repr::parse(*v, host_ip, peer_ip, e.tcp).has_value()) << "bad checksum";
  return e;
}

host_config tso_config() {
  host_config c = default_config();
  c.tso_max = max_tso_payload;
  return c;
}

TEST(offload, takes_a_super_packet_whose_checksum_the_link_vouches_for) {
  stack_harness t;
  auto l = t.listen();
  auto c = t.establish_passive(at_ms(0), l);
  const host_counters before = t.ctr();
  const auto p = partial_checksum_segment(c, 1, 30000);  // > MTU: one GSO packet
  t.h().on_packet(at_ms(10), p, rx_meta{rx_checksum::partial, 1448});
  EXPECT_EQ(t.read_all(c.h), std::string(30000, 'x'));
  EXPECT_EQ(t.ctr().in_segs - before.in_segs, 21u);  // ceil(30000 / 1448)
  EXPECT_EQ(t.ctr().in_accepted - before.in_accepted, 1u);
  // Longer than our MSS: it stands for at least two segments and is ACKed at once.
  t.expect_tcp(at_ms(10), seg{.seq = c.l(1), .ack = c.r(30001)});
}

TEST(offload, a_verified_checksum_is_not_checked_again) {
  stack_harness t;
  auto l = t.listen();
  auto c = t.establish_passive(at_ms(0), l);
  auto p = stack_harness::tcp_packet(seg{.seq = c.r(1), .ack = c.l(1), .payload = "abc"});
  store_be16(&p[20 + 16], 0x1234);  // wrong, but DATA_VALID says the kernel checked it
  t.h().on_packet(at_ms(10), p, rx_meta{rx_checksum::verified, 0});
  EXPECT_EQ(t.read_all(c.h), "abc");
}

TEST(offload, a_partial_checksum_is_dropped_when_nothing_vouches_for_it) {
  stack_harness t;
  auto l = t.listen();
  auto c = t.establish_passive(at_ms(0), l);
  const host_counters before = t.ctr();
  const auto p = partial_checksum_segment(c, 1, 3000);
  t.h().on_packet(at_ms(10), p);  // a plain link: rx_meta{}
  EXPECT_EQ(t.read_all(c.h), "");
  EXPECT_EQ(t.ctr().in_errs - before.in_errs, 1u);
  EXPECT_EQ(t.ctr().drop_wire[static_cast<std::size_t>(wire_error::bad_checksum)] -
                before.drop_wire[static_cast<std::size_t>(wire_error::bad_checksum)],
            1u);
  t.expect_nothing(at_ms(10));
}

TEST(offload, sender_builds_super_segments_of_whole_segments_when_allowed) {
  stack_harness t(tso_config());
  auto l = t.listen();
  auto c = t.establish_passive(at_ms(0), l);
  EXPECT_GE(t.h().max_packet_len(), 20u + 60u + max_tso_payload);
  const host_counters before = t.ctr();
  // IW is 3 segments of 1460 (RFC 5681 §3.1): one super-segment of three.
  ASSERT_EQ(t.write(c.h, std::string(10000, 'y')), 10000u);
  auto e = poll_meta(t, at_ms(1));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->meta.gso_size, 1460);
  EXPECT_TRUE(e->meta.csum_partial);
  EXPECT_EQ(e->meta.csum_start, 20);
  EXPECT_EQ(e->meta.csum_offset, 16);
  EXPECT_EQ(e->meta.header_len, 40);
  EXPECT_EQ(e->tcp.payload.size(), 3u * 1460u);
  EXPECT_EQ(e->tcp.seq, c.l(1));
  EXPECT_EQ(e->tcp.wire_flags(), tcp_flag::ack);  // not the end of the data: no PSH
  EXPECT_EQ(t.ctr().out_segs - before.out_segs, 3u);
  EXPECT_FALSE(poll_meta(t, at_ms(1)).has_value());  // cwnd is full
  // The ACK of all three opens cwnd: the rest goes as whole segments, then the runt alone.
  t.send(at_ms(20), seg{.seq = c.r(1), .ack = c.l(1 + 4380)});
  e = poll_meta(t, at_ms(20));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->meta.gso_size, 1460);
  EXPECT_EQ(e->tcp.seq, c.l(1 + 4380));
  EXPECT_EQ(e->tcp.payload.size() % 1460, 0u);
  EXPECT_GE(e->tcp.payload.size(), 2u * 1460u);
}

TEST(offload, nagle_holds_the_runt_after_a_super_segment) {
  stack_harness t(tso_config());
  auto l = t.listen();
  auto c = t.establish_passive(at_ms(0), l);
  ASSERT_EQ(t.write(c.h, std::string(2 * 1460 + 500, 'z')), 2u * 1460u + 500u);
  auto e = poll_meta(t, at_ms(1));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->meta.gso_size, 1460);
  EXPECT_EQ(e->tcp.payload.size(), 2u * 1460u);
  EXPECT_FALSE(poll_meta(t, at_ms(1)).has_value());  // 500 octets wait for the ACK (Nagle)
  t.send(at_ms(20), seg{.seq = c.r(1), .ack = c.l(1 + 2920)});
  e = poll_meta(t, at_ms(20));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->meta.gso_size, 0);
  EXPECT_FALSE(e->meta.csum_partial);
  EXPECT_EQ(e->tcp.payload.size(), 500u);
  EXPECT_EQ(e->tcp.wire_flags(), tcp_flag::ack | tcp_flag::psh);
}

TEST(offload, a_retransmission_is_one_segment) {
  stack_harness t(tso_config());
  auto l = t.listen();
  auto c = t.establish_passive(at_ms(0), l);
  ASSERT_EQ(t.write(c.h, std::string(3 * 1460, 'r')), 3u * 1460u);
  auto e = poll_meta(t, at_ms(1));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->tcp.payload.size(), 3u * 1460u);
  // Nothing is acknowledged: the RTO (1 s) resends the first segment alone.
  e = poll_meta(t, at_ms(1500));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->meta.gso_size, 0);
  EXPECT_EQ(e->tcp.seq, c.l(1));
  EXPECT_EQ(e->tcp.payload.size(), 1460u);
  EXPECT_EQ(t.ctr().retrans_segs, 1u);
}

TEST(offload, no_super_segment_without_the_configuration) {
  stack_harness t;  // tso_max 0: the default
  auto l = t.listen();
  auto c = t.establish_passive(at_ms(0), l);
  EXPECT_EQ(t.h().max_packet_len(), 40u + 60u + 1460u);  // room for an IPv6 header
  ASSERT_EQ(t.write(c.h, std::string(10000, 'y')), 10000u);
  for (int i = 0; i < 3; ++i) {
    auto e = poll_meta(t, at_ms(1));
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->meta.gso_size, 0);
    EXPECT_FALSE(e->meta.csum_partial);
    EXPECT_EQ(e->tcp.payload.size(), 1460u);
  }
  EXPECT_FALSE(poll_meta(t, at_ms(1)).has_value());
}

}  // namespace
}  // namespace synack::stest
