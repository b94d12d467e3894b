// packetdrill_interface_init: the flags, Linux's defaults, and the C entry points that
// forward to the plug-in (packetdrill_interface.hpp).
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "packetdrill_interface.hpp"
#include "plugin.hpp"

namespace synack::packetdrill {

using namespace std::chrono_literals;

void apply_linux_defaults(tcp_config& c) {
  c.rto_min = 200ms;              // TCP_RTO_MIN
  c.rto_initial = 1s;             // TCP_TIMEOUT_INIT
  c.rto_max = 120s;               // TCP_RTO_MAX
  c.initial_window = initial_window_rule::rfc6928;  // TCP_INIT_CWND 10
  c.recv_buffer = 15 * 1024 * 1024;  // tcp_rmem[2] of defaults.sh: window scale 8
  c.send_buffer = 256 * 1024;        // tcp_wmem[1]
  c.syn_r2 = posix::syn_give_up_after(c, 5);  // tcp_syn_retries of defaults.sh
  c.congestion = congestion_kind::cubic;
  c.nagle_minshall = true;  // tcp_nagle_check
  c.quickack = 16;          // TCP_MAX_QUICKACKS
  c.window_update_linux = true;  // tcp_cleanup_rbuf
  c.active_reset_linux = true;   // tcp_send_active_reset
  c.reset_keeps_received_linux = true;  // tcp_reset: data stays readable, a child queued
  c.psh_burst_linux = true;      // PSH where a burst of new data stops
  c.tlp_linux = true;            // tcp_schedule_loss_probe, tcp_send_loss_probe
  c.pacing = false;  // CUBIC paces only under the fq qdisc or SO_MAX_PACING_RATE (sk_pacing_status)
}

namespace {

std::optional<std::vector<long>> read_sysctl(const char* name) {
  std::ifstream in(std::string("/proc/sys/net/ipv4/") + name);
  if (!in) return std::nullopt;
  std::vector<long> v;
  long x = 0;
  while (in >> x) v.push_back(x);
  if (v.empty()) return std::nullopt;
  return v;
}

}  // namespace

void apply_sysctls(tcp_config& c) {
  if (auto v = read_sysctl("tcp_timestamps")) c.timestamps = (*v)[0] != 0;
  if (auto v = read_sysctl("tcp_sack")) c.sack = (*v)[0] != 0;
  if (auto v = read_sysctl("tcp_window_scaling")) c.window_scaling = (*v)[0] != 0;
  // RFC 3168: 0 off, 1 on (asked for and accepted), 2 accepted only (Linux's default); the
  // AccECN values above are taken as 2.
  if (auto v = read_sysctl("tcp_ecn")) c.ecn = (*v)[0] == 0 ? ecn_mode::off : (*v)[0] == 1 ? ecn_mode::on : ecn_mode::passive;
  // The window scale follows the largest receive buffer (tcp_select_initial_window).
  if (auto v = read_sysctl("tcp_rmem"); v && v->size() == 3 && (*v)[2] > 0) {
    c.recv_buffer = static_cast<std::size_t>((*v)[2]);
  }
  if (auto v = read_sysctl("tcp_wmem"); v && v->size() == 3 && (*v)[1] > 0) {
    c.send_buffer = static_cast<std::size_t>((*v)[1]);
  }
  if (auto v = read_sysctl("tcp_syn_retries"); v && (*v)[0] > 0 && (*v)[0] <= 127) {
    c.syn_r2 = posix::syn_give_up_after(c, static_cast<int>((*v)[0]));
  }
  // "%08x-%08x-%08x-%08x": four 32-bit words, stored little-endian one after the other
  // (Linux's sscanf_key), which SipHash reads as two 64-bit little-endian halves.
  std::ifstream in("/proc/sys/net/ipv4/tcp_fastopen_key");
  std::string text;
  std::array<std::uint32_t, 4> w{};
  if (in >> text && std::sscanf(text.c_str(), "%x-%x-%x-%x", &w[0], &w[1], &w[2], &w[3]) == 4) {
    c.fast_open_key = std::array<std::uint64_t, 2>{w[0] | (std::uint64_t{w[1]} << 32), w[2] | (std::uint64_t{w[3]} << 32)};
  }
}

std::optional<int> fastopen_sysctl() {
  // An int, or "0x70403" as defaults.sh writes it reads back in decimal.
  auto v = read_sysctl("tcp_fastopen");
  if (!v) return std::nullopt;
  return static_cast<int>((*v)[0]);
}

plugin_options plugin_options::parse(const char* flags, std::string& error) {
  plugin_options o;
  o.host.addr = ipv4_addr::from_octets(192, 168, 0, 1);
  std::string text = flags != nullptr ? flags : "";
  for (char& ch : text) {
    if (ch == ',') ch = ' ';
  }
  std::istringstream words(text);
  std::string w;
  while (words >> w) {
    if (w == "linux") {
      o.linux_defaults = true;
      o.tso = true;
    } else if (w == "sysctl") {
      o.sysctl = true;
    } else if (w == "tso" || w == "notso") {
      o.tso = w == "tso";
    } else if (w == "verbose") {
      o.verbose = true;
    } else if (w.starts_with("local_ip=")) {
      // IPv4 replaces the default address; IPv6 (run_all.py's --ip_version=ipv6 runs) joins it.
      const auto a = ip_addr::parse(w.substr(9));
      if (!a) error += "bad address in " + w + "; ";
      if (a && a->is_v4()) o.host.addr = a->v4();
      if (a && !a->is_v4()) o.host.addresses.push_back(host_address{*a, 64});
    } else if (w.starts_with("mtu=")) {
      const long m = std::strtol(w.c_str() + 4, nullptr, 10);
      if (m < 576 || m > 65535) error += "bad MTU in " + w + "; ";
      o.host.mtu = static_cast<std::uint16_t>(std::clamp(m, 576L, 65535L));
      o.host.tcp.mss = static_cast<std::uint16_t>(o.host.mtu - 40);
    } else {
      error += "unknown flag " + w + "; ";
    }
  }
  if (o.linux_defaults) apply_linux_defaults(o.host.tcp);
  return o;
}

namespace {

plugin& pd(void* ud) { return *static_cast<plugin*>(ud); }

void pd_free(void* ud) { delete static_cast<plugin*>(ud); }
int pd_socket(void* ud, int d, int t, int p) { return pd(ud).socket(d, t, p); }
int pd_bind(void* ud, int fd, const sockaddr* a, socklen_t l) { return pd(ud).bind(fd, a, l); }
int pd_listen(void* ud, int fd, int b) { return pd(ud).listen(fd, b); }
int pd_accept(void* ud, int fd, sockaddr* a, socklen_t* l) { return pd(ud).accept(fd, a, l); }
int pd_connect(void* ud, int fd, const sockaddr* a, socklen_t l) { return pd(ud).connect(fd, a, l); }
ssize_t pd_read(void* ud, int fd, void* b, size_t n) { return pd(ud).read(fd, b, n); }
ssize_t pd_readv(void* ud, int fd, const iovec* iov, int n) {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<std::size_t>(std::max(n, 0));
  return pd(ud).recvmsg(fd, &m, 0);
}
ssize_t pd_recv(void* ud, int fd, void* b, size_t n, int f) { return pd(ud).recv(fd, b, n, f); }
ssize_t pd_recvfrom(void* ud, int fd, void* b, size_t n, int f, sockaddr* a, socklen_t* l) {
  const ssize_t r = pd(ud).recv(fd, b, n, f);
  if (r >= 0 && l != nullptr) *l = 0;  // TCP: no source address (Linux leaves it unset)
  (void)a;
  return r;
}
ssize_t pd_recvmsg(void* ud, int fd, msghdr* m, int f) { return pd(ud).recvmsg(fd, m, f); }
ssize_t pd_write(void* ud, int fd, const void* b, size_t n) { return pd(ud).write(fd, b, n); }
ssize_t pd_writev(void* ud, int fd, const iovec* iov, int n) {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<std::size_t>(std::max(n, 0));
  return pd(ud).sendmsg(fd, &m, 0);
}
ssize_t pd_send(void* ud, int fd, const void* b, size_t n, int f) { return pd(ud).send(fd, b, n, f); }
ssize_t pd_sendto(void* ud, int fd, const void* b, size_t n, int f, const sockaddr* a, socklen_t l) {
  return pd(ud).sendto(fd, b, n, f, a, l);
}
ssize_t pd_sendmsg(void* ud, int fd, const msghdr* m, int f) { return pd(ud).sendmsg(fd, m, f); }
int pd_fcntl(void* ud, int fd, int cmd, ...) {
  std::va_list ap;
  va_start(ap, cmd);
  const long arg = va_arg(ap, long);
  va_end(ap);
  return pd(ud).fcntl(fd, cmd, arg);
}
int pd_ioctl(void* ud, int fd, unsigned long req, ...) {
  std::va_list ap;
  va_start(ap, req);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return pd(ud).ioctl(fd, req, arg);
}
int pd_close(void* ud, int fd) { return pd(ud).close(fd); }
int pd_shutdown(void* ud, int fd, int how) { return pd(ud).shutdown(fd, how); }
int pd_getsockopt(void* ud, int fd, int lv, int nm, void* v, socklen_t* l) { return pd(ud).getsockopt(fd, lv, nm, v, l); }
int pd_setsockopt(void* ud, int fd, int lv, int nm, const void* v, socklen_t l) {
  return pd(ud).setsockopt(fd, lv, nm, v, l);
}
int pd_poll(void* ud, pollfd* f, nfds_t n, int t) { return pd(ud).poll(f, n, t); }
int pd_netdev_send(void* ud, const void* b, size_t n) { return pd(ud).netdev_send(b, n); }
int pd_netdev_receive(void* ud, void* b, size_t* n, long long* t) { return pd(ud).netdev_receive(b, n, t); }
int pd_usleep(void* ud, useconds_t us) { return pd(ud).usleep(us); }
int pd_gettimeofday(void* ud, timeval* tv, struct timezone*) { return pd(ud).gettimeofday(tv); }
int pd_unsupported() {
  errno = ENOSYS;
  return -1;
}
int pd_epoll_create(void* ud, int size) { return pd(ud).epoll_create(size); }
int pd_epoll_ctl(void* ud, int epfd, int op, int fd, epoll_event* ev) { return pd(ud).epoll_ctl(epfd, op, fd, ev); }
int pd_epoll_wait(void* ud, int epfd, epoll_event* evs, int max, int t) { return pd(ud).epoll_wait(epfd, evs, max, t); }
int pd_pipe(void*, int fds[2]) { return ::pipe(fds); }
int pd_splice(void*, int, loff_t*, int, loff_t*, size_t, unsigned int) { return pd_unsupported(); }

}  // namespace
}  // namespace synack::packetdrill

extern "C" __attribute__((visibility("default"))) void packetdrill_interface_init(const char* flags,
                                                                                   packetdrill_interface* ifc) {
  using namespace synack::packetdrill;
  std::string error;
  plugin_options o = plugin_options::parse(flags, error);
  if (!error.empty()) std::fprintf(stderr, "synack packetdrill plug-in: %s(flags \"%s\")\n", error.c_str(), flags);
  *ifc = packetdrill_interface{};
  ifc->userdata = new plugin(std::move(o));
  ifc->free = pd_free;
  ifc->socket = pd_socket;
  ifc->bind = pd_bind;
  ifc->listen = pd_listen;
  ifc->accept = pd_accept;
  ifc->connect = pd_connect;
  ifc->read = pd_read;
  ifc->readv = pd_readv;
  ifc->recv = pd_recv;
  ifc->recvfrom = pd_recvfrom;
  ifc->recvmsg = pd_recvmsg;
  ifc->write = pd_write;
  ifc->writev = pd_writev;
  ifc->send = pd_send;
  ifc->sendto = pd_sendto;
  ifc->sendmsg = pd_sendmsg;
  ifc->fcntl = pd_fcntl;
  ifc->ioctl = pd_ioctl;
  ifc->close = pd_close;
  ifc->shutdown = pd_shutdown;
  ifc->getsockopt = pd_getsockopt;
  ifc->setsockopt = pd_setsockopt;
  ifc->poll = pd_poll;
  ifc->netdev_send = pd_netdev_send;
  ifc->netdev_receive = pd_netdev_receive;
  ifc->usleep = pd_usleep;
  ifc->gettimeofday = pd_gettimeofday;
  ifc->epoll_create = pd_epoll_create;
  ifc->epoll_ctl = pd_epoll_ctl;
  ifc->epoll_wait = pd_epoll_wait;
  ifc->pipe = pd_pipe;
  ifc->splice = pd_splice;
}
