#pragma once
// The control socket of a running `synack serve` / `synack connect`: a Unix-domain stream
// socket (default $XDG_RUNTIME_DIR/synack/PID.sock, else /run/synack/PID.sock). A client sends
// one request line and reads the answer until EOF:
//   "stat text ..."   a table like `ss -tan`, then the counters (stat_request below)
//   "stat json ..."   the same as one JSON object (schema: docs/architecture.md, "synack stat")
//   "listeners": one row per listener with its SYN queue, accept queue, backlog and SYN
//   cookies (SYN-flood view), then the counters
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy.hpp"
#include "synack/runtime/event_loop.hpp"

namespace synack::tools {

// How the running tool moves packets, for `stat`: the TUN I/O mode and the event loop's and the
// link's counters (a stalled wake-up shows as packets read on timer wakes, not link wakes).
struct io_report {
  std::string mode;  // "io_uring" or "read/write"
  runtime::loop_stats loop;
  io::link_stats link;
  bool offload = false;  // the TUN device's checksum and segmentation offload is on
  // `synack proxy`'s relay counters: a "Proxy:" line and a "proxy" object (other tools: none).
  std::optional<proxy_stats> proxy;
  // Its connections with both ends: the listing shows each beside synack's connection to the
  // client (text: an "upstream" column; JSON: a "proxy" object per connection).
  std::vector<proxy_link> proxy_links;
};

// What `synack stat` asks for. On the control socket it is one line (encode/parse):
//   stat text|json [listeners] [info] [noheader] [summary] [state=S1,S2] [sport=N] [dport=N]
//        [src=ADDR] [dst=ADDR]
// (the older "stat text STATE" form is still understood).
struct stat_request {
  bool json = false;
  std::vector<tcp_state> states;   // only these states (any of them); empty: all
  bool listeners = false;          // the per-listener view ("listeners")
  bool internals = false;          // text: a second line per connection, like ss -i
  bool no_header = false;          // text: no title and column header (ss -H)
  bool summary = false;            // text: counts per state instead of the rows (ss -s)
  std::optional<std::uint16_t> sport;  // local port
  std::optional<std::uint16_t> dport;  // remote port
  std::optional<ip_addr> src;          // local address (either family)
  std::optional<ip_addr> dst;          // remote address
  [[nodiscard]] std::string encode() const;
  [[nodiscard]] static result<stat_request, std::string> parse(std::string_view line);
  [[nodiscard]] bool matches(const socket_info& s) const;
};

// Formats the connection table (listeners, TCBs, TIME-WAIT records) and the counters.
// With `io`, the text ends with an "Io:" block and the JSON has an "io" object (and, from
// `synack proxy`, a "Proxy:" line and a "proxy" object).
[[nodiscard]] std::string format_stat(const host& h, instant now, const stat_request& req, const std::string& who,
                                      const io_report* io = nullptr);

// ss -i's second line for one connection (what `stat info` prints under each row): RTT, windows,
// retransmissions, recoveries, timeouts, undos, loss probes, RACK — `connect -v` prints it at exit.
[[nodiscard]] std::string internals_text(const tcp_internals& t);

class control_server {
 public:
  [[nodiscard]] static result<std::unique_ptr<control_server>, std::string> open(const std::string& path,
                                                                                runtime::event_loop& loop,
                                                                                std::string ifname,
                                                                                std::function<io_report()> io = {});
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

 private:
  control_server(std::string path, int fd, runtime::event_loop& loop, std::string ifname,
                 std::function<io_report()> io);
  void on_accept();
  void serve_client(int c);
  std::string path_;
  int fd_ = -1;
  runtime::event_loop& loop_;
  std::string ifname_;
  std::function<io_report()> io_;
};

// Client side: sends `request`, returns the whole answer.
[[nodiscard]] result<std::string, std::string> control_query(const std::string& path, const std::string& request);
// The live control sockets in `dir` (stale ones, whose process is gone, are skipped).
[[nodiscard]] std::vector<std::string> control_sockets(const std::string& dir);

}  // namespace synack::tools
