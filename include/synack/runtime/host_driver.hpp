#pragma once
// The loop every program that holds a synack::host over an io::link writes, as one call.
// One turn at `now`:
//   1. the link's own timer, if due (a decorator releasing packets it held back);
//   2. the packets waiting in the link -> host.on_packet (at most turn_rx_max per turn), and
//      after each batch what the host has to send -> link.send / send_offload;
//   3. the host's timers, if due -> host.on_timeout;
//   4. everything the host has to send -> the link, then link.submit();
//   5. malloc_trim(0) if the host's memory pressure just ended (memory_trim.hpp; on by default);
// and it says when to make the next one: the earliest of the host's and the link's deadlines,
// or `now` when packets were left waiting. Between turns the program uses the host's own
// commands and polls (listen, connect, accept, send, recv, poll_event, status); what a command
// queues goes out at the next turn.
//
// turn(now) takes time as a value, so it drives a host in virtual time (io::memory_link, tests)
// as well as in real time. run_once(max_wait) is the real-time form: a turn at the clock's
// time, then a wait in poll(2) on link.fd() until input, the next deadline or max_wait, then a
// turn for what came. event_loop makes the same turns with callbacks, application timers and
// other descriptors around them; use host_driver for a host driven by hand.
//
// The host must not send larger super-segments than the link cuts: host_config::tso_max no
// larger than link.tso_max() (0, the default, is right for every link). A packet the link
// refuses is counted in turn_result::dropped (TCP retransmits it).
#include <cstddef>
#include <optional>
#include <vector>

#include "synack/io/link.hpp"
#include "synack/runtime/memory_trim.hpp"
#include "synack/stack/host.hpp"

namespace synack::runtime {

// Packets handed to the host per turn, so that a flooded link still lets the host's timers
// and transmissions have their turn; the rest waits for the next turn (turn_result::next is
// then `now`).
inline constexpr std::size_t turn_rx_max = 512;

struct turn_result {
  std::size_t received = 0;  // packets handed to host.on_packet
  std::size_t sent = 0;      // packets the link took
  std::size_t dropped = 0;   // packets the link refused
  bool host_timeout = false;  // host.on_timeout ran
  bool link_timeout = false;  // link.on_timeout ran
  // When to make the next turn at the latest (input on link.fd() may come sooner); nullopt:
  // only when input comes.
  std::optional<instant> next;

  turn_result& operator+=(const turn_result& o);
};

class host_driver {
 public:
  // Neither is owned; both must outlive the driver.
  host_driver(synack::host& h, io::link& l);

  // One turn at `now` (virtual or real time).
  turn_result turn(instant now);
  // A turn at clock_now(); then, unless work is due already, a wait of at most `max_wait` for
  // input on link.fd() or the next deadline; then a turn for what came. Returns both turns'
  // counts and the second's `next`.
  turn_result run_once(duration max_wait);

  // The trim of freed memory when the host's memory pressure ends (memory_trim.hpp).
  void set_memory_trim(memory_trim_options o) { trimmer_.set_options(std::move(o)); }
  [[nodiscard]] std::uint64_t memory_trims() const { return trimmer_.trims(); }

  [[nodiscard]] synack::host& host() { return host_; }
  [[nodiscard]] io::link& link() { return link_; }

 private:
  // Drains host.poll_transmit into the link; true if it stopped at its bound with more to send.
  bool transmit(instant now, turn_result& r);

  synack::host& host_;
  io::link& link_;
  std::vector<std::byte> txbuf_;  // one packet, host.max_packet_len() bytes
  memory_trimmer trimmer_;
};

}  // namespace synack::runtime
