#pragma once
// Captures every packet crossing a link, both directions, to a pcap file (LINKTYPE_RAW).
// Over faults(tun) it records what really crossed the device (after injected faults) when the
// faults decorator is inside it; place it outside to record what the host offered.
// With offloads (a TUN device's virtio-net header) a super-packet is recorded as one packet
// longer than the MTU, and a partial TCP checksum as the complete one the device computes.
#include <memory>
#include <vector>

#include "synack/io/link.hpp"
#include "synack/io/pcap/pcap_writer.hpp"

namespace synack::io {

class pcap_link final : public link_decorator {
 public:
  pcap_link(link& inner, std::unique_ptr<pcap_writer> writer);
  ~pcap_link() override;
  bool send(instant now, bytes packet) override;
  bool send_offload(instant now, bytes packet, const tx_meta& meta) override;
  std::size_t receive(instant now, std::size_t max, const packet_sink& sink) override;
  [[nodiscard]] std::string name() const override { return "pcap(" + inner().name() + ")"; }
  void flush();
  [[nodiscard]] std::uint64_t packets() const { return writer_->packets_written(); }

 private:
  void write_completed(instant now, bytes packet);
  std::unique_ptr<pcap_writer> writer_;
  std::vector<std::byte> scratch_;
};

}  // namespace synack::io
