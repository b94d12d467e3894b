// The packetdrill parser: every form of the core subset, the preprocessor, and errors that
// point at line:column.
#include <gtest/gtest.h>

#include "synack/pkt/parser.hpp"

namespace synack::pkt {
namespace {

script parse_ok(std::string_view text) {
  auto s = parse_script(text);
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? *s : script{};
}

TEST(pkt_parser, header_options_and_timing_forms) {
  const auto s = parse_ok(
      "--tolerance_usecs=75000\n--ip_version=ipv4\n"
      "0.100 `sysctl -w a=1`\n+.01 close(3) = 0\n* > S. 0:0(0) ack 1\n"
      "+0~+0.04 > . 1:1(0) ack 1\n+0...0.200 accept(3, ..., ...) = 4\n");
  ASSERT_EQ(s.events.size(), 5u);
  EXPECT_EQ(s.option("tolerance_usecs"), "75000");
  EXPECT_EQ(s.events[0].time.what, event_time::kind::absolute);
  EXPECT_EQ(s.events[0].time.start_us, 100000);
  EXPECT_EQ(s.events[1].time.what, event_time::kind::relative);
  EXPECT_EQ(s.events[1].time.start_us, 10000);
  EXPECT_EQ(s.events[2].time.what, event_time::kind::any);
  EXPECT_EQ(s.events[3].time.end_us, 40000);
  EXPECT_TRUE(s.events[3].time.end_relative);
  EXPECT_TRUE(s.events[4].time.blocking);
  EXPECT_EQ(s.events[4].time.end_us, 200000);
}

TEST(pkt_parser, packet_line_with_every_field) {
  const auto s = parse_ok(
      "+0 < SEW 10:20(10) ack 5 win 65535 urg 3 <mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0,sack 1:2 3:4,eol>\n");
  const auto& p = std::get<packet_spec>(s.events.at(0).body);
  EXPECT_TRUE(p.inbound);
  EXPECT_EQ(p.flags, flag::syn | flag::ece | flag::cwr);
  EXPECT_EQ(p.seq, 10u);
  EXPECT_EQ(p.len, 10u);
  EXPECT_EQ(p.ack, 5u);
  EXPECT_EQ(p.win, 65535u);
  EXPECT_EQ(p.urg, 3u);
  ASSERT_TRUE(p.options.has_value());
  ASSERT_EQ(p.options->size(), 7u);
  EXPECT_EQ((*p.options)[4].what, tcp_option_spec::kind::timestamps);
  EXPECT_EQ((*p.options)[4].a, 100u);
  EXPECT_EQ((*p.options)[5].blocks.size(), 2u);
}

TEST(pkt_parser, outbound_any_seq_unchecked_options_and_ports) {
  const auto s = parse_ok("+0 > S. ...(0) ack 1 <...>\n+0 < 40001>8080 F. 1:1(0) ack 2 win 100\n");
  const auto& a = std::get<packet_spec>(s.events.at(0).body);
  EXPECT_FALSE(a.inbound);
  EXPECT_TRUE(a.any_seq);
  EXPECT_TRUE(a.options_any);
  EXPECT_FALSE(a.win.has_value());
  const auto& b = std::get<packet_spec>(s.events.at(1).body);
  EXPECT_EQ(b.remote_port, 40001);
  EXPECT_EQ(b.local_port, 8080);
}

TEST(pkt_parser, syscalls_with_errno_note_arrays_and_structs) {
  const auto s = parse_ok(
      "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
      "+0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n"
      "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0\n"
      "+0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
      "+0 fcntl(3, F_GETFL) = 0x02 (flags O_RDWR)\n");
  const auto& c = std::get<syscall_spec>(s.events.at(0).body);
  EXPECT_EQ(c.name, "connect");
  EXPECT_EQ(c.result, -1);
  EXPECT_EQ(c.errno_name, "EINPROGRESS");
  EXPECT_EQ(c.note, "Operation now in progress");
  EXPECT_EQ(std::get<syscall_spec>(s.events.at(1).body).args.at(2).what, expr::kind::bit_or);
  EXPECT_EQ(std::get<syscall_spec>(s.events.at(2).body).args.at(3).what, expr::kind::list);
  EXPECT_EQ(std::get<syscall_spec>(s.events.at(3).body).args.at(3).items.size(), 2u);
  EXPECT_EQ(std::get<syscall_spec>(s.events.at(4).body).result, 2);
}

TEST(pkt_parser, code_and_shell_blocks_keep_their_text) {
  const auto s = parse_ok("+0 %{ assert tcpi_state == TCPI_LISTEN }%\n+0 `sockstat -4 | grep -c X | grep 1`\n");
  EXPECT_EQ(std::get<code_block>(s.events.at(0).body).text, " assert tcpi_state == TCPI_LISTEN ");
  EXPECT_EQ(std::get<shell_cmd>(s.events.at(1).body).text, "sockstat -4 | grep -c X | grep 1");
}

TEST(pkt_parser, ifdef_keeps_the_standard_branch_and_line_numbers) {
  const auto s = parse_ok("#ifdef STANDARD\n+0 close(3) = 0\n#else\n+0 close(4) = 0\n#endif\n"
                          "#ifdef FreeBSD\n+0 close(5) = 0\n#endif\n+0 close(6) = 0\n");
  ASSERT_EQ(s.events.size(), 2u);
  EXPECT_EQ(s.events[0].pos.line, 2);
  EXPECT_EQ(s.events[1].pos.line, 9);
}

TEST(pkt_parser, errors_point_at_line_and_column) {
  const auto s = parse_script("+0 close(3) = 0\n+0 < S 0:0 win 10\n");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().pos.line, 2);
  EXPECT_EQ(s.error().pos.column, 12);
  EXPECT_FALSE(s.error().unsupported);
  EXPECT_FALSE(parse_script("#ifdef X\n").has_value());
}

TEST(pkt_parser, unsupported_features_are_marked) {
  const auto s = parse_script("+0 > S 0:0(0) <mss 1460,FO abcd>\n");
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().unsupported);
}

}  // namespace
}  // namespace synack::pkt
