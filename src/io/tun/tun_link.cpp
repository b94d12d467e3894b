// TUN device through ioctls (linux/if_tun.h, SIOCSIF*). OS code lives here and in runtime/.
#include "synack/io/tun/tun_link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "tun_uring.hpp"

namespace synack::io {
namespace {

std::string sys_error(const std::string& what, int err) { return what + ": " + std::strerror(err); }

std::string privilege_hint(int err) {
  if (err == EPERM || err == EACCES) {
    return " (needs CAP_NET_ADMIN: run as root, or inside a namespace such as `unshare -rn`)";
  }
  return "";
}

void set_sockaddr(sockaddr& sa, std::uint32_t host_order_addr) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(host_order_addr);
  std::memcpy(&sa, &sin, sizeof sin);
}

// The queue length through rtnetlink (RTM_NEWLINK with IFLA_TXQLEN), as `ip link set ...
// txqueuelen` does: inside a user namespace of one's own (`unshare -rn`) the kernel refuses the
// SIOCSIFTXQLEN ioctl (it checks CAP_NET_ADMIN in the initial namespace) but accepts netlink.
// Returns 0 or an errno value.
int set_txqlen_netlink(int ioctl_sock, const std::string& ifname, std::uint32_t qlen) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (::ioctl(ioctl_sock, SIOCGIFINDEX, &ifr) < 0) return errno;
  const int index = ifr.ifr_ifindex;
  const int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return errno;
  struct {
    nlmsghdr nh;
    ifinfomsg ifi;
    rtattr rta;
    std::uint32_t value;
  } req{};
  req.nh.nlmsg_len = sizeof req;
  req.nh.nlmsg_type = RTM_NEWLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.nh.nlmsg_seq = 1;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ifi.ifi_index = index;
  req.rta.rta_type = IFLA_TXQLEN;
  req.rta.rta_len = RTA_LENGTH(sizeof(std::uint32_t));
  req.value = qlen;
  int err = 0;
  if (::send(s, &req, sizeof req, 0) < 0) {
    err = errno;
  } else {
    alignas(nlmsghdr) char buf[512];
    const ssize_t n = ::recv(s, buf, sizeof buf, 0);
    const auto* nh = reinterpret_cast<const nlmsghdr*>(buf);  // NOLINT: the kernel's reply
    if (n < 0) {
      err = errno;
    } else if (n >= static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr))) && nh->nlmsg_type == NLMSG_ERROR) {
      nlmsgerr e{};
      std::memcpy(&e, buf + NLMSG_HDRLEN, sizeof e);
      err = -e.error;  // 0: acknowledged
    } else {
      err = EPROTO;
    }
  }
  ::close(s);
  return err;
}

// Address, netmask, MTU, queue length, up — one ioctl each on a throwaway socket (the queue
// length through netlink where the ioctl is refused). Returns a notice for what was skipped.
result<std::string, std::string> configure(const std::string& ifname, const tun_config& cfg) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return unexpected{sys_error("socket(AF_INET)", errno)};
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(s);
    return unexpected{sys_error(std::string{what} + " on " + ifname, err) + privilege_hint(err)};
  };
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (!cfg.kernel_addr.is_unspecified()) {
    set_sockaddr(ifr.ifr_addr, cfg.kernel_addr.value);
    if (::ioctl(s, SIOCSIFADDR, &ifr) < 0) return fail("SIOCSIFADDR");
    const std::uint32_t mask = cfg.prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - cfg.prefix_len);
    set_sockaddr(ifr.ifr_netmask, mask);
    if (::ioctl(s, SIOCSIFNETMASK, &ifr) < 0) return fail("SIOCSIFNETMASK");
  }
  ifr.ifr_mtu = cfg.mtu;
  if (::ioctl(s, SIOCSIFMTU, &ifr) < 0) return fail("SIOCSIFMTU");
  std::string notice;
  ifr.ifr_qlen = static_cast<int>(cfg.tx_queue_len);
  if (::ioctl(s, SIOCSIFTXQLEN, &ifr) < 0) {
    const int ioctl_err = errno;
    if (const int nl_err = set_txqlen_netlink(s, ifname, cfg.tx_queue_len); nl_err != 0) {
      // Only a performance setting: go on with the kernel's default and say so.
      notice = "cannot set the queue length of " + ifname + " (SIOCSIFTXQLEN: " + std::strerror(ioctl_err) +
               ", netlink: " + std::strerror(nl_err) + "); keeping the kernel's default";
    }
  }
  // The link carries IPv4 only: without this the kernel sends IPv6 router solicitations and
  // MLD reports the host must count as drops. Best effort (IPv6 may be compiled out).
  if (const int f = ::open(("/proc/sys/net/ipv6/conf/" + ifname + "/disable_ipv6").c_str(), O_WRONLY | O_CLOEXEC);
      f >= 0) {
    (void)!::write(f, "1", 1);
    ::close(f);
  }
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return fail("SIOCGIFFLAGS");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) return fail("SIOCSIFFLAGS");
  ::close(s);
  return notice;
}

// The interface's MTU as it is (for a link that configures nothing); 0 if it cannot be read.
std::size_t current_mtu(const std::string& ifname) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  const int r = ::ioctl(s, SIOCGIFMTU, &ifr);
  ::close(s);
  return r < 0 || ifr.ifr_mtu <= 0 ? 0 : static_cast<std::size_t>(ifr.ifr_mtu);
}

}  // namespace

result<std::unique_ptr<tun_link>, std::string> tun_link::open(const tun_config& cfg) {
  if (cfg.name.empty() || cfg.name.size() >= IFNAMSIZ) {
    return unexpected{std::string{"interface name must have 1 to 15 characters: '"} + cfg.name + "'"};
  }
  if (cfg.prefix_len > 32) return unexpected{std::string{"prefix length must be 0..32"}};
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENODEV || err == ENXIO) {
      return unexpected{sys_error("open /dev/net/tun", err) + " (no TUN driver: `modprobe tun`, or create it with "
                                                             "`mknod /dev/net/tun c 10 200`)"};
    }
    return unexpected{sys_error("open /dev/net/tun", err) + privilege_hint(err)};
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, cfg.name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int err = errno;
    ::close(fd);
    std::string msg = sys_error("TUNSETIFF " + cfg.name, err) + privilege_hint(err);
    if (err == EINVAL || err == EBUSY) msg += " (the name is taken by a non-TUN device or a busy queue)";
    return unexpected{msg};
  }
  std::string ifname{ifr.ifr_name};
  std::string notice;
  std::size_t mtu = cfg.mtu;
  if (cfg.configure) {
    auto r = configure(ifname, cfg);
    if (!r) {
      ::close(fd);
      return unexpected{r.error()};
    }
    notice = std::move(*r);
  } else if (const std::size_t m = current_mtu(ifname); m != 0) {
    mtu = m;
  }
  std::unique_ptr<tun_link> t{new tun_link(fd, std::move(ifname), mtu)};
  if (!notice.empty()) t->config_notice_ = std::move(notice);
  return t;
}

tun_link::tun_link(int fd, std::string ifname, std::size_t mtu)
    : fd_(fd), ifname_(std::move(ifname)), buf_(std::max<std::size_t>(mtu, 1500) + 64) {
  // io_uring where the kernel has it (tun_uring.hpp); SYNACK_TUN_IO=readwrite keeps to
  // read()/write() (docs/performance.md, "Over TUN", compares the two).
  const char* mode = std::getenv("SYNACK_TUN_IO");
  if (mode != nullptr && std::string_view{mode} == "readwrite") return;
  auto u = detail::tun_uring::open(fd_, buf_.size());
  if (u) {
    uring_ = std::move(*u);
  } else {
    io_notice_ = "TUN I/O through read()/write(), not io_uring: " + u.error();
  }
}

tun_link::~tun_link() {
  uring_.reset();  // cancels its requests on the descriptor first
  if (fd_ >= 0) ::close(fd_);
}

// The TUN descriptor in every mode, level-triggered: readable while packets wait in the device.
int tun_link::fd() const { return fd_; }

bool tun_link::rx_pending() const { return uring_ && uring_->rx_pending(); }

void tun_link::submit() {
  if (uring_) uring_->submit(stats_);
}

bool tun_link::send(instant /*now*/, bytes packet) {
  if (uring_) return uring_->send(packet, stats_);
  for (;;) {
    const ssize_t n = ::write(fd_, packet.data(), packet.size());
    if (n >= 0) {
      ++stats_.tx_packets;
      stats_.tx_bytes += packet.size();
      return true;
    }
    if (errno == EINTR) continue;
    ++stats_.tx_dropped;  // EAGAIN (queue full), EINVAL (malformed), EIO (interface down)
    return false;
  }
}

std::size_t tun_link::receive(instant /*now*/, std::size_t max, const packet_sink& sink) {
  if (uring_) return uring_->receive(max, sink, stats_);
  std::size_t got = 0;
  while (got < max) {
    const ssize_t n = ::read(fd_, buf_.data(), buf_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.rx_errors;
      break;
    }
    if (n == 0) break;
    ++got;
    ++stats_.rx_packets;
    stats_.rx_bytes += static_cast<std::uint64_t>(n);
    sink(bytes{buf_.data(), static_cast<std::size_t>(n)});
  }
  return got;
}

}  // namespace synack::io
