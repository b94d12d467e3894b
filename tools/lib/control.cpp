#include "control.hpp"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace synack::tools {
namespace {

std::string endpoint(ipv4_addr a, std::uint16_t port) {
  return a.is_unspecified() && port == 0 ? "*:*" : fmt::format("{}:{}", a.to_string(), port);
}

std::string timer_text(const socket_info& s, instant now, bool json) {
  if (!s.timer || !s.deadline) return json ? "null" : "";
  const double left = std::max<double>(0.0, static_cast<double>((*s.deadline - now).count()) / 1e6);
  if (json) return fmt::format("{{\"kind\":\"{}\",\"expires_s\":{:.3f}}}", to_string(*s.timer), left);
  return fmt::format("{}({:.1f}s)", to_string(*s.timer), left);
}

bool matches(const socket_info& s, const stat_request& req) {
  if (req.listeners) return s.state == tcp_state::listen;
  return !req.state || s.state == *req.state;
}

std::string listen_address(const socket_info& s) {
  return fmt::format("{}:{}", s.tuple.local_addr.is_unspecified() ? std::string{"*"} : s.tuple.local_addr.to_string(),
                     s.tuple.local_port);
}

// The SYN-flood view: one row per listener, like `ss -ltn` plus the SYN queue and cookies.
void append_listeners_text(std::string& out, const std::vector<socket_info>& rows) {
  out += fmt::format("{:<21} {:>9} {:>9} {:>8} {:>8} {:>12} {:>12} {:>9}\n", "Local Address:Port", "SYN-Q", "SYN-max",
                     "Accept-Q", "Backlog", "Cookies-sent", "Cookies-recv", "SYN-drops");
  for (const auto& s : rows) {
    if (s.state != tcp_state::listen) continue;
    out += fmt::format("{:<21} {:>9} {:>9} {:>8} {:>8} {:>12} {:>12} {:>9}\n", listen_address(s), s.syn_queue,
                       s.syn_backlog, s.accept_queue, s.backlog, s.cookies_sent, s.cookies_recv, s.syn_drops);
  }
}

void append_counters_json(std::string& out, const host_counters& c) {
  out += fmt::format(
      "\"counters\":{{\"active_opens\":{},\"passive_opens\":{},\"attempt_fails\":{},\"estab_resets\":{},"
      "\"curr_estab\":{},\"in_segs\":{},\"out_segs\":{},\"retrans_segs\":{},\"in_errs\":{},\"out_rsts\":{},"
      "\"listen_overflows\":{},\"listen_drops\":{},\"ip_in_receives\":{},\"ip_out_requests\":{},"
      "\"icmp_in_echos\":{},\"icmp_out_echo_reps\":{},\"time_wait_recycled\":{},\"drops\":{}",
      c.active_opens, c.passive_opens, c.attempt_fails, c.estab_resets, c.curr_estab, c.in_segs, c.out_segs,
      c.retrans_segs, c.in_errs, c.out_rsts, c.listen_overflows, c.listen_drops, c.ip_in_receives,
      c.ip_out_requests, c.icmp_in_echos, c.icmp_out_echo_reps, c.time_wait_recycled, c.total_drops());
  out += fmt::format(",\"syncookies_sent\":{},\"syncookies_recv\":{},\"syncookies_failed\":{}", c.syncookies_sent,
                     c.syncookies_recv, c.syncookies_failed);
  out += fmt::format(",\"r1_negative_advice\":{}", c.r1_negative_advice);
  out += ",\"drop_reasons\":{";
  bool first = true;
  auto add = [&](std::string_view layer, std::string_view name, std::uint64_t v) {
    if (v == 0) return;
    out += fmt::format("{}\"{}.{}\":{}", first ? "" : ",", layer, name, v);
    first = false;
  };
  for (std::size_t i = 0; i < c.drop_wire.size(); ++i) add("wire", to_string(static_cast<wire_error>(i)), c.drop_wire[i]);
  for (std::size_t i = 0; i < c.drop_tcp.size(); ++i) add("tcp", to_string(static_cast<rx_verdict>(i)), c.drop_tcp[i]);
  for (std::size_t i = 0; i < c.drop_host.size(); ++i) add("host", to_string(static_cast<host_drop>(i)), c.drop_host[i]);
  out += "}}";
}

void append_counters_text(std::string& out, const host_counters& c) {
  out += fmt::format(
      "\nTcp: active_opens {} passive_opens {} attempt_fails {} estab_resets {} curr_estab {}\n"
      "     in_segs {} out_segs {} retrans_segs {} in_errs {} out_rsts {}\n"
      "     listen_overflows {} listen_drops {} time_wait_recycled {} r1_negative_advice {}\n"
      "     syncookies_sent {} syncookies_recv {} syncookies_failed {}\n"
      "Ip:  in_receives {} out_requests {}   Icmp: in_echos {} out_echo_reps {}\n"
      "Drops: {}",
      c.active_opens, c.passive_opens, c.attempt_fails, c.estab_resets, c.curr_estab, c.in_segs, c.out_segs,
      c.retrans_segs, c.in_errs, c.out_rsts, c.listen_overflows, c.listen_drops, c.time_wait_recycled,
      c.r1_negative_advice, c.syncookies_sent, c.syncookies_recv, c.syncookies_failed, c.ip_in_receives, c.ip_out_requests, c.icmp_in_echos, c.icmp_out_echo_reps, c.total_drops());
  auto add = [&](std::string_view layer, std::string_view name, std::uint64_t v) {
    if (v != 0) out += fmt::format(" {}.{}={}", layer, name, v);
  };
  for (std::size_t i = 0; i < c.drop_wire.size(); ++i) add("wire", to_string(static_cast<wire_error>(i)), c.drop_wire[i]);
  for (std::size_t i = 0; i < c.drop_tcp.size(); ++i) add("tcp", to_string(static_cast<rx_verdict>(i)), c.drop_tcp[i]);
  for (std::size_t i = 0; i < c.drop_host.size(); ++i) add("host", to_string(static_cast<host_drop>(i)), c.drop_host[i]);
  out += "\n";
}

void append_io_json(std::string& out, const io_report& io) {
  const auto& l = io.loop;
  out += fmt::format(
      ",\"io\":{{\"mode\":\"{}\",\"rx_packets\":{},\"tx_packets\":{},\"tx_dropped\":{},\"rx_errors\":{},"
      "\"rx_direct_reads\":{},\"loop_iterations\":{},\"rx_batches\":{},\"wake_link\":{},\"wake_fd\":{},"
      "\"wake_timer\":{},\"wake_timeout\":{},\"wake_no_sleep\":{},\"offload\":{},\"rx_super_packets\":{},"
      "\"tx_super_packets\":{},\"rx_coalesced_runs\":{},\"rx_coalesced_segments\":{}}}",
      io.mode, io.link.rx_packets, io.link.tx_packets, io.link.tx_dropped, io.link.rx_errors,
      io.link.rx_direct_reads, l.iterations, l.rx_batches, l.wake_link, l.wake_fd, l.wake_timer, l.wake_timeout,
      l.wake_no_sleep, io.offload, io.link.rx_super_packets, io.link.tx_super_packets, l.rx_coalesced_runs,
      l.rx_coalesced_segments);
}

void append_io_text(std::string& out, const io_report& io) {
  const auto& l = io.loop;
  out += fmt::format(
      "Io:  mode {} rx_packets {} tx_packets {} tx_dropped {} rx_errors {} rx_direct_reads {}\n"
      "     wakes: link {} fd {} timer {} timeout {} no_sleep {} (iterations {}, rx_batches {})\n"
      "     offload {} rx_super_packets {} tx_super_packets {} rx_coalesced_runs {} rx_coalesced_segments {}\n",
      io.mode, io.link.rx_packets, io.link.tx_packets, io.link.tx_dropped, io.link.rx_errors,
      io.link.rx_direct_reads, l.wake_link, l.wake_fd, l.wake_timer, l.wake_timeout, l.wake_no_sleep, l.iterations,
      l.rx_batches, io.offload ? "on" : "off", io.link.rx_super_packets, io.link.tx_super_packets,
      l.rx_coalesced_runs, l.rx_coalesced_segments);
}

}  // namespace

std::string format_stat(const host& h, instant now, const stat_request& req, const std::string& who,
                        const io_report* io) {
  const std::vector<socket_info> rows = h.snapshot();
  std::string out;
  if (req.json) {
    out += fmt::format("{{\"host\":\"{}\",\"who\":\"{}\",\"connections\":[", h.addr().to_string(), who);
    bool first = true;
    for (const auto& s : rows) {
      if (!matches(s, req)) continue;
      out += fmt::format(
          "{}{{\"state\":\"{}\",\"local\":\"{}\",\"peer\":\"{}\",\"recv_q\":{},\"send_q\":{},\"timer\":{},"
          "\"time_wait_record\":{},\"orphan\":{},\"syn_queue\":{},\"accept_queue\":{},\"backlog\":{},"
          "\"syn_backlog\":{},\"cookies_sent\":{},\"cookies_recv\":{},\"syn_drops\":{}}}",
          first ? "" : ",", to_string(s.state), endpoint(s.tuple.local_addr, s.tuple.local_port),
          endpoint(s.tuple.remote_addr, s.tuple.remote_port), s.recv_queue, s.send_queue, timer_text(s, now, true),
          s.time_wait_record, s.orphan, s.syn_queue, s.accept_queue, s.backlog, s.syn_backlog, s.cookies_sent,
          s.cookies_recv, s.syn_drops);
      first = false;
    }
    out += "],";
    append_counters_json(out, h.counters());
    if (io != nullptr) append_io_json(out, *io);
    out += "}\n";
    return out;
  }
  out += fmt::format("# {} ({})\n", h.addr().to_string(), who);
  if (req.listeners) {
    append_listeners_text(out, rows);
    append_counters_text(out, h.counters());
    if (io != nullptr) append_io_text(out, *io);
    return out;
  }
  out += fmt::format("{:<12} {:>7} {:>7} {:<21} {:<21} {}\n", "State", "Recv-Q", "Send-Q", "Local Address:Port",
                     "Peer Address:Port", "Timer");
  for (const auto& s : rows) {
    if (!matches(s, req)) continue;
    // For listeners, like ss: Recv-Q is the accept queue, Send-Q the backlog.
    const bool lis = s.state == tcp_state::listen;
    const std::string local = lis ? listen_address(s) : endpoint(s.tuple.local_addr, s.tuple.local_port);
    std::string extra = timer_text(s, now, false);
    if (lis) extra = fmt::format("syn-queue {}/{} cookies {}", s.syn_queue, s.syn_backlog, s.cookies_sent);
    if (s.orphan) extra += extra.empty() ? "orphan" : " orphan";
    out += fmt::format("{:<12} {:>7} {:>7} {:<21} {:<21} {}\n", to_string(s.state),
                       lis ? s.accept_queue : s.recv_queue, lis ? s.backlog : s.send_queue, local,
                       lis ? std::string{"*:*"} : endpoint(s.tuple.remote_addr, s.tuple.remote_port), extra);
  }
  append_counters_text(out, h.counters());
  if (io != nullptr) append_io_text(out, *io);
  return out;
}

// ---- server ---------------------------------------------------------------------------------

result<std::unique_ptr<control_server>, std::string> control_server::open(const std::string& path,
                                                                         runtime::event_loop& loop,
                                                                         std::string ifname,
                                                                         std::function<io_report()> io) {
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) return unexpected{fmt::format("control socket path too long: {}", path)};
  std::error_code ec;
  const auto dir = std::filesystem::path{path}.parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return unexpected{fmt::format("cannot create {}: {} (use --ctl PATH or --no-ctl)", dir.string(), ec.message())};
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return unexpected{fmt::format("socket(AF_UNIX): {}", std::strerror(errno))};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || ::listen(fd, 16) < 0) {  // NOLINT
    const int err = errno;
    ::close(fd);
    return unexpected{fmt::format("control socket {}: {}", path, std::strerror(err))};
  }
  ::chmod(path.c_str(), 0600);
  std::unique_ptr<control_server> s{new control_server(path, fd, loop, std::move(ifname), std::move(io))};
  control_server* self = s.get();
  if (!loop.watch(fd, EPOLLIN, [self](std::uint32_t) { self->on_accept(); })) {
    return unexpected{std::string{"cannot watch the control socket"}};
  }
  return s;
}

control_server::control_server(std::string path, int fd, runtime::event_loop& loop, std::string ifname,
                               std::function<io_report()> io)
    : path_(std::move(path)), fd_(fd), loop_(loop), ifname_(std::move(ifname)), io_(std::move(io)) {}

control_server::~control_server() {
  loop_.unwatch(fd_);
  ::close(fd_);
  ::unlink(path_.c_str());
}

void control_server::on_accept() {
  for (;;) {
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);  // blocking: one short exchange
    if (c < 0) return;
    serve_client(c);
    ::close(c);
  }
}

void control_server::serve_client(int c) {
  timeval tv{1, 0};  // a client that never writes cannot stall the loop for long
  ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string line;
  char buf[256];
  while (line.find('\n') == std::string::npos && line.size() < 1024) {
    const ssize_t n = ::read(c, buf, sizeof buf);
    // With SO_RCVTIMEO a signal makes read() fail with EINTR instead of restarting it.
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  if (auto nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
  std::istringstream in{line};
  std::string verb;
  std::string format;
  std::string state;
  in >> verb >> format >> state;
  std::string answer;
  if (verb != "stat") {
    answer = "error: unknown request (want: stat text|json [STATE])\n";
  } else {
    stat_request req;
    req.json = format == "json";
    if (state == "listeners") {
      req.listeners = true;
    } else if (!state.empty()) {
      req.state = parse_tcp_state(state);
      if (!req.state) answer = fmt::format("error: unknown state '{}'\n", state);
    }
    if (answer.empty()) {
      const std::optional<io_report> io = io_ ? std::optional{io_()} : std::nullopt;
      answer = format_stat(loop_.host(), runtime::clock_now(), req, fmt::format("pid {} {}", ::getpid(), ifname_),
                           io ? &*io : nullptr);
    }
  }
  std::size_t off = 0;
  while (off < answer.size()) {
    const ssize_t n = ::write(c, answer.data() + off, answer.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

// ---- client ---------------------------------------------------------------------------------

result<std::string, std::string> control_query(const std::string& path, const std::string& request) {
  sockaddr_un sa{};
  if (path.size() >= sizeof sa.sun_path) return unexpected{fmt::format("path too long: {}", path)};
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unexpected{fmt::format("socket: {}", std::strerror(errno))};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {  // NOLINT
    const int err = errno;
    ::close(fd);
    return unexpected{fmt::format("{}: {}", path, std::strerror(err))};
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string line = request + "\n";
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    ::close(fd);
    return unexpected{fmt::format("{}: write failed", path)};
  }
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::vector<std::string> control_sockets(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto& p = e.path();
    if (p.extension() != ".sock") continue;
    // PID.sock: skip sockets whose process is gone.
    const std::string stem = p.stem().string();
    if (!stem.empty() && std::all_of(stem.begin(), stem.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      if (!std::filesystem::exists("/proc/" + stem, ec)) continue;
    }
    out.push_back(p.string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace synack::tools
