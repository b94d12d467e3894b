#pragma once
// synack: every public header of every installed library, for `#include <synack/synack.hpp>`
// and `target_link_libraries(app PRIVATE synack::synack)` (or `pkg-config --cflags --libs synack`).
// Layers from the bottom up (docs/architecture.md); each includes only the ones below it.
// tests/install/umbrella_complete.sh fails when a header under include/synack/ is missing here.

// util: result<T, E>, time (instant, duration), seeded rng, siphash, containers
#include "synack/util/flat_hash_map.hpp"
#include "synack/util/result.hpp"
#include "synack/util/ring_queue.hpp"
#include "synack/util/rng.hpp"
#include "synack/util/siphash.hpp"
#include "synack/util/time.hpp"

// wire: views and reprs for IPv4, IPv6, TCP and its options, ICMP, ICMPv6; checksums; sequence numbers
#include "synack/wire/bytes.hpp"
#include "synack/wire/checksum.hpp"
#include "synack/wire/ecn.hpp"
#include "synack/wire/error.hpp"
#include "synack/wire/icmp.hpp"
#include "synack/wire/icmpv6.hpp"
#include "synack/wire/ip_addr.hpp"
#include "synack/wire/ipv4.hpp"
#include "synack/wire/ipv4_addr.hpp"
#include "synack/wire/ipv6.hpp"
#include "synack/wire/ipv6_addr.hpp"
#include "synack/wire/offload.hpp"
#include "synack/wire/seq.hpp"
#include "synack/wire/tcp.hpp"
#include "synack/wire/udp.hpp"

// tcp: one connection (sans-IO): TCB, state machine, buffers, timers, congestion control, SYN cookies
#include "synack/tcp/challenge_limiter.hpp"
#include "synack/tcp/config.hpp"
#include "synack/tcp/congestion.hpp"
#include "synack/tcp/connection.hpp"
#include "synack/tcp/delivery_rate.hpp"
#include "synack/tcp/events.hpp"
#include "synack/tcp/fast_open.hpp"
#include "synack/tcp/four_tuple.hpp"
#include "synack/tcp/hystart.hpp"
#include "synack/tcp/icmp_report.hpp"
#include "synack/tcp/isn.hpp"
#include "synack/tcp/memory_budget.hpp"
#include "synack/tcp/negotiation.hpp"
#include "synack/tcp/prr.hpp"
#include "synack/tcp/reassembler.hpp"
#include "synack/tcp/rack.hpp"
#include "synack/tcp/receiver.hpp"
#include "synack/tcp/reset.hpp"
#include "synack/tcp/ring_buffer.hpp"
#include "synack/tcp/rtt_estimator.hpp"
#include "synack/tcp/sack_scoreboard.hpp"
#include "synack/tcp/sender.hpp"
#include "synack/tcp/state.hpp"
#include "synack/tcp/syn_cookie.hpp"
#include "synack/tcp/time_wait.hpp"
#include "synack/tcp/timers.hpp"

// stack: one host (sans-IO): demux, listeners, TIME-WAIT table, counters
#include "synack/stack/counters.hpp"
#include "synack/stack/fast_open_cache.hpp"
#include "synack/stack/host.hpp"
#include "synack/stack/rx_coalescer.hpp"

// posix: BSD-socket semantics (descriptors, errno) over a host (sans-IO)
#include "synack/posix/constants.hpp"
#include "synack/posix/socket_table.hpp"
#include "synack/posix/tcp_info.hpp"

// pkt: the packetdrill-dialect runner on virtual time (sans-IO)
#include "synack/pkt/parser.hpp"
#include "synack/pkt/runner.hpp"
#include "synack/pkt/script.hpp"

// io: links: TUN device, simulator world, in-memory pair, pcap capture, fault injection
#include "synack/io/link.hpp"
#include "synack/io/link/faults_link.hpp"
#include "synack/io/link/memory_link.hpp"
#include "synack/io/link/pcap_link.hpp"
#include "synack/io/pcap/pcap_writer.hpp"
#include "synack/io/sim/world.hpp"
#include "synack/io/tun/tun_link.hpp"

// runtime: the epoll event loop, the one-call host_driver, blocking sockets, the real clock,
// the trim of freed memory when memory pressure ends
#include "synack/runtime/blocking.hpp"
#include "synack/runtime/event_loop.hpp"
#include "synack/runtime/host_driver.hpp"
#include "synack/runtime/memory_trim.hpp"
