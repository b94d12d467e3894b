#pragma once
// The Linux ABI values of the socket API (x86-64 and aarch64 agree on all of them), so posix/
// needs no sys/socket.h (a sans-IO layer includes no system headers; DESIGN.md §1).
// tests/posix/constants_test.cpp checks each against the system headers. errno values come
// from <cerrno>.
#include <cstddef>
#include <cstdint>

namespace synack::posix {

// socket(2)
inline constexpr int af_unspec = 0;
inline constexpr int af_inet = 2;
inline constexpr int af_inet6 = 10;
inline constexpr int sock_stream = 1;
inline constexpr int sock_dgram = 2;
inline constexpr int sock_nonblock = 04000;
inline constexpr int sock_cloexec = 02000000;
inline constexpr int ipproto_tcp = 6;
inline constexpr int ipproto_udp = 17;

// shutdown(2)
inline constexpr int shut_rd = 0;
inline constexpr int shut_wr = 1;
inline constexpr int shut_rdwr = 2;

// send(2) / recv(2) flags
inline constexpr int msg_oob = 0x1;
inline constexpr int msg_peek = 0x2;
inline constexpr int msg_trunc = 0x20;  // recv: the datagram's real length; msg_flags: it was cut
inline constexpr int msg_dontwait = 0x40;
inline constexpr int msg_waitall = 0x100;
inline constexpr int msg_nosignal = 0x4000;
inline constexpr int msg_more = 0x8000;
inline constexpr int msg_fastopen = 0x20000000;  // RFC 7413: connect and send data on the SYN
inline constexpr int msg_errqueue = 0x2000;      // recv: read the socket's error queue
inline constexpr int msg_zerocopy = 0x4000000;   // send: completion reported on the error queue

// setsockopt(2) levels and options: socket(7), tcp(7)
inline constexpr int sol_socket = 1;
inline constexpr int so_reuseaddr = 2;
inline constexpr int so_type = 3;
inline constexpr int so_error = 4;
inline constexpr int so_sndbuf = 7;
inline constexpr int so_rcvbuf = 8;
inline constexpr int so_keepalive = 9;
inline constexpr int so_linger = 13;
inline constexpr int so_rcvtimeo = 20;  // SO_RCVTIMEO_OLD: a struct timeval of two longs
inline constexpr int so_sndtimeo = 21;  // SO_SNDTIMEO_OLD
inline constexpr int so_acceptconn = 30;
inline constexpr int so_zerocopy = 60;  // lets send() take MSG_ZEROCOPY
// SO_MEMINFO: an array of 9 u32 (SK_MEMINFO_VARS), as sk_get_meminfo() fills it.
inline constexpr int so_meminfo = 55;
inline constexpr std::size_t sk_meminfo_vars = 9;
inline constexpr int tcp_nodelay = 1;
inline constexpr int tcp_maxseg = 2;
inline constexpr int tcp_keepidle = 4;
inline constexpr int tcp_keepintvl = 5;
inline constexpr int tcp_keepcnt = 6;
inline constexpr int tcp_user_timeout = 18;
inline constexpr int tcp_cork = 3;
inline constexpr int tcp_syncnt = 7;
inline constexpr int tcp_info = 11;
inline constexpr int tcp_cc_info = 26;  // the congestion control's own info (none for Reno and CUBIC)
inline constexpr int tcp_notsent_lowat = 25;
inline constexpr int tcp_inq = 36;     // TCP_INQ, also the cmsg type TCP_CM_INQ
inline constexpr int tcp_fastopen = 23;          // a listener's TFO queue length (RFC 7413 §5.1)
inline constexpr int tcp_fastopen_connect = 30;  // connect() defers the SYN to the first write
inline constexpr int tcp_fastopen_key = 33;      // the listener's cookie key (16 octets)
inline constexpr int tcp_fastopen_no_cookie = 34;  // Fast Open without cookies, this socket (0 or 1)
// net.ipv4.tcp_fastopen bits (Linux's TFO_CLIENT_ENABLE, TFO_SERVER_ENABLE,
// TFO_CLIENT_NO_COOKIE, TFO_SERVER_COOKIE_NOT_REQD, TFO_SERVER_WO_SOCKOPT1); its default is
// the client bit alone. The no-cookie bits act only with their side's enable bit.
inline constexpr int tfo_client_enable = 0x1;
inline constexpr int tfo_server_enable = 0x2;
inline constexpr int tfo_client_no_cookie = 0x4;          // SYN data without a cookie option
inline constexpr int tfo_server_cookie_not_reqd = 0x200;  // SYN data taken without a cookie
inline constexpr int tfo_server_wo_sockopt = 0x400;
inline constexpr int ipproto_ip = 0;   // SOL_IP
inline constexpr int ip_tos = 1;
inline constexpr int ipproto_ipv6 = 41;  // SOL_IPV6
inline constexpr int ip_recverr = 11;    // the cmsg type of an error-queue entry, IPv4
inline constexpr int ipv6_recverr = 25;  // and IPv6
inline constexpr int ipv6_v6only = 26;
inline constexpr int ipv6_tclass = 67;

// synack's own options, at a level of its own (no Linux value: constants_test.cpp does not
// check them). SYNACK_ANY_ADDRESS, an int taken as a boolean, in the spirit of Linux's
// IP_TRANSPARENT with TPROXY: set before listen(), the socket takes connections to any
// destination address routed into the host, not only to the host's own (host::listen_any,
// issue #15). Bound to a port with bind(), it takes that port; otherwise every port (listen()
// picks none, and getsockname on it shows port 0). getsockname on an accepted socket returns
// the original destination. One such socket per family; a second listen() is EADDRINUSE.
inline constexpr int sol_synack = 0x73796e;  // "syn"
inline constexpr int synack_any_address = 1;

// ioctl(2) on a TCP socket (tcp(7)): SIOCINQ is FIONREAD, SIOCOUTQ is TIOCOUTQ.
inline constexpr unsigned long siocinq = 0x541B;
inline constexpr unsigned long siocoutq = 0x5411;
inline constexpr unsigned long siocoutqnsd = 0x894B;

// poll(2) events
inline constexpr short pollin = 0x001;
inline constexpr short pollpri = 0x002;
inline constexpr short pollout = 0x004;
inline constexpr short pollerr = 0x008;
inline constexpr short pollhup = 0x010;
inline constexpr short pollnval = 0x020;
inline constexpr short pollrdnorm = 0x040;
inline constexpr short pollwrnorm = 0x100;
inline constexpr short pollrdhup = 0x2000;

// struct sock_extended_err (linux/errqueue.h): one error-queue entry. A MSG_ZEROCOPY
// completion has origin SO_EE_ORIGIN_ZEROCOPY and the range of send calls it completes in
// ee_info (first) and ee_data (last); ee_code SO_EE_CODE_ZEROCOPY_COPIED says the data was
// copied (always so in synack, which owns every octet it sends).
struct sock_extended_err_data {
  std::uint32_t ee_errno = 0;
  std::uint8_t ee_origin = 0;
  std::uint8_t ee_type = 0;
  std::uint8_t ee_code = 0;
  std::uint8_t ee_pad = 0;
  std::uint32_t ee_info = 0;
  std::uint32_t ee_data = 0;
};
inline constexpr std::uint8_t so_ee_origin_zerocopy = 5;
inline constexpr std::uint8_t so_ee_code_zerocopy_copied = 1;

// Same layout as struct linger and struct pollfd.
struct linger_opt {
  int l_onoff = 0;
  int l_linger = 0;
};
// struct timeval of SO_RCVTIMEO / SO_SNDTIMEO on a 64-bit Linux (time_t and suseconds_t are
// both 64-bit longs).
struct timeval_opt {
  std::int64_t tv_sec = 0;
  std::int64_t tv_usec = 0;
};
struct poll_fd {
  int fd = -1;
  short events = 0;
  short revents = 0;
};

}  // namespace synack::posix
