#pragma once
// Per-packet offload metadata between a link and the host (no OS types: both sides are plain
// values, so the sans-IO core stays testable). A link with segmentation offload (a TUN device
// with a virtio-net header, io/tun) says how far the kernel vouches for a received packet's TCP
// checksum and whether it is a GSO super-packet; the host says how the kernel should segment
// and checksum a packet it sends.
#include <cstdint>

namespace synack {

enum class rx_checksum : std::uint8_t {
  unverified,  // check it (every plain link)
  verified,    // the kernel checked it (VIRTIO_NET_HDR_F_DATA_VALID)
  partial,     // the kernel will never compute it: the field holds only the pseudo-header sum
               // (VIRTIO_NET_HDR_F_NEEDS_CSUM; a packet from the local kernel, not a wire)
};

struct rx_meta {
  rx_checksum checksum = rx_checksum::unverified;
  // A super-packet (GSO, longer than the MTU): the segment size the sender used, else 0.
  std::uint16_t gso_size = 0;
  [[nodiscard]] bool checksum_trusted() const { return checksum != rx_checksum::unverified; }
};

struct tx_meta {
  // A super-segment for the link to cut into TCP segments of this payload size (0: one
  // packet, sent as it is). Such a packet's TCP checksum field holds only the pseudo-header
  // sum over its whole length (csum_partial), as the kernel expects.
  std::uint16_t gso_size = 0;
  bool csum_partial = false;
  std::uint16_t csum_start = 0;   // from the start of the IP header: the TCP header
  std::uint16_t csum_offset = 0;  // of the checksum field within it
  // Header bytes (IPv4 + TCP with options) in front of the payload.
  std::uint16_t header_len = 0;
};

}  // namespace synack
