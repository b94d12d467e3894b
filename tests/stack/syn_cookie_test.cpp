// SYN cookies at a listener (RFC 4987 §3.6) with exact segments: a full SYN queue answers
// with a stateless cookie SYN-ACK, the final ACK makes an ESTABLISHED connection ready to
// accept, stale and forged cookies are refused and counted, and the flood is reported.
#include <string>
#include <vector>

#include "stack/stack_harness.hpp"
#include "synack/tcp/syn_cookie.hpp"

namespace synack::stest {
namespace {

host_config cookie_config(std::size_t syn_backlog = 1, syncookies_mode mode = syncookies_mode::on_overflow) {
  host_config c = default_config();
  c.syn_backlog = syn_backlog;
  c.syncookies = mode;
  return c;
}

four_tuple tuple_for(std::uint16_t peer) { return four_tuple{host_ip, host_port, peer_ip, peer}; }

// The cookie the host must send, computed by an independent codec with the same secret.
syn_cookie expected_cookie(const host_config& cfg, instant at, std::uint16_t peer, const syn_cookie_options& offer,
                           std::uint32_t ts_now = 0) {
  syn_cookie_codec codec(cfg.secret);
  return codec.encode(at, tuple_for(peer), peer_iss, offer, ts_now);
}

// A listener whose one-entry SYN queue is held by a peer that never answers.
struct flooded {
  host_config cfg;
  stack_harness t;
  log_lines log;
  listener_handle l;
  explicit flooded(host_config c = cookie_config()) : cfg(c), t(c) {
    t.h().set_log(&log);
    l = t.listen(80, 16);
    if (cfg.syncookies != syncookies_mode::always) {
      for (std::size_t i = 0; i < cfg.syn_backlog; ++i) (void)t.syn_to_listener(at_ms(0), static_cast<std::uint16_t>(1000 + i));
    }
  }
};

TEST(syn_cookie_stack, queue_full__cookie_synack_exact_and_no_state) {
  flooded f;
  auto& t = f.t;
  ASSERT_EQ(t.h().half_open(f.l), 1u);
  auto want = t.ctr();
  t.send(at_ms(5), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1460, .peer = 5000});
  const auto c = expected_cookie(f.cfg, at_ms(5), 5000, syn_cookie_options{1460, false, false, std::nullopt});
  auto g = t.expect_tcp(at_ms(5), seg{.seq = c.iss, .ack = peer_iss + seq_len{1}, .flags = tcp_flag::syn,
                                      .window = 0xFFFF, .mss = 1460, .peer = 5000},
                        true);
  ASSERT_TRUE(g);
  // RFC 4987 §3.6: no timestamps in the SYN, nowhere to keep window scale or SACK.
  EXPECT_FALSE(g->options.window_scale.has_value());
  EXPECT_FALSE(g->options.sack_permitted);
  EXPECT_FALSE(g->options.timestamps.has_value());
  t.expect_nothing(at_ms(5));
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.in_accepted;
  ++want.out_segs;
  ++want.ip_out_requests;
  ++want.syncookies_sent;
  t.expect_counters(want);
  // Nothing was kept: no TCB, no timer of its own, the queue as it was.
  EXPECT_EQ(t.h().half_open(f.l), 1u);
  EXPECT_EQ(t.h().connection_count(), 1u);
  EXPECT_EQ(t.h().lookup(tuple_for(5000)), nullptr);
  ASSERT_EQ(f.log.lines.size(), 1u);
  EXPECT_EQ(f.log.lines[0], "possible SYN flooding on port 80; sending cookies");
}

// With timestamps the cookie SYN-ACK offers window scale and SACK, carried in TSval's low
// bits (wscale 7, SACK: 0x17), and the final ACK's TSecr brings them back.
TEST(syn_cookie_stack, timestamps_carry_window_scale_and_sack) {
  flooded f;
  auto& t = f.t;
  t.send(at_ms(5), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1440, .wscale = 7, .peer = 5000,
                       .ts = tcp_timestamps{1000, 0}, .sack_permitted = true});
  auto g = t.poll(at_ms(5));
  ASSERT_TRUE(g && g->tcp);
  const tcp_repr& sa = *g->tcp;
  const std::uint32_t ts_now = 5 + rfc6528_isn(f.cfg.secret).ts_offset(tuple_for(5000));
  const auto c = expected_cookie(f.cfg, at_ms(5), 5000, syn_cookie_options{1440, true, true, 7}, ts_now);
  EXPECT_EQ(sa.seq, c.iss) << describe(sa);
  EXPECT_EQ(sa.options.mss, 1460);  // ours; the peer's 1440 is in the cookie
  EXPECT_EQ(sa.options.window_scale, connection::recv_window_shift(f.cfg.tcp));
  EXPECT_TRUE(sa.options.sack_permitted);
  ASSERT_TRUE(sa.options.timestamps);
  EXPECT_EQ(sa.options.timestamps->tsval, *c.tsval);
  EXPECT_EQ(sa.options.timestamps->tsval & 0x1Fu, 0x17u);
  EXPECT_EQ(sa.options.timestamps->tsecr, 1000u);

  t.send(at_ms(15), seg{.seq = peer_iss + seq_len{1}, .ack = sa.seq + seq_len{1}, .window = 1000, .peer = 5000,
                        .ts = tcp_timestamps{1010, sa.options.timestamps->tsval}});
  t.expect_nothing(at_ms(15));
  auto a = t.h().accept(f.l);
  ASSERT_TRUE(a.has_value());
  const connection* conn = t.h().find(*a);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->state(), tcp_state::established);
  EXPECT_EQ(conn->snd().mss, 1440);
  EXPECT_EQ(conn->snd().wscale, 7);
  EXPECT_EQ(conn->snd().wnd, 1000u << 7);
  EXPECT_EQ(conn->rcv().wscale, connection::recv_window_shift(f.cfg.tcp));
  EXPECT_TRUE(conn->sack_permitted());
  EXPECT_TRUE(conn->timestamps_on());
  EXPECT_EQ(conn->ts_recent(), 1010u);
  // The connection's clock continues from the cookie's TSval, never behind it (PAWS at the peer).
  EXPECT_EQ(t.write(*a, "hi"), 2u);
  auto d = t.expect_tcp(at_ms(20), seg{.seq = sa.seq + seq_len{1}, .ack = peer_iss + seq_len{1},
                                      .flags = tcp_flag::psh, .payload = "hi", .peer = 5000});
  ASSERT_TRUE(d && d->options.timestamps);
  EXPECT_GE(static_cast<std::int32_t>(d->options.timestamps->tsval - sa.options.timestamps->tsval), 15);
  EXPECT_EQ(d->options.timestamps->tsecr, 1010u);
}

// A listener with its own configuration (a socket's SO_RCVBUF, options off): the cookie
// SYN-ACK offers what that listener's connection will do, not the host's defaults, so the
// window scale the peer learns is the one the connection then uses.
TEST(syn_cookie_stack, listener_config__cookie_synack_offers_the_listeners_options) {
  stack_harness t(cookie_config(1, syncookies_mode::always));
  tcp_config lc = t.h().config().tcp;
  lc.recv_buffer = 16 * 1024;  // shift 0, where the host's 256 KiB default takes 3
  lc.sack = false;
  ASSERT_NE(connection::recv_window_shift(lc), connection::recv_window_shift(t.h().config().tcp));
  auto l = t.h().listen(80, 16, lc);
  ASSERT_TRUE(l.has_value());
  t.send(at_ms(5), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1460, .wscale = 7, .peer = 5000,
                       .ts = tcp_timestamps{1000, 0}, .sack_permitted = true});
  auto g = t.poll(at_ms(5));
  ASSERT_TRUE(g && g->tcp);
  const tcp_repr& sa = *g->tcp;
  EXPECT_EQ(t.ctr().syncookies_sent, 1u);
  EXPECT_EQ(sa.window, 16 * 1024);
  EXPECT_EQ(sa.options.window_scale, connection::recv_window_shift(lc));
  EXPECT_FALSE(sa.options.sack_permitted);  // the listener has SACK off
  ASSERT_TRUE(sa.options.timestamps.has_value());
  // The final ACK: the connection uses the window scale the SYN-ACK announced, and no SACK.
  t.send(at_ms(15), seg{.seq = peer_iss + seq_len{1}, .ack = sa.seq + seq_len{1}, .peer = 5000,
                        .ts = tcp_timestamps{1010, sa.options.timestamps->tsval}});
  auto a = t.h().accept(*l);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(t.h().find(*a)->rcv().wscale, connection::recv_window_shift(lc));
  EXPECT_FALSE(t.h().find(*a)->sack_permitted());
}

TEST(syn_cookie_stack, valid_final_ack__established_and_accepted) {
  flooded f;
  auto& t = f.t;
  t.send(at_ms(5), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1300, .peer = 5000});
  auto sa = t.poll(at_ms(5));
  ASSERT_TRUE(sa && sa->tcp);
  const seq_num iss = sa->tcp->seq;
  (void)t.events();
  auto want = t.ctr();
  // The final ACK carries the first request already.
  t.send(at_ms(30), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .flags = tcp_flag::psh,
                        .payload = "GET /", .peer = 5000});
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.in_accepted;
  ++want.syncookies_recv;
  ++want.passive_opens;
  ++want.curr_estab;
  t.expect_counters(want);
  const auto ev = t.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].what, host_event::kind::accept_ready);
  EXPECT_EQ(t.h().accept_queue_len(f.l), 1u);
  EXPECT_EQ(t.h().half_open(f.l), 1u);  // the real half-open entry, still there
  auto a = t.h().accept(f.l);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(t.h().state(*a), tcp_state::established);
  EXPECT_EQ(t.read_all(*a), "GET /");
  EXPECT_EQ(t.h().find(*a)->snd().mss, 1300);
  EXPECT_EQ(t.write(*a, "200"), 3u);
  t.expect_tcp(at_ms(31), seg{.seq = iss + seq_len{1}, .ack = peer_iss + seq_len{6}, .flags = tcp_flag::psh,
                              .payload = "200", .peer = 5000});
  t.expect_nothing(at_ms(31));
}

// Valid for 2 full counter ticks (128-192 s); later, or forged: RST <SEQ=SEG.ACK> as from any
// listener (and Linux), counted in SyncookiesFailed.
TEST(syn_cookie_stack, stale_or_forged_ack__reset_and_counted) {
  flooded f(cookie_config(1, syncookies_mode::always));
  auto& t = f.t;
  t.send(at_s(1), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 5000});
  auto sa = t.poll(at_s(1));
  ASSERT_TRUE(sa && sa->tcp);
  const seq_num iss = sa->tcp->seq;
  // Keep the flood going, so cookies are still being sent when the stale ACK comes.
  t.send(at_s(190), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 5001});
  ASSERT_TRUE(t.poll(at_s(190)));
  auto want = t.ctr();
  t.send(at_s(200), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .peer = 5000});
  t.expect_tcp(at_s(200), seg{.seq = iss + seq_len{1}, .flags = tcp_flag::rst, .peer = 5000});
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.syncookies_failed;
  ++want.tcp(rx_verdict::listen_ack);
  ++want.out_segs;
  ++want.out_rsts;
  ++want.ip_out_requests;
  t.expect_counters(want);
  // Forged: any other number.
  t.send(at_s(201), seg{.seq = peer_iss + seq_len{1}, .ack = seq_num{0x12345678}, .peer = 5002});
  t.expect_tcp(at_s(201), seg{.seq = seq_num{0x12345678}, .flags = tcp_flag::rst, .peer = 5002});
  EXPECT_EQ(t.ctr().syncookies_failed, 2u);
  EXPECT_EQ(t.ctr().syncookies_recv, 0u);
  EXPECT_EQ(t.h().connection_count(), 0u);
  EXPECT_EQ(t.h().accept_queue_len(f.l), 0u);
}

// An ACK to a listener that sent no cookie lately gets the plain LISTEN answer (no MAC work).
TEST(syn_cookie_stack, no_recent_cookies__plain_listen_rule) {
  stack_harness t(cookie_config(4));
  (void)t.listen(80, 16);
  t.send(at_ms(1), seg{.seq = peer_iss, .ack = seq_num{77}, .peer = 5000});
  t.expect_tcp(at_ms(1), seg{.seq = seq_num{77}, .flags = tcp_flag::rst, .peer = 5000});
  EXPECT_EQ(t.ctr().syncookies_failed, 0u);
  EXPECT_EQ(t.ctr().tcp(rx_verdict::listen_ack), 1u);
}

// The point of it all: while spoofed SYNs hold the whole SYN queue, real clients connect.
TEST(syn_cookie_stack, legitimate_clients_complete_while_the_queue_is_full) {
  flooded f(cookie_config(8));
  auto& t = f.t;
  ASSERT_EQ(t.h().half_open(f.l), 8u);
  for (std::uint16_t i = 0; i < 20; ++i) {
    const auto port = static_cast<std::uint16_t>(6000 + i);
    t.send(at_ms(10 + i), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1460, .peer = port});
    auto sa = t.poll(at_ms(10 + i));
    ASSERT_TRUE(sa && sa->tcp);
    t.send(at_ms(10 + i), seg{.seq = peer_iss + seq_len{1}, .ack = sa->tcp->seq + seq_len{1}, .peer = port});
    auto a = t.h().accept(f.l);
    ASSERT_TRUE(a.has_value()) << i;
    EXPECT_EQ(t.h().state(*a), tcp_state::established);
  }
  EXPECT_EQ(t.ctr().syncookies_sent, 20u);
  EXPECT_EQ(t.ctr().syncookies_recv, 20u);
  EXPECT_EQ(t.h().half_open(f.l), 8u);
  EXPECT_EQ(f.log.lines.size(), 1u);  // rate-limited: once a minute per listener
  // A minute later, still flooded: said once more.
  t.send(at_s(61), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 7000});
  EXPECT_EQ(f.log.lines.size(), 2u);
  const auto snap = t.h().snapshot();
  ASSERT_FALSE(snap.empty());
  EXPECT_EQ(snap[0].state, tcp_state::listen);
  EXPECT_EQ(snap[0].cookies_sent, 21u);
  EXPECT_EQ(snap[0].cookies_recv, 20u);
  EXPECT_EQ(snap[0].syn_queue, 8u);
  EXPECT_EQ(snap[0].syn_backlog, 8u);
}

// A valid cookie meeting a full accept queue is dropped silently (ListenOverflows); the
// peer's retransmission succeeds once the application accepted.
TEST(syn_cookie_stack, full_accept_queue__dropped_then_retransmission_succeeds) {
  host_config cfg = cookie_config(1, syncookies_mode::always);
  stack_harness t(cfg);
  const auto l = t.listen(80, 1);
  std::vector<seq_num> isss;
  for (const std::uint16_t p : std::array<std::uint16_t, 2>{5000, 5001}) {
    t.send(at_ms(1), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = p});
    auto sa = t.poll(at_ms(1));
    ASSERT_TRUE(sa && sa->tcp);
    isss.push_back(sa->tcp->seq);
  }
  EXPECT_EQ(t.h().half_open(l), 0u);  // always: not even the first SYN kept state
  t.send(at_ms(2), seg{.seq = peer_iss + seq_len{1}, .ack = isss[0] + seq_len{1}, .peer = 5000});
  EXPECT_EQ(t.h().accept_queue_len(l), 1u);
  auto want = t.ctr();
  const seg second{.seq = peer_iss + seq_len{1}, .ack = isss[1] + seq_len{1}, .payload = "x", .peer = 5001};
  t.send(at_ms(3), second);
  t.expect_nothing(at_ms(3));
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.syncookies_recv;
  ++want.listen_overflows;
  ++want.listen_drops;
  ++want.host(host_drop::listen_overflow);
  t.expect_counters(want);
  EXPECT_EQ(t.h().connection_count(), 1u);
  ASSERT_TRUE(t.h().accept(l).has_value());
  t.send(at_ms(500), second);  // the peer retransmits its data
  auto a = t.h().accept(l);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(t.read_all(*a), "x");
}

TEST(syn_cookie_stack, off__full_queue_drops_and_says_so) {
  flooded f(cookie_config(1, syncookies_mode::off));
  auto& t = f.t;
  auto want = t.ctr();
  t.send(at_ms(5), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 5000});
  t.expect_nothing(at_ms(5));
  ++want.ip_in_receives;
  ++want.in_segs;
  ++want.listen_drops;
  ++want.host(host_drop::syn_queue_full);
  t.expect_counters(want);
  ASSERT_EQ(f.log.lines.size(), 1u);
  EXPECT_EQ(f.log.lines[0], "possible SYN flooding on port 80; dropping request");
  // No cookies were sent, so an ACK gets the plain LISTEN reset.
  t.send(at_ms(6), seg{.seq = peer_iss + seq_len{1}, .ack = seq_num{5}, .peer = 5000});
  t.expect_tcp(at_ms(6), seg{.seq = seq_num{5}, .flags = tcp_flag::rst, .peer = 5000});
  EXPECT_EQ(t.ctr().syncookies_failed, 0u);
}

// A cookie SYN-ACK is never retransmitted (no state to do it with); a real half-open entry
// retransmits with exponential backoff (RFC 6298 §5.5, 1 s initial RTO, 60 s cap) until R2
// (180 s, MUST-23) and is then freed.
TEST(syn_cookie_stack, only_real_half_open_entries_retransmit_then_go) {
  flooded f;
  auto& t = f.t;
  t.send(at_ms(0), seg{.seq = peer_iss, .flags = tcp_flag::syn, .peer = 5000});
  auto cookie = t.poll(at_ms(0));
  ASSERT_TRUE(cookie && cookie->tcp);
  std::vector<std::int64_t> resent_at;
  for (std::int64_t s = 1; s <= 200; ++s) {
    while (auto p = t.poll(at_s(s))) {
      ASSERT_TRUE(p->tcp);
      EXPECT_EQ(p->tcp->dst_port, 1000) << "only the kept half-open entry retransmits";
      EXPECT_EQ(p->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack);
      resent_at.push_back(s);
    }
  }
  EXPECT_EQ(resent_at, (std::vector<std::int64_t>{1, 3, 7, 15, 31, 63, 123}));
  EXPECT_EQ(t.h().half_open(f.l), 0u);
  EXPECT_EQ(t.h().connection_count(), 0u);
  EXPECT_EQ(t.ctr().attempt_fails, 1u);
  EXPECT_EQ(t.ctr().retrans_segs, 7u);
}

// DESIGN.md §3 "shortcut fixtures are checked": a connection made from a cookie equals one
// made through a kept SYN-RECEIVED TCB, but for the ISS.
TEST(syn_cookie_stack, cookie_connection_equals_handshake_connection) {
  auto open = [](syncookies_mode mode) {
    stack_harness t(cookie_config(16, mode));
    const auto l = t.listen(80, 16);
    // MSS 1440 is in the cookie's table; another value would be rounded down (by design).
    t.send(at_ms(1), seg{.seq = peer_iss, .flags = tcp_flag::syn, .mss = 1440, .wscale = 5, .peer = 5000,
                         .ts = tcp_timestamps{500, 0}, .sack_permitted = true});
    auto sa = t.poll(at_ms(1));
    EXPECT_TRUE(sa && sa->tcp);
    tcb_snapshot s;
    if (!sa || !sa->tcp || !sa->tcp->options.timestamps) return std::pair{s, tcp_repr{}};
    t.send(at_ms(40), seg{.seq = peer_iss + seq_len{1}, .ack = sa->tcp->seq + seq_len{1}, .window = 300, .peer = 5000,
                          .ts = tcp_timestamps{540, sa->tcp->options.timestamps->tsval}});
    auto a = t.h().accept(l);
    EXPECT_TRUE(a.has_value());
    if (a) s = t.h().find(*a)->snapshot();
    return std::pair{s, *sa->tcp};
  };
  const auto [cookie, cookie_sa] = open(syncookies_mode::always);
  const auto [kept, kept_sa] = open(syncookies_mode::off);
  EXPECT_EQ(cookie_sa.options.mss, kept_sa.options.mss);
  EXPECT_EQ(cookie_sa.options.window_scale, kept_sa.options.window_scale);
  EXPECT_EQ(cookie_sa.options.sack_permitted, kept_sa.options.sack_permitted);
  EXPECT_EQ(cookie_sa.window, kept_sa.window);
  EXPECT_EQ(cookie.state, tcp_state::established);
  EXPECT_EQ(cookie.state, kept.state);
  EXPECT_EQ(cookie.tuple, kept.tuple);
  auto rel = [](const tcb_snapshot& s) {
    return std::vector<std::uint32_t>{distance(s.snd.iss, s.snd.una).n, distance(s.snd.iss, s.snd.nxt).n,
                                      distance(s.snd.iss, s.snd.max).n, distance(s.snd.iss, s.snd.wl2).n,
                                      s.snd.wnd, s.snd.wscale, s.snd.mss, s.rcv.nxt.raw, s.rcv.irs.raw,
                                      s.rcv.wnd, s.rcv.wscale, s.snd.wl1.raw};
  };
  EXPECT_EQ(rel(cookie), rel(kept));
  // The one difference: MAX.SND.WND (RFC 5961 §5) starts from the final ACK's window, as the
  // SYN's was not kept.
  EXPECT_EQ(cookie.snd.max_wnd, 300u << 5);
  EXPECT_EQ(cookie.send_queue, kept.send_queue);
  EXPECT_EQ(cookie.recv_queue, kept.recv_queue);
  EXPECT_EQ(cookie.next_timer, kept.next_timer);
}


// RFC 3168 with SYN cookies: a cookie keeps no ECN bit, so the cookie SYN-ACK does not offer
// ECN (no ECE) and the connection rebuilt from the cookie goes without it: Not-ECT data.
TEST(syn_cookie_stack, ecn_setup_syn__the_cookie_connection_goes_without_ecn) {
  flooded f(cookie_config(1, syncookies_mode::always));
  auto& t = f.t;
  t.send(at_ms(5), seg{.seq = peer_iss, .flags = tcp_flag::syn | tcp_flag::ece | tcp_flag::cwr, .mss = 1460, .peer = 5000});
  auto sa = t.poll(at_ms(5));
  ASSERT_TRUE(sa && sa->tcp);
  EXPECT_EQ(sa->tcp->wire_flags(), tcp_flag::syn | tcp_flag::ack) << describe(*sa->tcp);
  EXPECT_EQ(t.ctr().syncookies_sent, 1u);
  const seq_num iss = sa->tcp->seq;
  t.send(at_ms(30), seg{.seq = peer_iss + seq_len{1}, .ack = iss + seq_len{1}, .peer = 5000});
  auto a = t.h().accept(f.l);
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(t.h().internals(*a)->ecn);
  EXPECT_EQ(t.write(*a, "200"), 3u);
  auto d = t.poll(at_ms(31));
  ASSERT_TRUE(d && d->tcp);
  EXPECT_EQ(d->tcp->payload.size(), 3u);
  EXPECT_EQ(d->ip.dscp_ecn, 0) << "Not-ECT";
}

}  // namespace
}  // namespace synack::stest
