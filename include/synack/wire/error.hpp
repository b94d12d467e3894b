#pragma once
// Why a packet was rejected by a parser. Each value has a counter in the stack (drop reasons)
// and a stable name for tools and logs.
#include <cstdint>
#include <string_view>

namespace synack {

enum class wire_error : std::uint8_t {
  truncated,              // shorter than its fixed header
  bad_version,            // IPv4: version != 4 (IPv6: != 6)
  bad_header_len,         // IPv4: IHL < 5 or past the buffer
  bad_total_len,          // IPv4: total length < header length or > buffer (IPv6: payload length)
  bad_checksum,           // IPv4 header, TCP or ICMP checksum mismatch
  fragment,               // IPv4: MF set or offset != 0; IPv6: a fragment header that is not atomic
                          // (no reassembly: recognised and refused)
  bad_data_offset,        // TCP: data offset < 5 or past the segment
  option_len_zero,        // TCP: option length 0 or 1 (would loop or is impossible)
  option_past_header,     // TCP: option runs past the data offset
  bad_option_len,         // TCP: a known option with the wrong fixed length (e.g. MSS != 4)
  bad_icmp,               // ICMP: malformed message (e.g. quoted header too short)
  bad_address,            // IPv4: source is multicast/broadcast, or destination is 0.0.0.0
  bad_ext_header,         // IPv6: an extension header past the payload, misplaced or refused
  ext_header_chain,       // IPv6: more than max_extension_headers extension headers
  unknown_next_header,    // IPv6: a Next Header value the host does not know
  count_
};

[[nodiscard]] constexpr std::string_view to_string(wire_error e) {
  switch (e) {
    case wire_error::truncated: return "truncated";
    case wire_error::bad_version: return "bad_version";
    case wire_error::bad_header_len: return "bad_header_len";
    case wire_error::bad_total_len: return "bad_total_len";
    case wire_error::bad_checksum: return "bad_checksum";
    case wire_error::fragment: return "fragment";
    case wire_error::bad_data_offset: return "bad_data_offset";
    case wire_error::option_len_zero: return "option_len_zero";
    case wire_error::option_past_header: return "option_past_header";
    case wire_error::bad_option_len: return "bad_option_len";
    case wire_error::bad_icmp: return "bad_icmp";
    case wire_error::bad_address: return "bad_address";
    case wire_error::bad_ext_header: return "bad_ext_header";
    case wire_error::ext_header_chain: return "ext_header_chain";
    case wire_error::unknown_next_header: return "unknown_next_header";
    case wire_error::count_: return "count_";
  }
  return "?";
}

}  // namespace synack
