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

std::optional<std::pair<ipv4_addr, std::uint8_t>> parse_prefix(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  auto a = ipv4_addr::parse(std::string_view{text}.substr(0, slash));
  unsigned len = 0;
  const char* b = text.data() + slash + 1;
  const char* e = text.data() + text.size();
  auto [p, ec] = std::from_chars(b, e, len);
  if (!a || ec != std::errc{} || p != e || b == e || len > 32) return std::nullopt;
  return std::pair{*a, static_cast<std::uint8_t>(len)};
}

result<std::unique_ptr<net_session>, std::string> net_session::open(const net_options& o) {
  auto pfx = parse_prefix(o.addr);
  if (!pfx) return unexpected{fmt::format("--addr wants ADDRESS/PREFIX such as 10.77.0.2/24, got '{}'", o.addr)};
  if (pfx->second == 0 || pfx->second > 30) return unexpected{std::string{"--addr prefix must be 1..30"}};
  std::unique_ptr<net_session> s{new net_session()};
  s->addr_ = pfx->first;
  const std::uint32_t mask = ~std::uint32_t{0} << (32 - pfx->second);
  if (!o.kernel_addr.empty()) {
    auto k = ipv4_addr::parse(o.kernel_addr);
    if (!k) return unexpected{fmt::format("--kernel-addr: not an IPv4 address: '{}'", o.kernel_addr)};
    s->kernel_addr_ = *k;
  } else {
    const std::uint32_t net = s->addr_.value & mask;
    s->kernel_addr_ = ipv4_addr{net + 1 == s->addr_.value ? net + 2 : net + 1};
  }
  if ((s->kernel_addr_.value & mask) != (s->addr_.value & mask) || s->kernel_addr_ == s->addr_) {
    return unexpected{std::string{"--kernel-addr must be another address of the --addr prefix"}};
  }

  io::fault_config fc;
  fc.loss = o.loss;
  fc.reorder = o.reorder;
  fc.reorder_delay = std::chrono::duration_cast<duration>(std::chrono::duration<double, std::milli>(o.reorder_delay_ms));
  fc.duplicate = o.duplicate;

  io::tun_config tc;
  tc.name = o.tun;
  if (!o.no_configure) tc.kernel_addr = s->kernel_addr_;
  tc.configure = !o.no_configure;
  tc.prefix_len = pfx->second;
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
    fmt::print(stderr, "synack: faults loss={} reorder={} ({} ms) duplicate={} seed={}\n", fc.loss, fc.reorder,
               o.reorder_delay_ms, fc.duplicate, fc.seed);
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
  hc.addr = s->addr_;
  hc.prefix_len = pfx->second;
  hc.tcp.msl = std::chrono::duration_cast<duration>(std::chrono::duration<double>(o.msl_s));
  hc.syncookies = o.syncookies == "off"      ? syncookies_mode::off
                  : o.syncookies == "always" ? syncookies_mode::always
                                             : syncookies_mode::on_overflow;
  hc.syn_backlog = std::max<std::size_t>(o.syn_backlog, 1);
  hc.tcp.rto_min = std::chrono::duration_cast<duration>(std::chrono::duration<double, std::milli>(o.rto_min_ms));
  hc.tcp.rto_initial = std::max(hc.tcp.rto_initial, hc.tcp.rto_min);
  hc.tcp.congestion = o.congestion == "reno" ? congestion_kind::reno : congestion_kind::cubic;
  hc.tso_max = max_tso_payload;  // the event loop keeps it to what the link cuts (0 without offload)
  s->loop_ = std::make_unique<runtime::event_loop>(*top, hc);
  // Without the kernel's offloads, coalesce received runs of segments ourselves (GRO-like);
  // SYNACK_TUN_GRO=off turns that off (to compare).
  const char* gro = std::getenv("SYNACK_TUN_GRO");
  s->loop_->set_rx_coalescing(!s->tun_->offload() && (gro == nullptr || std::string_view{gro} != "off"));
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
      return io_report{self->tun_->io_mode(), self->loop_->stats(), self->tun_->stats(), self->tun_->offload()};
    });
    if (!c) return unexpected{c.error()};
    s->ctl_ = std::move(*c);
  }
  if (o.verbose) {
    fmt::print(stderr, "synack: {} on {} ({}, {}), kernel side {}/{}; control socket {}\n", s->addr_.to_string(),
               top->name(), s->tun_->ifname(), s->io_desc(), s->kernel_addr_.to_string(), pfx->second,
               s->ctl_path_.empty() ? "off" : s->ctl_path_);
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
  return fmt::format("rx {} packets, tx {} packets ({} dropped), {} retransmitted segments, {} drops in host",
                     st.rx_packets, st.tx_packets, st.tx_dropped, c.retrans_segs, c.total_drops());
}

}  // namespace synack::tools
