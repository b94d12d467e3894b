// `synack diagram`'s library (tools/lib/diagram): captures of every supported link type, the
// RFC 9293 state each end is inferred to be in after every segment, the marks, and bad files.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "diagram/capture.hpp"
#include "diagram/connection.hpp"
#include "diagram/output.hpp"
#include "diagram/render.hpp"
#include "synack/io/pcap/pcap_writer.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::diagram {
namespace {

constexpr ipv4_addr ip_a = ipv4_addr::from_octets(10, 0, 0, 1);
constexpr ipv4_addr ip_b = ipv4_addr::from_octets(10, 0, 0, 2);
constexpr std::uint16_t port_a = 40000;
constexpr std::uint16_t port_b = 80;
// ISNs just below the wrap (DESIGN.md §3).
constexpr std::uint32_t isn_a = 0xFFFFFFF0u;
constexpr std::uint32_t isn_b = 0xFFFFFF00u;

namespace F = tcp_flag;

// A connection's segments, written by hand: who sends, flags, seq/ack relative to the ISNs.
class script {
 public:
  script& a(std::uint8_t flags, std::uint32_t seq, std::optional<std::uint32_t> ack, std::uint32_t len = 0,
            std::uint16_t win = 1000) {
    return add(true, flags, seq, ack, len, win);
  }
  script& b(std::uint8_t flags, std::uint32_t seq, std::optional<std::uint32_t> ack, std::uint32_t len = 0,
            std::uint16_t win = 1000) {
    return add(false, flags, seq, ack, len, win);
  }
  std::vector<captured_segment> segs;
  std::int64_t t_ns = 1'000'000'000;

 private:
  script& add(bool from_a, std::uint8_t flags, std::uint32_t seq, std::optional<std::uint32_t> ack, std::uint32_t len,
              std::uint16_t win) {
    captured_segment s;
    s.t_ns = (t_ns += 10'000'000);  // 10 ms apart
    s.src = from_a ? ip_a : ip_b;
    s.dst = from_a ? ip_b : ip_a;
    s.src_port = from_a ? port_a : port_b;
    s.dst_port = from_a ? port_b : port_a;
    s.seq = seq_num{(from_a ? isn_a : isn_b) + seq};
    if (ack) s.ack = seq_num{(from_a ? isn_b : isn_a) + *ack};
    s.flags = static_cast<std::uint8_t>(flags | (ack ? F::ack : 0));
    s.window = win;
    s.payload_len = len;
    s.frame = segs.size() + 1;
    segs.push_back(s);
    return *this;
  }
};

using states = std::vector<std::pair<tcp_state, tcp_state>>;

states states_of(const connection& c) {
  states v;
  for (const segment& s : c.segments) v.emplace_back(s.state_a, s.state_b);
  return v;
}

connection only(const script& s) {
  auto cs = group_connections(s.segs);
  EXPECT_EQ(cs.size(), 1u);
  return cs.at(0);
}

using enum tcp_state;

TEST(DiagramStates, HandshakeDataAndFourWayClose) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).a(F::psh, 1, 1, 5).b(0, 1, 6)
      .a(F::fin, 6, 1).b(0, 1, 7).b(F::fin, 1, 7).a(0, 7, 2);
  const connection c = only(s);
  EXPECT_EQ(c.initial_a, closed);
  EXPECT_EQ(c.initial_b, listen);
  EXPECT_TRUE(c.handshake_seen);
  EXPECT_EQ(states_of(c), (states{{syn_sent, syn_received}, {established, syn_received}, {established, established},
                                  {established, established}, {established, established}, {fin_wait_1, close_wait},
                                  {fin_wait_2, close_wait}, {time_wait, last_ack}, {time_wait, closed}}));
}

TEST(DiagramStates, HalfCloseKeepsDataFlowingTheOtherWay) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).a(F::fin, 1, 1).b(0, 1, 2).b(F::psh, 1, 2, 100).a(0, 2, 101)
      .b(F::fin, 101, 2).a(0, 2, 102);
  const connection c = only(s);
  const states v = states_of(c);
  EXPECT_EQ(v[3], (std::pair{fin_wait_1, close_wait}));
  EXPECT_EQ(v[5], (std::pair{fin_wait_2, close_wait}));  // B still sends data
  EXPECT_EQ(v[6], (std::pair{fin_wait_2, close_wait}));
  EXPECT_EQ(v[7], (std::pair{time_wait, last_ack}));
  EXPECT_EQ(v[8], (std::pair{time_wait, closed}));
}

TEST(DiagramStates, SimultaneousCloseGoesThroughClosing) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).a(F::fin, 1, 1).b(F::fin, 1, 1).a(0, 2, 2).b(0, 2, 2);
  const states v = states_of(only(s));
  EXPECT_EQ(v[3], (std::pair{fin_wait_1, close_wait}));  // as the capture point sees it: B got A's FIN
  EXPECT_EQ(v[4], (std::pair{closing, closing}));  // B's FIN did not ack A's: B closed first too
  EXPECT_EQ(v[5], (std::pair{closing, time_wait}));
  EXPECT_EQ(v[6], (std::pair{time_wait, time_wait}));
}

TEST(DiagramStates, FinThatAcksThePeersFinIsThePassiveClose) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).a(F::fin, 1, 1).b(F::fin, 1, 2).a(0, 2, 2);
  const states v = states_of(only(s));
  EXPECT_EQ(v[4], (std::pair{time_wait, last_ack}));  // FIN,ACK from B: A's FIN acked and B's FIN arrived
  EXPECT_EQ(v[5], (std::pair{time_wait, closed}));
}

TEST(DiagramStates, SimultaneousOpen) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, {}).a(F::syn, 0, 1).b(F::syn, 0, 1);
  const connection c = only(s);
  EXPECT_EQ(c.initial_b, closed);  // B opened too: it never listened
  // B sent its SYN before A's reached it: CLOSED until then, not LISTEN.
  EXPECT_EQ(states_of(c), (states{{syn_sent, closed}, {syn_received, syn_received},
                                  {syn_received, established}, {established, established}}));
}

TEST(DiagramStates, ResetClosesBothEnds) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).b(F::rst, 1, {});
  const connection c = only(s);
  EXPECT_EQ(c.segments.back().state_a, closed);
  EXPECT_EQ(c.segments.back().state_b, closed);
  EXPECT_NE(c.segments.back().marks & mark::reset, 0);
}

TEST(DiagramStates, RefusedConnection) {
  script s;
  s.a(F::syn, 0, {}).b(F::rst, 0, 1);
  const connection c = only(s);
  EXPECT_EQ(c.initial_b, closed);
  EXPECT_EQ(states_of(c), (states{{syn_sent, closed}, {closed, closed}}));
}

TEST(DiagramStates, ResetNotAcknowledgingTheSynIsIgnoredInSynSent) {
  script s;
  s.a(F::syn, 0, {}).b(F::rst, 0, 5);  // acks something else (RFC 9293 §3.10.7.3)
  EXPECT_EQ(only(s).segments.back().state_a, syn_sent);
}

TEST(DiagramStates, CapturedMidConnectionAssumesEstablished) {
  script s;
  s.a(F::psh, 100, 50, 10).b(0, 50, 110).a(F::fin, 110, 50).b(F::fin, 50, 111).a(0, 111, 51);
  const connection c = only(s);
  EXPECT_FALSE(c.opened_in_capture);
  EXPECT_EQ(c.initial_a, established);
  EXPECT_EQ(states_of(c).back(), (std::pair{time_wait, closed}));
}

TEST(DiagramStates, PortReuseAfterCloseStartsANewConnection) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).b(F::rst, 1, {});
  s.a(F::syn, 5000, {}).b(F::syn, 7000, 5001);
  const auto cs = group_connections(s.segs);
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[1].segments.size(), 2u);
  EXPECT_EQ(cs[1].segments.back().state_a, established);
}

TEST(DiagramStates, ResponderSeenFirstIsStillB) {
  script s;
  s.b(F::syn, 0, {}).a(F::syn, 0, 1).b(0, 1, 1);  // B initiates: it becomes A
  const connection c = only(s);
  EXPECT_EQ(c.a.addr, ip_b);
  EXPECT_TRUE(c.segments[0].from_a);
}

TEST(DiagramMarks, RetransmissionDupAcksAndOutOfOrder) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1);
  s.a(0, 1, 1, 100).a(0, 101, 1, 100).a(0, 201, 1, 100);  // 3, 4, 5
  s.b(0, 1, 101).b(0, 1, 101).b(0, 1, 101);                 // 6, 7, 8: dup ACKs #1, #2
  s.a(0, 101, 1, 100);                                      // 9: sent again
  const connection c = only(s);
  EXPECT_EQ(c.segments[6].marks & mark::dup_ack, 0);  // the first ACK of 101 is new
  EXPECT_EQ(c.segments[7].marks & mark::dup_ack, mark::dup_ack);
  EXPECT_EQ(c.segments[7].dup_ack_count, 1u);
  EXPECT_EQ(c.segments[8].dup_ack_count, 2u);
  EXPECT_EQ(c.segments[9].marks & mark::retransmission, mark::retransmission);
  EXPECT_EQ(mark_names(c.segments[8]), (std::vector<std::string>{"dup-ack #2"}));

  script r;  // a gap filled 1 ms after the data beyond it: reordered, not resent
  r.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).a(0, 101, 1, 100);
  r.t_ns -= 9'000'000;
  r.a(0, 1, 1, 100);
  EXPECT_EQ(only(r).segments.back().marks & mark::out_of_order, mark::out_of_order);
}

TEST(DiagramMarks, ZeroWindowProbeKeepAlive) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).a(0, 1, 1, 100).b(0, 1, 101, 0, 0);
  s.a(0, 101, 1, 1);  // probe into the zero window
  s.b(0, 1, 101, 0, 0);
  s.a(0, 101, 1, 0);  // keep-alive: one below SND.NXT
  const connection c = only(s);
  EXPECT_NE(c.segments[4].marks & mark::zero_window, 0);
  EXPECT_NE(c.segments[5].marks & mark::window_probe, 0);
  EXPECT_EQ(c.segments[5].marks & mark::retransmission, 0);
}

TEST(DiagramMarks, KeepAliveAfterIdle) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).a(0, 0, 1);
  const connection c = only(s);
  EXPECT_NE(c.segments.back().marks & mark::keep_alive, 0);
  EXPECT_EQ(c.segments.back().marks & mark::retransmission, 0);
}

TEST(DiagramMarks, DsackBelowTheAck) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).a(0, 1, 1, 100);
  s.b(0, 1, 101);
  s.segs.back().options.add_sack({seq_num{isn_a + 1}, seq_num{isn_a + 101}});
  const connection c = only(s);
  EXPECT_NE(c.segments.back().marks & mark::dsack, 0);
  const segment_label l = label_of(c, c.segments.back(), false);
  EXPECT_EQ(l.detail, (std::vector<std::string>{"sack=1-101", "[D-SACK]"}));
}

TEST(DiagramWindows, ScaledOnceBothSynsOfferedAScale) {
  script s;
  s.a(F::syn, 0, {}, 0, 65535).b(F::syn, 0, 1, 0, 65535).a(0, 1, 1, 0, 512).b(0, 1, 1, 0, 100);
  s.segs[0].options.window_scale = 7;
  s.segs[1].options.window_scale = 2;
  const connection c = only(s);
  EXPECT_EQ(c.segments[0].scaled_window, 65535u);  // SYNs are never scaled
  EXPECT_EQ(c.segments[2].scaled_window, 512u << 7);
  EXPECT_EQ(c.segments[3].scaled_window, 400u);
}

TEST(DiagramWindows, UnscaledWhenOneSideOffersNone) {
  script s;
  s.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1, 0, 512);
  s.segs[0].options.window_scale = 7;
  EXPECT_EQ(only(s).segments[2].scaled_window, 512u);
}

// --- reading captures -------------------------------------------------------------------

std::vector<std::uint8_t> ip_packet(const tcp_repr& seg, ipv4_addr src, ipv4_addr dst) {
  std::vector<std::byte> p(ipv4_repr::buffer_len() + seg.buffer_len());
  (void)emit_tcp_datagram(p, ipv4_repr{.src = src, .dst = dst}, seg);
  std::vector<std::uint8_t> out(p.size());
  std::memcpy(out.data(), p.data(), p.size());
  return out;
}

tcp_repr syn_seg() {
  tcp_repr s;
  s.src_port = port_a;
  s.dst_port = port_b;
  s.seq = seq_num{isn_a};
  s.flags = F::syn;
  s.window = 64240;
  s.options.mss = 1460;
  s.options.window_scale = 7;
  s.options.sack_permitted = true;
  s.options.timestamps = tcp_timestamps{123, 0};
  return s;
}

void put(pcap_writer& w, instant at, const std::vector<std::uint8_t>& p) {
  w.write(at, std::as_bytes(std::span(p)));
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("synack_diagram_test_" + name)).string();
}

// Writes one SYN behind a link header of `dlt`.
std::string write_with_link(int dlt, const std::vector<std::uint8_t>& link_header, const std::string& name) {
  const std::string path = temp_path(name);
  pcap_t* dead = pcap_open_dead(dlt, 65535);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  std::vector<std::uint8_t> frame = link_header;
  const auto ip = ip_packet(syn_seg(), ip_a, ip_b);
  frame.insert(frame.end(), ip.begin(), ip.end());
  pcap_pkthdr h{};
  h.ts.tv_sec = 1700000000;
  h.caplen = h.len = static_cast<bpf_u_int32>(frame.size());
  pcap_dump(reinterpret_cast<u_char*>(d), &h, frame.data());
  pcap_dump_close(d);
  pcap_close(dead);
  return path;
}

void expect_one_syn(const std::string& path) {
  auto c = read_capture(path);
  ASSERT_TRUE(c.has_value()) << c.error();
  ASSERT_EQ(c->segments.size(), 1u) << c->link_name;
  const captured_segment& s = c->segments[0];
  EXPECT_EQ(s.src, ip_a);
  EXPECT_EQ(s.dst_port, port_b);
  EXPECT_EQ(s.seq.raw, isn_a);
  EXPECT_EQ(s.flags, F::syn);
  EXPECT_EQ(s.options.mss, 1460);
  EXPECT_EQ(s.options.window_scale, 7);
  EXPECT_EQ(s.t_ns, 1700000000LL * 1'000'000'000);
  std::filesystem::remove(path);
}

TEST(DiagramCapture, LinkTypes) {
  std::vector<std::uint8_t> eth(12, 0x02);
  eth.push_back(0x08);
  eth.push_back(0x00);
  expect_one_syn(write_with_link(DLT_EN10MB, eth, "eth.pcap"));
  const std::vector<std::uint8_t> vlan{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00};
  expect_one_syn(write_with_link(DLT_EN10MB, vlan, "vlan.pcap"));
  expect_one_syn(write_with_link(DLT_RAW, {}, "raw.pcap"));
  std::vector<std::uint8_t> sll(14, 0);
  sll.push_back(0x08);
  sll.push_back(0x00);
  expect_one_syn(write_with_link(DLT_LINUX_SLL, sll, "sll.pcap"));
  std::vector<std::uint8_t> sll2(20, 0);
  sll2[0] = 0x08;
  expect_one_syn(write_with_link(DLT_LINUX_SLL2, sll2, "sll2.pcap"));
  std::uint32_t fam = 2;  // AF_INET in host order
  std::vector<std::uint8_t> null(4);
  std::memcpy(null.data(), &fam, 4);
  expect_one_syn(write_with_link(DLT_NULL, null, "null.pcap"));
  expect_one_syn(write_with_link(DLT_LOOP, {0, 0, 0, 2}, "loop.pcap"));
}

TEST(DiagramCapture, SnapLengthAndOffloadedChecksumsStillDecode) {
  tcp_repr s = syn_seg();
  s.flags = F::psh;
  s.ack = seq_num{isn_b + 1};
  std::vector<std::byte> payload(1000, std::byte{'x'});
  s.payload = payload;
  auto ip = ip_packet(s, ip_a, ip_b);
  ip[10] = ip[11] = 0;  // IP checksum left to the NIC
  bool tcp = false;
  auto seg = decode_frame(DLT_RAW, ip.data(), 96, tcp);  // snap length 96
  ASSERT_TRUE(seg.has_value());
  EXPECT_TRUE(tcp);
  EXPECT_EQ(seg->payload_len, 1000u);
}

// An IPv6 packet holding `seg`, behind a destination options header when `ext` (a PadN
// option of 4 bytes). The TCP checksum is not filled in: captures are not checked.
std::vector<std::uint8_t> ipv6_packet(const tcp_repr& seg, const ipv6_addr& src, const ipv6_addr& dst, bool ext) {
  const std::size_t ext_len = ext ? 8 : 0;
  std::vector<std::byte> p(ipv6_view::header_len + ext_len + seg.buffer_len());
  ipv6_repr ip{.src = src, .dst = dst, .next_header = ext ? ipv6_next::dest_options : ipv6_next::tcp,
               .payload_len = static_cast<std::uint16_t>(ext_len + seg.buffer_len())};
  ip.emit(p);
  if (ext) {
    p[40] = std::byte{ipv6_next::tcp};  // next header; length 0 (8 bytes); PadN of 4
    p[42] = std::byte{1};
    p[43] = std::byte{4};
  }
  seg.emit(std::span(p).subspan(ipv6_view::header_len + ext_len), ipv4_addr{}, ipv4_addr{});
  std::vector<std::uint8_t> out(p.size());
  std::memcpy(out.data(), p.data(), p.size());
  return out;
}

TEST(DiagramCapture, Ipv6OnEveryLinkTypeAndThroughExtensionHeaders) {
  const ipv6_addr v6a = *ipv6_addr::parse("2001:db8::1");
  const ipv6_addr v6b = *ipv6_addr::parse("2001:db8::2");
  for (const bool ext : {false, true}) {
    const auto ip = ipv6_packet(syn_seg(), v6a, v6b, ext);
    struct link {
      int dlt;
      std::vector<std::uint8_t> header;
    };
    std::uint32_t af_inet6_linux = 10;  // host order, as Linux writes DLT_NULL
    std::vector<std::uint8_t> null(4);
    std::memcpy(null.data(), &af_inet6_linux, 4);
    std::vector<std::uint8_t> eth(12, 0x02);
    eth.push_back(0x86);
    eth.push_back(0xDD);
    std::vector<std::uint8_t> sll(14, 0);
    sll.push_back(0x86);
    sll.push_back(0xDD);
    for (const link& l : {link{DLT_RAW, {}}, link{DLT_EN10MB, eth}, link{DLT_LINUX_SLL, sll}, link{DLT_NULL, null},
                          link{DLT_LOOP, {0, 0, 0, 30}} /* macOS AF_INET6, network order */}) {
      std::vector<std::uint8_t> frame = l.header;
      frame.insert(frame.end(), ip.begin(), ip.end());
      bool tcp = false;
      auto seg = decode_frame(l.dlt, frame.data(), frame.size(), tcp);
      ASSERT_TRUE(seg.has_value()) << "link type " << l.dlt << (ext ? " with a destination options header" : "");
      EXPECT_TRUE(tcp);
      EXPECT_EQ(seg->src, ip_addr{v6a});
      EXPECT_EQ(seg->dst, ip_addr{v6b});
      EXPECT_EQ(seg->src_port, port_a);
      EXPECT_EQ(seg->seq.raw, isn_a);
      EXPECT_EQ(seg->flags, F::syn);
      EXPECT_EQ(seg->options.mss, 1460);
      EXPECT_EQ(seg->payload_len, 0u);
    }
  }
}

TEST(DiagramCapture, Ipv6FragmentsAreMalformedTcpAndOthersAreNotTcp) {
  const ipv6_addr v6a = *ipv6_addr::parse("2001:db8::1");
  const ipv6_addr v6b = *ipv6_addr::parse("2001:db8::2");
  auto ip = ipv6_packet(syn_seg(), v6a, v6b, true);
  ip[6] = ipv6_next::fragment;  // the 8-byte header becomes a fragment header: offset 8, M set
  ip[40 + 2] = 0;
  ip[40 + 3] = 0x09;
  bool tcp = false;
  EXPECT_FALSE(decode_frame(DLT_RAW, ip.data(), ip.size(), tcp).has_value());
  EXPECT_TRUE(tcp);  // counted as malformed, not as another protocol
  auto udp = ipv6_packet(syn_seg(), v6a, v6b, false);
  udp[6] = ipv6_next::udp;
  EXPECT_FALSE(decode_frame(DLT_RAW, udp.data(), udp.size(), tcp).has_value());
  EXPECT_FALSE(tcp);
}

TEST(DiagramLadder, Ipv6EndpointsAreBracketed) {
  script sc;
  sc.a(F::syn, 0, std::nullopt).b(F::syn, 0, 1).a(0, 1, 1);
  for (captured_segment& s : sc.segs) {
    const bool from_a = s.src == ip_addr{ip_a};
    s.src = from_a ? ip_addr{*ipv6_addr::parse("2001:db8::1")} : ip_addr{*ipv6_addr::parse("2001:db8::2")};
    s.dst = from_a ? ip_addr{*ipv6_addr::parse("2001:db8::2")} : ip_addr{*ipv6_addr::parse("2001:db8::1")};
  }
  const auto cs = group_connections(sc.segs);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].title(), "[2001:db8::1]:40000 <-> [2001:db8::2]:80");
  EXPECT_EQ(cs[0].segments.back().state_b, tcp_state::established);
  render_options o;
  o.width = 100;
  EXPECT_NE(render_text(cs[0], o).find("A [2001:db8::1]:40000 -> B [2001:db8::2]:80"), std::string::npos);
}

TEST(DiagramCapture, IgnoresOtherProtocols) {
  std::vector<std::uint8_t> arp(12, 0x02);
  arp.push_back(0x08);
  arp.push_back(0x06);
  arp.resize(60, 0);
  bool tcp = true;
  EXPECT_FALSE(decode_frame(DLT_EN10MB, arp.data(), arp.size(), tcp).has_value());
  EXPECT_FALSE(tcp);
}

TEST(DiagramCapture, WriterRoundTripThroughTheLadder) {
  const std::string path = temp_path("writer.pcap");
  {
    auto w = pcap_writer::open(path);
    ASSERT_TRUE(w.has_value());
    tcp_repr syn = syn_seg();
    put(**w, instant{0}, ip_packet(syn, ip_a, ip_b));
    tcp_repr sa = syn_seg();
    sa.src_port = port_b;
    sa.dst_port = port_a;
    sa.seq = seq_num{isn_b};
    sa.ack = seq_num{isn_a + 1};
    sa.options.window_scale = 2;
    put(**w, instant{1000}, ip_packet(sa, ip_b, ip_a));
  }
  auto c = read_capture(path);
  ASSERT_TRUE(c.has_value());
  const auto cs = group_connections(c->segments);
  ASSERT_EQ(cs.size(), 1u);
  render_options o;
  o.width = 80;
  o.ascii = true;
  o.source = "t.pcap";
  const std::string text = render_text(cs[0], o);
  EXPECT_EQ(text,
            "t.pcap: A 10.0.0.1:40000 -> B 10.0.0.2:80, 2 segments\n"
            "   ms  A                                                            B\n"
            "       CLOSED                                                       LISTEN\n"
            "0.000  SYN-SENT     -- SYN seq=0 win=64240 mss=1460 ws=7 sackOK --> SYN-RECEIVED\n"
            "                      ts=123/0\n"
            "1.000  ESTABLISHED  <-- SYN,ACK seq=0 ack=1 win=64240 mss=1460 ----\n"
            "                      ws=2 sackOK ts=123/0\n");
  const std::string html = render_html(cs[0], o);
  EXPECT_NE(html.find("data-segments=\"2\""), std::string::npos);
  EXPECT_EQ(html.find("http://", html.find("<body")), html.find("http://www.w3.org/2000/svg"));  // no fetches
  std::filesystem::remove(path);
}

TEST(DiagramCapture, BadFilesGiveAClearErrorNotACrash) {
  const std::string garbage = temp_path("garbage.pcap");
  std::ofstream(garbage) << "this is not a capture file at all";
  auto r = read_capture(garbage);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find(garbage), std::string::npos);
  std::filesystem::remove(garbage);

  auto missing = read_capture(temp_path("does-not-exist.pcap"));
  EXPECT_FALSE(missing.has_value());

  const std::string empty = temp_path("empty.pcap");
  std::ofstream(empty).close();
  EXPECT_FALSE(read_capture(empty).has_value());
  std::filesystem::remove(empty);

  // A file cut in the middle of its second record: the first is kept, with a warning.
  const std::string path = temp_path("cut.pcap");
  {
    auto w = pcap_writer::open(path);
    ASSERT_TRUE(w.has_value());
    for (int i = 0; i < 2; ++i) put(**w, instant{i}, ip_packet(syn_seg(), ip_a, ip_b));
  }
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
  auto cut = read_capture(path);
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->segments.size(), 1u);
  EXPECT_NE(cut->warning.find("middle of a record"), std::string::npos);
  std::filesystem::remove(path);

  // Every prefix of a capture: an error or a warning, never a crash.
  {
    auto w = pcap_writer::open(path);
    ASSERT_TRUE(w.has_value());
    for (int i = 0; i < 3; ++i) put(**w, instant{i}, ip_packet(syn_seg(), ip_a, ip_b));
  }
  std::ifstream in(path, std::ios::binary);
  const std::string whole((std::istreambuf_iterator<char>(in)), {});
  for (std::size_t n = 0; n < whole.size(); n += 7) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << whole.substr(0, n);
    auto p = read_capture(path);
    if (p) (void)group_connections(p->segments);
  }
  std::filesystem::remove(path);
}

TEST(DiagramTwoPoints, SegmentSeenOnlyAtTheSenderIsLost) {
  script near_a;
  near_a.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).a(0, 1, 1, 100).a(0, 1, 1, 100);
  script near_b;
  near_b.t_ns += 5'000'000;  // 5 ms later at the far point
  near_b.a(F::syn, 0, {}).b(F::syn, 0, 1).a(0, 1, 1).a(0, 1, 1, 100);  // the second copy never arrived
  const connection m = merge_two_points(group_connections(near_a.segs).at(0), group_connections(near_b.segs).at(0));
  ASSERT_EQ(m.segments.size(), 5u);
  EXPECT_TRUE(m.segments[0].t2_ns.has_value());
  EXPECT_EQ(m.segments.back().marks & mark::lost, mark::lost);
  EXPECT_EQ(m.segments.back().marks & mark::retransmission, mark::retransmission);
}

TEST(DiagramOutput, OneSvgFilePerConnection) {
  EXPECT_EQ(svg_paths("run.svg", 1), std::vector<std::string>{"run.svg"});
  EXPECT_EQ(svg_paths("out/run.svg", 3), (std::vector<std::string>{"out/run-1.svg", "out/run-2.svg", "out/run-3.svg"}));
  EXPECT_EQ(svg_paths("run", 2), (std::vector<std::string>{"run-1", "run-2"}));
  EXPECT_EQ(svg_paths("a.d/run", 2), (std::vector<std::string>{"a.d/run-1", "a.d/run-2"}));
  EXPECT_EQ(svg_paths(".hidden", 2), (std::vector<std::string>{".hidden-1", ".hidden-2"}));
}

TEST(DiagramOutput, WritesEveryFileOrSaysWhyNot) {
  script sc;
  sc.a(F::syn, 0, std::nullopt).b(F::syn, 0, 1).a(0, 1, 1);
  auto cs = group_connections(sc.segs);
  cs.push_back(cs[0]);
  const std::string svg = temp_path("out.svg");
  const std::string html = temp_path("out.html");
  std::FILE* log = std::tmpfile();
  ASSERT_TRUE(write_ladders(cs, render_options{}, {svg, html}, log, "test"));
  for (const auto& p : svg_paths(svg, 2)) {
    EXPECT_TRUE(std::filesystem::exists(p)) << p;
    std::filesystem::remove(p);
  }
  EXPECT_TRUE(std::filesystem::exists(html));
  std::filesystem::remove(html);
  EXPECT_FALSE(write_ladders({}, render_options{}, {svg, ""}, log, "test"));  // nothing to draw
  EXPECT_FALSE(write_ladders(cs, render_options{}, {"/nonexistent-dir/x.svg", ""}, log, "test"));
  std::fclose(log);
}

}  // namespace
}  // namespace synack::diagram
