#pragma once
// UDP relaying for `synack proxy --direct` (issue #15): every UDP datagram routed into the TUN
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
#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "synack/runtime/event_loop.hpp"
#include "synack/tcp/four_tuple.hpp"

namespace synack::tools {

// The client 4-tuple -> kernel socket map, least recently active first.
class udp_session_table {
 public:
  struct session {
    four_tuple tuple;  // local: the original destination; remote: the client (as the host's)
    int fd = -1;       // the kernel socket (an opaque number here)
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
  std::uint64_t dropped = 0;  // not relayed: no socket could be made, a full queue either way
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

 private:
  udp_relay(runtime::event_loop& loop, udp_relay_options o);
  void on_datagram(instant now, const udp_datagram& d) override;
  udp_session_table::session* open_session(instant now, const four_tuple& t);
  void on_upstream(const four_tuple& t, std::uint32_t events);
  void end_session(const udp_session_table::session& s, const char* why);
  void arm_timer();
  void on_timer();

  runtime::event_loop& loop_;
  udp_relay_options opts_;
  udp_session_table table_;
  udp_handle binding_;
  bool bound_ = false;
  runtime::timer_id timer_ = 0;
  udp_relay_stats stats_;
  std::vector<std::byte> buf_;  // one datagram read from an upstream socket
  std::vector<udp_session_table::session> ended_;
};

}  // namespace synack::tools
