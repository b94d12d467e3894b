// libsynack_packetdrill.so driven exactly as packetdrill drives it (--so_filename): dlopen,
// packetdrill_interface_init, then socket calls, inbound packets through netdev_send, outbound
// ones sniffed with netdev_receive and their times on the plug-in's gettimeofday clock, a
// blocking call on a second thread that the main thread releases with a packet, and the
// descriptors being real kernel ones.
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "packetdrill_interface.hpp"
#include "synack/posix/constants.hpp"
#include "synack/posix/tcp_info.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/tcp.hpp"

namespace synack {
namespace {

// packetdrill's dlopen flags; the sanitizers' runtime refuses RTLD_DEEPBIND (asan preset).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SYNACK_NO_DEEPBIND 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(SYNACK_NO_DEEPBIND)
constexpr int dlopen_flags = RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE;
#else
constexpr int dlopen_flags = RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE | RTLD_DEEPBIND;
#endif

constexpr ipv4_addr local = ipv4_addr::from_octets(192, 168, 0, 1);
constexpr ipv4_addr remote = ipv4_addr::from_octets(192, 0, 2, 1);
constexpr std::uint16_t remote_port = 40000;

// Is thread `tid` asleep in the kernel (state S in /proc), as packetdrill checks?
bool sleeping(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const auto close_paren = stat.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < stat.size() && stat[close_paren + 2] == 'S';
}

class plugin_test : public ::testing::Test {
 protected:
  void SetUp() override {
    handle_ = dlopen(SYNACK_PACKETDRILL_SO, dlopen_flags);
    ASSERT_NE(handle_, nullptr) << dlerror();
    auto init = reinterpret_cast<packetdrill_interface_init_t>(dlsym(handle_, "packetdrill_interface_init"));
    ASSERT_NE(init, nullptr);
    init("linux", &ifc_);
    ud_ = ifc_.userdata;
    start_ = now_us();
  }
  void TearDown() override {
    if (ifc_.free != nullptr) ifc_.free(ud_);
    if (handle_ != nullptr) dlclose(handle_);
  }

  long long now_us() {
    timeval tv{};
    EXPECT_EQ(ifc_.gettimeofday(ud_, &tv, nullptr), 0);
    return static_cast<long long>(tv.tv_sec) * 1'000'000 + tv.tv_usec;
  }
  void inject(const tcp_repr& seg) {
    std::array<std::byte, 2048> buf{};
    ipv4_repr ip;
    ip.src = remote;
    ip.dst = local;
    ip.ttl = 64;
    const std::size_t n = emit_tcp_datagram(buf, ip, seg);
    ASSERT_EQ(ifc_.netdev_send(ud_, buf.data(), n), 0);
  }
  // The next outbound segment, its payload kept in `payload_`, its time since the start.
  tcp_repr sniff(long long* at_us = nullptr) {
    std::size_t len = packet_.size();
    long long t = 0;
    tcp_repr r;
    EXPECT_EQ(ifc_.netdev_receive(ud_, packet_.data(), &len, &t), 0);
    EXPECT_GT(len, 0u);
    if (len == 0) return r;
    auto ip = ipv4_view::parse(bytes{packet_.data(), len});
    EXPECT_TRUE(ip.has_value());
    EXPECT_EQ(ip->src(), local);
    EXPECT_EQ(ip->dst(), remote);
    auto v = tcp_view::parse(ip->payload());
    EXPECT_TRUE(v.has_value());
    EXPECT_FALSE(tcp_repr::parse(*v, ip->src(), ip->dst(), r).has_value()) << "checksums valid";
    if (at_us != nullptr) *at_us = t - start_;
    return r;
  }
  tcp_repr peer_segment(std::uint32_t seq, std::uint8_t flags, std::optional<seq_num> ack = std::nullopt) {
    tcp_repr s;
    s.src_port = remote_port;
    s.dst_port = 8080;
    s.seq = seq_num{seq};
    s.flags = flags;
    s.ack = ack;
    s.window = 257;
    return s;
  }
  // A listener on 192.168.0.1:8080 and a connection accepted from the peer (whose ISN is 0,
  // MSS 1000, window scale 7, no timestamps): returns the accepted descriptor and our ISS.
  std::pair<int, seq_num> establish() {
    const int l = ifc_.socket(ud_, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    EXPECT_GE(l, 0);
    const int one = 1;
    EXPECT_EQ(ifc_.setsockopt(ud_, l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(8080);
    a.sin_addr.s_addr = htonl(local.value);
    EXPECT_EQ(ifc_.bind(ud_, l, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(ifc_.listen(ud_, l, 1), 0);
    tcp_repr syn = peer_segment(0, tcp_flag::syn);
    syn.window = 32792;
    syn.options.mss = 1000;
    syn.options.window_scale = 7;
    inject(syn);
    const tcp_repr synack = sniff();
    EXPECT_TRUE(synack.syn());
    EXPECT_EQ(synack.ack, seq_num{1});
    EXPECT_EQ(synack.options.mss, 1460);
    EXPECT_EQ(synack.options.window_scale, 8) << "Linux's window scale for a 15 MiB tcp_rmem";
    inject(peer_segment(1, 0, synack.seq + seq_len{1}));
    sockaddr_in peer{};
    socklen_t plen = sizeof peer;
    const int fd = ifc_.accept(ud_, l, reinterpret_cast<sockaddr*>(&peer), &plen);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ntohs(peer.sin_port), remote_port);
    listener_ = l;
    return {fd, synack.seq + seq_len{1}};
  }

  void* handle_ = nullptr;
  packetdrill_interface ifc_{};
  void* ud_ = nullptr;
  long long start_ = 0;
  int listener_ = -1;
  std::vector<std::byte> packet_ = std::vector<std::byte>(70000);
};

TEST_F(plugin_test, handshake_data_tso_and_close_on_virtual_time) {
  auto [fd, snd] = establish();
  EXPECT_NE(::fcntl(fd, F_GETFD), -1) << "a real kernel descriptor";
  EXPECT_EQ(ifc_.fcntl(ud_, fd, F_GETFL, 0) & O_NONBLOCK, 0);

  // 1000 octets in: ACKed at once (Linux's quick-ACK mode at the start of a connection).
  const std::string in(1000, 'i');
  tcp_repr data = peer_segment(1, tcp_flag::psh, snd);
  data.payload = std::as_bytes(std::span{in.data(), in.size()});
  inject(data);
  int inq = -1;
  EXPECT_EQ(ifc_.ioctl(ud_, fd, FIONREAD, &inq), 0);
  EXPECT_EQ(inq, 1000);
  std::vector<char> buf(4000);
  EXPECT_EQ(ifc_.read(ud_, fd, buf.data(), buf.size()), 1000);
  const long long before = now_us() - start_;
  long long at = 0;
  const tcp_repr ack = sniff(&at);
  EXPECT_EQ(ack.ack, seq_num{1001});
  EXPECT_TRUE(ack.payload.empty());
  EXPECT_LE(at, before) << "quick ACK: sent when the data came";

  // 2500 octets out with MSS 1000: three segments at one instant, seen as one TSO packet.
  const std::string out(2500, 'o');
  EXPECT_EQ(ifc_.write(ud_, fd, out.data(), out.size()), 2500);
  const tcp_repr tso = sniff();
  EXPECT_EQ(tso.seq, snd);
  EXPECT_EQ(tso.payload.size(), 2500u);
  EXPECT_TRUE(tso.psh());
  inject(peer_segment(1001, 0, snd + seq_len{2500}));

  posix::tcp_info_data ti{};
  socklen_t len = sizeof ti;
  EXPECT_EQ(ifc_.getsockopt(ud_, fd, IPPROTO_TCP, posix::tcp_info, &ti, &len), 0);
  EXPECT_EQ(len, sizeof ti);
  EXPECT_EQ(ti.state, 1);  // TCP_ESTABLISHED
  EXPECT_EQ(ti.snd_mss, 1000u);
  EXPECT_EQ(ti.bytes_acked, 2500u);

  // An error as libc reports it.
  EXPECT_EQ(ifc_.write(ud_, fd, nullptr, 10), -1);
  EXPECT_EQ(errno, EFAULT);
  EXPECT_EQ(ifc_.listen(ud_, 999, 1), -1);
  EXPECT_EQ(errno, EBADF);

  // close: FIN, the peer's FIN-ACK, our last ACK.
  EXPECT_EQ(ifc_.close(ud_, fd), 0);
  const tcp_repr fin = sniff();
  EXPECT_TRUE(fin.fin());
  EXPECT_EQ(fin.seq, snd + seq_len{2500});
  inject(peer_segment(1001, tcp_flag::fin, fin.seq + seq_len{1}));
  const tcp_repr last = sniff();
  EXPECT_EQ(last.ack, seq_num{1002});
  EXPECT_FALSE(last.fin());
  EXPECT_EQ(ifc_.close(ud_, listener_), 0);
}

TEST_F(plugin_test, retransmission_found_by_moving_the_clock) {
  auto [fd, snd] = establish();
  const std::string out(100, 'o');
  long long first = 0;
  long long again = 0;
  EXPECT_EQ(ifc_.write(ud_, fd, out.data(), out.size()), 100);
  (void)sniff(&first);
  const tcp_repr rtx = sniff(&again);  // nothing queued: the clock goes to the RTO
  EXPECT_EQ(rtx.seq, snd);
  EXPECT_EQ(rtx.payload.size(), 100u);
  EXPECT_GE(again - first, 200'000) << "no sooner than Linux's RTO minimum";
  EXPECT_LE(again - first, 1'000'000);
}

// packetdrill's `0...0.1 read(...)`: the read blocks on a second thread; the main thread sees
// it asleep, moves the clock 100 ms, injects data; the read returns at that virtual time.
TEST_F(plugin_test, blocking_read_on_a_second_thread) {
  auto [fd, snd] = establish();
  std::atomic<pid_t> tid{0};
  std::atomic<long long> returned_at{0};
  std::atomic<ssize_t> got{-2};
  std::thread reader([&, fd = fd] {
    tid = static_cast<pid_t>(::gettid());
    std::vector<char> buf(2000);
    got = ifc_.read(ud_, fd, buf.data(), buf.size());
    returned_at = now_us() - start_;  // packetdrill's end_syscall reads the clock at once
  });
  while (tid == 0 || !sleeping(tid)) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(got.load(), -2) << "still blocked";
  const long long t0 = now_us() - start_;
  ASSERT_EQ(ifc_.usleep(ud_, 100'000), 0);
  const std::string in(700, 'x');
  tcp_repr data = peer_segment(1, tcp_flag::psh, snd);
  data.payload = std::as_bytes(std::span{in.data(), in.size()});
  inject(data);
  reader.join();
  EXPECT_EQ(got.load(), 700);
  EXPECT_NEAR(static_cast<double>(returned_at.load() - t0), 100'000.0, 50.0);
  EXPECT_EQ(sniff().ack, seq_num{701});

  // A blocking connect on the second thread: the SYN goes out while it sleeps.
  const int c = ifc_.socket(ud_, AF_INET, SOCK_STREAM, 0);
  std::atomic<int> rc{-2};
  tid = 0;
  std::thread connector([&] {
    tid = static_cast<pid_t>(::gettid());
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(9090);
    a.sin_addr.s_addr = htonl(remote.value);
    rc = ifc_.connect(ud_, c, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    (void)now_us();
  });
  while (tid == 0 || !sleeping(tid)) std::this_thread::yield();
  const tcp_repr syn = sniff();
  ASSERT_TRUE(syn.syn());
  EXPECT_EQ(syn.options.window_scale, 8);
  EXPECT_TRUE(syn.options.timestamps.has_value());
  tcp_repr synack;
  synack.src_port = 9090;
  synack.dst_port = syn.src_port;
  synack.seq = seq_num{5000};
  synack.ack = syn.seq + seq_len{1};
  synack.flags = tcp_flag::syn;
  synack.window = 5792;
  synack.options.mss = 1460;
  inject(synack);
  connector.join();
  EXPECT_EQ(rc.load(), 0);
  EXPECT_EQ(sniff().ack, seq_num{5001});
}

}  // namespace
}  // namespace synack
namespace synack {
namespace {
// The third duplicate ACK sends the fast retransmission at once, though nothing new is left
// to send (a stack bug: the host was not told the connection had output, so it went out
// with the RTO).
TEST_F(plugin_test, fast_retransmit_on_the_third_duplicate_ack) {
  auto [fd, snd] = establish();
  const std::string out(4000, 'o');
  EXPECT_EQ(ifc_.write(ud_, fd, out.data(), out.size()), 4000);
  const tcp_repr first = sniff();
  EXPECT_EQ(first.payload.size(), 4000u);
  long long t0 = now_us() - start_;
  ASSERT_EQ(ifc_.usleep(ud_, 100'000), 0);
  for (int i = 0; i < 3; ++i) inject(peer_segment(1, 0, snd));
  long long at = 0;
  const tcp_repr rtx = sniff(&at);
  EXPECT_EQ(rtx.seq, snd);
  EXPECT_NEAR(static_cast<double>(at - t0), 100'000.0, 100.0);
}

// epoll through the interface, as packetdrill's epoll_* lines call it: level-triggered items
// report while ready; EPOLLET ones once per readiness edge of the connection (here: the peer's
// data arriving); EPOLLONESHOT ones once until EPOLL_CTL_MOD; misuse gets Linux's errno.
TEST_F(plugin_test, epoll_level_edge_and_oneshot) {
  auto [fd, snd] = establish();
  const int ep = ifc_.epoll_create(ud_, 1);
  ASSERT_GE(ep, 0);
  EXPECT_NE(::fcntl(ep, F_GETFD), -1) << "a real kernel descriptor";
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = fd;
  ASSERT_EQ(ifc_.epoll_ctl(ud_, ep, EPOLL_CTL_ADD, fd, &ev), 0);
  EXPECT_EQ(ifc_.epoll_ctl(ud_, ep, EPOLL_CTL_ADD, fd, &ev), -1);
  EXPECT_EQ(errno, EEXIST);
  epoll_event got[4]{};
  EXPECT_EQ(ifc_.epoll_wait(ud_, ep, got, 4, 0), 0) << "nothing to read yet";
  tcp_repr data = peer_segment(1, tcp_flag::psh, snd);
  data.payload = bytes{reinterpret_cast<const std::byte*>("hello"), 5};
  inject(data);
  ASSERT_EQ(ifc_.epoll_wait(ud_, ep, got, 4, 0), 1);
  EXPECT_EQ(got[0].events, std::uint32_t{EPOLLIN});
  EXPECT_EQ(got[0].data.fd, fd);
  EXPECT_EQ(ifc_.epoll_wait(ud_, ep, got, 4, 0), 0) << "EPOLLET: reported once per edge";
  tcp_repr more = peer_segment(6, tcp_flag::psh, snd);
  more.payload = bytes{reinterpret_cast<const std::byte*>("again"), 5};
  inject(more);
  EXPECT_EQ(ifc_.epoll_wait(ud_, ep, got, 4, 0), 1) << "new data, a new edge";
  // Level-triggered: reported while the data waits.
  ev.events = EPOLLIN;
  ASSERT_EQ(ifc_.epoll_ctl(ud_, ep, EPOLL_CTL_MOD, fd, &ev), 0);
  EXPECT_EQ(ifc_.epoll_wait(ud_, ep, got, 4, 0), 1);
  EXPECT_EQ(ifc_.epoll_wait(ud_, ep, got, 4, 0), 1);
  // One-shot: once, then again only after EPOLL_CTL_MOD re-arms it.
  ev.events = EPOLLIN | EPOLLONESHOT;
  ASSERT_EQ(ifc_.epoll_ctl(ud_, ep, EPOLL_CTL_MOD, fd, &ev), 0);
  EXPECT_EQ(ifc_.epoll_wait(ud_, ep, got, 4, 0), 1);
  EXPECT_EQ(ifc_.epoll_wait(ud_, ep, got, 4, 0), 0);
  ASSERT_EQ(ifc_.epoll_ctl(ud_, ep, EPOLL_CTL_MOD, fd, &ev), 0);
  EXPECT_EQ(ifc_.epoll_wait(ud_, ep, got, 4, 0), 1);
  // Misuse.
  EXPECT_EQ(ifc_.epoll_wait(ud_, ep, got, 0, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ifc_.epoll_wait(ud_, fd, got, 4, 0), -1) << "not an epoll descriptor";
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(ifc_.epoll_ctl(ud_, ep, EPOLL_CTL_ADD, ep, &ev), -1);
  EXPECT_EQ(errno, EINVAL);
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(ifc_.epoll_ctl(ud_, ep, EPOLL_CTL_ADD, devnull, &ev), -1) << "not one of the plug-in's sockets";
  EXPECT_EQ(errno, EPERM);
  ::close(devnull);
  EXPECT_EQ(ifc_.epoll_create(ud_, 0), -1);
  EXPECT_EQ(errno, EINVAL);
  // A closed socket leaves the set (its descriptor is gone: nothing is left to report).
  EXPECT_EQ(ifc_.close(ud_, fd), 0);
  EXPECT_EQ(ifc_.epoll_wait(ud_, ep, got, 4, 0), 0);
  EXPECT_EQ(ifc_.close(ud_, ep), 0);
}

// The plug-in's own getsockopt() (preload.cpp), which packetdrill reaches when the plug-in is
// preloaded: it answers TCP_INFO, TCP_CC_INFO and SO_MEMINFO for a descriptor the plug-in
// made, as the interface's getsockopt does, and hands any other descriptor to libc.
TEST_F(plugin_test, preloaded_getsockopt_answers_for_the_plugins_descriptors) {
  using getsockopt_fn = int (*)(int, int, int, void*, socklen_t*);
  auto own = reinterpret_cast<getsockopt_fn>(dlsym(handle_, "getsockopt"));
  ASSERT_NE(own, nullptr) << "the plug-in exports getsockopt";
  ASSERT_NE(reinterpret_cast<void*>(own), reinterpret_cast<void*>(&::getsockopt)) << "not libc's";
  auto [fd, snd] = establish();
  posix::tcp_info_data ti{};
  socklen_t len = sizeof ti;
  ASSERT_EQ(own(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
  EXPECT_EQ(len, 280u) << "Linux 6.18's struct tcp_info";
  EXPECT_EQ(ti.state, 1) << "TCP_ESTABLISHED";
  EXPECT_EQ(ti.snd_mss, 1000u);
  posix::tcp_info_data via{};
  socklen_t vlen = sizeof via;
  ASSERT_EQ(ifc_.getsockopt(ud_, fd, IPPROTO_TCP, TCP_INFO, &via, &vlen), 0);
  EXPECT_EQ(vlen, len);
  EXPECT_EQ(via.snd_cwnd, ti.snd_cwnd);
  std::array<std::byte, 64> cc{};
  len = sizeof cc;
  ASSERT_EQ(own(fd, IPPROTO_TCP, posix::tcp_cc_info, cc.data(), &len), 0);
  EXPECT_EQ(len, 0u);
  std::array<std::uint32_t, posix::sk_meminfo_vars> mem{};
  len = sizeof mem;
  ASSERT_EQ(own(fd, SOL_SOCKET, posix::so_meminfo, mem.data(), &len), 0);
  EXPECT_EQ(len, sizeof mem);
  EXPECT_GT(mem[1], 0u) << "rcvbuf";
  // Another descriptor goes to the kernel: a real socket answers, /dev/null is no socket.
  const int k = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(k, 0);
  int type = 0;
  len = sizeof type;
  EXPECT_EQ(own(k, SOL_SOCKET, SO_TYPE, &type, &len), 0);
  EXPECT_EQ(type, SOCK_STREAM);
  ::close(k);
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  len = sizeof type;
  errno = 0;
  EXPECT_EQ(own(devnull, SOL_SOCKET, SO_TYPE, &type, &len), -1);
  EXPECT_EQ(errno, ENOTSOCK);
  ::close(devnull);
}

// run_all.py's IPv6 variant: the plug-in takes its IPv6 address from its flags (local_ip=), and
// an AF_INET6 connect leaves as an IPv6 SYN from it, its MSS the MTU less 60.
TEST(plugin_ipv6, local_ip_flag_gives_the_host_its_ipv6_address) {
  void* handle = dlopen(SYNACK_PACKETDRILL_SO, dlopen_flags);
  ASSERT_NE(handle, nullptr) << dlerror();
  auto init = reinterpret_cast<packetdrill_interface_init_t>(dlsym(handle, "packetdrill_interface_init"));
  ASSERT_NE(init, nullptr);
  packetdrill_interface ifc{};
  init("linux local_ip=fd3d:a0b:17d6::1 mtu=1520", &ifc);
  void* ud = ifc.userdata;
  const auto me = ipv6_addr::parse("fd3d:a0b:17d6::1");
  const auto peer = ipv6_addr::parse("fd3d:fa7b:d17d::1");
  ASSERT_TRUE(me && peer);
  const int fd = ifc.socket(ud, AF_INET6, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_GE(fd, 0);
  const int flags = ifc.fcntl(ud, fd, F_GETFL, 0);
  ASSERT_EQ(ifc.fcntl(ud, fd, F_SETFL, flags | O_NONBLOCK), 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(8080);
  std::memcpy(&a.sin6_addr, peer->octets.data(), 16);
  errno = 0;
  EXPECT_EQ(ifc.connect(ud, fd, reinterpret_cast<const sockaddr*>(&a), sizeof a), -1);
  EXPECT_EQ(errno, EINPROGRESS);
  std::array<std::byte, 2048> packet{};
  std::size_t len = packet.size();
  long long t = 0;
  ASSERT_EQ(ifc.netdev_receive(ud, packet.data(), &len, &t), 0);
  auto ip = ipv6_view::parse(bytes{packet.data(), len});
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip->src(), *me);
  EXPECT_EQ(ip->dst(), *peer);
  EXPECT_EQ(ip->next_header(), 6);
  auto v = tcp_view::parse(ip->payload());
  ASSERT_TRUE(v.has_value());
  tcp_repr r;
  EXPECT_FALSE(tcp_repr::parse(*v, ip_addr{ip->src()}, ip_addr{ip->dst()}, r).has_value()) << "checksums valid";
  EXPECT_EQ(r.flags, tcp_flag::syn);
  EXPECT_EQ(r.options.mss, 1460);
  ifc.free(ud);
  dlclose(handle);
}
}  // namespace
}  // namespace synack
