// The runner's event loop, system calls, host knobs, shell lines and code blocks.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include "executor.hpp"
#include "synack/pkt/parser.hpp"
#include "synack/tcp/icmp_report.hpp"

namespace synack::pkt {

namespace {

struct named {
  std::string_view name;
  std::int64_t value;
};

// The socket API's names, Linux values (posix/ speaks Linux's ABI). FreeBSD's own names map to
// the same meaning.
constexpr named constants_table[] = {
    {"AF_INET", posix::af_inet},        {"PF_INET", posix::af_inet},
    {"AF_INET6", posix::af_inet6},      {"PF_INET6", posix::af_inet6},
    {"IPPROTO_IPV6", posix::ipproto_ipv6}, {"SOL_IPV6", posix::ipproto_ipv6},
    {"IPV6_V6ONLY", posix::ipv6_v6only}, {"IPV6_TCLASS", posix::ipv6_tclass},
    {"SOCK_STREAM", posix::sock_stream}, {"SOCK_NONBLOCK", posix::sock_nonblock},
    {"IPPROTO_TCP", posix::ipproto_tcp}, {"SOL_TCP", posix::ipproto_tcp},
    {"SOL_SOCKET", posix::sol_socket},   {"SO_REUSEADDR", posix::so_reuseaddr},
    {"SO_ERROR", posix::so_error},       {"SO_SNDBUF", posix::so_sndbuf},
    {"SO_RCVBUF", posix::so_rcvbuf},     {"SO_KEEPALIVE", posix::so_keepalive},
    {"SO_LINGER", posix::so_linger},     {"SO_TYPE", posix::so_type},
    {"SO_ACCEPTCONN", posix::so_acceptconn}, {"TCP_NODELAY", posix::tcp_nodelay},
    {"TCP_MAXSEG", posix::tcp_maxseg},   {"TCP_KEEPIDLE", posix::tcp_keepidle},
    {"TCP_KEEPINTVL", posix::tcp_keepintvl}, {"TCP_KEEPCNT", posix::tcp_keepcnt},
    {"TCP_USER_TIMEOUT", posix::tcp_user_timeout},
    {"SHUT_RD", posix::shut_rd},         {"SHUT_WR", posix::shut_wr},
    {"SHUT_RDWR", posix::shut_rdwr},     {"MSG_PEEK", posix::msg_peek},
    {"MSG_DONTWAIT", posix::msg_dontwait}, {"MSG_WAITALL", posix::msg_waitall},
    {"MSG_NOSIGNAL", posix::msg_nosignal}, {"MSG_OOB", posix::msg_oob},
    {"F_GETFL", 3},                      {"F_SETFL", 4},
    {"O_RDONLY", 0},                     {"O_WRONLY", 1},
    {"O_RDWR", 2},                       {"O_NONBLOCK", 04000},
    {"POLLIN", posix::pollin},           {"POLLOUT", posix::pollout},
    {"POLLERR", posix::pollerr},         {"POLLHUP", posix::pollhup},
    {"POLLNVAL", posix::pollnval},       {"POLLRDHUP", posix::pollrdhup},
    {"POLLPRI", posix::pollpri},         {"POLLRDNORM", posix::pollrdnorm},
    {"POLLWRNORM", posix::pollwrnorm},
};

constexpr named errno_table[] = {
    {"EPERM", EPERM},           {"ENOENT", ENOENT},           {"EINTR", EINTR},
    {"EBADF", EBADF},           {"EAGAIN", EAGAIN},           {"EWOULDBLOCK", EWOULDBLOCK},
    {"ENOMEM", ENOMEM},         {"EFAULT", EFAULT},           {"EINVAL", EINVAL},
    {"EMFILE", EMFILE},         {"EPIPE", EPIPE},             {"ENOTSOCK", ENOTSOCK},
    {"EDESTADDRREQ", EDESTADDRREQ}, {"EPROTOTYPE", EPROTOTYPE}, {"ENOPROTOOPT", ENOPROTOOPT},
    {"EPROTONOSUPPORT", EPROTONOSUPPORT}, {"EOPNOTSUPP", EOPNOTSUPP}, {"EAFNOSUPPORT", EAFNOSUPPORT},
    {"EADDRINUSE", EADDRINUSE}, {"EADDRNOTAVAIL", EADDRNOTAVAIL}, {"ENETUNREACH", ENETUNREACH},
    {"ECONNABORTED", ECONNABORTED}, {"ECONNRESET", ECONNRESET}, {"ENOBUFS", ENOBUFS},
    {"EISCONN", EISCONN},       {"ENOTCONN", ENOTCONN},       {"ETIMEDOUT", ETIMEDOUT},
    {"ECONNREFUSED", ECONNREFUSED}, {"EHOSTUNREACH", EHOSTUNREACH}, {"EALREADY", EALREADY},
    {"EINPROGRESS", EINPROGRESS}, {"ENETDOWN", ENETDOWN},     {"EHOSTDOWN", EHOSTDOWN},
};

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string trim_copy(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return std::string{s};
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0) ++i;
    const std::size_t b = i;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) == 0) ++i;
    if (i > b) out.emplace_back(s.substr(b, i - b));
  }
  return out;
}

}  // namespace

std::optional<tcp_state> state_name(std::string_view n) {
  if (n.starts_with("TCPI_")) n.remove_prefix(5);
  if (n.starts_with("TCP_")) n.remove_prefix(4);
  constexpr std::pair<std::string_view, tcp_state> names[] = {
      {"CLOSED", tcp_state::closed},         {"CLOSE", tcp_state::closed},
      {"LISTEN", tcp_state::listen},         {"SYN_SENT", tcp_state::syn_sent},
      {"SYN_RECEIVED", tcp_state::syn_received}, {"SYN_RCVD", tcp_state::syn_received},
      {"SYN_RECV", tcp_state::syn_received}, {"ESTABLISHED", tcp_state::established},
      {"FIN_WAIT_1", tcp_state::fin_wait_1}, {"FIN_WAIT1", tcp_state::fin_wait_1},
      {"FIN_WAIT_2", tcp_state::fin_wait_2}, {"FIN_WAIT2", tcp_state::fin_wait_2},
      {"CLOSE_WAIT", tcp_state::close_wait}, {"CLOSING", tcp_state::closing},
      {"LAST_ACK", tcp_state::last_ack},     {"TIME_WAIT", tcp_state::time_wait},
  };
  for (const auto& [k, v] : names) {
    if (k == n) return v;
  }
  return std::nullopt;
}

std::optional<std::int64_t> constant(std::string_view name) {
  for (const auto& c : constants_table) {
    if (c.name == name) return c.value;
  }
  for (const auto& c : errno_table) {
    if (c.name == name) return c.value;
  }
  return std::nullopt;
}

std::string errno_name(int e) {
  for (const auto& c : errno_table) {
    if (c.value == e) return std::string{c.name};
  }
  return "errno " + std::to_string(e);
}

// ---- host knobs ----------------------------------------------------------------------------

bool executor::apply_knob(const std::string& key, const std::string& value, std::string& why) {
  const auto v = to_int(value);
  if (!v || *v < 0) {
    why = "knob " + key + " needs a non-negative integer, got '" + value + "'";
    return false;
  }
  const auto ms = std::chrono::milliseconds(*v);
  const auto n = static_cast<std::size_t>(*v);
  tcp_config& t = cfg_.tcp;
  if (key == "rto_min") {
    t.rto_min = ms;
  } else if (key == "rto_initial") {
    t.rto_initial = ms;
  } else if (key == "rto_max") {
    t.rto_max = ms;
  } else if (key == "msl") {
    t.msl = ms;
  } else if (key == "syn_r2") {
    t.syn_r2 = ms;
  } else if (key == "data_r2") {
    t.data_r2 = ms;
  } else if (key == "delayed_ack") {
    t.delayed_ack = *v != 0;
  } else if (key == "delayed_ack_timeout") {
    t.delayed_ack_timeout = ms;
  } else if (key == "recv_buffer") {
    t.recv_buffer = n;
  } else if (key == "send_buffer") {
    t.send_buffer = n;
  } else if (key == "mss") {
    t.mss = static_cast<std::uint16_t>(std::min<std::int64_t>(*v, 65535));
  } else if (key == "sack") {
    t.sack = *v != 0;
  } else if (key == "timestamps") {
    t.timestamps = *v != 0;
  } else if (key == "window_scaling") {
    t.window_scaling = *v != 0;
  } else if (key == "challenge_ack_limit") {
    t.challenge_ack_limit = static_cast<std::uint32_t>(*v);
  } else if (key == "rfc5961_rst") {
    t.rfc5961_rst = *v != 0;
  } else if (key == "rfc5961_syn") {
    t.rfc5961_syn = *v != 0;
  } else if (key == "drop_syn_fin") {
    t.drop_syn_fin = *v != 0;
  } else if (key == "time_wait_reopen") {
    t.time_wait_reopen = *v != 0;
  } else if (key == "fin_wait_2_timeout") {
    t.fin_wait_2_timeout = ms;
  } else if (key == "keepalive_idle") {
    t.keepalive_idle = ms;
  } else if (key == "keepalive_interval") {
    t.keepalive_interval = ms;
  } else if (key == "keepalive_count") {
    t.keepalive_count = static_cast<std::uint32_t>(std::min<std::int64_t>(*v, 127));
  } else if (key == "syncookies") {
    if (*v > 2) {
      why = "syncookies is 0, 1 or 2";
      return false;
    }
    cfg_.syncookies = static_cast<syncookies_mode>(*v);
  } else if (key == "syn_backlog") {
    cfg_.syn_backlog = n;
  } else if (key == "ecn") {
    if (*v > 2) {
      why = "ecn is 0 (off), 1 (on) or 2 (passive)";
      return false;
    }
    t.ecn = *v == 0 ? ecn_mode::off : *v == 1 ? ecn_mode::on : ecn_mode::passive;
  } else {
    why = "unknown host knob '" + key + "'";
    return false;
  }
  return true;
}

void executor::ensure_host() {
  if (host_) return;
  host_ = std::make_unique<host>(cfg_);
  table_ = std::make_unique<posix::socket_table>(*host_);
  buf_.resize(host_->max_packet_len() + 64);
}

// ---- the event loop ------------------------------------------------------------------------

run_result executor::run() {
  if (const auto t = script_.option("tolerance_usecs")) {
    if (const auto v = to_int(*t)) tolerance_us_ = *v;
  }
  if (opt_.tolerance_us) tolerance_us_ = *opt_.tolerance_us;
  // --mtu: the MTU of the host's link (packetdrill's tun device; its default 1500 is ours).
  if (const auto m = script_.option("mtu")) {
    const auto v = to_int(*m);
    if (!v || *v < min_ipv4_mtu || *v > 65535) {
      res_.what = verdict::fail;
      res_.message = "--mtu=" + *m + ": an MTU of 68 to 65535 octets";
      return res_;
    }
    cfg_.mtu = static_cast<std::uint16_t>(*v);
  }
  if (const auto ipv = script_.option("ip_version")) {
    const auto v = parse_ip_version(*ipv);
    if (!v) {
      res_.what = verdict::fail;
      res_.message = "--ip_version=" + *ipv + ": ipv4, ipv6 or ipv4-mapped-ipv6";
      return res_;
    }
    ipv_ = *v;
  }
  // An IPv6 run's host has both addresses, as packetdrill's tun device: its IPv6 one from
  // packetdrill's /48 (RFC 4193), and the IPv4 one, unused.
  if (wire_is_v6(ipv_)) cfg_.addresses.push_back(host_address{opt_.local6, 48});
  for (const auto& [k, v] : opt_.knobs) {
    std::string why;
    if (!apply_knob(k, v, why)) {
      res_.what = verdict::fail;
      res_.message = why;
      return res_;
    }
  }
  for (const auto& ev : script_.events) {
    if (!run_event(ev) || done_) break;
    if (now_.us > opt_.max_virtual_us) {
      fail(ev, "the run passed its virtual-time limit");
      break;
    }
  }
  if (!done_ && pending_) {
    const event& ev = *pending_->ev;
    if (finish_pending() && !done_) fail(ev, "the blocking call never returned");
  }
  if (!done_) {
    res_.what = verdict::pass;
    res_.time_us = now_.us;
  }
  for (std::size_t i = 0; i < used_rules_.size(); ++i) {
    if (used_rules_[i]) res_.relaxed.push_back(static_cast<relax_rule>(i));
  }
  return res_;
}

bool executor::run_event(const event& ev) {
  const event_time& t = ev.time;
  if (opt_.trace) res_.trace.push_back("line " + std::to_string(ev.pos.line) + ": " + ev.source);
  const bool is_in = std::holds_alternative<packet_spec>(ev.body) && std::get<packet_spec>(ev.body).inbound;
  const instant base = (is_in && last_inbound_) ? last_script_ : last_end_;
  instant start = now_;
  switch (t.what) {
    case event_time::kind::none:
    case event_time::kind::any: break;
    case event_time::kind::absolute: start = instant::from_us(t.start_us); break;
    case event_time::kind::relative: start = base + duration{t.start_us}; break;
  }
  std::optional<instant> end;
  if (t.end_us) end = t.end_relative ? base + duration{*t.end_us} : instant::from_us(*t.end_us);
  bool ok = true;
  if (const auto* p = std::get_if<packet_spec>(&ev.body)) {
    if (p->inbound) {
      advance_to(start);
      ok = inbound(ev, *p);
      last_end_ = now_;
    } else {
      ok = outbound(ev, *p, start, end.value_or(start));
      last_end_ = now_;
    }
    last_inbound_ = p->inbound;
    last_script_ = start;
    return ok && !done_;
  }
  if (const auto* ic = std::get_if<icmp_spec>(&ev.body)) {
    advance_to(start);
    ok = inbound_icmp(ev, *ic);
  } else if (const auto* sc = std::get_if<syscall_spec>(&ev.body)) {
    ok = syscall(ev, *sc, start, t.blocking ? end : std::nullopt);
  } else if (const auto* sh = std::get_if<shell_cmd>(&ev.body)) {
    if (host_) advance_to(start);
    ok = shell(ev, *sh);
  } else if (const auto* cb = std::get_if<code_block>(&ev.body)) {
    advance_to(start);
    ok = code(ev, *cb);
  }
  last_end_ = std::max(now_, start);
  last_inbound_ = false;
  last_script_ = start;
  return ok && !done_;
}

// ---- system calls --------------------------------------------------------------------------

std::optional<int> executor::live_fd(const expr& e) const {
  if (e.what != expr::kind::number) return std::nullopt;
  const auto it = fds_.find(e.number);
  if (it == fds_.end()) return static_cast<int>(e.number);  // not ours: let posix say EBADF
  return it->second;
}

bool executor::syscall(const event& ev, const syscall_spec& c, instant start, std::optional<instant> end) {
  ensure_host();
  // packetdrill runs one system call at a time: a blocked one returns before the next starts.
  if (pending_ && !finish_pending()) return false;
  advance_to(start);
  bool ok = true;
  if (attempt(ev, c, true, ok)) {
    if (ok && end) {
      const std::int64_t tol = tolerance_us_;
      if (now_ < *end - duration{tol} || now_ > *end + duration{tol}) {
        return fail(ev, "the call returned at " + std::to_string(now_.seconds()) + " s, expected at " +
                            std::to_string(end->seconds()) + " s");
      }
    }
    return ok;
  }
  pending_ = pending_call{&ev, start, end};
  return true;
}

void executor::retry_pending() {
  bool ok = true;
  const event& ev = *pending_->ev;
  if (!attempt(ev, std::get<syscall_spec>(ev.body), true, ok)) return;
  const auto end = pending_->expected_end;
  pending_.reset();
  if (ok && end) {
    const std::int64_t tol = tolerance_us_;
    if (now_ < *end - duration{tol} || now_ > *end + duration{tol}) {
      fail(ev, "the blocking call returned at " + std::to_string(now_.seconds()) + " s, expected at " +
                   std::to_string(end->seconds()) + " s");
    }
  }
}

bool executor::finish_pending() {
  const instant limit = instant::from_us(opt_.max_virtual_us);
  while (pending_ && !done_) {
    const auto d = host_->next_deadline();
    if (!d || *d > limit) break;
    now_ = std::max(now_, *d);
    pump();
  }
  if (pending_ && !done_) {
    return fail(*pending_->ev, "the blocking call never returned");
  }
  return !done_;
}

}  // namespace synack::pkt

namespace synack::pkt {

// ---- shell lines ---------------------------------------------------------------------------

namespace {

// sysctl names (FreeBSD and Linux) -> host knob and unit scaling of the value (knobs in ms).
struct sysctl_map {
  std::string_view name;
  std::string_view knob;
  std::int64_t scale = 1;  // the knob's value per unit of the sysctl's
  bool per_socket = false;  // a default of new sockets: takes effect on a live host too
};
constexpr sysctl_map sysctls[] = {
    {"net.inet.tcp.keepidle", "keepalive_idle", 1, true},  // FreeBSD: ms
    {"net.inet.tcp.keepintvl", "keepalive_interval", 1, true},
    {"net.inet.tcp.keepcnt", "keepalive_count", 1, true},
    {"net.ipv4.tcp_keepalive_time", "keepalive_idle", 1000, true},  // Linux: s
    {"net.ipv4.tcp_keepalive_intvl", "keepalive_interval", 1000, true},
    {"net.ipv4.tcp_keepalive_probes", "keepalive_count", 1, true},
    {"net.inet.tcp.recvspace", "recv_buffer"},   {"net.inet.tcp.sendspace", "send_buffer"},
    {"net.inet.tcp.sack.enable", "sack"},        {"net.ipv4.tcp_sack", "sack"},
    {"net.ipv4.tcp_timestamps", "timestamps"},   {"net.ipv4.tcp_window_scaling", "window_scaling"},
    {"net.inet.tcp.rexmit_initial", "rto_initial"}, {"net.inet.tcp.rexmit_min", "rto_min"},
    {"net.inet.tcp.delacktime", "delayed_ack_timeout"}, {"net.inet.tcp.msl", "msl"},
    {"net.inet.tcp.syncookies", "syncookies"},   {"net.ipv4.tcp_syncookies", "syncookies"},
    {"net.inet.tcp.drop_synfin", "drop_syn_fin"},
    {"net.inet.tcp.ecn.enable", "ecn"},          {"net.ipv4.tcp_ecn", "ecn"},  // RFC 3168: 0, 1, 2 as tcp_config::ecn
};

}  // namespace

// `sysctl -w name=value ...`: a name with a host knob sets it (before the host exists: the
// scripts set them first); a default of new sockets (keep-alive times) also later, for the
// sockets created after it, as the kernels do; every other name (FreeBSD's ecn, blackhole,
// hostcache ...) is a no-op here — docs/conformance.md says which behaviour that leaves.
bool executor::sysctl(const event&, const std::vector<std::string>& w) {
  for (std::size_t i = 1; i < w.size(); ++i) {
    const std::size_t eq = w[i].find('=');
    if (w[i].starts_with("-") || eq == std::string::npos) continue;
    const std::string_view name = std::string_view{w[i]}.substr(0, eq);
    const std::string value = w[i].substr(eq + 1);
    const auto socket_default = std::find_if(std::begin(sysctls), std::end(sysctls),
                                             [&](const sysctl_map& m) { return m.name == name && m.per_socket; });
    if (host_ && socket_default != std::end(sysctls)) {
      std::string why;
      const auto v = to_int(value);
      if (v && apply_knob(std::string{socket_default->knob}, std::to_string(*v * socket_default->scale), why)) {
        table_->set_defaults(cfg_.tcp);
      }
      continue;
    }
    if (host_) continue;  // too late for a host knob; a restore at the end of a script
    // FreeBSD's insecure_rst / insecure_syn = 1 select RFC 793's rules: the knobs' opposite.
    if (name == "net.inet.tcp.insecure_rst" || name == "net.inet.tcp.insecure_syn") {
      std::string why;
      const bool insecure = to_int(value).value_or(0) != 0;
      (void)apply_knob(name.ends_with("rst") ? "rfc5961_rst" : "rfc5961_syn", insecure ? "0" : "1", why);
      continue;
    }
    if (name == "net.inet.tcp.rfc1323") {
      std::string why;
      (void)apply_knob("timestamps", value, why);
      (void)apply_knob("window_scaling", value, why);
      continue;
    }
    for (const auto& m : sysctls) {
      if (m.name != name) continue;
      std::string why;
      const auto v = to_int(value);
      (void)apply_knob(std::string{m.knob}, v && m.scale != 1 ? std::to_string(*v * m.scale) : value, why);
    }
  }
  return true;
}

// `sockstat -4 -P tcp [-p 8080] -s | grep ... | grep -c STATE | grep N`: the number of
// connections in STATE (on that port) is N. An open socket without a connection is CLOSED.
bool executor::sockstat(const event& ev, const std::string& text) {
  ensure_host();
  std::optional<std::uint16_t> port;
  std::optional<tcp_state> want;
  std::optional<std::int64_t> count;
  std::vector<std::string> stages;
  std::size_t b = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '|') {
      stages.push_back(text.substr(b, i - b));
      b = i + 1;
    }
  }
  for (const auto& st : stages) {
    const auto w = words(st);
    if (w.empty()) continue;
    if (w[0] == "sockstat") {
      for (std::size_t i = 1; i + 1 < w.size(); ++i) {
        if (w[i] == "-p") port = static_cast<std::uint16_t>(to_int(w[i + 1]).value_or(0));
      }
    } else if (w[0] == "grep" && w.size() == 3 && w[1] == "-c") {
      want = state_name(w[2]);
      if (!want) return unsupported(ev, "sockstat state " + w[2]);
    } else if (w[0] == "grep" && w.size() == 2 && want) {
      count = to_int(w[1]);
    }
  }
  if (!want || !count) return unsupported(ev, "shell command `" + text + "`");
  std::int64_t n = 0;
  auto on_port = [&](const four_tuple& t) { return !port || t.local_port == *port || t.remote_port == *port; };
  // CLOSED is counted by socket (below) only: a closed TCB still held by its socket would
  // otherwise count twice.
  for (const auto& row : host_->snapshot()) {
    if (row.state == *want && *want != tcp_state::closed && on_port(row.tuple)) ++n;
  }
  if (*want == tcp_state::closed) {
    for (const auto& [sfd, live] : fds_) {
      const auto h = table_->connection_of(live);
      int acc = 0;
      auto r = table_->getsockopt(live, posix::sol_socket, posix::so_acceptconn,
                                  mutable_bytes{reinterpret_cast<std::byte*>(&acc), sizeof acc});
      if (r && acc != 0) continue;
      const auto st = h ? host_->state(*h) : std::nullopt;
      if (!st || *st == tcp_state::closed) ++n;
    }
  }
  if (n != *count) {
    return fail(ev, "sockstat: " + std::to_string(n) + " connection(s) in " + std::string{to_string(*want)} +
                        ", expected " + std::to_string(*count));
  }
  return true;
}

bool executor::shell(const event& ev, const shell_cmd& c) {
  const std::string t = trim_copy(c.text);
  const auto w = words(t);
  if (w.empty()) return true;
  if (w[0] == "sysctl") return sysctl(ev, w);
  if (w[0] == "sockstat") return sockstat(ev, t);
  return unsupported(ev, "shell command `" + t + "`");
}

// ---- entry points --------------------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> parse_directives(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())) != 0) line.remove_prefix(1);
    constexpr std::string_view tag = "// synack:";
    if (!line.starts_with(tag)) continue;
    for (const auto& kv : words(line.substr(tag.size()))) {
      const std::size_t eq = kv.find('=');
      out.emplace_back(kv.substr(0, eq), eq == std::string::npos ? std::string{} : kv.substr(eq + 1));
    }
  }
  return out;
}

run_result run_script(const script& s, const run_options& o) {
  executor ex{s, o};
  return ex.run();
}

run_result run_text(std::string_view text, const run_options& o) {
  auto sc = parse_script(text);
  if (!sc) {
    run_result r;
    r.what = sc.error().unsupported ? verdict::unsupported : verdict::fail;
    r.line = sc.error().pos.line;
    r.message = (sc.error().unsupported ? "" : "parse error at column " + std::to_string(sc.error().pos.column) +
                                                   ": ") +
                sc.error().message;
    return r;
  }
  run_options opts = o;
  auto d = parse_directives(text);
  d.insert(d.end(), o.knobs.begin(), o.knobs.end());
  opts.knobs = std::move(d);
  return run_script(*sc, opts);
}

}  // namespace synack::pkt
