#pragma once
// `synack proxy --direct` and `--socks5`: every TCP connection routed into the TUN device is terminated by the
// host's any-address listener (host::listen_any) and joined to a non-blocking kernel socket
// connected to the connection's original destination, both watched by the runtime's event loop.
// With --socks5 the kernel socket connects to a SOCKS5 server instead and asks it (socks5.hpp)
// to CONNECT to the original destination; once the server has, the relay is the same. (UDP:
// udp_relay.hpp, directly or through the server's UDP ASSOCIATE.)
//
// The relay per connection has no buffer of its own (issue #15: one copy per byte each way):
// the client's bytes go to the kernel socket straight from the synack connection's receive
// buffer (event_loop::recv_view, sendmsg, recv_consume of what the kernel took), and the
// upstream's are read straight into its send buffer (send_reserve, readv, send_commit). A slow
// side slows the other, end to end: bytes the kernel socket does not take stay in the receive
// buffer, whose window closes; the kernel socket is not read while the send buffer has no room,
// so its window closes. Those buffers are --buffer each (tcp_config::send_buffer and
// recv_buffer). The TUN side's FIN becomes shutdown(SHUT_WR) on the kernel socket and the kernel
// socket's EOF becomes the synack connection's FIN; a reset either way is carried through (RST
// from the TUN side: the kernel socket closed with SO_LINGER 0; ECONNRESET from the kernel: the
// synack side aborted with RST).
//
// Connect failures are answered as the original destination would (issue #15): the client's
// SYN is held unanswered (any_address_options::defer_syn) while the upstream connect runs; the
// SYN-ACK goes only once the upstream connected (directly, or the SOCKS5 server's CONNECT
// succeeded), and the relay starts when the client's handshake completes. A refused connect
// (ECONNREFUSED, SOCKS5 REP 5) answers the SYN with RST|ACK, so the client sees "connection
// refused"; an unreachable one with ICMP destination unreachable from the destination's
// address: ENETUNREACH / REP 3 net, EHOSTUNREACH / REP 4 and timeouts (ours, ETIMEDOUT, REP 6)
// host, EACCES / EPERM / REP 2 administratively prohibited; any other failure RST|ACK.
// At most --backlog SYNs are held per family; beyond that the oldest is forgotten for the new
// one (evict_oldest_syn) and its session ends, upstream socket closed: a flood of SYNs to
// destinations that never answer cycles through the held set instead of filling it for
// --connect-timeout, and a connection whose upstream answers sooner still gets through.
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "socks5.hpp"
#include "synack/runtime/event_loop.hpp"
#include "udp_relay.hpp"

namespace synack::tools {

// The SOCKS5 server of --socks5, and the RFC 1929 credentials for it.
using socks5_upstream = socks5::server;

struct proxy_options {
  std::optional<socks5_upstream> socks5;  // nothing: direct mode
  std::string out_interface;              // SO_BINDTODEVICE on every upstream socket
  std::optional<std::uint32_t> out_mark;  // SO_MARK on every upstream socket
  duration connect_timeout = std::chrono::seconds(30);  // with --socks5: until the server's reply
  std::size_t backlog = 4096;             // accept queue of the any-address listeners
  bool verbose = false;                   // one line per session on stderr
};

// SO_BINDTODEVICE (a non-empty out_interface) and SO_MARK on one of the proxy's own sockets, TCP
// or UDP, so that its traffic never comes back into the TUN. 0, or the errno of the failure.
[[nodiscard]] int set_out_route(int fd, const std::string& out_interface, std::optional<std::uint32_t> out_mark);
// `a`:`port` as a kernel socket address in `ss` (AF_INET or AF_INET6); returns its length.
socklen_t to_sockaddr(const ip_addr& a, std::uint16_t port, sockaddr_storage& ss);
// The address and port of an AF_INET or AF_INET6 socket address (nothing for another family).
[[nodiscard]] std::optional<socks5::endpoint> from_sockaddr(const sockaddr_storage& ss);
// A non-blocking connect's outcome on `fd`: 0 connected, EINPROGRESS not yet, or its errno.
[[nodiscard]] int connect_status(int fd);
// Runs a SOCKS5 handshake (socks5.hpp) over the connected non-blocking socket `fd` as far as it
// goes without waiting: writes what `c` has to send, reads no more than the reply it waits for
// (what follows is the caller's). 0 once `c` waits (write: for room; read: for bytes) or has
// ended (connected, failed); else the errno of a failed send or recv.
[[nodiscard]] int run_socks5_handshake(int fd, socks5::client& c);

// Counters for `synack stat` ("Proxy:" line, "proxy" JSON object).
struct proxy_stats {
  std::uint64_t sessions_opened = 0;  // client SYNs taken (held, or accepted) and given an upstream socket
  std::uint64_t sessions_active = 0;
  // Of those, the ones whose client SYN is still held (the upstream connect or SOCKS5 handshake
  // running): no synack connection yet, so not in stat's listing; at most --backlog per family.
  std::uint64_t syns_held = 0;
  std::uint64_t bytes_up = 0;    // client -> upstream, written to the kernel socket
  std::uint64_t bytes_down = 0;  // upstream -> client, taken by the synack connection
  std::uint64_t failed_refused = 0;      // upstream connect: ECONNREFUSED
  std::uint64_t failed_unreachable = 0;  // ENETUNREACH, EHOSTUNREACH
  std::uint64_t failed_timeout = 0;      // ETIMEDOUT or our connect timeout
  std::uint64_t failed_other = 0;        // socket(), setsockopt() or another connect error
  std::uint64_t resets_client = 0;       // the TUN side reset (or timed out): RST carried upstream
  std::uint64_t resets_upstream = 0;     // the kernel socket reset: RST carried to the client
  // --socks5 only (`socks5` false: direct mode, none shown). A failure the server reports is
  // counted above by its reason as well (REP 5: refused; 3, 4: unreachable; 6: timeout; the
  // rest: other), and so are the failures below (other).
  bool socks5 = false;
  std::uint64_t socks5_connected = 0;    // handshakes that ended in a successful CONNECT reply
  std::uint64_t socks5_auth_failed = 0;  // credentials rejected, or no acceptable method
  std::uint64_t socks5_rejected = 0;     // CONNECT replies with a failure REP code
  std::uint64_t socks5_malformed = 0;    // a malformed reply, or the server closed mid-handshake
  socks5_udp_stats socks5_udp{};         // the UDP relay's associations (udp_relay.hpp)
  std::optional<udp_relay_stats> udp = std::nullopt;  // the UDP relay's (udp_relay.hpp); nullopt with --no-udp
};

// Where a proxied connection is (`synack stat`'s listing): its upstream connect (or SOCKS5
// handshake) is running, with the client's SYN held (no synack connection yet); the SYN-ACK
// went and the client's handshake is awaited; or the relay runs.
enum class proxy_phase : std::uint8_t { connecting, awaiting_client, relaying };
[[nodiscard]] std::string_view to_string(proxy_phase p);

// One proxied connection with both its ends, for `synack stat` (its connection listing and
// JSON): the client side is synack's connection (`client`: local the original destination,
// remote the client), the upstream side the proxy's kernel socket, from its local address (as
// getsockname() tells it; unspecified before the kernel chose one) to the original destination,
// or with --socks5 to the server.
struct proxy_link {
  four_tuple client{};
  proxy_phase phase = proxy_phase::connecting;
  ip_addr upstream_local_addr{};
  std::uint16_t upstream_local_port = 0;
  ip_addr upstream_addr{};
  std::uint16_t upstream_port = 0;
  bool socks5 = false;
  std::optional<tcp_state> upstream_state{};  // the kernel socket's (TCP_INFO), RFC names
  std::uint64_t bytes_up = 0;    // this connection's share of proxy_stats::bytes_up
  std::uint64_t bytes_down = 0;  // and of bytes_down
};

class proxy {
 public:
  // Opens the any-address listeners of both families. The error says what went wrong.
  [[nodiscard]] static result<std::unique_ptr<proxy>, std::string> start(runtime::event_loop& loop,
                                                                        const proxy_options& o);
  ~proxy();
  proxy(const proxy&) = delete;
  proxy& operator=(const proxy&) = delete;
  [[nodiscard]] const proxy_stats& stats() const { return stats_; }
  // Every session with both its ends (proxy_link), for `synack stat`.
  [[nodiscard]] std::vector<proxy_link> links() const;

 private:
  struct session;
  proxy(runtime::event_loop& loop, proxy_options o);
  void on_syn(syn_handle sh, const four_tuple& t);
  void reap_forgotten(bool v4);
  void on_accept(conn_handle h);
  void start_upstream(session& s);
  void attach(session& s, conn_handle h);
  session* find(std::uint64_t id);
  void on_fd(std::uint64_t id, std::uint32_t events);
  void finish_connect(session& s);
  void fail_connect(session& s, int err);
  void run_socks5(session& s);
  void fail_socks5(session& s);
  void fail_upstream(session& s, const char* why, std::string_view detail, syn_refusal answer);
  void upstream_ready(session& s);
  void relay_up(session& s);
  void relay_down(session& s);
  void update_interest(session& s);
  void on_tun_closed(std::uint64_t id, close_reason why);
  void reset_from_upstream(session& s, int err);
  // Ends the session if both directions are done; true if it did.
  bool maybe_done(session& s);
  void destroy(session& s, bool rst_upstream);

  runtime::event_loop& loop_;
  proxy_options opts_;
  proxy_stats stats_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<session>> sessions_;
  // Sessions whose client is not accepted yet (SYN held, or handshake awaited), by 4-tuple.
  std::unordered_map<four_tuple, std::uint64_t, four_tuple_hash> pending_;
  // Sessions that took a held SYN, in arrival order per family (0: IPv4), to end those whose SYN
  // the host forgot for a newer one (evict_oldest_syn).
  std::array<std::deque<std::uint64_t>, 2> held_;
};

}  // namespace synack::tools
