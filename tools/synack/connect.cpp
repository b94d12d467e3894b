// `synack connect`: like nc, over this host's TCP on a TUN device. stdin goes to the
// connection, the connection to stdout; EOF on stdin half-closes (FIN) and the program exits
// once the peer has closed too.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iterator>
#include <optional>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "control.hpp"

namespace synack::tools {
namespace {

// Exit codes (documented in --help).
constexpr int exit_ok = 0;
constexpr int exit_setup = 1;
constexpr int exit_refused = 3;
constexpr int exit_reset = 4;
constexpr int exit_timeout = 5;
constexpr int exit_io = 6;

struct connect_options {
  net_options net;
  std::string host;
  std::uint16_t port = 0;
  double connect_timeout_s = 10.0;
  double linger_s = 0.0;
  bool progress = false;
};

std::string human_bytes(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t u = 0;
  while (n >= 1024 && u + 1 < std::size(units)) n /= 1024, ++u;
  return u == 0 ? fmt::format("{:.0f} {}", n, units[u]) : fmt::format("{:.1f} {}", n, units[u]);
}

class nc_client {
 public:
  nc_client(runtime::event_loop& loop, const connect_options& o) : loop_(loop), o_(o), in_(64 * 1024), out_(64 * 1024) {}

  int run(const ip_addr& remote) {
    start_ = std::chrono::steady_clock::now();
    struct stat st {};
    if (::fstat(0, &st) == 0 && S_ISREG(st.st_mode)) input_size_ = static_cast<std::uint64_t>(st.st_size);
    if (o_.progress) tick();
    if (o_.net.verbose) sample_internals();
    stdin_flags_ = ::fcntl(0, F_GETFL);
    if (stdin_flags_ >= 0) ::fcntl(0, F_SETFL, stdin_flags_ | O_NONBLOCK);  // regular files never block anyway
    auto c = loop_.connect(remote, o_.port,
                           {.on_established = [this] { established(); },
                            .on_readable = [this] { readable(); },
                            .on_writable = [this] { pump_stdin(); },
                            .on_closed = [this](close_reason r) { closed(r); },
                            .on_retransmit_threshold =
                                [this] {
                                  // RFC 9293 §3.8.3 (SHLD-9): R1 reached, R2 not yet.
                                  fmt::print(stderr, "synack connect: no answer after {} retransmissions; still trying\n",
                                             loop_.host().config().tcp.r1_retransmissions);
                                }});
    if (!c) {
      fmt::print(stderr, "synack connect: {}\n", to_string(c.error()));
      return exit_setup;
    }
    h_ = *c;
    timeout_ = loop_.call_after(std::chrono::duration_cast<duration>(std::chrono::duration<double>(o_.connect_timeout_s)),
                                [this] {
                                  if (established_) return;
                                  fmt::print(stderr, "synack connect: connection timed out\n");
                                  code_ = exit_timeout;
                                  (void)loop_.abort(h_);
                                  done_ = true;
                                  loop_.stop();
                                });
    loop_.run();
    end_ = std::chrono::steady_clock::now();  // the transfer's time, without --linger
    if (o_.progress) print_progress(true);
    if (!done_) return code_ == exit_ok ? exit_io : code_;  // interrupted
    if (o_.linger_s > 0) {  // stay reachable by `synack stat` (e.g. to show TIME-WAIT)
      const instant until = loop_.now() + std::chrono::duration_cast<duration>(std::chrono::duration<double>(o_.linger_s));
      while (loop_.now() < until) loop_.run_once(until - loop_.now());
    } else {
      loop_.run_once(duration{0});  // the last ACK leaves before we do
    }
    return code_;
  }
  // A terminal shares its flags between stdin and stdout, and with the shell: give them back.
  ~nc_client() {
    if (stdin_flags_ >= 0) ::fcntl(0, F_SETFL, stdin_flags_);
  }
  nc_client(const nc_client&) = delete;
  nc_client& operator=(const nc_client&) = delete;

  // "sent 1.0 MiB, received 1.0 MiB in 0.52 s (1.9 MiB/s)", for -v.
  // -v: the connection's internals as last seen before it closed (`stat -i`'s line: recoveries,
  // timeouts, undos, loss probes, RACK), or nothing if it never got that far.
  [[nodiscard]] const std::optional<tcp_internals>& last_internals() const { return internals_; }
  [[nodiscard]] std::string transfer_summary() const {
    const double s = seconds();
    return fmt::format("sent {} bytes, received {} bytes in {:.3f} s ({}/s)", sent_, received_, s,
                       human_bytes(static_cast<double>(std::max(sent_, received_)) / std::max(s, 1e-9)));
  }

 private:
  [[nodiscard]] double seconds() const {
    const auto end = end_ ? *end_ : std::chrono::steady_clock::now();
    return std::chrono::duration<double>(end - start_).count();
  }
  // -v: the internals every 10 ms too, so the last look is near the end whatever event ends it.
  void sample_internals() {
    note_internals();
    loop_.call_after(std::chrono::milliseconds(10), [this] { sample_internals(); });
  }
  // --progress: like pv, on stderr, twice a second.
  void tick() {
    print_progress(false);
    loop_.call_after(std::chrono::milliseconds(500), [this] { tick(); });
  }
  void print_progress(bool last) {
    const double s = seconds();
    const double rate = static_cast<double>(std::max(sent_, received_)) / std::max(s, 1e-9);
    std::string line = fmt::format("{} sent, {} received, {}/s, {:.1f} s", human_bytes(static_cast<double>(sent_)),
                                   human_bytes(static_cast<double>(received_)), human_bytes(rate), s);
    if (input_size_ > 0) {
      const double pct = 100.0 * static_cast<double>(sent_) / static_cast<double>(input_size_);
      line += fmt::format(", {:.0f} %", pct);
      if (!last && sent_ > 0 && sent_ < input_size_) {
        const double send_rate = static_cast<double>(sent_) / std::max(s, 1e-9);
        line += fmt::format(", ETA {:.0f} s", static_cast<double>(input_size_ - sent_) / send_rate);
      }
    }
    fmt::print(stderr, "\r{:<78}{}", line, last ? "\n" : "");
    std::fflush(stderr);
  }

  void established() {
    established_ = true;
    loop_.cancel(timeout_);
    pump_stdin();
  }
  // Kept while the TCB exists (a TIME-WAIT record or a closed handle has none), for -v.
  void note_internals() {
    if (!o_.net.verbose) return;
    if (auto in = loop_.host().internals(h_)) internals_ = std::move(in);
  }
  void pump_stdin() {
    note_internals();
    if (done_) return;
    for (;;) {
      if (in_off_ == in_len_ && !stdin_eof_) {
        const ssize_t n = ::read(0, in_.data(), in_.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          // Wait for stdin; a regular file never gets here (and epoll refuses it).
          loop_.watch(0, EPOLLIN, [this](std::uint32_t) {
            loop_.unwatch(0);
            pump_stdin();
          });
          return;
        }
        if (n <= 0) {
          stdin_eof_ = true;
        } else {
          in_off_ = 0, in_len_ = static_cast<std::size_t>(n);
        }
      }
      if (in_off_ < in_len_) {
        auto w = loop_.send(h_, bytes{in_.data() + in_off_, in_len_ - in_off_});
        if (!w) {
          if (w.error() == tcp_error::would_block) loop_.want_writable(h_, true);
          return;  // errors arrive through on_closed
        }
        in_off_ += *w;
        sent_ += *w;
        continue;
      }
      if (stdin_eof_) {
        if (!shut_) {
          shut_ = true;
          (void)loop_.shutdown(h_);
          check_done();
        }
        return;
      }
    }
  }
  void readable() {
    note_internals();
    for (;;) {
      auto r = loop_.recv(h_, out_);
      if (!r) return;
      if (*r == 0) {
        peer_eof_ = true;
        check_done();
        return;
      }
      received_ += *r;
      std::size_t off = 0;
      while (off < *r) {
        const ssize_t n = ::write(1, out_.data() + off, *r - off);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;  // stdout non-blocking: spin briefly
        if (n < 0) {
          fmt::print(stderr, "synack connect: stdout: {}\n", std::strerror(errno));
          code_ = exit_io;
          (void)loop_.abort(h_);
          done_ = true;
          loop_.stop();
          return;
        }
        off += static_cast<std::size_t>(n);
      }
    }
  }
  void check_done() {
    note_internals();
    if (!shut_ || !peer_eof_ || done_) return;
    const auto st = loop_.host().state(h_);
    if (!st || *st == tcp_state::time_wait || *st == tcp_state::closed) {
      finish();
    } else if (*st == tcp_state::closing) {
      // Simultaneous close (RFC 9293 §3.6, case 2): the ACK of our FIN moves us to TIME-WAIT,
      // which raises no event for an owned connection: look again shortly.
      loop_.call_after(std::chrono::milliseconds(10), [this] { check_done(); });
    }
    // else LAST-ACK: on_closed follows when our FIN is acknowledged
  }
  void finish() {
    done_ = true;
    (void)loop_.close(h_);
    loop_.stop();
  }
  void closed(close_reason r) {
    note_internals();
    if (done_) return;
    switch (r) {
      case close_reason::none: code_ = shut_ && peer_eof_ ? exit_ok : exit_io; break;
      case close_reason::refused: code_ = exit_refused; break;
      case close_reason::reset: code_ = exit_reset; break;
      case close_reason::timeout: code_ = exit_timeout; break;
      case close_reason::aborted: code_ = exit_io; break;
    }
    if (r != close_reason::none) fmt::print(stderr, "synack connect: {}\n", to_string(r));
    done_ = true;  // the loop releases the handle after this callback
    loop_.stop();
  }

  runtime::event_loop& loop_;
  const connect_options& o_;
  conn_handle h_;
  runtime::timer_id timeout_ = 0;
  int stdin_flags_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::optional<std::chrono::steady_clock::time_point> end_;
  std::optional<tcp_internals> internals_;
  std::uint64_t input_size_ = 0;  // stdin's size when it is a regular file (for the ETA)
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  std::vector<std::byte> in_;
  std::vector<std::byte> out_;
  std::size_t in_off_ = 0;
  std::size_t in_len_ = 0;
  bool stdin_eof_ = false;
  bool shut_ = false;
  bool peer_eof_ = false;
  bool established_ = false;
  bool done_ = false;
  int code_ = exit_ok;
};

int run_connect(const connect_options& o) {
  auto remote = ip_addr::parse(o.host);
  if (!remote) {
    fmt::print(stderr, "synack connect: HOST must be an IPv4 or IPv6 address, got '{}'\n", o.host);
    return exit_usage;
  }
  auto s = net_session::open(o.net);
  if (!s) {
    fmt::print(stderr, "synack connect: {}\n", s.error());
    return exit_setup;
  }
  nc_client c{(*s)->loop(), o};
  const int code = c.run(*remote);
  if (o.net.verbose) {
    fmt::print(stderr, "synack connect: {}\n", c.transfer_summary());
    fmt::print(stderr, "synack connect: {}\n", (*s)->summary());
    if (const auto& in = c.last_internals()) fmt::print(stderr, "synack connect: tcp{}", internals_text(*in));
  }
  // The ladders are drawn whatever the outcome (a refused or reset connection too); a file
  // that cannot be written is an I/O failure when the transfer itself succeeded.
  const bool drawn = (*s)->write_ladders("synack connect");
  return code == exit_ok && !drawn ? exit_io : code;
}

}  // namespace

void add_connect(CLI::App& app) {
  auto o = std::make_shared<connect_options>();
  auto* cmd = app.add_subcommand("connect", "like nc: stdin to a TCP connection, the connection to stdout");
  cmd->footer(
      "Example (as root): synack connect --tun synack0 --addr 10.77.0.2/24 10.77.0.1 5000 < file\n"
      "EOF on stdin sends FIN (half-close); the program exits when the peer has closed too.\n"
      "Exit codes: 0 clean close both ways, 1 setup failed (TUN, privilege, control socket),\n"
      "2 usage (a bad option or address), 3 connection refused (RST to our SYN), 4 connection reset, 5 timed out\n"
      "(--connect-timeout or retransmissions), 6 local I/O error or interrupted.");
  add_net_options(*cmd, o->net);
  add_buffer_option(*cmd, o->net);
  cmd->add_option("--connect-timeout", o->connect_timeout_s, "seconds to wait for the handshake")
      ->capture_default_str();
  cmd->add_flag("--progress", o->progress,
                "bytes sent and received, rate, and (stdin a file) percentage and ETA on stderr, like pv");
  cmd->add_option("--linger", o->linger_s, "seconds to keep running after the close (stat shows TIME-WAIT)");
  cmd->add_option("host", o->host, "remote IPv4 or IPv6 address")->required();
  cmd->add_option("port", o->port, "remote TCP port")->required();
  cmd->callback([o] { set_exit_code(run_connect(*o)); });
}

}  // namespace synack::tools
