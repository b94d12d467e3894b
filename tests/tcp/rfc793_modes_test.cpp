// The RFC's older rules for RST and SYN in the synchronized states, opt-in
// (tcp_config::rfc5961_rst / rfc5961_syn = false, FreeBSD's insecure_rst / insecure_syn = 1):
// RFC 793 §3.9 as RFC 9293 §3.10.7.4 describes it for stacks without RFC 5961. The default
// (RFC 5961 challenge ACKs) is tested in reset_test.cpp.
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;

// Sequence numbers after tcp_harness::drive_to(state), as offsets from the ISNs.
struct sync_case {
  tcp_state state;
  std::uint32_t snd_nxt;
  std::uint32_t rcv_nxt;
};

std::string case_name(const testing::TestParamInfo<sync_case>& info) {
  std::string n{to_string(info.param.state)};
  for (char& c : n) {
    if (c == '-') c = '_';
  }
  return n;
}

tcp_config rfc793() {
  tcp_config c;
  c.rfc5961_rst = false;
  c.rfc5961_syn = false;
  return c;
}

class rfc793_sync : public testing::TestWithParam<sync_case> {
 protected:
  rfc793_sync() : h(rfc793()) {}
  void SetUp() override { h.drive_to(GetParam().state); }
  seq_num nxt() const { return tcp_harness::l(GetParam().snd_nxt); }
  seq_num rcv() const { return tcp_harness::r(GetParam().rcv_nxt); }
  seq_num rcv_plus(std::uint32_t n) const { return rcv() + seq_len{n}; }
  void expect_reset_closed(test::source_loc loc = test::source_loc::current()) {
    h.expect_state(s::closed, loc);
    h.expect_last_arc(GetParam().state, s::closed, loc);
    h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::reset}, loc);
    EXPECT_EQ(h.conn().reason(), close_reason::reset);
    EXPECT_FALSE(h.conn().next_deadline().has_value());
  }
  void expect_unchanged(test::source_loc loc = test::source_loc::current()) {
    h.expect_state(GetParam().state, loc);
    h.expect_no_event(loc);
    EXPECT_EQ(h.conn().rcv().nxt, rcv());
  }

  tcp_harness h;
};

const sync_case sync_cases[] = {
    {s::established, 1, 1}, {s::fin_wait_1, 2, 1}, {s::fin_wait_2, 2, 1},
    {s::close_wait, 1, 2},  {s::closing, 2, 2},    {s::last_ack, 2, 2},
};

// ---- RST: anywhere in the window resets ------------------------------------------------------

TEST_P(rfc793_sync, rst_in_window_not_exact__resets_without_challenge_ack) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv_plus(1), .flags = rst}), rx_verdict::accepted);
  h.expect_nothing(at_ms(50));
  expect_reset_closed();
}

TEST_P(rfc793_sync, rst_at_last_octet_of_window__resets) {
  // RCV.WND 65535: RCV.NXT + 65534 is the right edge, still in the window.
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv_plus(65534), .flags = rst}), rx_verdict::accepted);
  h.expect_nothing(at_ms(50));
  expect_reset_closed();
}

TEST_P(rfc793_sync, rst_outside_window__still_silently_dropped) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv() - seq_len{1}, .flags = rst}), rx_verdict::out_of_window);
  EXPECT_EQ(h.send(at_ms(51), seg{.seq = rcv_plus(65535), .flags = rst}), rx_verdict::out_of_window);
  h.expect_nothing(at_ms(51));
  expect_unchanged();
}

// ---- SYN: in the window it is an error, answered with a reset ---------------------------------

TEST_P(rfc793_sync, syn_at_rcv_nxt__rst_ack_and_closed) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv(), .flags = syn, .mss = 1460}), rx_verdict::syn_synchronized);
  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, window 0 (FreeBSD's tcp_drop).
  h.expect_recv(at_ms(50), seg{.seq = nxt(), .ack = rcv(), .flags = rst, .window = 0}, true);
  h.expect_nothing(at_ms(50));
  expect_reset_closed();
}

TEST_P(rfc793_sync, syn_at_right_edge__rst_ack_and_closed) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv_plus(65534), .flags = syn}), rx_verdict::syn_synchronized);
  h.expect_recv(at_ms(50), seg{.seq = nxt(), .ack = rcv(), .flags = rst, .window = 0}, true);
  expect_reset_closed();
}

TEST_P(rfc793_sync, syn_outside_window__ack_connection_kept) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv_plus(65535), .flags = syn}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(50), seg{.seq = nxt(), .ack = rcv()});
  EXPECT_EQ(h.send(at_ms(60), seg{.seq = rcv() - seq_len{5000}, .flags = syn}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(60), seg{.seq = nxt(), .ack = rcv()});
  h.expect_nothing(at_ms(60));
  expect_unchanged();
}

INSTANTIATE_TEST_SUITE_P(rfc793, rfc793_sync, testing::ValuesIn(sync_cases), case_name);

// Each knob alone: the other keeps RFC 5961.
TEST(rfc793_modes, rst_mode_only__syn_still_gets_a_challenge_ack) {
  tcp_config c;
  c.rfc5961_rst = false;
  tcp_harness h(c);
  h.drive_to(s::established);
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = h.r(10), .flags = syn}), rx_verdict::syn_synchronized);
  h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(1)});
  h.expect_state(s::established);
}

TEST(rfc793_modes, syn_mode_only__rst_in_window_still_gets_a_challenge_ack) {
  tcp_config c;
  c.rfc5961_syn = false;
  tcp_harness h(c);
  h.drive_to(s::established);
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = h.r(10), .flags = rst}), rx_verdict::rst_in_window);
  h.expect_recv(at_ms(50), seg{.seq = h.l(1), .ack = h.r(1)});
  h.expect_state(s::established);
}

TEST(rfc793_modes, rst_in_window_in_syn_received__half_open_connection_goes) {
  tcp_harness h(rfc793());
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn, .mss = 1460});
  EXPECT_EQ(h.send(at_ms(10), seg{.seq = h.r(100), .flags = rst}), rx_verdict::accepted);
  h.expect_state(s::closed);
  h.expect_nothing(at_ms(10));
}

// A SYN at exactly RCV.NXT is in the window (and may not reopen).
TEST(rfc793_modes, time_wait_syn_at_rcv_nxt__rst_ack_and_closed) {
  tcp_harness h(rfc793());
  h.drive_to(s::time_wait);
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = h.r(2), .flags = syn}), rx_verdict::accepted);
  h.expect_recv(at_ms(50), seg{.seq = h.l(2), .ack = h.r(2), .flags = rst, .window = 0}, true);
  h.expect_nothing(at_ms(50));
  h.expect_state(s::closed);
}

// With MAY-2 off, a SYN anywhere in the window TIME-WAIT's ACKs advertise (RCV.WND as it
// began) is the RFC 793 error: reset. Beyond it, the ACK.
TEST(rfc793_modes, time_wait_syn_in_advertised_window__rst_ack_and_closed) {
  tcp_config cfg = rfc793();
  cfg.time_wait_reopen = false;
  tcp_harness h(cfg);
  h.drive_to(s::time_wait);
  const std::uint32_t wnd = h.conn().time_wait_state().rcv_wnd;
  ASSERT_GT(wnd, 1u);
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = h.r(2 + wnd), .flags = syn}), rx_verdict::time_wait);
  h.expect_recv(at_ms(50), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_state(s::time_wait);
  EXPECT_EQ(h.send(at_ms(60), seg{.seq = h.r(2 + wnd - 1), .flags = syn}), rx_verdict::accepted);
  h.expect_recv(at_ms(60), seg{.seq = h.l(2), .ack = h.r(2), .flags = rst, .window = 0}, true);
  h.expect_nothing(at_ms(60));
  h.expect_state(s::closed);
}

TEST(rfc793_modes, time_wait_syn_below_rcv_nxt__ack_as_before) {
  tcp_harness h(rfc793());
  h.drive_to(s::time_wait);
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = h.r(1), .flags = syn}), rx_verdict::time_wait);
  h.expect_recv(at_ms(50), seg{.seq = h.l(2), .ack = h.r(2)});
  h.expect_state(s::time_wait);
}

}  // namespace
}  // namespace synack::test
