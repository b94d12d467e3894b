#pragma once
// pkt/: the packetdrill language as data. A script is header options plus a list of timed
// events — an inbound or outbound TCP packet, an inbound ICMP message, a system call, a shell
// command (backquotes) or a code block (%{ }%) — each with its source position, so every
// report can point at file:line. The grammar covered is the "core" subset of
// docs/conformance.md (shared/reference/conformance-notes.md §6), plus nplab's #ifdef and
// `...(n)` sequence numbers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "synack/wire/tcp.hpp"

namespace synack::pkt {

struct source_pos {
  int line = 0;
  int column = 0;
};

// When an event happens, in microseconds of script time.
struct event_time {
  enum class kind : std::uint8_t {
    none,      // a backquoted command before the first or after the last event: "now"
    absolute,  // `0.100`
    relative,  // `+0.1`: after the previous event
    any,       // `*`: an outbound packet may come at any time
  };
  kind what = kind::relative;
  std::int64_t start_us = 0;
  // `a~b` (range: the event may happen anywhere in it) or `a...b` (blocking: a system call
  // starting at a must return at b). `end_relative`: the end was written with a '+', or the
  // start was relative (then the end is offset from the same reference, like packetdrill).
  std::optional<std::int64_t> end_us;
  bool end_relative = false;
  bool blocking = false;
};

struct tcp_option_spec {
  enum class kind : std::uint8_t { nop, eol, mss, wscale, sack_permitted, sack, timestamps };
  kind what = kind::nop;
  std::uint32_t a = 0;  // MSS, shift, TS val
  std::uint32_t b = 0;  // TS ecr
  std::vector<std::pair<std::uint32_t, std::uint32_t>> blocks;  // SACK blocks, script space
};

// Packet flags as written are the wire's control bits ('.' is the ACK bit, 0x10).
namespace flag = synack::tcp_flag;

struct packet_spec {
  bool inbound = true;
  std::uint8_t flags = 0;  // wire bits, ACK included
  bool any_seq = false;    // nplab `...(len)`: any sequence number
  std::uint32_t seq = 0;   // script space: relative to the sender's ISN
  std::uint32_t len = 0;
  std::optional<std::uint32_t> ack;
  std::optional<std::uint32_t> win;  // outbound: nullopt is "not checked"
  std::optional<std::uint32_t> urg;
  // nullopt: no list written (inbound: no options; outbound: not checked). `<...>`: options_any.
  std::optional<std::vector<tcp_option_spec>> options;
  bool options_any = false;
  // Extension (conformance-notes §6.2): `< 40001>8080 S ...` picks the remote port, so one
  // script can drive several connections (SYN floods, backlogs).
  std::optional<std::uint16_t> remote_port;
  std::optional<std::uint16_t> local_port;
  std::string ecn;  // IP info as written: "" or e.g. "ect0"
};

// `< icmp unreachable port_unreachable [mtu N] [seq:end(len)]`: an ICMP error quoting a
// segment the stack sent (seq in the stack's script space).
struct icmp_spec {
  std::string type;
  std::string code;
  std::optional<std::uint32_t> mtu;
  std::uint32_t quoted_seq = 0;
};

// An argument or value: `...`, 42, -1, 0x02, NAME, A | B, [x, y], {k=v, ...}, "text", f(x).
struct expr {
  enum class kind : std::uint8_t { ellipsis, number, name, bit_or, list, object, string, call };
  kind what = kind::ellipsis;
  std::int64_t number = 0;
  std::string text;         // name, string, object key (for fields), function name
  std::vector<expr> items;  // bit_or terms, list elements, object fields, call arguments
};

struct syscall_spec {
  std::string name;
  std::vector<expr> args;
  std::int64_t result = 0;
  std::string errno_name;  // "" when none written
  std::string note;        // the parenthesised comment, e.g. "flags O_RDWR"
};

struct shell_cmd {
  std::string text;
};
struct code_block {
  std::string text;
};

struct event {
  source_pos pos;
  event_time time;
  std::variant<packet_spec, icmp_spec, syscall_spec, shell_cmd, code_block> body;
  std::string source;  // the event's text, one line, for reports
};

struct script {
  std::vector<std::pair<std::string, std::string>> options;  // `--name=value`, in order
  std::vector<event> events;
  // The first value given for `--name`, if any.
  [[nodiscard]] std::optional<std::string> option(std::string_view name) const;
};

}  // namespace synack::pkt
