#pragma once
// RFC 7413 §4.1.3 client cookie cache: per server address, the last cookie it gave and the MSS
// it announced (Linux keeps them in tcp_metrics). Bounded: at most `capacity` servers; one
// more replaces the least recently used (counted in evictions()). Sans-IO, no allocation after
// the first `capacity` entries.
#include <cstdint>
#include <optional>
#include <vector>

#include "synack/tcp/fast_open.hpp"
#include "synack/wire/ip_addr.hpp"

namespace synack {

class fast_open_cache {
 public:
  struct entry {
    ip_addr server;
    std::optional<tcp_fast_open> cookie;
    std::uint16_t mss = 0;  // 0: none announced
    std::uint64_t used = 0;  // LRU clock
  };
  explicit fast_open_cache(std::size_t capacity) : cap_(capacity) {}

  // The entry of `server` (nullptr: none), now the most recently used.
  const entry* find(const ip_addr& server);
  // What a SYN-ACK from `server` taught: a new cookie replaces the old one (none keeps it, as
  // a server that stops sending cookies may still take the old), a non-zero MSS the old MSS.
  void learn(const ip_addr& server, const fast_open_news& n);
  void forget(const ip_addr& server);
  void clear() { entries_.clear(); }
  [[nodiscard]] std::size_t size() const { return entries_.size(); }
  [[nodiscard]] std::size_t capacity() const { return cap_; }
  [[nodiscard]] std::uint64_t evictions() const { return evictions_; }

 private:
  entry* lookup(const ip_addr& server);
  std::size_t cap_;
  std::vector<entry> entries_;
  std::uint64_t clock_ = 0;
  std::uint64_t evictions_ = 0;
};

// RFC 7413 §4.1.2 server cookie: SipHash-2-4 under the 128-bit key over the client's and then
// the server's address (4 octets each for IPv4, 16 for IPv6), its 8 octets little-endian —
// what Linux computes (tcp_fastopen_cookie_gen_cipher), so a packetdrill script's cookie for
// a given net.ipv4.tcp_fastopen_key matches. `experimental`: the form to send it in.
[[nodiscard]] tcp_fast_open fast_open_cookie(const std::array<std::uint64_t, 2>& key, const ip_addr& client,
                                             const ip_addr& server, bool experimental);

}  // namespace synack
