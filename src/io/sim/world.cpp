// The simulated world: links with impairments between sans-IO nodes, in virtual time.
//
// One instant is processed in rounds (deliver due packets, fire due timers, collect
// transmissions) until a round does nothing; then time jumps to the earliest future event.
// Every random draw comes from one generator in a fixed order per packet, so a run is a pure
// function of the seed.
#include "synack/io/sim/world.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <utility>

namespace synack::sim {

namespace {

constexpr std::size_t scratch_size = 65536;
constexpr std::size_t ipv4_min_header = 20;
constexpr std::size_t ipv4_dst_offset = 16;

// Serialisation time of `size` bytes at `bps`, rounded up to whole microseconds so a packet
// never takes zero time on a finite link.
duration serialisation_time(std::size_t size, std::uint64_t bps) {
  if (bps == 0) {
    return duration{0};
  }
  const std::uint64_t bit_us = std::uint64_t{size} * 8U * 1'000'000U;
  return duration{static_cast<std::int64_t>((bit_us + bps - 1) / bps)};
}

}  // namespace

struct world::impl {
  // Packets accepted onto one direction that have not started serialising yet, FIFO by start
  // time. A vector with a moving head: capacity is kept, so steady state does not allocate.
  struct backlog {
    struct entry {
      instant start;
      std::size_t size;
    };
    std::vector<entry> entries;
    std::size_t head = 0;
    std::size_t queued_bytes = 0;

    void drain(instant t) {
      while (head < entries.size() && entries[head].start <= t) {
        queued_bytes -= entries[head].size;
        ++head;
      }
      if (head == entries.size()) {
        entries.clear();
        head = 0;
      } else if (head > 1024 && head * 2 > entries.size()) {
        entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(head));
        head = 0;
      }
    }
    void push(instant start, std::size_t size) {
      entries.push_back({start, size});
      queued_bytes += size;
    }
  };

  struct direction {
    link_config cfg;
    link_stats stats;
    node_id from = 0;
    node_id to = 0;
    instant busy_until{0};  // when the transmitter finishes serialising what it has accepted
    backlog queue;
  };

  struct link {
    std::array<direction, 2> dirs;  // [0]: a to b, [1]: b to a
  };

  // One end of a link as seen from a node: which link, and which direction is outbound.
  struct attachment {
    link_id link;
    std::size_t out_dir;
    node_id peer;
  };

  struct node_rec {
    node* n;
    ipv4_addr addr;
    std::string name;
    std::vector<attachment> attached;
  };

  struct in_flight {
    instant arrival;
    std::uint64_t seq;  // send order, breaks ties between equal arrivals
    link_id link;
    std::size_t dir;
    std::vector<std::byte> data;
  };
  // std::push_heap builds a max-heap, so "less" means "arrives later".
  struct arrives_later {
    bool operator()(const in_flight& x, const in_flight& y) const {
      if (x.arrival != y.arrival) {
        return x.arrival > y.arrival;
      }
      return x.seq > y.seq;
    }
  };

  explicit impl(std::uint64_t seed) : random_(seed), scratch_(scratch_size) {}

  instant now_{0};
  rng random_;
  std::vector<node_rec> nodes_;
  std::vector<link> links_;
  std::vector<in_flight> heap_;
  std::vector<std::vector<std::byte>> free_buffers_;
  std::vector<std::byte> scratch_;
  std::function<void(const packet_event&)> observer_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t unroutable_ = 0;
  std::uint64_t livelocks_ = 0;
  bool livelocked_ = false;  // the current instant hit a bound; set by process_instant
  // Bounds the rounds at one instant, and one node's poll_transmit loop in a round, so nodes
  // that answer each other forever with zero latency cannot hang the simulation.
  std::uint64_t round_limit_ = 1'000'000;

  std::vector<std::byte> acquire(bytes content) {
    std::vector<std::byte> buf;
    if (!free_buffers_.empty()) {
      buf = std::move(free_buffers_.back());
      free_buffers_.pop_back();
    }
    buf.assign(content.begin(), content.end());
    return buf;
  }
  void release(std::vector<std::byte> buf) { free_buffers_.push_back(std::move(buf)); }

  void notify(link_id l, const direction& d, packet_fate fate, bytes packet) const {
    if (observer_) {
      observer_(packet_event{now_, l, d.from, d.to, fate, packet});
    }
  }

  const attachment* route(node_id from, bytes packet) const;
  void transmit(node_id from, bytes packet);
  void enqueue(link_id l, std::size_t dir, bytes packet);
  bool deliver_due();
  bool fire_timers();
  bool collect_transmissions();
  bool process_instant(bool* progressed = nullptr);
  [[nodiscard]] std::optional<instant> next_event() const;
};

const world::impl::attachment* world::impl::route(node_id from, bytes packet) const {
  const auto& rec = nodes_[from];
  if (rec.attached.empty()) {
    return nullptr;
  }
  if (packet.size() >= ipv4_min_header) {
    const ipv4_addr dst{load_be32(packet.data() + ipv4_dst_offset)};
    for (const auto& a : rec.attached) {
      if (nodes_[a.peer].addr == dst) {
        return &a;
      }
    }
  }
  return &rec.attached.front();  // the default route
}

void world::impl::transmit(node_id from, bytes packet) {
  const attachment* a = route(from, packet);
  if (a == nullptr) {
    ++unroutable_;
    return;
  }
  enqueue(a->link, a->out_dir, packet);
}

// The fixed order of impairments (and so of random draws): too_big, loss, queue limit,
// bandwidth, latency, reorder, duplicate, corrupt. Changing it changes every seeded run.
void world::impl::enqueue(link_id l, std::size_t dir, bytes packet) {
  direction& d = links_[l].dirs[dir];
  ++d.stats.sent;
  notify(l, d, packet_fate::sent, packet);
  if (packet.size() > d.cfg.mtu) {
    ++d.stats.too_big;
    notify(l, d, packet_fate::too_big, packet);
    return;
  }
  if (random_.chance(d.cfg.loss)) {
    ++d.stats.lost;
    notify(l, d, packet_fate::lost, packet);
    return;
  }
  const instant start = std::max(now_, d.busy_until);
  d.queue.drain(now_);
  // Only packets that must wait for the transmitter occupy the queue; one that starts at once
  // is on the wire, not in the buffer.
  if (start > now_) {
    if (d.cfg.queue_limit_bytes != 0 && d.queue.queued_bytes + packet.size() > d.cfg.queue_limit_bytes) {
      ++d.stats.queue_drops;
      notify(l, d, packet_fate::queue_drop, packet);
      return;
    }
    d.queue.push(start, packet.size());
  }
  const instant departure = start + serialisation_time(packet.size(), d.cfg.bandwidth_bps);
  d.busy_until = departure;
  instant arrival = departure + d.cfg.latency;
  if (random_.chance(d.cfg.reorder)) {
    ++d.stats.reordered;
    arrival += d.cfg.reorder_delay;
  }
  const bool dup = random_.chance(d.cfg.duplicate);
  const bool corrupt = random_.chance(d.cfg.corrupt) && !packet.empty();
  // Which copy is corrupted, and where; drawn only when needed so the order above holds.
  const bool corrupt_copy = corrupt && dup && random_.below(2) == 1;
  const std::uint64_t bit = corrupt ? random_.below(std::uint64_t{packet.size()} * 8U) : 0;

  for (int copy = 0; copy < (dup ? 2 : 1); ++copy) {
    in_flight f{arrival, next_seq_++, l, dir, acquire(packet)};
    if (copy == 1) {
      ++d.stats.duplicated;
      notify(l, d, packet_fate::duplicated, f.data);
    }
    if (corrupt && (copy == 1) == corrupt_copy) {
      f.data[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
      ++d.stats.corrupted;
      notify(l, d, packet_fate::corrupted, f.data);
    }
    heap_.push_back(std::move(f));
    std::push_heap(heap_.begin(), heap_.end(), arrives_later{});
  }
}

bool world::impl::deliver_due() {
  bool any = false;
  while (!heap_.empty() && heap_.front().arrival <= now_) {
    std::pop_heap(heap_.begin(), heap_.end(), arrives_later{});
    in_flight f = std::move(heap_.back());
    heap_.pop_back();
    direction& d = links_[f.link].dirs[f.dir];
    ++d.stats.delivered;
    d.stats.bytes_delivered += f.data.size();
    notify(f.link, d, packet_fate::delivered, f.data);
    nodes_[d.to].n->on_packet(now_, f.data);
    release(std::move(f.data));
    any = true;
  }
  return any;
}

// Fires each due timer once. A firing counts as progress only if it moved the node's
// deadline: a node that leaves a deadline in the past and does nothing must not make the
// world spin at this instant.
bool world::impl::fire_timers() {
  bool any = false;
  for (auto& rec : nodes_) {
    const std::optional<instant> before = rec.n->next_deadline();
    if (before && *before <= now_) {
      rec.n->on_timeout(now_);
      if (rec.n->next_deadline() != before) {
        any = true;
      }
    }
  }
  return any;
}

bool world::impl::collect_transmissions() {
  bool any = false;
  const mutable_bytes out{scratch_};
  for (node_id id = 0; id < nodes_.size(); ++id) {
    for (std::uint64_t polls = 0;; ++polls) {
      if (polls == round_limit_) {
        livelocked_ = true;
        return true;
      }
      const std::optional<std::size_t> len = nodes_[id].n->poll_transmit(now_, out);
      if (!len) {
        break;
      }
      assert(*len <= out.size());
      transmit(id, out.first(std::min(*len, out.size())));
      any = true;
    }
  }
  return any;
}

// Runs rounds at now until one does nothing. Returns false if a bound cut the instant short
// (a livelock): work remains at now, and the run_* loops stop rather than spin.
bool world::impl::process_instant(bool* progressed) {
  livelocked_ = false;
  for (std::uint64_t round = 0;; ++round) {
    if (round == round_limit_) {
      livelocked_ = true;
    }
    if (livelocked_) {
      ++livelocks_;
      return false;
    }
    bool progress = deliver_due();
    progress = fire_timers() || progress;
    progress = collect_transmissions() || progress;
    if (!progress) {
      return true;
    }
    if (progressed != nullptr) *progressed = true;
  }
}

// The earliest event strictly after now: an arrival, or a node's deadline. Deadlines at or
// before now have had their chance in this instant and do not hold the world awake.
std::optional<instant> world::impl::next_event() const {
  std::optional<instant> next;
  if (!heap_.empty()) {
    next = heap_.front().arrival;
  }
  for (const auto& rec : nodes_) {
    const std::optional<instant> d = rec.n->next_deadline();
    if (d && *d > now_ && (!next || *d < *next)) {
      next = d;
    }
  }
  return next;
}

world::world(std::uint64_t seed) : impl_(std::make_unique<impl>(seed)) {}
world::~world() = default;

node_id world::add_node(node& n, ipv4_addr addr, std::string name) {
  impl_->nodes_.push_back(impl::node_rec{&n, addr, std::move(name), {}});
  return impl_->nodes_.size() - 1;
}

link_id world::add_link(node_id a, node_id b, link_config ab, link_config ba) {
  assert(a < impl_->nodes_.size() && b < impl_->nodes_.size());
  const link_id id = impl_->links_.size();
  impl::link l;
  l.dirs[0].cfg = ab;
  l.dirs[0].from = a;
  l.dirs[0].to = b;
  l.dirs[1].cfg = ba;
  l.dirs[1].from = b;
  l.dirs[1].to = a;
  impl_->links_.push_back(std::move(l));
  impl_->nodes_[a].attached.push_back({id, 0, b});
  impl_->nodes_[b].attached.push_back({id, 1, a});
  return id;
}

void world::set_observer(std::function<void(const packet_event&)> f) { impl_->observer_ = std::move(f); }

instant world::now() const { return impl_->now_; }

bool world::step() {
  // First whatever is due at the current instant (a driver may have issued commands since the
  // last step); if nothing was, jump to the next event and process that instant. Either way
  // `now` stays at the instant processed, so a driver reacts at the time things happened.
  bool progressed = false;
  if (!impl_->process_instant(&progressed) || progressed) {
    return true;
  }
  const std::optional<instant> next = impl_->next_event();
  if (!next) {
    return false;
  }
  impl_->now_ = *next;
  impl_->process_instant();
  return true;
}

void world::run_until(instant t) {
  for (;;) {
    if (!impl_->process_instant()) {
      return;
    }
    const std::optional<instant> next = impl_->next_event();
    if (!next || *next > t) {
      impl_->now_ = std::max(impl_->now_, t);
      return;
    }
    impl_->now_ = *next;
  }
}

bool world::run_while_not(const std::function<bool()>& pred, instant limit) {
  for (;;) {
    if (pred()) {
      return true;
    }
    if (impl_->now_ > limit) {
      return false;
    }
    const bool completed = impl_->process_instant();
    if (pred()) {
      return true;
    }
    if (!completed) {
      return false;
    }
    const std::optional<instant> next = impl_->next_event();
    if (!next) {
      return false;
    }
    if (*next > limit) {
      impl_->now_ = std::max(impl_->now_, limit);
      return false;
    }
    impl_->now_ = *next;
  }
}

const link_stats& world::stats(link_id l, bool a_to_b) const {
  return impl_->links_.at(l).dirs[a_to_b ? 0 : 1].stats;
}
std::uint64_t world::unroutable() const { return impl_->unroutable_; }
std::uint64_t world::livelocks() const { return impl_->livelocks_; }
void world::set_round_limit(std::uint64_t rounds) { impl_->round_limit_ = std::max<std::uint64_t>(rounds, 1); }
const std::string& world::name(node_id n) const { return impl_->nodes_.at(n).name; }
std::size_t world::node_count() const { return impl_->nodes_.size(); }

}  // namespace synack::sim
