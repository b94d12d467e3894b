// RFC 7413 TCP Fast Open at one connection (tcp/fast_open.hpp): the client's SYN with a cookie
// request or a cookie and data, what its SYN-ACK acknowledges, its SYN timeout; the server's
// taking of a valid cookie's data and its answer to a bad one. Exact segments, virtual time.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;

tcp_fast_open cookie(std::string_view hex4) {
  std::array<std::byte, 4> b{};
  for (std::size_t k = 0; k < 4; ++k) b[k] = static_cast<std::byte>(std::stoi(std::string(hex4.substr(2 * k, 2)), nullptr, 16));
  return tcp_fast_open::of(b);
}

std::string text(std::size_t n, char c = 'x') { return std::string(n, c); }

// No cookie cached: the SYN asks for one (an empty option) and carries no data; the SYN-ACK's
// cookie and MSS are reported once, for the host's cache.
TEST(fast_open, client_without_cookie__syn_requests_one_and_learns_it) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple(), fast_open_client{}).has_value());
  EXPECT_EQ(h.write("hello"), 5u);  // queued for after the handshake: no cookie, no SYN data
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .mss = 1460, .fo = tcp_fast_open{}});
  h.send(at_ms(10), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .mss = 1200, .fo = cookie("abcd1234")});
  h.expect_state(tcp_state::established);
  const auto news = h.conn().take_fast_open_news();
  ASSERT_TRUE(news.has_value());
  EXPECT_EQ(news->cookie, cookie("abcd1234"));
  EXPECT_EQ(news->mss, 1200);
  EXPECT_EQ(news->syn_data, 0u);
  EXPECT_FALSE(h.conn().take_fast_open_news().has_value());  // once
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
  EXPECT_FALSE(h.conn().fast_open_syn_data());
}

// A cookie cached and the SYN deferred (TCP_FASTOPEN_CONNECT): nothing leaves until the first
// write, which the SYN carries up to the remembered MSS less 40 octets; the SYN-ACK that
// acknowledges all of it leaves nothing to resend.
TEST(fast_open, client_with_cookie__deferred_syn_carries_the_first_write) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple(), fast_open_client{cookie("abcd1234"), 940, true}).has_value());
  h.expect_state(tcp_state::syn_sent);
  EXPECT_TRUE(h.conn().fast_open_deferred());
  h.expect_nothing(at_ms(0));
  EXPECT_FALSE(h.conn().next_deadline().has_value());
  EXPECT_EQ(h.write(text(2000)), 900u);  // 940 - 40: only what the SYN carries is taken
  EXPECT_FALSE(h.conn().fast_open_deferred());
  h.expect_recv(at_ms(5), seg{.seq = local_iss, .flags = syn, .payload = text(900), .mss = 1460, .fo = cookie("abcd1234")});
  EXPECT_EQ(h.conn().snd().nxt, h.l(901));
  h.send(at_ms(15), seg{.seq = remote_iss, .ack = h.l(901), .flags = syn, .mss = 1460});
  h.expect_state(tcp_state::established);
  EXPECT_TRUE(h.conn().fast_open_syn_data());
  const auto news = h.conn().take_fast_open_news();
  ASSERT_TRUE(news.has_value());
  EXPECT_FALSE(news->cookie.has_value());  // none on the SYN-ACK: the cache keeps the old one
  EXPECT_EQ(news->syn_data, 900u);
  EXPECT_TRUE(news->syn_data_acked);
  h.expect_recv(at_ms(15), seg{.seq = h.l(901), .ack = h.r(1)});
  h.expect_nothing(at_ms(15));
}

// RFC 7413 §4.2.2: a SYN-ACK that acknowledges only the SYN: the data goes again at once.
TEST(fast_open, client_synack_acking_only_the_syn__data_sent_again_at_once) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple(), fast_open_client{cookie("1234abcd"), 1460, true}).has_value());
  EXPECT_EQ(h.write(text(700)), 700u);
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .payload = text(700), .fo = cookie("1234abcd")});
  h.send(at_ms(20), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .mss = 1040, .fo = cookie("1234abcd")});
  h.expect_state(tcp_state::established);
  EXPECT_FALSE(h.conn().fast_open_syn_data());
  const auto news = h.conn().take_fast_open_news();
  ASSERT_TRUE(news.has_value());
  EXPECT_FALSE(news->syn_data_acked);
  h.expect_recv(at_ms(20), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = text(700)});
  h.expect_nothing(at_ms(20));
  h.send(at_ms(40), seg{.seq = h.r(1), .ack = h.l(701)});
  EXPECT_EQ(h.conn().snd().una, h.l(701));
}

// RFC 7413 §4.2.1: the SYN retransmitted by the timer carries neither the option nor data; the
// data follows the handshake.
TEST(fast_open, client_syn_timeout__retransmitted_syn_without_option_or_data) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple(), fast_open_client{cookie("abcd1234"), 1460, true}).has_value());
  EXPECT_EQ(h.write(text(1000)), 1000u);
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .payload = text(1000), .fo = cookie("abcd1234")});
  const auto again = h.poll(at_ms(1000));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->syn());
  EXPECT_EQ(again->seq, local_iss);
  EXPECT_TRUE(again->payload.empty());
  EXPECT_FALSE(again->options.fast_open.has_value());
  h.send(at_ms(1020), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .mss = 1460});
  h.expect_recv(at_ms(1020), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = text(1000)});
}

// Fragmentation Needed for the SYN data: the SYN goes again at once, without option or data,
// announcing an MSS within the path's MTU; the data follows the handshake.
TEST(fast_open, client_syn_data_too_big__syn_again_at_once_without_data) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple(), fast_open_client{cookie("abcd1234"), 1460, true}).has_value());
  EXPECT_EQ(h.write(text(1000)), 1000u);
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .payload = text(1000), .mss = 1460, .fo = cookie("abcd1234")});
  EXPECT_EQ(h.conn().on_icmp_error(at_ms(10), icmp_report{3, 4, 800, 1100}), icmp_action::mss_lowered);
  const auto again = h.poll(at_ms(10));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->syn());
  EXPECT_TRUE(again->payload.empty());
  EXPECT_FALSE(again->options.fast_open.has_value());
  EXPECT_EQ(again->options.mss, 760);
  // Once only: another one (repeated or forged) is ignored, as any in SYN-SENT without SYN data.
  EXPECT_EQ(h.conn().on_icmp_error(at_ms(11), icmp_report{3, 4, 800, 1100}), icmp_action::ignored);
  h.expect_nothing(at_ms(11));
  h.send(at_ms(30), seg{.seq = remote_iss, .ack = h.l(1), .flags = syn, .mss = 1040});
  h.expect_recv(at_ms(30), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = text(1000)});

  tcp_harness plain;
  ASSERT_TRUE(plain.conn().connect(at_ms(0), plain.tuple()).has_value());
  (void)plain.poll(at_ms(0));
  EXPECT_EQ(plain.conn().on_icmp_error(at_ms(10), icmp_report{3, 4, 800, 60}), icmp_action::ignored);
  plain.expect_nothing(at_ms(10));
}

// A cookie request retransmitted: the SYN goes without it, and an unsolicited cookie on a plain
// connection's SYN-ACK is ignored.
TEST(fast_open, cookie_request_not_repeated_and_unsolicited_cookie_ignored) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple(), fast_open_client{}).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .fo = tcp_fast_open{}});
  const auto again = h.poll(at_ms(1000));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->options.fast_open.has_value());

  tcp_harness plain;
  ASSERT_TRUE(plain.conn().connect(at_ms(0), plain.tuple()).has_value());
  const auto first = plain.poll(at_ms(0));
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->options.fast_open.has_value());
  plain.send(at_ms(5), seg{.seq = remote_iss, .ack = plain.l(1), .flags = syn, .fo = cookie("abcd1234")});
  plain.expect_state(tcp_state::established);
  EXPECT_FALSE(plain.conn().take_fast_open_news().has_value());
}

// Server, valid cookie (§4.2.2): the SYN's data is readable in SYN-RECEIVED and the SYN-ACK
// acknowledges it, without a cookie.
TEST(fast_open, server_valid_cookie__syn_data_taken_and_acknowledged) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.conn().set_fast_open_server(fast_open_server{true, std::nullopt});
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .payload = "0123456789", .mss = 1460, .fo = cookie("abcd1234")});
  h.expect_state(tcp_state::syn_received);
  const auto synack = h.poll(at_ms(0));
  ASSERT_TRUE(synack.has_value());
  EXPECT_EQ(synack->seq, local_iss);
  EXPECT_EQ(synack->ack, h.r(11));
  EXPECT_FALSE(synack->options.fast_open.has_value());
  EXPECT_TRUE(h.conn().fast_open_syn_data());
  std::array<std::byte, 64> buf{};
  const auto n = h.conn().recv(buf);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 10u);
  h.send(at_ms(10), seg{.seq = h.r(11), .ack = h.l(1)});
  h.expect_state(tcp_state::established);
  EXPECT_EQ(h.conn().rcv().nxt, h.r(11));
}

// Server, invalid cookie or a request: the data is not taken (the client sends it again) and
// the SYN-ACK carries the cookie the host computed.
TEST(fast_open, server_bad_cookie__data_ignored_fresh_cookie_sent) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.conn().set_fast_open_server(fast_open_server{false, cookie("0badc0de")});
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .payload = "0123456789", .mss = 1460, .fo = cookie("abcd1234")});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .fo = cookie("0badc0de")});
  EXPECT_EQ(h.conn().recv_available(), 0u);
  EXPECT_FALSE(h.conn().fast_open_syn_data());
  // The SYN-ACK retransmitted carries it again.
  h.expect_recv(at_ms(1000), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .fo = cookie("0badc0de")});
}

}  // namespace
}  // namespace synack::test
