#pragma once
// The interface Google's packetdrill uses to test a stack loaded from a shared object
// (`packetdrill --so_filename=libsynack_packetdrill.so --so_flags=...`): it dlopen()s the
// object, calls packetdrill_interface_init(flags, &ifc), and from then on makes every socket
// call, sends every inbound packet and sniffs every outbound one through these pointers.
// Declared here from the interface's published description (synack includes no packetdrill
// code or header): userdata, then 32 function pointers in this order. Each call gets userdata
// first, then libc's arguments; it returns what libc returns and sets errno.
//   netdev_send     one inbound IPv4 packet (checksums filled in): 0, or -1
//   netdev_receive  one outbound packet into buf (*count: its size in, the length out) and
//                   the time it left the stack, on the gettimeofday clock: 0; -1 makes
//                   packetdrill call again at once
//   usleep, gettimeofday  the only clock packetdrill reads in this mode
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

extern "C" {

struct packetdrill_interface {
  void* userdata;
  void (*free)(void* userdata);
  int (*socket)(void* userdata, int domain, int type, int protocol);
  int (*bind)(void* userdata, int sockfd, const struct sockaddr* addr, socklen_t addrlen);
  int (*listen)(void* userdata, int sockfd, int backlog);
  int (*accept)(void* userdata, int sockfd, struct sockaddr* addr, socklen_t* addrlen);
  int (*connect)(void* userdata, int sockfd, const struct sockaddr* addr, socklen_t addrlen);
  ssize_t (*read)(void* userdata, int fd, void* buf, size_t count);
  ssize_t (*readv)(void* userdata, int fd, const struct iovec* iov, int iovcnt);
  ssize_t (*recv)(void* userdata, int sockfd, void* buf, size_t len, int flags);
  ssize_t (*recvfrom)(void* userdata, int sockfd, void* buf, size_t len, int flags, struct sockaddr* src_addr,
                      socklen_t* addrlen);
  ssize_t (*recvmsg)(void* userdata, int sockfd, struct msghdr* msg, int flags);
  ssize_t (*write)(void* userdata, int fd, const void* buf, size_t count);
  ssize_t (*writev)(void* userdata, int fd, const struct iovec* iov, int iovcnt);
  ssize_t (*send)(void* userdata, int sockfd, const void* buf, size_t len, int flags);
  ssize_t (*sendto)(void* userdata, int sockfd, const void* buf, size_t len, int flags,
                    const struct sockaddr* dest_addr, socklen_t addrlen);
  ssize_t (*sendmsg)(void* userdata, int sockfd, const struct msghdr* msg, int flags);
  int (*fcntl)(void* userdata, int fd, int cmd, ...);
  int (*ioctl)(void* userdata, int fd, unsigned long request, ...);
  int (*close)(void* userdata, int fd);
  int (*shutdown)(void* userdata, int sockfd, int how);
  int (*getsockopt)(void* userdata, int sockfd, int level, int optname, void* optval, socklen_t* optlen);
  int (*setsockopt)(void* userdata, int sockfd, int level, int optname, const void* optval, socklen_t optlen);
  int (*poll)(void* userdata, struct pollfd* fds, nfds_t nfds, int timeout);
  int (*netdev_send)(void* userdata, const void* buf, size_t count);
  int (*netdev_receive)(void* userdata, void* buf, size_t* count, long long* time_usecs);
  int (*usleep)(void* userdata, useconds_t usec);
  int (*gettimeofday)(void* userdata, struct timeval* tv, struct timezone* tz);
  int (*epoll_create)(void* userdata, int size);
  int (*epoll_ctl)(void* userdata, int epfd, int op, int fd, struct epoll_event* event);
  int (*epoll_wait)(void* userdata, int epfd, struct epoll_event* events, int maxevents, int timeout);
  int (*pipe)(void* userdata, int pipefd[2]);
  int (*splice)(void* userdata, int fd_in, loff_t* off_in, int fd_out, loff_t* off_out, size_t len,
                unsigned int flags);
};

// The one symbol the shared object exports.
using packetdrill_interface_init_t = void (*)(const char* flags, packetdrill_interface* ifc);
void packetdrill_interface_init(const char* flags, packetdrill_interface* ifc);

}  // extern "C"
