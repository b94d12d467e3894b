// System calls through posix::socket_table, and the shell/code adapters (sysctl, sockstat,
// tcpi_state).
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include "executor.hpp"
#include "synack/pkt/parser.hpp"

namespace synack::pkt {

namespace {

using posix::sys_result;

std::optional<std::int64_t> eval(const expr& e) {
  switch (e.what) {
    case expr::kind::number: return e.number;
    case expr::kind::name: return constant(e.text);
    case expr::kind::bit_or: {
      std::int64_t v = 0;
      for (const auto& t : e.items) {
        const auto x = eval(t);
        if (!x) return std::nullopt;
        v |= *x;
      }
      return v;
    }
    case expr::kind::list:
      if (e.items.size() == 1) return eval(e.items[0]);
      return std::nullopt;
    case expr::kind::call:
      if ((e.text == "htons" || e.text == "htonl") && e.items.size() == 1) return eval(e.items[0]);
      return std::nullopt;
    case expr::kind::ellipsis:
    case expr::kind::object:
    case expr::kind::string: return std::nullopt;
  }
  return std::nullopt;
}

// The first name in `e` that is not a known constant, for UNSUPPORTED reports.
std::string unknown_name(const expr& e) {
  if (e.what == expr::kind::name && !constant(e.text)) return e.text;
  for (const auto& i : e.items) {
    if (auto n = unknown_name(i); !n.empty()) return n;
  }
  return {};
}

std::string describe(const sys_result<std::int64_t>& r) {
  if (r) return std::to_string(*r);
  return "-1 " + errno_name(r.error()) + " (" + std::strerror(r.error()) + ")";
}

template <class T>
sys_result<std::int64_t> widen(const sys_result<T>& r) {
  if (!r) return unexpected{r.error()};
  return static_cast<std::int64_t>(*r);
}
sys_result<std::int64_t> widen(const sys_result<void>& r) {
  if (!r) return unexpected{r.error()};
  return std::int64_t{0};
}

}  // namespace

bool executor::attempt(const event& ev, const syscall_spec& c, bool may_block, bool& ok) {
  const auto& a = c.args;
  auto arg = [&](std::size_t i) -> std::optional<std::int64_t> { return i < a.size() ? eval(a[i]) : std::nullopt; };
  auto need = [&](std::size_t n) {
    if (a.size() >= n) return true;
    ok = fail(ev, c.name + " needs " + std::to_string(n) + " arguments");
    return false;
  };
  for (const auto& e : a) {
    if (auto n = unknown_name(e); !n.empty()) {
      ok = unsupported(ev, "constant " + n + " in " + c.name + "()");
      return true;
    }
  }
  const int fd = a.empty() ? -1 : live_fd(a[0]).value_or(-1);
  if (fd >= 0) last_fd_ = fd;
  const auto nb = table_->nonblocking(fd);
  const bool blocking = nb.has_value() && !*nb;
  sys_result<std::int64_t> r = std::int64_t{0};
  bool fd_result = false;  // the value is a new descriptor: map it, do not compare numbers
  const std::string& n = c.name;
  std::vector<std::byte> data;
  if (n == "socket") {
    // `...`: the run's family (AF_INET6 for ipv6 and ipv4-mapped-ipv6), as packetdrill.
    const auto domain = arg(0).value_or(socket_family());
    auto type = arg(1).value_or(posix::sock_stream);
    r = widen(table_->socket(static_cast<int>(domain), static_cast<int>(type), posix::ipproto_tcp));
    fd_result = true;
  } else if (n == "bind") {
    if (!need(1)) return true;
    if (a.size() > 1 && a[1].what != expr::kind::ellipsis) {
      ok = unsupported(ev, "bind() to an explicit address");
      return true;
    }
    r = widen(table_->bind(fd, socket_addr(local_ip(), 8080)));
    if (r) local_port_ = 8080;
  } else if (n == "listen") {
    if (!need(2)) return true;
    r = widen(table_->listen(fd, static_cast<int>(arg(1).value_or(1))));
  } else if (n == "accept" || n == "accept4") {
    if (!need(1)) return true;
    auto x = table_->accept(fd);
    if (blocking && may_block && !x && x.error() == EAGAIN) return false;
    if (!x) {
      r = unexpected{x.error()};
    } else {
      r = std::int64_t{x->fd};
      last_fd_ = x->fd;  // the socket under test from now on
      local_port_ = 8080;
      remote_port_ = x->peer.port;
    }
    fd_result = true;
  } else if (n == "connect") {
    if (!need(1)) return true;
    if (a.size() > 1 && a[1].what != expr::kind::ellipsis) {
      ok = unsupported(ev, "connect() to an explicit address");
      return true;
    }
    r = widen(table_->connect(now_, fd, socket_addr(remote_ip(), 8080)));
    if (auto name = table_->getsockname(fd); name && name->port != 0) {
      local_port_ = name->port;
      remote_port_ = 8080;
      conn_seen_ = true;
    }
    pump();
    if (blocking && may_block && !r && (r.error() == EINPROGRESS || r.error() == EALREADY)) {
      if (!pending_ || r.error() == EALREADY) return false;
    }
  } else if (n == "read" || n == "recv" || n == "recvfrom") {
    if (!need(3)) return true;
    data.resize(static_cast<std::size_t>(std::max<std::int64_t>(arg(2).value_or(0), 0)));
    const int flags = n == "read" ? 0 : static_cast<int>(arg(3).value_or(0));
    r = widen(table_->recv(fd, data, flags));
    pump();
    if (blocking && may_block && (flags & posix::msg_dontwait) == 0 && !r && r.error() == EAGAIN) return false;
  } else if (n == "write" || n == "send" || n == "sendto") {
    if (!need(3)) return true;
    data.resize(static_cast<std::size_t>(std::max<std::int64_t>(arg(2).value_or(0), 0)));
    const int flags = n == "write" ? 0 : static_cast<int>(arg(3).value_or(0));
    r = widen(table_->send(fd, data, flags));
    pump();
    if (blocking && may_block && (flags & posix::msg_dontwait) == 0 && !r && r.error() == EAGAIN) return false;
  } else if (n == "close") {
    if (!need(1)) return true;
    r = widen(table_->close(now_, fd));
    if (r) fds_.erase(a[0].number);
  } else if (n == "shutdown") {
    if (!need(2)) return true;
    r = widen(table_->shutdown(now_, fd, static_cast<int>(arg(1).value_or(-1))));
  } else if (n == "fcntl") {
    if (!need(2)) return true;
    const auto cmd = arg(1).value_or(-1);
    if (cmd == 3) {  // F_GETFL
      if (!nb) {
        r = unexpected{nb.error()};
      } else {
        r = std::int64_t{2} | (*nb ? 04000 : 0);
      }
    } else if (cmd == 4) {  // F_SETFL
      r = widen(table_->set_nonblocking(fd, (arg(2).value_or(0) & 04000) != 0));
    } else {
      ok = unsupported(ev, "fcntl command");
      return true;
    }
  } else if (n == "getsockopt" || n == "setsockopt") {
    return sockopt(ev, c, fd, ok);
  } else if (n == "poll") {
    return poll(ev, c, ok);
  } else {
    ok = unsupported(ev, "system call " + n + "()");
    return true;
  }
  pump();
  ok = check_result(ev, c, r, fd_result);
  return true;
}

bool executor::check_result(const event& ev, const syscall_spec& c, const sys_result<std::int64_t>& r,
                            bool fd_result) {
  const std::string want = c.errno_name.empty() ? std::to_string(c.result)
                                                : std::to_string(c.result) + " " + c.errno_name;
  if (r) {
    if (c.result == -1 || (!fd_result && *r != c.result)) {
      return fail(ev, c.name + "() returned " + describe(r) + ", expected " + want);
    }
    if (fd_result) fds_[c.result] = static_cast<int>(*r);
    return true;
  }
  const auto expected = constant(c.errno_name);
  if (c.result != -1 || !expected || *expected != r.error()) {
    return fail(ev, c.name + "() returned " + describe(r) + ", expected " + want);
  }
  return true;
}

bool executor::sockopt(const event& ev, const syscall_spec& c, int fd, bool& ok) {
  const auto& a = c.args;
  if (a.size() < 4) {
    ok = fail(ev, c.name + " needs 4 or 5 arguments");
    return true;
  }
  const auto level = eval(a[1]);
  const auto name = eval(a[2]);
  if (!level || !name) {
    ok = unsupported(ev, "socket option " + a[2].text);
    return true;
  }
  const bool linger = *name == posix::so_linger;
  posix::linger_opt lv;
  int iv = 0;
  sys_result<std::int64_t> r = std::int64_t{0};
  if (c.name == "setsockopt") {
    if (linger) {
      if (a[3].what != expr::kind::object) return (ok = fail(ev, "SO_LINGER takes {onoff=N, linger=N}")), true;
      for (const auto& f : a[3].items) {
        std::optional<std::int64_t> v;
        if (!f.items.empty()) v = eval(f.items[0]);
        if (f.text == "onoff" || f.text == "l_onoff") lv.l_onoff = static_cast<int>(v.value_or(0));
        if (f.text == "linger" || f.text == "l_linger") lv.l_linger = static_cast<int>(v.value_or(0));
      }
    } else {
      const auto v = eval(a[3]);
      if (!v) return (ok = unsupported(ev, "setsockopt value")), true;
      iv = static_cast<int>(*v);
    }
    const bytes val = linger ? bytes{reinterpret_cast<const std::byte*>(&lv), sizeof lv}
                             : bytes{reinterpret_cast<const std::byte*>(&iv), sizeof iv};
    r = widen(table_->setsockopt(now_, fd, static_cast<int>(*level), static_cast<int>(*name), val));
    pump();
    ok = check_result(ev, c, r, false);
    return true;
  }
  auto got = linger ? table_->getsockopt(fd, static_cast<int>(*level), static_cast<int>(*name),
                                         mutable_bytes{reinterpret_cast<std::byte*>(&lv), sizeof lv})
                    : table_->getsockopt(fd, static_cast<int>(*level), static_cast<int>(*name),
                                         mutable_bytes{reinterpret_cast<std::byte*>(&iv), sizeof iv});
  r = got ? sys_result<std::int64_t>{std::int64_t{0}} : sys_result<std::int64_t>{unexpected{got.error()}};
  if (!check_result(ev, c, r, false)) return (ok = false), true;
  if (!got || linger || a[3].what == expr::kind::ellipsis) return true;
  const auto want = eval(a[3]);
  if (!want) return (ok = unsupported(ev, "getsockopt value")), true;
  const bool buf = *level == posix::sol_socket && (*name == posix::so_rcvbuf || *name == posix::so_sndbuf);
  // What the script believes RCV.WND is, for relaxed rcv_wnd: FreeBSD's rounded SO_RCVBUF of a
  // connection whose SYNs are exchanged (65700; SYN-RECEIVED or later, when RCV.NXT and the
  // peer's MSS are known) is its RCV.WND.
  if (buf && *name == posix::so_rcvbuf && *want > 65535) {
    const auto h = table_->connection_of(fd);
    const auto st = h ? host_->state(*h) : std::nullopt;
    if (st && (is_synchronized(*st) || *st == tcp_state::syn_received)) {
      script_rcvbuf_ = static_cast<std::uint32_t>(*want);
    }
  }
  if (iv != *want) {
    if (buf && relaxed()) {
      excused(relax_rule::sockbuf);
      return true;
    }
    const bool is_errno = *name == posix::so_error && *level == posix::sol_socket;
    // relaxed reset_errno: RFC 9293 §3.10.7.4 says only that the user gets "reset"; Linux (and
    // posix/) reports EPIPE when the reset comes in CLOSE-WAIT, FreeBSD ECONNRESET.
    if (is_errno && relaxed() && reset_in_close_wait_ && iv == EPIPE && *want == ECONNRESET) {
      excused(relax_rule::reset_errno);
      return true;
    }
    ok = fail(ev, "getsockopt " + a[2].text + " gave " + (is_errno ? errno_name(iv) : std::to_string(iv)) +
                      ", expected " + (is_errno ? errno_name(static_cast<int>(*want)) : std::to_string(*want)));
  }
  return true;
}

bool executor::poll(const event& ev, const syscall_spec& c, bool& ok) {
  const auto& a = c.args;
  if (a.size() < 3 || a[0].what != expr::kind::list) {
    ok = fail(ev, "poll takes ([{fd=N, events=...}], n, timeout)");
    return true;
  }
  std::vector<posix::poll_fd> fds;
  std::vector<std::optional<std::int64_t>> want_revents;
  for (const auto& o : a[0].items) {
    posix::poll_fd p;
    std::optional<std::int64_t> rev;
    for (const auto& f : o.items) {
      std::optional<std::int64_t> v;
      if (!f.items.empty()) v = eval(f.items[0]);
      if (f.text == "fd" && v) p.fd = live_fd(f.items[0]).value_or(-1);
      if (f.text == "events") p.events = static_cast<short>(v.value_or(0));
      if (f.text == "revents") rev = v;
    }
    fds.push_back(p);
    want_revents.push_back(rev);
  }
  const int n = table_->poll(fds);
  const auto timeout = eval(a[2]).value_or(0);
  if (n == 0 && timeout != 0) {
    ok = unsupported(ev, "a poll() that waits");
    return true;
  }
  ok = check_result(ev, c, sys_result<std::int64_t>{std::int64_t{n}}, false);
  for (std::size_t i = 0; ok && i < fds.size(); ++i) {
    if (want_revents[i] && fds[i].revents != *want_revents[i]) {
      ok = fail(ev, "poll revents " + std::to_string(fds[i].revents) + ", expected " + std::to_string(*want_revents[i]));
    }
  }
  return true;
}

// ---- adapters ------------------------------------------------------------------------------

tcp_state executor::current_state() const {
  if (const connection* c = host_->lookup(tuple()); c != nullptr && c->state() != tcp_state::closed) {
    return c->state();
  }
  if (host_->lookup_time_wait(tuple()) != nullptr) return tcp_state::time_wait;
  if (last_fd_ >= 0) {
    int v = 0;
    auto r = table_->getsockopt(last_fd_, posix::sol_socket, posix::so_acceptconn,
                                mutable_bytes{reinterpret_cast<std::byte*>(&v), sizeof v});
    if (r && v != 0) return tcp_state::listen;
  }
  return tcp_state::closed;
}

bool executor::code(const event& ev, const code_block& c) {
  ensure_host();
  std::string t;
  for (char ch : c.text) {
    if (std::isspace(static_cast<unsigned char>(ch)) == 0) t += ch;
  }
  constexpr std::string_view prefix = "asserttcpi_state==";
  if (!t.starts_with(prefix)) return unsupported(ev, "code block `%{" + c.text + "}%` (only tcpi_state asserts)");
  const auto want = state_name(std::string_view{t}.substr(prefix.size()));
  if (!want) return unsupported(ev, "tcpi_state value " + t.substr(prefix.size()));
  const tcp_state got = current_state();
  if (got != *want) {
    return fail(ev, "tcpi_state is " + std::string{to_string(got)} + ", expected " + std::string{to_string(*want)});
  }
  return true;
}

}  // namespace synack::pkt
