// RFC 7413 TCP Fast Open at the host: the client's cookie cache (bounded, LRU), the server's
// cookie (Linux's: SipHash-2-4 of the addresses), a listener's answers to cookie requests,
// valid, invalid and over-quota cookies with their counters, a client learning a cookie and
// then sending data on its SYN, and both sides without cookies (tcp_config::
// fast_open_no_cookie). Exact segments on virtual time.
#include <string>
#include <vector>

#include "stack/stack_harness.hpp"
#include "synack/stack/fast_open_cache.hpp"

namespace synack::stest {
namespace {

using namespace tcp_flag;

tcp_fast_open cookie_of(std::initializer_list<int> octets) {
  std::vector<std::byte> b;
  for (const int o : octets) b.push_back(static_cast<std::byte>(o));
  return tcp_fast_open::of(b);
}

std::string hex(const tcp_fast_open& f) {
  std::string s;
  for (const std::byte b : f.value()) {
    constexpr const char* digits = "0123456789abcdef";
    s += digits[std::to_integer<int>(b) >> 4];
    s += digits[std::to_integer<int>(b) & 15];
  }
  return s;
}

// The cookie Linux gives 192.0.2.1 at 192.168.0.1 under net.ipv4.tcp_fastopen_key =
// a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4 (packetdrill's run_all.py passes it as TFO_COOKIE).
TEST(fast_open_cookie, matches_linux_for_the_packetdrill_key) {
  const std::array<std::uint64_t, 2> key{0xb2b2b2b2a1a1a1a1ULL, 0xd4d4d4d4c3c3c3c3ULL};
  const auto c = fast_open_cookie(key, ip_addr{ipv4_addr::from_octets(192, 0, 2, 1)},
                                  ip_addr{ipv4_addr::from_octets(192, 168, 0, 1)}, false);
  EXPECT_EQ(hex(c), "3021b9d889017eeb");
  EXPECT_FALSE(c.experimental);
  // Keyed and bound to both addresses.
  EXPECT_NE(hex(fast_open_cookie({1, 2}, ip_addr{host_ip}, ip_addr{peer_ip}, false)),
            hex(fast_open_cookie({1, 3}, ip_addr{host_ip}, ip_addr{peer_ip}, false)));
  EXPECT_NE(hex(fast_open_cookie({1, 2}, ip_addr{host_ip}, ip_addr{peer_ip}, false)),
            hex(fast_open_cookie({1, 2}, ip_addr{peer_ip}, ip_addr{host_ip}, false)));
}

TEST(fast_open_cache, learns_keeps_the_old_cookie_and_evicts_the_least_recently_used) {
  fast_open_cache c(2);
  const ip_addr a{ipv4_addr::from_octets(10, 0, 0, 1)};
  const ip_addr b{ipv4_addr::from_octets(10, 0, 0, 2)};
  const ip_addr d{ipv4_addr::from_octets(10, 0, 0, 3)};
  c.learn(a, fast_open_news{cookie_of({1, 2, 3, 4}), 1200});
  c.learn(b, fast_open_news{std::nullopt, 0});  // nothing to remember
  EXPECT_EQ(c.size(), 1u);
  c.learn(a, fast_open_news{std::nullopt, 940});  // no cookie on this SYN-ACK: the old one stays
  ASSERT_NE(c.find(a), nullptr);
  EXPECT_EQ(c.find(a)->cookie, cookie_of({1, 2, 3, 4}));
  EXPECT_EQ(c.find(a)->mss, 940);
  c.learn(b, fast_open_news{cookie_of({5, 6, 7, 8}), 0});
  (void)c.find(a);  // a is now the most recently used
  c.learn(d, fast_open_news{cookie_of({9, 9, 9, 9}), 0});
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.evictions(), 1u);
  EXPECT_EQ(c.find(b), nullptr);
  EXPECT_NE(c.find(a), nullptr);
  EXPECT_NE(c.find(d), nullptr);
  c.forget(a);
  EXPECT_EQ(c.find(a), nullptr);
}

// The next TCP segment the host sends, checked for flags, ACK, payload and local port; the
// host's ISN is its own (RFC 6528), so the sequence number is returned, not compared.
tcp_repr next_tcp(stack_harness& t, instant at, std::uint8_t flags, std::optional<seq_num> ack, std::string_view payload,
                  std::uint16_t to_port, test::source_loc loc = test::source_loc::current()) {
  SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
  auto p = t.poll(at);
  EXPECT_TRUE(p && p->tcp) << "expected a TCP segment";
  if (!p || !p->tcp) return tcp_repr{};
  const tcp_repr& g = *p->tcp;
  EXPECT_EQ(g.flags, flags) << describe(g);
  EXPECT_EQ(g.ack, ack) << describe(g);
  EXPECT_EQ(g.dst_port, to_port) << describe(g);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(g.payload.data()), g.payload.size()), payload);
  return g;
}

host_config tfo_config() {
  host_config c = default_config();
  c.fast_open_key = std::array<std::uint64_t, 2>{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  return c;
}

struct tfo_server {
  host_config cfg = tfo_config();
  stack_harness t{cfg};
  listener_handle l;
  tcp_fast_open good = fast_open_cookie(*cfg.fast_open_key, ip_addr{peer_ip}, ip_addr{host_ip}, false);
  explicit tfo_server(std::uint32_t qlen, bool no_cookie = false) {
    tcp_config lc = cfg.tcp;
    lc.fast_open_qlen = qlen;
    lc.fast_open_no_cookie = no_cookie;
    auto h = t.h().listen(host_port, 16, lc);
    EXPECT_TRUE(h.has_value());
    l = h ? *h : listener_handle{};
  }
};

// The listener's next connection, accepted before its handshake completes (in SYN-RECEIVED),
// and what its SYN carried, read at once.
std::pair<std::optional<conn_handle>, std::string> accept_early(tfo_server& s) {
  auto c = s.t.h().accept(s.l);
  EXPECT_TRUE(c.has_value());
  if (!c) return {};
  EXPECT_EQ(s.t.h().state(*c), tcp_state::syn_received);
  std::array<std::byte, 32> buf{};
  const auto n = s.t.h().recv(*c, buf);
  EXPECT_TRUE(n.has_value());
  return {*c, std::string(reinterpret_cast<const char*>(buf.data()), n ? *n : 0)};
}

TEST(fast_open_server, cookie_request__synack_carries_the_cookie) {
  tfo_server s(4);
  s.t.send(at_ms(0), seg{.seq = peer_iss, .flags = syn, .payload = "ignored", .mss = 1460, .fo = tcp_fast_open{}});
  const auto synack = next_tcp(s.t, at_ms(0), syn, peer_iss + seq_len{1}, "", peer_port);
  EXPECT_EQ(synack.options.fast_open, s.good);
  EXPECT_EQ(s.t.ctr().fast_open_cookie_reqd, 1u);
  EXPECT_EQ(s.t.h().accept_queue_len(s.l), 0u);  // an ordinary half-open connection
}

TEST(fast_open_server, valid_cookie__data_acknowledged_and_ready_to_accept) {
  tfo_server s(4);
  s.t.send(at_ms(0), seg{.seq = peer_iss, .flags = syn, .payload = "0123456789", .mss = 1460, .fo = s.good});
  const auto synack = next_tcp(s.t, at_ms(0), syn, peer_iss + seq_len{11}, "", peer_port);
  EXPECT_FALSE(synack.options.fast_open.has_value());
  EXPECT_EQ(s.t.ctr().fast_open_passive, 1u);
  const auto [c, data] = accept_early(s);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(data, "0123456789");
  s.t.send(at_ms(5), seg{.seq = peer_iss + seq_len{11}, .ack = synack.seq + seq_len{1}});
  EXPECT_EQ(s.t.h().state(*c), tcp_state::established);
  EXPECT_EQ(s.t.h().half_open(s.l), 0u);
}

TEST(fast_open_server, invalid_cookie__data_ignored_fresh_cookie) {
  tfo_server s(4);
  s.t.send(at_ms(0), seg{.seq = peer_iss, .flags = syn, .payload = "0123456789", .mss = 1460,
                         .fo = cookie_of({1, 2, 3, 4, 5, 6, 7, 8})});
  const auto synack = next_tcp(s.t, at_ms(0), syn, peer_iss + seq_len{1}, "", peer_port);
  EXPECT_EQ(synack.options.fast_open, s.good);
  EXPECT_EQ(s.t.ctr().fast_open_passive_fail, 1u);
  EXPECT_EQ(s.t.h().accept_queue_len(s.l), 0u);
}

// RFC 7413 §5.1: beyond max_qlen TFO children in SYN-RECEIVED, a valid cookie's SYN is answered
// as an ordinary one (its data left for the client to send again).
TEST(fast_open_server, queue_full__valid_cookie_answered_as_a_plain_syn) {
  tfo_server s(1);
  s.t.send(at_ms(0), seg{.seq = peer_iss, .flags = syn, .payload = "first", .mss = 1460, .peer = 40001, .fo = s.good});
  (void)next_tcp(s.t, at_ms(0), syn, peer_iss + seq_len{6}, "", 40001);
  s.t.send(at_ms(1), seg{.seq = peer_iss, .flags = syn, .payload = "second", .mss = 1460, .peer = 40002, .fo = s.good});
  const auto synack = next_tcp(s.t, at_ms(1), syn, peer_iss + seq_len{1}, "", 40002);
  EXPECT_FALSE(synack.options.fast_open.has_value());
  EXPECT_EQ(s.t.ctr().fast_open_passive, 1u);
  EXPECT_EQ(s.t.ctr().fast_open_listen_overflow, 1u);
  EXPECT_EQ(s.t.h().accept_queue_len(s.l), 1u);
  EXPECT_EQ(s.t.h().half_open(s.l), 1u);
}

// A listener closed with an accepted TFO child still in SYN-RECEIVED: that child's handshake
// does not count against the TFO queue of a new listener on the same port.
TEST(fast_open_server, closed_listener_child_leaves_the_next_listener_queue_alone) {
  tfo_server s(1);
  s.t.send(at_ms(0), seg{.seq = peer_iss, .flags = syn, .payload = "a", .mss = 1460, .peer = 40001, .fo = s.good});
  const auto first = next_tcp(s.t, at_ms(0), syn, peer_iss + seq_len{2}, "", 40001);
  ASSERT_TRUE(s.t.h().accept(s.l).has_value());
  s.t.h().close_listener(at_ms(1), s.l);
  tcp_config lc = s.cfg.tcp;
  lc.fast_open_qlen = 1;
  auto l2 = s.t.h().listen(host_port, 16, lc);
  ASSERT_TRUE(l2.has_value());
  s.t.send(at_ms(2), seg{.seq = peer_iss, .flags = syn, .payload = "b", .mss = 1460, .peer = 40002, .fo = s.good});
  (void)next_tcp(s.t, at_ms(2), syn, peer_iss + seq_len{2}, "", 40002);
  // The first child completes its handshake: the new listener's queue still holds the second.
  s.t.send(at_ms(3), seg{.seq = peer_iss + seq_len{2}, .ack = first.seq + seq_len{1}, .peer = 40001});
  s.t.send(at_ms(4), seg{.seq = peer_iss, .flags = syn, .payload = "c", .mss = 1460, .peer = 40003, .fo = s.good});
  (void)next_tcp(s.t, at_ms(4), syn, peer_iss + seq_len{1}, "", 40003);
  EXPECT_EQ(s.t.ctr().fast_open_passive, 2u);
  EXPECT_EQ(s.t.ctr().fast_open_listen_overflow, 1u);
}

// A Fast Open child made by a SYN carrying `payload` with a valid cookie, accepted in
// SYN-RECEIVED, and its SYN-ACK.
struct tfo_child {
  tcp_repr synack;
  conn_handle c{};
};
tfo_child open_child(tfo_server& s, const std::string& payload) {
  s.t.send(at_ms(0), seg{.seq = peer_iss, .flags = syn, .payload = payload, .mss = 1460, .fo = s.good});
  tfo_child r;
  r.synack = next_tcp(s.t, at_ms(0), syn, peer_iss + seq_len{1 + static_cast<std::uint32_t>(payload.size())}, "", peer_port);
  auto c = s.t.h().accept(s.l);
  EXPECT_TRUE(c.has_value());
  if (c) r.c = *c;
  return r;
}

// RFC 7413 §4.2.2: a Fast Open child, accepted in SYN-RECEIVED, answers before the client's
// ACK (as Linux's TFO child does); the handshake's ACK may acknowledge that answer too. Its
// close waits for ESTABLISHED: no FIN in SYN-RECEIVED.
TEST(fast_open_server, child_sends_data_before_the_handshake_ack) {
  tfo_server s(4);
  const auto [synack, c] = open_child(s, "0123456789");
  EXPECT_EQ(s.t.read_all(c), "0123456789");
  EXPECT_EQ(s.t.write(c, "reply"), 5u);
  ASSERT_TRUE(s.t.h().shutdown(at_ms(10), c).has_value());
  const auto d = next_tcp(s.t, at_ms(10), psh, peer_iss + seq_len{11}, "reply", peer_port);
  EXPECT_EQ(d.seq, synack.seq + seq_len{1});
  s.t.expect_nothing(at_ms(10));  // the FIN waits for the handshake
  EXPECT_EQ(s.t.h().state(c), tcp_state::syn_received);
  // The client's first ACK covers the SYN-ACK and the reply: ESTABLISHED, then FIN-WAIT-1
  // with the FIN that was held.
  s.t.send(at_ms(20), seg{.seq = peer_iss + seq_len{11}, .ack = synack.seq + seq_len{6}});
  (void)next_tcp(s.t, at_ms(20), fin, peer_iss + seq_len{11}, "", peer_port);
  EXPECT_EQ(s.t.h().state(c), tcp_state::fin_wait_1);
  EXPECT_EQ(s.t.h().status(c)->send_queued, 0u);
}

// The SYN-ACK times out with the early data unacknowledged: the SYN-ACK goes again (the timeout
// brings cwnd to the loss window); once the client acknowledges it, the data goes again from
// its first octet, one segment in that window.
TEST(fast_open_server, child_data_resent_after_the_synack_timeout) {
  tfo_server s(4);
  const auto [synack, c] = open_child(s, "q");
  const std::string big(3000, 'r');
  EXPECT_EQ(s.t.write(c, big), big.size());
  (void)next_tcp(s.t, at_ms(1), 0, peer_iss + seq_len{2}, big.substr(0, 1460), peer_port);
  (void)next_tcp(s.t, at_ms(1), 0, peer_iss + seq_len{2}, big.substr(1460, 1460), peer_port);
  s.t.expect_nothing(at_ms(999));  // Nagle holds the runt: two full segments are in flight
  const auto again = next_tcp(s.t, at_ms(1000), syn, peer_iss + seq_len{2}, "", peer_port);
  EXPECT_EQ(again.seq, synack.seq);
  s.t.expect_nothing(at_ms(1000));
  s.t.send(at_ms(1010), seg{.seq = peer_iss + seq_len{2}, .ack = synack.seq + seq_len{1}});
  EXPECT_EQ(s.t.h().state(c), tcp_state::established);
  const auto first = next_tcp(s.t, at_ms(1010), 0, peer_iss + seq_len{2}, big.substr(0, 1460), peer_port);
  EXPECT_EQ(first.seq, synack.seq + seq_len{1});
  s.t.expect_nothing(at_ms(1010));  // one segment: the loss window
}

// RFC 2525 §2.17 / RFC 9293 §3.10.4's note, for the data a Fast Open child holds in SYN-RECEIVED:
// closed unread, it is lost, so the peer is told with a RST <SEQ=ISS+1> (Linux does the same).
TEST(fast_open_server, child_closed_with_the_syn_data_unread_resets) {
  tfo_server s(4);
  const auto [synack, c] = open_child(s, "unread");
  ASSERT_TRUE(s.t.h().close(at_ms(5), c).has_value());
  const auto r = next_tcp(s.t, at_ms(5), rst, std::nullopt, "", peer_port);
  EXPECT_EQ(r.seq, synack.seq + seq_len{1});
  s.t.expect_nothing(at_ms(5000));  // no SYN-ACK again
}

// A listener without Fast Open ignores the option: no cookie, no data taken.
TEST(fast_open_server, off_by_default) {
  tfo_server s(0);
  s.t.send(at_ms(0), seg{.seq = peer_iss, .flags = syn, .payload = "data", .mss = 1460, .fo = s.good});
  const auto synack = next_tcp(s.t, at_ms(0), syn, peer_iss + seq_len{1}, "", peer_port);
  EXPECT_FALSE(synack.options.fast_open.has_value());
  EXPECT_EQ(s.t.ctr().fast_open_passive + s.t.ctr().fast_open_passive_fail + s.t.ctr().fast_open_cookie_reqd, 0u);
}

// Without cookies (Linux's TFO_SERVER_COOKIE_NOT_REQD): a SYN's data is taken though it
// carries no TFO option, the SYN-ACK carries none; a SYN without data or option stays plain.
TEST(fast_open_server, no_cookie__syn_data_without_the_option_is_taken) {
  tfo_server s(4, true);
  s.t.send(at_ms(0), seg{.seq = peer_iss, .flags = syn, .mss = 1460, .peer = 40001});
  (void)next_tcp(s.t, at_ms(0), syn, peer_iss + seq_len{1}, "", 40001);
  EXPECT_EQ(s.t.h().accept_queue_len(s.l), 0u);
  s.t.send(at_ms(1), seg{.seq = peer_iss, .flags = syn, .payload = "0123456789", .mss = 1460, .peer = 40002});
  const auto synack = next_tcp(s.t, at_ms(1), syn, peer_iss + seq_len{11}, "", 40002);
  EXPECT_FALSE(synack.options.fast_open.has_value());
  EXPECT_EQ(s.t.ctr().fast_open_passive, 1u);
  EXPECT_EQ(s.t.ctr().fast_open_cookie_reqd + s.t.ctr().fast_open_passive_fail, 0u);
  const auto [c, data] = accept_early(s);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(data, "0123456789");
  s.t.send(at_ms(5), seg{.seq = peer_iss + seq_len{11}, .ack = synack.seq + seq_len{1}, .peer = 40002});
  EXPECT_EQ(s.t.h().state(*c), tcp_state::established);
}

// Without cookies, any TFO option opens a child with no check: a request (counted, but given
// no cookie), a cookie that is not ours; the TFO queue still bounds them (§5.1).
TEST(fast_open_server, no_cookie__a_request_or_a_bad_cookie_opens_a_child_within_the_queue) {
  tfo_server s(2, true);
  s.t.send(at_ms(0), seg{.seq = peer_iss, .flags = syn, .mss = 1460, .peer = 40001, .fo = tcp_fast_open{}});
  const auto a = next_tcp(s.t, at_ms(0), syn, peer_iss + seq_len{1}, "", 40001);
  EXPECT_FALSE(a.options.fast_open.has_value());
  s.t.send(at_ms(1), seg{.seq = peer_iss, .flags = syn, .payload = "xyz", .mss = 1460, .peer = 40002,
                         .fo = cookie_of({1, 2, 3, 4, 5, 6, 7, 8})});
  const auto b = next_tcp(s.t, at_ms(1), syn, peer_iss + seq_len{4}, "", 40002);
  EXPECT_FALSE(b.options.fast_open.has_value());
  s.t.send(at_ms(2), seg{.seq = peer_iss, .flags = syn, .payload = "full", .mss = 1460, .peer = 40003});
  (void)next_tcp(s.t, at_ms(2), syn, peer_iss + seq_len{1}, "", 40003);  // the queue holds two
  EXPECT_EQ(s.t.ctr().fast_open_cookie_reqd, 1u);
  EXPECT_EQ(s.t.ctr().fast_open_passive, 2u);
  EXPECT_EQ(s.t.ctr().fast_open_passive_fail, 0u);
  EXPECT_EQ(s.t.ctr().fast_open_listen_overflow, 1u);
  EXPECT_EQ(s.t.h().accept_queue_len(s.l), 2u);
  EXPECT_EQ(s.t.h().half_open(s.l), 1u);
}

// Client: the first connection asks for a cookie, the next one sends data on its SYN.
TEST(fast_open_client, learns_a_cookie_then_sends_data_on_the_syn) {
  stack_harness t(tfo_config());
  const ip_addr server{peer_ip};
  EXPECT_FALSE(t.h().fast_open_cookie_cached(server));
  auto c1 = t.h().connect_fast_open(at_ms(0), server, 80, std::uint16_t{40000}, t.h().config().tcp, true);
  ASSERT_TRUE(c1.has_value());
  const auto syn1 = next_tcp(t, at_ms(0), syn, std::nullopt, "", 80);
  EXPECT_EQ(syn1.options.fast_open, tcp_fast_open{});  // a request: no cookie to defer for
  const tcp_fast_open given = cookie_of({0xab, 0xcd, 0x12, 0x34});
  t.send(at_ms(10), seg{.seq = peer_iss, .ack = syn1.seq + seq_len{1}, .flags = syn, .mss = 1000, .peer = 80,
                        .local = 40000, .fo = given});
  EXPECT_EQ(t.h().state(*c1), tcp_state::established);
  EXPECT_TRUE(t.h().fast_open_cookie_cached(server));

  auto c2 = t.h().connect_fast_open(at_ms(20), server, 80, std::uint16_t{40001}, t.h().config().tcp, true);
  ASSERT_TRUE(c2.has_value());
  (void)t.poll(at_ms(20));  // c1's ACK
  EXPECT_FALSE(t.poll(at_ms(20)).has_value());  // c2's SYN waits for data
  const std::string data(2000, 'd');
  const auto n = t.h().send(*c2, std::as_bytes(std::span{data.data(), data.size()}));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 960u);  // the remembered MSS 1000 less 40
  const auto syn2 = next_tcp(t, at_ms(20), syn, std::nullopt, std::string(960, 'd'), 80);
  EXPECT_EQ(syn2.options.fast_open, given);
  t.send(at_ms(30), seg{.seq = peer_iss, .ack = syn2.seq + seq_len{961}, .flags = syn, .mss = 1000, .peer = 80,
                        .local = 40001});
  EXPECT_EQ(t.h().state(*c2), tcp_state::established);
  EXPECT_EQ(t.ctr().fast_open_active, 1u);
  EXPECT_EQ(t.ctr().fast_open_active_fail, 0u);
  t.h().forget_fast_open_cookies();
  EXPECT_FALSE(t.h().fast_open_cookie_cached(server));
}

// Client without cookies (Linux's TFO_CLIENT_NO_COOKIE): the SYN waits for data and carries
// it without a TFO option, as much as our own MSS less 40 allows while nothing is known of the
// server; the SYN-ACK's cookie, unasked for, is not cached, its MSS is and sizes the next SYN.
TEST(fast_open_client, no_cookie__data_on_a_syn_without_the_option) {
  host_config hc = tfo_config();
  hc.tcp.fast_open_no_cookie = true;
  stack_harness t(hc);
  const ip_addr server{peer_ip};
  auto c1 = t.h().connect_fast_open(at_ms(0), server, 80, std::uint16_t{40000}, t.h().config().tcp, true);
  ASSERT_TRUE(c1.has_value());
  EXPECT_FALSE(t.poll(at_ms(0)).has_value());  // the SYN waits for data
  const std::string data(2000, 'd');
  const auto n = t.h().send(*c1, std::as_bytes(std::span{data.data(), data.size()}));
  ASSERT_TRUE(n.has_value());
  const std::size_t room = std::size_t{t.h().config().tcp.mss} - 40;
  EXPECT_EQ(*n, room);
  const auto syn1 = next_tcp(t, at_ms(0), syn, std::nullopt, std::string(room, 'd'), 80);
  EXPECT_FALSE(syn1.options.fast_open.has_value());
  t.send(at_ms(10), seg{.seq = peer_iss, .ack = syn1.seq + seq_len{static_cast<std::uint32_t>(room) + 1}, .flags = syn,
                        .mss = 1000, .peer = 80, .local = 40000, .fo = cookie_of({0xab, 0xcd, 0x12, 0x34})});
  EXPECT_EQ(t.h().state(*c1), tcp_state::established);
  EXPECT_EQ(t.ctr().fast_open_active, 1u);
  EXPECT_FALSE(t.h().fast_open_cookie_cached(server));

  auto c2 = t.h().connect_fast_open(at_ms(20), server, 80, std::uint16_t{40001}, t.h().config().tcp, true);
  ASSERT_TRUE(c2.has_value());
  (void)t.poll(at_ms(20));  // c1's ACK
  const auto n2 = t.h().send(*c2, std::as_bytes(std::span{data.data(), data.size()}));
  ASSERT_TRUE(n2.has_value());
  EXPECT_EQ(*n2, 960u);  // the remembered MSS 1000 less 40
  const auto syn2 = next_tcp(t, at_ms(20), syn, std::nullopt, std::string(960, 'd'), 80);
  EXPECT_FALSE(syn2.options.fast_open.has_value());
}

}  // namespace
}  // namespace synack::stest
