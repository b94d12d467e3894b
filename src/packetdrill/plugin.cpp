// The plug-in's clock, its sleepers and its network device (plugin.hpp).
#include "plugin.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "synack/wire/checksum.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/tcp.hpp"

namespace synack::packetdrill {
namespace {

using namespace std::chrono_literals;

// How long whoever moved the clock waits, in real time, for the sleepers to look again: a
// bound, should a sleeper be slow to be scheduled, not a rule of the protocol.
constexpr auto settle_bound = 1s;
// How long netdev_receive waits, in real time, for another thread to make a packet when the
// stack has none queued and no timer pending, before it tells packetdrill there is none.
constexpr auto idle_bound = 2s;
// netdev_receive moves the clock at most this far looking for a packet (a stack that never
// sends what the script expects, with a timer that keeps rearming).
constexpr duration search_bound = std::chrono::minutes(20);

// A TSO device hands packetdrill one large segment where the stack made several: `b` merges
// into `a` if it continues it (same connection, next sequence number, same ACK, window and
// options, sent at the same instant) and neither carries SYN, RST or URG, nor `a` a FIN or
// PSH (Linux's TSO packet ends at the segment it marks PSH: tcp_config::psh_burst_linux).
bool mergeable(const std::vector<std::byte>& a, const std::vector<std::byte>& b, std::size_t max_len) {
  auto ia = ipv4_view::parse(a);
  auto ib = ipv4_view::parse(b);
  if (!ia || !ib || ia->protocol() != ip_proto::tcp || ib->protocol() != ip_proto::tcp) return false;
  if (ia->dst() != ib->dst() || a.size() + ib->payload().size() > max_len) return false;
  auto ta = tcp_view::parse(ia->payload());
  auto tb = tcp_view::parse(ib->payload());
  if (!ta || !tb || ta->payload().empty() || tb->payload().empty()) return false;
  constexpr std::uint8_t never = tcp_flag::syn | tcp_flag::rst | tcp_flag::urg;
  if (((ta->flags() | tb->flags()) & never) != 0 || (ta->flags() & (tcp_flag::fin | tcp_flag::psh)) != 0) return false;
  const auto seg_len = static_cast<std::uint32_t>(ta->payload().size());
  return ta->src_port() == tb->src_port() && ta->dst_port() == tb->dst_port() &&
         tb->seq() == ta->seq() + seq_len{seg_len} && ta->ack_num() == tb->ack_num() &&
         ta->window() == tb->window() && ta->header_len() == tb->header_len() &&
         std::equal(ta->options().begin(), ta->options().end(), tb->options().begin());
}

// The namespace's tun0 with generic segmentation offload off (`ethtool -K tun0 tso off gso
// off`, as nagle/https_client.pkt does before its script): packetdrill then sees every
// segment on its own. False without tun0 or when it cannot be asked.
bool tun0_segmentation_off() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ethtool_value v{};
  v.cmd = ETHTOOL_GGSO;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "tun0", 5);
  ifr.ifr_data = reinterpret_cast<char*>(&v);
  const bool off = ::ioctl(s, SIOCETHTOOL, &ifr) == 0 && v.data == 0;
  ::close(s);
  return off;
}

// Appends b's payload to a, ORs b's PSH and FIN into a, and fixes lengths and checksums.
void merge(std::vector<std::byte>& a, const std::vector<std::byte>& b) {
  const auto ib = *ipv4_view::parse(b);
  const auto tb = *tcp_view::parse(ib.payload());
  const auto ia = *ipv4_view::parse(a);
  ipv4_repr ip = ipv4_repr::parse(ia);
  const std::size_t ihl = ia.header_len();
  const bytes more = tb.payload();
  a.insert(a.end(), more.begin(), more.end());
  ip.payload_len = static_cast<std::uint16_t>(a.size() - ihl);
  ip.emit(a);
  auto* t = a.data() + ihl;
  t[13] = static_cast<std::byte>(std::to_integer<std::uint8_t>(t[13]) | (tb.flags() & (tcp_flag::psh | tcp_flag::fin)));
  t[16] = std::byte{0};
  t[17] = std::byte{0};
  const bytes seg{t, a.size() - ihl};
  const std::uint64_t sum = pseudo_header_sum(ip.src, ip.dst, 6, static_cast<std::uint16_t>(seg.size()));
  store_be16(t + 16, checksum_finish(checksum_partial(seg, sum)));
}

// Every plug-in instance alive in the process (packetdrill makes one; tests may make several).
struct instances {
  std::mutex mu;
  std::vector<plugin*> live;
};
instances& registry() {
  static instances r;
  return r;
}

}  // namespace

plugin::plugin(plugin_options o)
    : opt_(std::move(o)),
      host_(std::make_unique<host>(opt_.host)),
      table_(std::make_unique<posix::socket_table>(*host_)),
      driver_(std::this_thread::get_id()),
      buf_(host_->max_packet_len() + 64) {
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  epoch_us_ = std::int64_t{tv.tv_sec} * 1'000'000 + tv.tv_usec;
  const std::lock_guard g(registry().mu);
  registry().live.push_back(this);
}

plugin::~plugin() {
  const std::lock_guard g(registry().mu);
  std::erase(registry().live, this);
}

std::optional<int> plugin::answer_getsockopt(int kfd, int level, int name, void* value, socklen_t* len) {
  const std::lock_guard g(registry().mu);
  for (plugin* p : registry().live) {
    bool mine = false;
    {
      const lock lk(p->mu_);
      mine = p->fds_.contains(kfd);
    }
    if (mine) return p->getsockopt(kfd, level, name, value, len);
  }
  return std::nullopt;
}

void plugin::trace(const char* fmt, ...) const {
  if (!opt_.verbose) return;
  std::va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "synack-pd %9.6f: ", static_cast<double>(now_.us) / 1e6);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
}

duration plugin::elapsed() {
  const lock lk(mu_);
  return now_ - instant::zero();
}

// Everything the stack has to send now, stamped with now; host events are nobody's here
// (the socket table reads state through the host).
void plugin::pump() {
  while (auto n = host_->poll_transmit(now_, buf_)) {
    out_.push_back(packet{std::vector<std::byte>(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(*n)), now_});
  }
  while (host_->poll_event()) {
  }
  while (auto h = host_->poll_ready()) ++edges_[std::uint64_t{h->index} << 32 | h->gen];
  changed_.notify_all();
}

// After the stack or the clock moved: every sleeper looks again before the caller goes on,
// and one that found its call complete is let return and read the clock.
void plugin::settle(lock& lk) {
  // The returner itself settling (its call goes on after the wait: a read's window update)
  // does not wait for its own clock reading.
  const auto other_returner = [&] { return returner_ && *returner_ != std::this_thread::get_id(); };
  if (sleeping_ == 0 && !other_returner()) return;
  ++generation_;
  to_look_ = sleeping_;
  changed_.notify_all();
  (void)looked_.wait_for(lk, settle_bound, [&] { return to_look_ == 0 && !other_returner(); });
  to_look_ = 0;
}

std::optional<instant> plugin::next_deadline() const {
  std::optional<instant> d = host_->next_deadline();
  for (const instant t : deadlines_) {
    if (t > now_ && (!d || t < *d)) d = t;
    if (t > now_) break;
  }
  return d;
}

// Moves the clock to `t`, stopping at every stack and sleeper deadline on the way.
void plugin::advance_to(lock& lk, instant t) {
  for (;;) {
    bool moved = false;
    if (auto d = host_->next_deadline(); d && *d <= now_) {
      host_->on_timeout(now_);
      moved = true;
    }
    pump();
    if (moved || (!deadlines_.empty() && *deadlines_.begin() <= now_)) settle(lk);
    instant next = t;
    if (auto d = next_deadline(); d && *d < next) next = *d;
    if (next <= now_) return;
    now_ = next;
  }
}

bool plugin::wait(lock& lk, const std::function<bool()>& ready, instant until) {
  if (ready()) return true;
  if (on_driver()) {
    // Nobody else moves the clock: move it, deadline by deadline, as far as `until`.
    while (!ready()) {
      std::optional<instant> d = next_deadline();
      if (until != instant::max() && (!d || *d > until)) d = until;
      if (!d || now_ >= until) return false;
      advance_to(lk, std::max(*d, now_));
    }
    return true;
  }
  ++sleeping_;
  const auto at = deadlines_.insert(until);
  bool slept = false;
  bool ok = false;
  for (;;) {
    ok = ready();
    if (ok || now_ >= until) break;
    const std::uint64_t seen = generation_;
    slept = true;
    changed_.wait(lk, [&] { return generation_ != seen; });
    if (to_look_ > 0 && --to_look_ == 0) looked_.notify_all();
  }
  deadlines_.erase(at);
  --sleeping_;
  if (slept) returner_ = std::this_thread::get_id();
  return ok;
}

bool plugin::wait_events(lock& lk, int tfd, short events, instant until) {
  const auto wake = static_cast<short>(events | posix::pollerr | posix::pollhup | posix::pollnval);
  return wait(lk, [&] { return (table_->revents(tfd) & wake) != 0; }, until);
}

int plugin::usleep(std::uint64_t usec) {
  lock lk(mu_);
  advance_to(lk, now_ + duration{static_cast<std::int64_t>(usec)});
  return 0;
}

int plugin::gettimeofday(timeval* tv) {
  lock lk(mu_);
  if (returner_ && *returner_ == std::this_thread::get_id()) {
    returner_.reset();  // the blocking call that returned has its end time: go on
    looked_.notify_all();
  } else {
    // packetdrill spins on this clock, on either thread (the second one waits for its
    // call's start time too). A woken call's end time comes first: the clock does not creep
    // while its thread is still on its way out (on a loaded machine it can be off a CPU for
    // milliseconds, thousands of creeps of the other thread: blocking-read.pkt's tolerance
    // is 10 ms).
    if (returner_) (void)looked_.wait_for(lk, settle_bound, [&] { return !returner_; });
    advance_to(lk, now_ + duration{1});
  }
  if (tv != nullptr) {
    const std::int64_t t = epoch_us_ + now_.us;
    tv->tv_sec = t / 1'000'000;
    tv->tv_usec = t % 1'000'000;
  }
  return 0;
}

int plugin::netdev_send(const void* buf, std::size_t len) {
  lock lk(mu_);
  if (buf == nullptr) {
    errno = EFAULT;
    return -1;
  }
  host_->on_packet(now_, bytes{static_cast<const std::byte*>(buf), len});
  trace("inbound packet, %zu octets", len);
  pump();
  settle(lk);
  return 0;
}

std::size_t plugin::take_packet(std::byte* out, std::size_t cap, instant& at) {
  packet p = std::move(out_.front());
  out_.pop_front();
  const bool merge_on = opt_.tso && !(opt_.sysctl && tun0_segmentation_off());
  while (merge_on && !out_.empty() && out_.front().at == p.at && mergeable(p.bytes, out_.front().bytes, 65535)) {
    merge(p.bytes, out_.front().bytes);
    out_.pop_front();
  }
  at = p.at;
  const std::size_t n = std::min(cap, p.bytes.size());
  std::memcpy(out, p.bytes.data(), n);
  return n;
}

// The next outbound packet; with none queued the clock goes to the next deadline. With no
// deadline either, another thread may still make one (a blocked write): wait for it, in
// real time, a while; then packetdrill is told (length 0) that none will come.
int plugin::netdev_receive(void* buf, std::size_t* len, long long* time_usecs) {
  lock lk(mu_);
  const instant start = now_;
  auto idle_until = std::chrono::steady_clock::now() + idle_bound;
  for (;;) {
    pump();
    if (!out_.empty()) {
      instant at;
      *len = take_packet(static_cast<std::byte*>(buf), *len, at);
      *time_usecs = epoch_us_ + at.us;
      trace("outbound packet, %zu octets", *len);
      return 0;
    }
    if (auto d = next_deadline(); d && *d - start <= search_bound) {
      advance_to(lk, std::max(*d, now_));
      continue;
    }
    if (changed_.wait_until(lk, idle_until) == std::cv_status::timeout && out_.empty()) break;
  }
  std::fprintf(stderr, "synack packetdrill plug-in: the stack has no packet to send and no timer pending\n");
  *len = 0;
  return 0;
}

}  // namespace synack::packetdrill
