// The peer: lwIP 2.1 (Debian's liblwip, linked, never copied) measured the same way as synack
// in bench/open_close_bench.cpp and bench/bulk_bench.cpp, in the same run.
//
// One lwIP instance holds two netifs, 10.0.0.1 and 10.0.0.2; each pcb is bound to its netif
// (tcp_bind_netif), so every segment leaves through a netif's output function, which clones
// the pbuf into a queue that the driver hands to the other netif's input (ip4_input) — the
// same one copy per packet as synack's poll_transmit/on_packet. Only the raw TCP API is used
// from this one thread; the tcpip thread is never started. Time: lwIP's TCP timers run on
// tcp_ticks, which the driver advances itself (no sys_check_timeouts, no sleeping).
//
// The library is Debian's build: NO_SYS=0, MEMP_MEM_MALLOC (pools are malloc), checksums in
// software, TCP_WND = TCP_SND_BUF = 64 KiB, delayed ACKs. Its allocations go to malloc, not
// operator new, so the counting allocator does not see them.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <vector>

#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"

namespace synack::bench {
namespace {

// ---- the in-memory link ----------------------------------------------------------------------

struct queued_packet {
  netif* to = nullptr;
  pbuf* p = nullptr;
};

class lwip_world {
 public:
  static lwip_world& get() {
    static lwip_world w;
    return w;
  }

  netif a{};
  netif b{};
  ip4_addr_t a_ip{};
  ip4_addr_t b_ip{};
  std::uint64_t segments = 0;
  std::uint64_t dropped = 0;

  // Hands queued packets to their netifs until none is left; true if any moved.
  bool move() {
    bool moved = false;
    while (head_ != tail_) {
      const queued_packet q = ring_[head_ % ring_.size()];
      ++head_;
      ++segments;
      moved = true;
      if (q.to->input(q.p, q.to) != ERR_OK) pbuf_free(q.p);
    }
    return moved;
  }

 private:
  lwip_world() {
    lwip_init();
    IP4_ADDR(&a_ip, 10, 0, 0, 1);
    IP4_ADDR(&b_ip, 10, 0, 0, 2);
    ip4_addr_t mask{};
    IP4_ADDR(&mask, 255, 255, 255, 0);
    ip4_addr_t gw{};
    netif_add(&a, &a_ip, &mask, &gw, &b, init_netif, ip4_input);
    netif_add(&b, &b_ip, &mask, &gw, &a, init_netif, ip4_input);
    for (netif* n : {&a, &b}) {
      netif_set_up(n);
      netif_set_link_up(n);
    }
  }

  static err_t init_netif(netif* n) {
    n->name[0] = 'm';
    n->name[1] = 'e';
    n->mtu = 1500;
    n->output = output;
    return ERR_OK;
  }

  // netif->output: the pbuf stays lwIP's (it may be retransmitted), so the queue holds a clone.
  static err_t output(netif* n, pbuf* p, const ip4_addr_t*) {
    lwip_world& w = get();
    pbuf* q = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
    if (q == nullptr || w.tail_ - w.head_ == w.ring_.size()) {
      if (q != nullptr) pbuf_free(q);
      ++w.dropped;
      return ERR_MEM;
    }
    w.ring_[w.tail_ % w.ring_.size()] = queued_packet{static_cast<netif*>(n->state), q};
    ++w.tail_;
    return ERR_OK;
  }

  std::array<queued_packet, 4096> ring_{};
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

tcp_pcb* listen_on(netif* n, const ip4_addr_t* ip, std::uint16_t port, tcp_accept_fn on_accept, void* arg) {
  tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr) return nullptr;
  ip_addr_t addr{};
  ip_addr_copy_from_ip4(addr, *ip);
  if (tcp_bind(pcb, &addr, port) != ERR_OK) return nullptr;
  tcp_bind_netif(pcb, n);
  tcp_pcb* l = tcp_listen_with_backlog(pcb, 255);
  if (l == nullptr) return nullptr;
  tcp_arg(l, arg);
  tcp_accept(l, on_accept);
  return l;
}

tcp_pcb* connect_from(netif* n, const ip4_addr_t* local, const ip4_addr_t* remote, std::uint16_t port,
                      tcp_connected_fn on_connected, void* arg) {
  tcp_pcb* pcb = tcp_new();
  if (pcb == nullptr) return nullptr;
  ip_addr_t l{};
  ip_addr_copy_from_ip4(l, *local);
  ip_addr_t r{};
  ip_addr_copy_from_ip4(r, *remote);
  if (tcp_bind(pcb, &l, 0) != ERR_OK) {
    tcp_abort(pcb);
    return nullptr;
  }
  tcp_bind_netif(pcb, n);
  tcp_arg(pcb, arg);
  if (tcp_connect(pcb, &r, port, on_connected) != ERR_OK) {
    tcp_abort(pcb);
    return nullptr;
  }
  return pcb;
}

// ---- open and close --------------------------------------------------------------------------

// The cycle of bench/open_close_bench.cpp: connect, accept, client close, server close on
// end-of-stream; the client keeps the TIME-WAIT pcb. Every `sweep` cycles tcp_ticks jumps
// past 2 x TCP_MSL and one slow timer run frees them, like synack's virtual-clock jump.
class lwip_open_close {
 public:
  explicit lwip_open_close(std::uint16_t port, std::size_t sweep) : sweep_(sweep) {
    lwip_world& w = lwip_world::get();
    listener_ = listen_on(&w.b, &w.b_ip, port, on_accept, this);
    port_ = port;
  }
  ~lwip_open_close() {
    if (listener_ != nullptr) tcp_close(listener_);
    sweep_time_wait();
  }
  lwip_open_close(const lwip_open_close&) = delete;
  lwip_open_close& operator=(const lwip_open_close&) = delete;

  bool cycle() {
    lwip_world& w = lwip_world::get();
    connected_ = false;
    accepted_ = nullptr;
    peer_closed_ = false;
    tcp_pcb* c = connect_from(&w.a, &w.a_ip, &w.b_ip, port_, on_connected, this);
    if (c == nullptr) return false;
    w.move();
    if (!connected_ || accepted_ == nullptr) return false;
    tcp_arg(c, nullptr);
    if (tcp_close(c) != ERR_OK) return false;
    w.move();
    if (!peer_closed_) return false;
    tcp_pcb* s = accepted_;
    tcp_arg(s, nullptr);
    tcp_recv(s, nullptr);
    if (tcp_close(s) != ERR_OK) return false;
    w.move();
    if (++cycles_ % sweep_ == 0) sweep_time_wait();
    return true;
  }

  // No active pcb left; the TIME-WAIT list holds at most `sweep` pcbs.
  [[nodiscard]] bool clean() const {
    std::size_t tw = 0;
    for (const tcp_pcb* p = tcp_tw_pcbs; p != nullptr; p = p->next) ++tw;
    return listener_ != nullptr && tcp_active_pcbs == nullptr && tw <= sweep_;
  }

 private:
  static void sweep_time_wait() {
    tcp_ticks += 2 * TCP_MSL / TCP_SLOW_INTERVAL + 1;
    tcp_slowtmr();
  }
  static err_t on_connected(void* arg, tcp_pcb*, err_t err) {
    static_cast<lwip_open_close*>(arg)->connected_ = err == ERR_OK;
    return ERR_OK;
  }
  static err_t on_accept(void* arg, tcp_pcb* pcb, err_t err) {
    if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
    auto* self = static_cast<lwip_open_close*>(arg);
    self->accepted_ = pcb;
    tcp_arg(pcb, self);
    tcp_recv(pcb, on_recv);
    return ERR_OK;
  }
  static err_t on_recv(void* arg, tcp_pcb* pcb, pbuf* p, err_t) {
    if (p != nullptr) {  // no data is sent in this benchmark; take it anyway
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
      return ERR_OK;
    }
    if (arg != nullptr) static_cast<lwip_open_close*>(arg)->peer_closed_ = true;
    return ERR_OK;
  }

  tcp_pcb* listener_ = nullptr;
  tcp_pcb* accepted_ = nullptr;
  std::uint16_t port_ = 0;
  std::size_t sweep_;
  std::uint64_t cycles_ = 0;
  bool connected_ = false;
  bool peer_closed_ = false;
};

void bm_lwip_open_close(benchmark::State& state) {
  const auto sweep = static_cast<std::size_t>(state.range(0));
  lwip_open_close d(80, sweep);
  for (std::size_t i = 0; i < 3 * sweep + 1000; ++i) {
    if (!d.cycle()) {
      state.SkipWithError("warm-up cycle failed");
      return;
    }
  }
  const std::uint64_t segs0 = lwip_world::get().segments;
  std::uint64_t cycles = 0;
  for (auto _ : state) {
    if (!d.cycle()) {
      state.SkipWithError("cycle failed");
      break;
    }
    ++cycles;
  }
  const auto n = static_cast<double>(cycles);
  const auto segs = static_cast<double>(lwip_world::get().segments - segs0);
  state.counters["cycles/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["segs/cycle"] = benchmark::Counter(n > 0 ? segs / n : 0);
  if (!d.clean()) state.SkipWithError("lwIP not clean after the run");
}
BENCHMARK(bm_lwip_open_close)->ArgName("tw")->Arg(16)->Arg(4096);

// ---- bulk ------------------------------------------------------------------------------------

// The round of bench/bulk_bench.cpp: the sender fills its send buffer (tcp_write with COPY, as
// synack's send copies), packets move, the receiver copies everything out (as synack's recv)
// and calls tcp_recved, ACKs move back. tcp_fasttmr then sends any ACK lwIP delayed, as its
// 250 ms timer would; without it the last odd segment of a round waits for the timer.
class lwip_bulk {
 public:
  lwip_bulk() : src_(64 * 1024), sink_(64 * 1024) {
    for (std::size_t i = 0; i < src_.size(); ++i) src_[i] = static_cast<std::byte>(i * 7);
    lwip_world& w = lwip_world::get();
    listener_ = listen_on(&w.b, &w.b_ip, 81, on_accept, this);
    if (listener_ == nullptr) return;
    sender_ = connect_from(&w.a, &w.a_ip, &w.b_ip, 81, on_connected, this);
    if (sender_ == nullptr) return;
    w.move();
    ok_ = connected_ && receiver_ != nullptr;
  }
  ~lwip_bulk() {
    if (sender_ != nullptr) tcp_abort(sender_);
    if (receiver_ != nullptr) tcp_abort(receiver_);
    if (listener_ != nullptr) tcp_close(listener_);
    lwip_world::get().move();
  }
  lwip_bulk(const lwip_bulk&) = delete;
  lwip_bulk& operator=(const lwip_bulk&) = delete;

  std::size_t round() {
    lwip_world& w = lwip_world::get();
    got_ = 0;
    for (;;) {
      const auto room = static_cast<std::uint16_t>(std::min<std::size_t>(tcp_sndbuf(sender_), 16 * 1024));
      if (room == 0 || tcp_write(sender_, src_.data(), room, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
    }
    tcp_output(sender_);
    w.move();
    tcp_fasttmr();
    w.move();
    return got_;
  }

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::uint32_t retransmissions() const { return sender_->nrtx; }

 private:
  static err_t on_connected(void* arg, tcp_pcb*, err_t err) {
    static_cast<lwip_bulk*>(arg)->connected_ = err == ERR_OK;
    return ERR_OK;
  }
  static err_t on_accept(void* arg, tcp_pcb* pcb, err_t err) {
    if (err != ERR_OK || pcb == nullptr) return ERR_VAL;
    auto* self = static_cast<lwip_bulk*>(arg);
    self->receiver_ = pcb;
    tcp_arg(pcb, self);
    tcp_recv(pcb, on_recv);
    return ERR_OK;
  }
  static err_t on_recv(void* arg, tcp_pcb* pcb, pbuf* p, err_t) {
    if (p == nullptr) return ERR_OK;
    auto* self = static_cast<lwip_bulk*>(arg);
    std::size_t off = 0;
    while (off < p->tot_len) {
      const auto chunk = static_cast<std::uint16_t>(std::min<std::size_t>(p->tot_len - off, self->sink_.size()));
      off += pbuf_copy_partial(p, self->sink_.data(), chunk, static_cast<std::uint16_t>(off));
    }
    self->got_ += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
  }

  std::vector<std::byte> src_;
  std::vector<std::byte> sink_;
  tcp_pcb* listener_ = nullptr;
  tcp_pcb* sender_ = nullptr;
  tcp_pcb* receiver_ = nullptr;
  std::size_t got_ = 0;
  bool connected_ = false;
  bool ok_ = false;
};

void bm_lwip_bulk(benchmark::State& state) {
  lwip_bulk d;
  if (!d.ok()) {
    state.SkipWithError("lwIP handshake failed");
    return;
  }
  std::uint64_t warm = 0;
  for (int i = 0; i < 200; ++i) warm += d.round();
  if (warm == 0) {
    state.SkipWithError("no data moved during warm-up");
    return;
  }
  const std::uint64_t segs0 = lwip_world::get().segments;
  std::uint64_t total = 0;
  for (auto _ : state) total += d.round();
  const auto segs = static_cast<double>(lwip_world::get().segments - segs0);
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(total), benchmark::Counter::kIsRate);
  state.counters["segs/s"] = benchmark::Counter(segs, benchmark::Counter::kIsRate);
  state.counters["retrans"] = benchmark::Counter(static_cast<double>(d.retransmissions()));
  if (total == 0) state.SkipWithError("no data moved");
}
BENCHMARK(bm_lwip_bulk);

}  // namespace
}  // namespace synack::bench
