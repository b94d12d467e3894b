#pragma once
// Batched TUN I/O through io_uring (private to io/tun). A TUN descriptor moves one packet per
// read() or write(), and in a VM a system call costs more than the packet's own processing
// (docs/performance.md, "TUN"): this cuts the calls to about one per batch.
//  - receive: one multishot read (Linux 6.7) into a ring of provided buffers. The rings are
//    SINGLE_ISSUER | DEFER_TASKRUN (Linux 6.1): the kernel does the reads only when receive()
//    asks for completions (io_uring_enter GETEVENTS), never by interrupting the thread; a
//    registered eventfd tells epoll that work waits. Buffers go back after the sink saw them.
//  Buffers are one packet each: MTU-sized, or 64 KiB with offloads (fewer of them then).
//  - send: each packet is copied into a slot and queued as a write; submit() hands the queue over
//    in one io_uring_enter (a TUN write never blocks, so they complete in that call).
// The thread that opens the link must be the one that drives it (SINGLE_ISSUER).
// open() fails with the reason where io_uring or multishot read is missing or refused (old
// kernel, seccomp, kernel.io_uring_disabled); tun_link then keeps to read()/write().
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "synack/io/link.hpp"
#include "synack/util/result.hpp"

namespace synack::io::detail {

// A packet as read from the device (with its virtio-net header, if the device has one).
using raw_sink = std::function<void(bytes raw)>;

class tun_uring {
 public:
  [[nodiscard]] static result<std::unique_ptr<tun_uring>, std::string> open(int tun_fd, std::size_t packet_len);
  virtual ~tun_uring() = default;
  // True when completions wait that the TUN descriptor will not signal (it is readable only
  // while packets sit in the device's queue).
  [[nodiscard]] virtual bool rx_pending() const = 0;
  // Up to `max` received packets to `sink`; also counts rx errors into `st`.
  virtual std::size_t receive(std::size_t max, const raw_sink& sink, link_stats& st) = 0;
  // Queues one packet behind `header` (empty, or a virtio-net header); false if it cannot be
  // queued (too big).
  virtual bool send(bytes header, bytes packet, link_stats& st) = 0;
  // Submits what send() queued.
  virtual void submit(link_stats& st) = 0;
};

}  // namespace synack::io::detail
