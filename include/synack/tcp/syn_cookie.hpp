#pragma once
// SYN cookies (RFC 4987 §3.6): a listener under a SYN flood answers with a SYN-ACK whose ISN
// encodes what it would otherwise have kept in a half-open TCB, and keeps nothing. The final
// ACK (SEG.ACK - 1 = the cookie) proves the peer saw our SYN-ACK; its connection is rebuilt
// from the cookie.
//
// The cookie (32 bits, most significant first):
//   3 bits  time counter mod 8 (the counter ticks every `counter_period`, 64 s)
//   2 bits  index into the MSS table of the tuple's family (the peer's MSS rounded down, as
//           Linux does: mss_table for IPv4, mss_table_v6 for IPv6)
//   27 bits keyed MAC: SipHash-2-4 over the 4-tuple, the peer's ISN, the whole counter, the
//           MSS index and the option bits below, truncated.
// A cookie is accepted while its counter is at most `max_age` ticks old (128-192 s).
//
// Options the cookie has no room for ride in the low bits of our TSval when the peer's SYN
// carried timestamps (the peer echoes them in TSecr): window scale (4 bits, 15 = none) and
// SACK-permitted (1 bit). Without timestamps, a cookie SYN-ACK offers neither (there is
// nowhere to remember them). The MAC covers these bits too, so a forged TSecr fails.
//
// Keys rotate (the "secret rotates" of the issue): the MAC key of counter c is derived from
// the host's secret and the epoch c / counters_per_key (every 256 s). The codec keeps the
// current and the previous epoch's key, advanced by the `now` passed in (sans-IO: no clock,
// no randomness beyond the injected secret); a cookie's epoch is implied by its counter, so
// the one key it can have been made with is tried, never both.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "synack/tcp/four_tuple.hpp"
#include "synack/tcp/negotiation.hpp"
#include "synack/util/result.hpp"
#include "synack/util/siphash.hpp"
#include "synack/util/time.hpp"
#include "synack/wire/seq.hpp"

namespace synack {

// What a cookie remembers of the handshake: the options both SYNs agreed on.
// Rounding: the MSS is rounded down to mss_table; without timestamps SACK-permitted and the
// window shift are dropped (there is nowhere to keep them); the shift kept is 0..14 or 15 for none.
using syn_cookie_options = agreed_options;

// Why a cookie was refused (counted as SyncookiesFailed).
enum class syn_cookie_error : std::uint8_t {
  too_old,  // its counter is not one of the last max_age + 1 ticks (stale, or from the future)
  bad_mac,  // the MAC does not match: forged, wrong 4-tuple or ISN, tampered bits, other key
};
[[nodiscard]] std::string_view to_string(syn_cookie_error e);

// A cookie to send: our ISS, and our TSval when timestamps were negotiated.
struct syn_cookie {
  seq_num iss;
  std::optional<std::uint32_t> tsval;
  syn_cookie_options options;  // what was encoded (MSS rounded, options dropped without TS)
};

class syn_cookie_codec {
 public:
  static constexpr std::array<std::uint16_t, 4> mss_table{536, 1300, 1440, 1460};  // Linux's
  // IPv6's (Linux's msstab of net/ipv6/syncookies.c): the MTUs 1280, 1480, 1500 and 9000 less
  // 60 octets of headers, so an IPv6 peer is never held below the IPv6 minimum MTU's MSS.
  static constexpr std::array<std::uint16_t, 4> mss_table_v6{1220, 1420, 1440, 8940};
  [[nodiscard]] static const std::array<std::uint16_t, 4>& mss_table_for(bool v6) { return v6 ? mss_table_v6 : mss_table; }
  static constexpr duration counter_period = std::chrono::seconds(64);
  static constexpr std::uint32_t max_age = 2;          // ticks
  static constexpr std::uint32_t counters_per_key = 4;  // a key lives 4 ticks (> max_age)
  static constexpr std::uint32_t ts_option_bits = 5;    // low TSval bits carrying options
  static constexpr std::uint32_t ts_option_mask = (1u << ts_option_bits) - 1;

  explicit syn_cookie_codec(siphash_key secret) : secret_(secret) {}

  // The cookie for a SYN from `t`'s remote end with sequence number `irs`. `offer` holds the
  // options we would agree to (the peer's MSS, or 536 if it sent none; timestamps, SACK and
  // window scale only if both sides want them). `ts_now` is our timestamp clock for this
  // connection; the TSval returned is at most ts_now, so later TSvals never go backwards.
  [[nodiscard]] syn_cookie encode(instant now, const four_tuple& t, seq_num irs, const syn_cookie_options& offer,
                                  std::uint32_t ts_now);
  // Checks the final ACK's cookie (SEG.ACK - 1) against `t` and `irs` (SEG.SEQ - 1); `tsecr`
  // is the ACK's TSecr if it carried timestamps. Returns the options to build the TCB with.
  [[nodiscard]] result<syn_cookie_options, syn_cookie_error> decode(instant now, const four_tuple& t, seq_num irs,
                                                                   seq_num cookie, std::optional<std::uint32_t> tsecr);

  // Moves the keys to now's epoch (encode and decode do it themselves).
  void rotate(instant now);
  // The time counter at `now` (tests).
  [[nodiscard]] static std::uint32_t counter(instant now);
  // The MSS table index for a peer MSS (the largest entry of the family's table not above it;
  // 0 below the second entry).
  [[nodiscard]] static std::uint32_t mss_index(std::uint16_t peer_mss, bool v6 = false);

 private:
  [[nodiscard]] static siphash_key derive(const siphash_key& secret, std::uint32_t epoch);
  [[nodiscard]] const siphash_key& key_for(std::uint32_t counter) const;
  [[nodiscard]] std::uint32_t mac(const four_tuple& t, seq_num irs, std::uint32_t counter, std::uint32_t mss_idx,
                                  std::uint8_t opts) const;

  siphash_key secret_;
  std::uint32_t epoch_ = 0;
  bool have_keys_ = false;
  siphash_key current_{};
  siphash_key previous_{};
};

}  // namespace synack
