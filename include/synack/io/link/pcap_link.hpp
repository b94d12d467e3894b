#pragma once
// Captures every packet crossing a link, both directions, to a pcap file (LINKTYPE_RAW).
// Over faults(tun) it records what really crossed the device (after injected faults) when the
// faults decorator is inside it; place it outside to record what the host offered.
#include <memory>

#include "synack/io/link.hpp"
#include "synack/io/pcap/pcap_writer.hpp"

namespace synack::io {

class pcap_link final : public link_decorator {
 public:
  pcap_link(link& inner, std::unique_ptr<pcap_writer> writer);
  ~pcap_link() override;
  bool send(instant now, bytes packet) override;
  std::size_t receive(instant now, std::size_t max, const packet_sink& sink) override;
  [[nodiscard]] std::string name() const override { return "pcap(" + inner().name() + ")"; }
  void flush();
  [[nodiscard]] std::uint64_t packets() const { return writer_->packets_written(); }

 private:
  std::unique_ptr<pcap_writer> writer_;
};

}  // namespace synack::io
