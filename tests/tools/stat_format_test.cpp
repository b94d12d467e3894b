// `synack stat` output (tools/lib/control.cpp format_stat) for a listener under a SYN flood:
// the --state SYN-RECEIVED filter, the per-listener view and the cookie counters in text and
// JSON. The host is driven directly with packets; no process, no socket.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::tools {
namespace {

constexpr ipv4_addr host_ip = ipv4_addr::from_octets(10, 77, 0, 2);
constexpr ipv4_addr peer_ip = ipv4_addr::from_octets(10, 77, 0, 1);

std::vector<std::byte> syn_from(std::uint16_t port) {
  tcp_repr s;
  s.src_port = port;
  s.dst_port = 80;
  s.seq = seq_num{1000};
  s.flags = tcp_flag::syn;
  s.window = 65535;
  std::vector<std::byte> p(ipv4_repr::buffer_len() + s.buffer_len());
  (void)emit_tcp_datagram(p, ipv4_repr{.src = peer_ip, .dst = host_ip}, s);
  return p;
}

// Two half-open connections fill the SYN queue; three more SYNs get cookies.
struct flooded_host {
  host h{[] {
    host_config c;
    c.addr = host_ip;
    c.syn_backlog = 2;
    return c;
  }()};
  flooded_host() {
    EXPECT_TRUE(h.listen(80, 8).has_value());
    std::array<std::byte, 2048> out{};
    for (std::uint16_t p = 5000; p < 5005; ++p) {
      h.on_packet(instant{}, syn_from(p));
      while (h.poll_transmit(instant{}, out)) {
      }
    }
  }
};

TEST(stat_format, state_filter_lists_the_half_open_connections) {
  flooded_host f;
  stat_request req;
  req.state = parse_tcp_state("syn-received");  // the spelling of the README
  ASSERT_TRUE(req.state.has_value());
  const std::string out = format_stat(f.h, instant{}, req, "test");
  std::size_t rows = 0;
  for (std::size_t at = out.find("\nSYN-RECEIVED"); at != std::string::npos; at = out.find("\nSYN-RECEIVED", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 2u) << out;
  EXPECT_EQ(out.find("\nLISTEN"), std::string::npos) << out;
  EXPECT_NE(out.find("syncookies_sent 3 syncookies_recv 0 syncookies_failed 0"), std::string::npos) << out;
}

TEST(stat_format, listener_view_and_json) {
  flooded_host f;
  stat_request req;
  req.listeners = true;
  const std::string text = format_stat(f.h, instant{}, req, "test");
  EXPECT_NE(text.find("SYN-Q"), std::string::npos) << text;
  EXPECT_NE(text.find("Cookies-sent"), std::string::npos) << text;
  // 10.77.0.2:80, SYN-Q 2 of 2, accept queue 0 of 8, 3 cookies sent, none back, no drops.
  EXPECT_NE(text.find("10.77.0.2:80"), std::string::npos) << text;
  EXPECT_EQ(text.find("SYN-RECEIVED"), std::string::npos) << text;
  std::string row = text.substr(text.find("10.77.0.2:80"));
  row = row.substr(0, row.find('\n'));
  std::vector<std::string> cols;
  for (std::size_t i = 0; i < row.size();) {
    const std::size_t j = row.find_first_not_of(' ', i);
    if (j == std::string::npos) break;
    const std::size_t k = row.find(' ', j);
    cols.push_back(row.substr(j, k == std::string::npos ? std::string::npos : k - j));
    i = k == std::string::npos ? row.size() : k;
  }
  EXPECT_EQ(cols, (std::vector<std::string>{"10.77.0.2:80", "2", "2", "0", "8", "3", "0", "0"})) << row;

  stat_request json;
  json.json = true;
  const std::string j = format_stat(f.h, instant{}, json, "test");
  EXPECT_NE(j.find("\"syncookies_sent\":3,\"syncookies_recv\":0,\"syncookies_failed\":0"), std::string::npos) << j;
  EXPECT_NE(j.find("\"syn_queue\":2,\"accept_queue\":0,\"backlog\":8,\"syn_backlog\":2,\"cookies_sent\":3"),
            std::string::npos)
      << j;
}

}  // namespace
}  // namespace synack::tools
