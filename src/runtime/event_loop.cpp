// The event loop: the only place besides io/ that reads the clock or waits on descriptors.
#include "synack/runtime/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>

#include "drain.hpp"

namespace synack::runtime {
namespace {

constexpr std::size_t rx_batch = 64;     // packets per link read
constexpr int rx_batches_per_round = 8;  // then callbacks and transmissions get a turn
constexpr int dispatch_rounds = 64;      // bound on callback <-> transmit rounds per iteration
// Bound on packets sent per transmit pass, so input, signals and timers get their turn even
// if the host keeps producing.
constexpr std::size_t tx_burst = 4096;

}  // namespace

instant clock_now() {
  const auto t = std::chrono::steady_clock::now().time_since_epoch();
  return instant::from_us(std::chrono::duration_cast<std::chrono::microseconds>(t).count());
}

siphash_key random_secret() {
  std::uint64_t k[2]{};
  auto* p = reinterpret_cast<unsigned char*>(k);  // NOLINT: filling raw bytes
  std::size_t got = 0;
  while (got < sizeof k) {
    const ssize_t n = ::getrandom(p + got, sizeof k - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // cannot happen on Linux >= 3.17 once the pool is seeded
    }
    got += static_cast<std::size_t>(n);
  }
  return siphash_key{k[0], k[1]};
}

event_loop::event_loop(io::link& link, host_config cfg, bool keep_secret) : link_(link), now_(clock_now()) {
  if (!keep_secret) cfg.secret = random_secret();
  // Super-segments only as large as the link cuts them (0 when it cannot: a plain link).
  cfg.tso_max = std::min(cfg.tso_max, link_.tso_max());
  host_ = std::make_unique<synack::host>(cfg);
  txbuf_.resize(host_->max_packet_len());
  // SYNACK_LOOP_WAIT=coarse: whole-millisecond sleeps, as on a kernel without epoll_pwait2.
  if (const char* w = std::getenv("SYNACK_LOOP_WAIT"); w != nullptr && std::string_view{w} == "coarse") {
    precision_ = wait_precision::coarse;
  }
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ >= 0 && link_.fd() >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered: readable while packets wait in the link
    ev.data.fd = link_.fd();
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, link_.fd(), &ev);
  }
}

event_loop::~event_loop() {
  if (epfd_ >= 0) ::close(epfd_);
}

// ---- applications ---------------------------------------------------------------------------

result<listener_handle, host_error> event_loop::listen(std::uint16_t port, std::size_t backlog,
                                                      accept_callback on_accept) {
  auto r = host_->listen(port, backlog);
  if (r) listeners_[r->index] = {*r, std::move(on_accept)};
  return r;
}

result<listener_handle, host_error> event_loop::listen_any(std::size_t backlog, const any_address_options& opts,
                                                          accept_callback on_accept) {
  auto r = host_->listen_any(backlog, opts);
  if (r) listeners_[r->index] = {*r, std::move(on_accept)};
  return r;
}

result<listener_handle, host_error> event_loop::listen_any(std::size_t backlog, const any_address_options& opts,
                                                          accept_callback on_accept, syn_callback on_syn) {
  auto r = listen_any(backlog, opts, std::move(on_accept));
  if (r) syn_callbacks_[r->index] = std::move(on_syn);
  return r;
}

void event_loop::close_listener(listener_handle l) {
  listeners_.erase(l.index);
  syn_callbacks_.erase(l.index);
  host_->close_listener(now_, l);
}

result<conn_handle, host_error> event_loop::connect(const ip_addr& remote, std::uint16_t port, conn_callbacks cb) {
  auto r = host_->connect(now_, remote, port);
  if (r) conns_[r->index] = conn_entry{*r, std::move(cb)};
  return r;
}

event_loop::conn_entry* event_loop::entry(conn_handle h) {
  auto it = conns_.find(h.index);
  return it == conns_.end() || !(it->second.h == h) ? nullptr : &it->second;
}

void event_loop::set_callbacks(conn_handle h, conn_callbacks cb) {
  if (conn_entry* e = entry(h)) {
    e->cb = std::move(cb);
  } else {
    conns_[h.index] = conn_entry{h, std::move(cb)};
  }
  mark(h);  // bytes may wait already
}

void event_loop::want_writable(conn_handle h, bool on) {
  if (conn_entry* e = entry(h)) {
    e->want_write = on;
    if (on) mark(h);  // there may be room already
  }
}

void event_loop::pause_reading(conn_handle h, bool paused) {
  if (conn_entry* e = entry(h)) {
    e->paused = paused;
    if (!paused) mark(h);  // what arrived while paused is still to be read
  }
}

void event_loop::mark(conn_handle h) {
  conn_entry* e = entry(h);
  if (e == nullptr || e->in_ready) return;
  e->in_ready = true;
  ready_.push_back(h);
}

result<std::size_t, tcp_error> event_loop::send(conn_handle h, bytes data) { return host_->send(h, data); }
result<std::size_t, tcp_error> event_loop::recv(conn_handle h, mutable_bytes out) { return host_->recv(h, out); }
result<void, tcp_error> event_loop::shutdown(conn_handle h) { return host_->shutdown(now_, h); }

result<void, tcp_error> event_loop::close(conn_handle h) {
  if (entry(h) != nullptr) conns_.erase(h.index);
  return host_->close(now_, h);
}

result<void, tcp_error> event_loop::abort(conn_handle h) {
  if (entry(h) != nullptr) conns_.erase(h.index);
  return host_->abort(now_, h);
}

// ---- descriptors and timers -----------------------------------------------------------------

bool event_loop::watch(int fd, std::uint32_t events, std::function<void(std::uint32_t)> cb) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  const int op = fds_.contains(fd) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (::epoll_ctl(epfd_, op, fd, &ev) < 0) return false;
  fds_[fd] = std::move(cb);
  return true;
}

void event_loop::unwatch(int fd) {
  if (fds_.erase(fd) != 0) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

timer_id event_loop::call_at(instant at, std::function<void()> cb) {
  const timer_id id = next_timer_++;
  timers_.emplace(at, std::pair{id, std::move(cb)});
  return id;
}

void event_loop::cancel(timer_id id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
}

void event_loop::fire_timers() {
  while (!timers_.empty() && timers_.begin()->first <= now_) {
    auto cb = std::move(timers_.begin()->second.second);
    timers_.erase(timers_.begin());
    cb();
  }
}

// ---- the loop -------------------------------------------------------------------------------

void event_loop::run() {
  if (epfd_ < 0) return;
  stop_ = false;
  while (!stop_) run_once(std::chrono::seconds(3600));
}

duration sleep_time(instant now, std::optional<instant> deadline, duration max_wait, wait_precision p) {
  duration wait = max_wait;
  if (deadline) wait = std::min(wait, *deadline - now);
  if (wait.count() <= 0) return duration{0};
  if (p == wait_precision::coarse) {  // round up: never wake early
    constexpr duration ms = std::chrono::milliseconds(1);
    wait = (wait + ms - duration{1}) / ms * ms;
  }
  return wait;
}

duration event_loop::wait_time(duration max_wait) const {
  std::optional<instant> d = host_->next_deadline();
  auto consider = [&](std::optional<instant> t) {
    if (t && (!d || *t < *d)) d = t;
  };
  consider(link_.next_deadline());
  consider(trimmer_.next_deadline());
  if (!timers_.empty()) consider(timers_.begin()->first);
  // read_link() stopped at its bound, or the link holds packets its descriptor will not
  // signal: go on without sleeping.
  if (link_busy_ || link_.rx_pending()) return duration{0};
  return sleep_time(clock_now(), d, max_wait, precision_);
}

// Sleeps at most `d` (see wait_precision) or until a watched descriptor is ready.
int event_loop::wait(epoll_event* evs, int max_events, duration d) {
  if (precision_ == wait_precision::fine) {
    const timespec ts = to_timespec(d);
    const int n = ::epoll_pwait2(epfd_, evs, max_events, &ts, nullptr);
    if (n >= 0 || errno != ENOSYS) {
      if (d.count() > 0) ++stats_.fine_waits;
      return n;
    }
    precision_ = wait_precision::coarse;  // a kernel before 5.11
    ++stats_.fine_wait_fallbacks;
    d = sleep_time(instant::zero(), std::nullopt, d, precision_);
  }
  if (d.count() > 0) ++stats_.coarse_waits;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ::epoll_wait(epfd_, evs, max_events, static_cast<int>(std::min<std::int64_t>(ms, 3'600'000)));
}

void event_loop::run_once(duration max_wait) {
  ++stats_.iterations;
  dispatch();
  epoll_event evs[16];
  const duration sleep = wait_time(max_wait);
  const int n = wait(evs, 16, sleep);
  now_ = clock_now();
  bool link_read = false;
  bool other_fd = false;
  for (int i = 0; i < n; ++i) {
    const int fd = evs[i].data.fd;
    if (fd == link_.fd()) {
      read_link();
      link_read = true;
    } else if (auto it = fds_.find(fd); it != fds_.end()) {
      other_fd = true;
      auto cb = it->second;  // the callback may unwatch itself
      cb(evs[i].events);
    }
  }
  bool timer_due = false;
  if (auto d = link_.next_deadline(); d && *d <= now_) {
    timer_due = true;
    link_.on_timeout(now_);
    read_link();
  } else if ((link_busy_ || link_.rx_pending()) && !link_read) {
    read_link();  // packets left by the last bounded read, or completions the fd does not signal
    link_read = true;
  }
  if (auto d = host_->next_deadline(); d && *d <= now_) {
    timer_due = true;
    ++stats_.host_timeouts;
    host_->on_timeout(now_);
  }
  if (!timers_.empty() && timers_.begin()->first <= now_) timer_due = true;
  fire_timers();
  trimmer_.observe(now_, host_->memory().level);
  stats_.memory_trims = trimmer_.trims();
  count_wake(sleep.count() > 0, link_read, other_fd, timer_due);
}

// Why the loop woke, so a stall shows in counters: a packet that waits for an unrelated timer
// appears as packets read on timer or timeout wakes instead of link wakes.
void event_loop::count_wake(bool slept, bool link_read, bool other_fd, bool timer_due) {
  if (!slept) {
    ++stats_.wake_no_sleep;
  } else if (link_read) {
    ++stats_.wake_link;
  } else if (other_fd) {
    ++stats_.wake_fd;
  } else if (timer_due) {
    ++stats_.wake_timer;
  } else {
    ++stats_.wake_timeout;
  }
}

void event_loop::read_link() {
  link_busy_ = false;
  for (int b = 0; b < rx_batches_per_round; ++b) {
    auto to_host = [&](bytes p, const rx_meta& meta) { host_->on_packet(now_, p, meta); };
    const std::size_t got = link_.receive(now_, rx_batch, [&](bytes p, const rx_meta& meta) {
      ++stats_.rx_packets;
      if (coalesce_) {
        coalescer_.feed(p, meta, to_host);
      } else {
        to_host(p, meta);
      }
    });
    if (coalesce_) {
      coalescer_.flush(to_host);
      stats_.rx_coalesced_runs = coalescer_.stats().runs;
      stats_.rx_coalesced_segments = coalescer_.stats().merged;
    }
    if (got == 0) return;
    ++stats_.rx_batches;
    dispatch();  // let applications read and the host answer between batches
    if (got < rx_batch) return;
  }
  link_busy_ = true;  // more may wait: read again next round, before sleeping
}

void event_loop::dispatch() {
  for (int round = 0; round < dispatch_rounds; ++round) {
    bool progress = dispatch_host_events();
    progress = run_ready() || progress;
    progress = transmit() || progress;
    if (!progress) return;
  }
}

bool event_loop::dispatch_host_events() {
  bool any = false;
  while (auto ev = host_->poll_event()) {
    any = true;
    if (ev->what == host_event::kind::syn_pending) {
      auto it = listeners_.find(ev->listener.index);
      auto cb = syn_callbacks_.find(ev->listener.index);
      const auto info = host_->pending_syn(ev->syn);
      if (it == listeners_.end() || !(it->second.first == ev->listener) || cb == syn_callbacks_.end() || !info) continue;
      auto f = cb->second;  // copy: the callback may close the listener
      if (f) f(ev->syn, info->tuple);
      continue;
    }
    if (ev->what == host_event::kind::accept_ready) {
      auto it = listeners_.find(ev->listener.index);
      if (it == listeners_.end() || !(it->second.first == ev->listener)) continue;
      for (;;) {
        auto c = host_->accept(ev->listener);
        if (!c) break;
        conns_[c->index] = conn_entry{*c, {}};
        auto cb = listeners_[ev->listener.index].second;  // copy: the callback may close the listener
        if (cb) cb(*c);
      }
      continue;
    }
    conn_entry* e = entry(ev->conn);
    if (e == nullptr) continue;
    switch (ev->ev.kind) {
      case tcp_event_kind::established:
        if (e->cb.on_established) e->cb.on_established();
        break;
      case tcp_event_kind::peer_closed:
        break;  // reported through on_readable (recv returns 0)
      case tcp_event_kind::urgent:
        break;  // urgent data is read inline (RFC 6093); connection::urgent_remaining() tells how much
      case tcp_event_kind::retransmit_threshold:
        if (e->cb.on_retransmit_threshold) e->cb.on_retransmit_threshold();
        break;
      case tcp_event_kind::closed: {
        const conn_handle h = e->h;
        auto cb = std::move(e->cb.on_closed);
        // Data that arrived before the end is still readable; report it first.
        const auto st = host_->status(h);
        if (e->cb.on_readable && st && st->readable > 0) e->cb.on_readable();
        if (cb) cb(ev->ev.reason);
        if (entry(h) != nullptr) (void)close(h);  // release the handle after on_closed
        break;
      }
    }
  }
  return any;
}

// Readiness as data: only the connections the host reported an edge for (host::poll_ready),
// or that the application asked about (want_writable, pause_reading(false), set_callbacks),
// are looked at — a turn costs what its work brings, not the number of connections.
bool event_loop::run_ready() {
  while (auto h = host_->poll_ready()) mark(*h);
  if (ready_.empty()) return false;
  bool any = false;
  // Work on a copy: callbacks mark connections for the next round into ready_. Both vectors
  // keep their capacity, so a turn allocates nothing.
  ready_scratch_.clear();
  ready_scratch_.swap(ready_);
  for (conn_handle h : ready_scratch_) {
    if (conn_entry* e = entry(h)) e->in_ready = false;
  }
  for (conn_handle h : ready_scratch_) any = serve_ready(h) || any;
  return any;
}

bool event_loop::serve_ready(conn_handle h) {
  bool any = false;
  conn_entry* e = entry(h);
  auto st = host_->status(h);
  if (e == nullptr || !st) return false;
  auto wants_read = [&](const conn_status& s, const conn_entry& c) {
    return !c.paused && c.cb.on_readable && (s.readable > 0 || (s.eof && !c.eof_reported));
  };
  if (wants_read(*st, *e)) {
    if (st->readable == 0) e->eof_reported = true;
    const std::size_t before = st->readable;
    auto cb = e->cb.on_readable;
    cb();
    any = true;
    e = entry(h);
    st = host_->status(h);
    // Still readable after taking something: another turn (else it would spin on a reader
    // that takes nothing; it is called again when more arrives or it unpauses).
    if (e != nullptr && st && wants_read(*st, *e) && st->readable != before) mark(h);
  }
  if (e != nullptr && st && e->want_write && e->cb.on_writable && st->writable()) {
    e->want_write = false;
    auto cb = e->cb.on_writable;
    cb();
    any = true;
  }
  return any;
}

bool event_loop::transmit() {
  const drained d = drain_transmit(*host_, link_, now_, mutable_bytes{txbuf_}, tx_burst);
  stats_.tx_packets += d.sent;
  stats_.tx_dropped += d.dropped;
  return d.sent + d.dropped > 0;
}

}  // namespace synack::runtime
