// The runner: scripts against a real host on virtual time — a pass, each kind of mismatch
// reported with its line, the relaxed rules, blocking calls and the adapters.
#include <gtest/gtest.h>

#include "synack/pkt/runner.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::pkt {
namespace {

constexpr std::string_view handshake =
    "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    "+0 bind(3, ..., ...) = 0\n"
    "+0 listen(3, 1) = 0\n"
    "+0 < S 0:0(0) win 65535 <mss 1460>\n"
    "+0 > S. 0:0(0) ack 1 <mss 1460>\n"
    "+.1 < . 1:1(0) ack 1 win 65535\n"
    "+0 accept(3, ..., ...) = 4\n";

run_options relaxed_options() {
  run_options o;
  o.mode = match_mode::relaxed;
  return o;
}

run_result run(std::string_view tail, match_mode m = match_mode::strict) {
  run_options o;
  o.mode = m;
  return run_text(std::string{handshake} + std::string{tail}, o);
}

TEST(pkt_runner, handshake_and_close_pass) {
  const auto r = run("+0 close(4) = 0\n+0 > F. 1:1(0) ack 1\n+.1 < F. 1:1(0) ack 2 win 65535\n+0 > . 2:2(0) ack 2\n"
                     "+0 %{ assert tcpi_state == TCPI_TIME_WAIT }%\n");
  EXPECT_EQ(r.what, verdict::pass) << r.message;
}

TEST(pkt_runner, a_field_mismatch_names_the_line_and_both_segments) {
  const auto r = run("+0 close(4) = 0\n+0 > F. 1:1(0) ack 7\n");
  EXPECT_EQ(r.what, verdict::fail);
  EXPECT_EQ(r.line, 9);
  EXPECT_NE(r.message.find("ack number"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("sent `F. 1:1(0) ack 1"), std::string::npos) << r.message;
}

TEST(pkt_runner, a_late_or_missing_packet_is_a_timing_failure) {
  const auto r = run("+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n+1.5 > P. 1:11(10) ack 1\n");
  EXPECT_EQ(r.what, verdict::fail);
  EXPECT_NE(r.message.find("timing"), std::string::npos) << r.message;
  const auto n = run("+0 > . 1:1(0) ack 1\n");
  EXPECT_EQ(n.what, verdict::fail);
  EXPECT_NE(n.message.find("nothing was sent"), std::string::npos) << n.message;
}

TEST(pkt_runner, wrong_errno_fails) {
  const auto r = run("+0 write(4, ..., 10) = -1 EPIPE (Broken pipe)\n");
  EXPECT_EQ(r.what, verdict::fail);
  EXPECT_NE(r.message.find("returned 10"), std::string::npos) << r.message;
}

TEST(pkt_runner, relaxed_excuses_window_and_option_order_only) {
  const auto strict = run("+0 close(4) = 0\n+0 > F. 1:1(0) ack 1 win 1000\n");
  EXPECT_EQ(strict.what, verdict::fail);
  const auto relaxed = run("+0 close(4) = 0\n+0 > F. 1:1(0) ack 1 win 1000\n", match_mode::relaxed);
  EXPECT_EQ(relaxed.what, verdict::pass) << relaxed.message;
  ASSERT_EQ(relaxed.relaxed.size(), 1u);
  EXPECT_EQ(relaxed.relaxed[0], relax_rule::window);
  const auto flags = run("+0 close(4) = 0\n+0 > R. 1:1(0) ack 1\n", match_mode::relaxed);
  EXPECT_EQ(flags.what, verdict::fail);
}

// fin_rexmit: FreeBSD's `F.` resending its unacknowledged FIN where the host sends the plain
// ACK <SEQ=SND.NXT><ACK=RCV.NXT> for the peer's FIN (FIN-WAIT-1 -> CLOSING). Only then: once
// the FIN is acknowledged, or with another ack, the flag and the sequence number count again.
TEST(pkt_runner, fin_rexmit_accepts_the_ack_for_freebsds_fin_resend) {
  constexpr std::string_view closing =
      "+0 shutdown(4, SHUT_WR) = 0\n+0 > F. 1:1(0) ack 1\n+.1 < F. 1:1(0) ack 1 win 65535\n";
  const std::string resend = std::string{closing} + "+0 > F. 1:1(0) ack 2\n";
  EXPECT_EQ(run(resend).what, verdict::fail);
  const auto r = run(resend + "+.1 < . 2:2(0) ack 2 win 65535\n+0 %{ assert tcpi_state == TCPI_TIME_WAIT }%\n",
                     match_mode::relaxed);
  EXPECT_EQ(r.what, verdict::pass) << r.message;
  ASSERT_EQ(r.relaxed.size(), 1u);
  EXPECT_EQ(r.relaxed[0], relax_rule::fin_rexmit);
  EXPECT_EQ(run(std::string{closing} + "+0 > F. 1:1(0) ack 1\n", match_mode::relaxed).what, verdict::fail);
  // Our FIN acknowledged (FIN-WAIT-2 -> TIME-WAIT): no FIN left to resend.
  EXPECT_EQ(run("+0 shutdown(4, SHUT_WR) = 0\n+0 > F. 1:1(0) ack 1\n+.1 < F. 1:1(0) ack 2 win 65535\n"
                "+0 > F. 1:1(0) ack 2\n",
                match_mode::relaxed)
                .what,
            verdict::fail);
}

// reset_errno: after an RST in CLOSE-WAIT posix/ reports Linux's EPIPE; FreeBSD's ECONNRESET
// is accepted for it then, and only then.
TEST(pkt_runner, reset_errno_only_after_a_reset_in_close_wait) {
  constexpr std::string_view tail =
      "+.1 < F. 1:1(0) ack 1 win 65535\n+0 > . 1:1(0) ack 2\n+.1 < R. 2:2(0) ack 1 win 65535\n"
      "+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0\n";
  EXPECT_EQ(run(tail).what, verdict::fail);
  const auto r = run(tail, match_mode::relaxed);
  EXPECT_EQ(r.what, verdict::pass) << r.message;
  ASSERT_EQ(r.relaxed.size(), 1u);
  EXPECT_EQ(r.relaxed[0], relax_rule::reset_errno);
  // A SYN in the window that the host answers with a reset (RFC 793's rule, rfc5961_syn off)
  // is a reset in CLOSE-WAIT too; with RFC 5961's challenge ACK nothing is reset.
  constexpr std::string_view syn =
      "+.1 < F. 1:1(0) ack 1 win 65535\n+0 > . 1:1(0) ack 2\n+.1 < S 2:2(0) win 65535\n"
      "+0 > R. 1:1(0) ack 2 win 0\n+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0\n";
  const auto s = run_text("// synack: rfc5961_syn=0\n" + std::string{handshake} + std::string{syn},
                          relaxed_options());
  EXPECT_EQ(s.what, verdict::pass) << "line " << s.line << ": " << s.message;
  EXPECT_EQ(run_text("// synack: rfc5961_syn=0\n" + std::string{handshake} + std::string{syn}, {}).what,
            verdict::fail);
  // In ESTABLISHED the errno is ECONNRESET anyway; EPIPE expected there is still wrong.
  EXPECT_EQ(run("+.1 < R. 1:1(0) ack 1 win 65535\n+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [EPIPE], [4]) = 0\n",
                match_mode::relaxed)
                .what,
            verdict::fail);
}

TEST(pkt_runner, blocking_read_returns_when_data_arrives) {
  const auto r = run("+0...0.2 read(4, ..., 100) = 10\n+.2 < P. 1:11(10) ack 1 win 65535\n");
  EXPECT_EQ(r.what, verdict::pass) << r.message;
}

TEST(pkt_runner, unsupported_things_are_reported_not_failed) {
  EXPECT_EQ(run("+0 `nstat -n`\n").what, verdict::unsupported);
  EXPECT_EQ(run("+0 %{ assert tcpi_snd_cwnd == 10 }%\n").what, verdict::unsupported);
  EXPECT_EQ(run_text("--ip_version=ipv6\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                     "+0 setsockopt(3, IPPROTO_IPV6, IPV6_UNICAST_HOPS, [4], 4) = 0\n",
                     {})
                .what,
            verdict::unsupported);
  EXPECT_EQ(run_text("--ip_version=ipv7\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", {}).what, verdict::fail);
}

// --ip_version=ipv6: AF_INET6 sockets, IPv6 packets between fd3d:fa7b:d17d::1 and 2001:db8::1.
// The MSS the host announces tells the families apart: 1440 over IPv6 (MTU 1500 less 60),
// 1460 over IPv4, so each run fails with the other's SYN-ACK.
// The handshake above as an IPv6 script: the host's SYN-ACK announces MSS 1440.
std::string handshake_v6() {
  std::string six{handshake};
  six.replace(six.find("<mss 1460>\n+.1"), 10, "<mss 1440>");
  return "--ip_version=ipv6\n" + six;
}

TEST(pkt_runner, ipv6_handshake_data_and_close_pass) {
  const std::string v6 = handshake_v6() +
                         "+0 getsockopt(4, IPPROTO_IPV6, IPV6_V6ONLY, [0], [4]) = 0\n"
                         "+0 write(4, ..., 2880) = 2880\n"
                         "+0 > . 1:1441(1440) ack 1\n"
                         "+0 > P. 1441:2881(1440) ack 1\n"
                         "+.1 < . 1:1(0) ack 2881 win 65535\n"
                         "+0 close(4) = 0\n"
                         "+0 > F. 2881:2881(0) ack 1\n"
                         "+.1 < F. 1:1(0) ack 2882 win 65535\n"
                         "+0 > . 2882:2882(0) ack 2\n"
                         "+0 %{ assert tcpi_state == TCPI_TIME_WAIT }%\n";
  const auto r = run_text(v6, {});
  EXPECT_EQ(r.what, verdict::pass) << "line " << r.line << ": " << r.message;
  std::string as_v4{v6};
  as_v4.replace(as_v4.find("ipv6"), 4, "ipv4");
  const auto r4 = run_text(as_v4, {});
  EXPECT_EQ(r4.what, verdict::fail);
  EXPECT_EQ(r4.line, 6);  // the SYN-ACK
  EXPECT_NE(r4.message.find("<mss 1460>"), std::string::npos) << r4.message;
}

// An active open over IPv6, and the same script as ipv4-mapped-ipv6: an AF_INET6 socket that
// connects to ::ffff:192.0.2.1, IPv4 on the wire (MSS 1460).
TEST(pkt_runner, ipv6_and_v4_mapped_active_open) {
  auto script = [](std::string_view version, int mss) {
    return "--ip_version=" + std::string{version} +
           "\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
           "+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n"
           "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
           "+0 > S 0:0(0) win 65535 <mss " +
           std::to_string(mss) + ",sackOK,TS val 100 ecr 0,nop,wscale 3>\n" +
           "+.1 < S. 0:0(0) ack 1 win 65535 <mss 1440>\n"
           "+0 > . 1:1(0) ack 1\n"
           "+0 %{ assert tcpi_state == TCPI_ESTABLISHED }%\n";
  };
  const auto v6 = run_text(script("ipv6", 1440), {});
  EXPECT_EQ(v6.what, verdict::pass) << "line " << v6.line << ": " << v6.message;
  const auto mapped = run_text(script("ipv4-mapped-ipv6", 1460), {});
  EXPECT_EQ(mapped.what, verdict::pass) << "line " << mapped.line << ": " << mapped.message;
  EXPECT_EQ(run_text(script("ipv4-mapped-ipv6", 1440), {}).what, verdict::fail);
}

// The checks on what the host sends: the run's family, TCP, the addresses and the checksum
// over that family's pseudo-header, each refused with its own message.
TEST(pkt_runner, sent_packets_are_checked_for_family_addresses_and_checksum) {
  const ip_addr host6{*ipv6_addr::parse("fd3d:fa7b:d17d::1")};
  const ip_addr peer6{*ipv6_addr::parse("2001:db8::1")};
  tcp_repr seg;
  seg.src_port = 8080;
  seg.dst_port = 40000;
  seg.flags = tcp_flag::ack;
  seg.ack = seq_num{1};
  seg.window = 1000;
  std::vector<std::byte> v6(ipv6_repr::buffer_len() + seg.buffer_len());
  ipv6_repr ip6;
  ip6.src = host6.v6();
  ip6.dst = peer6.v6();
  v6.resize(emit_tcp_datagram(v6, ip6, seg));
  const auto ok = sent_tcp_segment(v6, ip_version::ipv6, host6, peer6);
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->size(), 20u);

  auto bad = v6;
  bad[ipv6_repr::buffer_len() + 16] ^= std::byte{0x01};  // the TCP checksum's first octet
  const auto sum = sent_tcp_segment(bad, ip_version::ipv6, host6, peer6);
  ASSERT_FALSE(sum);
  EXPECT_NE(sum.error().find("wrong checksum"), std::string::npos) << sum.error();
  EXPECT_NE(sum.error().find("IPv6 pseudo-header"), std::string::npos) << sum.error();

  // The right bytes from another source: its checksum no longer fits either, but the address
  // is named first.
  const ip_addr other{*ipv6_addr::parse("fd3d:fa7b:d17d::2")};
  const auto from = sent_tcp_segment(v6, ip_version::ipv6, other, peer6);
  ASSERT_FALSE(from);
  EXPECT_NE(from.error().find("from fd3d:fa7b:d17d::1 to 2001:db8::1, expected from fd3d:fa7b:d17d::2"),
            std::string::npos)
      << from.error();

  const ip_addr host4{ipv4_addr::from_octets(192, 168, 0, 1)};
  const ip_addr peer4{ipv4_addr::from_octets(192, 0, 2, 1)};
  std::vector<std::byte> v4(ipv4_repr::buffer_len() + seg.buffer_len());
  ipv4_repr ip4;
  ip4.src = host4.v4();
  ip4.dst = peer4.v4();
  v4.resize(emit_tcp_datagram(v4, ip4, seg));
  const auto wrong = sent_tcp_segment(v4, ip_version::ipv6, host6, peer6);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), "the host sent an IPv4 packet where IPv6 was expected");
  EXPECT_TRUE(sent_tcp_segment(v4, ip_version::ipv4, host4, peer4));
  EXPECT_TRUE(sent_tcp_segment(v4, ip_version::ipv4_mapped_ipv6, host4, peer4));
  const auto reverse = sent_tcp_segment(v6, ip_version::ipv4, host4, peer4);
  ASSERT_FALSE(reverse);
  EXPECT_EQ(reverse.error(), "the host sent an IPv6 packet where IPv4 was expected");
}

// `< icmp ...` lines in an IPv6 script are ICMPv6 (RFC 4443) quoting the host's IPv6 segment:
// Destination Unreachable code 4 (port) refuses a connection in SYN-SENT, a quote outside the
// window is ignored (RFC 5927 §4.1), and Packet Too Big lowers the MSS to 1280 - 60.
TEST(pkt_runner, icmpv6_lines_reach_the_connection) {
  constexpr std::string_view refused =
      "--ip_version=ipv6\n"
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
      "+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n"
      "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
      "+0 > S 0:0(0) <...>\n"
      "+.1 < icmp unreachable port_unreachable [1:1(0)]\n"
      "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n"
      "+.1 < icmp unreachable port_unreachable [0:0(0)]\n"
      "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n";
  const auto r = run_text(refused, {});
  EXPECT_EQ(r.what, verdict::pass) << "line " << r.line << ": " << r.message;
  // An IPv4 code name with no ICMPv6 meaning is UNSUPPORTED, named as ICMPv6.
  std::string v4_name{refused};
  v4_name.replace(v4_name.rfind("port_unreachable"), 16, "frag_needed");
  const auto u = run_text(v4_name, {});
  EXPECT_EQ(u.what, verdict::unsupported);
  EXPECT_EQ(u.message, "ICMPv6 unreachable frag_needed");

  const auto ok = run_text(handshake_v6() +
                               "+0 write(4, ..., 1440) = 1440\n"
                               "+0 > P. 1:1441(1440) ack 1\n"
                               "+.01 < icmp packet_too_big mtu 1280 [1:1441(1440)]\n"
                               "+0 > . 1:1221(1220) ack 1\n"
                               "+0 > P. 1221:1441(220) ack 1\n",
                           {});
  EXPECT_EQ(ok.what, verdict::pass) << "line " << ok.line << ": " << ok.message;
}

// --mtu is the host's link MTU: the SYN's MSS is it less 40 (IPv4) or 60 (IPv6), as
// snd-syn/snd-syn-mss-inherited-from-mtu-* expect.
TEST(pkt_runner, mtu_option_sets_the_link_mtu) {
  auto syn = [](std::string_view version, std::string_view mtu, int mss) {
    return run_text("--ip_version=" + std::string{version} + "\n--mtu=" + std::string{mtu} +
                        "\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                        "+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n"
                        "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
                        "+0 > S 0:0(0) <mss " +
                        std::to_string(mss) + ",sackOK,TS val 100 ecr 0,nop,wscale 3>\n",
                    relaxed_options());
  };
  const auto v6 = syn("ipv6", "1280", 1220);
  EXPECT_EQ(v6.what, verdict::pass) << v6.message;
  const auto v4 = syn("ipv4", "1280", 1240);
  EXPECT_EQ(v4.what, verdict::pass) << v4.message;
  EXPECT_EQ(syn("ipv6", "1280", 1440).what, verdict::fail);
  EXPECT_EQ(syn("ipv4", "40", 1460).what, verdict::fail);
}

TEST(pkt_runner, directives_set_host_knobs) {
  EXPECT_EQ(parse_directives("// synack: msl=1000 rto_min=200\n").size(), 2u);
  const auto r = run_text("// synack: no_such_knob=1\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", {});
  EXPECT_EQ(r.what, verdict::fail);
}

// Keep-alive sysctls are defaults of new sockets: set after the host exists, they apply to the
// sockets created after them (FreeBSD in ms, Linux in s), not to those already open.
TEST(pkt_runner, keepalive_sysctls_apply_to_later_sockets) {
  const auto r = run_text(
      "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
      "+0 getsockopt(3, IPPROTO_TCP, TCP_KEEPIDLE, [7200], [4]) = 0\n"
      "+0 `sysctl -w net.inet.tcp.keepidle=15000 net.inet.tcp.keepcnt=4`\n"
      "+0 getsockopt(3, IPPROTO_TCP, TCP_KEEPIDLE, [7200], [4]) = 0\n"
      "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4\n"
      "+0 getsockopt(4, IPPROTO_TCP, TCP_KEEPIDLE, [15], [4]) = 0\n"
      "+0 getsockopt(4, IPPROTO_TCP, TCP_KEEPCNT, [4], [4]) = 0\n"
      "+0 `sysctl -w net.ipv4.tcp_keepalive_intvl=30`\n"
      "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 5\n"
      "+0 getsockopt(5, IPPROTO_TCP, TCP_KEEPINTVL, [30], [4]) = 0\n",
      run_options{});
  EXPECT_EQ(r.what, verdict::pass) << r.message;
}

TEST(pkt_runner, parse_errors_fail_with_the_column) {
  const auto r = run_text("+0 < S 0:0 win 10\n", {});
  EXPECT_EQ(r.what, verdict::fail);
  EXPECT_EQ(r.line, 1);
  EXPECT_NE(r.message.find("column"), std::string::npos);
}

}  // namespace
}  // namespace synack::pkt
