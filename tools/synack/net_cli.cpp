// Options shared by `serve` and `connect`.
#include "commands.hpp"

namespace synack::tools {

void add_net_options(CLI::App& cmd, net_options& o) {
  cmd.add_option("--tun", o.tun, "TUN interface to create or attach to")->capture_default_str();
  cmd.add_option("--addr", o.addr,
                 "this host's address and prefix, e.g. 10.77.0.2/24 or fd00:77::2/64; repeat for more "
                 "(one IPv4, any IPv6)")
      ->required()
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_option("--kernel-addr", o.kernel_addr,
                 "the kernel's address on the TUN, one per family (default: .1 or ::1 of the prefix, .2 or ::2 "
                 "if --addr is that one)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_flag("--no-configure", o.no_configure, "configure nothing on the interface (address, MTU, queue length, up): use it as it is");
  cmd.add_option("--pcap", o.pcap, "capture every packet crossing the link to this pcap file");
  cmd.add_option("--svg", o.svg,
                 "at exit, draw each TCP connection of the session as a ladder diagram in this SVG file "
                 "(FILE-1.svg, FILE-2.svg, ... for several)");
  cmd.add_option("--html", o.html,
                 "at exit, write the session's ladder diagrams as one self-contained HTML page to this file");
  cmd.add_option("--loss", o.loss, "drop this fraction of packets, both directions")->check(in_range(0.0, 1.0));
  cmd.add_option("--reorder", o.reorder, "hold back this fraction of packets by --reorder-delay")
      ->check(in_range(0.0, 1.0));
  cmd.add_option("--reorder-delay", o.reorder_delay_ms,
                 "milliseconds a reordered packet is held back (with --reorder 1: a fixed delay each way)")
      ->capture_default_str()
      ->check(in_range(0.0, 10000.0));
  cmd.add_option("--duplicate", o.duplicate, "duplicate this fraction of packets")->check(in_range(0.0, 1.0));
  cmd.add_option("--delay", o.delay_ms,
                 "milliseconds added to every packet, both directions (the round trip grows by twice this; "
                 "a reordered packet waits --reorder-delay more)")
      ->check(in_range(0.0, 10000.0));
  cmd.add_option("--seed", o.seed, "seed of the fault injection (printed when chosen at random)");
  cmd.add_option("--ctl", o.ctl,
                 "control socket for `synack stat` (default $XDG_RUNTIME_DIR/synack/PID.sock, "
                 "or /run/synack/PID.sock)");
  cmd.add_flag("--no-ctl", o.no_ctl, "no control socket");
  cmd.add_option("--msl", o.msl_s, "maximum segment lifetime in seconds (TIME-WAIT lasts 2 x MSL)")
      ->capture_default_str();
  cmd.add_flag("-v,--verbose", o.verbose, "print the setup and a summary on stderr");
  cmd.add_option("--syncookies", o.syncookies,
                 "SYN cookies (RFC 4987): off, on (when a listener's SYN queue is full; default), always")
      ->check(CLI::IsMember({"off", "on", "always"}))
      ->capture_default_str();
  cmd.add_option("--syn-backlog", o.syn_backlog, "half-open (SYN-RECEIVED) connections per listener")
      ->capture_default_str();
  cmd.add_option("--rto-min", o.rto_min_ms,
                 "floor of the retransmission timeout in ms (Linux's 200 by default; RFC 6298 says 1000)")
      ->check(in_range(1.0, 60000.0))
      ->capture_default_str();
  cmd.add_option("--congestion", o.congestion,
                 "congestion control: cubic (RFC 9438), reno (RFC 5681) or bbr (BBR v1, "
                 "draft-cardwell-iccrg-bbr-congestion-control-00; always paced)")
      ->check(CLI::IsMember({"cubic", "reno", "bbr"}))
      ->capture_default_str();
  cmd.add_option("--offload", o.offload,
                 "checksum and segmentation offload on the TUN device (virtio-net header, TSO): on where the "
                 "kernel accepts it (a notice if not), off; always off with --loss/--reorder/--duplicate; "
                 "SYNACK_TUN_OFFLOAD=off turns it off too")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd.add_option("--rack", o.rack,
                 "RACK time-based loss detection (RFC 8985 §6, with SACK); off: RFC 6675's three duplicate ACKs")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd.add_option("--prr", o.prr, "Proportional Rate Reduction in fast recovery (RFC 6937 / 9937)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd.add_option("--pacing", o.pacing,
                 "pace data at cwnd / SRTT (x2 in slow start, x1.2 after) with a pacing timer, bursts of 1 ms")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd.add_option("--ecn", o.ecn,
                 "Explicit Congestion Notification (RFC 3168): on (asked for on our SYNs), passive (accepted when "
                 "the peer asks; default, as Linux's tcp_ecn 2), off")
      ->check(CLI::IsMember({"off", "on", "passive"}))
      ->capture_default_str();
  cmd.add_option("--quickack", o.quickack,
                 "in-order segments ACKed at once (not every second one) when data starts, after a silence "
                 "longer than the RTO and after a resent segment: Linux's quick-ACK mode; 0 = off")
      ->check(in_range(0u, 255u))
      ->capture_default_str();
  cmd.add_option("--queues", o.queues, "TUN device queues (IFF_MULTI_QUEUE), one descriptor each, all read by one thread")
      ->check(in_range(1u, 16u))
      ->capture_default_str();
}

void add_buffer_option(CLI::App& cmd, net_options& o) {
  cmd.add_option_function<std::size_t>(
         "--buffer", [&o](std::size_t kib) { o.tcp_buffer = kib * 1024; },
         "KiB of send and of receive buffer per connection (default 256, tcp_config's): the most a "
         "connection keeps in flight, so at least the path's bandwidth-delay product for full speed")
      ->check(in_range<std::size_t>(4, 16384));
}

}  // namespace synack::tools
