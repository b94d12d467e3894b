// pcap capture through libpcap. A "dead" handle supplies the link type and snap length that
// the dump file header needs, without opening any device.
#include "synack/io/pcap/pcap_writer.hpp"

#include <pcap/pcap.h>

#include <algorithm>

namespace synack {

namespace {
// The largest IPv4 packet; every packet we see is captured whole.
constexpr int snap_len = 65535;
}  // namespace

struct pcap_writer::handle {
  pcap_t* pcap = nullptr;
  pcap_dumper_t* dumper = nullptr;

  handle() = default;
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  ~handle() {
    if (dumper != nullptr) {
      pcap_dump_close(dumper);
    }
    if (pcap != nullptr) {
      pcap_close(pcap);
    }
  }
};

result<std::unique_ptr<pcap_writer>, std::string> pcap_writer::open(const std::string& path) {
  auto h = std::make_unique<handle>();
  // DLT_RAW: the packet starts at the IP header. libpcap writes it to the file as
  // LINKTYPE_RAW (101), which readers decode as IPv4/IPv6 by the version nibble.
  h->pcap = pcap_open_dead(DLT_RAW, snap_len);
  if (h->pcap == nullptr) {
    return unexpected{std::string{"pcap_open_dead failed"}};
  }
  h->dumper = pcap_dump_open(h->pcap, path.c_str());
  if (h->dumper == nullptr) {
    return unexpected{std::string{pcap_geterr(h->pcap)}};
  }
  return std::unique_ptr<pcap_writer>(new pcap_writer(std::move(h)));
}

pcap_writer::pcap_writer(std::unique_ptr<handle> h) : h_(std::move(h)) {}

pcap_writer::~pcap_writer() = default;

void pcap_writer::write(instant at, bytes ip_packet) {
  // Floor division keeps tv_usec in [0, 1e6) should an epoch put an instant before zero.
  constexpr std::int64_t us_per_s = 1'000'000;
  std::int64_t sec = at.us / us_per_s;
  std::int64_t usec = at.us % us_per_s;
  if (usec < 0) {
    usec += us_per_s;
    --sec;
  }
  pcap_pkthdr hdr{};
  hdr.ts.tv_sec = static_cast<decltype(hdr.ts.tv_sec)>(sec);
  hdr.ts.tv_usec = static_cast<decltype(hdr.ts.tv_usec)>(usec);
  hdr.len = static_cast<bpf_u_int32>(ip_packet.size());
  hdr.caplen = static_cast<bpf_u_int32>(std::min<std::size_t>(ip_packet.size(), snap_len));
  // pcap_dump takes its dumper as u_char* (a callback signature shared with pcap_loop).
  pcap_dump(reinterpret_cast<u_char*>(h_->dumper), &hdr, reinterpret_cast<const u_char*>(ip_packet.data()));
  ++count_;
}

void pcap_writer::flush() { pcap_dump_flush(h_->dumper); }

}  // namespace synack
