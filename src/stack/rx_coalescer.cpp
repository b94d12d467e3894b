// Receive coalescing; see rx_coalescer.hpp for the rules.
#include "synack/stack/rx_coalescer.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "synack/wire/checksum.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {
namespace {

constexpr std::uint8_t ack_or_psh = tcp_flag::ack | tcp_flag::psh;

// The parts of a packet the rules look at; nullopt if it can take no part in a run.
struct parsed {
  ipv4_view ip;
  tcp_view tcp;
};

std::optional<parsed> candidate(bytes packet, const rx_meta& meta) {
  if (meta.gso_size != 0) return std::nullopt;  // already a super-packet
  auto ip = ipv4_view::parse(packet);
  if (!ip || ip->header_len() != ipv4_view::min_header_len || ip->protocol() != ip_proto::tcp ||
      ip->total_len() != packet.size() || ip->more_fragments() || ip->frag_offset() != 0) {
    return std::nullopt;
  }
  auto tcp = tcp_view::parse(ip->payload());
  if (!tcp || tcp->payload().empty() || (tcp->flags() & ~ack_or_psh) != 0 || (tcp->flags() & tcp_flag::ack) == 0) {
    return std::nullopt;
  }
  return parsed{*ip, *tcp};
}

bool checksum_ok(const tcp_view& t, const ipv4_view& ip, const rx_meta& meta) {
  return meta.checksum_trusted() || t.verify_checksum(ip.src(), ip.dst());
}

}  // namespace

bool rx_coalescer::start(bytes packet, const rx_meta& meta) {
  auto p = candidate(packet, meta);
  // A segment with PSH ends a run at once: nothing could join it.
  if (!p || (p->tcp.flags() & tcp_flag::psh) != 0) return false;
  std::memcpy(buf_.data(), packet.data(), packet.size());
  total_ = packet.size();
  header_ = ipv4_view::min_header_len + p->tcp.header_len();
  len_ = p->tcp.payload().size();
  seg_size_ = static_cast<std::uint16_t>(len_);
  next_seq_ = p->tcp.seq().raw + static_cast<std::uint32_t>(len_);
  segments_ = 1;
  closed_ = false;
  psh_ = false;
  first_verified_ = meta.checksum_trusted();
  first_meta_ = meta;
  return true;
}

bool rx_coalescer::try_append(bytes packet, const rx_meta& meta) {
  if (closed_) return false;
  auto p = candidate(packet, meta);
  if (!p) return false;
  const std::size_t payload = p->tcp.payload().size();
  const std::size_t hdr = ipv4_view::min_header_len + p->tcp.header_len();
  const bytes mine{buf_.data(), header_};
  // Same IPv4 addresses, TOS and flags; same TCP ports, ACK number, data offset, window and
  // option bytes: octets 0-1 (TOS with version/IHL), 6 (flags), 12-19 (addresses) of the IPv4
  // header; 0-3 (ports), 8-12 (ACK number, data offset), 14-15 (window) and the options of TCP.
  auto same = [&](std::size_t from, std::size_t n) { return std::memcmp(&mine[from], &packet[from], n) == 0; };
  constexpr std::size_t t = ipv4_view::min_header_len;
  if (hdr != header_ || !same(0, 2) || (mine[6] & std::byte{0xE0}) != (packet[6] & std::byte{0xE0}) || !same(12, 8) ||
      !same(t + 0, 4) || !same(t + 8, 5) || !same(t + 14, 2) || !same(t + 20, hdr - t - 20)) {
    return false;
  }
  if (p->tcp.seq().raw != next_seq_ || payload > seg_size_ || total_ + payload > max_len) return false;
  // The checksums: the new segment's, and the first's once it has a partner.
  if (!checksum_ok(p->tcp, p->ip, meta)) return false;
  if (!first_verified_) {
    auto first = ipv4_view::parse(bytes{buf_.data(), total_});
    auto ft = tcp_view::parse(first->payload());
    if (!ft->verify_checksum(first->src(), first->dst())) return false;  // goes alone; the host drops it
    first_verified_ = true;
  }
  std::memcpy(buf_.data() + total_, packet.data() + hdr, payload);
  total_ += payload;
  len_ += payload;
  next_seq_ += static_cast<std::uint32_t>(payload);
  ++segments_;
  if ((p->tcp.flags() & tcp_flag::psh) != 0) psh_ = true;
  closed_ = psh_ || payload < seg_size_;
  return true;
}

void rx_coalescer::finish() {
  store_be16(&buf_[2], static_cast<std::uint16_t>(total_));
  store_be16(&buf_[10], 0);
  store_be16(&buf_[10], internet_checksum(bytes{buf_.data(), ipv4_view::min_header_len}));
  if (psh_) buf_[ipv4_view::min_header_len + 13] |= std::byte{tcp_flag::psh};
  ++stats_.runs;
  stats_.merged += segments_;
}

}  // namespace synack
