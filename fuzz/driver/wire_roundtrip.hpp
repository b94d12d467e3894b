#pragma once
// The wire-parser properties the fuzz targets check (DESIGN.md §2 "parse(emit(r)) == r"):
// whatever bytes come in, a parser either refuses them with a named wire_error or returns a
// repr; that repr emits bytes that parse again to an equal repr. Shared by the libFuzzer
// targets (fuzz/*_fuzz.cpp) and by tests/security, which replays the corpus and every crash
// input ever found (fuzz/regressions) under g++ and ASan on every test run.
//
// Each check returns a description of the first broken property, or nothing.
#include <optional>
#include <string>

#include "synack/wire/bytes.hpp"

namespace synack::fuzz {

using failure = std::optional<std::string>;

// IPv4: the input as a packet, raw and with its header checksum made right (so the fuzzer gets
// past it to IHL, total length and fragment checks).
[[nodiscard]] failure check_ipv4(bytes input);
// TCP: the input as a segment between two fixed addresses, raw and with its checksum made
// right (so options are reached). Also checks that options emitted from a parsed repr fit.
[[nodiscard]] failure check_tcp(bytes input);
// ICMPv4: the input as a message, raw and with its checksum made right; the quote of an error
// stays within the message.
[[nodiscard]] failure check_icmp(bytes input);
// IPv6: the input as a packet, raw and with its payload length made to fit (so the fuzzer
// reaches the extension-header walk). The fixed header round-trips; the walk ends inside the
// packet with an upper layer, or drops it with a named reason and a Parameter Problem pointer
// inside the packet; the re-emitted packet walks to the same end.
[[nodiscard]] failure check_ipv6(bytes input);
// ICMPv6: the input as a message between two fixed addresses, raw and with its checksum made
// right (the pseudo-header of RFC 8200 §8.1). Round trip; the quote of an error stays within
// the message and survives the round trip.
[[nodiscard]] failure check_icmpv6(bytes input);

}  // namespace synack::fuzz
