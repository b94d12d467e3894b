#pragma once
// The stack-level fuzz driver: decodes an input as a program of operations on two
// synack::host objects joined by a wire the program controls, runs it, and checks the
// stack's invariants after every step.
//
// Input format: byte 0 selects a configuration variant (bit flags, see config_bits); then
// each operation is one opcode byte (modulo op::count_) followed by its argument bytes (see
// the table in stack_driver.cpp). Missing argument bytes read as 0, so every input is a valid
// program and a truncated one is a prefix of it.
//
// The two hosts: A = 10.0.0.1 and fd00::1, B = 10.0.0.2 and fd00::2 (op::connect6 opens an
// IPv6 connection; listeners take both families). Besides user commands (listen, connect,
// accept, send, recv, shutdown, close, abort) and wire control (deliver, drop, duplicate,
// corrupt), the program injects segments *crafted around a live connection's sequence space*
// (SEG.SEQ relative to RCV.NXT and RCV.WND, SEG.ACK relative to SND.UNA/SND.NXT and
// MAX.SND.WND, timestamps relative to TS.Recent, SACK blocks relative to SND.UNA), ICMP errors
// quoting it — among them Fragmentation Needed and Packet Too Big with any MTU, below the floors,
// 0 and huge (issue #13 cases 2 and 3) — floods of small out-of-order segments spread over the
// receive window past a gap at RCV.NXT (case 4), and raw bytes, so the fuzzer reaches ESTABLISHED, the closing states and the
// RFC 5961 edges rather than only the parsers.
//
// Invariants after every step, on both hosts (a broken one is returned as the failure):
//   - every TCB: SND.UNA <= SND.NXT <= SND.MAX; queues within the configured buffers;
//     out-of-order ranges <= max_ooo_ranges, out-of-order octets <= the receive buffer;
//   - every state change is an arc of RFC 9293's diagram (tcp_tracer, is_legal_transition);
//   - ip_in_receives == in_accepted + total_drops() - host(reply_queue_full) (counters.hpp);
//   - connection_count <= max_connections, time_wait_count <= time_wait_max, half-open <=
//     syn_backlog and accept queue <= backlog per listener;
//   - every emitted packet parses (IPv4 header, TCP or ICMP checksum), and comes from the host;
//   - after a Fragmentation Needed / Packet Too Big, the segments the connection sends at once
//     are at most an initial window (cwnd re-expressed in the new MSS, never a flood of small
//     segments), and its send MSS is not below the PMTU floor;
//   - timers make progress: on_timeout(d) moves the deadline past d within a bounded number of
//     calls, and one output drain ends.
// At the end of the program both applications close every handle and listener and the wire
// turns lossless: within 20 virtual minutes both hosts must hold no TCB and no TIME-WAIT
// record (no stuck state, no table leak). Memory leaks at teardown are LeakSanitizer's.
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "synack/wire/bytes.hpp"

namespace synack::fuzz {

enum class op : std::uint8_t {
  listen,          // side, port#, backlog
  connect,         // side, port#, local port# (0: ephemeral)
  accept,          // side, listener#
  send,            // side, handle#, length/64
  recv,            // side, handle#, length/64
  shutdown,        // side, handle#
  close,           // side, handle#
  abort,           // side, handle#
  close_listener,  // side, listener#
  deliver,         // direction (0: A->B, 1: B->A)
  deliver_all,     // (none): both ways until quiet
  drop,            // direction
  duplicate,       // direction
  corrupt,         // direction, offset, xor, fix checksums?
  advance,         // time step index
  inject,          // side, connection#, seq sel, ack sel, flags, window sel, payload len, options
  inject_icmp,     // side, connection#, kind, seq sel
  inject_raw,      // side, fix checksums?, length, bytes...
  connect6,        // side, port#, local port# (0: ephemeral): connect over IPv6
  inject_ptb,      // side, connection#, seq sel, MTU sel (raw: u32 follows), from a router?
  ooo_flood,       // side, connection#, count, gap, size, spread
  count_
};

// Byte 0 of the input.
namespace config_bits {
inline constexpr std::uint8_t no_sack = 0x01;
inline constexpr std::uint8_t no_timestamps = 0x02;
inline constexpr std::uint8_t no_window_scaling = 0x04;
inline constexpr std::uint8_t no_delayed_ack = 0x08;
inline constexpr std::uint8_t keepalive = 0x10;
inline constexpr std::uint8_t no_rfc1337 = 0x20;
inline constexpr std::uint8_t syncookies_off = 0x40;     // a full SYN queue drops (else cookies)
inline constexpr std::uint8_t syncookies_always = 0x80;  // every SYN gets a cookie
}  // namespace config_bits

// Selectors for op::inject, relative to the TCB of the connection the segment is aimed at.
enum class seq_sel : std::uint8_t { rcv_nxt, plus_one, minus_one, wnd_last, wnd_end, wnd_beyond, half_space, raw, count_ };
enum class ack_sel : std::uint8_t { snd_una, snd_nxt, beyond_nxt, below_una, max_wnd_edge, below_max_wnd, none, raw, count_ };

// Runs the program in `input`; the first broken invariant, if any. With `trace`, writes one
// line per step (operation, argument bytes, time, each host's states and counters that moved),
// which is how a crash input is read when it becomes a regression test.
[[nodiscard]] std::optional<std::string> run_stack_program(bytes input, std::ostream* trace = nullptr);

[[nodiscard]] std::string_view to_string(op o);

// Builds programs (seed corpus, tests).
class program {
 public:
  explicit program(std::uint8_t config = 0) { b_.push_back(std::byte{config}); }
  program& add(op o, std::initializer_list<std::uint8_t> args = {}) {
    b_.push_back(std::byte{static_cast<std::uint8_t>(o)});
    for (auto a : args) b_.push_back(std::byte{a});
    return *this;
  }
  program& raw(std::initializer_list<std::uint8_t> v) {
    for (auto a : v) b_.push_back(std::byte{a});
    return *this;
  }
  [[nodiscard]] const std::vector<std::byte>& data() const { return b_; }

 private:
  std::vector<std::byte> b_;
};

}  // namespace synack::fuzz
