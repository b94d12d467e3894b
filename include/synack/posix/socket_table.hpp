#pragma once
// posix/: BSD-socket semantics over one synack::host — small-integer descriptors, the socket
// state machine of Linux (socket.state SS_UNCONNECTED / CONNECTING / CONNECTED beside the TCP
// state), and the errno each call returns in each state, as Linux returns it (man 2 connect,
// man 7 socket, man 7 tcp; checked against the kernel: see docs/architecture.md).
//
// Sans-IO like stack/: no syscalls, no clock, no errno global. Every call returns
// sys_result<T> = result<T, int>, the error being a Linux errno value (ECONNREFUSED, EAGAIN
// ...). Time enters as `now` in the calls that can put something on the wire.
//
// No call ever blocks: where a blocking Linux socket would sleep, the call answers as a
// non-blocking one does (EINPROGRESS, EAGAIN) whatever O_NONBLOCK says, and the caller waits
// — runtime::blocking_sockets runs the event loop until poll() says the call can complete and
// calls again. The O_NONBLOCK flag is kept for such callers (nonblocking()).
//
// The table reads connection state through the host (host::find, accept_queue_len); it
// consumes no host events, so an event loop may drive the same host.
//
// SOCK_DGRAM sockets (man 7 udp; socket_dgram.cpp) sit on the host's UDP bindings: the table is
// their udp_handler, so the host hands it their datagrams (queued per socket, bounded by
// SO_RCVBUF) and the ICMP errors quoting what they sent, from inside on_packet. The table
// registers itself with the host: it is neither copied nor moved.
#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "synack/posix/constants.hpp"
#include "synack/posix/tcp_info.hpp"
#include "synack/stack/host.hpp"
#include "synack/util/result.hpp"

namespace synack::posix {

// A call's result: the value, or a Linux errno value.
template <class T>
using sys_result = result<T, int>;

// Linux's icmp_err_convert (net/ipv4/icmp.c): the errno of an ICMP error a socket reports
// (EHOSTUNREACH for time exceeded).
[[nodiscard]] int icmp_errno(const icmp_report& r);

// struct sockaddr_in or sockaddr_in6, decoded. A family other than the socket's gives
// EAFNOSUPPORT. An AF_INET6 address holds an IPv6 `addr` (an IPv4 peer of a dual-stack socket
// as ::ffff:a.b.c.d); `scope_id` is sin6_scope_id: a link-local address's is the host's link
// (host_config::link_index), any other address's is 0.
struct sock_addr {
  ip_addr addr;
  std::uint16_t port = 0;
  int family = af_inet;
  std::uint32_t scope_id = 0;
  friend bool operator==(const sock_addr&, const sock_addr&) = default;
};

struct accepted {
  int fd = -1;
  sock_addr peer;
};

// What recvfrom / recvmsg return: the length (with MSG_TRUNC in flags, a datagram's real
// length), the source (a datagram's; none on a stream socket, as Linux leaves msg_name
// empty), and msg_flags (MSG_TRUNC when a datagram did not fit).
struct received {
  std::size_t len = 0;
  std::optional<sock_addr> from;
  int msg_flags = 0;
};

// Linux defaults and limits the table mirrors (net.core.somaxconn, rmem_default, wmem_default,
// rmem_max, wmem_max; SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF as getsockopt reports them;
// TCP_MIN_MSS and MAX_TCP_WINDOW bound TCP_MAXSEG; 536 is the MSS reported before a
// connection has one).
struct limits {
  int somaxconn = 4096;
  int rmem_default = 212992;  // a datagram socket's SO_RCVBUF and SO_SNDBUF until set
  int wmem_default = 212992;
  int rmem_max = 212992;
  int wmem_max = 212992;
  int min_rcvbuf = 2304;
  int min_sndbuf = 4608;
  int min_user_mss = 88;
  int max_user_mss = 32767;
  int default_mss = 536;
};

// TCP_SYNCNT: as Linux, connect gives up when the timer expires after the `retries`-th SYN
// retransmission: the sum of retries + 1 doubling RTOs from rto_initial, each at most
// rto_max. DEVIATION(MUST-23): a user may so shorten the 3 minutes, as on Linux.
[[nodiscard]] duration syn_give_up_after(const tcp_config& c, int retries);
// The most SYN retransmissions that fit in c.syn_r2: getsockopt's TCP_SYNCNT when none was
// set (6 for the default 180 s, Linux's own default).
[[nodiscard]] int syn_retries_within(const tcp_config& c);

class socket_table final : private udp_handler {
 public:
  // Descriptors are the lowest free number from `first_fd` (3: after stdin, stdout, stderr).
  explicit socket_table(host& h, int first_fd = 3, std::size_t max_sockets = 1024);
  ~socket_table() override;
  socket_table(const socket_table&) = delete;
  socket_table& operator=(const socket_table&) = delete;

  // ---- the calls ---------------------------------------------------------------------------
  sys_result<int> socket(int domain, int type, int protocol);
  sys_result<void> bind(int fd, sock_addr a);
  sys_result<void> listen(int fd, int backlog);
  // flags: sock_nonblock for the new descriptor (accept4).
  sys_result<accepted> accept(int fd, int flags = 0);
  sys_result<void> connect(instant now, int fd, sock_addr a);
  sys_result<std::size_t> send(int fd, bytes data, int flags = 0);
  // sendto / sendmsg: with MSG_FASTOPEN on an unconnected socket, connect to `to` with TCP
  // Fast Open (RFC 7413): the SYN carries the cached cookie and what of `data` fits (returned),
  // or a cookie request and none of it (EINPROGRESS). Otherwise `to` is ignored, as Linux
  // ignores it on a connected TCP socket. On a datagram socket `to` is the destination (the
  // connected peer's when nullopt).
  sys_result<std::size_t> sendto(instant now, int fd, bytes data, int flags, const std::optional<sock_addr>& to);
  // sendmsg: the buffers sent as one (one datagram on a datagram socket).
  sys_result<std::size_t> sendmsg(instant now, int fd, std::span<const bytes> iov, int flags,
                                  const std::optional<sock_addr>& to);
  sys_result<std::size_t> recv(int fd, mutable_bytes out, int flags = 0);
  // recvfrom / recvmsg: one datagram per call on a datagram socket, its source filled in;
  // on a stream socket what recv reads.
  sys_result<received> recvfrom(int fd, mutable_bytes out, int flags = 0);
  sys_result<received> recvmsg(int fd, std::span<const mutable_bytes> iov, int flags = 0);
  sys_result<std::size_t> write(int fd, bytes data) { return send(fd, data, 0); }
  sys_result<std::size_t> read(int fd, mutable_bytes out) { return recv(fd, out, 0); }
  sys_result<void> shutdown(instant now, int fd, int how);
  sys_result<void> close(instant now, int fd);
  // Fills revents (POLLNVAL for a descriptor not open; negative fds are skipped) and returns
  // how many entries have any. Never waits.
  int poll(std::span<poll_fd> fds);
  sys_result<void> setsockopt(instant now, int fd, int level, int name, bytes value);
  // Writes at most out.size() octets of the value (Linux truncates) and returns how many.
  sys_result<std::size_t> getsockopt(int fd, int level, int name, mutable_bytes out);
  // ioctl(SIOCINQ / SIOCOUTQ / SIOCOUTQNSD) on a TCP socket: the int value it writes.
  sys_result<int> ioctl(int fd, unsigned long request);
  // recvmsg(MSG_ERRQUEUE): the oldest entry of the error queue, taken (EAGAIN: empty), and the
  // control message level and type it comes as (SOL_IP / IP_RECVERR, or SOL_IPV6 /
  // IPV6_RECVERR on an AF_INET6 socket); its data is the entry followed by a zeroed offender
  // address (no offender for a MSG_ZEROCOPY completion).
  struct queued_error {
    sock_extended_err_data err;
    int cmsg_level = ipproto_ip;
    int cmsg_type = ip_recverr;
  };
  sys_result<queued_error> recv_error(int fd);
  // With TCP_INQ on: the octets left to read (tcp_inq_hint), for the TCP_CM_INQ control
  // message a recvmsg adds; nullopt when TCP_INQ is off.
  sys_result<std::optional<int>> inq_hint(int fd);
  sys_result<sock_addr> getsockname(int fd);
  sys_result<sock_addr> getpeername(int fd);
  // fcntl(F_GETFL / F_SETFL, O_NONBLOCK).
  sys_result<bool> nonblocking(int fd) const;
  sys_result<void> set_nonblocking(int fd, bool on);

  // ---- queries -----------------------------------------------------------------------------
  // What poll would report for `fd` (POLLNVAL if not open), before masking with events.
  [[nodiscard]] short revents(int fd);
  [[nodiscard]] std::size_t open_count() const;
  [[nodiscard]] std::optional<conn_handle> connection_of(int fd) const;
  // SO_RCVTIMEO / SO_SNDTIMEO, for runtime::blocking_sockets: how long a blocking call may
  // wait. nullopt: for ever (none set, or {0, 0}); zero: not at all (a negative tv_sec, as
  // Linux takes it). recv and accept wait by the first, send and connect by the second.
  [[nodiscard]] sys_result<std::optional<duration>> recv_timeout(int fd) const;
  [[nodiscard]] sys_result<std::optional<duration>> send_timeout(int fd) const;
  // A datagram socket's datagrams dropped because its receive queue was full (sk_drops, the
  // "drops" column of /proc/net/udp); EBADF for a descriptor not open, 0 on a stream socket.
  [[nodiscard]] sys_result<std::uint64_t> drops(int fd) const;
  // Those of every datagram socket of the table, closed ones included (UDP_MIB_RCVBUFERRORS,
  // netstat -su's "receive buffer errors").
  [[nodiscard]] std::uint64_t rcvbuf_errors() const { return rcvbuf_errors_; }
  [[nodiscard]] const limits& lim() const { return lim_; }
  // The options a new socket starts from (host_config::tcp until set): a driver that follows
  // the system's settings (the packetdrill plug-in) changes them between sockets.
  void set_defaults(const tcp_config& c) { defaults_ = c; }
  // net.ipv4.tcp_fastopen (tfo_* bits; Linux's default 1: client only), for a driver that
  // follows the system's settings.
  void set_fast_open_sysctl(int bits) { fastopen_sysctl_ = bits; }
  [[nodiscard]] host& stack() { return host_; }

 private:
  // Linux's socket.state: the BSD layer's view, next to the TCP state.
  enum class sock_state : std::uint8_t { unconnected, connecting, connected, disconnecting };
  static constexpr std::uint8_t rcv_shutdown = 1;   // RCV_SHUTDOWN
  static constexpr std::uint8_t send_shutdown = 2;  // SEND_SHUTDOWN
  static constexpr std::uint8_t shutdown_mask = 3;

  // A received datagram as the socket shows it.
  struct datagram {
    sock_addr from;
    std::vector<std::byte> data;  // its capacity kept when the slot is reused
  };
  // A SOCK_DGRAM socket's own state.
  struct dgram_state {
    std::array<std::optional<udp_handle>, 2> bind;  // the host's bindings: [0] IPv4, [1] IPv6
    std::vector<datagram> ring;  // the receive queue: `len` slots from `head`
    std::size_t head = 0;
    std::size_t len = 0;
    std::size_t charged = 0;  // sk_rmem_alloc: what the queued datagrams are charged
    std::uint64_t drops = 0;  // sk_drops
  };

  struct sock {
    bool open = false;
    int type = sock_stream;  // SOCK_STREAM or SOCK_DGRAM
    bool nonblock = false;
    sock_state st = sock_state::unconnected;
    bool bound = false;       // has a local port (inet_num != 0)
    bool port_locked = false;  // bound by bind() to a given port (SOCK_BINDPORT_LOCK)
    int domain = af_inet;  // AF_INET or AF_INET6
    bool v6only = false;   // IPV6_V6ONLY (net.ipv6.bindv6only = 0: off)
    bool any_address = false;  // SYNACK_ANY_ADDRESS: listen() makes an any-address listener
    ip_addr laddr;         // as bound (0.0.0.0 or :: for any), or the connection's
    std::uint16_t lport = 0;
    std::optional<listener_handle> listener;
    std::optional<conn_handle> conn;
    sock_addr peer;
    tcp_config cfg;  // options given by setsockopt, handed to the connection
    bool reuse = false;
    linger_opt linger;
    std::optional<duration> rcvtimeo;  // sk_rcvtimeo: nullopt is MAX_SCHEDULE_TIMEOUT
    std::optional<duration> sndtimeo;  // sk_sndtimeo
    int user_mss = 0;  // TCP_MAXSEG (0: none)
    int syn_retries = 0;            // TCP_SYNCNT (0: none, the stack's SYN R2 applies)
    std::uint32_t notsent_lowat = 0;  // TCP_NOTSENT_LOWAT (0: none)
    bool inq = false;               // TCP_INQ
    int fastopen_qlen = 0;          // TCP_FASTOPEN (a listener's; 0: none)
    bool fastopen_connect = false;  // TCP_FASTOPEN_CONNECT
    bool fastopen_no_cookie = false;  // TCP_FASTOPEN_NO_COOKIE
    int rcvbuf = 0;    // as getsockopt reports them (twice the buffer, like Linux)
    int sndbuf = 0;
    int err = 0;              // sk_err: pending error, taken by SO_ERROR or by a call
    std::uint8_t shut = 0;    // sk_shutdown
    bool done = false;        // SOCK_DONE: the peer's FIN arrived
    bool close_seen = false;  // the connection's end has been turned into err / shut
    dgram_state dg;           // SOCK_DGRAM only
    // SO_ZEROCOPY and MSG_ZEROCOPY (msg_zerocopy.rst): each send call that queued data gets
    // the next id (sk_zckey); it completes once all its octets are acknowledged (bytes_acked
    // reaches `end`) or the connection is gone, and completions of consecutive ids merge
    // into one error-queue entry, as Linux's skb_zerocopy_notify_extend merges them.
    bool zerocopy = false;
    std::uint32_t zc_key = 0;
    struct zc_send {
      std::uint32_t end = 0;  // bytes_acked at completion, modulo 2^32 (it wraps: compared as sequence numbers)
      std::uint32_t id = 0;
    };
    struct zc_range {
      std::uint32_t lo = 0;
      std::uint32_t hi = 0;
    };
    std::vector<zc_send> zc_pending;
    std::vector<zc_range> zc_done;  // the error queue
  };

  sock* get(int fd);
  const sock* get(int fd) const;
  // Folds what the connection did since the last call into err / shut (tcp_fin, tcp_done).
  void sync(sock& s);
  [[nodiscard]] int close_errno(const sock& s, const conn_status& c) const;
  // The TCP state as Linux's socket sees it: a user's socket in TIME-WAIT is already CLOSE.
  [[nodiscard]] tcp_state kstate(const sock& s) const;
  static int take_err(sock& s);
  // MSG_ZEROCOPY: moves the sends whose octets are all acknowledged to the error queue.
  void zerocopy_reap(sock& s);
  // Puts send `id`'s completion on the error queue, merged with the last entry if it follows it.
  static void zerocopy_done(sock& s, std::uint32_t id);
  // Releases the connection and returns to an unconnected socket (tcp_disconnect).
  void disconnect(instant now, sock& s, bool send_reset);
  void unbind_if_auto(sock& s);
  [[nodiscard]] bool port_conflict(const sock& me, std::uint16_t port) const;
  [[nodiscard]] static listen_family families(const sock& s);
  sys_result<void> listen_any(sock& s, int backlog);
  // An address of the stack as this socket's family shows it: v4-mapped on an AF_INET6 socket.
  [[nodiscard]] sock_addr as_seen_by(const sock& s, const ip_addr& a, std::uint16_t port) const;
  // The errno of a sin6_scope_id that does not name the host's link (0: fine).
  [[nodiscard]] int scope_error(const ip_addr& a, std::uint32_t scope_id, int missing_link) const;
  std::optional<std::uint16_t> pick_port(const sock& me);
  // The socket's options as its connection, or as its listener (`listening`), is to take them.
  [[nodiscard]] tcp_config connection_config(const sock& s, bool listening = false) const;
  // A client's Fast Open goes without cookies (TCP_FASTOPEN_NO_COOKIE, TFO_CLIENT_NO_COOKIE).
  [[nodiscard]] bool fast_open_no_cookie(const sock& s) const;
  void apply_live(instant now, sock& s);
  [[nodiscard]] short poll_mask(sock& s);
  sys_result<void> set_socket_level(instant now, sock& s, int name, bytes value);
  sys_result<void> set_tcp_level(instant now, sock& s, int name, bytes value);
  sys_result<int> get_int_option(sock& s, int level, int name);
  sys_result<int> get_tcp_int(sock& s, int name);
  [[nodiscard]] tcp_info_data info(sock& s);
  [[nodiscard]] std::array<std::uint32_t, sk_meminfo_vars> meminfo(sock& s);
  static sys_result<void> set_timeout(std::optional<duration>& t, bytes value);
  int alloc_fd();

  // ---- SOCK_DGRAM (socket_dgram.cpp) -------------------------------------------------------
  void on_datagram(instant now, const udp_datagram& d) override;
  void on_error(instant now, const udp_error& e) override;
  sock* dgram_of(udp_handle h);
  [[nodiscard]] int fd_of(const sock& s) const { return first_fd_ + static_cast<int>(&s - socks_.data()); }
  sys_result<void> dg_bind(sock& s, sock_addr a);
  // The host's bindings for address `want` and `port` (0: an ephemeral one); errno on failure.
  int dg_hash(sock& s, const ip_addr& want, std::uint16_t port);
  bool dg_try_port(sock& s, const ip_addr& want, std::uint16_t port, host_error& why);
  void dg_unhash(sock& s);
  sys_result<void> dg_autobind(sock& s);
  sys_result<void> dg_connect(sock& s, sock_addr a);
  void dg_disconnect(sock& s);
  sys_result<std::size_t> dg_send(sock& s, bytes data, int flags, const std::optional<sock_addr>& to);
  sys_result<received> dg_recv(sock& s, std::span<const mutable_bytes> iov, int flags);
  sys_result<void> dg_shutdown(sock& s, int how);
  [[nodiscard]] short dg_poll(const sock& s) const;
  [[nodiscard]] sock_addr dg_name(const sock& s) const;
  [[nodiscard]] sys_result<int> dg_ioctl(const sock& s, unsigned long request) const;
  std::vector<int> udp_fd_;  // by udp_handle index: the descriptor of the binding's socket
  std::uint32_t udp_port_cursor_ = 0;
  std::uint64_t rcvbuf_errors_ = 0;
  std::vector<std::byte> scratch_;  // sendmsg's gathered buffers, recvmsg's on a stream socket

  host& host_;
  int first_fd_;
  std::size_t max_sockets_;
  limits lim_;
  std::vector<sock> socks_;  // socks_[fd - first_fd_]
  std::bitset<65536> port_reuse_;  // SO_REUSEADDR of the socket that last bound each port
  std::uint32_t port_cursor_ = 0;
  std::optional<tcp_config> defaults_;
  int fastopen_sysctl_ = tfo_client_enable;
  // A connect of socket `s`, with Fast Open when `fast_open` (the SYN deferred when `defer`).
  sys_result<void> connect_to(instant now, sock& s, sock_addr a, bool fast_open, bool defer);
  [[nodiscard]] bool syn_deferred(const sock& s) const;
  // A Fast Open child in SYN-RECEIVED: readable and writable before the handshake's ACK
  // (tcp_poll's fastopen_rsk test; tcp_sendmsg does not wait for it).
  [[nodiscard]] bool fast_open_early(const sock& s, tcp_state k) const;
};

}  // namespace synack::posix
