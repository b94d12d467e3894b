// UDP in the host (issue #15), over IPv4 and IPv6: datagrams delivered to handlers by local
// endpoint and connected 4-tuple, replies with correct checksums, any-address bindings that
// reply from the original destination, ICMP port unreachable quoting the datagram (rate
// limited) and the one a proxy passes on (send_udp_unreachable), the zero-checksum rules
// (RFC 768, RFC 8200 §8.1), malformed datagrams counted, and the API's errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "any_harness.hpp"

namespace synack::stest {
namespace {

// Keeps what it was given (the payload copied: it is valid during the call only).
struct recorder final : udp_handler {
  struct got {
    udp_handle socket;
    four_tuple tuple;
    std::string payload;
  };
  std::vector<got> seen;
  std::vector<udp_error> errors;
  void on_datagram(instant, const udp_datagram& d) override { seen.push_back({d.socket, d.tuple, as_string(d.payload)}); }
  void on_error(instant, const udp_error& e) override { errors.push_back(e); }
};

class udp : public testing::TestWithParam<family> {
 protected:
  udp() : udp(dual_config()) {}
  explicit udp(const host_config& c) : t_(c), a_(addrs_of(GetParam())) {}

  [[nodiscard]] bool v6() const { return GetParam() == family::v6; }
  [[nodiscard]] ip_addr wildcard() const { return v6() ? ip_addr{ipv6_addr{}} : ip_addr{}; }
  void feed(instant at, const std::vector<std::byte>& p) { t_.feed(at, p); }
  // The next packet as a UDP datagram from src:sport to the peer, checksum verified.
  std::string expect_udp(instant at, const udp_endpoint& src, const udp_endpoint& dst,
                         test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    auto e = poll_any(t_, at);
    EXPECT_TRUE(e.has_value()) << "expected a datagram";
    if (!e) return {};
    EXPECT_EQ(e->src, src.addr);
    EXPECT_EQ(e->dst, dst.addr);
    EXPECT_EQ(e->proto, 17);
    auto d = v6() ? udp_repr::parse(e->payload(), e->src.v6(), e->dst.v6())
                  : udp_repr::parse(e->payload(), e->src.v4(), e->dst.v4());
    EXPECT_TRUE(d.has_value()) << "bad UDP length or checksum";
    if (!d) return {};
    EXPECT_NE(load_be16(&e->payload()[6]), 0) << "a checksum is always sent";
    EXPECT_EQ(d->src_port, src.port);
    EXPECT_EQ(d->dst_port, dst.port);
    return as_string(d->payload);
  }
  // The next packet as the family's port unreachable from `src`, quoting `offending`.
  void expect_port_unreachable(instant at, const ip_addr& src, const std::vector<std::byte>& offending,
                               test::source_loc loc = test::source_loc::current()) {
    expect_unreachable(t_, at, src, a_.peer, 3, 4, offending, loc);
  }
  void expect_balanced(test::source_loc loc = test::source_loc::current()) {
    const host_counters& k = t_.ctr();
    EXPECT_EQ(k.ip_in_receives, k.in_accepted + k.total_drops() - k.host(host_drop::reply_queue_full))
        << loc.file_name() << ":" << loc.line();
  }
  [[nodiscard]] std::uint64_t drops(host_drop d) const { return t_.ctr().host(d); }

  stack_harness t_;
  family_addrs a_;
  recorder r_;
};

INSTANTIATE_TEST_SUITE_P(families, udp, testing::Values(family::v4, family::v6), family_name);

TEST_P(udp, delivers_to_the_bound_port_and_replies_from_it) {
  auto s = t_.h().bind_udp(udp_endpoint{wildcard(), 53}, &r_);
  ASSERT_TRUE(s.has_value());
  feed(at_ms(0), udp_to(a_.peer, 5000, a_.me, 53, "query"));
  ASSERT_EQ(r_.seen.size(), 1u);
  EXPECT_EQ(r_.seen[0].socket, *s);
  EXPECT_EQ(r_.seen[0].tuple, (four_tuple{a_.me, 53, a_.peer, 5000}));
  EXPECT_EQ(r_.seen[0].payload, "query");
  ASSERT_TRUE(t_.h().send_udp(*s, udp_endpoint{a_.peer, 5000}, as_bytes("answer")).has_value());
  EXPECT_EQ(expect_udp(at_ms(0), udp_endpoint{a_.me, 53}, udp_endpoint{a_.peer, 5000}), "answer");
  EXPECT_FALSE(poll_any(t_, at_ms(0)).has_value());
  // An empty datagram is a datagram too.
  feed(at_ms(1), udp_to(a_.peer, 5000, a_.me, 53, ""));
  ASSERT_EQ(r_.seen.size(), 2u);
  EXPECT_EQ(r_.seen[1].payload, "");
  EXPECT_EQ(t_.ctr().udp_in_datagrams, 2u);
  EXPECT_EQ(t_.ctr().udp_out_datagrams, 1u);
  expect_balanced();
}

TEST_P(udp, any_address_binding_replies_from_the_original_destination) {
  any_address_options o;
  o.port = 53;
  o.filter = [this](const four_tuple& t) { return t.local_addr != a_.far2; };
  // Before the binding a source not ours is refused.
  EXPECT_EQ(t_.h().send_udp(udp_endpoint{a_.far, 53}, udp_endpoint{a_.peer, 5000}, as_bytes("x")).error(),
            host_error::address_not_available);
  auto s = t_.h().bind_udp_any(o, &r_);
  ASSERT_TRUE(s.has_value());
  feed(at_ms(0), udp_to(a_.peer, 5000, a_.far, 53, "dns?"));
  ASSERT_EQ(r_.seen.size(), 1u);
  EXPECT_EQ(r_.seen[0].tuple, (four_tuple{a_.far, 53, a_.peer, 5000}));
  const four_tuple& t = r_.seen[0].tuple;
  ASSERT_TRUE(t_.h().send_udp(udp_endpoint{t.local_addr, t.local_port}, udp_endpoint{t.remote_addr, t.remote_port},
                              as_bytes("dns!"))
                  .has_value());
  EXPECT_EQ(expect_udp(at_ms(0), udp_endpoint{a_.far, 53}, udp_endpoint{a_.peer, 5000}), "dns!");
  // Refused by the filter, or another port: port unreachable from the original destination.
  const auto refused = udp_to(a_.peer, 5000, a_.far2, 53, "no");
  feed(at_ms(1), refused);
  expect_port_unreachable(at_ms(1), a_.far2, refused);
  const auto other_port = udp_to(a_.peer, 5000, a_.far, 54, "no");
  feed(at_ms(2), other_port);
  expect_port_unreachable(at_ms(2), a_.far, other_port);
  EXPECT_EQ(r_.seen.size(), 1u);
  // The host's own address is not the any-address binding's: nobody bound 53 there.
  const auto own = udp_to(a_.peer, 5000, a_.me, 53, "no");
  feed(at_ms(3), own);
  expect_port_unreachable(at_ms(3), a_.me, own);
  EXPECT_EQ(t_.ctr().udp_no_ports, 3u);
  // Martian sources stay martians.
  EXPECT_EQ(t_.h().send_udp(udp_endpoint{v6() ? *ip_addr::parse("ff02::1") : *ip_addr::parse("224.0.0.1"), 53},
                            udp_endpoint{a_.peer, 5000}, as_bytes("x"))
                .error(),
            host_error::address_not_available);
  t_.h().close_udp(*s);
  // Closed: datagrams to addresses not ours are not this host's any more (no ICMP).
  feed(at_ms(4), udp_to(a_.peer, 5000, a_.far, 53, "late"));
  EXPECT_FALSE(poll_any(t_, at_ms(4)).has_value());
  EXPECT_EQ(drops(host_drop::not_for_us), 1u);
  expect_balanced();
}

TEST_P(udp, connected_binding_takes_only_its_peer) {
  auto s = t_.h().bind_udp(udp_endpoint{wildcard(), 0}, &r_);
  ASSERT_TRUE(s.has_value());
  const std::uint16_t port = t_.h().udp_local(*s)->port;
  EXPECT_GE(port, t_.h().config().ephemeral_first);
  ASSERT_TRUE(t_.h().connect_udp(*s, udp_endpoint{a_.peer, 5000}).has_value());
  EXPECT_EQ(t_.h().udp_local(*s)->addr, a_.me);  // connect fixed the source address
  feed(at_ms(0), udp_to(a_.peer, 5000, a_.me, port, "mine"));
  ASSERT_EQ(r_.seen.size(), 1u);
  const auto stranger = udp_to(a_.peer, 5001, a_.me, port, "not mine");
  feed(at_ms(1), stranger);
  EXPECT_EQ(r_.seen.size(), 1u);
  expect_port_unreachable(at_ms(1), a_.me, stranger);
  // Another binding of the port is refused while this one holds it.
  recorder other;
  EXPECT_EQ(t_.h().bind_udp(udp_endpoint{wildcard(), port}, &other).error(), host_error::address_in_use);
  t_.h().close_udp(*s);
  EXPECT_TRUE(t_.h().bind_udp(udp_endpoint{wildcard(), port}, &other).has_value());
}

// RFC 1122 §4.1.3.3: an ICMP error quoting a datagram a binding sent reaches its handler, with
// the quoted 4-tuple; one quoting a port nobody holds is counted unmatched.
TEST(udp_errors, icmp_error_quoting_a_datagram_reaches_its_binding) {
  stack_harness t;
  recorder r;
  auto s = t.h().bind_udp(udp_endpoint{ip_addr{}, 4000}, &r);
  ASSERT_TRUE(s.has_value());
  ASSERT_TRUE(t.h().send_udp(*s, udp_endpoint{peer_ip, 53}, as_bytes("query")).has_value());
  auto sent = poll_any(t, at_ms(0));
  ASSERT_TRUE(sent.has_value());
  icmpv4_repr m;
  m.type = icmp_type::dest_unreachable;
  m.code = icmp_unreach_code::port;
  m.data = bytes{sent->raw}.first(28);
  t.feed(at_ms(1), stack_harness::icmp_packet(m));
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].socket, *s);
  EXPECT_EQ(r.errors[0].tuple, (four_tuple{host_ip, 4000, peer_ip, 53}));
  EXPECT_EQ(r.errors[0].report.type, 3);
  EXPECT_EQ(r.errors[0].report.code, 3);
  EXPECT_EQ(t.ctr().icmp_in_errors_matched, 1u);
  t.h().close_udp(*s);
  t.feed(at_ms(2), stack_harness::icmp_packet(m));
  EXPECT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(t.ctr().host(host_drop::icmp_unmatched), 1u);
}

// A DNS forwarder's shape: the handler answers from inside on_datagram, from the original
// destination, through the host it was called by.
struct echo_from_destination final : udp_handler {
  host* h = nullptr;
  void on_datagram(instant, const udp_datagram& d) override {
    const four_tuple& t = d.tuple;
    EXPECT_TRUE(h->send_udp(udp_endpoint{t.local_addr, t.local_port}, udp_endpoint{t.remote_addr, t.remote_port},
                            d.payload)
                    .has_value());
  }
};

TEST_P(udp, a_handler_may_reply_from_inside_the_call) {
  echo_from_destination echo;
  echo.h = &t_.h();
  ASSERT_TRUE(t_.h().bind_udp_any(any_address_options{}, &echo).has_value());
  feed(at_ms(0), udp_to(a_.peer, 5353, a_.far, 53, "ping"));
  feed(at_ms(0), udp_to(a_.peer, 5354, a_.far2, 5300, "pong"));
  EXPECT_EQ(expect_udp(at_ms(0), udp_endpoint{a_.far, 53}, udp_endpoint{a_.peer, 5353}), "ping");
  EXPECT_EQ(expect_udp(at_ms(0), udp_endpoint{a_.far2, 5300}, udp_endpoint{a_.peer, 5354}), "pong");
  EXPECT_EQ(t_.h().bind_udp_any(any_address_options{}, &echo).error(), host_error::address_in_use);
}

TEST_P(udp, port_unreachable_quotes_as_much_as_the_family_allows) {
  // IPv4: the error stays within 576 octets (RFC 1812 §4.3.2.3); IPv6: within 1280 (RFC 4443 §2.4 (c)).
  const auto big = udp_to(a_.peer, 5000, a_.me, 9, std::string(1200, 'q'));
  feed(at_ms(0), big);
  auto e = poll_any(t_, at_ms(0));
  ASSERT_TRUE(e.has_value());
  const std::size_t quoted = e->raw.size() - e->hl - 8;
  EXPECT_EQ(quoted, v6() ? 1280u - 40u - 8u : 576u - 20u - 8u);  // both cut the 1248-octet datagram
  EXPECT_TRUE(std::ranges::equal(e->payload().subspan(8), bytes{big}.first(quoted)));
}

// A proxy passes its upstream's refusal on: port unreachable from the original destination,
// quoting the client's datagram rebuilt (its ports, the first 64 octets of its payload).
TEST_P(udp, send_udp_unreachable_answers_for_the_original_destination) {
  const four_tuple t{a_.far, 53, a_.peer, 5000};
  const std::string payload(100, 'p');
  EXPECT_EQ(t_.h().send_udp_unreachable(at_ms(0), t, as_bytes(payload)).error(), host_error::address_not_available);
  ASSERT_TRUE(t_.h().bind_udp_any(any_address_options{}, &r_).has_value());
  EXPECT_EQ(t_.h().send_udp_unreachable(at_ms(0), four_tuple{a_.far, 0, a_.peer, 5000}, as_bytes(payload)).error(),
            host_error::invalid_argument);
  EXPECT_FALSE(poll_any(t_, at_ms(0)).has_value());
  ASSERT_TRUE(t_.h().send_udp_unreachable(at_ms(0), t, as_bytes(payload)).has_value());
  auto e = poll_any(t_, at_ms(0));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->src, a_.far);
  EXPECT_EQ(e->dst, a_.peer);
  bytes quote;
  if (v6()) {
    ASSERT_EQ(e->proto, 58);
    auto m = icmpv6_repr::parse(e->payload(), e->src.v6(), e->dst.v6());
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->type, icmpv6_type::dest_unreachable);
    EXPECT_EQ(m->code, 4);
    auto ip = ipv6_view::parse(m->data);
    ASSERT_TRUE(ip.has_value());
    EXPECT_EQ(ip_addr{ip->src()}, a_.peer);
    EXPECT_EQ(ip_addr{ip->dst()}, a_.far);
    quote = ip->payload();
  } else {
    ASSERT_EQ(e->proto, 1);
    auto m = icmpv4_repr::parse(e->payload());
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->type, icmp_type::dest_unreachable);
    EXPECT_EQ(m->code, 3);
    auto ip = ipv4_view::parse(m->data);
    ASSERT_TRUE(ip.has_value());
    EXPECT_EQ(ip_addr{ip->src()}, a_.peer);
    EXPECT_EQ(ip_addr{ip->dst()}, a_.far);
    EXPECT_EQ(ip->protocol(), ip_proto::udp);
    quote = ip->payload();
  }
  ASSERT_EQ(quote.size(), 8u + 64u);
  EXPECT_EQ(load_be16(&quote[0]), 5000);
  EXPECT_EQ(load_be16(&quote[2]), 53);
  EXPECT_EQ(as_string(quote.subspan(8)), payload.substr(0, 64));
  EXPECT_FALSE(poll_any(t_, at_ms(0)).has_value());
  EXPECT_EQ(t_.ctr().icmp_out_errors, 1u);
}

TEST_P(udp, port_unreachable_is_rate_limited) {
  // 60 datagrams at one instant: the bucket of 50 answers 50, then one more per millisecond.
  std::size_t answered = 0;
  for (std::uint16_t i = 0; i < 60; ++i) {
    feed(at_ms(0), udp_to(a_.peer, static_cast<std::uint16_t>(6000 + i), a_.me, 9, "x"));
    while (poll_any(t_, at_ms(0))) ++answered;
  }
  EXPECT_EQ(answered, 50u);
  EXPECT_EQ(t_.ctr().icmp_errors_rate_limited, 10u);
  EXPECT_EQ(t_.ctr().icmp_out_errors, 50u);
  feed(at_ms(1), udp_to(a_.peer, 7000, a_.me, 9, "x"));
  EXPECT_TRUE(poll_any(t_, at_ms(1)).has_value());
  EXPECT_EQ(t_.ctr().udp_no_ports, 61u);
  EXPECT_EQ(drops(host_drop::udp_no_port), 61u);
  expect_balanced();
}

TEST_P(udp, zero_checksum_is_taken_over_ipv4_only) {
  auto s = t_.h().bind_udp(udp_endpoint{wildcard(), 53}, &r_);
  ASSERT_TRUE(s.has_value());
  auto p = udp_to(a_.peer, 5000, a_.me, 53, "no checksum");
  const std::size_t hl = v6() ? 40 : 20;
  store_be16(&p[hl + 6], 0);
  feed(at_ms(0), p);
  EXPECT_FALSE(poll_any(t_, at_ms(0)).has_value());  // no ICMP either way
  if (v6()) {  // RFC 8200 §8.1
    EXPECT_TRUE(r_.seen.empty());
    EXPECT_EQ(drops(host_drop::udp_zero_checksum), 1u);
    EXPECT_EQ(t_.ctr().udp_in_errors, 1u);
  } else {  // RFC 768: "all zero transmitted checksum value means that the transmitter generated no checksum"
    ASSERT_EQ(r_.seen.size(), 1u);
    EXPECT_EQ(r_.seen[0].payload, "no checksum");
  }
  expect_balanced();
}

TEST_P(udp, malformed_datagrams_are_dropped_and_counted) {
  auto s = t_.h().bind_udp(udp_endpoint{wildcard(), 53}, &r_);
  ASSERT_TRUE(s.has_value());
  const std::size_t hl = v6() ? 40 : 20;
  auto bad_sum = udp_to(a_.peer, 5000, a_.me, 53, "payload");
  store_u8(&bad_sum[hl + 8], 'P');
  feed(at_ms(0), bad_sum);
  auto long_len = udp_to(a_.peer, 5000, a_.me, 53, "payload");
  store_be16(&long_len[hl + 4], 16);  // longer than the datagram
  feed(at_ms(0), long_len);
  auto short_len = udp_to(a_.peer, 5000, a_.me, 53, "payload");
  store_be16(&short_len[hl + 4], 7);  // shorter than the header
  feed(at_ms(0), short_len);
  const std::vector<std::byte> four(4, std::byte{0});
  feed(at_ms(0), ip_datagram(a_.peer, a_.me, 17, four));  // not even a header
  EXPECT_TRUE(r_.seen.empty());
  EXPECT_FALSE(poll_any(t_, at_ms(0)).has_value());  // never answered
  EXPECT_EQ(t_.ctr().wire(wire_error::bad_checksum), 1u);
  EXPECT_EQ(t_.ctr().wire(wire_error::bad_total_len), 2u);
  EXPECT_EQ(t_.ctr().wire(wire_error::truncated), 1u);
  EXPECT_EQ(t_.ctr().udp_in_errors, 4u);
  // Octets past the UDP length are link padding: the datagram is taken as its length says.
  auto padded = udp_to(a_.peer, 5000, a_.me, 53, "ok");
  padded.resize(padded.size() + 3);
  if (v6()) {
    store_be16(&padded[4], static_cast<std::uint16_t>(padded.size() - 40));
  } else {
    store_be16(&padded[2], static_cast<std::uint16_t>(padded.size()));
    stack_harness::fix_ip_checksum(padded);
  }
  feed(at_ms(1), padded);
  ASSERT_EQ(r_.seen.size(), 1u);
  EXPECT_EQ(r_.seen[0].payload, "ok");
  expect_balanced();
}

TEST_P(udp, api_errors_are_precise) {
  host_config c = dual_config();
  auto s = t_.h().bind_udp(udp_endpoint{a_.me, 53}, &r_);
  ASSERT_TRUE(s.has_value());
  const udp_endpoint peer{a_.peer, 5000};
  EXPECT_EQ(t_.h().bind_udp(udp_endpoint{a_.me, 53}, &r_).error(), host_error::address_in_use);
  EXPECT_EQ(t_.h().bind_udp(udp_endpoint{wildcard(), 53}, &r_).error(), host_error::address_in_use);
  EXPECT_EQ(t_.h().bind_udp(udp_endpoint{a_.far, 53}, &r_).error(), host_error::address_not_available);
  EXPECT_EQ(t_.h().bind_udp(udp_endpoint{a_.me, 54}, nullptr).error(), host_error::invalid_argument);
  EXPECT_EQ(t_.h().send_udp(*s, udp_endpoint{a_.peer, 0}, as_bytes("x")).error(), host_error::invalid_argument);
  const ip_addr multicast = v6() ? *ip_addr::parse("ff02::1") : *ip_addr::parse("224.0.0.1");
  EXPECT_EQ(t_.h().send_udp(*s, udp_endpoint{multicast, 9}, as_bytes("x")).error(), host_error::invalid_argument);
  const ip_addr other_family = v6() ? ip_addr{peer_ip} : *ip_addr::parse("2001:db8::2");
  EXPECT_EQ(t_.h().send_udp(*s, udp_endpoint{other_family, 9}, as_bytes("x")).error(), host_error::invalid_argument);
  // The largest datagram fits the MTU exactly; one more octet does not.
  const std::size_t room = c.mtu - (v6() ? 40u : 20u) - 8u;
  const std::string big(room, 'b');
  EXPECT_TRUE(t_.h().send_udp(*s, peer, as_bytes(big)).has_value());
  const std::string too_big(room + 1, 'b');
  EXPECT_EQ(t_.h().send_udp(*s, peer, as_bytes(too_big)).error(), host_error::message_too_long);
  EXPECT_EQ(expect_udp(at_ms(0), udp_endpoint{a_.me, 53}, peer).size(), room);
  t_.h().close_udp(*s);
  EXPECT_EQ(t_.h().send_udp(*s, peer, as_bytes("x")).error(), host_error::bad_handle);
  EXPECT_EQ(t_.h().connect_udp(*s, peer).error(), host_error::bad_handle);
  EXPECT_FALSE(t_.h().udp_local(*s).has_value());
}

// A transmit queue of two datagrams.
class udp_small_queue : public udp {
 protected:
  udp_small_queue() : udp(config()) {}
  static host_config config() {
    host_config c = dual_config();
    c.udp_tx_queue = 2;
    return c;
  }
};
INSTANTIATE_TEST_SUITE_P(families, udp_small_queue, testing::Values(family::v4, family::v6), family_name);

TEST_P(udp_small_queue, a_full_transmit_queue_refuses_until_polled) {
  auto s = t_.h().bind_udp(udp_endpoint{wildcard(), 53}, &r_);
  ASSERT_TRUE(s.has_value());
  const udp_endpoint peer{a_.peer, 5000};
  EXPECT_TRUE(t_.h().send_udp(*s, peer, as_bytes("1")).has_value());
  EXPECT_TRUE(t_.h().send_udp(*s, peer, as_bytes("2")).has_value());
  EXPECT_EQ(t_.h().send_udp(*s, peer, as_bytes("3")).error(), host_error::no_buffer_space);
  EXPECT_EQ(expect_udp(at_ms(0), udp_endpoint{a_.me, 53}, peer), "1");
  EXPECT_TRUE(t_.h().send_udp(*s, peer, as_bytes("3")).has_value());
  EXPECT_EQ(expect_udp(at_ms(0), udp_endpoint{a_.me, 53}, peer), "2");
  EXPECT_EQ(expect_udp(at_ms(0), udp_endpoint{a_.me, 53}, peer), "3");
  EXPECT_FALSE(poll_any(t_, at_ms(0)).has_value());
}

TEST(udp_any_tcp_only, datagrams_to_addresses_not_ours_are_not_answered) {
  stack_harness t(dual_config());
  ASSERT_TRUE(t.h().listen_any(8, any_address_options{}).has_value());
  t.feed(at_ms(0), udp_to(peer_ip, 5000, ipv4_addr::from_octets(203, 0, 113, 7), 53, "q"));
  t.expect_nothing(at_ms(0));
  EXPECT_EQ(t.ctr().host(host_drop::not_for_us), 1u);
}

}  // namespace
}  // namespace synack::stest
