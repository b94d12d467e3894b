// posix/constants.hpp holds Linux's values without including system headers (posix/ is
// sans-IO); here they are checked against the system headers themselves.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <gtest/gtest.h>

#include "synack/posix/constants.hpp"

namespace synack::posix {
namespace {

static_assert(af_unspec == AF_UNSPEC && af_inet == AF_INET && af_inet6 == AF_INET6);
static_assert(ipproto_ipv6 == IPPROTO_IPV6 && ipv6_v6only == IPV6_V6ONLY && ipv6_tclass == IPV6_TCLASS);
static_assert(sock_stream == SOCK_STREAM && sock_nonblock == SOCK_NONBLOCK && sock_cloexec == SOCK_CLOEXEC);
static_assert(ipproto_tcp == IPPROTO_TCP && sock_dgram == SOCK_DGRAM && ipproto_udp == IPPROTO_UDP);
static_assert(shut_rd == SHUT_RD && shut_wr == SHUT_WR && shut_rdwr == SHUT_RDWR);
static_assert(msg_oob == MSG_OOB && msg_peek == MSG_PEEK && msg_dontwait == MSG_DONTWAIT);
static_assert(msg_waitall == MSG_WAITALL && msg_nosignal == MSG_NOSIGNAL && msg_trunc == MSG_TRUNC);
static_assert(sol_socket == SOL_SOCKET && so_reuseaddr == SO_REUSEADDR && so_type == SO_TYPE);
static_assert(so_error == SO_ERROR && so_sndbuf == SO_SNDBUF && so_rcvbuf == SO_RCVBUF);
static_assert(so_keepalive == SO_KEEPALIVE && so_linger == SO_LINGER && so_acceptconn == SO_ACCEPTCONN);
static_assert(tcp_nodelay == TCP_NODELAY && tcp_maxseg == TCP_MAXSEG && tcp_keepidle == TCP_KEEPIDLE);
static_assert(tcp_keepintvl == TCP_KEEPINTVL && tcp_keepcnt == TCP_KEEPCNT);
static_assert(so_rcvtimeo == SO_RCVTIMEO && so_sndtimeo == SO_SNDTIMEO && tcp_user_timeout == TCP_USER_TIMEOUT);
static_assert(sizeof(timeval_opt) == sizeof(struct timeval) && offsetof(timeval_opt, tv_usec) == offsetof(struct timeval, tv_usec));
static_assert(sizeof(timeval_opt::tv_sec) == sizeof(timeval::tv_sec) && sizeof(timeval_opt::tv_usec) == sizeof(timeval::tv_usec));
static_assert(pollin == POLLIN && pollpri == POLLPRI && pollout == POLLOUT && pollerr == POLLERR);
static_assert(pollhup == POLLHUP && pollnval == POLLNVAL && pollrdnorm == POLLRDNORM);
static_assert(pollwrnorm == POLLWRNORM && pollrdhup == POLLRDHUP);
static_assert(sizeof(linger_opt) == sizeof(struct linger) && offsetof(linger_opt, l_linger) == offsetof(struct linger, l_linger));
static_assert(sizeof(poll_fd) == sizeof(struct pollfd) && offsetof(poll_fd, revents) == offsetof(struct pollfd, revents));

TEST(posix_constants, match_the_system_headers) { SUCCEED() << "checked at compile time"; }

}  // namespace
}  // namespace synack::posix
