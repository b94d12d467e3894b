// SYN cookie codec (RFC 4987 §3.6); the layout is described in syn_cookie.hpp.
#include "synack/tcp/syn_cookie.hpp"

#include <algorithm>
#include <span>

#include "synack/wire/bytes.hpp"

namespace synack {
namespace {

constexpr std::uint32_t counter_bits = 3;
constexpr std::uint32_t mss_bits = 2;
constexpr std::uint32_t mac_bits = 32 - counter_bits - mss_bits;
constexpr std::uint32_t mac_mask = (1u << mac_bits) - 1;
constexpr std::uint32_t counter_mask = (1u << counter_bits) - 1;
static_assert(syn_cookie_codec::max_age < counter_mask, "an accepted age must be distinguishable");
static_assert(syn_cookie_codec::max_age < syn_cookie_codec::counters_per_key,
              "a live cookie's key is the current or the previous one");

constexpr std::uint8_t wscale_none = 15;  // in the TSval bits: no window scale

// The options as carried in the low TSval bits: bits 0-3 window scale (15 = none), bit 4 SACK.
std::uint32_t ts_bits(const syn_cookie_options& o) {
  return (o.wscale ? *o.wscale : wscale_none) | (o.sack_permitted ? 0x10u : 0u);
}

syn_cookie_options from_ts_bits(std::uint32_t bits) {
  syn_cookie_options o;
  o.timestamps = true;
  o.sack_permitted = (bits & 0x10u) != 0;
  const auto ws = static_cast<std::uint8_t>(bits & 0x0Fu);
  if (ws != wscale_none) o.wscale = ws;
  return o;
}

// The options as MAC input: bit 7 timestamps, bit 6 SACK, bit 5 window scale present, 0-3 shift.
std::uint8_t opts_byte(const syn_cookie_options& o) {
  return static_cast<std::uint8_t>((o.timestamps ? 0x80u : 0u) | (o.sack_permitted ? 0x40u : 0u) |
                                   (o.wscale ? 0x20u | (*o.wscale & 0x0Fu) : 0u));
}

}  // namespace

std::string_view to_string(syn_cookie_error e) {
  switch (e) {
    case syn_cookie_error::too_old: return "too_old";
    case syn_cookie_error::bad_mac: return "bad_mac";
  }
  return "?";
}

std::uint32_t syn_cookie_codec::counter(instant now) {
  const std::int64_t us = std::max<std::int64_t>(now.us, 0);
  return static_cast<std::uint32_t>(us / counter_period.count());
}

std::uint32_t syn_cookie_codec::mss_index(std::uint16_t peer_mss, bool v6) {
  // DEVIATION(Linux cookie_v4_init_sequence): a peer MSS below 536 (IPv6: 1220) uses entry 0,
  // as Linux does; the cookie has no room for an exact value.
  const auto& table = mss_table_for(v6);
  auto i = static_cast<std::uint32_t>(table.size() - 1);
  while (i > 0 && table[i] > peer_mss) --i;
  return i;
}

siphash_key syn_cookie_codec::derive(const siphash_key& secret, std::uint32_t epoch) {
  // A PRF of the secret and the epoch, with a domain label of its own, so that cookie keys
  // say nothing of the ISN and port keys (or of each other).
  std::array<std::byte, 13> msg{};
  constexpr std::string_view label = "syncookie";
  for (std::size_t i = 0; i < label.size(); ++i) msg[i] = static_cast<std::byte>(label[i]);
  store_be32(&msg[9], epoch);
  siphash_key k;
  k.k0 = siphash24(secret, msg);
  msg[0] = std::byte{'S'};
  k.k1 = siphash24(secret, msg);
  return k;
}

void syn_cookie_codec::rotate(instant now) {
  const std::uint32_t epoch = counter(now) / counters_per_key;
  if (have_keys_ && epoch == epoch_) return;
  if (have_keys_ && epoch == epoch_ + 1) {
    previous_ = current_;  // the usual step: the current key becomes the previous one
  } else {
    previous_ = epoch > 0 ? derive(secret_, epoch - 1) : derive(secret_, epoch);
  }
  current_ = derive(secret_, epoch);
  epoch_ = epoch;
  have_keys_ = true;
}

const siphash_key& syn_cookie_codec::key_for(std::uint32_t c) const {
  return c / counters_per_key == epoch_ ? current_ : previous_;
}

std::uint32_t syn_cookie_codec::mac(const four_tuple& t, seq_num irs, std::uint32_t c, std::uint32_t mss_idx,
                                    std::uint8_t opts) const {
  // IPv4: 22 octets; IPv6: the addresses' 16 octets each, 46 (a v6 cookie hashes the v6 tuple).
  std::array<std::byte, 46> msg{};
  std::size_t n = 0;
  if (t.remote_addr.is_v4()) {
    store_be32(&msg[0], t.local_addr.low32());
    store_be16(&msg[4], t.local_port);
    store_be32(&msg[6], t.remote_addr.low32());
    store_be16(&msg[10], t.remote_port);
    n = 12;
  } else {
    for (std::size_t i = 0; i < 16; ++i) {
      msg[i] = std::byte{t.local_addr.v6().octets[i]};
      msg[18 + i] = std::byte{t.remote_addr.v6().octets[i]};
    }
    store_be16(&msg[16], t.local_port);
    store_be16(&msg[34], t.remote_port);
    n = 36;
  }
  store_be32(&msg[n], irs.raw);
  store_be32(&msg[n + 4], c);
  msg[n + 8] = static_cast<std::byte>(mss_idx);
  msg[n + 9] = static_cast<std::byte>(opts);
  return static_cast<std::uint32_t>(siphash24(key_for(c), std::span{msg}.first(n + 10))) & mac_mask;
}

syn_cookie syn_cookie_codec::encode(instant now, const four_tuple& t, seq_num irs, const syn_cookie_options& offer,
                                    std::uint32_t ts_now) {
  rotate(now);
  const std::uint32_t c = counter(now);
  const bool v6 = !t.remote_addr.is_v4();
  const std::uint32_t idx = mss_index(offer.mss, v6);
  syn_cookie out;
  out.options.mss = mss_table_for(v6)[idx];
  out.options.timestamps = offer.timestamps;
  if (offer.timestamps) {
    // RFC 4987 §3.6: without timestamps the cookie cannot remember these; with them, the
    // peer echoes our TSval and with it the bits.
    out.options.sack_permitted = offer.sack_permitted;
    if (offer.wscale) out.options.wscale = std::min<std::uint8_t>(*offer.wscale, 14);
    std::uint32_t tsval = (ts_now & ~ts_option_mask) | ts_bits(out.options);
    // Never ahead of the clock: the connection's later TSvals must not go backwards (PAWS at
    // the peer, RFC 7323 §5.3).
    if (static_cast<std::int32_t>(tsval - ts_now) > 0) tsval -= ts_option_mask + 1;
    out.tsval = tsval;
  }
  const std::uint32_t m = mac(t, irs, c, idx, opts_byte(out.options));
  out.iss = seq_num{((c & counter_mask) << (32 - counter_bits)) | (idx << mac_bits) | m};
  return out;
}

result<syn_cookie_options, syn_cookie_error> syn_cookie_codec::decode(instant now, const four_tuple& t, seq_num irs,
                                                                     seq_num cookie,
                                                                     std::optional<std::uint32_t> tsecr) {
  rotate(now);
  const std::uint32_t now_c = counter(now);
  const std::uint32_t bits = cookie.raw >> (32 - counter_bits);
  std::optional<std::uint32_t> c;
  for (std::uint32_t age = 0; age <= max_age && age <= now_c; ++age) {
    if (((now_c - age) & counter_mask) == bits) {
      c = now_c - age;
      break;
    }
  }
  if (!c) return unexpected{syn_cookie_error::too_old};
  const std::uint32_t idx = (cookie.raw >> mac_bits) & ((1u << mss_bits) - 1);
  syn_cookie_options o = tsecr ? from_ts_bits(*tsecr & ts_option_mask) : syn_cookie_options{};
  o.mss = mss_table_for(!t.remote_addr.is_v4())[idx];
  if (mac(t, irs, *c, idx, opts_byte(o)) != (cookie.raw & mac_mask)) return unexpected{syn_cookie_error::bad_mac};
  return o;
}

}  // namespace synack
