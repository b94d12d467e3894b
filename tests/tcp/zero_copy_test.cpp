// Zero-copy receive and send at one connection (connection::recv_view, recv_consume,
// send_reserve, send_commit): the buffers' bytes and free space in place, with exactly what
// recv() and send() do around their copy (they are built from these) — the window update
// after consuming, send()'s errors in every state, its room (the Fast Open SYN's included),
// the push point with MSG_MORE and the urgent pointer. Exact segments, virtual time.
#include <string>

#include "support/tcp_harness.hpp"

namespace synack::test {
namespace {

using namespace tcp_flag;
using s = tcp_state;

std::string text(std::size_t n, char c = 'x') { return std::string(n, c); }

std::string str(bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
std::string str(const ring_view& v) { return str(v.first) + str(v.second); }

// Fills the first in.size() bytes of a reservation (which must hold them) and returns the count.
std::size_t fill(const ring_space& sp, std::string_view in) {
  return copy_in(sp, std::as_bytes(std::span{in.data(), in.size()}));
}

// Reserves, fills and commits `in` whole.
void reserve_and_commit(tcp_harness& h, std::string_view in, send_flags flags = {}) {
  auto sp = h.conn().send_reserve(in.size());
  ASSERT_TRUE(sp.has_value());
  ASSERT_EQ(sp->size(), in.size());
  ASSERT_EQ(fill(*sp, in), in.size());
  h.conn().send_commit(in.size(), flags);
}

// ---- receive -------------------------------------------------------------------------------

TEST(zero_copy, recv_view__the_unread_bytes_in_place__consumed_only_by_recv_consume) {
  tcp_harness h;
  h.drive_to(s::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .flags = psh, .payload = "hello"});
  auto v = h.conn().recv_view();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(str(*v), "hello");
  EXPECT_TRUE(v->second.empty());
  EXPECT_EQ(str(*h.conn().recv_view()), "hello");  // looking consumes nothing
  EXPECT_EQ(h.conn().recv_available(), 5u);
  h.conn().recv_consume(2);
  EXPECT_EQ(str(*h.conn().recv_view()), "llo");
  EXPECT_EQ(h.read(10), "llo");
}

// A receive buffer that wrapped: the view is its two pieces, in stream order.
TEST(zero_copy, recv_view__wrapped_content_is_two_spans_in_order) {
  tcp_config c;
  c.recv_buffer = 2048;  // the whole ring from the first byte: 2048 octets of storage
  c.mss = 1000;
  c.delayed_ack = false;
  tcp_harness h(c);
  h.drive_to(s::established);
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .payload = text(1000, 'a')});
  h.send(at_ms(1), seg{.seq = h.r(1001), .ack = h.l(1), .payload = text(500, 'b')});
  h.conn().recv_consume(1500);  // the ring's head at 1500
  h.send(at_ms(2), seg{.seq = h.r(1501), .ack = h.l(1), .payload = text(600, 'c') + text(400, 'd')});
  auto v = h.conn().recv_view();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->first.size(), 548u);
  EXPECT_EQ(v->second.size(), 452u);
  EXPECT_EQ(str(*v), text(600, 'c') + text(400, 'd'));
}

// RFC 9293 §3.8.6.2.2 (MUST-39): consuming announces the opened window exactly as reading does
// (window_update_test.cpp's rfc_rule case, with recv_consume instead of recv).
TEST(zero_copy, recv_consume__announces_the_opened_window_as_recv_does) {
  tcp_config c;
  c.recv_buffer = 8000;
  c.mss = 1000;
  tcp_harness h(c);
  h.drive_to(s::established);
  h.send(at_ms(10), seg{.seq = h.r(1), .ack = h.l(1), .payload = text(1000)});
  h.send(at_ms(10), seg{.seq = h.r(1001), .ack = h.l(1), .payload = text(1000)});
  h.expect_recv(at_ms(10), seg{.seq = h.l(1), .ack = h.r(2001), .window = 6000}, true);
  h.conn().recv_consume(500);
  h.expect_nothing(at_ms(11));  // 500 octets: not yet an MSS
  h.conn().recv_consume(500);
  h.expect_recv(at_ms(12), seg{.seq = h.l(1), .ack = h.r(2001), .window = 7000}, true);
  h.conn().recv_consume(1000);
  h.expect_recv(at_ms(13), seg{.seq = h.l(1), .ack = h.r(2001), .window = 8000}, true);
  EXPECT_FALSE(h.conn().recv_view().has_value());  // would_block, as recv
}

// Consuming counts urgent data down as reading does (MUST-33).
TEST(zero_copy, recv_consume__counts_urgent_data_down_as_recv_does) {
  tcp_harness h;
  h.drive_to(s::established);
  h.send(at_ms(0), seg{.seq = h.r(1), .ack = h.l(1), .flags = urg, .payload = "abcdef", .urgent_ptr = 3});
  EXPECT_EQ(h.conn().urgent_remaining(), 3u);
  h.conn().recv_consume(2);
  EXPECT_EQ(h.conn().urgent_remaining(), 1u);
  h.conn().recv_consume(1);
  EXPECT_EQ(h.conn().urgent_remaining(), 0u);
}

// With nothing readable recv_view answers what recv answers; after the peer's FIN and all
// data, an empty view is the end of stream (recv's 0).
TEST(zero_copy, recv_view__errors_and_end_of_stream_are_recvs) {
  std::array<std::byte, 8> buf{};
  {
    tcp_harness h;  // CLOSED, never opened
    EXPECT_EQ(h.conn().recv_view().error(), tcp_error::not_connected);
    EXPECT_EQ(h.conn().recv(buf).error(), tcp_error::not_connected);
  }
  {
    tcp_harness h;
    ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
    EXPECT_EQ(h.conn().recv_view().error(), tcp_error::invalid_state);
    EXPECT_EQ(h.conn().recv(buf).error(), tcp_error::invalid_state);
  }
  {
    tcp_harness h;
    h.drive_to(s::established);
    EXPECT_EQ(h.conn().recv_view().error(), tcp_error::would_block);
    EXPECT_EQ(h.conn().recv(buf).error(), tcp_error::would_block);
    h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .flags = rst});
    h.expect_state(s::closed);
    EXPECT_EQ(h.conn().recv_view().error(), tcp_error::connection_reset);
    EXPECT_EQ(h.conn().recv(buf).error(), tcp_error::connection_reset);
  }
  {
    tcp_harness h;
    h.drive_to(s::established);
    h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .flags = fin | psh, .payload = "bye"});
    EXPECT_EQ(str(*h.conn().recv_view()), "bye");  // data before the end
    h.conn().recv_consume(3);
    auto v = h.conn().recv_view();
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->empty());  // end of stream
    EXPECT_EQ(*h.conn().recv(buf), 0u);
  }
}

// ---- send ----------------------------------------------------------------------------------

// send_reserve refuses in every state exactly as send() does (and reserves where it writes).
TEST(zero_copy, send_reserve__errors_are_sends_in_every_state) {
  struct want {
    s state;
    std::optional<tcp_error> error;  // nothing: room
  };
  for (const want w : {want{s::established, {}}, want{s::close_wait, {}}, want{s::fin_wait_1, tcp_error::closing},
                       want{s::fin_wait_2, tcp_error::closing}, want{s::closing, tcp_error::closing},
                       want{s::last_ack, tcp_error::closing}, want{s::time_wait, tcp_error::closing}}) {
    SCOPED_TRACE(to_string(w.state));
    tcp_harness h;
    h.drive_to(w.state);
    auto r = h.conn().send_reserve(10);
    if (!w.error) {
      ASSERT_TRUE(r.has_value());
      EXPECT_EQ(r->size(), 10u);
      h.conn().send_commit(0);
      continue;
    }
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), *w.error);
    EXPECT_EQ(h.conn().send(std::as_bytes(std::span{"x", 1})).error(), *w.error);
  }
  const bytes one = std::as_bytes(std::span{"x", 1});
  {
    tcp_harness h;  // CLOSED, never opened
    EXPECT_EQ(h.conn().send_reserve(10).error(), tcp_error::not_connected);
    EXPECT_EQ(h.conn().send(one).error(), tcp_error::not_connected);
  }
  {
    tcp_harness h;  // DEVIATION (connection.cpp): SEND does not turn LISTEN active
    ASSERT_TRUE(h.conn().listen(local_addr, local_port).has_value());
    EXPECT_EQ(h.conn().send_reserve(10).error(), tcp_error::invalid_state);
    EXPECT_EQ(h.conn().send(one).error(), tcp_error::invalid_state);
  }
  {
    tcp_harness h;  // SYN-SENT queues for after the handshake; a shutdown one refuses
    ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple()).has_value());
    auto r = h.conn().send_reserve(10);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->size(), 10u);
    h.conn().send_commit(0);
    ASSERT_TRUE(h.conn().shutdown(at_ms(0)).has_value());
    h.expect_state(s::closed);  // §3.10.4: nothing synchronized, the TCB goes
    EXPECT_EQ(h.conn().send_reserve(10).error(), tcp_error::not_connected);
  }
  {
    tcp_harness h;  // reset: the reason's error
    h.drive_to(s::established);
    h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1), .flags = rst});
    EXPECT_EQ(h.conn().send_reserve(10).error(), tcp_error::connection_reset);
    EXPECT_EQ(h.conn().send(one).error(), tcp_error::connection_reset);
  }
}

// The reservation is what send() would take: the free send buffer, then nothing (would_block);
// asking for nothing is no error. The storage grows as a write's does.
TEST(zero_copy, send_reserve__takes_what_send_takes_and_grows_the_ring_as_a_write) {
  tcp_config c;
  c.send_buffer = 4000;
  tcp_harness h(c);
  h.drive_to(s::established);
  h.send(at_ms(0), seg{.seq = h.r(1), .ack = h.l(1), .window = 0});  // nothing leaves
  auto sp = h.conn().send_reserve(100);
  ASSERT_TRUE(sp.has_value());
  EXPECT_EQ(sp->size(), 100u);
  h.conn().send_commit(100);
  EXPECT_EQ(h.conn().memory(), ring_buffer::min_storage);
  sp = h.conn().send_reserve(10000);
  ASSERT_TRUE(sp.has_value());
  EXPECT_EQ(sp->size(), 3900u);  // the free buffer
  h.conn().send_commit(3900);
  EXPECT_EQ(h.conn().memory(), 4000u);
  EXPECT_EQ(h.conn().send_queued(), 4000u);
  EXPECT_EQ(h.conn().send_reserve(1).error(), tcp_error::would_block);
  sp = h.conn().send_reserve(0);
  ASSERT_TRUE(sp.has_value());
  EXPECT_TRUE(sp->empty());
  h.conn().send_commit(0);
  EXPECT_EQ(h.conn().send_queued(), 4000u);
}

// Committing a part of the reservation queues that part; committing none queues nothing.
TEST(zero_copy, send_commit__queues_what_was_written_only) {
  tcp_harness h;
  h.drive_to(s::established);
  auto sp = h.conn().send_reserve(1000);
  ASSERT_TRUE(sp.has_value());
  h.conn().send_commit(0);
  EXPECT_EQ(h.conn().send_queued(), 0u);
  h.expect_nothing(at_ms(0));
  sp = h.conn().send_reserve(1000);
  ASSERT_TRUE(sp.has_value());
  ASSERT_EQ(fill(*sp, "hello"), 5u);
  h.conn().send_commit(5);
  EXPECT_EQ(h.conn().send_queued(), 5u);
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = "hello"});
}

// A send buffer that wrapped: the reservation is the free space after the queued bytes in two
// pieces, and what is committed leaves in stream order.
TEST(zero_copy, send_reserve__wrapped_space_is_two_spans_sent_in_order) {
  tcp_config c;
  c.send_buffer = 2048;
  c.mss = 1000;
  c.no_delay = true;  // the 500-octet tail goes without waiting for the first ACK
  tcp_harness h(c);
  h.drive_to(s::established);
  reserve_and_commit(h, text(1500, 'a'));
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .payload = text(1000, 'a')});
  h.expect_recv(at_ms(0), seg{.seq = h.l(1001), .ack = h.r(1), .flags = psh, .payload = text(500, 'a')});
  h.send(at_ms(1), seg{.seq = h.r(1), .ack = h.l(1501)});  // all acknowledged: the head at 1500
  auto sp = h.conn().send_reserve(2048);
  ASSERT_TRUE(sp.has_value());
  EXPECT_EQ(sp->first.size(), 548u);
  EXPECT_EQ(sp->second.size(), 1500u);
  const std::string data = text(548, 'b') + text(452, 'c') + text(1000, 'd');
  ASSERT_EQ(fill(*sp, data), 2000u);
  h.conn().send_commit(2000);
  h.expect_recv(at_ms(1), seg{.seq = h.l(1501), .ack = h.r(1), .payload = data.substr(0, 1000)});
  h.expect_recv(at_ms(1), seg{.seq = h.l(2501), .ack = h.r(1), .flags = psh, .payload = data.substr(1000)});
}

// MSG_MORE through send_commit: no push point, a short segment held until a commit without it.
TEST(zero_copy, send_commit__msg_more_holds_as_send_does) {
  tcp_harness h;
  h.drive_to(s::established);
  reserve_and_commit(h, text(100, 'a'), send_flags{.more = true});
  h.expect_nothing(at_ms(0));  // shorter than the MSS and more to come: held
  reserve_and_commit(h, text(50, 'b'));
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh, .payload = text(100, 'a') + text(50, 'b')});
}

// Urgent data through send_commit: SND.UP after the last octet committed (RFC 9293 §3.8.5).
TEST(zero_copy, send_commit__urgent_moves_the_urgent_pointer) {
  tcp_harness h;
  h.drive_to(s::established);
  reserve_and_commit(h, "!!", send_flags{.urgent = true});
  h.expect_recv(at_ms(0), seg{.seq = h.l(1), .ack = h.r(1), .flags = psh | urg, .payload = "!!", .urgent_ptr = 2});
}

// RFC 7413 §4.2.1: the reservation is the deferred SYN's first write — its room is what the SYN
// carries, and the SYN leaves with what is committed.
TEST(zero_copy, send_reserve__a_deferred_fast_open_syn_carries_the_commit) {
  const tcp_fast_open cookie = tcp_fast_open::of(std::array<std::byte, 4>{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}});
  tcp_harness h;
  ASSERT_TRUE(h.conn().connect(at_ms(0), h.tuple(), fast_open_client{cookie, 940, true}).has_value());
  EXPECT_TRUE(h.conn().fast_open_deferred());
  auto sp = h.conn().send_reserve(2000);
  ASSERT_TRUE(sp.has_value());
  EXPECT_EQ(sp->size(), 900u);  // 940 - 40, as send() takes
  EXPECT_FALSE(h.conn().fast_open_deferred());
  ASSERT_EQ(fill(*sp, "syn data"), 8u);
  h.conn().send_commit(8);
  h.expect_recv(at_ms(0), seg{.seq = local_iss, .flags = syn, .payload = "syn data", .fo = cookie});
}

}  // namespace
}  // namespace synack::test
