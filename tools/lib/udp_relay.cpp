// The UDP relay of `synack proxy` (udp_relay.hpp): the session table, then the relay between
// the host's any-address UDP binding and one connected kernel socket per session (--direct;
// --socks5's UDP associations are in udp_socks5.cpp).
#include "udp_relay.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "proxy.hpp"

namespace synack::tools {

// ---- the table (sans-IO) ---------------------------------------------------------------------

void udp_session_table::session::keep_head(bytes payload) {
  head_len = static_cast<std::uint8_t>(std::min(payload.size(), head.size()));
  std::memcpy(head.data(), payload.data(), head_len);
}

udp_session_table::udp_session_table(std::size_t max_sessions, duration idle_timeout)
    : max_(max_sessions == 0 ? 1 : max_sessions), idle_(idle_timeout) {}

udp_session_table::session* udp_session_table::find(const four_tuple& t) {
  auto it = index_.find(t);
  return it == index_.end() ? nullptr : &*it->second;
}

void udp_session_table::touch(session& s, instant now) {
  s.last_active = now;
  auto it = index_.find(s.tuple);
  if (it != index_.end()) lru_.splice(lru_.end(), lru_, it->second);  // iterators stay valid
}

udp_session_table::session& udp_session_table::insert(instant now, const four_tuple& t, int fd,
                                                      std::optional<session>& evicted) {
  evicted.reset();
  if (lru_.size() >= max_) {
    evicted = lru_.front();
    index_.erase(lru_.front().tuple);
    lru_.pop_front();
    ++evicted_;
  }
  lru_.push_back(session{t, fd, now});
  index_.emplace(t, std::prev(lru_.end()));
  ++opened_;
  return lru_.back();
}

void udp_session_table::expire(instant now, std::vector<session>& out) {
  while (!lru_.empty() && lru_.front().last_active + idle_ <= now) {
    out.push_back(lru_.front());
    index_.erase(lru_.front().tuple);
    lru_.pop_front();
    ++expired_;
  }
}

bool udp_session_table::erase(const four_tuple& t) {
  auto it = index_.find(t);
  if (it == index_.end()) return false;
  lru_.erase(it->second);
  index_.erase(it);
  return true;
}

std::optional<instant> udp_session_table::next_expiry() const {
  if (lru_.empty()) return std::nullopt;
  return lru_.front().last_active + idle_;
}

// ---- the relay -------------------------------------------------------------------------------

std::string udp_relay::describe(const four_tuple& t) {
  return fmt::format("{} -> {}", t.remote_addr.with_port(t.remote_port), t.local_addr.with_port(t.local_port));
}

result<std::unique_ptr<udp_relay>, std::string> udp_relay::start(runtime::event_loop& loop,
                                                                 const udp_relay_options& o) {
  std::unique_ptr<udp_relay> r(new udp_relay(loop, o));
  any_address_options ao;
  ao.family = listen_family::any;  // one binding takes both families
  auto b = loop.host().bind_udp_any(ao, r.get());
  if (!b) return unexpected{fmt::format("any-address UDP binding: {}", to_string(b.error()))};
  r->binding_ = *b;
  r->bound_ = true;
  return r;
}

udp_relay::udp_relay(runtime::event_loop& loop, udp_relay_options o)
    : loop_(loop), opts_(std::move(o)), table_(opts_.max_sessions, opts_.idle_timeout), buf_(65536) {}

udp_relay::~udp_relay() {
  if (timer_ != 0) loop_.cancel(timer_);
  for (const auto& s : table_.sessions()) {
    loop_.unwatch(s.fd);
    ::close(s.fd);
  }
  for (auto& [t, a] : assocs_) {
    if (a.timer != 0) loop_.cancel(a.timer);
    if (a.udp_fd >= 0) {
      loop_.unwatch(a.udp_fd);
      ::close(a.udp_fd);
    }
  }
  if (bound_) loop_.host().close_udp(binding_);
}

udp_relay_stats udp_relay::stats() const {
  udp_relay_stats s = stats_;
  s.sessions_opened = table_.opened();
  s.sessions_active = table_.size();
  s.sessions_expired = table_.expired();
  s.sessions_evicted = table_.evicted();
  return s;
}

// A datagram from a client (called from inside host::on_packet: no TCP command here).
void udp_relay::on_datagram(instant now, const udp_datagram& d) {
  udp_session_table::session* s = table_.find(d.tuple);
  if (s == nullptr) {
    s = opts_.socks5 ? open_association(now, d.tuple) : open_session(now, d.tuple);
    if (s == nullptr) {
      ++stats_.dropped;
      return;
    }
  } else {
    table_.touch(*s, now);
  }
  if (opts_.socks5) {
    send_socks5(*s, d);
  } else {
    send_direct(now, *s, d);
  }
}

void udp_relay::send_direct(instant now, udp_session_table::session& s, const udp_datagram& d) {
  s.keep_head(d.payload);
  const ssize_t n = ::send(s.fd, d.payload.data(), d.payload.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0) {
    // A full send buffer (EAGAIN, ENOBUFS) drops the datagram as a full queue would; an ICMP
    // error the socket holds is reported here or on the next recv, whichever comes first (the
    // datagram is not sent), and a refusal passed on as on_upstream does.
    const int err = errno;
    if (err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH) {
      ++stats_.upstream_errors;
      if (err == ECONNREFUSED && loop_.host().send_udp_unreachable(now, d.tuple, d.payload).has_value()) {
        ++stats_.unreachable_sent;
      }
    } else {
      ++stats_.dropped;
    }
    return;
  }
  ++stats_.datagrams_up;
  stats_.bytes_up += d.payload.size();
}

udp_session_table::session* udp_relay::open_session(instant now, const four_tuple& t) {
  const ip_addr& dst = t.local_addr;
  const int fd = ::socket(dst.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fmt::print(stderr, "synack proxy: udp {}: socket: {}\n", describe(t), std::strerror(errno));
    return nullptr;
  }
  // As the TCP side: the proxy's own datagrams must not come back into the TUN.
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(dst, t.local_port, ss);
  int err = set_out_route(fd, opts_.out_interface, opts_.out_mark);
  if (err == 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len) < 0) err = errno;
  if (err == 0 && !loop_.watch(fd, EPOLLIN, [this, t](std::uint32_t ev) { on_upstream(t, ev); })) err = errno;
  if (err != 0) {
    fmt::print(stderr, "synack proxy: udp {}: upstream socket: {}\n", describe(t), std::strerror(err));
    loop_.unwatch(fd);
    ::close(fd);
    return nullptr;
  }
  return &add_session(now, t, fd);
}

udp_session_table::session& udp_relay::add_session(instant now, const four_tuple& t, int fd) {
  std::optional<udp_session_table::session> evicted;
  udp_session_table::session& s = table_.insert(now, t, fd, evicted);
  if (evicted) end_session(*evicted, "evicted (table full)");
  if (opts_.verbose) fmt::print(stderr, "synack proxy: udp {} opened\n", describe(t));
  arm_timer();
  return s;
}

// The upstream socket is readable (or holds an error): its datagrams go back to the client
// from the original destination.
void udp_relay::on_upstream(const four_tuple& t, std::uint32_t /*events*/) {
  for (int i = 0; i < reads_per_wakeup; ++i) {
    udp_session_table::session* s = table_.find(t);
    if (s == nullptr) return;
    const ssize_t n = ::recv(s->fd, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      // An ICMP error from the destination, reported once (the socket goes on working). A
      // refusal is passed on to the client, as the destination's own port unreachable.
      const int err = errno;
      ++stats_.upstream_errors;
      if (opts_.verbose) fmt::print(stderr, "synack proxy: udp {}: upstream {}\n", describe(t), std::strerror(err));
      if (err == ECONNREFUSED &&
          loop_.host().send_udp_unreachable(loop_.now(), t, bytes{s->head.data(), s->head_len}).has_value()) {
        ++stats_.unreachable_sent;
      }
      continue;
    }
    if (!deliver(*s, bytes{buf_.data(), static_cast<std::size_t>(n)})) return;
  }
}

bool udp_relay::deliver(udp_session_table::session& s, bytes payload) {
  const four_tuple& t = s.tuple;
  auto r = loop_.host().send_udp(udp_endpoint{t.local_addr, t.local_port}, udp_endpoint{t.remote_addr, t.remote_port},
                                 payload);
  if (!r) {
    ++stats_.dropped;  // too long for the MTU, or the host's transmit queue is full
    return r.error() != host_error::no_buffer_space;
  }
  table_.touch(s, loop_.now());
  ++stats_.datagrams_down;
  stats_.bytes_down += payload.size();
  return true;
}

void udp_relay::end_session(const udp_session_table::session& s, const char* why) {
  loop_.unwatch(s.fd);
  ::close(s.fd);
  if (auto it = assocs_.find(s.tuple); it != assocs_.end()) {
    // --socks5: closing the control connection ends the association (RFC 1928 §6).
    association& a = it->second;
    if (a.timer != 0) loop_.cancel(a.timer);
    if (a.udp_fd >= 0) {
      loop_.unwatch(a.udp_fd);
      ::close(a.udp_fd);
    }
    assocs_.erase(it);
  }
  if (opts_.verbose) fmt::print(stderr, "synack proxy: udp {} {}\n", describe(s.tuple), why);
}

void udp_relay::remove_session(const four_tuple& t, const char* why) {
  udp_session_table::session* s = table_.find(t);
  if (s == nullptr) return;
  const udp_session_table::session gone = *s;
  (void)table_.erase(t);
  end_session(gone, why);
}

// One loop timer at the least recently active session's expiry. Activity only moves expiries
// later, so a timer that fires early finds nothing idle and is armed again for the new front.
void udp_relay::arm_timer() {
  if (timer_ != 0) return;
  const auto at = table_.next_expiry();
  if (!at) return;
  timer_ = loop_.call_at(*at, [this] { on_timer(); });
}

void udp_relay::on_timer() {
  timer_ = 0;
  ended_.clear();
  table_.expire(loop_.now(), ended_);
  for (const auto& s : ended_) end_session(s, "expired (idle)");
  ended_.clear();
  arm_timer();
}

}  // namespace synack::tools
