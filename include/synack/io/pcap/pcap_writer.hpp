#pragma once
// pcap capture through libpcap: raw IPv4 packets (LINKTYPE_RAW), timestamps from the driver's
// instant (virtual or real). Files open in tshark/Wireshark.
#include <memory>
#include <string>

#include "synack/util/result.hpp"
#include "synack/util/time.hpp"
#include "synack/wire/bytes.hpp"

namespace synack {

class pcap_writer {
 public:
  // Opens (truncates) `path`. On failure the error string says why (libpcap's message).
  [[nodiscard]] static result<std::unique_ptr<pcap_writer>, std::string> open(const std::string& path);
  ~pcap_writer();
  pcap_writer(const pcap_writer&) = delete;
  pcap_writer& operator=(const pcap_writer&) = delete;

  void write(instant at, bytes ip_packet);
  void flush();
  [[nodiscard]] std::uint64_t packets_written() const { return count_; }

 private:
  struct handle;
  explicit pcap_writer(std::unique_ptr<handle> h);
  std::unique_ptr<handle> h_;
  std::uint64_t count_ = 0;
};

}  // namespace synack
