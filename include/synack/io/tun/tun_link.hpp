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
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "synack/io/link.hpp"
#include "synack/util/result.hpp"
#include "synack/wire/ipv4_addr.hpp"

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
  std::uint16_t mtu = 1500;
  std::uint32_t tx_queue_len = 1000;  // kernel -> us queue, in packets
  // False: set nothing on the interface (address, MTU, queue length, up state, IPv6): it is
  // used as it is, and its MTU is read from it.
  bool configure = true;
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
  void submit() override;
  std::size_t receive(instant now, std::size_t max, const packet_sink& sink) override;
  [[nodiscard]] int fd() const override;
  [[nodiscard]] bool rx_pending() const override;
  [[nodiscard]] std::string name() const override { return "tun:" + ifname_; }
  [[nodiscard]] const std::string& ifname() const { return ifname_; }
  [[nodiscard]] const link_stats& stats() const { return stats_; }
  // "io_uring" or "read/write": how packets move.
  [[nodiscard]] const char* io_mode() const { return uring_ ? "io_uring" : "read/write"; }
  // One line when io_uring could not be used although not turned off; empty otherwise.
  [[nodiscard]] const std::string& io_notice() const { return io_notice_; }
  // One line when a setting could not be applied and the link went on without it (the queue
  // length inside a user namespace that refuses both the ioctl and netlink); empty otherwise.
  [[nodiscard]] const std::string& config_notice() const { return config_notice_; }

 private:
  tun_link(int fd, std::string ifname, std::size_t mtu);
  int fd_ = -1;
  std::string ifname_;
  std::vector<std::byte> buf_;
  std::unique_ptr<detail::tun_uring> uring_;
  std::string io_notice_;
  std::string config_notice_;
  link_stats stats_;
};

}  // namespace synack::io
