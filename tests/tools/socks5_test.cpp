// The SOCKS5 client of `synack proxy --socks5` (tools/lib/socks5.hpp): the bytes it writes,
// every reply it can get, and replies that arrive one byte at a time.
#include "socks5.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <set>
#include <vector>

#include "tools/socks5_test_util.hpp"

namespace synack::tools::socks5 {
namespace {

using namespace test;  // NOLINT: the helpers of socks5_test_util.hpp

const ip_addr v4 = ipv4_addr::from_octets(198, 51, 100, 10);
const ip_addr v6 = ipv6_addr::from_groups({0x2001, 0xdb8, 0x100, 0, 0, 0, 0, 0x10});
const B ok_v4_reply = {5, 0, 0, 1, 10, 0, 0, 1, 0x9C, 0x40};  // BND 10.0.0.1:40000

// A client without credentials that has sent its CONNECT and waits for the reply.
client at_connect_reply(const ip_addr& dst = v4, std::uint16_t port = 8080) {
  client c(dst, port);
  (void)take_output(c);
  EXPECT_EQ(feed(c, {5, 0}), 2u);
  (void)take_output(c);
  EXPECT_EQ(c.current(), client::state::read);
  return c;
}

TEST(socks5, greeting_offers_no_auth_and_userpass_when_given_credentials) {
  client plain(v4, 80);
  EXPECT_EQ(out_of(plain), (B{5, 1, 0}));
  client with(v4, 80, credentials{"user", "pass"});
  EXPECT_EQ(out_of(with), (B{5, 2, 0, 2}));
}

TEST(socks5, connect_ipv4_without_auth) {
  client c(v4, 8080);
  EXPECT_EQ(take_output(c), (B{5, 1, 0}));
  EXPECT_EQ(c.current(), client::state::read);
  EXPECT_EQ(c.input_wanted(), 2u);
  EXPECT_EQ(feed(c, {5, 0}), 2u);
  EXPECT_EQ(take_output(c), (B{5, 1, 0, 1, 198, 51, 100, 10, 0x1F, 0x90}));
  EXPECT_EQ(c.input_wanted(), 5u);
  EXPECT_EQ(feed(c, ok_v4_reply), ok_v4_reply.size());
  ASSERT_EQ(c.current(), client::state::connected);
  EXPECT_EQ(c.reply().atyp, atyp_ipv4);
  EXPECT_EQ(c.reply().bnd_addr, ip_addr{ipv4_addr::from_octets(10, 0, 0, 1)});
  EXPECT_EQ(c.reply().bnd_port, 40000);
  EXPECT_EQ(c.input_wanted(), 0u);
}

TEST(socks5, connect_ipv6_destination_and_bound_address) {
  client c = at_connect_reply(v6, 443);
  const B reply = {5, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0xBB};
  EXPECT_EQ(feed(c, reply), reply.size());
  ASSERT_EQ(c.current(), client::state::connected);
  EXPECT_EQ(c.reply().bnd_addr, ip_addr{ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})});
  EXPECT_EQ(c.reply().bnd_port, 443);

  client d(v6, 443);
  (void)take_output(d);
  (void)feed(d, {5, 0});
  EXPECT_EQ(take_output(d), (B{5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
                               0x01, 0xBB}));
}

TEST(socks5, bound_address_as_a_domain_name) {
  client c = at_connect_reply();
  const B reply = {5, 0, 0, 3, 4, 'h', 'o', 's', 't', 0x00, 0x50};
  EXPECT_EQ(feed(c, reply), reply.size());
  ASSERT_EQ(c.current(), client::state::connected);
  EXPECT_FALSE(c.reply().bnd_addr.has_value());
  EXPECT_EQ(c.reply().bnd_domain, "host");
  EXPECT_EQ(c.reply().bnd_port, 80);
}

TEST(socks5, username_password_accepted) {
  client c(v4, 80, credentials{"user", "secret"});
  (void)take_output(c);
  EXPECT_EQ(feed(c, {5, 2}), 2u);
  EXPECT_EQ(take_output(c), (B{1, 4, 'u', 's', 'e', 'r', 6, 's', 'e', 'c', 'r', 'e', 't'}));
  EXPECT_EQ(c.input_wanted(), 2u);
  EXPECT_EQ(feed(c, {1, 0}), 2u);
  EXPECT_EQ(take_output(c), (B{5, 1, 0, 1, 198, 51, 100, 10, 0, 80}));
  (void)feed(c, ok_v4_reply);
  EXPECT_EQ(c.current(), client::state::connected);
}

TEST(socks5, credentials_given_but_server_wants_none) {
  client c(v4, 80, credentials{"user", "secret"});
  (void)take_output(c);
  (void)feed(c, {5, 0});
  EXPECT_EQ(take_output(c), (B{5, 1, 0, 1, 198, 51, 100, 10, 0, 80}));
}

TEST(socks5, username_password_rejected) {
  for (const std::uint8_t status : B{1, 2, 0xFF}) {
    client c(v4, 80, credentials{"user", "wrong"});
    (void)take_output(c);
    (void)feed(c, {5, 2});
    (void)take_output(c);
    EXPECT_EQ(feed(c, {1, status}), 2u);
    ASSERT_EQ(c.current(), client::state::failed);
    EXPECT_EQ(c.failure(), error::auth_rejected);
  }
}

TEST(socks5, no_acceptable_method) {
  client c(v4, 80);
  (void)take_output(c);
  (void)feed(c, {5, 0xFF});
  ASSERT_EQ(c.current(), client::state::failed);
  EXPECT_EQ(c.failure(), error::no_acceptable_method);
}

TEST(socks5, a_method_not_offered_is_malformed) {
  // Userpass chosen though no credentials were offered; GSSAPI (0x01) never offered.
  for (const std::uint8_t m : B{0x02, 0x01, 0x80}) {
    client c(v4, 80);
    (void)take_output(c);
    (void)feed(c, {5, m});
    ASSERT_EQ(c.current(), client::state::failed) << int{m};
    EXPECT_EQ(c.failure(), error::malformed_reply);
  }
}

TEST(socks5, every_rep_code_maps_to_its_reason) {
  for (const auto& code : rep_codes) {
    client c = at_connect_reply();
    expect_rep_failure(c, code.first, code.second);
    EXPECT_EQ(error_from_rep(code.first), code.second);
  }
  // Unassigned codes are not a reason of RFC 1928: the reply is malformed.
  for (const std::uint8_t rep : B{0x09, 0x7F, 0xFF}) {
    client c = at_connect_reply();
    (void)feed(c, {5, rep, 0, 1, 0, 0, 0, 0, 0, 0});
    ASSERT_EQ(c.current(), client::state::failed);
    EXPECT_EQ(c.failure(), error::malformed_reply);
    EXPECT_EQ(c.failure_rep(), rep);
    EXPECT_FALSE(error_from_rep(rep).has_value());
  }
  EXPECT_FALSE(error_from_rep(0x00).has_value());
}

TEST(socks5, wrong_versions_and_address_types_are_malformed) {
  {
    client c(v4, 80);
    (void)take_output(c);
    EXPECT_EQ(feed(c, {4, 0, 9}), 2u);  // what it asked for, never more
    EXPECT_EQ(c.failure(), error::malformed_reply);
  }
  {
    client c(v4, 80, credentials{"u", "p"});
    (void)take_output(c);
    (void)feed(c, {5, 2});
    (void)take_output(c);
    (void)feed(c, {5, 0});  // the subnegotiation's version is 1 (RFC 1929)
    EXPECT_EQ(c.current(), client::state::failed);
    EXPECT_EQ(c.failure(), error::malformed_reply);
  }
  {
    client c = at_connect_reply();
    (void)feed(c, {0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
    EXPECT_EQ(c.failure(), error::malformed_reply);
  }
  for (const std::uint8_t atyp : B{0, 2, 5, 0xFF}) {
    client c = at_connect_reply();
    EXPECT_EQ(feed(c, {5, 0, 0, atyp, 0, 0, 0, 0, 0, 0}), 5u);  // the first 5 it asked for
    ASSERT_EQ(c.current(), client::state::failed);
    EXPECT_EQ(c.failure(), error::malformed_reply);
  }
}

// Every reply split into single bytes: the client asks for exactly what the reply still needs,
// and is done only at its last byte.
TEST(socks5, replies_one_byte_at_a_time) {
  const std::vector<B> replies = {
      ok_v4_reply,
      {5, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0xBB},
      {5, 0, 0, 3, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'o', 'r', 'g', 0x1F, 0x90},
      {5, 0, 0, 3, 0, 0x1F, 0x90},  // an empty name: still well-formed
      {5, 5, 0, 1, 0, 0, 0, 0, 0, 0},
  };
  for (const B& reply : replies) {
    client c(v4, 80, credentials{"user", "pass"});
    (void)take_output(c);
    for (const std::uint8_t b : B{5, 2}) {
      EXPECT_GE(c.input_wanted(), 1u);
      EXPECT_EQ(feed(c, {b}), 1u);
    }
    (void)take_output(c);
    for (const std::uint8_t b : B{1, 0}) EXPECT_EQ(feed(c, {b}), 1u);
    (void)take_output(c);
    for (std::size_t i = 0; i < reply.size(); ++i) {
      ASSERT_EQ(c.current(), client::state::read) << "byte " << i;
      EXPECT_GE(c.input_wanted(), 1u);
      EXPECT_LE(c.input_wanted(), reply.size() - i) << "byte " << i;
      EXPECT_EQ(feed(c, {reply[i]}), 1u);
    }
    if (reply[1] == 0) {
      ASSERT_EQ(c.current(), client::state::connected);
      EXPECT_EQ(c.reply().bnd_port, (reply[reply.size() - 2] << 8) | reply[reply.size() - 1]);
    } else {
      EXPECT_EQ(c.failure(), error::connection_refused);
    }
  }
}

// What follows the reply in one read (the destination's first bytes) is the caller's.
TEST(socks5, bytes_after_the_reply_are_not_taken) {
  client c = at_connect_reply();
  B in = ok_v4_reply;
  in.insert(in.end(), {'S', 'S', 'H', '-'});
  EXPECT_EQ(feed(c, in), ok_v4_reply.size());
  EXPECT_EQ(c.current(), client::state::connected);
  EXPECT_EQ(feed(c, {'x'}), 0u);
}

// Input while the client has something to write is not taken either.
TEST(socks5, input_in_the_write_state_waits) {
  client c(v4, 80);
  EXPECT_EQ(feed(c, {5, 0}), 0u);
  EXPECT_EQ(c.current(), client::state::write);
}

TEST(socks5, output_sent_in_pieces) {
  client c(v4, 80, credentials{"user", "pass"});
  c.on_output_sent(1);
  EXPECT_EQ(out_of(c), (B{2, 0, 2}));
  c.on_output_sent(2);
  EXPECT_EQ(c.current(), client::state::write);
  c.on_output_sent(1);
  EXPECT_EQ(c.current(), client::state::read);
}

TEST(socks5, server_closing_mid_reply) {
  client c = at_connect_reply();
  (void)feed(c, {5, 0, 0});
  c.on_eof();
  ASSERT_EQ(c.current(), client::state::failed);
  EXPECT_EQ(c.failure(), error::closed);
  client d(v4, 80);  // before the greeting was even sent
  d.on_eof();
  EXPECT_EQ(d.failure(), error::closed);
}

TEST(socks5, pure_parsers_report_the_length_needed) {
  auto p = parse_connect_reply(raw({5, 0, 0}));
  EXPECT_EQ(p.status, parse_status::incomplete);
  EXPECT_EQ(p.length, 5u);
  p = parse_connect_reply(raw({5, 0, 0, 1}));
  EXPECT_EQ(p.length, 10u);
  p = parse_connect_reply(raw({5, 0, 0, 4, 0}));
  EXPECT_EQ(p.length, 22u);
  p = parse_connect_reply(raw({5, 0, 0, 3, 200}));
  EXPECT_EQ(p.length, 207u);
  p = parse_connect_reply(raw({5, 0, 0, 3, 1, 'a', 0, 1, 0xEE}));  // one byte too many: not its own
  EXPECT_EQ(p.status, parse_status::done);
  EXPECT_EQ(p.length, 8u);
  EXPECT_EQ(parse_method_selection({}).length, 2u);
  EXPECT_EQ(parse_method_selection(raw({5})).status, parse_status::incomplete);
  EXPECT_EQ(parse_method_selection(raw({6})).status, parse_status::malformed);
  EXPECT_EQ(parse_auth_status(raw({1, 0})).status, parse_status::done);
  EXPECT_EQ(parse_auth_status(raw({5, 0})).status, parse_status::malformed);
}

TEST(socks5, credentials_lengths) {
  EXPECT_FALSE(check_credentials("u", "p").has_value());
  EXPECT_FALSE(check_credentials(std::string(255, 'u'), std::string(255, 'p')).has_value());
  EXPECT_TRUE(check_credentials("", "p").has_value());
  EXPECT_TRUE(check_credentials("u", "").has_value());
  EXPECT_TRUE(check_credentials(std::string(256, 'u'), "p").has_value());
  EXPECT_TRUE(check_credentials("u", std::string(256, 'p')).has_value());
}

TEST(socks5, every_error_has_its_own_text) {
  std::set<std::string_view> texts;
  for (std::uint8_t e = 1; e <= static_cast<std::uint8_t>(error::closed); ++e) {
    const auto t = to_string(static_cast<error>(e));
    EXPECT_NE(t, "?");
    texts.insert(t);
  }
  EXPECT_EQ(texts.size(), static_cast<std::size_t>(error::closed));
}

}  // namespace
}  // namespace synack::tools::socks5
