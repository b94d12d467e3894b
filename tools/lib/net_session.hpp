#pragma once
// What `synack serve` and `synack connect` share: a host on a TUN device, optionally behind
// faults(...) and pcap(...) decorators, driven by the runtime's event loop, with a control
// socket for `synack stat` and clean shutdown on SIGINT/SIGTERM.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "proxy.hpp"
#include "synack/io/link/faults_link.hpp"
#include "synack/io/link/pcap_link.hpp"
#include "synack/io/tun/tun_link.hpp"
#include "synack/runtime/event_loop.hpp"

namespace synack::tools {

struct net_options {
  std::string tun = "synack0";
  // Our addresses and prefixes, "10.77.0.2/24", "fd00:77::2/64": at most one IPv4, any IPv6.
  std::vector<std::string> addr;
  // The kernel's address on the TUN for each family given; default: .1 / ::1 of the prefix
  // (.2 / ::2 if we are that one).
  std::vector<std::string> kernel_addr;
  bool no_configure = false;
  std::string pcap;
  std::string svg;   // ladders of the session's connections, drawn at exit from the capture
  std::string html;  // (--pcap, or a temporary capture when --pcap is not given)
  double loss = 0.0;
  double reorder = 0.0;
  double reorder_delay_ms = 5.0;  // how long a reordered packet is held back
  double delay_ms = 0.0;          // one-way delay added to every packet, both directions
  double duplicate = 0.0;
  std::optional<std::uint64_t> seed;  // faults; random (and printed) when not given
  std::string ctl;                    // control socket; default from default_ctl_dir()
  bool no_ctl = false;
  double msl_s = 30.0;
  bool verbose = false;
  std::string syncookies = "on";  // off | on | always (host_config::syncookies)
  std::size_t syn_backlog = 256;  // host_config::syn_backlog
  // DEVIATION(Linux TCP_RTO_MIN): the tools' RTO floor is Linux's 200 ms, not RFC 6298's 1 s
  // (tcp_config's default), so they recover from a lost retransmission as fast as the kernel
  // peer they talk to. `--rto-min 1000` gives the RFC's value.
  double rto_min_ms = 200.0;
  std::string congestion = "cubic";  // cubic | reno | bbr (tcp_config::congestion)
  std::string rack = "on";  // on | off (tcp_config::rack: RFC 8985 §6 loss detection, with SACK)
  std::string prr = "off";  // on | off (tcp_config::prr: RFC 6937 / 9937)
  std::string pacing = "on";  // on | off (tcp_config::pacing)
  std::string ecn = "passive";  // off | on | passive (tcp_config::ecn: RFC 3168)
  // tcp_config::quickack: Linux's quick-ACK mode (TCP_MAX_QUICKACKS 16), so a kernel sender that
  // a loss took down to a segment or two is not held by the 40 ms delayed-ACK timer. The core
  // keeps it off (the RFC's every-second-segment rule); the tools talk to kernels.
  unsigned quickack = 16;
  // Checksum and segmentation offload on the TUN device (tun_config::offload): on where the
  // kernel accepts it; off with fault injection (faults act on MTU-sized packets).
  std::string offload = "on";
  unsigned queues = 1;  // tun_config::queues
  // tcp_config::send_buffer and recv_buffer, octets (0: their defaults); `synack proxy --buffer`.
  std::size_t tcp_buffer = 0;
};

// $XDG_RUNTIME_DIR/synack if set, else /run/synack. Sockets are named PID.sock.
[[nodiscard]] std::string default_ctl_dir();

class control_server;

class net_session {
 public:
  // Opens the device and decorators, builds the host; the error says what went wrong.
  [[nodiscard]] static result<std::unique_ptr<net_session>, std::string> open(const net_options& o);
  ~net_session();
  net_session(const net_session&) = delete;
  net_session& operator=(const net_session&) = delete;

  [[nodiscard]] runtime::event_loop& loop() { return *loop_; }
  // The first --addr, and the kernel's address of its family.
  [[nodiscard]] ip_addr addr() const { return addr_; }
  [[nodiscard]] ip_addr kernel_addr() const { return kernel_addr_; }
  [[nodiscard]] const std::string& ctl_path() const { return ctl_path_; }
  [[nodiscard]] const std::string& ifname() const { return tun_->ifname(); }
  // How packets cross the TUN device: "io_uring" or "read/write".
  [[nodiscard]] const char* io_mode() const { return tun_->io_mode(); }
  // The I/O mode and offload state, for the start line: "io_uring, offload on".
  [[nodiscard]] std::string io_desc() const;
  // Set when SIGINT/SIGTERM arrived (the loop is stopped too).
  [[nodiscard]] bool interrupted() const { return interrupted_; }
  // Summary line for stderr at exit.
  [[nodiscard]] std::string summary() const;
  // At exit: --svg/--html drawn from the capture (`who` prefixes messages). True when none was
  // asked for or all were written.
  bool write_ladders(const std::string& who);
  // `synack proxy`: its counters, for the control socket's "Proxy:" line.
  void set_proxy_stats(std::function<proxy_stats()> f) { proxy_stats_ = std::move(f); }
  // And its connections with both ends, for the listing.
  void set_proxy_links(std::function<std::vector<proxy_link>()> f) { proxy_links_ = std::move(f); }

 private:
  net_session() = default;
  ip_addr addr_;
  ip_addr kernel_addr_;
  std::string ctl_path_;
  std::string pcap_path_;
  bool pcap_temporary_ = false;  // made for --svg/--html only: removed at exit
  std::string svg_;
  std::string html_;
  std::unique_ptr<io::tun_link> tun_;
  std::unique_ptr<io::faults_link> faults_;
  std::unique_ptr<io::pcap_link> pcap_;
  std::unique_ptr<runtime::event_loop> loop_;
  std::unique_ptr<control_server> ctl_;
  std::unique_ptr<host_log> log_;  // prints the host's notices (SYN flood) on stderr
  std::function<proxy_stats()> proxy_stats_;
  std::function<std::vector<proxy_link>()> proxy_links_;
  int signal_fd_ = -1;
  bool interrupted_ = false;
};

// Parses "a.b.c.d/len" (len 0..32) or "v6/len" (len 0..128).
[[nodiscard]] std::optional<std::pair<ip_addr, std::uint8_t>> parse_prefix(const std::string& text);

}  // namespace synack::tools
