// RFC 5961 in every synchronized state: RST (§3), SYN (§4) and ACK (§5) acceptability, the
// per-connection challenge-ACK budget (§7), and ABORT (RFC 9293 §3.10.5).
#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;

// Sequence numbers after tcp_harness::drive_to(state), as offsets from the ISNs.
struct sync_case {
  tcp_state state;
  std::uint32_t snd_una;
  std::uint32_t snd_nxt;
  std::uint32_t rcv_nxt;
  bool abort_sends_rst;  // RFC 9293 §3.10.5
};

std::string case_name(const testing::TestParamInfo<sync_case>& info) {
  std::string n{to_string(info.param.state)};
  for (char& c : n) {
    if (c == '-') c = '_';
  }
  return n;
}

class reset_sync : public testing::TestWithParam<sync_case> {
 protected:
  explicit reset_sync(tcp_config cfg = {}) : h(cfg) {}
  void SetUp() override { h.drive_to(GetParam().state); }
  seq_num una() const { return tcp_harness::l(GetParam().snd_una); }
  seq_num nxt() const { return tcp_harness::l(GetParam().snd_nxt); }
  seq_num rcv() const { return tcp_harness::r(GetParam().rcv_nxt); }
  seq_num rcv_plus(std::uint32_t n) const { return rcv() + seq_len{n}; }
  // The challenge ACK of RFC 5961: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
  seg challenge() const { return seg{.seq = nxt(), .ack = rcv()}; }
  void expect_unchanged(test::source_loc loc = test::source_loc::current()) {
    h.expect_state(GetParam().state, loc);
    h.expect_no_event(loc);
    EXPECT_EQ(h.conn().rcv().nxt, rcv());
  }

  tcp_harness h;
};

const sync_case sync_cases[] = {
    {s::established, 1, 1, 1, true}, {s::fin_wait_1, 1, 2, 1, true}, {s::fin_wait_2, 2, 2, 1, true},
    {s::close_wait, 1, 1, 2, true},  {s::closing, 1, 2, 2, false},   {s::last_ack, 1, 2, 2, false},
};

// ---- RFC 5961 §3: RST -----------------------------------------------------------------------

TEST_P(reset_sync, rst_at_rcv_nxt__closed_connection_reset) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv(), .flags = rst}), rx_verdict::accepted);
  h.expect_state(s::closed);
  h.expect_last_arc(GetParam().state, s::closed);
  h.expect_nothing(at_ms(50));
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::reset});
  h.expect_no_event();
  EXPECT_EQ(h.conn().reason(), close_reason::reset);
  EXPECT_FALSE(h.conn().next_deadline().has_value());  // no retransmission after the reset
  h.expect_nothing(at_s(10));
  std::string_view x = "x";
  EXPECT_EQ(h.conn().send(std::as_bytes(std::span{x.data(), x.size()})).error(), tcp_error::connection_reset);
}

TEST_P(reset_sync, rst_with_ack_at_rcv_nxt__closed_connection_reset) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv(), .ack = una(), .flags = rst}), rx_verdict::accepted);
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::reset});
}

TEST_P(reset_sync, rst_in_window_not_exact__challenge_ack) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv_plus(1), .flags = rst}), rx_verdict::rst_in_window);
  h.expect_recv(at_ms(50), challenge());
  h.expect_nothing(at_ms(50));
  expect_unchanged();
  // The last octet of the window (RCV.WND 65535) is still in it.
  EXPECT_EQ(h.send(at_ms(60), seg{.seq = rcv_plus(65534), .ack = una(), .flags = rst}), rx_verdict::rst_in_window);
  h.expect_recv(at_ms(60), challenge());
  expect_unchanged();
}

TEST_P(reset_sync, rst_outside_window__silently_dropped) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv() - seq_len{1}, .flags = rst}), rx_verdict::out_of_window);
  h.expect_nothing(at_ms(50));
  EXPECT_EQ(h.send(at_ms(51), seg{.seq = rcv_plus(65535), .flags = rst}), rx_verdict::out_of_window);
  h.expect_nothing(at_ms(51));
  EXPECT_EQ(h.send(at_ms(52), seg{.seq = rcv_plus(0x80000000u), .flags = rst}), rx_verdict::out_of_window);
  h.expect_nothing(at_ms(52));
  expect_unchanged();
  EXPECT_EQ(h.conn().challenge_acks_suppressed(), 0u);  // dropped, not rate limited
}

// ---- RFC 5961 §4: SYN -----------------------------------------------------------------------

TEST_P(reset_sync, syn_in_window__challenge_ack_never_reset) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv_plus(10), .flags = syn, .mss = 1460}), rx_verdict::syn_synchronized);
  h.expect_recv(at_ms(50), challenge());
  h.expect_nothing(at_ms(50));
  expect_unchanged();
  // A SYN exactly at RCV.NXT, with an ACK: the same.
  EXPECT_EQ(h.send(at_ms(60), seg{.seq = rcv(), .ack = una(), .flags = syn}), rx_verdict::syn_synchronized);
  h.expect_recv(at_ms(60), challenge());
  expect_unchanged();
}

TEST_P(reset_sync, syn_outside_window__ack_all_the_same) {
  // "irrespective of the sequence number": the sequence check already answers with an ACK.
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv() - seq_len{5000}, .flags = syn}), rx_verdict::out_of_window);
  h.expect_recv(at_ms(50), challenge());
  h.expect_nothing(at_ms(50));
  expect_unchanged();
}

// ---- RFC 5961 §5: ACK acceptability ---------------------------------------------------------

TEST_P(reset_sync, ack_beyond_snd_nxt__ack_sent_segment_dropped) {
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv(), .ack = nxt() + seq_len{1}}), rx_verdict::ack_too_new);
  h.expect_recv(at_ms(50), challenge());
  h.expect_nothing(at_ms(50));
  expect_unchanged();
  EXPECT_EQ(h.conn().snd().una, una());
}

TEST_P(reset_sync, ack_older_than_max_snd_wnd__ack_sent_segment_dropped) {
  // MAX.SND.WND is 65535: SND.UNA - 65536 is too old, SND.UNA - 65535 is a harmless duplicate.
  EXPECT_EQ(h.send(at_ms(50), seg{.seq = rcv(), .ack = una() - seq_len{65536}, .window = 10}), rx_verdict::ack_too_old);
  h.expect_recv(at_ms(50), challenge());
  h.expect_nothing(at_ms(50));
  EXPECT_EQ(h.conn().snd().wnd, 65535u);  // dropped: no window update either
  EXPECT_EQ(h.send(at_ms(60), seg{.seq = rcv(), .ack = una() - seq_len{65535}}), rx_verdict::accepted);
  h.expect_nothing(at_ms(60));
  expect_unchanged();
  EXPECT_EQ(h.conn().snd().una, una());
}

// ---- RFC 5961 §7: the per-connection budget ---------------------------------------------------

struct limited : reset_sync {
  static tcp_config cfg() {
    tcp_config c;
    c.challenge_ack_limit = 3;
    // Shorter than the RTO (1 s), so no FIN retransmission interleaves.
    c.challenge_ack_window = std::chrono::milliseconds(500);
    return c;
  }
  limited() : reset_sync(cfg()) {}
};

TEST_P(limited, challenge_acks__limit_per_window_then_sent_again) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(h.send(at_ms(100), seg{.seq = rcv_plus(7), .flags = rst}), rx_verdict::rst_in_window);
    h.expect_recv(at_ms(100), challenge());
  }
  // The fourth within the window: suppressed and counted, whatever provoked it.
  EXPECT_EQ(h.send(at_ms(100), seg{.seq = rcv_plus(7), .flags = rst}), rx_verdict::rst_in_window);
  h.expect_nothing(at_ms(100));
  EXPECT_EQ(h.conn().challenge_acks_suppressed(), 1u);
  EXPECT_EQ(h.send(at_ms(300), seg{.seq = rcv_plus(7), .flags = syn}), rx_verdict::syn_synchronized);
  h.expect_nothing(at_ms(300));
  EXPECT_EQ(h.send(at_ms(599), seg{.seq = rcv(), .ack = nxt() + seq_len{9}}), rx_verdict::ack_too_new);
  h.expect_nothing(at_ms(599));
  EXPECT_EQ(h.conn().challenge_acks_suppressed(), 3u);
  // One window (500 ms) after the first: the budget is back.
  EXPECT_EQ(h.send(at_ms(600), seg{.seq = rcv_plus(7), .flags = rst}), rx_verdict::rst_in_window);
  h.expect_recv(at_ms(600), challenge());
  EXPECT_EQ(h.conn().challenge_acks_suppressed(), 3u);
  expect_unchanged();
}

TEST_P(limited, challenge_ack_budget__not_shared_between_connections) {
  tcp_harness other(cfg());
  other.drive_to(GetParam().state);
  for (int i = 0; i < 3; ++i) {
    h.send(at_ms(100), seg{.seq = rcv_plus(7), .flags = rst});
    h.expect_recv(at_ms(100), challenge());
  }
  h.send(at_ms(100), seg{.seq = rcv_plus(7), .flags = rst});
  h.expect_nothing(at_ms(100));
  EXPECT_EQ(h.conn().challenge_acks_suppressed(), 1u);
  // CVE-2016-5696: a global counter would leak; the other connection still answers.
  other.send(at_ms(100), seg{.seq = rcv_plus(7), .flags = rst});
  other.expect_recv(at_ms(100), challenge());
  EXPECT_EQ(other.conn().challenge_acks_suppressed(), 0u);
}

// ---- RFC 9293 §3.10.5: ABORT ---------------------------------------------------------------

TEST_P(reset_sync, abort__rst_at_snd_nxt_only_where_the_rfc_says) {
  h.conn().abort(at_ms(50));
  if (GetParam().abort_sends_rst) {
    h.expect_recv(at_ms(50), seg{.seq = nxt(), .flags = rst});
  }
  h.expect_nothing(at_ms(50));
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::aborted});
  EXPECT_EQ(h.conn().reason(), close_reason::aborted);
  EXPECT_FALSE(h.conn().next_deadline().has_value());
  // After the TCB is gone a segment from the peer is the owner's (CLOSED: reset_for_closed).
  EXPECT_EQ(h.send(at_ms(60), seg{.seq = rcv(), .ack = una()}), rx_verdict::no_connection);
  h.expect_nothing(at_ms(60));
}

INSTANTIATE_TEST_SUITE_P(synchronized, reset_sync, testing::ValuesIn(sync_cases), case_name);
INSTANTIATE_TEST_SUITE_P(synchronized, limited, testing::ValuesIn(sync_cases), case_name);

// ---- ABORT in the other states ---------------------------------------------------------------

TEST(reset, abort_in_time_wait__nothing_sent) {
  tcp_harness h;
  h.drive_to(s::time_wait);
  h.conn().abort(at_ms(5));
  h.expect_nothing(at_ms(5));
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::aborted});
}

TEST(reset, abort_in_syn_sent__nothing_sent) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn});
  h.conn().abort(at_ms(5));
  h.expect_nothing(at_ms(5));
  h.expect_nothing(at_s(10));  // no SYN retransmission either
  h.expect_state(s::closed);
  h.expect_event(tcp_event{tcp_event_kind::closed, close_reason::aborted});
}

TEST(reset, abort_in_syn_received__rst_at_snd_nxt) {
  tcp_harness h;
  ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
  h.send(at_ms(0), seg{.seq = remote_iss, .flags = syn, .mss = 1460});
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .ack = h.r(1), .flags = syn});
  h.conn().abort(at_ms(5));
  h.expect_recv(at_ms(5), seg{.seq = h.l(1), .flags = rst});
  h.expect_nothing(at_ms(5));
  h.expect_state(s::closed);
}

TEST(reset, abort_with_data_in_flight__rst_at_the_highest_sequence_sent) {
  tcp_config cfg;
  cfg.no_delay = true;  // both segments go out at once (Nagle would hold the short one)
  tcp_harness h(cfg);
  h.drive_to(s::established);
  const std::string a(1460, 'a');
  const std::string b(540, 'b');
  EXPECT_EQ(h.write(a + b), 2000u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .payload = a});
  h.expect_recv(at_ms(0), seg{.seq = h.l(1461), .ack = h.r(1), .flags = psh, .payload = b});
  // The RTO goes back to SND.UNA; only the first segment has gone out again when the user
  // aborts. The peer may hold all 2000 bytes: SND.NXT of §3.10.5 is the highest sent.
  h.expect_recv(at_ms(1000), seg{.seq = h.l(1), .ack = h.r(1), .payload = a});
  h.conn().abort(at_ms(1000));
  h.expect_recv(at_ms(1000), seg{.seq = h.l(2001), .flags = rst});
  h.expect_nothing(at_ms(1000));
}

TEST(reset, close_with_unread_data__rst_instead_of_fin) {
  tcp_harness h;
  h.drive_to(s::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = "unread"});
  h.expect_recv(at_ms(41), seg{.seq = h.l(1), .ack = h.r(7)});  // delayed ACK
  ASSERT_TRUE(h.conn().close(at_ms(42)).has_value());
  // RFC 2525 §2.17: data would be lost silently; the peer is told with a RST.
  h.expect_recv(at_ms(42), seg{.seq = h.l(1), .flags = rst});
  h.expect_nothing(at_ms(42));
  h.expect_state(s::closed);
  EXPECT_EQ(h.conn().reason(), close_reason::aborted);
}

}  // namespace
}  // namespace synack::test
