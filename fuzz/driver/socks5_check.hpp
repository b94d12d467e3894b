#pragma once
// The SOCKS5 client's properties (tools/lib/socks5.hpp) for socks5_fuzz and tests/security.
//
// The input: byte 0 chooses the client (bit 0: with credentials, bit 1: an IPv6 destination),
// the rest is what the server sends. The reply parsers never claim more bytes than they were
// given for a whole message, always more for an incomplete one, and give the same answer for a
// whole message alone; the client never takes more than it was given, and ends in the same
// state, with the same reply or reason, having taken the same bytes unless it failed, whether
// the server's bytes come at once or one at a time.
#include "wire_roundtrip.hpp"

namespace synack::fuzz {

[[nodiscard]] failure check_socks5(bytes input);

}  // namespace synack::fuzz
