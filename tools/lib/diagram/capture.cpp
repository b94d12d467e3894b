#include "diagram/capture.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "synack/wire/checksum.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"

namespace synack::diagram {

namespace {

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_ipv6 = 0x86DD;
constexpr std::uint16_t ethertype_vlan = 0x8100;
constexpr std::uint16_t ethertype_qinq = 0x88A8;

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

// The IP header in a record: where it starts and its version (4 or 6).
struct ip_start {
  std::size_t offset = 0;
  int version = 4;
};

std::optional<ip_start> by_ethertype(std::uint16_t type, std::size_t offset) {
  if (type == ethertype_ipv4) return ip_start{offset, 4};
  if (type == ethertype_ipv6) return ip_start{offset, 6};
  return std::nullopt;
}

// Where the IP header of a record of `link_type` starts, or nullopt when the record carries
// something else (ARP, other link protocols) or is too short to tell.
std::optional<ip_start> ip_offset(int link_type, const std::uint8_t* d, std::size_t n) {
  switch (link_type) {
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
#endif
#ifdef DLT_IPV6
    case DLT_IPV6:
#endif
      if (n >= 1 && (d[0] >> 4) == 4) return ip_start{0, 4};
      if (n >= 1 && (d[0] >> 4) == 6) return ip_start{0, 6};
      return std::nullopt;
    case DLT_EN10MB: {
      std::size_t off = 12;
      while (off + 2 <= n) {
        const std::uint16_t type = be16(d + off);
        if (type == ethertype_vlan || type == ethertype_qinq) {
          off += 4;
          continue;
        }
        return by_ethertype(type, off + 2);
      }
      return std::nullopt;
    }
    case DLT_LINUX_SLL:  // 16-byte header, protocol type last
      if (n >= 16) return by_ethertype(be16(d + 14), 16);
      return std::nullopt;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:  // 20-byte header, protocol type first
      if (n >= 20) return by_ethertype(be16(d), 20);
      return std::nullopt;
#endif
    case DLT_NULL:  // address family in the capturing host's byte order
    case DLT_LOOP: {  // ... or in network byte order
      if (n < 4) return std::nullopt;
      std::uint32_t fam_host = 0;
      std::memcpy(&fam_host, d, 4);
      const std::uint32_t fam_be = static_cast<std::uint32_t>(be16(d)) << 16 | be16(d + 2);
      const std::uint32_t fam_swapped = __builtin_bswap32(fam_host);
      auto is = [&](std::uint32_t af) { return fam_host == af || fam_be == af || fam_swapped == af; };
      // AF_INET is 2 on every system that writes these; AF_INET6 is 10 on Linux, 24 on the
      // BSDs, 28 on FreeBSD and 30 on macOS. Either byte order.
      if (is(2)) return ip_start{4, 4};
      if (is(10) || is(24) || is(28) || is(30)) return ip_start{4, 6};
      return std::nullopt;
    }
    default: return std::nullopt;
  }
}

// A TCP header and its segment's length on the wire into a captured_segment.
std::optional<captured_segment> tcp_segment(bytes tcp_bytes, std::size_t wire_len) {
  auto tv = tcp_view::parse(tcp_bytes);
  if (!tv) return std::nullopt;
  tcp_repr r;
  // The segment may be cut short by the snap length: only the header is needed.
  if (tcp_repr::parse_trusted(*tv, r)) return std::nullopt;
  captured_segment s;
  s.src_port = r.src_port;
  s.dst_port = r.dst_port;
  s.seq = r.seq;
  s.ack = r.ack;
  s.flags = r.wire_flags();
  s.window = r.window;
  s.options = r.options;
  s.options.unknown_count = 0;
  const std::size_t tcp_hdr = tv->header_len();
  s.payload_len = wire_len >= tcp_hdr ? static_cast<std::uint32_t>(wire_len - tcp_hdr) : 0;
  return s;
}

// IPv6: the extension-header chain walked as the stack walks it (wire/ipv6.hpp), so a capture
// shows what synack would accept; fragments and broken chains count as malformed.
std::optional<captured_segment> decode_ipv6(const std::uint8_t* ip, std::size_t avail, bool& is_tcp) {
  if (avail < ipv6_view::header_len) return std::nullopt;
  // As for IPv4 below: a snap length or an offload record may cut or blank the payload
  // length; parse a copy whose length describes the bytes captured.
  std::size_t wire_payload = be16(ip + 4);
  const std::size_t captured = avail - ipv6_view::header_len;
  if (wire_payload == 0) wire_payload = captured;  // offload (or a jumbogram): the header does not say
  const std::size_t take = std::min(wire_payload, captured);
  std::vector<std::byte> copy(ipv6_view::header_len + take);
  std::memcpy(copy.data(), ip, copy.size());
  copy[4] = static_cast<std::byte>(take >> 8);
  copy[5] = static_cast<std::byte>(take & 0xFF);
  auto v = ipv6_view::parse(copy);
  if (!v) return std::nullopt;
  auto upper = walk_extension_headers(*v);
  if (!upper) {
    // A fragment may be a TCP segment's piece; other drops are unknown headers.
    is_tcp = upper.error().reason == wire_error::fragment;
    return std::nullopt;
  }
  if (upper->protocol != ipv6_next::tcp) return std::nullopt;
  is_tcp = true;
  const std::size_t ext_len = upper->offset - ipv6_view::header_len;
  if (wire_payload < ext_len) return std::nullopt;
  auto s = tcp_segment(upper->payload, wire_payload - ext_len);
  if (!s) return std::nullopt;
  s->src = v->src();
  s->dst = v->dst();
  return s;
}

}  // namespace

std::optional<captured_segment> decode_frame(int link_type, const std::uint8_t* data, std::size_t caplen,
                                             bool& is_tcp) {
  is_tcp = false;
  const auto start = ip_offset(link_type, data, caplen);
  if (!start || start->offset >= caplen) return std::nullopt;
  if (start->version == 6) return decode_ipv6(data + start->offset, caplen - start->offset, is_tcp);
  const std::size_t off = start->offset;
  if (off + ipv4_view::min_header_len > caplen) return std::nullopt;
  const std::uint8_t* ip = data + off;
  const std::size_t avail = caplen - off;
  if (ip[9] != static_cast<std::uint8_t>(ip_proto::tcp)) return std::nullopt;
  is_tcp = true;
  const std::size_t ihl = (ip[0] & 0x0Fu) * 4u;
  if (ihl < ipv4_view::min_header_len || ihl > avail) return std::nullopt;
  // A capture shows what was on the wire, and may cut it: the snap length truncates long
  // packets, segmentation offload records show a total length of 0 or beyond the capture, and
  // checksum offload leaves the IP checksum unset on outgoing packets. Parse a copy whose
  // total length and checksum describe the bytes captured; the wire length comes from the
  // original header.
  std::size_t wire_total = be16(ip + 2);
  const std::size_t take = wire_total >= ihl && wire_total <= avail ? wire_total : avail;
  if (wire_total < ihl) wire_total = avail;  // offload: the header does not say
  std::vector<std::byte> copy(take);
  std::memcpy(copy.data(), ip, take);
  copy[2] = static_cast<std::byte>(take >> 8);
  copy[3] = static_cast<std::byte>(take & 0xFF);
  copy[10] = std::byte{0};
  copy[11] = std::byte{0};
  const std::uint16_t sum = internet_checksum(bytes{copy.data(), ihl});
  copy[10] = static_cast<std::byte>(sum >> 8);
  copy[11] = static_cast<std::byte>(sum & 0xFF);
  auto v = ipv4_view::parse(copy);
  if (!v) return std::nullopt;
  auto s = tcp_segment(v->payload(), wire_total - ihl);
  if (!s) return std::nullopt;
  s->src = v->src();
  s->dst = v->dst();
  s->ip_ident = v->ident();
  return s;
}

std::optional<captured_segment> decode_ip_packet(const std::uint8_t* data, std::size_t len) {
  bool tcp = false;
  return decode_frame(DLT_RAW, data, len, tcp);
}

result<capture, std::string> read_capture(const std::string& path) {
  std::array<char, PCAP_ERRBUF_SIZE> err{};
  pcap_t* raw = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err.data());
  if (raw == nullptr) return unexpected{path + ": " + err.data()};
  std::unique_ptr<pcap_t, void (*)(pcap_t*)> p(raw, pcap_close);
  capture c;
  c.path = path;
  c.link_type = pcap_datalink(p.get());
  const char* name = pcap_datalink_val_to_name(c.link_type);
  c.link_name = name != nullptr ? name : std::to_string(c.link_type);
  switch (c.link_type) {
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
#endif
#ifdef DLT_IPV6
    case DLT_IPV6:
#endif
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
#endif
    case DLT_NULL:
    case DLT_LOOP: break;
    default:
      return unexpected{path + ": link type " + c.link_name +
                        " is not supported (Ethernet, raw IP, Linux cooked or loopback captures are)"};
  }
  for (;;) {
    pcap_pkthdr* hdr = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(p.get(), &hdr, &data);
    if (rc == PCAP_ERROR_BREAK) break;  // end of file
    if (rc == PCAP_ERROR) {
      c.warning = "the capture ends in the middle of a record after " + std::to_string(c.packets) +
                  " packets (" + pcap_geterr(p.get()) + "); drawing what was read";
      break;
    }
    if (rc != 1) continue;
    ++c.packets;
    bool tcp = false;
    auto s = decode_frame(c.link_type, data, hdr->caplen, tcp);
    if (!s) {
      ++(tcp ? c.malformed : c.not_tcp);
      continue;
    }
    s->t_ns = static_cast<std::int64_t>(hdr->ts.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(hdr->ts.tv_usec);
    s->frame = c.packets;
    c.segments.push_back(*s);
  }
  return c;
}

}  // namespace synack::diagram
