#include "net_session.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "control.hpp"
#include "diagram/output.hpp"
#include "synack/runtime/event_loop.hpp"

namespace synack::tools {
namespace {

// The host's operator notices, one line each on stderr, as the kernel logs them.
class stderr_log final : public host_log {
 public:
  void on_log(instant /*now*/, std::string_view line) override {
    fmt::print(stderr, "synack: {}\n", line);
    std::fflush(stderr);
  }
};

}  // namespace

std::string default_ctl_dir() {
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); x != nullptr && *x != '\0') return std::string{x} + "/synack";
  return "/run/synack";
}

std::optional<std::pair<ip_addr, std::uint8_t>> parse_prefix(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto a = ip_addr::parse(std::string_view{text}.substr(0, slash));
  unsigned len = 0;
  const char* b = text.data() + slash + 1;
  const char* e = text.data() + text.size();
  auto [p, ec] = std::from_chars(b, e, len);
  if (!a || ec != std::errc{} || p != e || b == e || len > (a->is_v4() ? 32u : 128u)) return std::nullopt;
  return std::pair{*a, static_cast<std::uint8_t>(len)};
}

namespace {

// The other end of a prefix: its first address (.1, ::1), or the second if `ours` is the first.
ip_addr default_peer(const ip_addr& ours, std::uint8_t len) {
  if (ours.is_v4()) {
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - len);
    const std::uint32_t net = ours.v4().value & mask;
    return ipv4_addr{net + 1 == ours.v4().value ? net + 2 : net + 1};
  }
  ipv6_addr a = ours.v6();
  for (std::size_t bit = len; bit < 128; ++bit) a.octets[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  a.octets[15] = static_cast<std::uint8_t>(a.octets[15] | 1);
  if (a == ours.v6()) a.octets[15] = static_cast<std::uint8_t>((a.octets[15] & ~1u) | 2);
  return a;
}

bool same_prefix(const ip_addr& x, const ip_addr& y, std::uint8_t len) {
  if (x.is_v4() != y.is_v4()) return false;
  if (x.is_v4()) {
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - len);
    return (x.v4().value & mask) == (y.v4().value & mask);
  }
  for (std::size_t bit = 0; bit < len; ++bit) {
    const auto m = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    if ((x.v6().octets[bit / 8] & m) != (y.v6().octets[bit / 8] & m)) return false;
  }
  return true;
}

}  // namespace

result<std::unique_ptr<net_session>, std::string> net_session::open(const net_options& o) {
  std::unique_ptr<net_session> s{new net_session()};
  std::optional<std::pair<ipv4_addr, std::uint8_t>> v4;  // ours
  std::vector<host_address> v6;                         // ours
  ipv4_addr kernel4;
  std::vector<std::pair<ipv6_addr, std::uint8_t>> kernel6;
  for (std::size_t i = 0; i < o.addr.size(); ++i) {
    auto pfx = parse_prefix(o.addr[i]);
    if (!pfx) {
      return unexpected{fmt::format("--addr wants ADDRESS/PREFIX such as 10.77.0.2/24 or fd00:77::2/64, got '{}'", o.addr[i])};
    }
    const auto [a, len] = *pfx;
    if (a.is_v4() && (len == 0 || len > 30)) return unexpected{std::string{"--addr prefix must be 1..30 for IPv4"}};
    if (a.is_v6() && (len == 0 || len > 126)) return unexpected{std::string{"--addr prefix must be 1..126 for IPv6"}};
    if (a.is_v6() && (a.v6().is_multicast() || a.v6().is_v4_mapped() || a.v6().is_loopback())) {
      return unexpected{fmt::format("--addr {}: not a unicast IPv6 address", o.addr[i])};
    }
    if (a.is_v4() && v4) return unexpected{std::string{"--addr: at most one IPv4 address"}};
    // The kernel's side: --kernel-addr of this family, else the prefix's first (or second).
    std::optional<ip_addr> k;
    for (const std::string& t : o.kernel_addr) {
      auto p = ip_addr::parse(t);
      if (!p) return unexpected{fmt::format("--kernel-addr: not an address: '{}'", t)};
      if (p->is_v4() == a.is_v4()) k = *p;
    }
    if (!k) k = default_peer(a, len);
    if (!same_prefix(*k, a, len) || *k == a) {
      return unexpected{fmt::format("--kernel-addr {} must be another address of the prefix {}", k->to_string(), o.addr[i])};
    }
    if (a.is_v4()) {
      v4 = std::pair{a.v4(), len};
      kernel4 = k->v4();
    } else {
      v6.push_back(host_address{a, len});
      kernel6.emplace_back(k->v6(), len);
    }
    if (i == 0) {
      s->addr_ = a;
      s->kernel_addr_ = *k;
    }
  }
  if (o.addr.empty()) return unexpected{std::string{"--addr is required"}};

  io::fault_config fc;
  fc.loss = o.loss;
  fc.reorder = o.reorder;
  fc.reorder_delay = std::chrono::duration_cast<duration>(std::chrono::duration<double, std::milli>(o.reorder_delay_ms));
  fc.duplicate = o.duplicate;
  fc.delay = std::chrono::duration_cast<duration>(std::chrono::duration<double, std::milli>(o.delay_ms));

  io::tun_config tc;
  tc.name = o.tun;
  if (!o.no_configure) {
    tc.kernel_addr = kernel4;
    tc.kernel_addrs6 = kernel6;
  }
  tc.configure = !o.no_configure;
  tc.prefix_len = v4 ? v4->second : 24;
  tc.offload = o.offload == "on" && !fc.any();
  tc.queues = o.queues;
  auto tun = io::tun_link::open(tc);
  if (!tun) return unexpected{tun.error()};
  s->tun_ = std::move(*tun);
  if (!s->tun_->io_notice().empty()) fmt::print(stderr, "synack: {}\n", s->tun_->io_notice());
  if (!s->tun_->config_notice().empty()) fmt::print(stderr, "synack: {}\n", s->tun_->config_notice());
  if (!s->tun_->offload_notice().empty()) fmt::print(stderr, "synack: {}\n", s->tun_->offload_notice());
  io::link* top = s->tun_.get();

  if (fc.any()) {
    fc.seed = o.seed ? *o.seed : runtime::random_secret().k0;
    fmt::print(stderr, "synack: faults loss={} reorder={} ({} ms) duplicate={} delay={} ms seed={}\n", fc.loss,
               fc.reorder, o.reorder_delay_ms, fc.duplicate, o.delay_ms, fc.seed);
    s->faults_ = std::make_unique<io::faults_link>(*top, fc);
    top = s->faults_.get();
  }
  s->svg_ = o.svg;
  s->html_ = o.html;
  s->pcap_path_ = o.pcap;
  if (o.pcap.empty() && (!o.svg.empty() || !o.html.empty())) {
    // The ladders are drawn from a capture: a temporary one when --pcap names none.
    const char* dir = std::getenv("TMPDIR");
    std::string tmpl = fmt::format("{}/synack-ladder-XXXXXX.pcap", dir != nullptr && *dir != '\0' ? dir : "/tmp");
    const int fd = ::mkstemps(tmpl.data(), 5);
    if (fd < 0) return unexpected{fmt::format("--svg/--html: cannot create a temporary capture {}: {}", tmpl, std::strerror(errno))};
    ::close(fd);
    s->pcap_path_ = tmpl;
    s->pcap_temporary_ = true;
  }
  if (!s->pcap_path_.empty()) {
    auto w = pcap_writer::open(s->pcap_path_);
    if (!w) return unexpected{fmt::format("--pcap {}: {}", s->pcap_path_, w.error())};
    s->pcap_ = std::make_unique<io::pcap_link>(*top, std::move(*w));
    top = s->pcap_.get();
  }

  host_config hc;
  if (v4) {
    hc.addr = v4->first;
    hc.prefix_len = v4->second;
  }
  hc.addresses = v6;
  if (s->tun_->ifindex() != 0) hc.link_index = s->tun_->ifindex();
  hc.tcp.msl = std::chrono::duration_cast<duration>(std::chrono::duration<double>(o.msl_s));
  hc.syncookies = o.syncookies == "off"      ? syncookies_mode::off
                  : o.syncookies == "always" ? syncookies_mode::always
                                             : syncookies_mode::on_overflow;
  hc.syn_backlog = std::max<std::size_t>(o.syn_backlog, 1);
  hc.tcp.rto_min = std::chrono::duration_cast<duration>(std::chrono::duration<double, std::milli>(o.rto_min_ms));
  hc.tcp.rto_initial = std::max(hc.tcp.rto_initial, hc.tcp.rto_min);
  if (o.tcp_buffer != 0) hc.tcp.send_buffer = hc.tcp.recv_buffer = o.tcp_buffer;
  hc.tcp.congestion = o.congestion == "reno"  ? congestion_kind::reno
                      : o.congestion == "bbr" ? congestion_kind::bbr
                                              : congestion_kind::cubic;
  hc.tcp.rack = o.rack == "on";
  hc.tcp.prr = o.prr == "on";
  hc.tcp.pacing = o.pacing == "on";
  hc.tcp.ecn = o.ecn == "on" ? ecn_mode::on : o.ecn == "off" ? ecn_mode::off : ecn_mode::passive;
  hc.tcp.quickack = static_cast<std::uint8_t>(std::min(o.quickack, 255u));
  hc.tso_max = max_tso_payload;  // the event loop keeps it to what the link cuts (0 without offload)
  s->loop_ = std::make_unique<runtime::event_loop>(*top, hc);
  // Without the kernel's offloads, coalesce received runs of segments ourselves (GRO-like);
  // SYNACK_TUN_GRO=off turns that off (to compare).
  const char* gro = std::getenv("SYNACK_TUN_GRO");
  s->loop_->set_rx_coalescing(!s->tun_->offload() && (gro == nullptr || std::string_view{gro} != "off"));
  // malloc_trim(0) when memory pressure ends (runtime/memory_trim.hpp); SYNACK_MALLOC_TRIM=off
  // keeps freed memory in the process instead (to compare).
  if (const char* trim = std::getenv("SYNACK_MALLOC_TRIM"); trim != nullptr && std::string_view{trim} == "off") {
    s->loop_->set_memory_trim(runtime::memory_trim_options{.enabled = false, .min_interval = {}, .trim = {}});
  }
  s->log_ = std::make_unique<stderr_log>();
  s->loop_->host().set_log(s->log_.get());

  // SIGINT/SIGTERM through a signalfd: the loop stops, destructors flush the capture and
  // remove the control socket.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  s->signal_fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (s->signal_fd_ >= 0) {
    net_session* self = s.get();
    s->loop_->watch(s->signal_fd_, EPOLLIN, [self](std::uint32_t) {
      signalfd_siginfo si{};
      while (::read(self->signal_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
      }
      self->interrupted_ = true;
      self->loop_->stop();
    });
  }

  if (!o.no_ctl) {
    s->ctl_path_ = o.ctl.empty() ? fmt::format("{}/{}.sock", default_ctl_dir(), ::getpid()) : o.ctl;
    net_session* self = s.get();
    auto c = control_server::open(s->ctl_path_, *s->loop_, s->tun_->ifname(), [self] {
      io_report r{self->tun_->io_mode(), self->loop_->stats(), self->tun_->stats(), self->tun_->offload(), {}, {}};
      if (self->proxy_stats_) r.proxy = self->proxy_stats_();
      if (self->proxy_links_) r.proxy_links = self->proxy_links_();
      return r;
    });
    if (!c) return unexpected{c.error()};
    s->ctl_ = std::move(*c);
  }
  if (o.verbose) {
    std::string ours;
    std::string theirs;
    if (v4) {
      ours = fmt::format("{}/{}", v4->first.to_string(), v4->second);
      theirs = kernel4.to_string();
    }
    for (std::size_t i = 0; i < v6.size(); ++i) {
      ours += fmt::format("{}{}/{}", ours.empty() ? "" : " ", v6[i].addr.to_string(), v6[i].prefix_len);
      theirs += fmt::format("{}{}", theirs.empty() ? "" : " ", kernel6[i].first.to_string());
    }
    fmt::print(stderr, "synack: {} on {} ({}, {}), kernel side {}; control socket {}\n", ours, top->name(),
               s->tun_->ifname(), s->io_desc(), theirs, s->ctl_path_.empty() ? "off" : s->ctl_path_);
  }
  return s;
}

std::string net_session::io_desc() const {
  std::string d = fmt::format("{}, offload {}", tun_->io_mode(), tun_->offload() ? "on" : "off");
  if (tun_->queues() > 1) d += fmt::format(", {} queues", tun_->queues());
  return d;
}

net_session::~net_session() {
  ctl_.reset();
  loop_.reset();
  if (pcap_) pcap_->flush();
  if (pcap_temporary_) ::unlink(pcap_path_.c_str());
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

bool net_session::write_ladders(const std::string& who) {
  if (svg_.empty() && html_.empty()) return true;
  if (pcap_) pcap_->flush();
  return diagram::write_capture_ladders(pcap_path_, {svg_, html_}, stderr, who);
}

std::string net_session::summary() const {
  const auto& st = loop_->stats();
  const auto& c = loop_->host().counters();
  std::string out = fmt::format("rx {} packets, tx {} packets ({} dropped), {} retransmitted segments, {} drops in host",
                                st.rx_packets, st.tx_packets, st.tx_dropped, c.retrans_segs, c.total_drops());
  // Why, per reason with any (as `synack stat`'s counters name them).
  std::string why;
  const auto add = [&why](std::string_view name, std::uint64_t n) {
    if (n != 0) why += fmt::format("{}{} {}", why.empty() ? "" : ", ", name, n);
  };
  for (std::size_t i = 0; i < c.drop_wire.size(); ++i) add(to_string(static_cast<wire_error>(i)), c.drop_wire[i]);
  for (std::size_t i = 0; i < c.drop_tcp.size(); ++i) add(to_string(static_cast<rx_verdict>(i)), c.drop_tcp[i]);
  for (std::size_t i = 0; i < c.drop_host.size(); ++i) add(to_string(static_cast<host_drop>(i)), c.drop_host[i]);
  if (!why.empty()) out += fmt::format(" ({})", why);
  if (faults_) {
    const auto& in = faults_->stats(false);
    const auto& out_st = faults_->stats(true);
    out += fmt::format("; faults in: {} lost, {} duplicated, {} reordered; out: {} lost, {} duplicated, {} reordered",
                       in.lost, in.duplicated, in.reordered, out_st.lost, out_st.duplicated, out_st.reordered);
  }
  return out;
}

}  // namespace synack::tools
