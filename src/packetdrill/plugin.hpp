#pragma once
// synack as a packetdrill plug-in: one host and its socket table on a virtual clock, driven by
// packetdrill's calls (packetdrill_interface.hpp). Beside runtime/ in the layering: it has a
// clock, threads and real file descriptors.
//
// Time. The clock is virtual and moves only when packetdrill asks: usleep(n) moves it n µs,
// each gettimeofday from the driving thread 1 µs (packetdrill spins on it), and
// netdev_receive, when nothing is queued, to the stack's next deadline. Timers fire at their
// own deadlines on the way, so every outbound packet carries the virtual time it was sent.
//
// Threads. packetdrill runs a script line with a time range (`0...0.1 read(...)`) on a second
// thread and goes on once that thread sleeps in the kernel. A call that must wait sleeps on a
// condition variable (a futex: the thread shows as sleeping) and is woken whenever the stack
// changed; whoever moves the clock or delivers a packet waits until each sleeper has looked
// again, and a sleeper that returns until it has read the clock, so a blocking call returns
// at the virtual time of the event that completed it. A call that must wait on the driving
// thread (no second thread to move time) moves the clock itself, deadline by deadline.
//
// Descriptors. Each socket is a real kernel descriptor (a dup of /dev/null) mapped to a
// socket_table descriptor: packetdrill closes every descriptor still open with the real
// close() at the end of a script. Descriptors the plug-in did not make (pipes) go to libc.
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/epoll.h>

#include "synack/posix/socket_table.hpp"
#include "synack/stack/host.hpp"

namespace synack::packetdrill {

// What --so_flags selects (space- or comma-separated words; docs in README.md):
//   linux          Linux's defaults where Google's scripts assume them (see linux_config)
//   sysctl         read net.ipv4 settings of the namespace at each socket() (with linux)
//   tso / notso    merge back-to-back segments into one packet, as a TSO device shows them
//                  (with sysctl: not while the namespace's tun0 has segmentation offload off)
//   local_ip=A     the stack's address (default 192.168.0.1, packetdrill's)
//   mtu=N          the link MTU (default 1500)
//   verbose        trace calls and packets to stderr
struct plugin_options {
  host_config host;
  bool linux_defaults = false;
  bool sysctl = false;
  bool tso = false;
  bool verbose = false;
  // Parses `flags`; an unknown word is reported in `error`.
  static plugin_options parse(const char* flags, std::string& error);
};

// Linux's defaults of the settings Google's scripts rely on: RTO minimum 200 ms, initial
// window 10 segments (RFC 6928), buffers of net.ipv4.tcp_rmem / tcp_wmem as the scripts'
// defaults.sh sets them (the receive buffer's maximum decides the window scale: 8), SYN
// retries 5 (connect gives up after 63 s), CUBIC.
void apply_linux_defaults(tcp_config& c);
// Reads /proc/sys/net/ipv4/{tcp_timestamps, tcp_sack, tcp_window_scaling, tcp_rmem,
// tcp_wmem, tcp_syn_retries, tcp_fastopen_key} into `c`; files that cannot be read leave their
// setting.
void apply_sysctls(tcp_config& c);
// net.ipv4.tcp_fastopen (nullopt: unreadable).
std::optional<int> fastopen_sysctl();

class plugin {
 public:
  explicit plugin(plugin_options o);
  ~plugin();
  plugin(const plugin&) = delete;
  plugin& operator=(const plugin&) = delete;

  // ---- the calls (libc's signatures; -1 and errno on error) -----------------------------
  int socket(int domain, int type, int protocol);
  int bind(int fd, const sockaddr* addr, socklen_t len);
  int listen(int fd, int backlog);
  int accept(int fd, sockaddr* addr, socklen_t* len);
  int connect(int fd, const sockaddr* addr, socklen_t len);
  ssize_t recv(int fd, void* buf, std::size_t len, int flags);
  ssize_t recvmsg(int fd, msghdr* msg, int flags);
  ssize_t send(int fd, const void* buf, std::size_t len, int flags);
  ssize_t sendmsg(int fd, const msghdr* msg, int flags);
  ssize_t sendto(int fd, const void* buf, std::size_t len, int flags, const sockaddr* addr, socklen_t alen);
  ssize_t read(int fd, void* buf, std::size_t len);
  ssize_t write(int fd, const void* buf, std::size_t len);
  int fcntl(int fd, int cmd, long arg);
  int ioctl(int fd, unsigned long request, void* arg);
  int close(int fd);
  int shutdown(int fd, int how);
  int getsockopt(int fd, int level, int name, void* value, socklen_t* len);
  int setsockopt(int fd, int level, int name, const void* value, socklen_t len);
  int poll(pollfd* fds, nfds_t n, int timeout_ms);
  int epoll_create(int size);
  int epoll_ctl(int epfd, int op, int fd, epoll_event* ev);
  int epoll_wait(int epfd, epoll_event* evs, int max, int timeout_ms);
  int netdev_send(const void* buf, std::size_t len);
  int netdev_receive(void* buf, std::size_t* len, long long* time_usecs);
  int usleep(std::uint64_t usec);
  int gettimeofday(timeval* tv);

  // For tests: the virtual time since the start.
  [[nodiscard]] duration elapsed();

  // The live instances, for getsockopt() preloaded (preload.cpp): the one that made kernel
  // descriptor `kfd` answers for it, under the registry's lock (nullopt: none made it).
  static std::optional<int> answer_getsockopt(int kfd, int level, int name, void* value, socklen_t* len);

 private:
  using lock = std::unique_lock<std::mutex>;
  struct packet {
    std::vector<std::byte> bytes;
    instant at;
  };

  // Clock and stack (plugin.cpp).
  void pump();
  void settle(lock& lk);
  void advance_to(lock& lk, instant t);
  // Sleeps until `ready()` or the virtual time reaches `until`; returns ready().
  bool wait(lock& lk, const std::function<bool()>& ready, instant until);
  // poll(2)'s and epoll_wait(2)'s timeout: `ready` once for 0, else waited for up to
  // `timeout_ms` (< 0: no limit).
  void wait_ms(lock& lk, const std::function<bool()>& ready, int timeout_ms);
  bool wait_events(lock& lk, int tfd, short events, instant until);
  [[nodiscard]] bool on_driver() const { return std::this_thread::get_id() == driver_; }
  [[nodiscard]] std::optional<instant> next_deadline() const;
  std::size_t take_packet(std::byte* out, std::size_t cap, instant& at);

  // Descriptors (plugin_calls.cpp).
  [[nodiscard]] std::optional<int> table_fd(int kfd) const;
  [[nodiscard]] bool table_fd_unlocked(int kfd);
  int new_kernel_fd(int tfd);
  [[nodiscard]] bool blocks(int tfd, int flags) const;
  [[nodiscard]] instant limit(int tfd, bool sending) const;
  ssize_t recv_locked(lock& lk, int tfd, mutable_bytes out, int flags);
  ssize_t recv_error_queue(int fd, msghdr* msg);
  ssize_t send_locked(lock& lk, int tfd, bytes data, int flags);
  // MSG_FASTOPEN (tcp_sendmsg_fastopen): connect with the data on the SYN; a blocking socket
  // then waits for the handshake and sends the rest.
  ssize_t send_fastopen(lock& lk, int tfd, bytes data, int flags, const sockaddr* addr, socklen_t alen);
  void trace(const char* fmt, ...) const;
  void refresh_fastopen();

  plugin_options opt_;
  std::mutex mu_;
  std::condition_variable changed_;  // the stack or the clock moved: sleepers look again
  std::condition_variable looked_;   // a sleeper looked, or a returner read the clock
  std::unique_ptr<host> host_;
  std::unique_ptr<posix::socket_table> table_;
  instant now_ = instant::zero();
  std::int64_t epoch_us_ = 0;  // gettimeofday at virtual time zero
  std::thread::id driver_;     // the thread that loaded the plug-in: packetdrill's main thread
  std::deque<packet> out_;
  std::map<int, int> fds_;  // kernel descriptor -> socket_table descriptor
  // epoll: each epoll descriptor is a real one too (of /dev/null), with its interest list by
  // watched kernel descriptor. EPOLLET reports an item again only after a new readiness edge
  // of its connection (host::poll_ready, counted in edges_ by pump) — for a listener, after
  // its poll mask changed; EPOLLONESHOT disarms it once reported, until EPOLL_CTL_MOD.
  struct epoll_item {
    std::uint32_t events = 0;
    std::uint64_t data = 0;
    bool armed = true;
    std::uint64_t reported = ~std::uint64_t{0};  // the edge count (or mask) reported last
  };
  std::map<int, std::map<int, epoll_item>> epolls_;
  std::map<std::uint64_t, std::uint64_t> edges_;  // connection (index << 32 | gen) -> edges seen
  [[nodiscard]] std::uint64_t edge_mark(int tfd, short mask) const;
  // Sleepers: how many, their deadlines, and the handshake with whoever moved things.
  int sleeping_ = 0;
  int to_look_ = 0;
  std::uint64_t generation_ = 0;
  std::multiset<instant> deadlines_;
  std::optional<std::thread::id> returner_;  // woke and returns: settle until it reads the clock
  alignas(8) std::vector<std::byte> buf_;
};

}  // namespace synack::packetdrill
