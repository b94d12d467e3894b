#pragma once
// The SOCKS5 client's properties (tools/lib/socks5.hpp) for socks5_fuzz and tests/security.
//
// The input: byte 0 chooses the client (bit 0: with credentials, bit 1: an IPv6 destination,
// bit 2: UDP ASSOCIATE instead of CONNECT), the rest is what the server sends, and read as a
// datagram from a UDP relay too: its RFC 1928 §7 header parses like the replies, and a whole
// one with FRAG 0 and an IP address is written back byte for byte by emit_udp_header. The reply parsers never claim more bytes than they were
// given for a whole message, always more for an incomplete one, and give the same answer for a
// whole message alone; the client never takes more than it was given, and ends in the same
// state, with the same reply or reason, having taken the same bytes unless it failed, whether
// the server's bytes come at once or one at a time.
#include "wire_roundtrip.hpp"

namespace synack::fuzz {

[[nodiscard]] failure check_socks5(bytes input);

}  // namespace synack::fuzz
