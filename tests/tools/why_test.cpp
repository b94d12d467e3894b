// `synack demo --why`: the facts each topic states in its annotations and conclusion, checked
// against the run that produced them, so the explanation cannot drift from the stack's
// behaviour. The text itself is pinned by the golden files (tests/tools/why_golden.sh).
#include <gtest/gtest.h>

#include <string>

#include "why_scenario.hpp"

namespace synack::why {
namespace {

// Counts what a topic hands its renderer.
class counting_sink final : public sink {
 public:
  void part(const part_info&) override { ++parts; }
  void segment(const segment_row&, std::string_view note) override {
    ++segments;
    if (!note.empty()) ++notes;
  }
  void state(const state_row&, std::string_view note) override {
    ++states;
    if (!note.empty()) ++notes;
  }
  void text(std::string_view line) override { all_text += std::string(line) + "\n"; }
  int parts = 0;
  int segments = 0;
  int states = 0;
  int notes = 0;
  std::string all_text;
};

facts run_topic(std::string_view topic, counting_sink& s, lang l = lang::en, std::uint64_t seed = 1) {
  facts f;
  EXPECT_TRUE(run(topic, l, seed, s, f)) << topic;
  return f;
}

TEST(why, topics_are_listed_and_unknown_ones_refused) {
  ASSERT_EQ(topics().size(), 5u);
  counting_sink s;
  facts f;
  EXPECT_FALSE(run("two-way", lang::en, 1, s, f));
  for (const auto& t : topics()) {
    counting_sink each;
    facts g;
    EXPECT_TRUE(run(t.name, lang::en, 1, each, g)) << t.name;
    EXPECT_GT(each.segments, 0) << t.name;
    EXPECT_GT(each.notes, 0) << t.name;
  }
}

void expect_three_way(const three_way_facts& f) {
  EXPECT_TRUE(f.old_syn_answered);
  EXPECT_TRUE(f.old_syn_reset);
  EXPECT_TRUE(f.server_back_to_listen);
  EXPECT_TRUE(f.server_acked_j1);
  EXPECT_TRUE(f.client_acked_k1);
  EXPECT_TRUE(f.established);
  EXPECT_NE(f.j, f.old_isn);
}

TEST(why, three_way_old_duplicate_syn_is_reset_and_server_returns_to_listen) {
  counting_sink s;
  expect_three_way(run_topic("three-way", s).three_way);
}

TEST(why, four_way_fin_is_acked_alone_and_response_flows_in_close_wait) {
  counting_sink s;
  const four_way_facts f = run_topic("four-way", s).four_way;
  EXPECT_TRUE(f.fin_acked_alone);
  EXPECT_EQ(f.fin_ack_offset, 1u);  // the FIN takes one sequence number
  EXPECT_GE(f.data_segments_in_close_wait, 3);
  EXPECT_TRUE(f.server_fin_separate);
  EXPECT_TRUE(f.closed_cleanly);
}

TEST(why, time_wait_absorbs_stale_bytes_that_a_new_incarnation_would_accept) {
  counting_sink s;
  const time_wait_facts f = run_topic("time-wait", s).time_wait;
  // With TIME-WAIT: the 4-tuple cannot be reused at once, the stale copy meets the record, and
  // the new incarnation's echo is intact.
  EXPECT_TRUE(f.with.reconnect_refused);
  EXPECT_TRUE(f.with.stale_absorbed);
  EXPECT_EQ(f.with.stale_bytes_accepted, 0u);
  EXPECT_EQ(f.with.echoed, f.with.sent);
  // Without: reused at once, the stale bytes are taken as the new connection's own, and the
  // echo is corrupted.
  EXPECT_FALSE(f.without.reconnect_refused);
  EXPECT_FALSE(f.without.stale_absorbed);
  EXPECT_GT(f.without.stale_bytes_accepted, 0u);
  EXPECT_EQ(f.without.echoed.size(), f.without.sent.size());
  EXPECT_NE(f.without.echoed, f.without.sent);
}

TEST(why, time_wait_answers_a_retransmitted_fin_and_without_it_the_peer_gets_a_reset) {
  counting_sink s;
  const time_wait_facts f = run_topic("time-wait", s).time_wait;
  EXPECT_TRUE(f.with.fin_retransmitted);
  EXPECT_TRUE(f.with.fin_answered_by_ack);
  EXPECT_FALSE(f.with.fin_answered_by_rst);
  EXPECT_EQ(f.with.server_reason, close_reason::none);
  EXPECT_TRUE(f.without.fin_retransmitted);
  EXPECT_TRUE(f.without.fin_answered_by_rst);
  EXPECT_FALSE(f.without.fin_answered_by_ack);
  EXPECT_EQ(f.without.server_reason, close_reason::reset);
}

TEST(why, simultaneous_close_goes_through_closing_on_both_sides) {
  counting_sink s;
  const simultaneous_close_facts f = run_topic("simultaneous-close", s).simultaneous_close;
  const std::vector<tcp_state> expected{tcp_state::fin_wait_1, tcp_state::closing, tcp_state::time_wait,
                                        tcp_state::closed};
  EXPECT_EQ(f.client_states, expected);
  EXPECT_EQ(f.server_states, expected);
  EXPECT_TRUE(f.fins_crossed);
  EXPECT_TRUE(f.completed);
}

void expect_without_cookies(const syn_flood_run& off) {
  EXPECT_EQ(off.half_open, off.syn_backlog);  // the queue was full when the real SYN came
  EXPECT_TRUE(off.first_syn_dropped);
  EXPECT_EQ(off.client_syn_retransmissions, 1u);
  EXPECT_TRUE(off.connected);
  EXPECT_GT(off.connect_ms, 1000.0);  // the retransmission timeout (1 s) is in it
  EXPECT_EQ(off.cookies_sent, 0u);
  // The half-open list as `synack stat --state SYN-RECEIVED` prints it: one row per entry.
  std::size_t rows = 0;
  for (std::size_t at = off.half_open_table.find("\nSYN-RECEIVED"); at != std::string::npos;
       at = off.half_open_table.find("\nSYN-RECEIVED", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, off.syn_backlog) << off.half_open_table;
}

void expect_with_cookies(const syn_flood_run& on) {
  EXPECT_EQ(on.half_open, on.syn_backlog);
  EXPECT_FALSE(on.first_syn_dropped);
  EXPECT_EQ(on.client_syn_retransmissions, 0u);
  EXPECT_TRUE(on.connected);
  EXPECT_LT(on.connect_ms, 100.0);  // one round trip (20 ms)
  EXPECT_GT(on.cookies_sent, 0u);
  EXPECT_TRUE(on.no_state_before_ack);
}

TEST(why, syn_flood_delays_a_cookieless_client_by_a_syn_retransmission) {
  counting_sink s;
  expect_without_cookies(run_topic("syn-flood", s).syn_flood.without_cookies);
}

TEST(why, syn_flood_with_cookies_connects_at_once_without_state_before_the_ack) {
  counting_sink s;
  expect_with_cookies(run_topic("syn-flood", s).syn_flood.with_cookies);
}

// Other seeds give other ISNs, ports and spoofed sources: the claims must not depend on them.
TEST(why, the_facts_hold_for_other_seeds) {
  for (std::uint64_t seed = 2; seed <= 9; ++seed) {
    SCOPED_TRACE(seed);
    counting_sink s;
    facts f;
    for (const auto& t : topics()) ASSERT_TRUE(run(t.name, lang::en, seed, s, f));
    expect_three_way(f.three_way);
    EXPECT_TRUE(f.four_way.fin_acked_alone);
    EXPECT_TRUE(f.four_way.closed_cleanly);
    EXPECT_TRUE(f.time_wait.with.stale_absorbed);
    EXPECT_EQ(f.time_wait.with.echoed, f.time_wait.with.sent);
    EXPECT_GT(f.time_wait.without.stale_bytes_accepted, 0u);
    EXPECT_NE(f.time_wait.without.echoed, f.time_wait.without.sent);
    EXPECT_EQ(f.time_wait.with.server_reason, close_reason::none);
    EXPECT_EQ(f.time_wait.without.server_reason, close_reason::reset);
    EXPECT_EQ(f.simultaneous_close.client_states.size(), 4u);
    EXPECT_TRUE(f.simultaneous_close.completed);
    expect_without_cookies(f.syn_flood.without_cookies);
    expect_with_cookies(f.syn_flood.with_cookies);
  }
}

TEST(why, both_languages_run_the_same_scenarios) {
  for (const auto& t : topics()) {
    counting_sink en;
    counting_sink zh;
    (void)run_topic(t.name, en, lang::en);
    (void)run_topic(t.name, zh, lang::zh);
    EXPECT_EQ(en.segments, zh.segments) << t.name;
    EXPECT_EQ(en.states, zh.states) << t.name;
    EXPECT_EQ(en.notes, zh.notes) << t.name;
  }
}

}  // namespace
}  // namespace synack::why
