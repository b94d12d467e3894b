// The connection lifecycle, parameterised by family (issue #14): the same exact segments over
// IPv4 and IPv6 — passive open, data both ways, the four-way close from either side, TIME-WAIT
// for 2 x MSL, a reset for a closed port, a challenge ACK for a SYN on an established
// connection. Only the addresses, the IP header and the MSS (1460 / 1440) differ.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stack_harness.hpp"
#include "synack/wire/ipv6.hpp"

namespace synack::stest {
namespace {

enum class family { v4, v6 };

std::string family_name(const testing::TestParamInfo<family>& i) { return i.param == family::v4 ? "ipv4" : "ipv6"; }

class lifecycle_by_family : public testing::TestWithParam<family> {
 protected:
  lifecycle_by_family() : t_(config()) {}

  [[nodiscard]] bool v6() const { return GetParam() == family::v6; }
  [[nodiscard]] ip_addr me() const { return v6() ? ip_addr{*ipv6_addr::parse("2001:db8::1")} : ip_addr{host_ip}; }
  [[nodiscard]] ip_addr peer() const { return v6() ? ip_addr{*ipv6_addr::parse("2001:db8::2")} : ip_addr{peer_ip}; }
  [[nodiscard]] std::uint16_t mss() const { return v6() ? 1440 : 1460; }

  static host_config config() {
    host_config c = default_config();
    c.addresses = {host_address{*ipv6_addr::parse("2001:db8::1"), 64}};
    c.tcp.timestamps = false;
    return c;
  }

  // The peer's segment as a packet of the parameter's family.
  [[nodiscard]] std::vector<std::byte> packet(const seg& s) const {
    std::string storage;
    const tcp_repr r = stack_harness::to_repr(s, s.peer, s.local, storage);
    const std::size_t hl = v6() ? 40 : 20;
    std::vector<std::byte> b(hl + r.buffer_len());
    if (v6()) {
      ipv6_repr ip;
      ip.src = peer().v6();
      ip.dst = me().v6();
      ip.payload_len = static_cast<std::uint16_t>(r.buffer_len());
      ip.emit(b);
    } else {
      ipv4_repr ip;
      ip.src = peer_ip;
      ip.dst = host_ip;
      ip.protocol = ip_proto::tcp;
      ip.payload_len = static_cast<std::uint16_t>(r.buffer_len());
      ip.emit(b);
    }
    r.emit(mutable_bytes{b}.subspan(hl), peer(), me());
    return b;
  }
  void send(instant at, const seg& s) {
    const auto p = packet(s);
    t_.feed(at, p);
  }
  // The next packet, which must be a TCP segment of the parameter's family, to the peer, with
  // a valid checksum; nullopt if the host sends nothing.
  std::optional<tcp_repr> poll(instant at) {
    t_.advance(at);
    buf_.assign(t_.h().max_packet_len(), std::byte{0});
    auto n = t_.h().poll_transmit(at, buf_);
    if (!n) return std::nullopt;
    const bytes pkt{buf_.data(), *n};
    EXPECT_EQ(load_u8(&pkt[0]) >> 4, v6() ? 6 : 4);
    const std::size_t hl = v6() ? 40 : 20;
    auto v = tcp_view::parse(pkt.subspan(hl));
    EXPECT_TRUE(v.has_value());
    if (!v) return std::nullopt;
    tcp_repr r;
    EXPECT_FALSE(tcp_repr::parse(*v, me(), peer(), r).has_value()) << "bad checksum";
    return r;
  }
  tcp_repr expect(instant at, std::uint8_t flags, seq_num seq, std::optional<seq_num> ack, std::size_t len = 0) {
    auto r = poll(at);
    EXPECT_TRUE(r.has_value()) << "expected a segment";
    if (!r) return tcp_repr{};
    EXPECT_EQ(r->wire_flags(), flags) << describe(*r);
    EXPECT_EQ(r->seq.raw, seq.raw) << describe(*r);
    EXPECT_EQ(r->ack.has_value(), ack.has_value()) << describe(*r);
    if (r->ack && ack) {
      EXPECT_EQ(r->ack->raw, ack->raw) << describe(*r);
    }
    EXPECT_EQ(r->payload.size(), len) << describe(*r);
    return *r;
  }
  [[nodiscard]] four_tuple tuple(std::uint16_t local = host_port, std::uint16_t remote = peer_port) const {
    return four_tuple{me(), local, peer(), remote};
  }

  stack_harness t_;
  std::vector<std::byte> buf_;
};

INSTANTIATE_TEST_SUITE_P(families, lifecycle_by_family, testing::Values(family::v4, family::v6), family_name);

TEST_P(lifecycle_by_family, passive_open_data_and_peer_closes_first) {
  auto l = *t_.h().listen(host_port, 8);
  send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = mss()});
  auto p = poll(at_ms(0));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->wire_flags(), tcp_flag::syn | tcp_flag::ack);
  EXPECT_EQ(p->options.mss, std::optional<std::uint16_t>{mss()});
  const seq_num iss = p->seq;
  EXPECT_EQ(t_.h().state(tuple()), tcp_state::syn_received);
  send(at_ms(1), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}});
  EXPECT_EQ(t_.h().state(tuple()), tcp_state::established);
  auto c = *t_.h().accept(l);
  send(at_ms(2), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .flags = tcp_flag::psh, .payload = "ping"});
  std::array<std::byte, 8> b{};
  ASSERT_EQ(*t_.h().recv(c, b), 4u);
  ASSERT_EQ(*t_.h().send(c, std::as_bytes(std::span{"pong", 4})), 4u);
  expect(at_ms(2), tcp_flag::ack | tcp_flag::psh, iss + seq_len{1}, peer_iss + seq_len{5}, 4);
  send(at_ms(3), seg{.seq = peer_iss + seq_len{5}, .ack = iss + seq_len{5}, .flags = tcp_flag::fin});
  expect(at_ms(3), tcp_flag::ack, iss + seq_len{5}, peer_iss + seq_len{6});
  EXPECT_EQ(t_.h().state(tuple()), tcp_state::close_wait);
  ASSERT_TRUE(t_.h().close(at_ms(4), c).has_value());
  expect(at_ms(4), tcp_flag::ack | tcp_flag::fin, iss + seq_len{5}, peer_iss + seq_len{6});
  EXPECT_EQ(t_.h().state(tuple()), tcp_state::last_ack);
  send(at_ms(5), seg{.seq = peer_iss + seq_len{6}, .ack = iss + seq_len{6}});
  EXPECT_EQ(t_.h().state(tuple()), std::nullopt);
  EXPECT_EQ(t_.h().lookup_time_wait(tuple()), nullptr) << "the side that closes second holds no TIME-WAIT";
  EXPECT_FALSE(poll(at_ms(5)).has_value());
}

TEST_P(lifecycle_by_family, we_close_first_and_hold_time_wait_for_2msl) {
  auto l = *t_.h().listen(host_port, 8);
  send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = mss()});
  const seq_num iss = poll(at_ms(0))->seq;
  send(at_ms(1), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}});
  auto c = *t_.h().accept(l);
  ASSERT_TRUE(t_.h().close(at_ms(2), c).has_value());
  expect(at_ms(2), tcp_flag::ack | tcp_flag::fin, iss + seq_len{1}, peer_iss + seq_len{1});
  EXPECT_EQ(t_.h().state(tuple()), tcp_state::fin_wait_1);
  send(at_ms(3), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{2}});
  EXPECT_EQ(t_.h().state(tuple()), tcp_state::fin_wait_2);
  send(at_ms(4), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{2}, .flags = tcp_flag::fin});
  expect(at_ms(4), tcp_flag::ack, iss + seq_len{2}, peer_iss + seq_len{2});
  const time_wait_record* r = t_.h().lookup_time_wait(tuple());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->expiry, at_ms(4) + 2 * t_.h().config().tcp.msl);
  // A retransmitted FIN is acknowledged again from the record (and restarts 2 x MSL).
  send(at_ms(5), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{2}, .flags = tcp_flag::fin});
  expect(at_ms(5), tcp_flag::ack, iss + seq_len{2}, peer_iss + seq_len{2});
  t_.advance(at_ms(5) + 2 * t_.h().config().tcp.msl - duration{1});
  EXPECT_NE(t_.h().lookup_time_wait(tuple()), nullptr);
  t_.advance(at_ms(5) + 2 * t_.h().config().tcp.msl);
  EXPECT_EQ(t_.h().lookup_time_wait(tuple()), nullptr);
}

TEST_P(lifecycle_by_family, active_open_and_refused_by_reset) {
  auto c = t_.h().connect(at_ms(0), peer(), 443);
  ASSERT_TRUE(c.has_value());
  auto syn = poll(at_ms(0));
  ASSERT_TRUE(syn.has_value());
  EXPECT_EQ(syn->wire_flags(), tcp_flag::syn);
  EXPECT_EQ(syn->options.mss, std::optional<std::uint16_t>{mss()});
  EXPECT_EQ(t_.h().status(*c)->tuple.local_addr, me());
  send(at_ms(10), seg{.seq = seq_num{0}, .ack = syn->seq + seq_len{1}, .flags = tcp_flag::rst, .peer = 443,
                      .local = syn->src_port});
  EXPECT_EQ(t_.h().state(*c), tcp_state::closed);
  EXPECT_EQ(t_.h().status(*c)->reason, close_reason::refused);
}

TEST_P(lifecycle_by_family, closed_port_reset_and_syn_on_established_gets_a_challenge_ack) {
  send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .local = 81});
  expect(at_ms(0), tcp_flag::rst | tcp_flag::ack, seq_num{0}, peer_iss + seq_len{1});
  auto l = *t_.h().listen(host_port, 8);
  (void)l;
  send(at_ms(1), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = mss()});
  const seq_num iss = poll(at_ms(1))->seq;
  send(at_ms(2), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}});
  // RFC 5961 §4: a SYN on an established connection is answered with an ACK, never a reset.
  send(at_ms(3), seg{.seq = peer_iss + seq_len{100}, .flags = tcp_flag::syn});
  expect(at_ms(3), tcp_flag::ack, iss + seq_len{1}, peer_iss + seq_len{1});
  EXPECT_EQ(t_.h().state(tuple()), tcp_state::established);
}

}  // namespace
}  // namespace synack::stest
