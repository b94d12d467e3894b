// What packetdrill scripts ask a socket most often beyond the basics (tcp(7), ip(7)):
// TCP_INFO with Linux's struct layout, TCP_CORK, TCP_NOTSENT_LOWAT, TCP_SYNCNT, TCP_INQ,
// the ioctls SIOCINQ / SIOCOUTQ / SIOCOUTQNSD, and IP_TOS reaching the IPv4 header.
// <linux/tcp.h> (not <netinet/tcp.h>, whose struct tcp_info is an older, shorter one) gives
// the kernel's layout to check against.
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstddef>

#include "posix/posix_harness.hpp"

namespace synack::ptest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

static_assert(tcp_cork == TCP_CORK && tcp_syncnt == TCP_SYNCNT && tcp_info == TCP_INFO);
static_assert(tcp_notsent_lowat == TCP_NOTSENT_LOWAT && tcp_inq == TCP_INQ && tcp_inq == TCP_CM_INQ);
static_assert(ipproto_ip == IPPROTO_IP && ip_tos == IP_TOS && msg_more == MSG_MORE);
static_assert(siocinq == SIOCINQ && siocoutq == SIOCOUTQ && siocoutqnsd == SIOCOUTQNSD);
static_assert(siocinq == FIONREAD && siocoutq == TIOCOUTQ);
static_assert(tcpi_opt_timestamps == TCPI_OPT_TIMESTAMPS && tcpi_opt_sack == TCPI_OPT_SACK);
static_assert(tcpi_opt_wscale == TCPI_OPT_WSCALE && tcpi_opt_ecn == TCPI_OPT_ECN);
static_assert(tcp_ca_loss == TCP_CA_Loss && tcp_ca_recovery == TCP_CA_Recovery && tcp_ca_disorder == TCP_CA_Disorder);

using kernel_info = struct ::tcp_info;
// The system's header may end at an older kernel's last field (tcpi_snd_wnd in Debian's
// linux-libc-dev of 2026 ends the struct at 232 octets); synack's is Linux 6.18's, 280 octets,
// the same up to there and longer.
static_assert(sizeof(tcp_info_data) >= sizeof(kernel_info));
static_assert(sizeof(tcp_info_data) == 280 && offsetof(tcp_info_data, rcv_wnd) == 232);
static_assert(offsetof(tcp_info_data, total_rto) == 240 && offsetof(tcp_info_data, ecn_bits) == 276);
static_assert(tcpi_opt_syn_data == TCPI_OPT_SYN_DATA && tcp_cc_info == TCP_CC_INFO && so_meminfo == SO_MEMINFO);
static_assert(sk_meminfo_vars == SK_MEMINFO_VARS);
#define SAME_OFFSET(f) static_assert(offsetof(tcp_info_data, f) == offsetof(kernel_info, tcpi_##f), #f)
SAME_OFFSET(state);
SAME_OFFSET(ca_state);
SAME_OFFSET(retransmits);
SAME_OFFSET(probes);
SAME_OFFSET(backoff);
SAME_OFFSET(options);
SAME_OFFSET(rto);
SAME_OFFSET(ato);
SAME_OFFSET(snd_mss);
SAME_OFFSET(rcv_mss);
SAME_OFFSET(unacked);
SAME_OFFSET(sacked);
SAME_OFFSET(lost);
SAME_OFFSET(retrans);
SAME_OFFSET(fackets);
SAME_OFFSET(last_data_sent);
SAME_OFFSET(last_ack_sent);
SAME_OFFSET(last_data_recv);
SAME_OFFSET(last_ack_recv);
SAME_OFFSET(pmtu);
SAME_OFFSET(rcv_ssthresh);
SAME_OFFSET(rtt);
SAME_OFFSET(rttvar);
SAME_OFFSET(snd_ssthresh);
SAME_OFFSET(snd_cwnd);
SAME_OFFSET(advmss);
SAME_OFFSET(reordering);
SAME_OFFSET(rcv_rtt);
SAME_OFFSET(rcv_space);
SAME_OFFSET(total_retrans);
SAME_OFFSET(pacing_rate);
SAME_OFFSET(max_pacing_rate);
SAME_OFFSET(bytes_acked);
SAME_OFFSET(bytes_received);
SAME_OFFSET(segs_out);
SAME_OFFSET(segs_in);
SAME_OFFSET(notsent_bytes);
SAME_OFFSET(min_rtt);
SAME_OFFSET(data_segs_in);
SAME_OFFSET(data_segs_out);
SAME_OFFSET(delivery_rate);
SAME_OFFSET(busy_time);
SAME_OFFSET(rwnd_limited);
SAME_OFFSET(sndbuf_limited);
SAME_OFFSET(delivered);
SAME_OFFSET(delivered_ce);
SAME_OFFSET(bytes_sent);
SAME_OFFSET(bytes_retrans);
SAME_OFFSET(dsack_dups);
SAME_OFFSET(reord_seen);
SAME_OFFSET(rcv_ooopack);
SAME_OFFSET(snd_wnd);
#undef SAME_OFFSET

tcp_info_data get_info(socket_table& t, int fd) {
  tcp_info_data ti;
  auto n = t.getsockopt(fd, ipproto_tcp, tcp_info, std::as_writable_bytes(std::span{&ti, 1}));
  EXPECT_TRUE(n.has_value());
  if (n) {
    EXPECT_EQ(*n, sizeof ti);
  }
  return ti;
}

// Linux's linux_established, linux_close, linux_listen (the enum of <netinet/tcp.h>, which
// cannot be included beside <linux/tcp.h>).
constexpr int linux_established = 1;
constexpr int linux_close = 7;
constexpr int linux_listen = 10;

int ioctl_value(socket_table& t, int fd, unsigned long request) {
  auto r = t.ioctl(fd, request);
  return r ? *r : -r.error();
}

std::size_t data_segments(const net& n) {
  std::size_t count = 0;
  for (const tcp_repr& r : n.a_segments()) count += r.payload.empty() ? 0u : 1u;
  return count;
}

TEST(posix_tcp_info, wscale_nibbles_match_the_kernel_bitfields) {
  kernel_info k{};
  k.tcpi_snd_wscale = 7;
  k.tcpi_rcv_wscale = 9;
  tcp_info_data ours;
  std::memcpy(static_cast<void*>(&ours), &k, sizeof k);
  EXPECT_EQ(ours.wscales, (9 << 4) | 7);
}

TEST(posix_tcp_info, sockets_without_a_connection) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream, 0);
  tcp_info_data ti = get_info(n.a, fd);
  EXPECT_EQ(ti.state, linux_close);
  EXPECT_EQ(ti.snd_mss, 536u);
  EXPECT_EQ(ti.advmss, 1460u);
  EXPECT_EQ(ti.snd_ssthresh, tcp_infinite_ssthresh);
  const int l = n.b_listener(80, 4);
  ti = get_info(n.b, l);
  EXPECT_EQ(ti.state, linux_listen);
  auto c = n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  (void)n.a.connect(n.now, *c, {b_ip, 80});
  n.pump();
  EXPECT_EQ(get_info(n.b, l).unacked, 1u) << "a listener reports its accept queue";
  std::array<std::byte, 8> small{};
  auto len = n.a.getsockopt(fd, ipproto_tcp, tcp_info, small);
  ASSERT_TRUE(len.has_value());
  EXPECT_EQ(*len, small.size()) << "truncated to the caller's length";
  EXPECT_EQ(std::to_integer<int>(small[0]), linux_close);
}

TEST(posix_tcp_info, an_established_connection_sending) {
  net n;
  const int l = n.b_listener();
  auto [c, s] = n.connected(l);
  n.drop_a_to_b = true;
  const std::string data(3000, 'x');
  ASSERT_EQ(*n.a.send(c, as_bytes(data)), data.size());
  n.pump();
  tcp_info_data ti = get_info(n.a, c);
  EXPECT_EQ(ti.state, linux_established);
  EXPECT_EQ(ti.ca_state, tcp_ca_open);
  EXPECT_EQ(ti.options, tcpi_opt_timestamps | tcpi_opt_sack | tcpi_opt_wscale);
  const connection& conn = *n.ha.find(*n.a.connection_of(c));
  EXPECT_EQ(ti.wscales & 0xf, conn.snd().wscale);
  EXPECT_EQ(ti.wscales >> 4, conn.rcv().wscale);
  EXPECT_EQ(ti.snd_mss, 1448u) << "mss_cache: the MSS less the timestamp option";
  EXPECT_EQ(ti.advmss, 1460u);
  EXPECT_EQ(ti.unacked, 2u) << "two full segments in flight";
  EXPECT_EQ(ti.bytes_sent, 2896u);
  EXPECT_EQ(ti.bytes_acked, 0u);
  EXPECT_EQ(ti.notsent_bytes, 104u) << "Nagle holds the runt";
  EXPECT_EQ(ti.snd_cwnd, conn.snapshot().cwnd / 1448);
  EXPECT_EQ(ti.rto, static_cast<std::uint32_t>(conn.snapshot().rto.count()));
  EXPECT_EQ(ti.pmtu, 1500u);
  EXPECT_EQ(ti.reordering, 3u);
  // The timer retransmits: CA_Loss, one retransmission counted.
  n.run_for(conn.snapshot().rto + milliseconds(1));
  ti = get_info(n.a, c);
  EXPECT_EQ(ti.ca_state, tcp_ca_loss);
  EXPECT_EQ(ti.retransmits, 1);
  EXPECT_GE(ti.total_retrans, 1u);
  n.drop_a_to_b = false;
  n.run_for(seconds(5));
  ti = get_info(n.a, c);
  EXPECT_EQ(ti.bytes_acked, 3000u);
  EXPECT_EQ(ti.unacked, 0u);
  EXPECT_EQ(ti.ca_state, tcp_ca_open);
  EXPECT_GT(ti.rtt, 0u);
  const tcp_info_data tb = get_info(n.b, s);
  EXPECT_EQ(tb.bytes_received, 3000u);
}

// SO_MEMINFO (sk_get_meminfo's nine values) and TCP_CC_INFO (none for Reno and CUBIC), which
// packetdrill reads beside TCP_INFO for a script's %{ }% block.
TEST(posix_meminfo, octets_held_each_way_and_no_congestion_control_info) {
  net n;
  const int l = n.b_listener();
  auto [c, s] = n.connected(l);
  std::array<std::uint32_t, SK_MEMINFO_VARS> m{};
  auto len = n.a.getsockopt(c, sol_socket, so_meminfo, std::as_writable_bytes(std::span{m}));
  ASSERT_TRUE(len.has_value());
  EXPECT_EQ(*len, sizeof m);
  EXPECT_EQ(m[SK_MEMINFO_RCVBUF], static_cast<std::uint32_t>(net::get_int(n.a, c, sol_socket, so_rcvbuf)));
  EXPECT_EQ(m[SK_MEMINFO_SNDBUF], static_cast<std::uint32_t>(net::get_int(n.a, c, sol_socket, so_sndbuf)));
  EXPECT_EQ(m[SK_MEMINFO_RMEM_ALLOC], 0u);
  EXPECT_EQ(m[SK_MEMINFO_WMEM_QUEUED], 0u);
  // 3000 octets unacknowledged at a (b hears nothing), 700 unread at b.
  n.drop_a_to_b = true;
  ASSERT_EQ(*n.a.send(c, as_bytes(std::string(3000, 'x'))), 3000u);
  n.pump();
  n.drop_a_to_b = false;
  ASSERT_EQ(*n.b.send(s, as_bytes(std::string(700, 'y'))), 700u);
  n.pump();
  ASSERT_TRUE(n.a.getsockopt(c, sol_socket, so_meminfo, std::as_writable_bytes(std::span{m})).has_value());
  EXPECT_EQ(m[SK_MEMINFO_WMEM_QUEUED], 3000u);
  EXPECT_EQ(m[SK_MEMINFO_RMEM_ALLOC], 700u);
  // A shorter buffer gets the first values.
  std::array<std::uint32_t, 2> two{};
  len = n.a.getsockopt(c, sol_socket, so_meminfo, std::as_writable_bytes(std::span{two}));
  ASSERT_TRUE(len.has_value());
  EXPECT_EQ(*len, sizeof two);
  EXPECT_EQ(two[0], 700u);
  std::array<std::byte, 64> cc{};
  len = n.a.getsockopt(c, ipproto_tcp, tcp_cc_info, cc);
  ASSERT_TRUE(len.has_value());
  EXPECT_EQ(*len, 0u);
  // tcpi_rcv_wnd (Linux 6.7) is the window a offers.
  EXPECT_EQ(get_info(n.a, c).rcv_wnd, n.ha.internals(*n.a.connection_of(c))->rcv_wnd);
}

TEST(posix_cork, holds_small_writes_until_uncorked_and_nodelay_pushes) {
  net n;
  const int l = n.b_listener();
  auto [c, s] = n.connected(l);
  EXPECT_EQ(net::get_int(n.a, c, ipproto_tcp, tcp_cork), 0);
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_cork, 5), 0);
  EXPECT_EQ(net::get_int(n.a, c, ipproto_tcp, tcp_cork), 1);
  (void)n.a.send(c, as_bytes("hello"));
  n.run_for(milliseconds(50));
  EXPECT_EQ(data_segments(n), 0u) << "corked, though nothing is in flight";
  (void)n.a.send(c, as_bytes(" world"));
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_cork, 0), 0);
  n.pump();
  ASSERT_EQ(data_segments(n), 1u);
  EXPECT_EQ(net::read_some(n.b, s), "hello world");
  // Corked again: TCP_NODELAY pushes what is held (Linux's TCP_NAGLE_PUSH), the cork stays.
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_cork, 1), 0);
  (void)n.a.send(c, as_bytes("abc"));
  n.pump();
  EXPECT_EQ(data_segments(n), 1u);
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_nodelay, 1), 0);
  n.pump();
  EXPECT_EQ(data_segments(n), 2u);
  EXPECT_EQ(net::get_int(n.a, c, ipproto_tcp, tcp_cork), 1);
  // A held segment goes when the persist timer's override fires (about an RTO).
  (void)n.a.send(c, as_bytes("def"));
  n.pump();
  EXPECT_EQ(data_segments(n), 2u);
  n.run_for(seconds(2));
  EXPECT_EQ(data_segments(n), 3u);
  // A FIN is not held.
  (void)n.a.send(c, as_bytes("ghi"));
  EXPECT_EQ(err(n.a.shutdown(n.now, c, shut_wr)), 0);
  n.pump();
  EXPECT_EQ(data_segments(n), 4u);
  EXPECT_EQ(net::read_some(n.b, s), "abcdefghi");
}

// Linux's MSG_MORE (tcp_push with TCP_NAGLE_CORK for the write): its bytes carry no push
// point, and a runt of them waits, whatever TCP_NODELAY says, for a write without the flag,
// an arriving ACK, TCP_NODELAY being set, or the persist timer (which pushes it: PSH).
TEST(posix_msg_more, holds_the_runt_and_moves_the_push_point) {
  net n;
  const int l = n.b_listener();
  auto [c, s] = n.connected(l);
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_nodelay, 1), 0);
  const auto psh = [](const tcp_repr& r) { return r.psh(); };
  EXPECT_EQ(err(n.a.send(c, as_bytes("abc"), msg_more)), 0);
  EXPECT_EQ(err(n.a.send(c, as_bytes("def"), msg_more)), 0);
  n.run_for(milliseconds(50));
  EXPECT_EQ(data_segments(n), 0u) << "held, though TCP_NODELAY is set and nothing is in flight";
  EXPECT_EQ(err(n.a.send(c, as_bytes("gh"))), 0);
  n.pump();
  ASSERT_EQ(data_segments(n), 1u);
  EXPECT_TRUE(psh(n.a_segments().back())) << "a write without MSG_MORE pushes all queued";
  EXPECT_EQ(net::read_some(n.b, s), "abcdefgh");

  // More than an MSS: the full segments go at once, unpushed; the runt after them waits for
  // the ACK, and goes without PSH (no write ended there without MSG_MORE).
  const std::string big(3000, 'x');
  n.a_sent.clear();
  n.drop_b_to_a = true;
  EXPECT_EQ(err(n.a.send(c, as_bytes(big), msg_more)), 0);
  n.pump();
  std::vector<tcp_repr> segs = n.a_segments();
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].payload.size() + segs[1].payload.size(), 3000u - static_cast<std::size_t>(ioctl_value(n.a, c, siocoutqnsd)));
  EXPECT_GT(ioctl_value(n.a, c, siocoutqnsd), 0) << "the runt is held";
  EXPECT_FALSE(psh(segs[0]) || psh(segs[1]));
  n.drop_b_to_a = false;
  n.run_for(milliseconds(300));  // the peer's (delayed or retransmission-driven) ACK arrives
  segs = n.a_segments();
  EXPECT_EQ(ioctl_value(n.a, c, siocoutqnsd), 0);
  for (const tcp_repr& r : segs) EXPECT_FALSE(psh(r)) << "nothing here was pushed";
  EXPECT_EQ(net::read_some(n.b, s), big);
  n.run_for(milliseconds(300));  // the reader's window update arrives (an ACK: it would release)

  // Alone and never followed: the persist timer lets it go about an RTO later, pushed.
  n.a_sent.clear();
  EXPECT_EQ(err(n.a.send(c, as_bytes("tail"), msg_more)), 0);
  n.pump();
  EXPECT_EQ(data_segments(n), 0u);
  n.run_for(seconds(2));
  ASSERT_EQ(data_segments(n), 1u);
  EXPECT_TRUE(psh(n.a_segments().back()));
  EXPECT_EQ(net::read_some(n.b, s), "tail");
  n.run_for(milliseconds(300));

  // TCP_NODELAY set lets a held runt go at once, still unpushed (Linux's TCP_NAGLE_PUSH).
  n.a_sent.clear();
  EXPECT_EQ(err(n.a.send(c, as_bytes("12"), msg_more)), 0);
  n.pump();
  EXPECT_EQ(data_segments(n), 0u);
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_nodelay, 1), 0);
  n.pump();
  ASSERT_EQ(data_segments(n), 1u);
  EXPECT_FALSE(psh(n.a_segments().back()));
}

TEST(posix_notsent_lowat, bounds_pollout_by_unsent_bytes) {
  net n;
  const int l = n.b_listener();
  auto [c, s] = n.connected(l);
  EXPECT_EQ(net::get_int(n.a, c, ipproto_tcp, tcp_notsent_lowat), 0);
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_notsent_lowat, 1000), 0);
  EXPECT_EQ(net::get_int(n.a, c, ipproto_tcp, tcp_notsent_lowat), 1000);
  EXPECT_EQ(revents(n.a, c) & out, out);
  // The peer's window closed: what we write stays unsent.
  n.drop_a_to_b = true;
  (void)n.a.send(c, as_bytes(std::string(400, 'a')));
  EXPECT_EQ(ioctl_value(n.a, c, siocoutqnsd), 400) << "not yet polled out";
  n.pump();
  EXPECT_EQ(ioctl_value(n.a, c, siocoutqnsd), 0) << "in flight";
  EXPECT_EQ(ioctl_value(n.a, c, siocoutq), 400);
  EXPECT_EQ(revents(n.a, c) & out, out);
  (void)n.a.send(c, as_bytes(std::string(600, 'b')));
  n.pump();
  EXPECT_EQ(ioctl_value(n.a, c, siocoutqnsd), 600) << "Nagle holds the runt";
  EXPECT_EQ(revents(n.a, c) & out, 0) << "2 x 600 unsent >= 1000";
  EXPECT_EQ(net::set_int(n.a, n.now, c, ipproto_tcp, tcp_notsent_lowat, 1201), 0);
  EXPECT_EQ(revents(n.a, c) & out, out);
}

TEST(posix_syncnt, limits_and_gives_up_after_that_many_syn_retransmissions) {
  net n;
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_syncnt), 6) << "180 s of SYNs: Linux's default 6";
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_syncnt, 0), EINVAL);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_syncnt, 128), EINVAL);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_tcp, tcp_syncnt, 2), 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_tcp, tcp_syncnt), 2);
  n.drop_a_to_b = true;
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  n.run_until(instant::zero() + milliseconds(6999));
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EALREADY) << "SYNs at 0, 1, 3 s; gives up at 7 s";
  n.run_until(instant::zero() + seconds(7));
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), ETIMEDOUT);
  EXPECT_EQ(n.a_segments().size(), 3u);
  tcp_config c;
  EXPECT_EQ(syn_give_up_after(c, 5), seconds(63));
  EXPECT_EQ(syn_give_up_after(c, 7), seconds(1 + 2 + 4 + 8 + 16 + 32 + 60 + 60)) << "each RTO at most rto_max";
}

TEST(posix_inq, option_hint_and_ioctls) {
  net n;
  const int l = n.b_listener();
  EXPECT_EQ(err(n.b.ioctl(l, siocinq)), EINVAL) << "a listener";
  EXPECT_EQ(err(n.b.ioctl(l, siocoutq)), EINVAL);
  EXPECT_EQ(err(n.b.ioctl(99, siocinq)), EBADF);
  EXPECT_EQ(err(n.b.ioctl(l, 0x5401)), ENOTTY);
  auto [c, s] = n.connected(l);
  EXPECT_EQ(net::get_int(n.b, s, ipproto_tcp, tcp_inq), 0);
  EXPECT_EQ(n.b.inq_hint(s).value(), std::nullopt);
  EXPECT_EQ(net::set_int(n.b, n.now, s, ipproto_tcp, tcp_inq, 2), EINVAL);
  EXPECT_EQ(net::set_int(n.b, n.now, s, ipproto_tcp, tcp_inq, 1), 0);
  EXPECT_EQ(net::get_int(n.b, s, ipproto_tcp, tcp_inq), 1);
  (void)n.a.send(c, as_bytes("0123456789"));
  EXPECT_EQ(ioctl_value(n.a, c, siocoutq), 10);
  n.run_for(milliseconds(100));
  EXPECT_EQ(ioctl_value(n.a, c, siocoutq), 0) << "acknowledged";
  EXPECT_EQ(ioctl_value(n.b, s, siocinq), 10);
  EXPECT_EQ(n.b.inq_hint(s).value(), std::optional<int>{10});
  EXPECT_EQ(net::read_some(n.b, s, 4), "0123");
  EXPECT_EQ(n.b.inq_hint(s).value(), std::optional<int>{6});
  EXPECT_EQ(net::read_some(n.b, s), "456789");
  EXPECT_EQ(n.b.inq_hint(s).value(), std::optional<int>{0});
  EXPECT_EQ(err(n.a.shutdown(n.now, c, shut_wr)), 0);
  n.pump();
  EXPECT_EQ(n.b.inq_hint(s).value(), std::optional<int>{1}) << "the FIN came: 1, as tcp_inq_hint";
}

TEST(posix_ip_tos, round_trip_keeps_ecn_bits_and_marks_packets) {
  net n;
  const int l = n.b_listener();
  const int fd = *n.a.socket(af_inet, sock_stream | sock_nonblock, 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_ip, ip_tos), 0);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_ip, ip_tos, 0x13), 0);
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_ip, ip_tos), 0x10) << "the ECN bits are the stack's";
  const std::uint8_t one = 0x28;
  EXPECT_EQ(err(n.a.setsockopt(n.now, fd, ipproto_ip, ip_tos, opt_bytes(one))), 0) << "one octet will do";
  EXPECT_EQ(net::get_int(n.a, fd, ipproto_ip, ip_tos), 0x28);
  EXPECT_EQ(err(n.a.setsockopt(n.now, fd, ipproto_ip, ip_tos, bytes{})), EINVAL);
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_ip, 99, 1), ENOPROTOOPT);
  EXPECT_EQ(err(n.a.connect(n.now, fd, {b_ip, 80})), EINPROGRESS);
  n.pump();
  ASSERT_FALSE(n.a_sent.empty());
  EXPECT_EQ(std::to_integer<int>(n.a_sent.front()[1]), 0x28) << "the SYN carries it";
  auto s = n.b.accept(l);
  ASSERT_TRUE(s.has_value());
  (void)n.a.send(fd, as_bytes("x"));
  EXPECT_EQ(net::set_int(n.a, n.now, fd, ipproto_ip, ip_tos, 0x04), 0);
  n.a_sent.clear();
  (void)n.a.send(fd, as_bytes("y"));
  n.run_for(seconds(1));
  ASSERT_FALSE(n.a_sent.empty());
  EXPECT_EQ(std::to_integer<int>(n.a_sent.back()[1]), 0x04) << "a live connection takes a new value";
}

}  // namespace
}  // namespace synack::ptest

namespace synack::ptest {
namespace {

// Linux's children take the listener's options as they are when the SYN comes, so options
// set after listen() count (packetdrill's mss-setsockopt-tcp_maxseg-server).
TEST(posix_listener_options, set_after_listen_reach_new_connections) {
  net n;
  const int l = n.b_listener();
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_maxseg, 1100), 0);
  EXPECT_EQ(net::set_int(n.b, n.now, l, ipproto_tcp, tcp_nodelay, 1), 0);
  auto [c, s] = n.connected(l);
  EXPECT_EQ(n.ha.find(*n.a.connection_of(c))->snd().mss, 1100) << "b's SYN-ACK announced 1100";
  EXPECT_TRUE(n.hb.find(*n.b.connection_of(s))->config().no_delay);
}

}  // namespace
}  // namespace synack::ptest
