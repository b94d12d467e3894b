// TUN device through ioctls (linux/if_tun.h, SIOCSIF*). OS code lives here and in runtime/.
#include "synack/io/tun/tun_link.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>

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

void write_sysctl(const std::string& path, const char* value) {
  if (const int f = ::open(path.c_str(), O_WRONLY | O_CLOEXEC); f >= 0) {
    (void)!::write(f, value, std::strlen(value));
    ::close(f);
  }
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
  // A link that carries IPv4 only has IPv6 turned off: otherwise the kernel sends router
  // solicitations and MLD reports the host must count as drops. Best effort (IPv6 may be
  // compiled out). With IPv6 addresses, no router solicitations either (a point-to-point TUN
  // has no router), and no duplicate address detection (nobody else is on the link).
  const bool v6 = !cfg.kernel_addrs6.empty();
  const std::string conf = "/proc/sys/net/ipv6/conf/" + ifname + "/";
  if (!v6) {
    write_sysctl(conf + "disable_ipv6", "1");
  } else {
    write_sysctl(conf + "disable_ipv6", "0");
    write_sysctl(conf + "accept_dad", "0");
    write_sysctl(conf + "router_solicitations", "0");
  }
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) return fail("SIOCGIFFLAGS");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) return fail("SIOCSIFFLAGS");
  if (v6) {
    if (::ioctl(s, SIOCGIFINDEX, &ifr) < 0) return fail("SIOCGIFINDEX");
    const int index = ifr.ifr_ifindex;
    const int s6 = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s6 < 0) return fail("socket(AF_INET6)");
    for (const auto& [addr, len] : cfg.kernel_addrs6) {
      // struct in6_ifreq of <linux/ipv6.h> (which clashes with <netinet/in.h>), by its layout.
      struct {
        in6_addr addr;
        std::uint32_t prefixlen;
        int ifindex;
      } req{};
      std::memcpy(&req.addr, addr.octets.data(), 16);
      req.prefixlen = len;
      req.ifindex = index;
      if (::ioctl(s6, SIOCSIFADDR, &req) < 0 && errno != EEXIST) {
        const int err = errno;
        ::close(s6);
        errno = err;
        return fail("SIOCSIFADDR (IPv6)");
      }
    }
    ::close(s6);
  }
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

// The virtio-net header (struct virtio_net_hdr of linux/virtio_net.h, which does not compile
// as C++) in the byte order of this machine: a TUN device uses the legacy layout unless told
// otherwise (TUNSETVNETLE/BE), which is native order.
struct virtio_net_hdr {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t hdr_len;      // IPv4 + TCP headers
  std::uint16_t gso_size;     // payload octets per segment
  std::uint16_t csum_start;   // where the checksummed area starts
  std::uint16_t csum_offset;  // of the checksum field from csum_start
};
static_assert(sizeof(virtio_net_hdr) == 10);
constexpr std::uint8_t vnet_f_needs_csum = 1;
constexpr std::uint8_t vnet_f_data_valid = 2;
constexpr std::uint8_t vnet_gso_none = 0;
constexpr std::uint8_t vnet_gso_tcpv4 = 1;
constexpr std::uint8_t vnet_gso_ecn = 0x80;
constexpr std::size_t vnet_len = sizeof(virtio_net_hdr);
// Room for the largest IPv4 datagram behind its header.
constexpr std::size_t super_buffer_len = 65536 + vnet_len;

// Opens one queue of the device; the error says what to do.
result<int, std::string> open_queue(const tun_config& cfg, const std::string& name, short flags) {
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
  ifr.ifr_flags = flags;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int err = errno;
    ::close(fd);
    std::string msg = sys_error("TUNSETIFF " + cfg.name, err) + privilege_hint(err);
    if (err == EINVAL || err == EBUSY) {
      msg += " (the name is taken by a non-TUN device, a busy queue, or a device opened with other flags)";
    }
    return unexpected{msg};
  }
  return fd;
}

// The header's checksum and GSO fields, for the host (rx_meta).
rx_meta meta_of(const virtio_net_hdr& h) {
  rx_meta m;
  if ((h.flags & vnet_f_needs_csum) != 0) {
    m.checksum = rx_checksum::partial;
  } else if ((h.flags & vnet_f_data_valid) != 0) {
    m.checksum = rx_checksum::verified;
  }
  if ((h.gso_type & ~vnet_gso_ecn) != vnet_gso_none) m.gso_size = h.gso_size;
  return m;
}

// SYNACK_TUN_OFFLOAD=off in the environment.
bool offload_forced_off() {
  const char* v = std::getenv("SYNACK_TUN_OFFLOAD");
  return v != nullptr && std::string_view{v} == "off";
}

// The interface index of NAME (SIOCGIFINDEX; <net/if.h>'s if_nametoindex clashes with
// <linux/if.h>); 0 if it cannot be read.
std::uint32_t interface_index(const std::string& name) {
  const int sk = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sk < 0) return 0;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  const int rc = ::ioctl(sk, SIOCGIFINDEX, &ifr);
  ::close(sk);
  return rc == 0 && ifr.ifr_ifindex > 0 ? static_cast<std::uint32_t>(ifr.ifr_ifindex) : 0;
}

}  // namespace

result<std::unique_ptr<tun_link>, std::string> tun_link::open(const tun_config& cfg) {
  if (cfg.name.empty() || cfg.name.size() >= IFNAMSIZ) {
    return unexpected{std::string{"interface name must have 1 to 15 characters: '"} + cfg.name + "'"};
  }
  if (cfg.prefix_len > 32) return unexpected{std::string{"prefix length must be 0..32"}};
  if (cfg.queues < 1 || cfg.queues > 16) return unexpected{std::string{"queues must be 1..16"}};
  const bool vnet = cfg.offload && !offload_forced_off();
  int flags = IFF_TUN | IFF_NO_PI;
  if (vnet) flags |= IFF_VNET_HDR;
  if (cfg.queues > 1) flags |= IFF_MULTI_QUEUE;
  std::vector<int> fds;
  auto close_all = [&] {
    for (const int f : fds) ::close(f);
  };
  std::string ifname = cfg.name;
  for (unsigned q = 0; q < cfg.queues; ++q) {
    auto fd = open_queue(cfg, ifname, static_cast<short>(flags));
    if (!fd) {
      close_all();
      return unexpected{fd.error()};
    }
    fds.push_back(*fd);
    if (q == 0) {
      ifreq ifr{};
      if (::ioctl(*fd, TUNGETIFF, &ifr) == 0) ifname = ifr.ifr_name;
    }
  }
  // Device-wide settings, through the first queue: the header's size, then the offloads.
  std::string offload_notice;
  bool offload = false;
  if (!vnet) {
    // A persistent device keeps the offloads an earlier user set: without a header to say a
    // checksum is partial, every packet must come complete.
    (void)::ioctl(fds[0], TUNSETOFFLOAD, 0UL);
  } else {
    int hdr = static_cast<int>(vnet_len);
    if (::ioctl(fds[0], TUNSETVNETHDRSZ, &hdr) < 0) {
      const int err = errno;
      close_all();
      return unexpected{sys_error("TUNSETVNETHDRSZ on " + ifname, err)};
    }
    if (::ioctl(fds[0], TUNSETOFFLOAD, static_cast<unsigned long>(TUN_F_CSUM | TUN_F_TSO4)) == 0) {
      offload = true;
    } else {
      offload_notice = "offload refused on " + ifname + " (TUNSETOFFLOAD: " + std::strerror(errno) +
                       "); packets move one MTU at a time, checksummed in software";
    }
  }
  std::string notice;
  std::size_t mtu = cfg.mtu;
  if (cfg.configure) {
    auto r = configure(ifname, cfg);
    if (!r) {
      close_all();
      return unexpected{r.error()};
    }
    notice = std::move(*r);
  } else if (const std::size_t m = current_mtu(ifname); m != 0) {
    mtu = m;
  }
  std::unique_ptr<tun_link> t{new tun_link(std::move(fds), std::move(ifname), mtu, vnet, offload)};
  if (!notice.empty()) t->config_notice_ = std::move(notice);
  t->ifindex_ = interface_index(t->ifname_);
  t->offload_notice_ = std::move(offload_notice);
  if (t->queues_.size() > 1 && t->epfd_ < 0) return unexpected{std::string{"cannot make the epoll set of the queues"}};
  return t;
}

tun_link::tun_link(std::vector<int> fds, std::string ifname, std::size_t mtu, bool vnet, bool offload)
    : ifname_(std::move(ifname)),
      buf_(offload ? super_buffer_len : std::max<std::size_t>(mtu, 1500) + 64 + (vnet ? vnet_len : 0)),
      vnet_(vnet),
      offload_(offload) {
  for (const int fd : fds) queues_.push_back(queue{fd, nullptr, 0});
  if (queues_.size() > 1) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; epfd_ >= 0 && i < queues_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;  // level-triggered, as the loop watches a single queue
      ev.data.u64 = i;
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, queues_[i].fd, &ev);
    }
  }
  // io_uring where the kernel has it (tun_uring.hpp); SYNACK_TUN_IO=readwrite keeps to
  // read()/write() (docs/performance.md, "Over TUN", compares the two).
  const char* mode = std::getenv("SYNACK_TUN_IO");
  if (mode != nullptr && std::string_view{mode} == "readwrite") return;
  for (auto& q : queues_) {
    auto u = detail::tun_uring::open(q.fd, buf_.size());
    if (!u) {
      io_notice_ = "TUN I/O through read()/write(), not io_uring: " + u.error();
      for (auto& other : queues_) other.uring.reset();  // every queue the same way
      return;
    }
    q.uring = std::move(*u);
  }
}

tun_link::~tun_link() {
  for (auto& q : queues_) {
    q.uring.reset();  // cancels its requests on the descriptor first
    if (q.fd >= 0) ::close(q.fd);
  }
  if (epfd_ >= 0) ::close(epfd_);
}

// The TUN descriptor in every mode, level-triggered: readable while packets wait in the device
// (with several queues, the epoll set over them, readable while any queue holds a packet).
int tun_link::fd() const { return epfd_ >= 0 ? epfd_ : queues_.front().fd; }

bool tun_link::rx_pending() const {
  return std::any_of(queues_.begin(), queues_.end(), [](const queue& q) { return q.uring && q.uring->rx_pending(); });
}

std::uint32_t tun_link::tso_max() const { return offload_ ? 65535 - 20 - 60 : 0; }

void tun_link::submit() {
  if (queues_.front().uring) queues_.front().uring->submit(stats_);
}

bool tun_link::write_packet(bytes header, bytes packet) {
  queue& q = queues_.front();
  if (q.uring) return q.uring->send(header, packet, stats_);
  std::array<iovec, 2> iov{{{const_cast<std::byte*>(header.data()), header.size()},  // NOLINT: writev's type
                            {const_cast<std::byte*>(packet.data()), packet.size()}}};  // NOLINT
  const int parts = header.empty() ? 1 : 2;
  for (;;) {
    const ssize_t n = ::writev(q.fd, header.empty() ? &iov[1] : iov.data(), parts);
    if (n >= 0) {
      ++stats_.tx_packets;
      stats_.tx_bytes += static_cast<std::uint64_t>(n);  // as the io_uring path: the header included
      return true;
    }
    if (errno == EINTR) continue;
    ++stats_.tx_dropped;  // EAGAIN (queue full), EINVAL (malformed), EIO (interface down)
    return false;
  }
}

bool tun_link::send(instant /*now*/, bytes packet) {
  if (!vnet_) return write_packet({}, packet);
  const virtio_net_hdr h{};  // no offload: checksummed, one segment
  return write_packet(bytes{reinterpret_cast<const std::byte*>(&h), vnet_len}, packet);  // NOLINT: the ABI's bytes
}

// A packet with a partial checksum, maybe a super-segment: the header tells the kernel where
// to complete the checksum and what segment size to cut it into.
bool tun_link::send_offload(instant /*now*/, bytes packet, const tx_meta& meta) {
  if (!offload_ || packet.size() > 65535) {
    ++stats_.tx_dropped;
    return false;
  }
  virtio_net_hdr h{};
  if (meta.csum_partial) {
    h.flags = vnet_f_needs_csum;
    h.csum_start = meta.csum_start;
    h.csum_offset = meta.csum_offset;
  }
  if (meta.gso_size != 0) {
    h.gso_type = vnet_gso_tcpv4;
    h.gso_size = meta.gso_size;
    h.hdr_len = meta.header_len;
    ++stats_.tx_super_packets;
  }
  return write_packet(bytes{reinterpret_cast<const std::byte*>(&h), vnet_len}, packet);  // NOLINT: the ABI's bytes
}

bool tun_link::decode(bytes raw, bytes& packet, rx_meta& meta) {
  if (!vnet_) {
    packet = raw;
    meta = rx_meta{};
    return true;
  }
  if (raw.size() < vnet_len) {
    ++stats_.rx_errors;
    return false;
  }
  virtio_net_hdr h{};
  std::memcpy(&h, raw.data(), vnet_len);
  packet = raw.subspan(vnet_len);
  meta = meta_of(h);
  if (meta.gso_size != 0) ++stats_.rx_super_packets;
  return true;
}

std::size_t tun_link::receive_queue(queue& q, std::size_t max, const packet_sink& sink) {
  auto deliver = [&](bytes raw) {
    bytes packet;
    rx_meta meta;
    if (decode(raw, packet, meta)) sink(packet, meta);
  };
  std::size_t got = 0;
  if (q.uring) {
    got = q.uring->receive(max, deliver, stats_);
  } else {
    while (got < max) {
      const ssize_t n = ::read(q.fd, buf_.data(), buf_.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.rx_errors;
        break;
      }
      if (n == 0) break;
      ++got;
      ++stats_.rx_packets;
      stats_.rx_bytes += static_cast<std::uint64_t>(n);
      deliver(bytes{buf_.data(), static_cast<std::size_t>(n)});
    }
  }
  q.rx_packets += got;
  return got;
}

// Every queue in turn, starting after the one read first last time, so none starves.
std::size_t tun_link::receive(instant /*now*/, std::size_t max, const packet_sink& sink) {
  std::size_t got = 0;
  const std::size_t n = queues_.size();
  for (std::size_t i = 0; i < n && got < max; ++i) {
    got += receive_queue(queues_[(next_queue_ + i) % n], max - got, sink);
  }
  next_queue_ = (next_queue_ + 1) % n;
  return got;
}

}  // namespace synack::io
