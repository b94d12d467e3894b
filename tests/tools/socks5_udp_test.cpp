// SOCKS5 UDP ASSOCIATE for `synack proxy --socks5`'s UDP sessions (tools/lib/socks5.hpp): the
// request, every REP code and ATYP of its reply (whole and byte by byte), the relay it names,
// and the RFC 1928 §7 header written and read: every ATYP, fragments, truncated and garbage
// headers.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "socks5.hpp"
#include "tools/socks5_test_util.hpp"

namespace synack::tools::socks5 {
namespace {

using namespace test;  // NOLINT: the helpers of socks5_test_util.hpp

const ip_addr any4 = ipv4_addr{0};
const ip_addr any6 = ipv6_addr{};
const ip_addr server4 = ipv4_addr::from_octets(198, 51, 100, 10);
const ip_addr server6 = ipv6_addr::from_groups({0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x10});
const B v6_octets = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};

// An ASSOCIATE client (zeros: the address it sends from is not known) waiting for the reply.
client at_associate_reply(const ip_addr& from = any4) {
  client c(from, 0, std::nullopt, cmd_udp_associate);
  (void)take_output(c);
  EXPECT_EQ(feed(c, {5, 0}), 2u);
  (void)take_output(c);
  EXPECT_EQ(c.current(), client::state::read);
  return c;
}

B cat(B a, const B& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(socks5_udp, associate_request_with_zeros_of_each_family) {
  client c(any4, 0, std::nullopt, cmd_udp_associate);
  EXPECT_EQ(take_output(c), (B{5, 1, 0}));
  (void)feed(c, {5, 0});
  EXPECT_EQ(take_output(c), (B{5, 3, 0, 1, 0, 0, 0, 0, 0, 0}));

  client d(any6, 0, credentials{"user", "pass"}, cmd_udp_associate);
  EXPECT_EQ(take_output(d), (B{5, 2, 0, 2}));
  (void)feed(d, {5, 2});
  (void)take_output(d);
  (void)feed(d, {1, 0});
  EXPECT_EQ(take_output(d), cat({5, 3, 0, 4}, B(18, 0)));

  // The address and port the datagrams come from, when known.
  client e(server6, 5353, std::nullopt, cmd_udp_associate);
  (void)take_output(e);
  (void)feed(e, {5, 0});
  EXPECT_EQ(take_output(e), cat(cat({5, 3, 0, 4}, v6_octets), {0x14, 0xE9}));
}

TEST(socks5_udp, associate_reply_names_the_relay) {
  client c = at_associate_reply();
  const B reply = {5, 0, 0, 1, 198, 51, 100, 10, 0x9C, 0x40};
  EXPECT_EQ(feed(c, reply), reply.size());
  ASSERT_EQ(c.current(), client::state::connected);
  const auto relay = udp_relay_of(c.reply(), server4);
  ASSERT_TRUE(relay.has_value());
  EXPECT_EQ(*relay, (endpoint{server4, 40000}));
  EXPECT_EQ(c.input_wanted(), 0u);
}

TEST(socks5_udp, relay_of_an_unspecified_address_is_the_server) {
  connect_reply r;
  r.atyp = atyp_ipv4;
  r.bnd_addr = any4;
  r.bnd_port = 7000;
  EXPECT_EQ(udp_relay_of(r, server4), (endpoint{server4, 7000}));
  EXPECT_EQ(udp_relay_of(r, server6), (endpoint{server6, 7000}));
  r.atyp = atyp_ipv6;
  r.bnd_addr = any6;
  EXPECT_EQ(udp_relay_of(r, server6), (endpoint{server6, 7000}));
  r.bnd_addr = server6;
  EXPECT_EQ(udp_relay_of(r, server4), (endpoint{server6, 7000}));
  r.bnd_port = 0;  // no port to send to
  EXPECT_FALSE(udp_relay_of(r, server4).has_value());
  connect_reply named;  // a domain name is not resolved here
  named.atyp = atyp_domain;
  named.bnd_domain = "relay.example";
  named.bnd_port = 7000;
  EXPECT_FALSE(udp_relay_of(named, server4).has_value());
}

TEST(socks5_udp, every_rep_code_on_associate) {
  for (const auto& code : rep_codes) {
    client c = at_associate_reply();
    expect_rep_failure(c, code.first, code.second);
  }
  for (const std::uint8_t rep : B{0x09, 0x80, 0xFF}) {
    client c = at_associate_reply(any6);
    (void)feed(c, {5, rep, 0, 1, 0, 0, 0, 0, 0, 0});
    ASSERT_EQ(c.current(), client::state::failed);
    EXPECT_EQ(c.failure(), error::malformed_reply);
  }
}

// Every ATYP of the reply, one byte at a time: the client wants no byte past the reply.
TEST(socks5_udp, associate_replies_one_byte_at_a_time) {
  const std::vector<B> replies = {
      {5, 0, 0, 1, 198, 51, 100, 10, 0x9C, 0x40},
      cat(cat({5, 0, 0, 4}, v6_octets), {0x9C, 0x40}),
      {5, 0, 0, 3, 5, 'r', 'e', 'l', 'a', 'y', 0x9C, 0x40},
      {5, 2, 0, 1, 0, 0, 0, 0, 0, 0},
  };
  for (const B& reply : replies) {
    client c = at_associate_reply();
    for (std::size_t i = 0; i < reply.size(); ++i) {
      ASSERT_EQ(c.current(), client::state::read) << "byte " << i;
      EXPECT_GE(c.input_wanted(), 1u);
      EXPECT_LE(c.input_wanted(), reply.size() - i) << "byte " << i;
      EXPECT_EQ(feed(c, {reply[i]}), 1u);
    }
    if (reply[1] != 0) {
      EXPECT_EQ(c.failure(), error::not_allowed);
      continue;
    }
    ASSERT_EQ(c.current(), client::state::connected);
    EXPECT_EQ(c.reply().atyp, reply[3]);
    EXPECT_EQ(c.reply().bnd_port, 40000);
    EXPECT_EQ(feed(c, {0}), 0u);
  }
  // An unassigned ATYP fails at the fourth byte (the fifth asked for too: a domain's length).
  for (const std::uint8_t atyp : B{0, 2, 5, 0xFF}) {
    client c = at_associate_reply();
    for (const std::uint8_t b : B{5, 0, 0, atyp}) EXPECT_EQ(feed(c, {b}), 1u);
    ASSERT_EQ(c.current(), client::state::failed) << int{atyp};
    EXPECT_EQ(c.failure(), error::malformed_reply);
  }
}

TEST(socks5_udp, header_written_for_each_family) {
  std::array<std::byte, udp_header_max_emit> buf{};
  EXPECT_EQ(udp_header_len(server4), 10u);
  EXPECT_EQ(udp_header_len(server6), 22u);
  std::size_t n = emit_udp_header(server4, 53, buf);
  EXPECT_EQ(n, 10u);
  B got;
  for (std::size_t i = 0; i < n; ++i) got.push_back(std::to_integer<std::uint8_t>(buf[i]));
  EXPECT_EQ(got, (B{0, 0, 0, 1, 198, 51, 100, 10, 0, 53}));
  n = emit_udp_header(server6, 0x1234, buf);
  EXPECT_EQ(n, 22u);
  got.clear();
  for (std::size_t i = 0; i < n; ++i) got.push_back(std::to_integer<std::uint8_t>(buf[i]));
  EXPECT_EQ(got, cat(cat({0, 0, 0, 4}, v6_octets), {0x12, 0x34}));
}

TEST(socks5_udp, header_round_trips) {
  for (const ip_addr& a : {server4, server6, any4, any6}) {
    std::array<std::byte, udp_header_max_emit + 3> buf{};
    const std::size_t n = emit_udp_header(a, 65535, buf);
    buf[n] = std::byte{'d'};
    const auto p = parse_udp_header(bytes{buf}.first(n + 1));
    ASSERT_EQ(p.status, parse_status::done);
    EXPECT_EQ(p.length, n);
    EXPECT_EQ(p.message.frag, 0);
    EXPECT_EQ(p.message.dst.addr, a);
    EXPECT_EQ(p.message.dst.port, 65535);
  }
}

TEST(socks5_udp, header_of_every_atyp_read) {
  const B data = {'D', 'N', 'S'};
  auto p = parse_udp_header(raw(cat({0, 0, 0, 1, 192, 0, 2, 53, 0, 53}, data)));
  ASSERT_EQ(p.status, parse_status::done);
  EXPECT_EQ(p.length, 10u);
  EXPECT_EQ(p.message.dst.atyp, atyp_ipv4);
  EXPECT_EQ(p.message.dst.addr, ip_addr{ipv4_addr::from_octets(192, 0, 2, 53)});
  EXPECT_EQ(p.message.dst.port, 53);

  p = parse_udp_header(raw(cat(cat(cat({0, 0, 0, 4}, v6_octets), {0, 53}), data)));
  ASSERT_EQ(p.status, parse_status::done);
  EXPECT_EQ(p.length, 22u);
  EXPECT_EQ(p.message.dst.atyp, atyp_ipv6);
  EXPECT_EQ(p.message.dst.addr, server6);

  p = parse_udp_header(raw(cat({0, 0, 0, 3, 4, 'h', 'o', 's', 't', 0, 53}, data)));
  ASSERT_EQ(p.status, parse_status::done);
  EXPECT_EQ(p.length, 11u);
  EXPECT_EQ(p.message.dst.atyp, atyp_domain);
  EXPECT_FALSE(p.message.dst.addr.has_value());
  EXPECT_EQ(p.message.dst.domain, "host");

  // No data at all is a datagram of 0 bytes.
  p = parse_udp_header(raw({0, 0, 0, 1, 192, 0, 2, 53, 0, 53}));
  EXPECT_EQ(p.status, parse_status::done);
  EXPECT_EQ(p.length, 10u);
}

TEST(socks5_udp, fragments_are_reported_as_such) {
  for (const std::uint8_t frag : B{1, 2, 0x7F, 0x80, 0x81, 0xFF}) {
    const auto p = parse_udp_header(raw({0, 0, frag, 1, 192, 0, 2, 53, 0, 53, 'x'}));
    ASSERT_EQ(p.status, parse_status::done) << int{frag};
    EXPECT_EQ(p.message.frag, frag);
  }
}

TEST(socks5_udp, garbage_headers_are_malformed) {
  // RSV is X'0000'.
  auto p = parse_udp_header(raw({1, 0, 0, 1, 192, 0, 2, 53, 0, 53}));
  EXPECT_EQ(p.status, parse_status::malformed);
  EXPECT_EQ(p.length, 1u);
  p = parse_udp_header(raw({0, 0xFF, 0, 1, 192, 0, 2, 53, 0, 53}));
  EXPECT_EQ(p.status, parse_status::malformed);
  EXPECT_EQ(p.length, 2u);
  for (const std::uint8_t atyp : B{0, 2, 5, 0x7F, 0xFF}) {
    p = parse_udp_header(raw({0, 0, 0, atyp, 192, 0, 2, 53, 0, 53}));
    EXPECT_EQ(p.status, parse_status::malformed) << int{atyp};
    EXPECT_EQ(p.length, 4u);
  }
  // A SOCKS5 reply or an HTTP answer sent to the relay's client is not a header.
  EXPECT_EQ(parse_udp_header(raw({5, 0, 0, 1, 0, 0, 0, 0, 0, 0})).status, parse_status::malformed);
  EXPECT_EQ(parse_udp_header(raw({'H', 'T', 'T', 'P'})).status, parse_status::malformed);
}

// Every header cut short, one byte more at a time: incomplete (a truncated datagram), needing
// more than it has and no more than the whole header; never a read past the datagram (ASan).
TEST(socks5_udp, truncated_headers_byte_by_byte) {
  const std::vector<B> headers = {
      {0, 0, 0, 1, 192, 0, 2, 53, 0, 53},
      cat(cat({0, 0, 0, 4}, v6_octets), {0, 53}),
      {0, 0, 0, 3, 4, 'h', 'o', 's', 't', 0, 53},
      {0, 0, 0, 3, 0, 0, 53},  // an empty name
      {0, 0, 9, 1, 192, 0, 2, 53, 0, 53},
  };
  for (const B& h : headers) {
    for (std::size_t i = 0; i < h.size(); ++i) {
      const std::vector<std::byte> cut = raw(B(h.begin(), h.begin() + static_cast<std::ptrdiff_t>(i)));
      const auto p = parse_udp_header(cut);
      ASSERT_EQ(p.status, parse_status::incomplete) << "prefix " << i;
      EXPECT_GT(p.length, i);
      EXPECT_LE(p.length, h.size());
    }
    const auto whole = parse_udp_header(raw(h));
    EXPECT_EQ(whole.status, parse_status::done);
    EXPECT_EQ(whole.length, h.size());
  }
}

}  // namespace
}  // namespace synack::tools::socks5
