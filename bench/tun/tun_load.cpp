// tun_load: the kernel-socket side of bench/tun/run.sh. The same client measures synack (over
// its TUN device) and the kernel (over a veth pair), so the two numbers differ only in the peer.
// It uses the kernel's sockets only; no synack code is linked.
//
//   tun_load server PORT discard|chargen|echo   single-threaded epoll server (the baseline's
//                                                 counterpart of `synack serve`), until SIGTERM
//   tun_load send HOST PORT BYTES                 connect, write BYTES, half-close, wait for EOF
//   tun_load recv HOST PORT BYTES                 connect, read BYTES, close
//   tun_load cps HOST PORT COUNT PARALLEL [SRC..] COUNT short connections, PARALLEL in flight:
//                                                 connect, 16-byte request, read the echo,
//                                                 half-close, wait for EOF, close
//
// Results go to stdout as one line "RESULT <what> <value> <unit> <seconds>". Every mode is
// bounded: a run that makes no progress for 10 s stops with exit status 1.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

constexpr std::size_t io_size = 256 * 1024;
constexpr int stall_ms = 10000;  // no progress for this long: give up

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "tun_load: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

sockaddr_in make_addr(const char* host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (host != nullptr && ::inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    std::fprintf(stderr, "tun_load: bad IPv4 address %s\n", host);
    std::exit(2);
  }
  return a;
}

int connect_blocking(const char* host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  timeval tv{stall_ms / 1000, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const sockaddr_in a = make_addr(host, port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0) die("connect");
  return fd;
}

void report(const char* what, double value, const char* unit, double secs) {
  std::printf("RESULT %s %.3f %s %.3f\n", what, value, unit, secs);
  std::fflush(stdout);
}

// ---- bulk ------------------------------------------------------------------------------------

int run_send(const char* host, int port, std::uint64_t bytes) {
  std::vector<char> buf(io_size, 'x');
  const int fd = connect_blocking(host, port);
  const auto t0 = clock_type::now();
  std::uint64_t left = bytes;
  while (left > 0) {
    const ssize_t n = ::write(fd, buf.data(), std::min<std::uint64_t>(left, buf.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("write");
    left -= static_cast<std::uint64_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  // The peer has every byte once it closes in turn (discard closes on our FIN).
  while (::read(fd, buf.data(), buf.size()) > 0) {
  }
  const double secs = seconds_since(t0);
  ::close(fd);
  report("send", static_cast<double>(bytes) * 8 / secs / 1e9, "Gbit/s", secs);
  return 0;
}

int run_recv(const char* host, int port, std::uint64_t bytes) {
  std::vector<char> buf(io_size);
  const int fd = connect_blocking(host, port);
  const auto t0 = clock_type::now();
  std::uint64_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::read(fd, buf.data(), std::min<std::uint64_t>(bytes - got, buf.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("read");
    if (n == 0) {
      std::fprintf(stderr, "tun_load: EOF after %llu of %llu bytes\n", static_cast<unsigned long long>(got),
                   static_cast<unsigned long long>(bytes));
      return 1;
    }
    got += static_cast<std::uint64_t>(n);
  }
  const double secs = seconds_since(t0);
  ::close(fd);
  report("recv", static_cast<double>(bytes) * 8 / secs / 1e9, "Gbit/s", secs);
  return 0;
}

// ---- server ----------------------------------------------------------------------------------

enum class service { discard, chargen, echo };

struct server_conn {
  std::vector<char> pending;  // echo: bytes not yet written back
  bool eof = false;
};

int listen_on(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in a = make_addr(nullptr, port);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) < 0) die("bind");
  if (::listen(fd, 4096) < 0) die("listen");
  return fd;
}

// One connection's readiness; false when it is finished and closed.
bool serve_conn(int fd, service svc, server_conn& c, std::vector<char>& buf) {
  if (svc == service::chargen) {
    for (;;) {
      const ssize_t n = ::write(fd, buf.data(), buf.size());
      if (n > 0) continue;
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      ::close(fd);  // the peer went away
      return false;
    }
  }
  while (!c.pending.empty()) {
    const ssize_t n = ::write(fd, c.pending.data(), c.pending.size());
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) break;
    c.pending.erase(c.pending.begin(), c.pending.begin() + n);
  }
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) {
      c.eof = true;
      break;
    }
    if (svc != service::echo) continue;
    const ssize_t w = ::write(fd, buf.data(), static_cast<std::size_t>(n));
    const std::size_t done = w > 0 ? static_cast<std::size_t>(w) : 0;
    if (done < static_cast<std::size_t>(n)) {
      c.pending.insert(c.pending.end(), buf.data() + done, buf.data() + n);
      return true;
    }
  }
  if (c.eof && c.pending.empty()) {
    ::close(fd);  // closes second: the client holds the TIME-WAIT
    return false;
  }
  return true;
}

int run_server(int port, service svc) {
  const int lfd = listen_on(port);
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::vector<char> buf(io_size, 'c');
  std::unordered_map<int, server_conn> conns;
  std::vector<epoll_event> evs(256);
  std::printf("listening on %d\n", port);
  std::fflush(stdout);
  for (;;) {
    const int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      const int fd = evs[static_cast<std::size_t>(i)].data.fd;
      if (fd == lfd) {
        for (;;) {
          const int c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          conns[c] = {};
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLRDHUP | (svc == service::chargen ? EPOLLOUT : 0u) | EPOLLET;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          if (!serve_conn(c, svc, conns[c], buf)) conns.erase(c);
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it != conns.end() && !serve_conn(fd, svc, it->second, buf)) conns.erase(it);
    }
  }
}

// ---- connections per second -----------------------------------------------------------------

struct client_conn {
  int sent = 0;
  int got = 0;
  bool shut = false;
};

constexpr int request_len = 16;

class cps_client {
 public:
  cps_client(const char* host, int port, std::vector<sockaddr_in> sources)
      : dst_(make_addr(host, port)), sources_(std::move(sources)), ep_(::epoll_create1(EPOLL_CLOEXEC)) {}

  // Opens one more connection; false on a local error (ports exhausted...).
  bool open_one() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    if (!sources_.empty()) {
      const sockaddr_in& s = sources_[static_cast<std::size_t>(opened_) % sources_.size()];
      if (::bind(fd, reinterpret_cast<const sockaddr*>(&s), sizeof s) < 0) {
        ::close(fd);
        return false;
      }
    }
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&dst_), sizeof dst_) < 0 && errno != EINPROGRESS) {
      ::close(fd);
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.fd = fd;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    conns_[fd] = {};
    ++opened_;
    return true;
  }

  // Drives one connection; returns true when it completed (and was closed).
  bool step(int fd, std::uint32_t events) {
    client_conn& c = conns_[fd];
    if ((events & EPOLLERR) != 0) return fail(fd);
    static const char request[request_len + 1] = "synack tun bench";
    if (c.sent < request_len && (events & EPOLLOUT) != 0) {
      const ssize_t n = ::write(fd, request + c.sent, static_cast<std::size_t>(request_len - c.sent));
      if (n > 0) c.sent += static_cast<int>(n);
      if (n < 0 && errno != EAGAIN) return fail(fd);
    }
    char buf[256];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        c.got += static_cast<int>(n);
        continue;
      }
      if (n < 0 && errno == EAGAIN) break;
      if (n < 0) return fail(fd);
      // EOF: the server closed after our half-close.
      if (c.got != request_len) return fail(fd);
      ::close(fd);
      conns_.erase(fd);
      return true;
    }
    if (c.got == request_len && !c.shut) {
      c.shut = true;
      ::shutdown(fd, SHUT_WR);
    }
    return false;
  }

  int run(long count, int parallel) {
    const auto t0 = clock_type::now();
    auto last_progress = t0;
    while (done_ + failed_ < count) {
      while (opened_ < count && static_cast<int>(conns_.size()) < parallel) {
        if (!open_one()) {
          std::fprintf(stderr, "tun_load: cannot open connection %ld: %s\n", opened_, std::strerror(errno));
          return 1;
        }
      }
      epoll_event evs[256];
      const int n = ::epoll_wait(ep_, evs, 256, 100);
      for (int i = 0; i < n; ++i) {
        if (step(evs[i].data.fd, evs[i].events)) ++done_;
      }
      if (n > 0) last_progress = clock_type::now();
      if (seconds_since(last_progress) * 1000 > stall_ms) {
        std::fprintf(stderr, "tun_load: stalled with %zu connections open, %ld done\n", conns_.size(), done_);
        return 1;
      }
    }
    const double secs = seconds_since(t0);
    if (failed_ > 0) std::fprintf(stderr, "tun_load: %ld connections failed\n", failed_);
    report("cps", static_cast<double>(done_) / secs, "conn/s", secs);
    return failed_ == 0 ? 0 : 1;
  }

 private:
  bool fail(int fd) {
    ++failed_;
    ::close(fd);
    conns_.erase(fd);
    return false;
  }
  sockaddr_in dst_;
  std::vector<sockaddr_in> sources_;
  int ep_;
  std::unordered_map<int, client_conn> conns_;
  long opened_ = 0;
  long done_ = 0;
  long failed_ = 0;
};

int usage() {
  std::fprintf(stderr,
               "usage: tun_load server PORT discard|chargen|echo\n"
               "       tun_load send|recv HOST PORT BYTES\n"
               "       tun_load cps HOST PORT COUNT PARALLEL [SOURCE_ADDR ...]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a peer that goes away is an error return, not a death
  if (argc < 3) return usage();
  const std::string mode = argv[1];
  if (mode == "server" && argc == 4) {
    const std::string s = argv[3];
    if (s != "discard" && s != "chargen" && s != "echo") return usage();
    return run_server(std::atoi(argv[2]), s == "discard" ? service::discard : s == "chargen" ? service::chargen : service::echo);
  }
  if ((mode == "send" || mode == "recv") && argc == 5) {
    const std::uint64_t bytes = std::strtoull(argv[4], nullptr, 10);
    return mode == "send" ? run_send(argv[2], std::atoi(argv[3]), bytes) : run_recv(argv[2], std::atoi(argv[3]), bytes);
  }
  if (mode == "cps" && argc >= 6) {
    std::vector<sockaddr_in> sources;
    for (int i = 6; i < argc; ++i) sources.push_back(make_addr(argv[i], 0));
    cps_client c{argv[2], std::atoi(argv[3]), std::move(sources)};
    return c.run(std::atol(argv[4]), std::atoi(argv[5]));
  }
  return usage();
}
