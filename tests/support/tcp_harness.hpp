#pragma once
// Exact-segment harness for one tcp::connection on virtual time (DESIGN.md §3).
//
// The remote side is played by the test: send(at, seg) feeds a segment (ports filled in,
// emitted to bytes and parsed back so the wire layer is exercised too); expect_recv(at, seg)
// fires due timers at `at`, polls one segment and compares it field by field with `seg`;
// expect_nothing(at) asserts silence. Failures point at the test line (test::source_loc, which clang 14 supports).
//
// Both ISNs sit just below the 2^32 wrap, so every test exercises wrap-around arithmetic.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "support/describe.hpp"
#include "support/source_loc.hpp"
#include "synack/tcp/connection.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::test {

inline constexpr ipv4_addr local_addr = ipv4_addr::from_octets(192, 0, 2, 1);
inline constexpr ipv4_addr remote_addr = ipv4_addr::from_octets(192, 0, 2, 2);
inline constexpr std::uint16_t local_port = 80;
inline constexpr std::uint16_t remote_port = 49152;
inline constexpr seq_num local_iss{0xFFFFFFFFu - 99};    // our ISS: wraps after 99 octets
inline constexpr seq_num remote_iss{0xFFFFFFFFu - 999};  // the peer's: wraps after 999
// Our timestamp clock's offset (RFC 7323): TSval = offset + milliseconds, wrapping after 10 ms.
inline constexpr std::uint32_t local_ts_offset = 0xFFFFFFFFu - 9;
inline constexpr std::uint32_t our_ts(std::uint32_t ms) { return local_ts_offset + ms; }

inline instant at_ms(std::int64_t ms) { return instant{ms * 1000}; }
inline instant at_s(std::int64_t s) { return instant{s * 1'000'000}; }

// A segment template: set only what a test cares about.
struct seg {
  seq_num seq{};
  std::optional<seq_num> ack{};
  std::uint8_t flags = 0;
  std::uint16_t window = 0xFFFF;
  std::string payload{};
  std::optional<std::uint16_t> mss{};
  std::optional<std::uint8_t> wscale{};
  // Sent as given; expected only when set (sack: the exact blocks, {} for none).
  std::optional<bool> sack_ok{};
  std::optional<std::vector<sack_block>> sack{};
  std::optional<tcp_timestamps> ts{};
  std::optional<std::uint16_t> urgent_ptr{};  // sent as given (0 if unset); expected when set
  std::optional<tcp_fast_open> fo{};          // RFC 7413: sent as given; expected when set
  // RFC 3168: the IP ECN field it comes with (Not-ECT if unset); expected when set: ECT(0) for
  // a segment the connection named ECN-capable (tcp_transmit::ect), Not-ECT for the rest.
  std::optional<ecn_codepoint> ecn{};
};

// Records every state change through the connection's single funnel.
class transition_log final : public tcp_tracer {
 public:
  void on_state(const four_tuple&, tcp_state from, tcp_state to) override { arcs.emplace_back(from, to); }
  std::vector<std::pair<tcp_state, tcp_state>> arcs;
};

class tcp_harness {
 public:
  explicit tcp_harness(tcp_config cfg = {}) : cfg_(cfg), isn_(local_iss, local_ts_offset), conn_(cfg_, isn_) {
    conn_.set_tracer(&log_);
  }
  tcp_harness(const tcp_harness&) = delete;
  tcp_harness& operator=(const tcp_harness&) = delete;

  connection& conn() { return conn_; }
  const tcp_config& cfg() const { return cfg_; }
  four_tuple tuple() const { return four_tuple{local_addr, local_port, remote_addr, remote_port}; }

  // Feeds a segment from the peer at `at` (timers due before it fire first).
  rx_verdict send(instant at, const seg& s) {
    advance(at);
    tcp_repr r = to_repr(s, remote_port, local_port);
    // Through the wire layer and back: the connection sees exactly what a peer would send.
    std::vector<std::byte> bytes(r.buffer_len());
    r.emit(bytes, remote_addr, local_addr);
    auto view = tcp_view::parse(bytes);
    EXPECT_TRUE(view.has_value());
    tcp_repr parsed;
    EXPECT_FALSE(tcp_repr::parse(*view, remote_addr, local_addr, parsed).has_value());
    if (s.ecn) return conn_.on_segment(at, parsed, remote_addr, 1, *s.ecn);
    return conn_.on_segment(at, parsed, remote_addr);
  }

  // Fires due timers, then polls one segment.
  std::optional<tcp_repr> poll(instant at) {
    advance(at);
    std::vector<std::byte>& buf = out_.emplace_back(65536);
    tcp_transmit sent;
    auto n = conn_.poll_transmit(at, buf, sent);
    last_ect_ = sent.ect;
    last_more_ = sent.more;
    // tcp_transmit::more is a promise the host acts on (it skips asking): checked on every poll.
    if (sent.more) {
      EXPECT_TRUE(conn_.has_pending_output()) << "tcp_transmit::more without pending output";
    }
    if (!n) {
      out_.pop_back();
      return std::nullopt;
    }
    buf.resize(*n);
    auto view = tcp_view::parse(buf);
    EXPECT_TRUE(view.has_value()) << "connection emitted an unparsable segment";
    tcp_repr parsed;
    const auto err = tcp_repr::parse(*view, local_addr, remote_addr, parsed);
    EXPECT_FALSE(err.has_value()) << "connection emitted a segment with a bad checksum";
    if (err) return std::nullopt;
    EXPECT_EQ(parsed.src_port, local_port);
    EXPECT_EQ(parsed.dst_port, remote_port);
    return parsed;
  }

  // Polls one segment and compares seq, ack, flags, payload; and window, MSS and window
  // scale if the template sets them (window: if `check_window`).
  void expect_recv(instant at, const seg& want, bool check_window = false,
                   test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    auto got = poll(at);
    ASSERT_TRUE(got.has_value()) << "expected a segment, got nothing";
    tcp_repr w = to_repr(want, local_port, remote_port);
    EXPECT_EQ(got->wire_flags(), w.wire_flags()) << "got " << describe(*got) << "\nwant " << describe(w);
    EXPECT_EQ(got->seq.raw, w.seq.raw) << "got " << describe(*got);
    EXPECT_EQ(got->ack.has_value(), w.ack.has_value()) << "got " << describe(*got);
    if (got->ack && w.ack) {
      EXPECT_EQ(got->ack->raw, w.ack->raw) << "got " << describe(*got);
    }
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(got->payload.data()), got->payload.size()), want.payload);
    if (check_window) {
      EXPECT_EQ(got->window, w.window) << "got " << describe(*got);
    }
    if (want.mss) {
      EXPECT_EQ(got->options.mss, want.mss) << "got " << describe(*got);
    }
    if (want.wscale) {
      EXPECT_EQ(got->options.window_scale, want.wscale) << "got " << describe(*got);
    }
    if (want.sack_ok) {
      EXPECT_EQ(got->options.sack_permitted, *want.sack_ok) << "got " << describe(*got);
    }
    if (want.sack) {
      const std::vector<sack_block> blocks(got->options.sack.begin(), got->options.sack.begin() + got->options.sack_count);
      EXPECT_EQ(blocks, *want.sack) << "got " << describe(*got) << "\nwant " << describe(w);
    }
    if (want.ts) {
      EXPECT_EQ(got->options.timestamps, want.ts) << "got " << describe(*got);
    }
    if (want.urgent_ptr) {
      EXPECT_EQ(got->urgent_ptr, *want.urgent_ptr) << "got " << describe(*got);
    }
    if (want.fo) {
      EXPECT_EQ(got->options.fast_open, want.fo) << "got " << describe(*got);
    }
    if (want.ecn) {
      EXPECT_EQ(last_ect_ ? ecn_codepoint::ect0 : ecn_codepoint::not_ect, *want.ecn) << "got " << describe(*got);
    }
  }
  // Whether the segment polled last was named ECN-capable (tcp_transmit::ect).
  [[nodiscard]] bool last_ect() const { return last_ect_; }
  // Whether the segment polled last said another certainly follows (tcp_transmit::more).
  [[nodiscard]] bool last_more() const { return last_more_; }

  void expect_nothing(instant at, test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    auto got = poll(at);
    EXPECT_FALSE(got.has_value()) << "expected silence, got " << describe(*got);
  }

  void expect_state(tcp_state s, test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    EXPECT_EQ(to_string(conn_.state()), to_string(s));
  }

  // The next event must be `e`.
  void expect_event(tcp_event e, test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    auto got = conn_.poll_event();
    ASSERT_TRUE(got.has_value()) << "expected an event, got none";
    EXPECT_EQ(static_cast<int>(got->kind), static_cast<int>(e.kind));
    EXPECT_EQ(to_string(got->reason), to_string(e.reason));
  }
  void expect_no_event(test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    auto got = conn_.poll_event();
    EXPECT_FALSE(got.has_value()) << "unexpected event kind " << static_cast<int>(got->kind);
  }
  void drain_events() {
    while (conn_.poll_event()) {
    }
  }
  // State changes seen so far, as "A -> B" strings (clear with transitions().clear()).
  std::vector<std::pair<tcp_state, tcp_state>>& transitions() { return log_.arcs; }
  // The last state change must be from -> to.
  void expect_last_arc(tcp_state from, tcp_state to, test::source_loc loc = test::source_loc::current()) {
    SCOPED_TRACE(testing::Message() << loc.file_name() << ":" << loc.line());
    ASSERT_FALSE(log_.arcs.empty());
    EXPECT_EQ(to_string(log_.arcs.back().first), to_string(from));
    EXPECT_EQ(to_string(log_.arcs.back().second), to_string(to));
  }

  // Runs timers up to `at` (each due deadline at its own time, as a driver would).
  void advance(instant at) {
    while (auto d = conn_.next_deadline()) {
      if (*d > at) break;
      conn_.on_timeout(*d);
      if (conn_.next_deadline() == d) break;  // a timer that does not move would spin
    }
  }

  // ---- fixtures through the real API (each one is a real handshake) ---------------------
  // Active open to ESTABLISHED; the peer announces `peer_window` and MSS 1460, no scaling.
  void establish_active(instant at = at_ms(0)) {
    ASSERT_TRUE(conn_.connect(at, tuple()).has_value());
    auto syn = poll(at);
    ASSERT_TRUE(syn.has_value());
    send(at, seg{.seq = remote_iss, .ack = local_iss + seq_len{1}, .flags = tcp_flag::syn, .mss = 1460});
    auto ack = poll(at);
    ASSERT_TRUE(ack.has_value());
    ASSERT_EQ(conn_.state(), tcp_state::established);
  }
  // Passive open to ESTABLISHED.
  void establish_passive(instant at = at_ms(0)) {
    ASSERT_TRUE(conn_.listen(local_addr, local_port).has_value());
    send(at, seg{.seq = remote_iss, .flags = tcp_flag::syn, .mss = 1460});
    auto synack = poll(at);
    ASSERT_TRUE(synack.has_value());
    send(at, seg{.seq = remote_iss + seq_len{1}, .ack = local_iss + seq_len{1}});
    ASSERT_EQ(conn_.state(), tcp_state::established);
  }

  // Drives a passive connection (established_passive at `at`) to `target` with exact
  // segments; afterwards our next sequence number and the peer's are as documented:
  //   ESTABLISHED          l(1) / r(1)
  //   FIN-WAIT-1           FIN l(1) sent, unacknowledged
  //   FIN-WAIT-2           FIN l(1) acknowledged (snd.nxt l(2))
  //   CLOSE-WAIT           peer FIN r(1) acknowledged (rcv.nxt r(2))
  //   LAST-ACK             CLOSE-WAIT + our FIN l(1) sent
  //   CLOSING              FIN-WAIT-1 + peer FIN r(1) (ack=l(1)) acknowledged
  //   TIME-WAIT            FIN-WAIT-2 + peer FIN r(1) acknowledged
  // Events are drained.
  void drive_to(tcp_state target, instant at = at_ms(0)) {
    establish_passive(at);
    switch (target) {
      case tcp_state::established:
        break;
      case tcp_state::fin_wait_1:
      case tcp_state::fin_wait_2:
      case tcp_state::closing:
      case tcp_state::time_wait:
        ASSERT_TRUE(conn_.shutdown(at).has_value());
        expect_recv(at, seg{.seq = l(1), .ack = r(1), .flags = tcp_flag::fin});
        if (target == tcp_state::fin_wait_1) break;
        if (target == tcp_state::closing) {
          send(at, seg{.seq = r(1), .ack = l(1), .flags = tcp_flag::fin});
          expect_recv(at, seg{.seq = l(2), .ack = r(2)});
          break;
        }
        send(at, seg{.seq = r(1), .ack = l(2)});
        if (target == tcp_state::fin_wait_2) break;
        send(at, seg{.seq = r(1), .ack = l(2), .flags = tcp_flag::fin});
        expect_recv(at, seg{.seq = l(2), .ack = r(2)});
        break;
      case tcp_state::close_wait:
      case tcp_state::last_ack:
        send(at, seg{.seq = r(1), .ack = l(1), .flags = tcp_flag::fin});
        expect_recv(at, seg{.seq = l(1), .ack = r(2)});
        if (target == tcp_state::close_wait) break;
        ASSERT_TRUE(conn_.shutdown(at).has_value());
        expect_recv(at, seg{.seq = l(1), .ack = r(2), .flags = tcp_flag::fin});
        break;
      case tcp_state::closed:
      case tcp_state::listen:
      case tcp_state::syn_sent:
      case tcp_state::syn_received:
        FAIL() << "drive_to handles the synchronized states only";
    }
    ASSERT_EQ(to_string(conn_.state()), to_string(target));
    expect_nothing(at);
    drain_events();
  }

  // Shorthands for the sequence numbers after the handshake.
  static seq_num l(std::uint32_t off) { return local_iss + seq_len{off}; }   // our side
  static seq_num r(std::uint32_t off) { return remote_iss + seq_len{off}; }  // the peer's

  // Reads at most `max` octets (one recv call).
  std::string read(std::size_t max) {
    std::string s(max, '\0');
    auto n = conn_.recv(std::as_writable_bytes(std::span{s.data(), s.size()}));
    s.resize(n ? *n : 0);
    return s;
  }
  std::string read_all() {
    std::string s;
    std::array<std::byte, 4096> b{};
    while (true) {
      auto n = conn_.recv(b);
      if (!n || *n == 0) break;
      s.append(reinterpret_cast<const char*>(b.data()), *n);
    }
    return s;
  }
  std::size_t write(std::string_view s) {
    auto n = conn_.send(std::as_bytes(std::span{s.data(), s.size()}));
    return n ? *n : 0;
  }

 private:
  tcp_repr to_repr(const seg& s, std::uint16_t sport, std::uint16_t dport) {
    tcp_repr r;
    r.src_port = sport;
    r.dst_port = dport;
    r.seq = s.seq;
    r.ack = s.ack;
    r.flags = s.flags;
    r.window = s.window;
    r.options.mss = s.mss;
    r.options.window_scale = s.wscale;
    r.options.sack_permitted = s.sack_ok.value_or(false);
    if (s.sack) {
      for (const auto& b : *s.sack) r.options.add_sack(b);
    }
    r.options.timestamps = s.ts;
    r.urgent_ptr = s.urgent_ptr.value_or(0);
    r.options.fast_open = s.fo;
    auto& p = payloads_.emplace_back(s.payload);
    r.payload = std::as_bytes(std::span{p.data(), p.size()});
    return r;
  }

  tcp_config cfg_;
  fixed_isn isn_;
  connection conn_;
  transition_log log_;
  std::deque<std::vector<std::byte>> out_;
  std::deque<std::string> payloads_;
  bool last_ect_ = false;
  bool last_more_ = false;
};

}  // namespace synack::test
