#pragma once
// The link interface (DESIGN.md §1): anything that carries raw IPv4 packets — a TUN device, an
// in-memory pipe, the simulator — and decorators over one (pcap capture, fault injection), so
// `pcap(faults(tun))` stacks like `pcap(faults(memory))`.
//
// Calling contract: the driver (runtime::event_loop) calls receive() when fd() is readable or
// when next_deadline() has passed, send() for each packet the host transmits, and on_timeout()
// when next_deadline() has passed. `now` is the driver's clock (real or virtual).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "synack/util/time.hpp"
#include "synack/wire/bytes.hpp"
#include "synack/wire/offload.hpp"

namespace synack::io {

struct link_stats {
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t tx_dropped = 0;  // the device refused a packet (queue full, too big)
  std::uint64_t rx_errors = 0;
  // Packets a batching link (io_uring) read with a plain read() because its ring had not taken
  // them although the descriptor was readable.
  std::uint64_t rx_direct_reads = 0;
  // Segmentation offload (a TUN device with a virtio-net header): super-packets (GSO, longer
  // than the MTU) the kernel handed over, and those it was given to cut into segments.
  std::uint64_t rx_super_packets = 0;
  std::uint64_t tx_super_packets = 0;
};

// A received packet and what the link knows of it (checksum verified or partial, GSO size);
// plain links pass rx_meta{}.
using packet_sink = std::function<void(bytes packet, const rx_meta& meta)>;

class link {
 public:
  virtual ~link() = default;
  // Hands one IPv4 packet to the link; false if it was dropped. A link may queue it until
  // submit() (a batching device); the driver submits before it waits for input.
  virtual bool send(instant now, bytes packet) = 0;
  // The same for a packet that needs the link's offloads (tx_meta: a super-segment to cut
  // into segments, a partial checksum to complete). Only a link whose tso_max() is not 0 takes
  // such a packet; a plain packet (tx_meta{}) goes through send().
  virtual bool send_offload(instant now, bytes packet, const tx_meta& meta) {
    return meta.gso_size == 0 && !meta.csum_partial && send(now, packet);
  }
  // The largest super-segment payload the link cuts into segments itself (0: none).
  [[nodiscard]] virtual std::uint32_t tso_max() const { return 0; }
  virtual void submit() {}
  // Delivers up to `max` waiting packets to `sink` (each valid only during the call) and
  // returns how many; 0 when none waits. Never blocks.
  virtual std::size_t receive(instant now, std::size_t max, const packet_sink& sink) = 0;
  // A descriptor that becomes readable when receive() has work, or -1 (e.g. in-memory links).
  [[nodiscard]] virtual int fd() const = 0;
  // True when received packets wait that fd() will not signal (a batching link that already
  // holds completions): the driver calls receive() again before it sleeps.
  [[nodiscard]] virtual bool rx_pending() const { return false; }
  // Packets held for later (reordering, delay): when to call on_timeout() and receive() again.
  [[nodiscard]] virtual std::optional<instant> next_deadline() const { return std::nullopt; }
  virtual void on_timeout(instant /*now*/) {}
  [[nodiscard]] virtual std::string name() const = 0;
};

// Hands a packet a host produced (host::poll_transmit with tx_meta) to a link: send() when it
// is plain, send_offload() when it needs the link's segmentation or checksum offload.
inline bool send_packet(link& l, instant now, bytes packet, const tx_meta& meta) {
  const bool plain = meta.gso_size == 0 && !meta.csum_partial;
  return plain ? l.send(now, packet) : l.send_offload(now, packet, meta);
}

// Base for decorators: forwards everything to the inner link.
class link_decorator : public link {
 public:
  explicit link_decorator(link& inner) : inner_(inner) {}
  bool send(instant now, bytes packet) override { return inner_.send(now, packet); }
  bool send_offload(instant now, bytes packet, const tx_meta& meta) override {
    return inner_.send_offload(now, packet, meta);
  }
  [[nodiscard]] std::uint32_t tso_max() const override { return inner_.tso_max(); }
  void submit() override { inner_.submit(); }
  std::size_t receive(instant now, std::size_t max, const packet_sink& sink) override {
    return inner_.receive(now, max, sink);
  }
  [[nodiscard]] int fd() const override { return inner_.fd(); }
  [[nodiscard]] bool rx_pending() const override { return inner_.rx_pending(); }
  [[nodiscard]] std::optional<instant> next_deadline() const override { return inner_.next_deadline(); }
  void on_timeout(instant now) override { inner_.on_timeout(now); }
  [[nodiscard]] std::string name() const override { return inner_.name(); }

 protected:
  link& inner() { return inner_; }
  [[nodiscard]] const link& inner() const { return inner_; }

 private:
  link& inner_;
};

}  // namespace synack::io
