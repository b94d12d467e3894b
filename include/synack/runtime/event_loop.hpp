#pragma once
// runtime: the single-threaded epoll event loop that drives one sans-IO host over a link.
// It is the only place (with io/) that touches the OS: it reads the real clock (steady_clock
// -> synack::instant), seeds host_config::secret from getrandom(), reads packets from the link
// in batches into the host, drains poll_transmit() to the link, and sleeps until the earliest of
// the host's next_deadline(), the link's and the application's timers.
//
// Applications use callbacks over host handles (no threads, no blocking):
//   listen(port, backlog, on_accept)      on_accept(conn) for each accepted connection
//   connect(addr, port, callbacks)        callbacks.on_established, then as below
//   on_readable  data or end of stream is waiting: recv() until would_block (0 = end). Called
//                again when more arrives, or after pause_reading(h, false) (an edge, like
//                EPOLLET: a reader that leaves bytes and is not paused is not called again for
//                them until something changes, unless it took some)
//   on_writable  send space freed (host's conn_status::writable(): at least half of what is
//                queued is free, as Linux), reported once after want_writable(h, true)
//   on_closed    the TCB reached CLOSED; the reason tells refused / reset / timeout apart
//   on_retransmit_threshold  one segment went R1 times unanswered (RFC 9293 §3.8.3, SHLD-9);
//                the connection keeps trying until R2 (on_closed with timeout) or an answer
// Callbacks may call any command, including close() on their own handle.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "synack/io/link.hpp"
#include "synack/runtime/memory_trim.hpp"
#include "synack/stack/host.hpp"
#include "synack/stack/rx_coalescer.hpp"

struct epoll_event;

namespace synack::runtime {

// steady_clock as an instant (microseconds since the clock's epoch).
[[nodiscard]] instant clock_now();
// 128 bits from getrandom(2) (the OS CSPRNG), for host_config::secret.
[[nodiscard]] siphash_key random_secret();

struct conn_callbacks {
  std::function<void()> on_established;
  std::function<void()> on_readable;
  std::function<void()> on_writable;
  std::function<void(close_reason)> on_closed;
  std::function<void()> on_retransmit_threshold = {};
};

using accept_callback = std::function<void(conn_handle)>;
// A SYN held for the application's answer (any_address_options::defer_syn): its handle and
// 4-tuple (local: the original destination). Answer with accept_syn or refuse_syn.
using syn_callback = std::function<void(syn_handle, const four_tuple&)>;
using timer_id = std::uint64_t;

// How the loop sleeps until its next deadline (event_loop::set_wait_precision).
enum class wait_precision : std::uint8_t {
  // epoll_pwait2(2) (Linux >= 5.11): to the microsecond, so a pacing release, RACK's reorder
  // timer or a loss probe a fraction of a millisecond ahead is not held to the next whole
  // millisecond. The default; where the kernel lacks the call (ENOSYS) the loop falls back to
  // `coarse` on its first wait and stays there (loop_stats::fine_wait_fallbacks).
  fine,
  // epoll_wait(2): whole milliseconds.
  coarse,
};

// How long the loop may sleep at `now` before `deadline` (none: max_wait), at most max_wait:
// rounded up to the precision's unit (a microsecond, or a millisecond for coarse) so that it
// never wakes before a deadline; zero when one is due.
[[nodiscard]] duration sleep_time(instant now, std::optional<instant> deadline, duration max_wait, wait_precision p);

struct loop_stats {
  std::uint64_t iterations = 0;
  std::uint64_t rx_batches = 0;
  std::uint64_t rx_packets = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_dropped = 0;
  std::uint64_t host_timeouts = 0;
  // How each turn ended its wait: the link's descriptor was readable (or held packets); another
  // watched descriptor; a deadline (host, link or application timer) fell due; the wait ran out
  // with nothing due (early wake or max_wait); or there was no wait at all (work was left).
  std::uint64_t wake_link = 0;
  std::uint64_t wake_fd = 0;
  std::uint64_t wake_timer = 0;
  std::uint64_t wake_timeout = 0;
  std::uint64_t wake_no_sleep = 0;
  // Sleeps to the microsecond (epoll_pwait2) and in whole milliseconds (epoll_wait), and the
  // times the kernel refused the former (ENOSYS) and the loop fell back to the latter.
  std::uint64_t fine_waits = 0;
  std::uint64_t coarse_waits = 0;
  std::uint64_t fine_wait_fallbacks = 0;
  // Receive coalescing (set_rx_coalescing): runs of segments merged, and the segments in them.
  std::uint64_t rx_coalesced_runs = 0;
  std::uint64_t rx_coalesced_segments = 0;
  // Freed memory handed back to the system when the host's memory pressure ended
  // (memory_trim.hpp: malloc_trim(0), at most once a second).
  std::uint64_t memory_trims = 0;
};

class event_loop {
 public:
  // Fills cfg.secret from getrandom() unless keep_secret (tests that want reproducible ISNs).
  event_loop(io::link& link, host_config cfg, bool keep_secret = false);
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  // ---- applications over host handles -----------------------------------------------------
  result<listener_handle, host_error> listen(std::uint16_t port, std::size_t backlog, accept_callback on_accept);
  // An any-address listener (host::listen_any): on_accept for connections to destinations that
  // are not this host's (a transparent proxy); status().tuple's local side is the original one.
  result<listener_handle, host_error> listen_any(std::size_t backlog, const any_address_options& opts,
                                                 accept_callback on_accept);
  // With opts.defer_syn: on_syn for each SYN held; the connections of accepted ones reach
  // on_accept once their handshake completes.
  result<listener_handle, host_error> listen_any(std::size_t backlog, const any_address_options& opts,
                                                 accept_callback on_accept, syn_callback on_syn);
  result<void, host_error> accept_syn(syn_handle s) { return host_->accept_syn(now_, s); }
  result<void, host_error> refuse_syn(syn_handle s, syn_refusal why) { return host_->refuse_syn(now_, s, why); }
  void close_listener(listener_handle l);
  result<conn_handle, host_error> connect(const ip_addr& remote, std::uint16_t port, conn_callbacks cb);
  void set_callbacks(conn_handle h, conn_callbacks cb);
  void want_writable(conn_handle h, bool on);
  // While paused, on_readable is not called (the application cannot take more data yet).
  void pause_reading(conn_handle h, bool paused);
  result<std::size_t, tcp_error> send(conn_handle h, bytes data);
  result<std::size_t, tcp_error> recv(conn_handle h, mutable_bytes out);
  // Zero-copy receive and send (host::recv_view, recv_consume, send_reserve, send_commit): the
  // spans are the connection's own buffers, valid until any other call on the loop or the
  // host (a reservation: until its send_commit, which comes first). Consuming counts as
  // reading for on_readable, as recv does.
  [[nodiscard]] result<ring_view, tcp_error> recv_view(conn_handle h) const { return host_->recv_view(h); }
  result<void, tcp_error> recv_consume(conn_handle h, std::size_t n) { return host_->recv_consume(h, n); }
  [[nodiscard]] result<ring_space, tcp_error> send_reserve(conn_handle h, std::size_t max) {
    return host_->send_reserve(h, max);
  }
  result<void, tcp_error> send_commit(conn_handle h, std::size_t n, send_flags flags = {}) {
    return host_->send_commit(h, n, flags);
  }
  result<void, tcp_error> shutdown(conn_handle h);
  // close and abort release the handle and forget its callbacks.
  result<void, tcp_error> close(conn_handle h);
  result<void, tcp_error> abort(conn_handle h);

  // ---- other descriptors and timers (stdin, control sockets, deadlines) ---------------------
  // `events` are EPOLLIN/EPOLLOUT...; the callback gets the ready events.
  bool watch(int fd, std::uint32_t events, std::function<void(std::uint32_t)> cb);
  void unwatch(int fd);
  timer_id call_at(instant at, std::function<void()> cb);
  timer_id call_after(duration d, std::function<void()> cb) { return call_at(now_ + d, std::move(cb)); }
  void cancel(timer_id id);

  // Runs until stop(). Returns at once if the epoll descriptor could not be made.
  void run();
  void stop() { stop_ = true; }
  // One round: input, timers, callbacks, transmissions; waits at most `max_wait` for input.
  void run_once(duration max_wait);

  [[nodiscard]] instant now() const { return now_; }
  [[nodiscard]] synack::host& host() { return *host_; }
  [[nodiscard]] const synack::host& host() const { return *host_; }
  [[nodiscard]] io::link& link() { return link_; }
  [[nodiscard]] const loop_stats& stats() const { return stats_; }
  // Coalesce in-order data segments of one connection within each received batch before the
  // host sees them (rx_coalescer: GRO-like), for a link without offloads. Off by default.
  void set_rx_coalescing(bool on) { coalesce_ = on; }
  // malloc_trim(0) when the host's memory pressure ends (memory_trim.hpp); on by default.
  void set_memory_trim(memory_trim_options o) { trimmer_.set_options(std::move(o)); }
  // wait_precision::fine by default; what the loop uses now (coarse after a fallback).
  void set_wait_precision(wait_precision p) { precision_ = p; }
  [[nodiscard]] wait_precision precision() const { return precision_; }
  [[nodiscard]] std::size_t open_handles() const { return conns_.size(); }

 private:
  struct conn_entry {
    conn_handle h;
    conn_callbacks cb;
    bool want_write = false;
    bool paused = false;
    bool eof_reported = false;
    bool in_ready = false;  // waits in ready_
  };
  conn_entry* entry(conn_handle h);
  void read_link();
  void dispatch();
  bool dispatch_host_events();
  void mark(conn_handle h);
  bool run_ready();
  bool serve_ready(conn_handle h);
  bool transmit();
  void fire_timers();
  void count_wake(bool slept, bool link_read, bool other_fd, bool timer_due);
  [[nodiscard]] duration wait_time(duration max_wait) const;
  int wait(epoll_event* evs, int max_events, duration d);

  io::link& link_;
  std::unique_ptr<synack::host> host_;
  int epfd_ = -1;
  bool stop_ = false;
  bool link_busy_ = false;  // the last read_link() stopped at its bound with packets left
  bool coalesce_ = false;
  wait_precision precision_ = wait_precision::fine;
  rx_coalescer coalescer_;
  instant now_;
  std::vector<std::byte> txbuf_;
  std::unordered_map<std::uint32_t, conn_entry> conns_;  // by handle index
  std::vector<conn_handle> ready_;  // connections to look at this turn (readiness edges)
  std::vector<conn_handle> ready_scratch_;
  std::unordered_map<std::uint32_t, std::pair<listener_handle, accept_callback>> listeners_;
  std::unordered_map<std::uint32_t, syn_callback> syn_callbacks_;  // by listener index
  std::unordered_map<int, std::function<void(std::uint32_t)>> fds_;
  std::multimap<instant, std::pair<timer_id, std::function<void()>>> timers_;
  timer_id next_timer_ = 1;
  loop_stats stats_;
  memory_trimmer trimmer_;
};

}  // namespace synack::runtime
