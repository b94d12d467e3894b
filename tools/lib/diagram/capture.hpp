#pragma once
// Reading a capture for `synack diagram`: every TCP segment over IPv4 or IPv6 of a pcap or
// pcapng file (libpcap reads both), whatever the link type — Ethernet (with VLAN tags), raw IP,
// Linux cooked (SLL and SLL2), BSD loopback (null and loop). Headers are parsed by wire/.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "synack/util/result.hpp"
#include "synack/wire/ip_addr.hpp"
#include "synack/wire/seq.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::diagram {

// One TCP segment as seen at the capture point. Options are copied without unknown kinds
// (their bytes would point into libpcap's buffer).
struct captured_segment {
  std::int64_t t_ns = 0;  // capture time since the Unix epoch
  ip_addr src;
  ip_addr dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  seq_num seq;
  std::optional<seq_num> ack;
  std::uint8_t flags = 0;  // tcp_flag bits as on the wire (ACK included)
  std::uint16_t window = 0;
  tcp_options options;
  std::uint32_t payload_len = 0;  // on the wire (from the IP total length), not as captured
  std::uint16_t ip_ident = 0;     // tells copies of a retransmitted segment apart (IPv4; 0 for IPv6)
  std::uint64_t frame = 0;        // 1-based packet number in the file
};

struct capture {
  std::string path;
  int link_type = 0;
  std::string link_name;
  std::vector<captured_segment> segments;
  std::uint64_t packets = 0;      // every record in the file
  std::uint64_t not_tcp = 0;      // ARP, UDP, ICMP, other link protocols
  std::uint64_t malformed = 0;    // TCP the wire parsers refused (fragments, bad offsets)
  std::string warning;            // set when the file ends in the middle of a record
};

// Reads the whole file. An error says what is wrong (not a capture, unsupported link type,
// cannot open); a file cut short keeps what was read and says so in `warning`.
[[nodiscard]] result<capture, std::string> read_capture(const std::string& path);

// One raw IPv4 or IPv6 packet (a simulated link's, a TUN's); nullopt unless it holds TCP.
[[nodiscard]] std::optional<captured_segment> decode_ip_packet(const std::uint8_t* data, std::size_t len);

// The same decoding for one record, for tests: `link_type` is a DLT_ value.
[[nodiscard]] std::optional<captured_segment> decode_frame(int link_type, const std::uint8_t* data,
                                                           std::size_t caplen, bool& is_tcp);

}  // namespace synack::diagram
