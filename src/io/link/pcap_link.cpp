#include "synack/io/link/pcap_link.hpp"

#include <algorithm>

#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::io {

// A TCP packet whose checksum the device completes (a partial checksum): recorded with the
// checksum it will carry, so that a capture reads as the wire would.
void pcap_link::write_completed(instant now, bytes packet) {
  auto ip = ipv4_view::parse(packet);
  if (!ip || ip->protocol() != ip_proto::tcp || ip->payload().size() < tcp_view::min_header_len) {
    writer_->write(now, packet);
    return;
  }
  scratch_.assign(packet.begin(), packet.end());
  const std::size_t ihl = ip->header_len();
  tcp_repr::fill_checksum(mutable_bytes{scratch_}.subspan(ihl, ip->payload().size()), ip->src(), ip->dst());
  writer_->write(now, bytes{scratch_});
}

pcap_link::pcap_link(link& inner, std::unique_ptr<pcap_writer> writer)
    : link_decorator(inner), writer_(std::move(writer)) {}

pcap_link::~pcap_link() { writer_->flush(); }

bool pcap_link::send(instant now, bytes packet) {
  writer_->write(now, packet);
  return inner().send(now, packet);
}

// A super-segment is recorded as one packet longer than the MTU (as tcpdump shows a TSO
// host's packets), with its checksum completed.
bool pcap_link::send_offload(instant now, bytes packet, const tx_meta& meta) {
  if (meta.csum_partial) {
    write_completed(now, packet);
  } else {
    writer_->write(now, packet);
  }
  return inner().send_offload(now, packet, meta);
}

std::size_t pcap_link::receive(instant now, std::size_t max, const packet_sink& sink) {
  return inner().receive(now, max, [&](bytes p, const rx_meta& meta) {
    if (meta.checksum == rx_checksum::partial) {
      write_completed(now, p);
    } else {
      writer_->write(now, p);
    }
    sink(p, meta);
  });
}

void pcap_link::flush() { writer_->flush(); }

}  // namespace synack::io
