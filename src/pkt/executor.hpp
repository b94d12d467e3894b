#pragma once
// The runner's state while it plays one script (private to src/pkt/). executor.cpp has the
// time loop and packets, executor_calls.cpp the system calls, shell lines and code blocks.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "synack/pkt/runner.hpp"
#include "synack/pkt/script.hpp"
#include "synack/posix/socket_table.hpp"
#include "synack/stack/host.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::pkt {

// One segment the host sent, with its options in wire order (a repr would lose the order).
struct sent_segment {
  instant at;
  std::vector<std::byte> bytes;  // the IP datagram (IPv4 or IPv6)
};

// Options of a segment in wire order, as the script writes them.
[[nodiscard]] std::vector<tcp_option_spec> options_in_order(bytes area);
// `S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK>` with seq/ack already in script space.
[[nodiscard]] std::string format_segment(std::uint8_t flags, std::uint32_t seq, std::uint32_t len,
                                         std::uint32_t ack, std::uint32_t win, std::uint16_t urg,
                                         const std::vector<tcp_option_spec>& opts);
// The value of a named constant of the socket API (SOL_SOCKET, EINPROGRESS, MSG_PEEK ...).
[[nodiscard]] std::optional<std::int64_t> constant(std::string_view name);
[[nodiscard]] std::string errno_name(int e);
// FreeBSD's and Linux's names of a TCP state (sockstat's SYN_RCVD, TCPI_SYN_RECEIVED ...).
[[nodiscard]] std::optional<tcp_state> state_name(std::string_view n);

class executor {
 public:
  executor(const script& s, const run_options& o);
  run_result run();

 private:
  struct pending_call {
    const event* ev = nullptr;
    instant start;
    std::optional<instant> expected_end;
  };

  // ---- set-up (executor_calls.cpp) -------------------------------------------------------
  bool apply_knob(const std::string& key, const std::string& value, std::string& why);
  void ensure_host();
  // ---- time (executor.cpp) ---------------------------------------------------------------
  void pump();
  void trace_sent(const sent_segment& s);
  void advance_to(instant t);
  // Runs on until the host has sent something or `limit` passed; true if something is queued.
  bool advance_until_sent(instant limit);
  // ---- events ----------------------------------------------------------------------------
  bool run_event(const event& ev);
  bool inbound(const event& ev, const packet_spec& p);
  bool inbound_icmp(const event& ev, const icmp_spec& p);
  bool outbound(const event& ev, const packet_spec& p, instant lo, instant hi);
  bool compare(const event& ev, const packet_spec& p, const sent_segment& s);
  [[nodiscard]] bool fin_rexmit_excuses(const packet_spec& p, const tcp_view& tv) const;
  bool syscall(const event& ev, const syscall_spec& c, instant start, std::optional<instant> end);
  // Tries the call; false if it would block (a blocking socket) and should be retried.
  bool attempt(const event& ev, const syscall_spec& c, bool may_block, bool& ok);
  bool check_result(const event& ev, const syscall_spec& c, const posix::sys_result<std::int64_t>& r,
                    bool fd_result);
  bool sockopt(const event& ev, const syscall_spec& c, int fd, bool& ok);
  bool poll(const event& ev, const syscall_spec& c, bool& ok);
  bool sysctl(const event& ev, const std::vector<std::string>& w);
  bool sockstat(const event& ev, const std::string& text);
  bool finish_pending();
  void retry_pending();
  bool shell(const event& ev, const shell_cmd& c);
  bool code(const event& ev, const code_block& c);
  // ---- helpers ---------------------------------------------------------------------------
  bool fail(const event& ev, std::string msg);
  bool unsupported(const event& ev, std::string msg);
  bool finish(const event& ev, verdict v, std::string msg);
  void excused(relax_rule r);
  [[nodiscard]] bool relaxed() const { return opt_.mode == match_mode::relaxed; }
  [[nodiscard]] std::optional<int> live_fd(const expr& e) const;
  [[nodiscard]] tcp_state current_state() const;
  [[nodiscard]] bool tuple_alive() const;
  [[nodiscard]] four_tuple tuple() const;
  // The addresses on the wire (IPv6 for an ipv6 run, IPv4 otherwise), and as the scripts'
  // sockets see them (v4-mapped for ipv4-mapped-ipv6).
  [[nodiscard]] ip_addr local_ip() const;
  [[nodiscard]] ip_addr remote_ip() const;
  [[nodiscard]] posix::sock_addr socket_addr(const ip_addr& wire, std::uint16_t port) const;
  [[nodiscard]] int socket_family() const;
  // The IPv4 or IPv6 header before `payload_len` octets of `proto` (TCP, ICMP or ICMPv6),
  // from the peer to the host; `tos` is the IPv4 TOS octet or the IPv6 Traffic Class.
  void write_inbound_header(std::vector<std::byte>& pkt, std::uint8_t proto, std::size_t payload_len,
                            std::uint8_t tos) const;
  [[nodiscard]] std::int64_t tolerance_for(instant expected) const;

  const script& script_;
  run_options opt_;
  ip_version ipv_ = ip_version::ipv4;
  host_config cfg_;
  std::unique_ptr<host> host_;
  std::unique_ptr<posix::socket_table> table_;
  instant now_ = instant::zero();
  std::deque<sent_segment> sent_;
  std::vector<std::byte> buf_;

  // Timing (packetdrill's anchoring): relative times count from the end of the previous
  // event, or from the previous inbound packet's script time when both are inbound packets.
  instant last_end_ = instant::zero();
  instant last_script_ = instant::zero();
  bool last_inbound_ = false;
  std::int64_t tolerance_us_ = 4000;

  // The connection under test.
  std::uint16_t local_port_ = 8080;
  std::uint16_t remote_port_ = 40000;
  std::uint16_t next_remote_port_ = 40001;
  bool conn_seen_ = false;
  std::uint32_t local_isn_ = 0;
  std::map<std::uint16_t, std::uint32_t> isn_by_port_;  // remote port -> the host's ISN there
  std::map<std::uint32_t, std::uint32_t> ts_map_;  // script TS val -> live TS val (outbound)
  std::optional<std::pair<std::uint32_t, std::uint32_t>> ts_last_;
  std::map<std::int64_t, int> fds_;  // script fd -> live fd
  int last_fd_ = -1;
  std::optional<std::uint32_t> script_rcvbuf_;  // what the script believes SO_RCVBUF is
  std::map<std::uint16_t, std::uint32_t> fin_end_;  // remote port -> seq after the host's FIN
  bool reset_in_close_wait_ = false;  // a reset closed the connection in CLOSE-WAIT (reset_errno)

  std::optional<pending_call> pending_;
  bool in_retry_ = false;
  bool done_ = false;  // a verdict is set
  run_result res_;
  std::vector<bool> used_rules_;
};

}  // namespace synack::pkt
