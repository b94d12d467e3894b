#pragma once
// The packetdrill runner: drives one synack::host through posix::socket_table on virtual time
// as a script says. Inbound packets are built (IPv4 or IPv6 + TCP, checksums) and fed at their
// script time; outbound lines are matched against what the host sends, by the virtual time it
// sent them, within the script's tolerance; system calls run at their time, and a call that
// would block completes when the host lets it (virtual time runs on, timers fire, later
// inbound packets arrive). No clock, no sleeping, no I/O: a run is a pure function of the
// script text.
//
// Addresses and ports are nplab packetdrill's: the host is 192.168.0.1, the scripted peer
// 192.0.2.1; with --ip_version=ipv6 the host is fd3d:fa7b:d17d::1 (packetdrill's unique local
// prefix, RFC 4193) and the peer 2001:db8::1 (the documentation prefix, RFC 3849), sockets are
// AF_INET6 and packets IPv6; with --ip_version=ipv4-mapped-ipv6 sockets are AF_INET6 and
// packets IPv4 (the socket sees ::ffff:192.0.2.1). bind() and connect() with `...` use port
// 8080; the peer's port for a passive open is chosen by the runner. Sequence numbers are
// relative: the peer's to the seq of its first SYN (so they are sent as written), the host's
// to the ISN of its latest SYN or SYN-ACK.
//
// Matching modes (docs/conformance.md lists each rule):
//   strict   every field written in the script is compared.
//   relaxed  for scripts written against another OS (FreeBSD's suite): a small, named set of
//            rules, each excusing one OS default the RFC leaves open — see relax_rule.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "synack/pkt/script.hpp"
#include "synack/util/result.hpp"
#include "synack/wire/bytes.hpp"
#include "synack/wire/ip_addr.hpp"
#include "synack/wire/ipv4_addr.hpp"
#include "synack/wire/ipv6_addr.hpp"

namespace synack::pkt {

enum class match_mode : std::uint8_t { strict, relaxed };

// The relaxations of relaxed mode, one per OS-specific habit. Each is reported (by name) when
// it excused a difference, so a PASS says what it needed.
enum class relax_rule : std::uint8_t {
  window,      // outbound `win` of a non-RST segment: the other OS's buffer sizes and scaling
  options,     // outbound option order and NOP/EOL padding; compared as a set instead
  wscale,      // the window-scale shift we announce (it follows our buffer size)
  sockbuf,     // SO_RCVBUF / SO_SNDBUF values (FreeBSD rounds to the MSS, Linux doubles)
  rcv_wnd,     // FreeBSD's RCV.WND of 65700 > 65535 advertised: inbound sequence numbers at
               // RCV.NXT + 65700 +- 1 are re-expressed against the window the host advertised
  fin_rexmit,  // an expected `F.` that resends the host's unacknowledged FIN is met by the plain
               // ACK <SEQ=SND.NXT><ACK=RCV.NXT> with the same ack (FreeBSD resends its FIN with
               // every segment while the FIN is unacknowledged)
  reset_errno, // SO_ERROR after a reset in CLOSE-WAIT (the peer's RST, or the one the host
               // answers an in-window SYN with, rfc5961_syn off): EPIPE (Linux, posix/) for the
               // script's ECONNRESET (FreeBSD)
  count_,
};
[[nodiscard]] std::string_view to_string(relax_rule r);

struct run_options {
  match_mode mode = match_mode::strict;
  // Overrides the script's --tolerance_usecs (packetdrill's default is 4000).
  std::optional<std::int64_t> tolerance_us;
  ipv4_addr local = ipv4_addr::from_octets(192, 168, 0, 1);
  ipv4_addr remote = ipv4_addr::from_octets(192, 0, 2, 1);
  ipv6_addr local6 = ipv6_addr::from_groups({0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 1});
  ipv6_addr remote6 = ipv6_addr::from_groups({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1});
  // Host knobs, as `// synack: key=value` directive lines give them (docs/conformance.md):
  // applied after the script's directives.
  std::vector<std::pair<std::string, std::string>> knobs;
  // Stop a run after this much virtual time (a script waiting for ever).
  std::int64_t max_virtual_us = 4LL * 3600 * 1000000;
  // Keep a trace of every event run and every segment sent (run_result::trace).
  bool trace = false;
};

// --ip_version: the socket family and the family on the wire. ipv4: AF_INET over IPv4; ipv6:
// AF_INET6 over IPv6; ipv4_mapped_ipv6: AF_INET6 sockets over IPv4 (v4-mapped addresses).
enum class ip_version : std::uint8_t { ipv4, ipv6, ipv4_mapped_ipv6 };
// "ipv4", "ipv6", "ipv4-mapped-ipv6"; nullopt for anything else.
[[nodiscard]] std::optional<ip_version> parse_ip_version(std::string_view text);
// Whether the packets of a run are IPv6.
[[nodiscard]] constexpr bool wire_is_v6(ip_version v) { return v == ip_version::ipv6; }

// A packet the host sent, checked before its segment is compared: the network header of the
// run's wire family (an IPv4 packet in an IPv6 run, or the reverse, is named as such), TCP as
// its protocol (IPv6: Next Header 6, no extension headers), the addresses `from` -> `to`, and
// the TCP checksum over that family's pseudo-header. The TCP segment, or why not.
[[nodiscard]] result<bytes, std::string> sent_tcp_segment(bytes packet, ip_version v, const ip_addr& from,
                                                         const ip_addr& to);

enum class verdict : std::uint8_t { pass, fail, unsupported };
[[nodiscard]] std::string_view to_string(verdict v);

struct run_result {
  verdict what = verdict::pass;
  int line = 0;             // the script line that failed or is unsupported (0: none)
  std::string message;      // why (expected vs actual for a mismatch)
  std::int64_t time_us = 0;  // virtual time of the failure / the end of the run
  std::vector<relax_rule> relaxed;  // the rules that excused a difference
  std::vector<std::string> trace;   // with run_options::trace
};

// Runs a parsed script. `directives` are `key=value` host knobs (see parse_directives).
[[nodiscard]] run_result run_script(const script& s, const run_options& o);
// Parses (with STANDARD defined) and runs. A parse error is a FAIL pointing at line:column,
// an unsupported feature UNSUPPORTED.
[[nodiscard]] run_result run_text(std::string_view text, const run_options& o);
// `// synack: key=value [key=value ...]` lines of a script.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> parse_directives(std::string_view text);

}  // namespace synack::pkt
