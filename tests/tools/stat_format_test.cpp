// `synack stat` output (tools/lib/control.cpp format_stat) for a listener under a SYN flood:
// the --state SYN-RECEIVED filter, the per-listener view and the cookie counters in text and
// JSON. The host is driven directly with packets; no process, no socket.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "control.hpp"
#include "synack/posix/tcp_info.hpp"
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

// Braces and brackets opened and not closed (0: the JSON is balanced).
int nesting(const std::string& j) {
  int depth = 0;
  for (char c : j) depth += c == '{' || c == '[' ? 1 : c == '}' || c == ']' ? -1 : 0;
  return depth;
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
  const auto k = parse_tcp_state("syn-received");  // the spelling of the README
  ASSERT_TRUE(k.has_value());
  req.states.push_back(*k);
  const std::string out = format_stat(f.h, instant{}, req, "test");
  std::size_t rows = 0;
  for (std::size_t at = out.find("\nSYN-RECEIVED"); at != std::string::npos; at = out.find("\nSYN-RECEIVED", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 2u) << out;
  EXPECT_EQ(out.find("\nLISTEN"), std::string::npos) << out;
  EXPECT_NE(out.find("syncookies_sent 3 syncookies_recv 0 syncookies_failed 0"), std::string::npos) << out;
  // Deferred SYN answers (any_address_options::defer_syn): none on this host.
  EXPECT_NE(out.find("syn_deferred 0 retransmits 0 accepted 0 refused 0 unreachable 0 expired 0 reset 0 overflow 0"),
            std::string::npos)
      << out;
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
  EXPECT_NE(j.find("\"syn_deferred\":0,\"syn_deferred_retransmits\":0,\"syn_deferred_accepted\":0,"
                   "\"syn_deferred_refused\":0,\"syn_deferred_unreachable\":0,\"syn_deferred_expired\":0,"
                   "\"syn_deferred_reset\":0,\"syn_deferred_overflow\":0"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find("\"syn_queue\":2,\"accept_queue\":0,\"backlog\":8,\"syn_backlog\":2,\"cookies_sent\":3"),
            std::string::npos)
      << j;
}

// The JSON has one shape whatever is asked: every key of every level present, null where
// there is nothing (a listener has no internals, a connection no listener block, no io).
TEST(stat_format, json_schema_is_stable) {
  flooded_host f;
  stat_request req;
  req.json = true;
  const std::string j = format_stat(f.h, instant{}, req, "test");
  for (const char* key : {"\"host\":\"10.77.0.2\"", "\"who\":\"test\"", "\"connections\":[", "\"summary\":{\"total\":3,",
                          "\"counters\":{", "\"io\":null", "\"proxy\":null}", "\"local_addr\":\"10.77.0.2\",\"local_port\":80,",
                          "\"peer_addr\":\"10.77.0.1\",\"peer_port\":5000,", "\"listener\":null",
                          "\"SYN-RECEIVED\":2", "\"LISTEN\":1", "\"internals\":{\"congestion\":\"cubic\",\"srtt_us\":null,",
                          "\"ooo_bytes\":0,\"spurious_undos\":0,\"loss_probes\":0,\"probe_recoveries\":0,"
                          "\"rack_losses\":0,\"reo_wnd_adaptations\":0,\"frto_spurious\":0,\"dupthresh\":3,"
                          "\"pacing_rate_Bps\":0,\"ecn\":false,\"ecn_ce_received\":0,"
                          "\"ecn_ece_received\":0,\"ecn_reductions\":0}",
                          "\"retransmissions\":0,\"fast_retransmits\":0,\"timeouts\":0,\"bytes_sent\":"}) {
    EXPECT_NE(j.find(key), std::string::npos) << key << " in " << j;
  }
  // The memory budget (host_config::memory defaults) in the summary, its counters beside the others.
  EXPECT_NE(j.find("\"memory\":{\"allocated\":0,\"peak\":0,\"level\":\"normal\",\"low\":50331648,"
                   "\"pressure\":67108864,\"hard\":100663296,\"orphans\":0,\"max_orphans\":65536}},\"counters\":{"),
            std::string::npos)
      << j;
  for (const char* key : {"\"memory_pressure_entered\":0,", "\"memory_ooo_pruned_bytes\":0,", "\"memory_send_refused\":0,",
                          "\"memory_zero_window_aborts\":0,", "\"memory_orphan_resets\":0,"}) {
    EXPECT_NE(j.find(key), std::string::npos) << key << " in " << j;
  }
  // A listener row: its block, no internals.
  EXPECT_NE(j.find("\"listener\":{\"syn_queue\":2,"), std::string::npos) << j;
  EXPECT_NE(j.find("\"syn_drops\":0},\"internals\":null,\"upstream\":null}"), std::string::npos) << j;
  // Balanced braces and brackets: one object.
  EXPECT_EQ(nesting(j), 0) << "unbalanced braces or brackets";
  EXPECT_EQ(j.front(), '{');
}

// `synack proxy`'s counters: a "Proxy:" line after the Io block, a "proxy" object in the JSON.
TEST(stat_format, proxy_counters_in_text_and_json) {
  flooded_host f;
  io_report io;
  io.mode = "read/write";
  io.proxy = proxy_stats{.sessions_opened = 3, .sessions_active = 2, .syns_held = 1, .bytes_up = 100, .bytes_down = 2000,
                         .failed_refused = 1};
  stat_request req;
  const std::string t = format_stat(f.h, instant{}, req, "test", &io);
  EXPECT_NE(t.find("\nProxy: sessions_opened 3 sessions_active 2 syns_held 1 bytes_up 100 bytes_down 2000 failed_refused 1 "
                   "failed_unreachable 0 failed_timeout 0 failed_other 0 resets_client 0 resets_upstream 0\n"),
            std::string::npos)
      << t;
  req.json = true;
  const std::string j = format_stat(f.h, instant{}, req, "test", &io);
  EXPECT_NE(j.find(",\"proxy\":{\"sessions_opened\":3,\"sessions_active\":2,\"syns_held\":1,\"bytes_up\":100,\"bytes_down\":2000,"
                   "\"failed_refused\":1,"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find(",\"udp\":null}"), std::string::npos) << j;  // --no-udp
  io.proxy.reset();
  EXPECT_EQ(format_stat(f.h, instant{}, stat_request{}, "test", &io).find("Proxy:"), std::string::npos);
}

// --socks5: its counters on lines of their own after "Proxy:" (CONNECT, then UDP ASSOCIATE) and
// in the "proxy" object (where the keys are always present, "socks5":false in direct mode).
TEST(stat_format, proxy_socks5_counters) {
  flooded_host f;
  io_report io;
  io.mode = "read/write";
  io.proxy = proxy_stats{};
  stat_request req;
  EXPECT_EQ(format_stat(f.h, instant{}, req, "test", &io).find("socks5_"), std::string::npos);
  req.json = true;
  EXPECT_NE(format_stat(f.h, instant{}, req, "test", &io)
                .find(",\"socks5\":false,\"socks5_connected\":0,\"socks5_auth_failed\":0,\"socks5_rejected\":0,"
                      "\"socks5_malformed\":0,\"socks5_udp_associations\":0,\"socks5_udp_failed\":0,"
                      "\"socks5_udp_closed\":0,\"socks5_udp_dropped_frag\":0,\"socks5_udp_malformed\":0,"
                      "\"socks5_udp_foreign\":0,\"udp\":null}"),
            std::string::npos);
  io.proxy = proxy_stats{.socks5 = true,
                         .socks5_connected = 4,
                         .socks5_auth_failed = 2,
                         .socks5_rejected = 1,
                         .socks5_malformed = 3,
                         .socks5_udp = {.associations = 6, .failed = 1, .closed = 2, .dropped_frag = 3, .malformed = 4,
                                        .foreign = 5}};
  req.json = false;
  const std::string t = format_stat(f.h, instant{}, req, "test", &io);
  EXPECT_NE(t.find(" resets_upstream 0\n       socks5_connected 4 socks5_auth_failed 2 socks5_rejected 1 "
                   "socks5_malformed 3\n       socks5_udp_associations 6 socks5_udp_failed 1 socks5_udp_closed 2 "
                   "socks5_udp_dropped_frag 3 socks5_udp_malformed 4 socks5_udp_foreign 5\n"),
            std::string::npos)
      << t;
  req.json = true;
  const std::string j = format_stat(f.h, instant{}, req, "test", &io);
  EXPECT_NE(j.find("\"resets_upstream\":0,\"socks5\":true,\"socks5_connected\":4,\"socks5_auth_failed\":2,"
                   "\"socks5_rejected\":1,\"socks5_malformed\":3,\"socks5_udp_associations\":6,"
                   "\"socks5_udp_failed\":1,\"socks5_udp_closed\":2,\"socks5_udp_dropped_frag\":3,"
                   "\"socks5_udp_malformed\":4,\"socks5_udp_foreign\":5,\"udp\":null}"),
            std::string::npos)
      << j;
}

// The UDP relay's counters: a "Proxy UDP:" line after "Proxy:", a "udp" object inside "proxy".
TEST(stat_format, proxy_udp_counters_in_text_and_json) {
  flooded_host f;
  io_report io;
  io.mode = "read/write";
  io.proxy = proxy_stats{.sessions_opened = 3};
  io.proxy->udp = udp_relay_stats{.sessions_opened = 5, .sessions_active = 2, .sessions_expired = 2,
                                  .sessions_evicted = 1, .datagrams_up = 10, .bytes_up = 400, .datagrams_down = 9,
                                  .bytes_down = 900, .upstream_errors = 1, .unreachable_sent = 1, .dropped = 0};
  stat_request req;
  const std::string t = format_stat(f.h, instant{}, req, "test", &io);
  EXPECT_NE(t.find(" resets_upstream 0\nProxy UDP: sessions_opened 5 sessions_active 2 sessions_expired 2 "
                   "sessions_evicted 1 datagrams_up 10 bytes_up 400 datagrams_down 9 bytes_down 900 "
                   "upstream_errors 1 unreachable_sent 1 dropped 0\n"),
            std::string::npos)
      << t;
  req.json = true;
  const std::string j = format_stat(f.h, instant{}, req, "test", &io);
  EXPECT_NE(j.find("\"socks5_udp_foreign\":0,\"udp\":{\"sessions_opened\":5,\"sessions_active\":2,"
                   "\"sessions_expired\":2,\"sessions_evicted\":1,\"datagrams_up\":10,\"bytes_up\":400,"
                   "\"datagrams_down\":9,\"bytes_down\":900,\"upstream_errors\":1,\"unreachable_sent\":1,"
                   "\"dropped\":0}}"),
            std::string::npos)
      << j;
  EXPECT_EQ(nesting(j), 0) << "unbalanced braces or brackets";
}

// `synack proxy`'s connections with both ends: synack's connection to the client (the row)
// and the proxy's upstream socket beside it (text: an "upstream" column; JSON: "upstream").
TEST(stat_format, proxied_connections_show_their_upstream_side) {
  flooded_host f;
  io_report io;
  io.mode = "read/write";
  io.proxy = proxy_stats{.sessions_opened = 1, .sessions_active = 1};
  const four_tuple client{host_ip, 80, peer_ip, 5001};
  io.proxy_links.push_back(proxy_link{.client = client,
                                      .phase = proxy_phase::awaiting_client,
                                      .upstream_local_addr = ipv4_addr::from_octets(198, 51, 100, 1),
                                      .upstream_local_port = 40312,
                                      .upstream_addr = ipv4_addr::from_octets(198, 51, 100, 10),
                                      .upstream_port = 80,
                                      .upstream_state = tcp_state::established,
                                      .bytes_up = 5,
                                      .bytes_down = 7});
  // A session with no synack connection listed (its SYN still held) shows nowhere.
  io.proxy_links.push_back(proxy_link{.client = four_tuple{host_ip, 80, peer_ip, 6000}});
  stat_request req;
  const std::string t = format_stat(f.h, instant{}, req, "test", &io);
  const auto at = t.find("10.77.0.1:5001");
  ASSERT_NE(at, std::string::npos) << t;
  const std::string row = t.substr(at, t.find('\n', at) - at);
  EXPECT_NE(row.find(" upstream 198.51.100.1:40312 -> 198.51.100.10:80 ESTABLISHED"), std::string::npos) << row;
  EXPECT_EQ(std::count(t.begin(), t.end(), '>'), 1) << "one proxied row: " << t;
  EXPECT_EQ(t.find("10.77.0.1:6000"), std::string::npos) << t;

  req.json = true;
  const std::string j = format_stat(f.h, instant{}, req, "test", &io);
  EXPECT_NE(j.find("\"peer_port\":5001,\"recv_q\":0,"), std::string::npos) << j;
  EXPECT_NE(j.find(",\"upstream\":{\"phase\":\"awaiting_client\",\"local_addr\":\"198.51.100.1\","
                   "\"local_port\":40312,\"peer_addr\":\"198.51.100.10\",\"peer_port\":80,\"socks5\":false,"
                   "\"kernel_state\":\"ESTABLISHED\",\"relayed_up\":5,\"relayed_down\":7}}"),
            std::string::npos)
      << j;
  std::size_t nulls = 0;
  for (auto p = j.find("\"upstream\":null"); p != std::string::npos; p = j.find("\"upstream\":null", p + 1)) ++nulls;
  EXPECT_EQ(nulls, 2u) << "the listener and the other half-open connection: " << j;
  EXPECT_EQ(nesting(j), 0) << "unbalanced braces or brackets";

  // --socks5, before the kernel tells a state (the phase instead; JSON null); not yet bound.
  io.proxy_links[0].socks5 = true;
  io.proxy_links[0].upstream_state.reset();
  io.proxy_links[0].upstream_local_addr = ip_addr{};
  io.proxy_links[0].upstream_local_port = 0;
  io.proxy_links[0].upstream_port = 1080;
  req.json = false;
  EXPECT_NE(format_stat(f.h, instant{}, req, "test", &io).find(" upstream *:* -> 198.51.100.10:1080 via SOCKS5 awaiting_client\n"),
            std::string::npos);
  req.json = true;
  EXPECT_NE(format_stat(f.h, instant{}, req, "test", &io).find("\"socks5\":true,\"kernel_state\":null,"),
            std::string::npos);
  // The summary and the listener view list no connections.
  req = {};
  req.summary = true;
  EXPECT_EQ(format_stat(f.h, instant{}, req, "test", &io).find("-> 198.51.100.10"), std::string::npos);
}

// The kernel socket's state (TCP_INFO's tcpi_state, Linux's numbering) by its RFC name.
TEST(stat_format, linux_tcp_states_by_rfc_name) {
  EXPECT_EQ(posix::from_linux_state(1), tcp_state::established);
  EXPECT_EQ(posix::from_linux_state(2), tcp_state::syn_sent);
  EXPECT_EQ(posix::from_linux_state(4), tcp_state::fin_wait_1);
  EXPECT_EQ(posix::from_linux_state(6), tcp_state::time_wait);
  EXPECT_EQ(posix::from_linux_state(8), tcp_state::close_wait);
  EXPECT_EQ(posix::from_linux_state(11), tcp_state::closing);
  EXPECT_EQ(posix::from_linux_state(0), std::nullopt);
  EXPECT_EQ(posix::from_linux_state(12), std::nullopt);  // TCP_NEW_SYN_RECV: never a connected socket's
}

TEST(stat_format, filters_and_summary) {
  flooded_host f;
  stat_request req;
  req.sport = 80;
  req.dport = 5001;
  std::string out = format_stat(f.h, instant{}, req, "test");
  EXPECT_NE(out.find("10.77.0.1:5001"), std::string::npos) << out;
  EXPECT_EQ(out.find("10.77.0.1:5000"), std::string::npos) << out;
  EXPECT_EQ(out.find("\nLISTEN"), std::string::npos) << out;  // a listener has no remote port

  req = {};
  req.states = {tcp_state::listen, tcp_state::syn_received};
  req.no_header = true;
  out = format_stat(f.h, instant{}, req, "test");
  EXPECT_EQ(out.find("State"), std::string::npos) << out;
  EXPECT_EQ(out.find("Tcp:"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;  // 1 listener + 2 half-open

  req = {};
  req.dst = ipv4_addr::from_octets(10, 77, 0, 9);
  out = format_stat(f.h, instant{}, req, "test");
  EXPECT_EQ(out.find("SYN-RECEIVED"), std::string::npos) << out;

  req = {};
  req.summary = true;
  out = format_stat(f.h, instant{}, req, "test");
  EXPECT_NE(out.find("Total: 3 (orphaned 0)"), std::string::npos) << out;
  EXPECT_NE(out.find("  SYN-RECEIVED  2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  LISTEN        1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Memory: 0 bytes allocated (peak 0), normal; limits low 50331648 pressure 67108864 hard "
                     "100663296; orphans 0/65536\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Mem: pressure_entered 0 hard_entered 0 ooo_pruned_bytes 0"), std::string::npos) << out;
}

TEST(stat_format, requests_round_trip_over_the_control_line) {
  stat_request r;
  r.json = true;
  r.internals = r.no_header = r.summary = true;
  r.states = {tcp_state::established, tcp_state::time_wait};
  r.sport = 80;
  r.dport = 4000;
  r.src = ipv4_addr::from_octets(10, 0, 0, 1);
  r.dst = ipv4_addr::from_octets(10, 0, 0, 2);
  const std::string line = r.encode();
  EXPECT_EQ(line, "stat json info noheader summary state=ESTABLISHED,TIME-WAIT sport=80 dport=4000 src=10.0.0.1 dst=10.0.0.2");
  auto back = stat_request::parse(line);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(back->encode(), line);
  auto old = stat_request::parse("stat text TIME-WAIT");  // the form of earlier releases
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->states, std::vector<tcp_state>{tcp_state::time_wait});
  EXPECT_FALSE(stat_request::parse("stat text state=NOPE").has_value());
  EXPECT_FALSE(stat_request::parse("stat text sport=70000").has_value());
  EXPECT_FALSE(stat_request::parse("stat xml").has_value());
  EXPECT_FALSE(stat_request::parse("stat text bogus=1").has_value());
}

// -i: a second line per connection with what ss -ti shows, here for an established connection
// that has sent and received data.
TEST(stat_format, internals_line_like_ss_i) {
  host_config c;
  c.addr = host_ip;
  host h{c};
  ASSERT_TRUE(h.listen(80, 8).has_value());
  std::array<std::byte, 2048> out{};
  h.on_packet(instant{}, syn_from(6000));
  auto n = h.poll_transmit(instant{}, out);
  ASSERT_TRUE(n.has_value());
  auto ip = ipv4_view::parse(bytes{out.data(), *n});
  ASSERT_TRUE(ip.has_value());
  auto tv = tcp_view::parse(ip->payload());
  ASSERT_TRUE(tv.has_value());
  tcp_repr synack;
  ASSERT_FALSE(tcp_repr::parse_trusted(*tv, synack).has_value());
  const tcp_repr* seg = &synack;
  tcp_repr ack;
  ack.src_port = 6000;
  ack.dst_port = 80;
  ack.seq = seq_num{1001};
  ack.ack = seg->seq + seq_len{1};
  ack.flags = tcp_flag::ack;
  ack.window = 65535;
  const std::string hello = "hello";
  std::vector<std::byte> p(ipv4_repr::buffer_len() + ack.buffer_len() + hello.size());
  ack.payload = bytes{reinterpret_cast<const std::byte*>(hello.data()), hello.size()};  // NOLINT
  (void)emit_tcp_datagram(p, ipv4_repr{.src = peer_ip, .dst = host_ip}, ack);
  h.on_packet(instant{} + std::chrono::milliseconds(10), p);
  stat_request req;
  req.internals = true;
  req.states = {tcp_state::established};
  const std::string text = format_stat(h, instant{}, req, "test");
  const auto at = text.find("\t cubic");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string line = text.substr(at, text.find('\n', at) - at);
  for (const char* field : {" rto:", " rtt:", " mss:", " cwnd:", " bytes_sent:0", " bytes_acked:0",
                            " bytes_received:5", " snd_wnd:", " rcv_wnd:"}) {
    EXPECT_NE(line.find(field), std::string::npos) << field << " in " << line;
  }
  EXPECT_EQ(line.find(" spurious_undos:"), std::string::npos) << "shown only once there is one: " << line;
  EXPECT_EQ(line.find(" loss_probes:"), std::string::npos) << "shown only once there is one: " << line;
  EXPECT_EQ(line.find(" rack:"), std::string::npos) << "shown only once there is one: " << line;
  EXPECT_EQ(line.find(" ecn"), std::string::npos) << "ECN is not negotiated (the SYN did not ask): " << line;
}

}  // namespace
}  // namespace synack::tools
