#pragma once
// UDP relaying for `synack proxy` (issue #15), --direct or --socks5: every UDP datagram routed into the TUN
// device is taken by the host's any-address UDP binding (host::bind_udp_any) and sent on through
// a kernel UDP socket connected to its original destination; what that socket receives goes back
// into the TUN with the original destination as its source (host::send_udp(src, dst, ...)).
//
// A session per client 4-tuple (client address and port, original destination address and port;
// the family is the addresses'), each owning one non-blocking kernel socket, watched by the
// runtime's event loop. A session ends when idle (no datagram either way) for the idle timeout,
// checked by one loop timer, or when the table is full and a new client needs its place: then
// the least recently active session is evicted.
//
// The table itself (udp_session_table) is sans-IO: it holds descriptors as plain numbers and
// takes the time as a parameter, so lookup, expiry and eviction are tested without sockets.
//
// A kernel ICMP error on an upstream socket is counted (upstream_errors); when it is a port
// unreachable (ECONNREFUSED from recv) the client gets one too, from the original destination,
// quoting the start of its last datagram (host::send_udp_unreachable); other errors (host or
// network unreachable) are dropped.
//
// With --socks5 (udp_socks5.cpp) a session is a SOCKS5 UDP association instead (RFC 1928 §4
// CMD 3, §7): a TCP control connection to the server, authenticated as for CONNECT, asks for
// UDP ASSOCIATE (from address and port all zeros: a NAT may sit between); the reply names the
// relay (the server's address when it answers 0.0.0.0 or ::). Then each client datagram goes to
// the relay from one unconnected kernel UDP socket, behind the §7 header naming the original
// destination, and each of the relay's datagrams comes back to the client from the original
// destination once its header is taken off. Dropped and counted: a reply not from the relay or
// its header naming another source than the destination (socks5_udp_foreign), a fragment
// (FRAG != 0: fragmentation is optional in §7, and not done here), a truncated or malformed
// header. The association lives as long as the control connection: its close or failure ends
// the session (socks5_udp_closed), and a session that ends (idle, evicted) closes it. Datagrams
// that arrive while the association is set up are held (udp_relay_options::pending_datagrams a
// session; beyond that, dropped) and sent once it is; if it fails (socks5_udp_failed), dropped.
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "socks5.hpp"
#include "synack/runtime/event_loop.hpp"
#include "synack/tcp/four_tuple.hpp"

namespace synack::tools {

// The client 4-tuple -> kernel socket map, least recently active first.
class udp_session_table {
 public:
  struct session {
    four_tuple tuple;  // local: the original destination; remote: the client (as the host's)
    int fd = -1;       // the kernel socket (an opaque number here; --socks5: the control connection)
    instant last_active;
    // The first octets of the client's last datagram, quoted if the destination refuses it.
    std::array<std::byte, 64> head{};
    std::uint8_t head_len = 0;
    void keep_head(bytes payload);
  };

  udp_session_table(std::size_t max_sessions, duration idle_timeout);

  // nullptr if there is none. The pointer stays valid until the session is removed.
  [[nodiscard]] session* find(const four_tuple& t);
  // A datagram passed either way: the session is the most recently active one now.
  void touch(session& s, instant now);
  // Adds a session for `t` (which must not be in the table). When the table is full, the least
  // recently active session is removed first and returned in `evicted` (its fd to be closed).
  session& insert(instant now, const four_tuple& t, int fd, std::optional<session>& evicted);
  // Removes every session idle for the idle timeout at `now`, oldest first, into `out`.
  void expire(instant now, std::vector<session>& out);
  // Removes one session (the caller closes its fd); false if it was not there.
  bool erase(const four_tuple& t);
  // When the next session falls idle (nullopt: the table is empty).
  [[nodiscard]] std::optional<instant> next_expiry() const;
  // Every session, least recently active first.
  [[nodiscard]] const std::list<session>& sessions() const { return lru_; }

  [[nodiscard]] std::size_t size() const { return lru_.size(); }
  [[nodiscard]] std::size_t max_sessions() const { return max_; }
  [[nodiscard]] duration idle_timeout() const { return idle_; }
  [[nodiscard]] std::uint64_t opened() const { return opened_; }
  [[nodiscard]] std::uint64_t expired() const { return expired_; }
  [[nodiscard]] std::uint64_t evicted() const { return evicted_; }

 private:
  std::size_t max_;
  duration idle_;
  std::list<session> lru_;  // front: least recently active
  std::unordered_map<four_tuple, std::list<session>::iterator, four_tuple_hash> index_;
  std::uint64_t opened_ = 0;
  std::uint64_t expired_ = 0;
  std::uint64_t evicted_ = 0;
};

struct udp_relay_options {
  std::string out_interface;              // SO_BINDTODEVICE on every upstream socket
  std::optional<std::uint32_t> out_mark;  // SO_MARK on every upstream socket
  duration idle_timeout = std::chrono::seconds(60);
  std::size_t max_sessions = 1024;
  bool verbose = false;  // one line per session opened and ended on stderr
  // --socks5: every session is a UDP association of this server (above), not a kernel socket
  // connected to the destination.
  std::optional<socks5::server> socks5;
  duration connect_timeout = std::chrono::seconds(30);  // --socks5: until the association is set up
  std::size_t pending_datagrams = 16;  // --socks5: held a session while its association is set up
};

// --socks5's UDP associations (the "socks5_udp_*" counters of synack stat's Proxy: line).
struct socks5_udp_stats {
  std::uint64_t associations = 0;  // UDP ASSOCIATE replies that succeeded
  std::uint64_t failed = 0;        // associations not made: connect, authentication, REP, timeout
  std::uint64_t closed = 0;        // sessions ended by their control connection's close or failure
  std::uint64_t dropped_frag = 0;  // relay datagrams with FRAG != 0
  std::uint64_t malformed = 0;     // relay datagrams with a truncated or malformed §7 header
  std::uint64_t foreign = 0;       // datagrams not from the relay, or from another source than the destination
};

// Counters for `synack stat` (the "Proxy UDP:" line, the "udp" object inside "proxy").
struct udp_relay_stats {
  std::uint64_t sessions_opened = 0;
  std::uint64_t sessions_active = 0;
  std::uint64_t sessions_expired = 0;  // idle for the idle timeout
  std::uint64_t sessions_evicted = 0;  // removed for a new one while the table was full
  std::uint64_t datagrams_up = 0;      // client -> upstream, sent on the kernel socket
  std::uint64_t bytes_up = 0;
  std::uint64_t datagrams_down = 0;  // upstream -> client, queued into the TUN
  std::uint64_t bytes_down = 0;
  std::uint64_t upstream_errors = 0;  // ICMP errors the kernel socket reported (ECONNREFUSED ...)
  std::uint64_t unreachable_sent = 0;  // of those, port unreachables passed on to the client
  // Not relayed: no socket could be made, a full queue either way (--socks5: more than
  // pending_datagrams while the association is set up, or held when it failed).
  std::uint64_t dropped = 0;
};

class udp_relay final : public udp_handler {
 public:
  // Opens the any-address UDP binding of both families. The error says what went wrong.
  [[nodiscard]] static result<std::unique_ptr<udp_relay>, std::string> start(runtime::event_loop& loop,
                                                                            const udp_relay_options& o);
  ~udp_relay() override;
  udp_relay(const udp_relay&) = delete;
  udp_relay& operator=(const udp_relay&) = delete;
  [[nodiscard]] udp_relay_stats stats() const;
  [[nodiscard]] const socks5_udp_stats& socks5_stats() const { return socks5_stats_; }

 private:
  // --socks5: a session's UDP association (udp_socks5.cpp); the table's fd is its control
  // connection.
  struct association {
    bool connecting = true;                   // the control connection's connect runs
    std::optional<socks5::client> handshake;  // from the connect to the reply
    int udp_fd = -1;                          // once associated: the socket to the relay
    socks5::endpoint relay;
    sockaddr_storage relay_ss{};
    socklen_t relay_len = 0;
    std::vector<std::vector<std::byte>> pending;  // datagrams held until associated
    runtime::timer_id timer = 0;                  // the connect timeout
  };

  // At most this many datagrams are read from one upstream socket per readiness report, so that
  // one busy session leaves room in the host's UDP transmit queue (host_config::udp_tx_queue,
  // drained after every round of the loop) for the others; the socket stays readable (epoll is
  // level-triggered) and is read again next round.
  static constexpr int reads_per_wakeup = 16;
  static std::string describe(const four_tuple& t);

  udp_relay(runtime::event_loop& loop, udp_relay_options o);
  void on_datagram(instant now, const udp_datagram& d) override;
  void send_direct(instant now, udp_session_table::session& s, const udp_datagram& d);
  udp_session_table::session* open_session(instant now, const four_tuple& t);
  // Adds the session for `t` with its kernel socket `fd`, evicting the oldest if full.
  udp_session_table::session& add_session(instant now, const four_tuple& t, int fd);
  void on_upstream(const four_tuple& t, std::uint32_t events);
  // An upstream datagram to the client, from the original destination (the session is the most
  // recently active then). False when the host's transmit queue is full: read no more now.
  bool deliver(udp_session_table::session& s, bytes payload);
  void end_session(const udp_session_table::session& s, const char* why);
  // Removes the session of `t` from the table and ends it (nothing if it is gone).
  void remove_session(const four_tuple& t, const char* why);
  void arm_timer();
  void on_timer();
  // --socks5 (udp_socks5.cpp).
  udp_session_table::session* open_association(instant now, const four_tuple& t);
  void send_socks5(udp_session_table::session& s, const udp_datagram& d);
  void send_to_relay(const four_tuple& t, association& a, bytes payload);
  void on_control(const four_tuple& t);
  void associated(const four_tuple& t, association& a);
  void fail_association(const four_tuple& t, const std::string& why);
  void on_relay(const four_tuple& t);
  void close_association(const four_tuple& t);

  runtime::event_loop& loop_;
  udp_relay_options opts_;
  udp_session_table table_;
  udp_handle binding_;
  bool bound_ = false;
  runtime::timer_id timer_ = 0;
  udp_relay_stats stats_;
  socks5_udp_stats socks5_stats_;
  std::unordered_map<four_tuple, association, four_tuple_hash> assocs_;
  std::vector<std::byte> buf_;  // one datagram read from an upstream socket
  std::vector<udp_session_table::session> ended_;
};

}  // namespace synack::tools
