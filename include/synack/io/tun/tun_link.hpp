#pragma once
// A Linux TUN device (IFF_TUN | IFF_NO_PI): raw IPv4 packets, no link-layer header.
// open() creates the interface (or attaches to an existing persistent one of that name), gives
// the kernel's side an address and prefix (which installs the on-link route), sets the MTU and
// brings it up — through ioctls, never by running `ip`. The descriptor is non-blocking and
// receive() reads a batch per call. Where the kernel has io_uring with multishot read (Linux
// 6.7+) and liburing was found at build time, packets are read and written in batches through
// it, about one system call per batch instead of one per packet (SYNACK_TUN_IO=readwrite in the
// environment turns that off); send() then queues until submit(). io_notice() says why when
// io_uring was wanted but is missing or refused (seccomp, kernel.io_uring_disabled, old kernel).
// With io_uring, the thread that opened the link must drive it.
//
// Offloads (tun_config::offload): the device is opened with a virtio-net header in front of
// every packet (IFF_VNET_HDR, TUNSETVNETHDRSZ) and told it may hand over unchecksummed and
// TSO super-packets (TUNSETOFFLOAD TUN_F_CSUM | TUN_F_TSO4). Received packets then come with
// rx_meta (the kernel's checksum verdict, GSO size: up to 64 KiB per packet), and tso_max()
// lets the host send super-segments that the kernel cuts into segments (send_offload). When the
// kernel refuses TUNSETOFFLOAD the link goes on without (offload_notice() says so).
//
// Queues (tun_config::queues > 1): the device is multi-queue (IFF_MULTI_QUEUE), one descriptor
// per queue, all attached at open (TUNSETQUEUE could detach one; nothing here does). The kernel
// picks a queue per flow for what it sends us; receive() reads every queue, and fd() is then an
// epoll set over the queues' descriptors (level-triggered, so still readable while any queue
// holds a packet). send() writes on queue 0. One thread serves them all today.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "synack/io/link.hpp"
#include "synack/util/result.hpp"
#include "synack/wire/ipv4_addr.hpp"
#include "synack/wire/ipv6_addr.hpp"

namespace synack::io {

namespace detail {
class tun_uring;
}

struct tun_config {
  std::string name = "synack0";  // interface name (at most 15 characters)
  // The kernel's address on the interface and the prefix length (e.g. 10.77.0.1/24). Leave
  // kernel_addr unspecified to keep whatever the interface has (configure it yourself).
  ipv4_addr kernel_addr;
  std::uint8_t prefix_len = 24;
  // IPv6 addresses of the kernel's side, each with its prefix length (fd00:77::1/64), which
  // install the on-link routes. With none, IPv6 is turned off on the interface (its router
  // solicitations and MLD reports would only be drops at the host).
  std::vector<std::pair<ipv6_addr, std::uint8_t>> kernel_addrs6;
  std::uint16_t mtu = 1500;
  std::uint32_t tx_queue_len = 1000;  // kernel -> us queue, in packets
  // False: set nothing on the interface (address, MTU, queue length, up state, IPv6): it is
  // used as it is, and its MTU is read from it.
  bool configure = true;
  // Checksum and segmentation offload through a virtio-net header (above). Off by default for
  // library users; SYNACK_TUN_OFFLOAD=off in the environment turns it off whatever this says.
  bool offload = false;
  // Device queues (IFF_MULTI_QUEUE when more than 1), one descriptor each: 1..16.
  unsigned queues = 1;
};

class tun_link final : public link {
 public:
  // Errors say what to do: no /dev/net/tun (modprobe tun), missing CAP_NET_ADMIN (run as root
  // or inside `unshare -rn`), an interface name in use by a non-TUN device ...
  [[nodiscard]] static result<std::unique_ptr<tun_link>, std::string> open(const tun_config& cfg);
  ~tun_link() override;
  tun_link(const tun_link&) = delete;
  tun_link& operator=(const tun_link&) = delete;

  bool send(instant now, bytes packet) override;
  bool send_offload(instant now, bytes packet, const tx_meta& meta) override;
  [[nodiscard]] std::uint32_t tso_max() const override;
  void submit() override;
  std::size_t receive(instant now, std::size_t max, const packet_sink& sink) override;
  [[nodiscard]] int fd() const override;
  [[nodiscard]] bool rx_pending() const override;
  [[nodiscard]] std::string name() const override { return "tun:" + ifname_; }
  [[nodiscard]] const std::string& ifname() const { return ifname_; }
  // The device's interface index (0 if the kernel did not say): the scope id of the host's
  // link-local addresses (host_config::link_index).
  [[nodiscard]] std::uint32_t ifindex() const { return ifindex_; }
  // Octets count as they cross the device: with offloads, each packet's virtio-net header too.
  [[nodiscard]] const link_stats& stats() const { return stats_; }
  // "io_uring" or "read/write": how packets move.
  [[nodiscard]] const char* io_mode() const { return queues_.front().uring ? "io_uring" : "read/write"; }
  // One line when io_uring could not be used although not turned off; empty otherwise.
  [[nodiscard]] const std::string& io_notice() const { return io_notice_; }
  // One line when a setting could not be applied and the link went on without it (the queue
  // length inside a user namespace that refuses both the ioctl and netlink); empty otherwise.
  [[nodiscard]] const std::string& config_notice() const { return config_notice_; }
  // Whether packets carry a virtio-net header and the kernel accepted the offloads.
  [[nodiscard]] bool offload() const { return offload_; }
  // One line when offload was asked for but the kernel refused it; empty otherwise.
  [[nodiscard]] const std::string& offload_notice() const { return offload_notice_; }
  [[nodiscard]] std::size_t queues() const { return queues_.size(); }
  // Packets received per queue (tests: which queue the kernel picked).
  [[nodiscard]] std::uint64_t queue_rx_packets(std::size_t q) const { return queues_.at(q).rx_packets; }

 private:
  struct queue {
    int fd = -1;
    std::unique_ptr<detail::tun_uring> uring;
    std::uint64_t rx_packets = 0;
  };
  tun_link(std::vector<int> fds, std::string ifname, std::size_t mtu, bool vnet, bool offload);
  std::size_t receive_queue(queue& q, std::size_t max, const packet_sink& sink);
  bool write_packet(bytes header, bytes packet);
  // The packet behind the virtio-net header and what the header says; false if malformed.
  bool decode(bytes raw, bytes& packet, rx_meta& meta);
  std::vector<queue> queues_;
  int epfd_ = -1;  // several queues: an epoll set over their descriptors (fd())
  std::size_t next_queue_ = 0;
  std::string ifname_;
  std::uint32_t ifindex_ = 0;
  std::vector<std::byte> buf_;
  bool vnet_ = false;     // a virtio-net header precedes every packet
  bool offload_ = false;  // and the kernel accepted TUN_F_CSUM | TUN_F_TSO4
  std::string io_notice_;
  std::string config_notice_;
  std::string offload_notice_;
  link_stats stats_;
};

}  // namespace synack::io
