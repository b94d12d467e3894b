// RFC 6191 §2 on the compact TIME-WAIT record: which SYNs may start a new incarnation, with
// and without timestamps on either incarnation. Anything else gets the RFC 5961 §4 ACK.
#include <gtest/gtest.h>

#include "synack/tcp/time_wait.hpp"

namespace synack {
namespace {

constexpr seq_num rcv_nxt{0xFFFFFF00u};  // the old incarnation's RCV.NXT, near the wrap

time_wait_record record(bool ts_on, std::uint32_t ts_recent = 5000) {
  time_wait_record r;
  r.tuple = four_tuple{ipv4_addr::from_octets(192, 0, 2, 1), 80, ipv4_addr::from_octets(192, 0, 2, 2), 40000};
  r.snd_nxt = seq_num{1000};
  r.rcv_nxt = rcv_nxt;
  r.ts_on = ts_on;
  r.ts_recent = ts_recent;
  return r;
}

tcp_repr syn(std::int32_t seq_offset, std::optional<std::uint32_t> tsval) {
  tcp_repr s;
  s.flags = tcp_flag::syn;
  s.seq = seq_num{rcv_nxt.raw + static_cast<std::uint32_t>(seq_offset)};
  if (tsval) s.options.timestamps = tcp_timestamps{*tsval, 0};
  return s;
}

constexpr instant now{1'000'000};

TEST(time_wait_rfc6191, both_incarnations_with_timestamps) {
  const tcp_config cfg;  // timestamps on
  auto r = record(true);
  EXPECT_EQ(r.on_segment(now, syn(1, 5001), cfg), time_wait_action::reopen);     // newer TSval
  EXPECT_EQ(r.on_segment(now, syn(-500, 5001), cfg), time_wait_action::reopen);  // newer TSval, lower seq
  EXPECT_EQ(r.on_segment(now, syn(1, 5000), cfg), time_wait_action::reopen);     // equal TSval, higher seq
  EXPECT_EQ(r.on_segment(now, syn(0, 5000), cfg), time_wait_action::ack);        // equal TSval, seq not higher
  EXPECT_EQ(r.on_segment(now, syn(100000, 4999), cfg), time_wait_action::ack);   // older TSval: PAWS says old
  // TSval compared modulo 2^32 (RFC 7323 §5.2).
  auto w = record(true, 0xFFFFFFF0u);
  EXPECT_EQ(w.on_segment(now, syn(-5, 0x10u), cfg), time_wait_action::reopen);
}

TEST(time_wait_rfc6191, new_incarnation_without_timestamps__sequence_rule) {
  const tcp_config cfg;
  auto r = record(true);
  EXPECT_EQ(r.on_segment(now, syn(1, std::nullopt), cfg), time_wait_action::reopen);
  EXPECT_EQ(r.on_segment(now, syn(0, std::nullopt), cfg), time_wait_action::ack);
  // A SYN with TSopt to a host that will not use timestamps is one without, for this rule.
  tcp_config no_ts;
  no_ts.timestamps = false;
  EXPECT_EQ(r.on_segment(now, syn(-1, 9999), no_ts), time_wait_action::ack);
  EXPECT_EQ(r.on_segment(now, syn(1, 1), no_ts), time_wait_action::reopen);
}

TEST(time_wait_rfc6191, old_incarnation_without_timestamps) {
  const tcp_config cfg;
  auto r = record(false);
  // The new incarnation will use timestamps: honoured whatever the sequence number.
  EXPECT_EQ(r.on_segment(now, syn(-1000, 1), cfg), time_wait_action::reopen);
  // Neither uses them: RFC 1122 §4.2.2.13, only beyond RCV.NXT.
  EXPECT_EQ(r.on_segment(now, syn(-1000, std::nullopt), cfg), time_wait_action::ack);
  EXPECT_EQ(r.on_segment(now, syn(1, std::nullopt), cfg), time_wait_action::reopen);
}

// MAY-2 off: no SYN reopens; each gets the RFC 5961 §4 ACK, or RFC 793's reset at RCV.NXT.
TEST(time_wait_rfc6191, reopen_off__every_syn_answered_as_in_a_synchronized_state) {
  tcp_config cfg;
  cfg.time_wait_reopen = false;
  auto r = record(true);
  EXPECT_EQ(r.on_segment(now, syn(1, 5001), cfg), time_wait_action::ack);
  EXPECT_EQ(r.on_segment(now, syn(100000, std::nullopt), cfg), time_wait_action::ack);
  cfg.rfc5961_syn = false;
  EXPECT_EQ(r.on_segment(now, syn(0, std::nullopt), cfg), time_wait_action::reset);
  EXPECT_EQ(r.on_segment(now, syn(1, std::nullopt), cfg), time_wait_action::ack);
}

// A SYN-ACK never reopens; in the window with RFC 793's rule (rfc5961_syn off) it is reset as a
// SYN is, "If the SYN is in the window it is an error"; otherwise the challenge ACK.
TEST(time_wait_rfc6191, syn_ack_in_the_window_reset_by_rfc793s_rule) {
  tcp_config cfg;
  auto r = record(false);
  r.rcv_wnd = 1000;
  tcp_repr sa = syn(10, std::nullopt);
  sa.ack = seq_num{1000};
  EXPECT_EQ(r.on_segment(now, sa, cfg), time_wait_action::ack);
  cfg.rfc5961_syn = false;
  EXPECT_EQ(r.on_segment(now, sa, cfg), time_wait_action::reset);
  sa.seq = rcv_nxt + seq_len{5000};  // beyond the window
  EXPECT_EQ(r.on_segment(now, sa, cfg), time_wait_action::ack);
}

// A SYN+FIN is a new connection only where the listener takes it (drop_syn_fin off).
TEST(time_wait_rfc6191, syn_fin_reopens_only_when_not_dropped) {
  tcp_config cfg;
  auto r = record(false);
  tcp_repr sf = syn(1, std::nullopt);
  sf.flags = tcp_flag::syn | tcp_flag::fin;
  EXPECT_EQ(r.on_segment(now, sf, cfg), time_wait_action::ack);
  cfg.drop_syn_fin = false;
  EXPECT_EQ(r.on_segment(now, sf, cfg), time_wait_action::reopen);
}

}  // namespace
}  // namespace synack
