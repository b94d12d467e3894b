// Any-address termination (issue #15): a listener that takes SYNs to destinations that are not
// the host's, over IPv4 and IPv6 with the same exact segments. The accepted connection's local
// side is the original destination and every segment leaves from it; the filter and the port
// refuse with a RST as a closed port would; the host's own addresses keep their ordinary
// listeners; SYN cookies, the accept queue bound and TIME-WAIT work for such connections;
// martian destinations and ping are not taken.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "any_harness.hpp"

namespace synack::stest {
namespace {

class any_address : public testing::TestWithParam<family> {
 protected:
  any_address() : any_address(dual_config()) {}
  explicit any_address(const host_config& c) : t_(c), a_(addrs_of(GetParam())) {}

  // The peer's segment to `dst`.
  void send(instant at, const ip_addr& dst, const seg& s) {
    const auto p = tcp_to(a_.peer, dst, s);
    t_.feed(at, p);
  }
  // The next segment, from `src` to the peer, with these flags and numbers.
  got_tcp expect(instant at, const ip_addr& src, std::uint8_t flags, seq_num seq, std::optional<seq_num> ack,
                 test::source_loc loc = test::source_loc::current()) {
    auto g = expect_tcp_from(t_, at, src, a_.peer, loc);
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    if (!g) return got_tcp{};
    EXPECT_EQ(g->seg.wire_flags(), flags) << describe(g->seg);
    EXPECT_EQ(g->seg.seq.raw, seq.raw) << describe(g->seg);
    EXPECT_EQ(g->seg.ack.has_value(), ack.has_value()) << describe(g->seg);
    if (g->seg.ack && ack) {
      EXPECT_EQ(g->seg.ack->raw, ack->raw) << describe(g->seg);
    }
    return *g;
  }
  // SYN to dst:port, SYN-ACK from it; returns the host's ISS.
  seq_num handshake_start(instant at, const ip_addr& dst, std::uint16_t port, std::uint16_t peer = peer_port) {
    send(at, dst, seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1400, .peer = peer, .local = port});
    const got_tcp g = expect_tcp_from(t_, at, dst, a_.peer).value_or(got_tcp{});
    EXPECT_EQ(g.seg.wire_flags(), tcp_flag::syn | tcp_flag::ack) << describe(g.seg);
    EXPECT_EQ(g.seg.ack, peer_iss + seq_len{1});
    EXPECT_EQ(g.seg.src_port, port);
    EXPECT_EQ(g.seg.dst_port, peer);
    return g.seg.seq;
  }
  // An any-address listener and one connection to far:443 accepted from it, at 0 ms.
  struct opened {
    listener_handle l;
    conn_handle c;
    seq_num iss;
  };
  opened open_to_far() {
    opened o;
    auto l = t_.h().listen_any(8, any_address_options{});
    EXPECT_TRUE(l.has_value());
    if (l) o.l = *l;
    o.iss = handshake_start(at_ms(0), a_.far, 443);
    send(at_ms(0), a_.far, seg{.seq = peer_iss + seq_len{1}, .ack = o.iss + seq_len{1}, .local = 443});
    auto c = t_.h().accept(o.l);
    EXPECT_TRUE(c.has_value());
    if (c) o.c = *c;
    return o;
  }
  [[nodiscard]] std::uint64_t drops(host_drop d) const { return t_.ctr().host(d); }

  stack_harness t_;
  family_addrs a_;
};

INSTANTIATE_TEST_SUITE_P(families, any_address, testing::Values(family::v4, family::v6), family_name);

TEST_P(any_address, accepts_a_syn_to_any_destination_and_talks_from_it) {
  auto l = t_.h().listen_any(8, any_address_options{});
  ASSERT_TRUE(l.has_value());
  // SYN to 203.0.113.7:443 (2001:db8:ffff::7) -> SYN-ACK from it.
  send(at_ms(0), a_.far, seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1400, .local = 443});
  const got_tcp synack = expect_tcp_from(t_, at_ms(0), a_.far, a_.peer).value_or(got_tcp{});
  ASSERT_EQ(synack.seg.wire_flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(synack.seg.src_port, 443);
  EXPECT_EQ(synack.seg.ack, peer_iss + seq_len{1});
  const seq_num iss = synack.seg.seq;
  const four_tuple tuple{a_.far, 443, a_.peer, peer_port};
  EXPECT_EQ(t_.h().state(tuple), tcp_state::syn_received);
  send(at_ms(1), a_.far, seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .local = 443});
  auto c = t_.h().accept(*l);
  ASSERT_TRUE(c.has_value());
  // The original destination is the accepted connection's local endpoint.
  const auto st = t_.h().status(*c);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->tuple, tuple);
  EXPECT_EQ(st->state, tcp_state::established);
  // Data both ways.
  send(at_ms(2), a_.far,
       seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .flags = tcp_flag::psh, .payload = "GET /", .local = 443});
  EXPECT_EQ(t_.read_all(*c), "GET /");
  EXPECT_EQ(t_.write(*c, "200 OK"), 6u);
  const got_tcp data = expect(at_ms(2), a_.far, tcp_flag::ack | tcp_flag::psh, iss + seq_len{1}, peer_iss + seq_len{6});
  EXPECT_EQ(data.payload, "200 OK");
  // The host closes first: FIN from the original destination, then TIME-WAIT for its 4-tuple.
  send(at_ms(3), a_.far, seg{.seq = peer_iss + seq_len{6}, .ack = iss + seq_len{7}, .local = 443});
  ASSERT_TRUE(t_.h().close(at_ms(4), *c).has_value());
  expect(at_ms(4), a_.far, tcp_flag::fin | tcp_flag::ack, iss + seq_len{7}, peer_iss + seq_len{6});
  send(at_ms(5), a_.far, seg{.seq = peer_iss + seq_len{6}, .ack = iss + seq_len{8}, .flags = tcp_flag::fin, .local = 443});
  expect(at_ms(5), a_.far, tcp_flag::ack, iss + seq_len{8}, peer_iss + seq_len{7});
  const time_wait_record* tw = t_.h().lookup_time_wait(tuple);
  ASSERT_NE(tw, nullptr);
  // A retransmitted FIN is answered by the record, from the original destination.
  send(at_ms(6), a_.far, seg{.seq = peer_iss + seq_len{6}, .ack = iss + seq_len{8}, .flags = tcp_flag::fin, .local = 443});
  expect(at_ms(6), a_.far, tcp_flag::ack, iss + seq_len{8}, peer_iss + seq_len{7});
  t_.advance(at_s(2 * 60 + 1));
  EXPECT_EQ(t_.h().lookup_time_wait(tuple), nullptr);
  const host_counters& k = t_.ctr();
  EXPECT_EQ(k.ip_in_receives, k.in_accepted + k.total_drops());
}

TEST_P(any_address, a_syn_reopens_time_wait_at_the_original_destination) {
  const auto [l, c, iss] = open_to_far();
  ASSERT_TRUE(t_.h().close(at_ms(1), c).has_value());
  expect(at_ms(1), a_.far, tcp_flag::fin | tcp_flag::ack, iss + seq_len{1}, peer_iss + seq_len{1});
  send(at_ms(2), a_.far, seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{2}, .flags = tcp_flag::fin, .local = 443});
  expect(at_ms(2), a_.far, tcp_flag::ack, iss + seq_len{2}, peer_iss + seq_len{2});
  const four_tuple tuple{a_.far, 443, a_.peer, peer_port};
  ASSERT_NE(t_.h().lookup_time_wait(tuple), nullptr);
  // RFC 6191 without timestamps: a SYN above RCV.NXT reopens it, through the any-address listener.
  const seq_num next = peer_iss + seq_len{100000};
  send(at_ms(3), a_.far, seg{.seq = next, .flags = tcp_flag::syn, .local = 443});
  const got_tcp g = expect_tcp_from(t_, at_ms(3), a_.far, a_.peer).value_or(got_tcp{});
  EXPECT_EQ(g.seg.wire_flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(g.seg.ack, next + seq_len{1});
  EXPECT_TRUE(g.seg.seq.after(iss + seq_len{2}));  // the ISS floor of RFC 9293 §3.6.1 MAY-2
  EXPECT_EQ(t_.h().lookup_time_wait(tuple), nullptr);
  EXPECT_EQ(t_.h().half_open(l), 1u);
}

TEST_P(any_address, filter_and_port_refuse_with_a_reset) {
  any_address_options o;
  o.port = 443;
  const ip_addr refused = a_.far2;
  std::vector<four_tuple> asked;
  o.filter = [&](const four_tuple& t) {
    asked.push_back(t);
    return t.local_addr != refused;
  };
  auto l = t_.h().listen_any(8, o);
  ASSERT_TRUE(l.has_value());
  // The filter refuses far2: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK> from far2:443.
  send(at_ms(0), refused, seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 443});
  expect(at_ms(0), refused, tcp_flag::rst | tcp_flag::ack, seq_num{0}, peer_iss + seq_len{1});
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], (four_tuple{refused, 443, a_.peer, peer_port}));
  // Port 80 is not the listener's: refused before the filter is asked.
  send(at_ms(1), a_.far, seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 80});
  expect(at_ms(1), a_.far, tcp_flag::rst | tcp_flag::ack, seq_num{0}, peer_iss + seq_len{1});
  EXPECT_EQ(asked.size(), 1u);
  // far:443 is taken.
  (void)handshake_start(at_ms(2), a_.far, 443);
  EXPECT_EQ(t_.h().half_open(*l), 1u);
  EXPECT_EQ(t_.ctr().tcp(rx_verdict::no_connection), 2u);
  EXPECT_EQ(t_.ctr().out_rsts, 2u);
}

TEST_P(any_address, ordinary_listeners_and_own_addresses_keep_priority) {
  auto ordinary = t_.h().listen(80, 8);
  auto any = t_.h().listen_any(8, any_address_options{});
  ASSERT_TRUE(ordinary.has_value() && any.has_value());
  // To the host's own address: the ordinary listener.
  (void)handshake_start(at_ms(0), a_.me, 80);
  EXPECT_EQ(t_.h().half_open(*ordinary), 1u);
  EXPECT_EQ(t_.h().half_open(*any), 0u);
  // A closed port of the host's own address stays closed: RST, the any-address listener is not asked.
  send(at_ms(1), a_.me, seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 81});
  expect(at_ms(1), a_.me, tcp_flag::rst | tcp_flag::ack, seq_num{0}, peer_iss + seq_len{1});
  EXPECT_EQ(t_.h().half_open(*any), 0u);
  // The same port at an address not ours: the any-address listener.
  (void)handshake_start(at_ms(2), a_.far, 80, peer_port + 1);
  EXPECT_EQ(t_.h().half_open(*any), 1u);
  EXPECT_EQ(t_.h().half_open(*ordinary), 1u);
  // A second any-address listener of the family is refused; closing the ordinary one leaves
  // the any-address one alone.
  EXPECT_EQ(t_.h().listen_any(8, any_address_options{}).error(), host_error::address_in_use);
  t_.h().close_listener(at_ms(3), *ordinary);
  (void)poll_any(t_, at_ms(3));  // the ordinary listener's half-open connection is reset
  (void)handshake_start(at_ms(4), a_.far, 80, peer_port + 2);
  EXPECT_EQ(t_.h().half_open(*any), 2u);
}

// The same host answering every SYN with a cookie.
class any_address_cookies : public any_address {
 protected:
  any_address_cookies() : any_address(config()) {}
  static host_config config() {
    host_config c = dual_config();
    c.syncookies = syncookies_mode::always;
    return c;
  }
};
INSTANTIATE_TEST_SUITE_P(families, any_address_cookies, testing::Values(family::v4, family::v6), family_name);

TEST_P(any_address_cookies, carry_the_original_destination) {
  auto l = t_.h().listen_any(8, any_address_options{});
  ASSERT_TRUE(l.has_value());
  const seq_num iss = handshake_start(at_ms(0), a_.far, 443);
  EXPECT_EQ(t_.h().half_open(*l), 0u);  // no state kept: a cookie
  EXPECT_EQ(t_.ctr().syncookies_sent, 1u);
  send(at_ms(1), a_.far, seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .local = 443});
  EXPECT_EQ(t_.ctr().syncookies_recv, 1u);
  auto h = t_.h().accept(*l);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(t_.h().status(*h)->tuple, (four_tuple{a_.far, 443, a_.peer, peer_port}));
  EXPECT_EQ(t_.write(*h, "hi"), 2u);
  const got_tcp d = expect(at_ms(1), a_.far, tcp_flag::ack | tcp_flag::psh, iss + seq_len{1}, peer_iss + seq_len{1});
  EXPECT_EQ(d.payload, "hi");
  // A forged cookie ACK to another destination fails and is answered from that destination.
  send(at_ms(2), a_.far2, seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .local = 443});
  expect(at_ms(2), a_.far2, tcp_flag::rst, iss + seq_len{1}, std::nullopt);
  EXPECT_EQ(t_.ctr().syncookies_failed, 1u);
}

TEST_P(any_address, accept_queue_bound_applies) {
  auto l = t_.h().listen_any(1, any_address_options{});
  ASSERT_TRUE(l.has_value());
  const seq_num iss = handshake_start(at_ms(0), a_.far, 443);
  send(at_ms(0), a_.far, seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .local = 443});
  EXPECT_EQ(t_.h().accept_queue_len(*l), 1u);
  // The accept queue is full: the next SYN, to another destination, is dropped and counted.
  send(at_ms(1), a_.far2, seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 443});
  EXPECT_FALSE(poll_any(t_, at_ms(1)).has_value());
  EXPECT_EQ(drops(host_drop::listen_overflow), 1u);
  EXPECT_EQ(t_.ctr().listen_overflows, 1u);
}

TEST_P(any_address, martian_destinations_ping_and_land_are_not_taken) {
  auto l = t_.h().listen_any(8, any_address_options{});
  ASSERT_TRUE(l.has_value());
  std::vector<ip_addr> martians;
  if (GetParam() == family::v4) {
    for (const char* m : {"224.0.0.1", "255.255.255.255", "127.0.0.1", "0.0.0.7", "240.0.0.1"}) {
      martians.emplace_back(*ip_addr::parse(m));
    }
  } else {
    for (const char* m : {"ff02::1", "::1", "::", "::ffff:203.0.113.7"}) martians.emplace_back(*ip_addr::parse(m));
  }
  for (const ip_addr& m : martians) {
    const auto p = tcp_to(a_.peer, m, seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 443});
    t_.feed(at_ms(0), p);
  }
  EXPECT_FALSE(poll_any(t_, at_ms(0)).has_value());
  EXPECT_EQ(drops(host_drop::not_for_us), martians.size());
  // LAND at an any-address destination: source = destination.
  const auto land = tcp_to(a_.far, a_.far, seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 443});
  t_.feed(at_ms(1), land);
  EXPECT_EQ(drops(host_drop::martian_own_address), 1u);
  // Our own address as the source stays a martian too.
  const auto own = tcp_to(a_.me, a_.far, seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 443});
  t_.feed(at_ms(1), own);
  EXPECT_EQ(drops(host_drop::martian_own_address), 2u);
  // An echo request to an address not ours is not answered.
  std::vector<std::byte> echo;
  if (GetParam() == family::v4) {
    icmpv4_repr e;
    e.ident = 1;
    std::vector<std::byte> m(e.buffer_len());
    e.emit(m);
    echo = ip_datagram(a_.peer, a_.far, 1, m);
  } else {
    icmpv6_repr e;
    e.ident = 1;
    std::vector<std::byte> m(e.buffer_len());
    e.emit(m, a_.peer.v6(), a_.far.v6());
    echo = ip_datagram(a_.peer, a_.far, 58, m);
  }
  t_.feed(at_ms(2), echo);
  EXPECT_FALSE(poll_any(t_, at_ms(2)).has_value());
  EXPECT_EQ(drops(host_drop::not_for_us), martians.size() + 1);
  EXPECT_EQ(t_.ctr().icmp_out_echo_reps, 0u);
  EXPECT_EQ(t_.h().half_open(*l), 0u);
}

TEST_P(any_address, connections_outlive_their_listener) {
  const auto [l, c, iss] = open_to_far();
  t_.h().close_listener(at_ms(1), l);
  // The connection still takes data to its original destination.
  send(at_ms(2), a_.far,
       seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .flags = tcp_flag::psh, .payload = "x", .local = 443});
  EXPECT_EQ(t_.read_all(c), "x");
  // A new SYN to a destination not ours finds no any-address listener: not this host's to answer.
  send(at_ms(3), a_.far2, seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 443});
  (void)poll_any(t_, at_ms(3));  // the ACK of "x" (delayed ACK may hold it: drain)
  while (auto e = poll_any(t_, at_ms(3))) {
    EXPECT_EQ(e->src, a_.far) << "nothing may come from far2";
  }
  EXPECT_EQ(drops(host_drop::not_for_us), 1u);
}

TEST(any_address_off, an_ordinary_host_drops_packets_not_for_it) {
  stack_harness t(dual_config());
  (void)t.listen(443);
  const auto p = tcp_to(peer_ip, ipv4_addr::from_octets(203, 0, 113, 7), seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 443});
  t.feed(at_ms(0), p);
  t.expect_nothing(at_ms(0));
  EXPECT_EQ(t.ctr().host(host_drop::not_for_us), 1u);
}

}  // namespace
}  // namespace synack::stest
